"""Models come back: a trained run's downloaded zip, uploaded again, evaluated and trained on.

Each test trains a tiny run through the real worker, takes its bundle.zip as the Results page
offers it, and brings it back through `rnnlab.comeback` (the dashboard's and the CLI's path).
Oracles: the original run's own predictions.csv and loss curve.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnlab import bundle, cli, comeback, worker
from rnnlab.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from rnnlab.store import RunStatus

pytestmark = pytest.mark.slow

AIRLINE = Path(__file__).resolve().parents[2] / "sample_data" / "airline_passengers.csv"


def tiny(transform: str = "difference", cell: str = "lstm", epochs: int = 3) -> RunConfig:
    return RunConfig(name=f"comeback {transform}",
                     data=DataConfig(source="airline_passengers.csv", transform=transform,
                                     season=12),
                     model=ModelConfig(cell=cell, n_layers=1, units=4, lookback=12,
                                       reservoir_size=30),
                     train=TrainConfig(epochs=epochs, batch_size=16, seed=5,
                                       track_gradients=False, learning_rate=0.01))


def trained(store, cfg: RunConfig) -> tuple[str, bytes]:
    """(run id, its bundle.zip bytes) of a run trained by the worker."""
    run_id = store.create_run(cfg.to_dict(), epochs_total=cfg.train.epochs)
    assert worker.execute(store, run_id) == RunStatus.DONE, store.get_run(run_id).error
    return run_id, (store.run_dir(run_id) / bundle.BUNDLE_FILE).read_bytes()


def bring_back(store, raw: bytes, cfg: RunConfig | None = None, *, source=None, **options):
    """Upload the zip and run the new run here; (run id, the record)."""
    brought = comeback.inspect_upload("run-model.zip", raw)
    if cfg is None:
        cfg = comeback.evaluate_config(brought, source or "airline_passengers.csv", **options)
    run_id, prepared = comeback.register(store, brought, raw, cfg)
    assert store.get_run(run_id).status == RunStatus.QUEUED
    status = worker.execute(store, run_id)
    run = store.get_run(run_id)
    assert status == RunStatus.DONE, run.error
    return run_id, run


def predictions_of(store, run_id: str, kind: str = "one-step-ahead") -> pd.DataFrame:
    frame = pd.read_csv(store.run_dir(run_id) / "predictions.csv")
    keep = (frame["split"] == "test") & (frame["kind"] == kind)
    return frame[keep].set_index(["timestamp", "step"])


@pytest.mark.parametrize("cell", ["lstm", "esn"])
def test_an_uploaded_model_reproduces_its_runs_test_predictions(store, cell):
    cfg = tiny(cell=cell)
    original, raw = trained(store, cfg)
    run_id, run = bring_back(store, raw)
    assert run.epochs_done == 0 and run.epochs_total == 0
    assert store.epochs(run_id) == []                                  # nothing was trained
    assert run.config["from_model"]["action"] == "evaluate"
    ours, theirs = predictions_of(store, run_id), predictions_of(store, original)
    assert list(ours.index) == list(theirs.index) and len(ours) > 5
    assert np.allclose(ours["model"], theirs["model"], rtol=1e-5, atol=0)
    assert np.allclose(ours["linear_ar"], theirs["linear_ar"], rtol=1e-9)
    free_ours = predictions_of(store, run_id, "free-running")
    free_theirs = predictions_of(store, original, "free-running")
    assert np.allclose(free_ours["model"], free_theirs["model"], rtol=1e-4)
    before = store.get_run(original).summary["metrics"]["test"]["model"]["rmse"]
    assert run.summary["metrics"]["test"]["model"]["rmse"] == pytest.approx(before, rel=1e-5)
    assert "not trained here" in run.summary["from_model"]
    assert (store.run_dir(run_id) / bundle.BUNDLE_FILE).is_file()      # downloadable again
    kept = store.home / "models"
    assert [p.name for p in kept.iterdir()] == [f"{comeback.inspect_upload('x', raw).sha256}.zip"]


def test_a_model_evaluated_on_a_second_file_is_scored_against_the_baselines(store, tmp_path):
    original, raw = trained(store, tiny())
    frame = pd.read_csv(AIRLINE)
    rng = np.random.default_rng(0)
    frame["Passengers"] = frame["Passengers"] * 1.3 + rng.normal(0, 8, len(frame)) + 40
    second = tmp_path / "later_passengers.csv"
    frame.to_csv(second, index=False)
    run_id, run = bring_back(store, raw, source=str(second), test_fraction=0.3)
    test = run.summary["metrics"]["test"]
    assert {"model", "naive", "seasonal_naive", "linear_ar", "mean"} <= set(test)
    n_test = comeback.prepare_with(comeback.inspect_upload("m.zip", raw),
                                   DataConfig(source=str(second), test_fraction=0.3)).n_test
    assert test["model"]["n"] == n_test == round(len(frame) * 0.3)
    # scored against the second file's values, not the first's
    pred = predictions_of(store, run_id)
    assert np.allclose(pred["actual"], frame["Passengers"].to_numpy()[-len(pred):])
    assert run.summary["metrics"]["test"]["model"]["rmse"] != pytest.approx(
        store.get_run(original).summary["metrics"]["test"]["model"]["rmse"])
    assert run.summary["best_baseline"] in test and run.summary["skill_vs_naive"] is not None
    assert run.name.endswith("evaluated on later_passengers.csv")


def test_continued_training_starts_where_the_model_left_off(store):
    cfg = tiny(epochs=3)
    original, raw = trained(store, cfg)
    brought = comeback.inspect_upload("m.zip", raw)
    fresh_cfg = cfg.replace(train={"epochs": 1}, name="fresh")
    fresh = store.create_run(fresh_cfg.to_dict(), epochs_total=1)
    assert worker.execute(store, fresh) == RunStatus.DONE
    more = comeback.continue_config(brought, "airline_passengers.csv", epochs=2)
    run_id, run = bring_back(store, raw, more)
    last = store.epochs(original)[-1]["train_loss"]
    first_fresh = store.epochs(fresh)[0]["train_loss"]
    first = store.epochs(run_id)[0]["train_loss"]
    assert run.epochs_done == 2 and run.config["from_model"]["action"] == "continue"
    assert first < first_fresh / 2                                     # not from scratch
    assert first == pytest.approx(last, rel=0.5)                       # near where it ended
    events = [e["kind"] for e in store.events(run_id)]
    assert "from model" in events


def test_the_cli_evaluates_and_refuses_in_plain_words(store, tmp_path, capsys):
    original, raw = trained(store, tiny(epochs=2))
    model = tmp_path / "run-model.zip"
    model.write_bytes(raw)
    home = str(store.home)
    code = cli.main(["evaluate", str(model), "airline_passengers.csv", "--home", home])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "linear autoregression" in out and "naive (last value)" in out
    text = tmp_path / "notes.zip"
    text.write_text("just some notes\n")
    code = cli.main(["evaluate", str(text), "airline_passengers.csv", "--home", home])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_ERROR and "Traceback" not in err
    assert "not a model downloaded from RNN Lab: it is a text file" in err
    wrong = tmp_path / "other.csv"
    pd.DataFrame({"Month": pd.date_range("2000-01-01", periods=60, freq="MS"),
                  "Sales": np.arange(60.0)}).to_csv(wrong, index=False)
    code = cli.main(["evaluate", str(model), str(wrong), "--home", home])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_ERROR
    assert "has no column 'Passengers', which the model reads" in err
