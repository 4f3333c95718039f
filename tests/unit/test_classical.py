"""The classical anchor (ETS): known answers, hand-written recursions as oracles, no peeking."""

import importlib.util
import sys

import numpy as np
import pytest

from rnnlab import classical
from rnnlab.classical import ClassicalUnavailable, EtsSpec, anchor, one_step
from rnnlab.errors import ConfigError, RnnlabError

pytestmark = pytest.mark.classical
# Skip, not fail, where the optional extra is missing (`make test` installs it).
needs_statsmodels = pytest.mark.skipif(importlib.util.find_spec("statsmodels") is None,
                                       reason='needs the extra: pip install "rnnlab[classical]"')


def random_walk(n=300, seed=0):
    """A level that wanders: 100 + cumulative N(0, 1) steps, (n,)."""
    return 100.0 + np.cumsum(np.random.default_rng(seed).normal(size=n))


def seasonal_series(n=144, m=12, seed=0):
    """A level, a season of m rows and noise, (n,)."""
    t = np.arange(n)
    noise = np.random.default_rng(seed).normal(0.0, 1.0, n)
    return 50.0 + 10.0 * np.sin(2 * np.pi * t / m) + noise


def ses_oracle(y, alpha, level):
    """Simple exponential smoothing, plain loop in float64: prediction t reads y[:t] only."""
    pred = np.empty(len(y))
    for t, value in enumerate(y):
        pred[t] = level
        level = level + alpha * (value - level)
    return pred


def additive_season_oracle(y, alpha, gamma, level, seasons_back):
    """ETS(A,N,A), plain loop: ŷ_t = l_{t-1} + s_{t-m}; seasons_back = [s_{-m}, ..., s_{-1}]."""
    s = list(seasons_back)
    pred = np.empty(len(y))
    for t, value in enumerate(y):
        pred[t] = level + s[t]
        error = value - pred[t]
        level = level + alpha * error
        s.append(s[t] + gamma * error)
    return pred


@needs_statsmodels
def test_a_straight_line_is_predicted_almost_exactly():
    t = np.arange(200, dtype=float)
    line = 10.0 + 0.5 * t
    y = line + np.random.default_rng(3).normal(0.0, 1e-3, 200)
    rows = np.arange(150, 200)
    name, pred = anchor(y, 150, rows, None)
    assert name.startswith("ETS(A,A")
    assert pred.shape == (50,)
    assert np.max(np.abs(pred - line[rows])) < 0.02     # the step is 0.5


@needs_statsmodels
def test_simple_exponential_smoothing_matches_a_hand_written_recursion():
    y = random_walk()
    rows = np.arange(240, 300)
    fit, pred = one_step(y, 240, rows, EtsSpec())
    expected = ses_oracle(y, fit.smoothing_level, fit.initial_level)
    np.testing.assert_allclose(pred, expected[rows], rtol=1e-10)


@needs_statsmodels
def test_an_additive_season_matches_a_hand_written_recursion():
    y = seasonal_series()
    rows = np.arange(120, 144)
    fit, pred = one_step(y, 120, rows, EtsSpec(seasonal="add", season=12))
    back = fit.initial_seasonal          # oldest first: s_{-12} .. s_{-1}, as in its initial_state
    expected = additive_season_oracle(y, fit.smoothing_level, fit.smoothing_seasonal,
                                      fit.initial_level, back)
    np.testing.assert_allclose(pred, expected[rows], rtol=1e-10)


@needs_statsmodels
@pytest.mark.parametrize("m", [12, 40])   # 40: longer than MAX_ETS_SEASON, so STL + ETS
def test_a_prediction_never_reads_the_value_it_predicts(m):
    y = seasonal_series(n=10 * m, m=m)
    n_fit = 8 * m
    rows = np.arange(n_fit, 10 * m)
    name, before = anchor(y, n_fit, rows, m)
    r = n_fit + m // 2
    changed = y.copy()
    changed[r] += 1000.0
    _, after = anchor(changed, n_fit, rows, m)
    k = r - n_fit
    assert after[k] == before[k]                          # row r's own value is not read
    np.testing.assert_array_equal(after[:k], before[:k])  # nor by earlier rows
    assert not np.allclose(after[k + 1:], before[k + 1:])  # later rows do read it
    assert (m > classical.MAX_ETS_SEASON) == name.startswith(f"STL season {m} + ETS(")


@needs_statsmodels
def test_rows_after_the_last_asked_one_are_never_read():
    y = random_walk()
    rows = np.arange(250, 260)
    _, short = anchor(y[:260], 240, rows, None)
    _, full = anchor(y, 240, rows, None)
    np.testing.assert_array_equal(short, full)


def test_a_season_is_used_only_with_two_whole_cycles_to_fit():
    assert classical.usable_season(12, 24) == 12
    assert classical.usable_season(12, 23) is None
    assert classical.usable_season(None, 500) is None
    assert classical.usable_season(1, 500) is None


def test_multiplicative_seasons_are_tried_only_on_positive_data():
    y = seasonal_series()
    assert any(s.seasonal == "mul" for s in classical.candidates(y, 12))
    assert not any(s.seasonal == "mul" for s in classical.candidates(y - 100.0, 12))
    assert [s.label for s in classical.candidates(y, None)] == [
        "ETS(A,N,N)", "ETS(A,A,N)", "ETS(A,Ad,N)"]


@needs_statsmodels
def test_a_seasonal_series_gets_a_seasonal_model_that_beats_seasonal_naive():
    y = seasonal_series(n=240)
    rows = np.arange(192, 240)
    name, pred = anchor(y, 192, rows, 12)
    assert name.endswith(", season 12")
    rmse = np.sqrt(np.mean((pred - y[rows]) ** 2))
    seasonal_naive = np.sqrt(np.mean((y[rows - 12] - y[rows]) ** 2))
    assert rmse < seasonal_naive


@needs_statsmodels
def test_rows_inside_the_fitted_part_are_refused_by_name():
    with pytest.raises(ConfigError) as info:
        anchor(random_walk(), 240, np.arange(230, 250), None)
    assert str(info.value) == ("rows must be rows after the fitted ones, in [240, 300). "
                               "Received: 20 rows from 230 to 249")


@needs_statsmodels
def test_too_few_rows_to_fit_are_refused_by_name():
    with pytest.raises(ConfigError, match=r"n_fit must be a whole number in \[10, 300\]\. "
                                          r"Received: n_fit=5"):
        anchor(random_walk(), 5, np.arange(5, 10), None)


def test_without_statsmodels_the_message_says_how_to_install_it(monkeypatch):
    for name in [n for n in sys.modules if n == "statsmodels" or n.startswith("statsmodels.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "statsmodels", None)
    monkeypatch.setitem(sys.modules, classical.ETS_MODULE, None)
    with pytest.raises(ClassicalUnavailable) as info:
        anchor(random_walk(), 240, np.arange(240, 300), None)
    assert isinstance(info.value, RnnlabError)
    assert isinstance(info.value, ImportError)   # callers that make the anchor optional skip it
    assert str(info.value) == (
        "The classical anchor (exponential smoothing) needs statsmodels, which is not installed. "
        "Install it with: pip install \"rnnlab[classical]\"")


# -- the anchor's forecast path ------------------------------------------------------------------

@needs_statsmodels
@pytest.mark.parametrize("m", [None, 12, 40])   # 40: longer than MAX_ETS_SEASON, so STL + ETS
def test_a_path_starts_where_the_one_step_anchor_does_and_never_reads_later_rows(m):
    y = seasonal_series(n=10 * (m or 12), m=m or 12) if m else random_walk()
    n_fit = len(y) - 2 * (m or 12)
    name, path = classical.anchor_path(y, n_fit, 2 * (m or 12), m)
    one_name, first = anchor(y, n_fit, np.array([n_fit]), m)
    assert name == one_name
    np.testing.assert_allclose(path[0], first[0], rtol=1e-7)
    changed = y.copy()
    changed[n_fit:] += 1000.0
    np.testing.assert_array_equal(classical.anchor_path(changed, n_fit, len(path), m)[1], path)


@needs_statsmodels
def test_a_path_of_additive_season_and_no_trend_repeats_the_last_seasons_on_the_last_level():
    """ETS(A,N,A) forecasts l_n + s_{n+h−m}: the hand-written recursion, run to the origin."""
    y = seasonal_series(n=144, m=12)
    fit, _ = one_step(y, 120, np.arange(120, 121), EtsSpec(seasonal="add", season=12))
    alpha, gamma = fit.smoothing_level, fit.smoothing_seasonal
    level, s = fit.initial_level, list(fit.initial_seasonal)
    for t in range(120):
        error = y[t] - (level + s[t])
        level += alpha * error
        s.append(s[t] + gamma * error)
    expected = np.array([level + s[120 + h % 12] for h in range(24)])     # (24,)
    name, path = classical.anchor_path(y, 120, 24, 12)
    assert name == "ETS(A,N,A), season 12"
    np.testing.assert_allclose(path, expected, rtol=1e-9)


@needs_statsmodels
@pytest.mark.parametrize("m", [12, 40])
def test_the_anchor_and_its_path_fit_the_same_rows_once_and_other_rows_afresh(m, monkeypatch):
    """A run asks for both; the second reuses the first's fits, and a change in any fitted row
    (or a different season) fits again."""
    calls = []
    real = classical._fit
    monkeypatch.setattr(classical, "_fit", lambda *a: calls.append(a[2]) or real(*a))
    monkeypatch.setattr(classical, "_FITS", {})
    y = seasonal_series(n=10 * m, m=m)
    n_fit = len(y) - 2 * m
    first = anchor(y, n_fit, np.arange(n_fit, len(y)), m)
    fits = len(calls)
    assert fits >= 3
    path = classical.anchor_path(y, n_fit, 2 * m, m)
    assert len(calls) == fits
    np.testing.assert_allclose(path[1][0], first[1][0], rtol=1e-7)
    changed = y.copy()
    changed[n_fit // 2] += 1.0
    classical.anchor_path(changed, n_fit, 2 * m, m)
    assert len(calls) == 2 * fits
    classical.anchor_path(y, n_fit, 2 * m, None)
    assert len(calls) > 2 * fits


@needs_statsmodels
def test_a_path_needs_a_step_and_values_in_every_fitted_row():
    y = random_walk()
    with pytest.raises(ConfigError, match="steps must be a whole number of at least 1"):
        classical.anchor_path(y, 200, 0, None)
    y[10] = np.nan
    with pytest.raises(RnnlabError, match="needs a value in every row"):
        classical.anchor_path(y, 200, 5, None)


def test_a_classical_fit_that_fails_is_a_note_in_the_worker_never_a_failed_run(monkeypatch):
    from types import SimpleNamespace

    from rnnlab import worker

    def broken(*args, **kwargs):
        raise RuntimeError("no form fits")

    monkeypatch.setattr(classical, "anchor", broken)
    monkeypatch.setattr(classical, "anchor_path", broken)
    prepared = SimpleNamespace(horizon=1, t_test=np.arange(90, 100), n_train=80, n_val=10,
                               values=random_walk(100)[:, None], season=None)
    notes = []
    monkeypatch.setenv(worker.CLASSICAL_ENV, "1")
    assert worker._anchor(prepared, notes) == {}
    assert worker._anchor_path(prepared, 90, 10, notes) is None
    assert notes == ["The classical baseline could not be fitted (RuntimeError: no form fits).",
                     "The classical baseline's free-running forecast could not be made "
                     "(RuntimeError: no form fits)."]
    monkeypatch.setenv(worker.CLASSICAL_ENV, "0")              # turned off: not even tried
    assert worker._anchor(prepared, notes) == {} and len(notes) == 2
