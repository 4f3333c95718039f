"""Bad settings are stopped before a run is queued, each with a message saying what to change.

Settings wrong on their own are refused by RunConfig itself; settings wrong for the data (a
lookback longer than the training part, a batch larger than the training windows, windows that
would not fit in memory) by validate.check_run_feasible, which prepares the data once.
"""

import subprocess
import sys

import pytest

from rnnlab import validate
from rnnlab.config import RunConfig
from rnnlab.data import Prepared
from rnnlab.errors import ConfigError, DataError
from rnnlab.validate import batch_note, check_run_feasible, effective_batch_size, suggest_batch_size


def config_error(**parts) -> str:
    """The message of the ConfigError that building RunConfig().replace(**parts) raises."""
    with pytest.raises(ConfigError) as err:
        RunConfig().replace(**parts)
    return str(err.value)


def sine(lookback: int = 30, batch_size: int = 32, **model) -> RunConfig:
    """The noisy sine sample (1,000 rows: 800 train, 100 validation, 100 test)."""
    return RunConfig().replace(data={"source": "noisy_sine.csv"},
                               model={"lookback": lookback, "horizon": 1, **model},
                               train={"batch_size": batch_size})


def short_series(tmp_path, n_rows: int) -> str:
    path = tmp_path / "short.csv"
    path.write_text("date,value\n" + "".join(f"2021-03-{i + 1:02d},{i % 5}.5\n" for i in range(n_rows)))
    return str(path)


# --------------------------------------------------------------------------- settings alone

@pytest.mark.parametrize("parts, message", [
    ({"model": {"horizon": 0}},
     "horizon must be in [1, 365]. Received: horizon=0. Use 1 to predict the next value, H > 1 to "
     "predict H values at once."),
    ({"model": {"units": 0}},
     "units must be in [1, 1024]. Received: units=0. Every layer needs at least one unit."),
    ({"model": {"dropout": 1.0}},
     "dropout must be in [0.0, 1.0). Received: dropout=1.0. 1.0 would drop every unit; use at most "
     "0.9 (0.2 is typical)."),
    ({"model": {"lookback": 0}},
     "lookback must be in [1, 2000]. Received: lookback=0. The lookback is how many past steps the "
     "network sees."),
    ({"train": {"learning_rate": 0.0}},
     "learning_rate must be in (0.0, 10.0]. Received: learning_rate=0.0. 0 never learns and large "
     "rates diverge; 0.001 is a good start for Adam."),
    ({"train": {"learning_rate": 1e6}},
     "learning_rate must be in (0.0, 10.0]. Received: learning_rate=1000000.0. 0 never learns and "
     "large rates diverge; 0.001 is a good start for Adam."),
    ({"train": {"epochs": 100_000}},
     "epochs must be in [1, 5000]. Received: epochs=100000. Runs are capped at 5000 epochs; use "
     "early stopping for long runs."),
    ({"train": {"batch_size": 0}}, "batch_size must be in [1, 8192]. Received: batch_size=0."),
])
def test_settings_wrong_on_their_own_never_become_a_config(parts, message):
    assert message in config_error(**parts)
    section, values = next(iter(parts.items()))
    with pytest.raises(ConfigError) as err:           # the same through JSON, as the CLI reads it
        RunConfig.from_json('{"%s": {"%s": %r}}' % (section, *next(iter(values.items()))))
    assert message in str(err.value)


# --------------------------------------------------------------------------- settings vs data

def test_a_feasible_run_returns_its_prepared_data():
    prepared = check_run_feasible(sine())
    assert isinstance(prepared, Prepared)
    assert prepared.X_train.shape == (770, 30, 1) and prepared.lookback == 30


def test_lookback_longer_than_the_training_part():
    with pytest.raises(DataError) as err:
        check_run_feasible(sine(lookback=900))
    assert str(err.value) == (
        "The training part has 800 rows but lookback 900 + horizon 1 needs at least 901. Lower the "
        "lookback, use smaller validation/test parts, or use a longer series (1,000 rows in all).")


def test_lookback_longer_than_the_whole_file(tmp_path):
    cfg = RunConfig().replace(data={"source": short_series(tmp_path, 20)}, model={"lookback": 30})
    with pytest.raises(DataError) as err:
        check_run_feasible(cfg)
    assert str(err.value) == (
        "The data has 20 rows, too few for lookback 30 + horizon 1: with 10% of the rows for "
        "validation and 10% for testing it needs at least 39 rows. Lower the lookback to 15 or "
        "less, or use a longer series.")


def test_batch_larger_than_the_training_windows_is_capped_with_a_note():
    cfg = sine(batch_size=1024)
    prepared = check_run_feasible(cfg)
    assert len(prepared.X_train) == 770
    assert effective_batch_size(cfg, 770) == 770
    assert batch_note(cfg, 770) == (
        "The batch size 1,024 is larger than the 770 training windows, so it trains on batches of "
        "770 (every window, once per epoch). A smaller batch, such as 32, usually learns more per "
        "epoch.")


def test_batch_suggestion_fits_a_short_series(tmp_path):
    cfg = RunConfig().replace(data={"source": short_series(tmp_path, 30)}, model={"lookback": 5},
                              train={"batch_size": 64})
    assert len(check_run_feasible(cfg).X_train) == 19
    assert "larger than the 19 training windows" in batch_note(cfg, 19)
    assert "such as 16," in batch_note(cfg, 19)
    assert batch_note(cfg.replace(train={"batch_size": 16}), 19) is None
    assert effective_batch_size(cfg.replace(train={"batch_size": 16}), 19) == 16


def test_batch_equal_to_the_windows_is_fine_and_esn_ignores_the_batch():
    assert len(check_run_feasible(sine(batch_size=770)).X_train) == 770
    assert batch_note(sine(batch_size=770), 770) is None
    assert batch_note(sine(batch_size=4096, cell="esn"), 770) is None
    assert check_run_feasible(sine(batch_size=4096, cell="esn")).lookback == 30


@pytest.mark.parametrize("n, expected", [(1, 1), (2, 2), (3, 2), (19, 16), (32, 32), (770, 32)])
def test_suggested_batch_size(n, expected):
    assert suggest_batch_size(n) == expected


def test_windows_that_would_not_fit_in_memory(monkeypatch):
    assert validate.MAX_WINDOW_BYTES == 2 * 1024 ** 3
    monkeypatch.setattr(validate, "MAX_WINDOW_BYTES", 50_000)
    with pytest.raises(ConfigError) as err:
        check_run_feasible(sine())              # 770 training + 100 validation windows
    assert str(err.value) == (
        "The training windows would take 102.0 kB of memory (870 windows × lookback 30 × 1 input "
        "columns × 4 bytes); the limit is 48.8 kB. Lower the lookback, use fewer input columns, or "
        "train on a shorter span. Received: lookback=30")


def test_bad_data_is_stopped_too(tmp_path):
    path = tmp_path / "page.csv"
    path.write_text("<!DOCTYPE html><html><body>Sign in</body></html>\n")
    with pytest.raises(DataError) as err:
        check_run_feasible(RunConfig().replace(data={"source": str(path)}))
    assert str(err.value).startswith("page.csv is a web page (HTML), not a table;")


def test_only_run_configs_are_checked():
    with pytest.raises(ConfigError) as err:
        check_run_feasible({"model": {}})
    assert str(err.value) == "A run needs a RunConfig. Received: dict"


def test_validate_does_not_import_tensorflow():
    code = ("import sys, rnnlab.validate; "
            "sys.exit(any(m in sys.modules for m in ('tensorflow', 'keras', 'jax')))")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
