"""Split-conformal intervals: the quantile against a plain loop, coverage on a long series with
known Gaussian noise, and the batched free-running roll against a one-origin loop."""

import math

import numpy as np
import pytest

from rnnlab import intervals
from rnnlab.evaluate import linear_ar, roll
from rnnlab.transforms import to_original
from test_evaluate import ar_predict, fake_prepared, series


def plain_half_width(errors, level):
    """The smallest |error| q with at least ⌈(n + 1)·level⌉ errors <= q, by a loop; inf if none."""
    e = [abs(x) for x in errors]
    need = math.ceil((len(e) + 1) * level)
    for q in sorted(e):
        if sum(1 for x in e if x <= q) >= need:
            return q
    return float("inf")


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("level", [0.5, 0.8, 0.9, 0.95])
def test_half_width_is_the_conformal_quantile_of_a_plain_loop(seed, level):
    rng = np.random.default_rng(seed)
    errors = rng.normal(0, 1 + seed, size=int(rng.integers(1, 60)))
    assert intervals.half_width(errors, level) == plain_half_width(errors, level)


def test_too_few_errors_give_no_finite_interval_and_the_minimum_is_exact():
    for level in (0.8, 0.95):
        n = intervals.min_errors(level)
        assert math.isinf(intervals.half_width(np.ones(n - 1), level))
        assert intervals.half_width(np.ones(n), level) == 1.0
    assert intervals.min_errors(0.8) == 4 and intervals.min_errors(0.95) == 19
    with pytest.raises(ValueError):
        intervals.half_width([1.0, 2.0], 1.0)


def test_nan_errors_are_left_out():
    assert intervals.half_width([np.nan, 1, 2, 3, 4, np.nan], 0.8) == 4


def test_widths_past_the_measured_steps_carry_the_last_one():
    widths, measured = intervals.carried(np.array([1.0, 2.0, 3.0, np.inf, np.inf]))
    assert widths.tolist() == [1, 2, 3, 3, 3] and measured == 3
    widths, measured = intervals.carried(np.full(3, np.inf))
    assert measured == 0 and np.isinf(widths).all()


def test_a_free_running_width_never_narrows_with_the_step():
    """Fewer trajectories reach the later steps: a narrower width there is noise, not a promise
    that the tenth forecast fed on forecasts is surer than the first."""
    widths, measured = intervals.carried(np.array([6.8, 6.6, 1.7, 1.8, np.inf, np.inf]))
    assert widths.tolist() == [6.8, 6.8, 6.8, 6.8, 6.8, 6.8] and measured == 4
    fitted = intervals.fit(np.zeros((30, 1)), np.array([[3.0, 1.0], [3.0, 1.0], [3.0, 1.0],
                                                        [3.0, 1.0], [3.0, 1.0]]),
                           steps=3, levels=(0.8,))
    assert fitted.free_running[0.8].tolist() == [3.0, 3.0, 3.0]


def ar1(T, phi=0.7, sigma=1.0, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros(T)
    for t in range(1, T):
        x[t] = phi * x[t - 1] + rng.normal(0, sigma)
    return x + 50


@pytest.mark.parametrize("level", [0.8, 0.95])
def test_one_step_intervals_cover_their_level_on_a_long_gaussian_series(level):
    """Gaussian AR(1) noise, a least-squares model from the training rows, intervals from the
    validation rows: on 6000 test rows the coverage is within ±5 points of the level."""
    p = fake_prepared(ar1(12000), n_val=2000, n_test=6000, lookback=3)
    predict = linear_ar(p)
    val_err = to_original(p, predict(p.X_val), p.t_val) - p.values[p.t_val, :1]       # (n, 1)
    fitted = intervals.fit(val_err, np.empty((0, 0)), steps=1, levels=(level,))
    width = fitted.one_step[level][0]
    # the true one-step error is N(0, 1): the width is near its quantile
    assert width == pytest.approx({0.8: 1.2816, 0.95: 1.96}[level], rel=0.1)
    guess = to_original(p, predict(p.X_test), p.t_test)[:, 0]
    actual = p.values[p.t_test, 0]
    covered = intervals.coverage(actual, guess - width, guess + width)
    assert abs(covered - level) <= 0.05


@pytest.mark.parametrize("level", [0.8, 0.95])
def test_free_running_intervals_widen_with_the_step_and_cover_their_level(level, monkeypatch):
    """Free running from validation rows: the width grows with the step like the AR(1)'s
    k-step error, and trajectories from test rows are covered at the level, step by step."""
    monkeypatch.setattr(intervals, "MAX_ORIGINS", 1500)     # every validation row: less noise
    phi = 0.7
    p = fake_prepared(ar1(9000, phi=phi), n_val=1500, n_test=3000, lookback=1)
    predict = linear_ar(p)
    steps = 8
    errors = intervals.free_running_errors(p, predict, max_steps=steps)
    assert errors.shape == (1500, steps)
    fitted = intervals.fit(np.zeros((30, 1)), errors, steps=steps, levels=(level,))
    widths = fitted.free_running[level]
    assert widths[-1] > widths[0] * 1.2
    z = {0.8: 1.2816, 0.95: 1.96}[level]
    k_step_sd = np.sqrt(np.cumsum(phi ** (2 * np.arange(steps))))                # (steps,)
    assert np.allclose(widths, z * k_step_sd, rtol=0.12)
    origins = np.arange(p.n_train + p.n_val, len(p.values) - steps, 7)         # test rows only
    guess = roll(p, predict, origins, steps)
    actual = p.values[origins[:, None] + np.arange(steps), 0]
    for k in range(steps):
        covered = intervals.coverage(actual[:, k], guess[:, k] - widths[k], guess[:, k] + widths[k])
        assert abs(covered - level) <= 0.06, (k, covered)


def test_free_running_errors_never_read_test_rows():
    p = fake_prepared(series(200), n_val=30, n_test=40, lookback=4)
    before = intervals.free_running_errors(p, ar_predict([[0.1, 0.2, 0.3, 0.4]]), max_steps=50)
    p.values[p.n_train + p.n_val:] = 1e9                       # the test part changes wildly
    after = intervals.free_running_errors(p, ar_predict([[0.1, 0.2, 0.3, 0.4]]), max_steps=50)
    assert np.array_equal(np.isnan(before), np.isnan(after))
    assert np.allclose(before[np.isfinite(before)], after[np.isfinite(after)])
    assert before.shape[1] == 30 and np.isfinite(before[0]).all()   # the first origin: all 30


@pytest.mark.parametrize("horizon", [1, 3])
def test_roll_from_many_origins_equals_a_loop_per_origin(horizon):
    L, steps = 4, 7
    p = fake_prepared(series(), n_val=20, n_test=20, lookback=L, horizon=horizon)
    w = np.random.default_rng(2).uniform(0, 0.5, size=(horizon, L))
    starts = np.array([L, p.n_train, p.n_train + 5, len(p.values) - 2])
    got = roll(p, ar_predict(w), starts, steps)
    for i, start in enumerate(starts):
        history = list(p.scaled[start - L:start, 0])
        while len(history) < L + steps:
            history.extend((w @ np.array(history[-L:]))[: L + steps - len(history)])
        assert np.allclose(got[i], p.scaler.inverse_target(np.array(history[L:])))


def test_the_summary_is_json_ready_per_level():
    fitted = intervals.fit(np.arange(40.0).reshape(20, 2), np.ones((30, 5)), steps=7)
    s = fitted.summary()
    assert set(s["levels"]) == {"80", "95"}
    assert len(s["levels"]["80"]["one_step"]) == 2
    assert len(s["levels"]["95"]["free_running"]) == 7
    assert s["levels"]["95"]["free_running_measured"] == 5 and s["n_origins"] == 30


def test_the_coverage_sentence_says_what_covered_and_what_needs_more_rows():
    summary = {"intervals": {"n_one_step": 14, "levels": {
        "80": {"level": 0.8, "one_step": [12.34], "coverage_one_step": 0.786,
               "coverage_free_running": 0.5},
        "95": {"level": 0.95, "one_step": [None], "coverage_one_step": None}}}}
    assert intervals.coverage_sentence(summary) == (
        "Prediction intervals from the validation rows: the 80 % interval (±12.3 one step ahead) "
        "covered 79 % of the test values one step ahead and 50 % free running; a 95 % interval "
        "needs 19 validation windows (14 here).")
    assert intervals.coverage_sentence({}) == ""
