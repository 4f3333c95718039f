"""The run folder's files, the summary and the predictor table each have one home."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnlab import artefacts, evaluate, predictors
from rnnlab.figures import style
from rnnlab.summary import KEYS, RunSummary, run_summary

ROOT = Path(__file__).resolve().parents[2]
LITERALS = (artefacts.CONFIG, artefacts.CHECKPOINT, artefacts.CHECKPOINT_META,
            artefacts.MODEL_FILE, artefacts.ESN_FILE, artefacts.PREDICTIONS, artefacts.FORECAST,
            artefacts.BUNDLE_FILE, artefacts.LOG, artefacts.ONE_STEP, artefacts.FREE_RUN)
# Quoted names that are not a run folder's files: the members of a Keras model file, and the
# file names a generated script suggests to its reader.
ELSEWHERE = {("rnnlab/comeback/check.py", artefacts.CONFIG),
             ("rnnlab/codegen.py", artefacts.MODEL_FILE)}

STORED = {   # a summary as a worker of this version stores it (a real run, rounded)
    "baseline_notes": {}, "best_baseline": "linear_ar", "data_sha256": "2f7a69",
    "data_source": "google_stock_price_train.csv", "engine": {"backend": "jax"}, "epochs_done": 2,
    "headline": "The model loses to the best baseline.", "kind": evaluate.TEACHER_FORCED,
    "metrics": {"test": {
        "model": {"mae": 51.4, "mape": 6.3, "mape_note": None, "n": 20, "r2": -11.8, "rmse": 52.8},
        "naive": {"mae": 5.9, "mape": 0.7, "mape_note": None, "n": 20, "r2": 0.67, "rmse": 8.4}}},
    "notes": ["Classical baseline: ETS(A,N,N), fitted on the rows before the test part."],
    "params": 71051, "season": None, "seconds_per_epoch": 5.8, "sentence": "It does worse.",
    "skill_vs_best": -5.7, "skill_vs_naive": -5.3, "target": "Open",
    "train_range": {"max": 816.68, "min": 279.12}, "transform": "none"}


def test_run_folder_names_and_kinds_are_only_spelled_in_artefacts():
    found = []
    for folder in ("rnnlab", "views"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel == "rnnlab/artefacts.py":
                continue
            text = path.read_text(encoding="utf-8")
            for literal in LITERALS:
                if (rel, literal) in ELSEWHERE:
                    continue
                for match in re.finditer(r"[\"']" + re.escape(literal) + r"[\"']", text):
                    line = text.count("\n", 0, match.start()) + 1
                    found.append(f"{rel}:{line}: {match.group()}")
    assert not found, "name these through rnnlab.artefacts:\n" + "\n".join(found)


def test_a_stored_summary_reads_and_writes_back_unchanged():
    summary = RunSummary.from_dict(STORED)
    assert summary.to_dict() == STORED
    assert json.dumps(summary.to_dict()) == json.dumps(STORED)          # the same order too
    assert summary.season is None and summary.has("season") and not summary.has("intervals")
    assert summary.test_rmse() == 52.8 and summary.test_rmse("naive") == 8.4
    assert summary.metric("test", "naive", "mae") == 5.9
    assert summary.metric("val", "model", "rmse") is None and summary.split_metrics("val") == {}
    assert summary.train_bounds == (279.12, 816.68)
    assert summary.all_notes == STORED["notes"]


def test_old_and_unknown_keys_are_tolerated_and_kept():
    old = {"message": "Interrupted.", "legacy": {"x": 1}, "resume": True}
    summary = RunSummary.from_dict(old)
    assert summary.message == "Interrupted." and summary.resume is True
    assert summary.extra == {"legacy": {"x": 1}} and summary.to_dict() == old
    assert summary.metrics is None and summary.test_metrics == {} and summary.test_rmse() is None
    assert summary.interval_levels == {} and summary.train_bounds is None
    assert RunSummary.from_dict(None).to_dict() == {} and run_summary({}).to_dict() == {}
    assert RunSummary.from_dict({"metrics": "garbled"}).test_rmse() is None
    changed = summary.with_values(message="Again.").drop("resume")
    assert changed.to_dict() == {"message": "Again.", "legacy": {"x": 1}}
    assert summary.to_dict() == old                                     # the copy is apart
    with pytest.raises(TypeError):
        RunSummary().set(no_such_key=1)
    assert set(STORED) <= set(KEYS)


def test_predictions_and_forecast_round_trip(tmp_path):
    one = pd.DataFrame({"split": "test", "kind": artefacts.ONE_STEP, "step": 1,
                        "timestamp": pd.date_range("2024-01-01", periods=3), "actual": [1.0, 2, 3],
                        "model": [1.5, 2, 2.5], "origin": pd.date_range("2023-12-31", periods=3)})
    path = tmp_path / artefacts.PREDICTIONS
    artefacts.write_predictions(path, [one])
    back = artefacts.read_predictions(path)
    assert list(back.columns) == artefacts.PREDICTION_COLUMNS
    assert list(back["timestamp"]) == ["2024-01-01T00:00:00", "2024-01-02T00:00:00",
                                       "2024-01-03T00:00:00"]
    frame = artefacts.forecast_frame([7, 8], np.array([1.0, 2.0]), {"80": np.array([0.5, np.nan])})
    artefacts.write_forecast(tmp_path / artefacts.FORECAST, frame)
    forecast = artefacts.read_forecast(tmp_path / artefacts.FORECAST)
    assert list(forecast.columns) == [*artefacts.FORECAST_COLUMNS, "lower_80", "upper_80"]
    assert forecast["lower_80"][0] == 0.5 and np.isnan(forecast["upper_80"][1])
    assert artefacts.read_csv(tmp_path / "missing.csv") is None
    frame = artefacts.forecast_frame([7, 8], np.array([1.0, 2.0]), classical=np.array([3.0, 4.0]))
    assert list(frame.columns) == [*artefacts.FORECAST_COLUMNS, artefacts.CLASSICAL]
    assert list(frame[artefacts.CLASSICAL]) == [3.0, 4.0]


def test_checkpoint_record(tmp_path):
    assert artefacts.checkpoint_epoch(tmp_path) is None
    artefacts.write_checkpoint_meta(tmp_path, 3, 120)
    assert artefacts.read_checkpoint_meta(tmp_path) == {"epoch": 3, "iterations": 120}
    assert artefacts.checkpoint_epoch(tmp_path) is None                 # no weights yet
    (tmp_path / artefacts.CHECKPOINT).write_bytes(b"weights")
    assert artefacts.checkpoint_epoch(tmp_path) == 3
    (tmp_path / artefacts.CHECKPOINT_META).write_text('{"epoch": ')
    assert artefacts.checkpoint_epoch(tmp_path) is None
    with pytest.raises(ValueError):
        artefacts.read_checkpoint_meta(tmp_path)


def test_one_predictor_table_feeds_every_reader():
    assert evaluate.PREDICTORS is predictors.PREDICTORS
    assert list(style.LINE_STYLES) == ["actual", *predictors.PREDICTORS]
    assert style.LINE_LABELS["model"] == "model" and predictors.PREDICTORS["model"] == "the model"
    assert all(style.COLORS[name] == color for name, (color, _, _) in style.LINE_STYLES.items())
    from rnnlab.cli.results import BASELINE_LABELS

    assert BASELINE_LABELS == {**predictors.PREDICTORS, "model": "model"}


def test_seasonal_naive_of_a_trajectory_matches_the_baseline():
    target = np.arange(40, dtype=float) ** 1.5
    path = evaluate.seasonal_naive_path(target, 20, 9, 4)
    step = np.arange(9)
    assert np.array_equal(path, target[20 + step - 4 * (step // 4 + 1)])
    assert evaluate.seasonal_naive_path(target, 3, 9, 4) is None
    assert evaluate.seasonal_naive_path(target, 20, 9, None) is None
