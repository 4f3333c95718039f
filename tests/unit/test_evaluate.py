"""Metrics, baselines, skill vs naive and free-running forecasts, against plain numpy twins."""

import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from rnnlab.errors import ConfigError, DataError
from rnnlab.evaluate import (FREE_RUNNING, TEACHER_FORCED, Evaluation, baselines, best_baseline,
                             evaluate, forecast_beyond, free_running, future_index, metrics,
                             path_scores)


class MinMax:
    """Stand-in for data.Scaler("minmax"): per column, fitted on the rows given."""

    def __init__(self, train: np.ndarray):
        self.lo, self.hi = train.min(axis=0), train.max(axis=0)  # (F,)

    def transform(self, arr):
        return (arr - self.lo) / (self.hi - self.lo)

    def inverse_target(self, arr):
        return np.asarray(arr) * (self.hi[0] - self.lo[0]) + self.lo[0]


def windows(scaled, lookback, horizon, start, stop):
    """Plain loop: windows whose first predicted row t has start <= t and t + horizon <= stop."""
    ts = [t for t in range(max(start, lookback), stop - horizon + 1)]
    X = np.array([scaled[t - lookback:t] for t in ts]).reshape(len(ts), lookback, scaled.shape[1])
    y = np.array([scaled[t:t + horizon, 0] for t in ts]).reshape(len(ts), horizon)
    return X, y, np.array(ts, dtype=int)


def fake_prepared(values, *, n_val, n_test, lookback=5, horizon=1, season=None, index=None,
                  inputs=None, frequency=None):
    """A small Prepared built the way data.prepare describes it."""
    values = np.asarray(values, dtype=float).reshape(len(values), -1)  # (T, F)
    T = len(values)
    n_train = T - n_val - n_test
    scaler = MinMax(values[:n_train])
    scaled = scaler.transform(values)  # (T, F)
    p = SimpleNamespace(
        values=values, scaled=scaled, scaler=scaler, n_train=n_train, n_val=n_val,
        n_test=n_test, lookback=lookback, horizon=horizon, season=season,
        index=index if index is not None else pd.date_range("2020-01-01", periods=T, freq="D"),
        inputs=inputs or [f"c{i}" for i in range(values.shape[1])],
        loaded=SimpleNamespace(frequency=frequency),
    )
    bounds = {"train": (0, n_train), "val": (n_train, n_train + n_val),
              "test": (n_train + n_val, T)}
    for split, (a, b) in bounds.items():
        X, y, t = windows(scaled, lookback, horizon, a, b)
        setattr(p, f"X_{split}", X)
        setattr(p, f"y_{split}", y)
        setattr(p, f"t_{split}", t)
    return p


def series(T=120, seed=0):
    rng = np.random.default_rng(seed)
    return 10 + np.sin(np.arange(T) * 2 * np.pi / 12) * 3 + rng.normal(0, 0.3, T)


def last_value(X):
    """The identity forecast in scaled units: the window's last target value."""
    return X[:, -1, :1]  # (n, 1)


# ---------------------------------------------------------------- metrics


@pytest.mark.parametrize("seed", range(5))
def test_metrics_match_plain_numpy(seed):
    rng = np.random.default_rng(seed)
    y = rng.uniform(5, 50, size=(30, 3))
    p = y + rng.normal(0, 2, size=y.shape)
    m = metrics(y, p)
    yf, pf = y.ravel(), p.ravel()
    assert m["rmse"] == pytest.approx(np.sqrt(((yf - pf) ** 2).mean()))
    assert m["mae"] == pytest.approx(np.abs(yf - pf).mean())
    assert m["mape"] == pytest.approx(100 * np.mean(np.abs((yf - pf) / yf)))
    r2 = 1 - ((yf - pf) ** 2).sum() / ((yf - yf.mean()) ** 2).sum()
    assert m["r2"] == pytest.approx(r2)
    assert m["n"] == 90 and m["mape_note"] is None


@pytest.mark.parametrize("actual, where", [
    ([1.0, -0.5, 2.0, 3.0], "cross zero"),
    ([-10.0, -0.4, -8.0], "come near zero"),  # 0.4 < 5 % of 10
    ([0.0, 0.0], "come near zero"),
])
def test_mape_is_refused_with_a_reason_when_actuals_cross_or_near_zero(actual, where):
    m = metrics(actual, np.asarray(actual) + 0.1)
    assert m["mape"] is None and m["rmse"] == pytest.approx(0.1)
    assert f"the actual values {where}" in m["mape_note"] and "RMSE or MAE" in m["mape_note"]


def test_mape_is_kept_for_series_well_away_from_zero():
    m = metrics([-10.0, -0.6, -8.0], [-11.0, -0.6, -8.0])
    assert m["mape"] == pytest.approx(100 * 0.1 / 3)


def test_r2_is_none_when_actuals_are_constant_and_perfect_fit_is_zero_error():
    m = metrics([3.0, 3.0, 3.0], [3.0, 3.0, 3.0])
    assert (m["rmse"], m["mae"], m["mape"], m["r2"]) == (0.0, 0.0, 0.0, None)


def test_metrics_refuse_mismatched_or_empty_input():
    with pytest.raises(ValueError, match="same number of values. Received: 3 and 2"):
        metrics([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="at least one value"):
        metrics([], [])


# ---------------------------------------------------------------- baselines


@pytest.mark.parametrize("horizon", [1, 4])
def test_naive_and_mean_baselines_match_a_loop(horizon):
    p = fake_prepared(series(), n_val=20, n_test=20, lookback=6, horizon=horizon)
    b = baselines(p, "test")
    target = p.values[:, 0]
    for i, t in enumerate(p.t_test):
        assert b["naive"][i].tolist() == [target[t - 1]] * horizon
    assert np.allclose(b["mean"], target[: p.n_train].mean())
    assert b["naive"].shape == b["mean"].shape == (len(p.t_test), horizon)
    assert "seasonal_naive" not in b


@pytest.mark.parametrize("horizon, season", [(1, 12), (5, 12), (7, 3)])
def test_seasonal_naive_matches_a_loop_and_only_reads_the_past(horizon, season):
    p = fake_prepared(series(), n_val=20, n_test=25, lookback=6, horizon=horizon, season=season)
    got = baselines(p, "test")["seasonal_naive"]
    target = p.values[:, 0]
    for i, t in enumerate(p.t_test):
        for h in range(horizon):
            row = t + h - season
            while row >= t:  # whole seasons back until the row was observed before t
                row -= season
            assert got[i, h] == target[row]


def test_seasonal_naive_is_skipped_with_a_reason_when_the_season_reaches_before_the_data():
    p = fake_prepared(series(60), n_val=10, n_test=10, lookback=4, season=12)
    ev = evaluate(p, last_value, "train")
    assert "seasonal_naive" not in ev.baselines
    assert "reaches back before the first row" in ev.baseline_notes["seasonal_naive"]
    assert "seasonal_naive" in evaluate(p, last_value, "test").baselines


# ---------------------------------------------------------------- evaluate


def test_last_value_predictor_has_skill_zero_and_equals_naive():
    p = fake_prepared(series(), n_val=20, n_test=20, lookback=6, season=12)
    ev = evaluate(p, last_value)
    assert isinstance(ev, Evaluation) and ev.kind == TEACHER_FORCED
    assert np.allclose(ev.predictions, ev.baselines["naive"], rtol=0, atol=1e-12)
    assert ev.skill_vs_naive == pytest.approx(0.0, abs=1e-12)
    assert ev.verdict.startswith("The model's error is about the same as the naive forecast's")
    assert set(ev.metrics) == {"model", "naive", "seasonal_naive", "linear_ar", "mean"}


def test_perfect_predictor_in_scaled_units_comes_back_in_original_units():
    p = fake_prepared(series(), n_val=20, n_test=20, lookback=6, horizon=3)
    lookup = {x.tobytes(): y for x, y in zip(p.X_test, p.y_test)}
    ev = evaluate(p, lambda X: np.array([lookup[x.tobytes()] for x in X]))
    rows = p.t_test[:, None] + np.arange(3)
    assert np.allclose(ev.actual, p.values[rows, 0], rtol=0, atol=0)
    assert np.allclose(ev.predictions, ev.actual, atol=1e-9)
    assert ev.metrics["model"]["rmse"] == pytest.approx(0, abs=1e-9)
    assert ev.skill_vs_naive == pytest.approx(1.0)
    assert ev.verdict.endswith("100 % better than repeating the last value.")
    assert ev.kind == "3 steps at once from real inputs (teacher forced)"


def test_actuals_come_from_the_raw_values_not_from_the_scaled_windows():
    p = fake_prepared(series(), n_val=20, n_test=20, lookback=6)
    ev = evaluate(p, last_value)
    assert ev.actual[:, 0].tolist() == p.values[p.t_test, 0].tolist()
    assert list(ev.timestamps) == list(p.index[p.t_test])


@pytest.mark.parametrize("scale, expected", [
    (1.8, "The model's error is 1.8× the naive forecast's: it does worse than repeating the "
          "last value."),
    (0.6, "The model's error is 0.6× the naive forecast's: 40 % better than repeating the "
          "last value."),
    (1.003, "The model's error is about the same as the naive forecast's (1×): it does no "
            "better than repeating the last value."),
    (0.97, "The model's error is 0.97× the naive forecast's: 3 % better than repeating the "
           "last value."),
    (12.4, "The model's error is 12× the naive forecast's: it does worse than repeating the "
           "last value."),
])
def test_verdict_in_plain_words(scale, expected):
    """A predictor whose error is exactly `scale` times the naive error."""
    p = fake_prepared(series(), n_val=20, n_test=20, lookback=6)
    target_scale = p.scaler.hi[0] - p.scaler.lo[0]

    def predict(X):
        y = (p.values[p.t_test, 0] - p.scaler.lo[0]) / target_scale  # (n,) true, scaled
        return (y + scale * (X[:, -1, 0] - y))[:, None]

    ev = evaluate(p, predict)
    assert ev.skill_vs_naive == pytest.approx(1 - scale)
    assert ev.verdict == expected


def test_to_frame_has_one_row_per_predicted_value():
    p = fake_prepared(series(), n_val=20, n_test=20, lookback=6, horizon=2, season=12)
    ev = evaluate(p, lambda X: np.repeat(X[:, -1, :1], 2, axis=1))
    frame = ev.to_frame()
    n = len(p.t_test)
    assert list(frame.columns) == ["timestamp", "origin", "step", "actual", "model", "naive",
                                   "seasonal_naive", "linear_ar", "mean"]
    assert len(frame) == n * 2 and frame["step"].tolist()[:4] == [1, 2, 1, 2]
    assert frame["timestamp"].iloc[1] == p.index[p.t_test[0] + 1]
    assert frame["origin"].iloc[0] == p.index[p.t_test[0] - 1]
    assert np.allclose(frame["model"], frame["naive"])
    assert len(ev.rmse_by_step()["model"]) == 2
    assert ev.summary()["skill_vs_naive"] == pytest.approx(0.0, abs=1e-12)


def test_unknown_or_empty_split_is_refused_with_what_to_do():
    p = fake_prepared(series(), n_val=0, n_test=20, lookback=6)
    with pytest.raises(ConfigError, match="split must be one of train, val, test. Received: split='dev'"):
        evaluate(p, last_value, "dev")
    with pytest.raises(DataError, match="validation part has no windows.*val_fraction"):
        evaluate(p, last_value, "val")


def test_a_predict_fn_with_the_wrong_shape_is_a_bug_reported_with_shapes():
    p = fake_prepared(series(), n_val=20, n_test=20, lookback=6, horizon=2)
    with pytest.raises(ValueError, match=r"return 19 × 2 values for 19 windows and horizon 2. "
                                         r"Received: shape \(19, 1\)"):
        evaluate(p, last_value)


# ---------------------------------------------------------------- free-running


def ar_predict(weights):
    """A linear autoregression on the window's target column, horizon len(weights[0])."""
    w = np.asarray(weights, dtype=float)  # (H, L)

    def predict(X):
        return X[:, :, 0] @ w.T  # (n, H)
    return predict


@pytest.mark.parametrize("horizon, steps", [(1, 9), (3, 7)])
def test_free_running_feeds_predictions_back_like_a_loop(horizon, steps):
    L = 4
    p = fake_prepared(series(), n_val=20, n_test=20, lookback=L, horizon=horizon)
    rng = np.random.default_rng(1)
    w = rng.uniform(0, 0.5, size=(horizon, L))
    start = p.n_train + 3
    traj = free_running(p, ar_predict(w), start, steps)

    history = list(p.scaled[start - L:start, 0])
    while len(history) < L + steps:
        history.extend((w @ np.array(history[-L:]))[: L + steps - len(history)])
    expected = p.scaler.inverse_target(np.array(history[L:]))
    assert np.allclose(traj.values, expected)
    assert traj.kind == FREE_RUNNING and traj.note is None and len(traj) == steps
    assert np.array_equal(np.asarray(traj), traj.values)
    assert traj.actual.tolist() == p.values[start:start + steps, 0].tolist()
    assert list(traj.index) == list(p.index[start:start + steps])


def test_free_running_holds_other_inputs_at_their_last_known_values():
    rng = np.random.default_rng(2)
    values = np.column_stack([series(), rng.normal(size=120), rng.normal(size=120)])
    p = fake_prepared(values, n_val=20, n_test=20, lookback=5, inputs=["y", "rain", "wind"])
    seen = []

    def predict(X):
        seen.append(X[0].copy())
        return X[:, -1, :1] * 0.9

    start = 100
    traj = free_running(p, predict, start, 8)
    assert "rain, wind is unknown" in traj.note and "last known values" in traj.note
    last_known = p.scaled[start - 1, 1:]
    assert np.allclose(seen[-1][:, 1:], last_known)  # every fed-back row holds them
    assert np.allclose(seen[0], p.scaled[start - 5:start])  # the seed is the real window


def test_forecast_beyond_continues_the_dates_and_runs_past_the_data():
    p = fake_prepared(series(), n_val=20, n_test=20, lookback=6)
    index, values = forecast_beyond(p, last_value, 5)
    assert list(index) == list(pd.date_range("2020-04-30", periods=5, freq="D"))
    assert np.allclose(values, p.values[-1, 0])  # the last value, held
    traj = free_running(p, last_value, len(p.values) - 2, 4)
    assert np.isnan(traj.actual[2:]).all() and not np.isnan(traj.actual[:2]).any()
    assert traj.index[2] == pd.Timestamp("2020-04-30")


def test_future_index_uses_the_loaders_frequency_months_and_plain_positions():
    months = pd.date_range("1949-01-01", periods=60, freq="MS")
    p = fake_prepared(series(60), n_val=6, n_test=6, index=pd.DatetimeIndex(list(months)),
                      frequency="MS")
    assert list(future_index(p, 2)) == [pd.Timestamp("1954-01-01"), pd.Timestamp("1954-02-01")]
    q = fake_prepared(series(60), n_val=6, n_test=6, index=pd.RangeIndex(60))
    assert list(forecast_beyond(q, last_value, 3)[0]) == [60, 61, 62]


def test_future_index_falls_back_to_the_usual_gap_when_dates_are_irregular():
    days = pd.DatetimeIndex(["2020-01-01", "2020-01-02", "2020-01-05", "2020-01-06",
                             "2020-01-07", "2020-01-08"])
    p = fake_prepared(series(6), n_val=1, n_test=1, lookback=2, index=days)
    assert list(future_index(p, 2)) == [pd.Timestamp("2020-01-09"), pd.Timestamp("2020-01-10")]


def test_free_running_refuses_a_start_without_a_full_seed_window():
    p = fake_prepared(series(), n_val=20, n_test=20, lookback=6)
    with pytest.raises(ConfigError, match=r"start_row must be a whole number in \[6, 120\]. "
                                          r"Received: start_row=3"):
        free_running(p, last_value, 3, 5)
    with pytest.raises(ConfigError, match="steps must be a whole number"):
        free_running(p, last_value, 50, 0)


def test_evaluate_imports_no_tensorflow():
    code = ("import sys, rnnlab.evaluate\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_diverged_model_gets_no_skill_and_says_why():
    p = fake_prepared(series(), n_val=20, n_test=20, lookback=6)
    ev = evaluate(p, lambda X: np.full((len(X), 1), np.nan))
    assert ev.skill_vs_naive is None and "diverged" in ev.verdict
    assert np.isnan(ev.metrics["model"]["rmse"]) and ev.metrics["naive"]["rmse"] > 0


def test_on_the_apps_own_prepared_data():
    from rnnlab import data
    from rnnlab.config import DataConfig

    p = data.prepare(DataConfig(source="noisy_sine.csv"), 10, 1)
    ev = evaluate(p, lambda X: X[:, -1, :1])
    assert ev.skill_vs_naive == pytest.approx(0.0, abs=1e-9)
    assert "seasonal_naive" in ev.baselines  # the sample's season (50 days)
    assert ev.metrics["model"]["mape"] is None  # a sine crosses zero
    g = data.prepare(DataConfig(source="google_stock_price_train.csv", target="Open",
                                test_source="google_stock_price_test.csv", val_fraction=0.0), 60, 1)
    ev = evaluate(g, lambda X: X[:, -1, :1])
    assert len(ev.actual) == 20 and ev.metrics["model"]["mape"] is not None
    index, values = forecast_beyond(g, lambda X: X[:, -1, :1], 4)
    assert [d.strftime("%a %d") for d in index] == ["Wed 01", "Thu 02", "Fri 03", "Mon 06"]
    assert values == pytest.approx([g.values[-1, 0]] * 4)


def test_headline_names_the_best_baseline_and_still_shows_naive():
    from rnnlab.evaluate import best_baseline, headline

    scores = {"model": {"rmse": 8.0}, "naive": {"rmse": 10.0}, "linear_ar": {"rmse": 9.0},
              "mean": {"rmse": 50.0}}
    assert best_baseline(scores) == "linear_ar"
    assert headline(scores, "linear_ar") == (
        "The model beats the best baseline, linear autoregression: its error is 11 % lower. "
        "Compared with repeating the last value, its error is 20 % lower.")
    scores["model"]["rmse"] = 12.0
    assert headline(scores, "linear_ar") == (
        "The model loses to the best baseline, linear autoregression: its error is 1.33× that "
        "baseline's. Compared with repeating the last value, its error is 1.2× as large.")
    scores["model"]["rmse"] = 9.98
    assert headline(scores, "linear_ar").endswith("It is about as good as repeating the last value.")
    tie = {"model": {"rmse": 1.0}, "naive": {"rmse": 2.0}, "seasonal_naive": {"rmse": 2.0}}
    assert best_baseline(tie) == "naive"          # naive wins a tie
    assert headline(tie, "naive") == ("The model beats the best baseline, naive (last value): its "
                                      "error is 50 % lower.")


def test_linear_ar_matches_numpy_least_squares_on_its_windows():
    from rnnlab.evaluate import linear_ar

    rng = np.random.default_rng(0)
    y = np.zeros(300)
    for t in range(2, 300):                      # an AR(2) process
        y[t] = 0.6 * y[t - 1] - 0.3 * y[t - 2] + rng.normal()
    p = fake_prepared(y[:, None] + 10, n_val=30, n_test=30, lookback=2)
    fit = linear_ar(p)
    # oracle: the normal equations solved by hand in float64 on the same rows
    X = np.column_stack([p.X_train[:, :, 0], np.ones(len(p.X_train))])
    coef = np.linalg.solve(X.T @ X, X.T @ p.y_train[:, 0])
    expected = np.column_stack([p.X_test[:, :, 0], np.ones(len(p.X_test))]) @ coef
    np.testing.assert_allclose(fit(p.X_test)[:, 0], expected, rtol=1e-8, atol=1e-10)


# -- scores of a free-running path --------------------------------------------------------------
def test_path_scores_match_numpy_on_the_known_steps_and_skip_incomplete_columns():
    rng = np.random.default_rng(5)
    actual = rng.normal(10, 2, 30)
    actual[-4:] = np.nan                                   # past the end of the data
    rows = pd.DataFrame({"actual": actual, "model": actual + rng.normal(0, 1, 30),
                         "naive": np.full(30, 9.0), "linear_ar": actual + 0.5,
                         "seasonal_naive": np.r_[np.full(20, 8.0), np.full(10, np.nan)],
                         "mystery": np.zeros(30)})
    scores = path_scores(rows)
    assert set(scores) == {"model", "naive", "linear_ar"}  # seasonal naive has gaps; not ours
    known = ~np.isnan(actual)
    for name in scores:
        err = rows[name].to_numpy()[known] - actual[known]
        assert scores[name]["rmse"] == pytest.approx(np.sqrt(np.mean(err ** 2)), rel=1e-12)
        assert scores[name]["mae"] == pytest.approx(np.mean(np.abs(err)), rel=1e-12)
        assert scores[name]["n"] == 26
    assert scores["linear_ar"]["rmse"] == pytest.approx(0.5)
    assert best_baseline(scores) == "linear_ar"


def test_forecast_beyond_reads_the_known_future_of_the_other_inputs_then_holds_its_last_row():
    """A plain loop twin: each fed-back row is the forecast and the file's next input values
    (scaled as the training rows were), the last given row held after them."""
    rng = np.random.default_rng(3)
    values = np.column_stack([series(), rng.normal(size=120), rng.normal(size=120)])   # (120, 3)
    p = fake_prepared(values, n_val=20, n_test=20, lookback=5, inputs=["y", "rain", "wind"])
    p.future_inputs = rng.normal(size=(3, 2))                                          # raw units
    w = rng.normal(size=(5, 3))

    def predict(X):
        return np.einsum("nlf,lf->n", X, w)[:, None]

    steps = 7
    _, got = forecast_beyond(p, predict, steps)
    lo, hi = values[:80].min(axis=0), values[:80].max(axis=0)
    ahead = (p.future_inputs - lo[1:]) / (hi[1:] - lo[1:])                           # (3, 2)
    window, want = [row for row in p.scaled[-5:]], []
    for s in range(steps):
        y = float(np.sum(np.array(window[-5:]) * w))
        want.append(y * (hi[0] - lo[0]) + lo[0])
        window.append(np.r_[y, ahead[min(s, 2)]])
    np.testing.assert_allclose(got, want, rtol=1e-10)
    held = free_running(p, predict, 100, 4)              # inside the data: no future given
    assert "unknown" in held.note
    given = free_running(p, predict, len(values), 4, p.future_inputs)
    assert "gives rain, wind for the first 3 steps" in given.note
    p.future_inputs = None                                 # none given: the last row is held
    _, plain = forecast_beyond(p, predict, 2)
    assert not np.allclose(plain, got[:2])
