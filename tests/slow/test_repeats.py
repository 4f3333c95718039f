"""Repeats are answered from a finished twin only because a run is deterministic: the same
settings, data and seed give the same numbers in fresh worker processes, on one or two threads."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rnnlab.config import RunConfig
from rnnlab.store import RunStatus

pytestmark = pytest.mark.slow

CASES = {
    "lstm with dropout": RunConfig().replace(
        model={"cell": "lstm", "n_layers": 2, "units": [8, 4], "dropout": [0.2, 0.0],
               "lookback": 10},
        train={"epochs": 3, "batch_size": 32, "track_gradients": True}),
    "gru, linear path, early stopping": RunConfig().replace(
        data={"source": "airline_passengers.csv", "target": "Passengers",
              "transform": "seasonal_difference", "season": 12},
        model={"cell": "gru", "units": 6, "lookback": 12, "linear_skip": True},
        train={"epochs": 4, "early_stopping_patience": 2}),
}


def work(store, cfg, threads: int) -> str:
    run_id = store.create_run(cfg.to_dict())
    env = {**os.environ, "RNNLAB_THREADS": str(threads), "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-m", "rnnlab.worker", run_id, "--home",
                           str(store.home)], env=env, capture_output=True, text=True, timeout=300)
    run = store.get_run(run_id)
    assert proc.returncode == 0 and run.status == RunStatus.DONE, (proc.stderr[-2000:], run.error)
    return run_id


@pytest.mark.parametrize("label", list(CASES))
def test_the_same_run_in_fresh_processes_gives_the_same_numbers(store, label):
    cfg = CASES[label]
    first, second, third = (work(store, cfg, threads) for threads in (1, 1, 2))
    curves = [[(e["train_loss"], e["val_loss"]) for e in store.epochs(r)]
              for r in (first, second, third)]
    assert curves[0] and curves[0] == curves[1] == curves[2]
    predictions = [store.artefact(r, "predictions.csv").read_bytes()
                   for r in (first, second, third)]
    assert predictions[0] == predictions[1] == predictions[2]
    tests = [store.get_run(r).summary["metrics"]["test"]["model"] for r in (first, second, third)]
    assert tests[0] == tests[1] == tests[2]


def test_a_diverging_run_diverges_the_same_way_in_fresh_processes(store):
    """The exploding-gradient lesson's run without clipping diverges on purpose; its repeats
    take its result (`lifecycle.ANSWERS`) because the same seed diverges at the same epoch with
    the same losses and message."""
    from rnnlab.lessons import get_lesson

    cfg = dict(get_lesson("exploding").configs())["no clipping"]
    runs = []
    for threads in (1, 1, 2):
        run_id = store.create_run(cfg.to_dict())
        env = {**os.environ, "RNNLAB_THREADS": str(threads), "TF_CPP_MIN_LOG_LEVEL": "2"}
        subprocess.run([sys.executable, "-m", "rnnlab.worker", run_id, "--home",
                        str(store.home)], env=env, capture_output=True, text=True, timeout=300)
        runs.append(store.get_run(run_id))
    assert [r.status for r in runs] == [RunStatus.DIVERGED] * 3, [r.error for r in runs]
    curves = [repr([(e["train_loss"], e["val_loss"]) for e in store.epochs(r.id)]) for r in runs]
    assert curves[0] == curves[1] == curves[2]
    assert len({r.epochs_done for r in runs}) == 1
    assert len({r.result.message for r in runs}) == 1 and runs[0].result.message
