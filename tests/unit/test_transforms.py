"""Target transforms invert exactly: one-step, horizon H, free-running and past the data's end.

The oracle is the data itself: a "model" that outputs the true future in model space must give
back the actual values, for every transform, window and horizon. The model-space truth is built
here from the definitions in plain loops (not with the code under test): z[t] = y[t] − y[t−1],
y[t] − y[t−m], log y[t], and (y[t+h] − y[t−1]) / step for the relative transform.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnlab import transforms
from rnnlab.config import DataConfig, TRANSFORMS
from rnnlab.data import prepare
from rnnlab.errors import ConfigError, DataError
from rnnlab.evaluate import evaluate, forecast_beyond, free_running
from rnnlab.transforms import TargetTransform


def write_series(path, values) -> str:
    """A daily CSV of the values; returns its path."""
    dates = pd.date_range("2020-01-01", periods=len(values), freq="D")
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "y": values}).to_csv(path, index=False)
    return str(path)


def model_space_truth(kind: str, y: np.ndarray, t: int, H: int, m: int, scaler, step: float):
    """What a perfect model outputs for the window predicting rows t..t+H−1, by the definitions."""
    out = []
    for h in range(H):
        r = t + h
        if kind == "difference":
            z = y[r] - y[r - 1]
        elif kind == "seasonal_difference":
            z = y[r] - y[r - m]
        elif kind == "log":
            z = np.log(y[r])
        elif kind == "relative":
            out.append((y[r] - y[t - 1]) / step)
            continue
        else:
            z = y[r]
        out.append((z - scaler.offset[0]) / scaler.scale[0])
    return np.array(out)


def truth_for(prepared, kind, y, m, rows):
    """The perfect model's outputs (n, H) for windows whose first predicted rows are `rows`."""
    step = prepared.scaler.scale[0]
    return np.stack([model_space_truth(kind, y, t, prepared.horizon, m, prepared.scaler, step)
                     for t in rows])


def perfect_model(prepared, kind, y, m):
    """Teacher forced: answers the test windows, which evaluate passes in the order of t_test
    (the windows are checked to be exactly those)."""
    def predict(X):
        np.testing.assert_array_equal(X, prepared.X_test)
        return truth_for(prepared, kind, y, m, prepared.t_test)
    return predict


def perfect_runner(prepared, kind, y, m, start):
    """Free-running: the k-th call predicts rows start + k·H onwards (the documented protocol);
    each window it is given must equal the true model-space window, checked here."""
    calls = []

    def predict(X):
        t = start + len(calls) * prepared.horizon
        calls.append(t)
        np.testing.assert_allclose(X[0], _model_window_of(prepared, kind, y, m, t), atol=1e-9)
        return truth_for(prepared, kind, y, m, [t])
    return predict


def _model_window_of(prepared, kind, y, m, t):
    """The model-space window before row t, from the definitions (not from prepared.scaled)."""
    L, sc = prepared.lookback, prepared.scaler
    rows = np.arange(t - L, t)
    if kind == "relative":
        return ((y[rows] - y[t - 1]) / sc.scale[0])[:, None]
    z = {"difference": lambda r: y[r] - y[r - 1], "seasonal_difference": lambda r: y[r] - y[r - m],
         "log": lambda r: np.log(y[r])}.get(kind, lambda r: y[r])(rows)
    return ((z - sc.offset[0]) / sc.scale[0])[:, None]


series = st.lists(st.floats(0.5, 50.0, allow_nan=False), min_size=60, max_size=90)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=series, kind=st.sampled_from(TRANSFORMS), horizon=st.integers(1, 6),
       lookback=st.integers(1, 8), season=st.integers(2, 5))
def test_every_transform_inverts_exactly(tmp_path_factory, values, kind, horizon, lookback, season):
    y = np.cumsum(values)                        # rising and positive: log works too
    path = write_series(tmp_path_factory.mktemp("s") / "s.csv", y)
    cfg = DataConfig(source=path, transform=kind, season=season, val_fraction=0.15,
                     test_fraction=0.2)
    prepared = prepare(cfg, lookback, horizon)
    y = prepared.values[:, 0]
    predict = perfect_model(prepared, kind, y, season)
    ev = evaluate(prepared, predict, "test")
    np.testing.assert_allclose(ev.predictions, ev.actual, rtol=1e-9, atol=1e-9)
    # free-running over the whole test part: fed its own (perfect) outputs, it stays exact
    start = prepared.n_train + prepared.n_val
    steps = (len(y) - start) // horizon * horizon     # every call's future lies inside the data
    traj = free_running(prepared, perfect_runner(prepared, kind, y, season, start), start, steps)
    np.testing.assert_allclose(traj.values, y[start:start + steps], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kind", TRANSFORMS)
def test_forecast_past_the_end_continues_from_the_last_values(tmp_path, kind):
    """A model that predicts 'no change' in model space forecasts what each transform implies."""
    y = 10 + np.arange(80, dtype=float) % 7          # a weekly pattern, positive
    cfg = DataConfig(source=write_series(tmp_path / "w.csv", y), transform=kind, season=7)
    prepared = prepare(cfg, 14, 1)
    zero = (0.0 - prepared.scaler.offset[0]) / prepared.scaler.scale[0]   # z = 0 in series space
    if kind == "relative":
        zero = 0.0                                                     # "same as the last value"
    _, values = forecast_beyond(prepared, lambda X: np.full((len(X), 1), zero), 10)
    if kind == "difference" or kind == "relative":
        expected = np.full(10, y[-1])                                  # no change: the last value
    elif kind == "seasonal_difference":
        expected = np.array([y[len(y) - 7 + (h % 7)] for h in range(10)])   # the last week again
    elif kind == "log":
        expected = np.full(10, 1.0)                                    # exp(0)
    else:
        expected = np.zeros(10)
    np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-12)


def test_difference_windows_start_after_the_first_row(tmp_path):
    y = np.arange(1.0, 41.0) ** 1.5
    none = prepare(DataConfig(source=write_series(tmp_path / "a.csv", y)), 5, 1)
    diff = prepare(DataConfig(source=write_series(tmp_path / "b.csv", y), transform="difference"), 5, 1)
    assert diff.t_train[0] == none.t_train[0] + 1 == 6
    assert not np.isnan(diff.X_train).any() and not np.isnan(diff.scaled).any()
    # scaling is fitted on the transformed training rows: minmax of the differences is [0, 1]
    z = np.diff(y)[: diff.n_train - 1]
    assert diff.scaler.offset[0] == pytest.approx(z.min())
    assert diff.scaler.scale[0] == pytest.approx(z.max() - z.min())


def test_relative_windows_end_at_zero_and_use_the_step_size(tmp_path):
    y = np.cumsum(np.random.default_rng(0).normal(size=120)) + 50
    p = prepare(DataConfig(source=write_series(tmp_path / "r.csv", y), transform="relative"), 10, 2)
    assert np.all(p.X_train[:, -1, 0] == 0.0)
    train = p.values[: p.n_train, 0]
    assert p.scaler.scale[0] == pytest.approx(np.std(np.diff(train)))


def test_log_refuses_values_at_or_below_zero_and_says_what_to_do(tmp_path):
    y = np.linspace(-1, 5, 50)
    with pytest.raises(DataError) as err:
        prepare(DataConfig(source=write_series(tmp_path / "l.csv", y), transform="log"), 5, 1)
    assert "The log transform needs values above 0, but y has 9 value(s) at or below 0" in str(err.value)
    assert "Use the difference transform instead." in str(err.value)


def test_seasonal_difference_needs_a_season():
    with pytest.raises(ConfigError, match="needs a season"):
        DataConfig(transform="seasonal_difference")
    with pytest.raises(ConfigError, match="transform must be one of none, difference"):
        DataConfig(transform="box-cox")
    with pytest.raises(ConfigError, match="season of at least 2"):
        TargetTransform("seasonal_difference", None)


def test_a_short_series_names_the_rows_the_transform_uses(tmp_path):
    y = np.arange(1.0, 31.0)
    cfg = DataConfig(source=write_series(tmp_path / "s.csv", y), transform="seasonal_difference",
                     season=12)
    with pytest.raises(DataError) as err:
        prepare(cfg, 12, 1)
    assert "seasonal difference transform uses up the first 12 row(s)" in str(err.value)


def test_invert_matches_a_plain_loop_for_seasonal_horizons_past_one_season():
    rng = np.random.default_rng(3)
    y = rng.normal(size=40)
    z = rng.normal(size=(3, 9))
    t = np.array([10, 15, 20])
    m = 4
    out = TargetTransform("seasonal_difference", m).invert(z, t, y)
    for i, ti in enumerate(t):
        known = list(y[:ti])
        for h in range(9):
            known.append(known[ti + h - m] + z[i, h])
        np.testing.assert_allclose(out[i], known[ti:], rtol=0, atol=1e-12)


def test_objects_without_a_transform_are_read_as_none():
    class Bare:
        values = np.arange(10.0)[:, None]
        scaled = values / 10
        scaler = type("S", (), {"inverse_target": staticmethod(lambda a: np.asarray(a) * 10)})()
    out = transforms.to_original(Bare(), np.array([[0.5]]), np.array([5]))
    assert out.tolist() == [[5.0]]
