"""The exported script: valid Python for every option, editable constants, and it really runs."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers_train import two_column_airline
from rnnlab.codegen import export
from rnnlab.config import TRANSFORMS, DataConfig, ModelConfig, RunConfig, TrainConfig, preset

REPO = Path(__file__).resolve().parents[2]
SINE = DataConfig(source="noisy_sine.csv", target="value")
GOOGLE = DataConfig(source="google_stock_price_train.csv", target="Open",
                    test_source="google_stock_price_test.csv", val_fraction=0.0)
WEATHER = DataConfig(source="seattle_weather.csv", target="temp_max",
                     features=("temp_min", "wind", "weather"), categorical="onehot")


def run_cfg(data=SINE, name="test run", **model_and_train):
    """A small config; keys of ModelConfig go to the model, the rest to training."""
    model_keys = set(ModelConfig.__dataclass_fields__)
    model = {k: v for k, v in model_and_train.items() if k in model_keys}
    train = {k: v for k, v in model_and_train.items() if k not in model_keys}
    return RunConfig(name=name, data=data,
                     model=ModelConfig(**{"n_layers": 1, "units": 4, "lookback": 10, **model}),
                     train=TrainConfig(**train))


CONFIGS = {
    "simple_rnn": run_cfg(cell="simple_rnn"),
    "gru": run_cfg(cell="gru"),
    "lstm stacked": run_cfg(cell="lstm", n_layers=3, units=[8, 4, 2], dropout=[0.2, 0.1, 0.0],
                            recurrent_dropout=0.1),
    "esn": run_cfg(cell="esn", reservoir_size=50, spectral_radius=1.2, leak_rate=0.3),
    "bidirectional": run_cfg(bidirectional=True),
    "clipnorm": run_cfg(clipnorm=1.0),
    "clipvalue": run_cfg(clipvalue=0.5),
    "both clips": run_cfg(clipnorm=1.0, clipvalue=0.5),
    "orthogonal kernel": run_cfg(kernel_initializer="orthogonal", init_scale=0.5),
    "identity recurrent": run_cfg(recurrent_initializer="identity", init_scale=1.5),
    "random_normal": run_cfg(kernel_initializer="random_normal",
                             recurrent_initializer="random_normal", init_scale=0.02),
    "penalties": run_cfg(l1=0.001, l2=0.01),
    "sgd mae": run_cfg(optimizer="sgd", loss="mae", learning_rate=0.1),
    "rmsprop huber": run_cfg(optimizer="rmsprop", loss="huber"),
    "early stopping": run_cfg(early_stopping_patience=3),
    "horizon 7": run_cfg(horizon=7),
    "linear skip": run_cfg(n_layers=2, units=[4, 3], linear_skip=True, horizon=2),
    "multivariate": run_cfg(data=WEATHER),
    "standard scaling, ffill": run_cfg(data=DataConfig(source="airline_passengers.csv",
                                                       scaling="standard", fill="ffill")),
    "no scaling, drop": run_cfg(data=DataConfig(source="daily_min_temperatures.csv",
                                                scaling="none", fill="drop")),
    "test_source": run_cfg(data=GOOGLE),
    "esn multivariate horizon": run_cfg(data=WEATHER, cell="esn", horizon=3),
    "seed tutorial": preset("seed-tutorial"),
}


def settings(script: str) -> dict:
    """The script's top-level constants, read as literals (the settings block a student edits)."""
    out = {}
    for node in ast.parse(script).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name.isupper() and name not in ("CELLS", "OPTIMIZERS"):
                out[name] = ast.literal_eval(node.value)
    return out


def imported(script: str) -> set[str]:
    """Top-level names of every imported module."""
    names = set()
    for node in ast.walk(ast.parse(script)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    return names


@pytest.mark.parametrize("label", list(CONFIGS))
def test_every_option_exports_valid_standalone_python(label):
    cfg = CONFIGS[label]
    script = export(cfg)
    compile(script, f"<{label}>", "exec")
    allowed = {"numpy", "pandas"} if cfg.model.cell == "esn" else {"numpy", "pandas", "keras"}
    assert imported(script) == allowed
    values = settings(script)
    assert values["LOOKBACK"] == cfg.model.lookback and values["HORIZON"] == cfg.model.horizon
    assert values["SEED"] == cfg.train.seed
    assert script.startswith("# Reproduces an RNN Lab run")
    if cfg.model.cell != "esn":
        assert values["UNITS"] == list(cfg.model.units_per_layer)
        assert values["EPOCHS"] == cfg.train.epochs
        assert (values["CLIPNORM"], values["CLIPVALUE"]) == (cfg.train.clipnorm, cfg.train.clipvalue)
        assert "keras.utils.set_random_seed(SEED)" in script
    else:
        assert values["SPECTRAL_RADIUS"] == cfg.model.spectral_radius
        assert values["LEAK_RATE"] == cfg.model.leak_rate


def test_settings_follow_the_config_and_samples_resolve_to_their_files():
    cfg = CONFIGS["multivariate"].replace(model={"cell": "gru", "bidirectional": True})
    values = settings(export(cfg))
    assert Path(values["DATA_FILE"]) == (REPO / "sample_data" / "seattle_weather.csv").resolve()
    assert values["TEST_FILE"] is None and values["ONE_HOT"] is True
    assert values["FEATURES"] == ["temp_min", "wind", "weather"]
    assert (values["CELL"], values["BIDIRECTIONAL"], values["TARGET"]) == ("GRU", True, "temp_max")


def test_a_sample_with_no_target_named_gets_the_catalogues_target_and_date():
    values = settings(export(run_cfg(data=DataConfig(source="airline_passengers.csv"))))
    assert (values["TARGET"], values["DATE_COLUMN"]) == ("Passengers", "Date")


def test_data_path_hint_replaces_the_data_file_and_the_test_file_sits_beside_it():
    values = settings(export(CONFIGS["test_source"], "data/train.csv"))
    assert values["DATA_FILE"] == "data/train.csv"
    assert values["TEST_FILE"] == str(Path("data") / "google_stock_price_test.csv")


def test_user_text_cannot_break_out_of_comments_or_literals():
    evil = 'x"""\nimport os; os.remove("everything")\n# '
    data = DataConfig(source='my "data".csv', target="a'b\nc", features=('x"\ny',))
    cfg = RunConfig(name=evil, data=data, model=ModelConfig(n_layers=1, lookback=5))
    script = export(cfg, run_id="r1\nimport os", data_sha256="abc")
    tree = ast.parse(script)
    assert imported(script) == {"numpy", "pandas", "keras"}
    kinds = {type(node).__name__ for node in tree.body}
    assert kinds <= {"Import", "Assign", "FunctionDef", "ClassDef", "If"}  # no top-level call
    values = settings(script)
    assert values["TARGET"] == "a'b\nc" and values["FEATURES"] == ['x"\ny']
    assert values["DATA_FILE"] == 'my "data".csv'
    assert '# Run: "x\\"\\"\\"\\nimport os; os.remove(\\"everything\\")\\n# "' in script


def test_the_header_names_the_run_and_holds_its_config():
    script = export(preset("seed-tutorial"), run_id="r20260101-120000-abcdef", data_sha256="ec57")
    header = script.split("\nimport ")[0]
    assert '# Run: "Seed tutorial: 4 × LSTM(50) on Google Open"  id "r20260101-120000-abcdef"' in header
    assert '# Data sha256: "ec57"' in header
    assert '"n_layers": 4' in header and '"units": 50' in header
    assert all(line.startswith("#") for line in header.strip().splitlines())


# ---------------------------------------------------------------- same data as the app


SAME_DATA = {
    "sine": DataConfig(source="noisy_sine.csv"),
    "google test file": GOOGLE,
    "thousands separators": DataConfig(source="google_stock_price_train.csv", target="Close",
                                       features=("Volume",)),
    "missing days added": DataConfig(source="daily_min_temperatures.csv"),
    "missing days dropped": DataConfig(source="daily_min_temperatures.csv", fill="drop",
                                       scaling="standard"),
    "months, no scaling": DataConfig(source="airline_passengers.csv", fill="ffill", scaling="none"),
    "one-hot": WEATHER,
    "a backtest fold": DataConfig(source="airline_passengers.csv", end_row=116,
                                  test_fraction=14 / 116),
    "rows past the target's last value": DataConfig(
        source=str(Path(__file__).resolve().parents[1] / "data" / "planned_inputs.csv"),
        target="sales", features=("price", "promo"), val_fraction=0.2, test_fraction=0.2),
}


@pytest.mark.parametrize("label", list(SAME_DATA))
def test_the_scripts_data_steps_give_the_apps_rows_splits_and_windows(label):
    """Oracle: the exported data code against rnnlab.data.prepare (an ESN export needs no Keras)."""
    from rnnlab import data as data_module
    cfg = run_cfg(data=SAME_DATA[label], cell="esn", lookback=7, horizon=2)
    script = {"__name__": "exported"}
    exec(compile(export(cfg), "exported.py", "exec"), script)
    values, _, _, windows = script["prepare"]()
    app = data_module.prepare(cfg.data, 7, 2)
    assert values.shape == app.values.shape and values == pytest.approx(app.values)
    for part in ("train", "val", "test"):
        X, y, starts = windows[part]
        assert starts.tolist() == getattr(app, f"t_{part}").tolist()
        assert np.allclose(X, getattr(app, f"X_{part}"), atol=1e-6)
        assert np.allclose(y, getattr(app, f"y_{part}"), atol=1e-6)


# ---------------------------------------------------------------- same transform as the app


def airline(transform: str) -> DataConfig:
    """The monthly airline series (rising, with a yearly cycle) under one target transform."""
    return DataConfig(source="airline_passengers.csv", transform=transform, season=12)


def exported_functions(cfg: RunConfig) -> dict:
    """The exported script's globals, run as a module that is not __main__ (nothing trains)."""
    script = {"__name__": "exported"}
    exec(compile(export(cfg), "exported.py", "exec"), script)
    return script


def test_the_settings_name_the_transform_and_its_season():
    values = settings(export(run_cfg(data=airline("seasonal_difference"))))
    assert (values["TRANSFORM"], values["SEASON"]) == ("seasonal_difference", 12)
    script = export(run_cfg(data=airline("log")))
    assert re.search(r"^TRANSFORM = 'log' +# the network learns .*percentage", script, re.M)


@pytest.mark.parametrize("horizon", [1, 13])   # 13 > season: seasonal inverse reads forecasts
@pytest.mark.parametrize("kind", TRANSFORMS)
def test_the_scripts_transform_gives_the_apps_model_windows_and_inverse(kind, horizon):
    """Oracle: the script's transform, scaling, windows and inverse against rnnlab's."""
    from rnnlab import data as data_module
    from rnnlab import transforms

    cfg = run_cfg(data=airline(kind), cell="esn", lookback=7, horizon=horizon)
    script = exported_functions(cfg)
    values, offset, span, windows = script["prepare"]()
    app = data_module.prepare(cfg.data, 7, horizon)
    assert np.allclose(offset, app.scaler.offset, rtol=1e-12)
    assert np.allclose(span, app.scaler.scale, rtol=1e-12)      # the relative step size too
    for part in ("train", "val", "test"):
        X, y, starts = windows[part]
        assert starts.tolist() == getattr(app, f"t_{part}").tolist()
        assert len(starts) > 0 and starts[0] >= 7 + app.transform.lag
        assert np.allclose(X, getattr(app, f"X_{part}"), rtol=1e-6, atol=1e-6)
        assert np.allclose(y, getattr(app, f"y_{part}"), rtol=1e-6, atol=1e-6)
    _, y, starts = windows["test"]
    outputs = np.random.default_rng(0).normal(size=y.shape)    # (n, H) any network's outputs
    ours = script["to_original"](outputs, starts, values, offset, span)
    assert np.allclose(ours, transforms.to_original(app, outputs, starts), rtol=1e-10)
    actual = values[starts[:, None] + np.arange(horizon), 0]    # (n, H)
    back = script["to_original"](y.astype("float64"), starts, values, offset, span)
    assert np.allclose(back, actual, rtol=1e-5)                 # forward, then back: the data


class Rule:
    """A stand-in network for the oracle below: a fixed rule of the window (n, L, F) -> (n, H)."""

    def __init__(self, horizon: int):
        self.horizon = horizon

    def __call__(self, X):
        X = np.asarray(X, dtype="float64")
        base = 0.6 * X[:, -1, 0] + 0.3 * X[:, -2, 0] - 0.1 * X[:, :, 1:].sum(axis=(1, 2))
        return base[:, None] + 0.01 * np.arange(1, self.horizon + 1)[None, :]      # (n, H)

    def predict(self, X, verbose=0):
        return self(X)


@pytest.mark.parametrize("horizon", [1, 5])
@pytest.mark.parametrize("kind", TRANSFORMS)
def test_the_scripts_forecast_run_forward_is_the_apps(kind, horizon):
    """Oracle: the script's run_forward and its validation error against rnnlab's roll and
    free_running_validation_error, with the same stand-in network, two inputs."""
    from rnnlab import data as data_module
    from rnnlab import evaluate
    from rnnlab.train import free_running_validation_error

    data = DataConfig(source=str(two_column_airline()), target="Passengers",
                      features=("wave",), transform=kind, season=12)
    cfg = run_cfg(data=data, cell="gru", lookback=7, horizon=horizon)
    script = exported_functions(cfg)
    values, offset, span, windows = script["prepare"]()
    app = data_module.prepare(cfg.data, 7, horizon)
    rule = Rule(horizon)
    origins = np.array([app.n_train, app.n_train + 3, app.n_train + app.n_val])
    ours = script["run_forward"](rule, values, offset, span, origins, 17)
    theirs = evaluate.roll(app, rule, origins, 17)
    assert ours.shape == (3, 17) and np.all(np.isfinite(ours))
    # the script hands the network float32 windows, as Keras would take them
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6 * np.abs(theirs).max())
    error = script["free_running_error"](rule, values, offset, span, windows)
    assert error == pytest.approx(free_running_validation_error(app, rule), rel=1e-5)


# ---------------------------------------------------------------- the script runs


def run_script(script: str, tmp_path: Path) -> str:
    """Write and run a script in a fresh interpreter; its stdout (fails with stderr on error)."""
    path = tmp_path / "script.py"
    path.write_text(script, encoding="utf-8")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TF_NUM_INTRAOP_THREADS": "1",
           "TF_NUM_INTEROP_THREADS": "1"}
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def scores(stdout: str) -> tuple[float, float]:
    """(test RMSE, naive RMSE) from the script's printout."""
    rmse = re.search(r"^Test RMSE: ([0-9.]+)   MAE: ([0-9.]+)", stdout, re.M)
    naive = re.search(r"^Naive RMSE: ([0-9.]+)", stdout, re.M)
    assert rmse and naive, stdout[-2000:]
    return float(rmse.group(1)), float(naive.group(1))


@pytest.mark.slow
def test_noisy_sine_script_trains_and_prints_its_test_rmse(tmp_path):
    script = export(run_cfg(cell="lstm", units=4, lookback=10, epochs=20))
    script, edits = re.subn(r"^EPOCHS = 20\b", "EPOCHS = 1", script, flags=re.M)
    assert edits == 1  # a plain constant a student can edit
    out = run_script(script, tmp_path)
    rmse, naive = scores(out)
    assert rmse > 0 and 0 < naive < 1  # the sine has amplitude 1
    assert "1000 rows" in out and "'test': 100" in out
    assert "Skill vs naive:" in out


@pytest.mark.slow
def test_google_script_reads_separators_and_dates_and_tests_on_january_2017(tmp_path):
    cfg = preset("seed-tutorial").replace(model={"n_layers": 1, "units": 2, "dropout": 0.0},
                                          train={"epochs": 1})
    out = run_script(export(cfg), tmp_path)
    rmse, naive = scores(out)
    assert "1278 rows" in out and "'train': 1198" in out and "'test': 20" in out
    assert "(original units, 20 windows)" in out
    assert 0 < naive < 50 and rmse > 0  # prices near 800, daily moves of a few dollars


@pytest.mark.slow
def test_echo_state_script_runs_on_numpy_alone(tmp_path):
    cfg = run_cfg(data=WEATHER, cell="esn", horizon=2, reservoir_size=40, lookback=8)
    out = run_script(export(cfg), tmp_path)
    rmse, naive = scores(out)
    assert rmse < 2 * naive  # a fitted readout is in the naive forecast's league
    assert "['temp_max', 'temp_min', 'wind', 'weather=drizzle', 'weather=fog'," in out


@pytest.mark.slow
def test_a_differenced_script_trains_and_scores_in_the_datas_own_units(tmp_path):
    cfg = run_cfg(data=airline("difference"), cell="lstm", units=4, lookback=12, epochs=2)
    out = run_script(export(cfg), tmp_path)
    rmse, naive = scores(out)
    assert "'test': 14" in out and "(original units, 14 windows)" in out
    # passengers near 450 in the test part: predicted changes added to the last value stay close
    assert 10 < naive < 100 and 0 < rmse < 3 * naive
    assert "Skill vs naive:" in out


def test_the_scripts_linear_path_starts_at_the_apps_linear_autoregression():
    """Untrained, the exported model with LINEAR_SKIP forecasts the app's linear_ar baseline."""
    from rnnlab import data as data_module
    from rnnlab.evaluate import linear_ar

    cfg = run_cfg(data=airline("relative"), n_layers=2, units=[4, 3], linear_skip=True,
                  lookback=12, horizon=2)
    script = exported_functions(cfg)
    assert script["LINEAR_SKIP"] is True
    values, _, _, windows = script["prepare"]()
    model = script["build_model"](n_features=values.shape[1])
    script["start_linear_skip"](model, windows)
    X_test = windows["test"][0]
    ours = np.asarray(model.predict(X_test, verbose=0), dtype="float64")      # (n, 2)
    app = data_module.prepare(cfg.data, 12, 2)
    theirs = linear_ar(app)(app.X_test)
    assert ours.shape == theirs.shape and np.abs(theirs).max() > 0.1
    assert np.allclose(ours, theirs, rtol=1e-3, atol=1e-3 * np.abs(theirs).max())


def test_the_scripts_training_keeps_the_linear_start_when_no_epoch_beats_it():
    """As in the app (nn.callbacks.EarlyStoppingFromStart): a learning rate far too high, early
    stopping on, and the exported fit() ends on the least-squares start it began from."""
    from rnnlab import data as data_module
    from rnnlab.evaluate import linear_ar

    cfg = run_cfg(data=airline("relative"), linear_skip=True, lookback=12, epochs=3,
                  optimizer="sgd", learning_rate=10.0, early_stopping_patience=2)
    script = exported_functions(cfg)
    values, _, _, windows = script["prepare"]()
    model = script["build_model"](n_features=values.shape[1])
    script["start_linear_skip"](model, windows)
    script["fit"](model, windows)
    ours = np.asarray(model.predict(windows["test"][0], verbose=0), dtype="float64")
    app = data_module.prepare(cfg.data, 12, 1)
    theirs = linear_ar(app)(app.X_test)
    assert np.allclose(ours, theirs, rtol=1e-3, atol=1e-3 * np.abs(theirs).max())
