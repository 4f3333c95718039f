"""`rnnlab show` prints what the coach sees, and nothing about it for a healthy run."""

import io

import numpy as np
import pandas as pd

from rnnlab import cli
from rnnlab.config import RunConfig
from rnnlab.store import RunStatus
from rnnlab.artefacts import FREE_RUN, ONE_STEP, PREDICTION_COLUMNS
from rnnlab.artefacts import write_predictions as _write_csv
from statuses import set_status


def run_cli(*argv):
    """(exit status, stdout, stderr) of one command."""
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def finished_run(store, actual: np.ndarray, train_max: float) -> str:
    """A done run whose test rows track `actual`, trained on values up to `train_max`."""
    run_id = store.create_run(RunConfig().to_dict(), epochs_total=3)
    for epoch, loss in enumerate((0.3, 0.1, 0.1), 1):
        store.add_epoch(run_id, epoch, train_loss=loss, val_loss=loss, grad_norm_mean=1.0,
                        grad_norm_max=2.0)
    model = actual + np.random.default_rng(0).normal(0, 0.1, len(actual))
    pred = pd.DataFrame({"split": "test", "kind": ONE_STEP, "step": 1, "actual": actual,
                         "model": model, "naive": np.r_[actual[0], actual[:-1]],
                         "timestamp": np.arange(len(actual)), "origin": np.arange(len(actual)) - 1})
    _write_csv(store.artefact(run_id, "predictions.csv"), [pred.reindex(columns=PREDICTION_COLUMNS)])
    summary = {"metrics": {"test": {"model": {"rmse": 0.1, "mae": 0.08, "mape": None, "n": 50},
                                    "naive": {"rmse": 0.5, "mae": 0.4, "mape": None, "n": 50}}},
               "skill_vs_naive": 0.8, "train_range": {"min": 0.0, "max": train_max}}
    set_status(store, run_id, RunStatus.DONE, summary=summary)
    return run_id


def test_show_prints_the_diagnosis_after_the_metrics(store):
    run_id = finished_run(store, np.linspace(5, 15, 50), train_max=10.0)
    code, out, _ = run_cli("show", run_id)
    assert code == 0
    assert out.index("result") < out.index("What the coach sees") < out.index("last epochs")
    section = out[out.index("What the coach sees"):out.index("last epochs")].splitlines()
    assert section[1] == "  1. The test values lie outside what the model was trained on"
    assert section[2] == ("     50 % of the test values are above the highest training value "
                          "(15 vs 10).")
    assert section[3].startswith("     A network rarely forecasts values beyond")
    assert section[4] == ("     Try this: Train on the changes between steps "
                          "(settings: transform=difference)")


def test_show_says_nothing_when_the_coach_sees_nothing(store):
    run_id = finished_run(store, 5 + np.sin(np.linspace(0, 12, 50)), train_max=10.0)
    code, out, _ = run_cli("show", run_id)
    assert code == 0 and "result" in out
    assert "coach" not in out.lower() and "Try this" not in out


def test_show_prints_the_free_running_scores_with_each_baseline_path(store):
    actual = np.linspace(5, 15, 50)
    run_id = finished_run(store, actual, train_max=20.0)
    path = store.artefact(run_id, "predictions.csv")
    one = pd.read_csv(path)
    free = pd.DataFrame({"split": "test", "kind": FREE_RUN, "step": np.arange(1, 51),
                         "actual": actual, "model": actual + 1.0, "naive": np.full(50, 4.8),
                         "linear_ar": actual + 0.5, "timestamp": np.arange(50), "origin": -1})
    _write_csv(path, [one, free.reindex(columns=PREDICTION_COLUMNS)])
    code, out, _ = run_cli("show", run_id)
    assert code == 0
    section = out[out.index("free-running ("):out.index("last epochs")].splitlines()
    naive_rmse = np.sqrt(np.mean((4.8 - actual) ** 2))
    assert section[1].split() == ["TEST", "(50", "steps)", "RMSE", "MAE", "MAPE", "SKILL", "VS",
                                  "NAIVE"]
    assert section[2].split()[:3] == ["model", "1", "1"]
    assert section[3].split()[3] == f"{naive_rmse:.4g}"
    assert section[4].split()[:4] == ["linear", "autoregression", "0.5", "0.5"]
    assert section[-2] == ("The model loses to the best baseline, linear autoregression: its "
                           "error is 2× that baseline's. Compared with repeating the last value, "
                           f"its error is {round((1 - 1 / naive_rmse) * 100)} % lower.")


def test_show_leaves_out_the_free_running_part_without_those_rows(store):
    run_id = finished_run(store, np.linspace(5, 15, 50), train_max=20.0)
    code, out, _ = run_cli("show", run_id)
    assert code == 0 and "free-running (" not in out
