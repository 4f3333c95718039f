"""Real runs through the worker with a target transform: files in the data's units, every baseline
scored on the same rows, the headline naming the best baseline, and the coach reading the run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers_train import two_column_airline
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
    # the classical forecast beyond the data: the anchor fitted on every row, run forward over
    # the same steps as the model's, and its form in the summary for the coach
    assert s["classical"].startswith("ETS(") and s["classical"] in " ".join(s["notes"])
    forecast = pd.read_csv(store.artefact(done.id, "forecast.csv"))
    from rnnlab import classical
    _, path = classical.anchor_path(raw.astype(float), len(raw), len(forecast), 12)
    np.testing.assert_allclose(forecast["classical"].to_numpy(), path, rtol=1e-9)
    assert 350 < path.min() and path.max() < 800       # passengers, a year on from 1960's 390-622


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
    assert "classical" not in forecast          # the optional extra is turned off here
    free = pd.read_csv(store.artefact(done.id, "predictions.csv"))
    free = free[free["kind"] == "free-running"]
    assert free["model"].notna().all()
    # the first free-running value is the last actual value plus one predicted change
    first = free.iloc[0]
    raw = pd.read_csv("sample_data/airline_passengers.csv")["Passengers"].to_numpy()
    assert abs(first["model"] - raw[len(raw) - len(free) - 1]) < 0.5 * raw.std()
    assert np.isfinite(metrics(free["actual"], free["model"])["rmse"])


def test_the_linear_path_keeps_its_start_when_no_epoch_beats_it(store):
    """A learning rate far too high makes every epoch worse on validation: the model keeps the
    least-squares start, so its test forecasts are the linear autoregression's (numpy lstsq)."""
    cfg = airline("relative", optimizer="sgd", learning_rate=10.0, early_stopping_patience=2,
                  epochs=4).replace(model={"linear_skip": True})
    done = run(store, cfg)
    pred = pd.read_csv(store.artefact(done.id, "predictions.csv"))
    rows = pred[(pred["split"] == "test") & (pred["kind"] == "one-step-ahead")]
    assert np.allclose(rows["model"], rows["linear_ar"], rtol=1e-4, atol=1e-3)
    events = " ".join(e["message"] for e in store.events(done.id))
    assert "kept the starting weights" in events


def test_the_linear_path_never_ends_worse_than_its_start_on_validation(store):
    """With a sane learning rate the kept weights score at least as well as the least-squares
    start on the validation rows (one step, change from the last value: the loss is the squared
    error in the data's units times a constant)."""
    cfg = airline("relative", early_stopping_patience=3, epochs=6).replace(
        model={"linear_skip": True})
    done = run(store, cfg)
    val = done.summary["metrics"]["val"]
    assert val["model"]["rmse"] <= val["linear_ar"]["rmse"] * (1 + 1e-4)
    assert not np.isclose(val["model"]["rmse"], val["naive"]["rmse"])


def test_a_run_carries_conformal_intervals_and_their_test_coverage(store):
    """The bands in predictions.csv and forecast.csv are the model ± the summary's half-widths,
    95 % wider than 80 %, and the coverage in the summary is numpy's share of actual values
    inside them on the test rows."""
    done = run(store, airline("seasonal_difference"))
    bands = done.summary["intervals"]["levels"]
    assert set(bands) == {"80", "95"}
    pred = pd.read_csv(store.artefact(done.id, "predictions.csv"))
    for kind, key, name in (("one-step-ahead", "one_step", "coverage_one_step"),
                            ("free-running", "free_running", "coverage_free_running")):
        rows = pred[(pred["split"] == "test") & (pred["kind"] == kind)]
        for level in ("80", "95"):
            widths = np.array(bands[level][key], dtype=float)
            w = widths[np.minimum(rows["step"].to_numpy() - 1, len(widths) - 1)]
            assert np.allclose(rows[f"upper_{level}"] - rows["model"], w, equal_nan=True)
            assert np.allclose(rows["model"] - rows[f"lower_{level}"], w, equal_nan=True)
            inside = (rows["actual"] >= rows[f"lower_{level}"]) & \
                     (rows["actual"] <= rows[f"upper_{level}"])
            if np.isfinite(w).any():
                assert bands[level][name] == pytest.approx(inside.mean())
            else:
                assert bands[level][name] is None
        assert np.isfinite(rows["upper_80"]).all()
    # 14 validation rows: enough for 80 % (4 needed), too few for 95 % (19 needed)
    assert bands["95"]["one_step"] == [None] and bands["95"]["coverage_one_step"] is None
    # the one-step half-width is the conformal quantile of the validation errors (numpy)
    val = pred[(pred["split"] == "val") & (pred["kind"] == "one-step-ahead")]
    err = np.sort(np.abs(val["model"] - val["actual"]).to_numpy())
    k = int(np.ceil((len(err) + 1) * 0.8))
    assert bands["80"]["one_step"][0] == pytest.approx(err[k - 1])
    forecast = pd.read_csv(store.artefact(done.id, "forecast.csv"))
    assert forecast["lower_95"].isna().all()
    assert (forecast["lower_80"] < forecast["forecast"]).all()
    assert (forecast["forecast"] < forecast["upper_80"]).all()


def test_a_backtest_with_four_origins_trains_four_folds_on_their_own_rows(store):
    from rnnlab import groups, jobs

    cfg = airline("difference").replace(train={"epochs": 2})
    group_id, ids = jobs.submit_backtest(store, cfg, 4)
    for run_id in ids:
        assert worker.execute(store, run_id) == RunStatus.DONE, store.get_run(run_id).error
    runs = store.group_runs(group_id)
    raw = pd.read_csv("sample_data/airline_passengers.csv")["Passengers"].to_numpy()
    for k, run in enumerate(runs):
        pred = pd.read_csv(store.artefact(run.id, "predictions.csv"))
        rows = pred[(pred["split"] == "test") & (pred["kind"] == "one-step-ahead")]
        end = 144 - (3 - k) * 14
        np.testing.assert_array_equal(rows["actual"].to_numpy(), raw[end - 14:end])
        assert run.summary["metrics"]["test"]["model"]["n"] == 14
    assert len(groups.backtest_rows(runs)) == 4
    assert groups.backtest_sentence(runs).count("of 4 folds beat the naive forecast") == 1


@pytest.mark.parametrize("spoiled", ["trained", "start"])
def test_the_trained_weights_give_way_to_the_start_only_where_the_start_runs_forward_better(
        spoiled):
    """Two sets of weights of one model, one of them the least-squares start and the other the
    same with its linear path knocked off: whichever runs forward worse over the validation rows
    is dropped, and the message names both errors (the script's twin checks them)."""
    from rnnlab import data, train
    from rnnlab.config import ModelConfig, TrainConfig
    from rnnlab.nn.model import build_model, start_linear_skip

    prepared = data.prepare(airline("relative").data, 12, 1)
    model = build_model(ModelConfig(n_layers=1, units=4, lookback=12, linear_skip=True),
                        TrainConfig(), 1)
    start_linear_skip(model, prepared.X_train, prepared.y_train)
    good = model.get_weights()
    bad = [w * 0.5 if w.ndim == 2 and w.shape[0] == 12 else w for w in good]   # linear kernel
    assert sum(not np.array_equal(a, b) for a, b in zip(good, bad)) == 1
    start, trained = (good, bad) if spoiled == "trained" else (bad, good)
    model.set_weights(trained)
    errors = {}
    for name, weights in (("trained", trained), ("start", start)):
        model.set_weights(weights)
        errors[name] = train.free_running_validation_error(prepared, train.predict_function(model))
    model.set_weights(trained)
    said = train.keep_start_if_it_runs_better(model, prepared, start, epoch=7)
    kept = model.get_weights()
    if spoiled == "trained":
        assert errors["start"] < errors["trained"]
        assert all(np.array_equal(a, b) for a, b in zip(kept, start))
        assert f"erred {errors['start']:.4g} against {errors['trained']:.4g} for epoch 7's" in said
    else:
        assert errors["trained"] < errors["start"] and said == ""
        assert all(np.array_equal(a, b) for a, b in zip(kept, trained))


@pytest.mark.parametrize("features", [(), ("wave",)])
def test_only_a_run_on_the_target_alone_is_run_forward_against_its_start(store, monkeypatch,
                                                                         features):
    """With another input, a forecast fed on its own outputs holds that input at its last
    value: the check would judge the assumption, not the network, so it is skipped."""
    from rnnlab import train

    asked, made = [], []
    monkeypatch.setattr(train, "keep_start_if_it_runs_better",
                        lambda model, prepared, start, epoch: asked.append(epoch) or "")
    real = train._early_stopping
    monkeypatch.setattr(train, "_early_stopping",
                        lambda *a: made.append(real(*a)) or made[-1])
    src = two_column_airline() if features else "airline_passengers.csv"
    cfg = airline("relative", early_stopping_patience=5, epochs=15, learning_rate=0.01).replace(
        data={"source": str(src), "features": features}, model={"linear_skip": True})
    run(store, cfg)
    best = made[0].best_epoch
    assert best >= 0                                          # an epoch beat the start
    assert asked == ([] if features else [best + 1])


def test_a_file_that_plans_its_inputs_ahead_forecasts_from_them_and_scores_no_made_up_values(store):
    """The last 4 months of the file give price and promo but no sales: those rows are left out
    of training and scoring, and the forecast beyond the data starts at them."""
    source = Path(__file__).resolve().parents[1] / "data" / "planned_inputs.csv"
    cfg = RunConfig().replace(
        data={"source": str(source), "target": "sales", "features": ("price", "promo"),
              "val_fraction": 0.2, "test_fraction": 0.2},
        model={"n_layers": 1, "units": 4, "lookback": 6}, train={"epochs": 2})
    done = run(store, cfg)
    s = done.summary
    assert s["future_inputs"] == 4
    assert any(n.startswith("The last 4 rows of the file (2023-01-01 to 2023-04-01) have no "
                            "sales") for n in s["notes"])
    pred = pd.read_csv(store.artefact(done.id, "predictions.csv"))
    test = pred[(pred["split"] == "test") & (pred["kind"] == "one-step-ahead")]
    raw = pd.read_csv(source)
    assert test["timestamp"].iloc[-1].startswith("2022-12-01")       # the last month with sales
    np.testing.assert_array_equal(test["actual"], raw["sales"].dropna().to_numpy()[-len(test):])
    forecast = pd.read_csv(store.artefact(done.id, "forecast.csv"))
    assert forecast["timestamp"].iloc[0].startswith("2023-01-01")
