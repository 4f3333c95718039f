"""Backtests: the same setup at origins rolling forward, each fold testing on the next rows."""

import math

import numpy as np
import pytest

from rnnlab import groups, jobs
from rnnlab.config import RunConfig
from rnnlab.data import prepare
from rnnlab.errors import ConfigError
from rnnlab.store import RunStatus
from statuses import set_status

AIRLINE = RunConfig(name="air").replace(
    data={"source": "airline_passengers.csv", "target": "Passengers"},
    model={"lookback": 12}, train={"epochs": 3})


def test_folds_roll_forward_and_test_on_the_next_rows_only():
    configs = groups.backtest_configs(AIRLINE, 4, 144)
    assert [c.data.end_row for c in configs] == [102, 116, 130, 144]
    assert configs[0].name == "air · fold 1 of 4 (rows to 102)"
    seen = []
    full = prepare(AIRLINE.data, 12, 1)
    for c in configs:
        p = prepare(c.data, 12, 1)
        end = c.data.end_row
        assert p.n_test == 14 and len(p.values) == end
        assert p.t_test.tolist() == list(range(end - 14, end))          # the next 14 rows
        assert p.t_train.max() < p.t_val.min() <= p.t_val.max() < end - 14
        # the fold's rows are the whole file's first `end` rows, untouched
        assert np.array_equal(p.values, full.values[:end])
        seen += p.t_test.tolist()
    assert seen == list(range(144 - 4 * 14, 144))                     # tiling, no overlap


@pytest.mark.parametrize("cfg, folds, message", [
    (AIRLINE.replace(data={"test_source": "airline_passengers.csv"}), 3, "separate test file"),
    (AIRLINE, 11, "2 to 10 folds"),
    (AIRLINE.replace(data={"test_fraction": 0.3}), 4, "leave the first fold only"),
])
def test_impossible_backtests_say_what_to_change(cfg, folds, message):
    with pytest.raises(ConfigError, match=message):
        groups.backtest_configs(cfg, folds, 144)


def test_a_backtest_is_queued_as_one_group(store):
    group_id, ids = jobs.submit_backtest(store, AIRLINE, 4, owner="Ada")
    runs = store.group_runs(group_id)
    assert [r.id for r in runs] == ids and {r.group_kind for r in runs} == {"backtest"}
    assert runs[0].group_label == "air: backtest, 4 folds of 14 test rows"
    assert [r.config["data"]["end_row"] for r in runs] == [102, 116, 130, 144]


def test_end_row_past_the_data_is_refused(store):
    from rnnlab.errors import DataError

    with pytest.raises(DataError, match="end_row 500 is past the last row"):
        prepare(AIRLINE.replace(data={"end_row": 500}).data, 12, 1)


def finish(store, run_id, rmse, naive, n):
    set_status(store, run_id, RunStatus.DONE, summary={
        "skill_vs_naive": 1 - rmse / naive,
        "metrics": {"test": {"model": {"rmse": rmse, "n": n}, "naive": {"rmse": naive, "n": n}}}})


def test_fold_rows_pooled_skill_and_sentence(store):
    group_id, ids = jobs.submit_backtest(store, AIRLINE, 3)
    scores = [(10.0, 12.0, 14), (20.0, 16.0, 14), (9.0, 15.0, 14)]
    for run_id, (rmse, naive, n) in zip(ids, scores):
        finish(store, run_id, rmse, naive, n)
    runs = store.group_runs(group_id)
    rows = groups.backtest_rows(runs)
    assert [r["skill vs naive"] for r in rows] == pytest.approx([1 - 10 / 12, 1 - 20 / 16,
                                                                 1 - 9 / 15])
    # pooled over every test value: sqrt of the mean squared error of all folds together
    model = math.sqrt(sum(n * r * r for r, _, n in scores) / 42)
    naive = math.sqrt(sum(n * b * b for _, b, n in scores) / 42)
    assert groups.pooled_skill(runs) == pytest.approx(1 - model / naive)
    text = groups.backtest_sentence(runs)
    assert text.startswith("2 of 3 folds beat the naive forecast; skill per fold +0.17, −0.25, "
                           "+0.40; over all folds ")


def test_the_cli_queues_a_backtest_and_shows_its_folds(store):
    from test_sweeps import run_cli

    code, out, err = run_cli("submit", "airline_passengers.csv", "--target", "Passengers",
                             "--epochs", "2", "--backtest", "3", "--no-advice",
                             "--home", str(store.home))
    assert code == 0, err
    ids = out.split()
    assert len(ids) == 3 and "Queued backtest g" in err
    for run_id, (rmse, naive) in zip(ids, [(10.0, 12.0), (20.0, 16.0), (9.0, 15.0)]):
        finish(store, run_id, rmse, naive, 14)
    code, out, err = run_cli("show", store.get_run(ids[0]).group_id, "--home", str(store.home))
    assert code == 0, err
    assert "2 of 3 folds beat the naive forecast" in out
    assert out.count("done") == 3 and "ROWS UP TO" in out

