"""Real runs through the worker with a target transform: files in the data's units, every baseline
scored on the same rows, the headline naming the best baseline, and the coach reading the run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnlab import coach, worker
from rnnlab.config import RunConfig
from rnnlab.evaluate import metrics
from rnnlab.store import RunStatus

pytestmark = pytest.mark.slow


def airline(transform: str, **train) -> RunConfig:
    return RunConfig().replace(
        data={"source": "airline_passengers.csv", "target": "Passengers", "season": 12,
              "transform": transform},
        model={"n_layers": 1, "units": 8, "lookback": 12},
        train={"epochs": 3, "batch_size": 512, **train})


def run(store, cfg):
    run_id = store.create_run(cfg.to_dict())
    assert worker.execute(store, run_id) == RunStatus.DONE, store.get_run(run_id).error
    return store.get_run(run_id)


@pytest.mark.classical
def test_a_seasonal_difference_run_scores_every_baseline_on_the_same_rows(store, monkeypatch):
    monkeypatch.setenv("RNNLAB_CLASSICAL", "1")
    done = run(store, airline("seasonal_difference"))
    s = done.summary
    test = s["metrics"]["test"]
    assert {"model", "naive", "seasonal_naive", "linear_ar", "anchor", "mean"} <= set(test)
    assert s["transform"] == "seasonal_difference" and s["season"] == 12
    # the batch of 512 was larger than the training windows: capped, and the notes say so
    assert any("larger than the" in note and "training windows" in note for note in s["notes"])
    assert any(note.startswith("Classical baseline: ETS(") for note in s["notes"])
    pred = pd.read_csv(store.artefact(done.id, "predictions.csv"))
    rows = pred[(pred["split"] == "test") & (pred["kind"] == "one-step-ahead")]
    # every score is recomputed from the written rows (the data's units) with numpy
    for name in ("model", "naive", "seasonal_naive", "linear_ar", "anchor"):
        err = rows[name].to_numpy() - rows["actual"].to_numpy()
        assert test[name]["rmse"] == pytest.approx(np.sqrt(np.mean(err ** 2)), rel=1e-9)
    # the actual values are the file's own, in passengers
    raw = pd.read_csv("sample_data/airline_passengers.csv")["Passengers"].to_numpy()
    np.testing.assert_array_equal(rows["actual"].to_numpy(), raw[-len(rows):])
    best = min((n for n in test if n != "model"), key=lambda n: test[n]["rmse"])
    assert s["best_baseline"] == best
    assert s["skill_vs_best"] == pytest.approx(1 - test["model"]["rmse"] / test[best]["rmse"])
    assert s["headline"].startswith("The model ")


def test_a_level_run_on_a_rising_series_gets_the_coach_and_its_fix(store):
    """Three epochs on levels of a rising series: the test lies above the training range."""
    done = run(store, airline("none"))
    found = {d.code: d for d in coach.diagnose_run(store, done.id)}
    assert "outside_range" in found
    fixed = coach.apply(done.config, found["outside_range"])
    assert fixed.data.transform in ("difference", "seasonal_difference")
    assert fixed.model == RunConfig.from_dict(done.config).model


def test_forecast_beyond_the_data_is_in_the_data_units(store):
    done = run(store, airline("difference"))
    forecast = pd.read_csv(store.artefact(done.id, "forecast.csv"))
    assert len(forecast) == worker.FORECAST_STEPS
    # a forecast of changes added back to the last value: passengers in the hundreds, not 0..1
    assert 200 < forecast["forecast"].iloc[0] < 800
    assert str(forecast["timestamp"].iloc[0]).startswith("1961-01")
    free = pd.read_csv(store.artefact(done.id, "predictions.csv"))
    free = free[free["kind"] == "free-running"]
    assert free["model"].notna().all()
    # the first free-running value is the last actual value plus one predicted change
    first = free.iloc[0]
    raw = pd.read_csv("sample_data/airline_passengers.csv")["Passengers"].to_numpy()
    assert abs(first["model"] - raw[len(raw) - len(free) - 1]) < 0.5 * raw.std()
    assert np.isfinite(metrics(free["actual"], free["model"])["rmse"])
