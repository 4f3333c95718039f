"""windows.make_windows against a plain Python loop (the oracle), and its no-copy promise."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.errors import ConfigError
from rnnlab.windows import make_windows


def loop_windows(series, lookback, horizon, target_col=0, start=None, stop=None):
    """The obvious loop: every t whose input and predicted rows fit and that lies in [start, stop)."""
    n_rows, n_features = series.shape
    X, y = [], []
    for t in range(n_rows):
        fits = t - lookback >= 0 and t + horizon <= n_rows
        in_range = (start is None or t >= start) and (stop is None or t + horizon <= stop)
        if fits and in_range:
            X.append(series[t - lookback:t])
            y.append(series[t:t + horizon, target_col])
    X = np.array(X).reshape(len(X), lookback, n_features)    # (n, L, F)
    y = np.array(y).reshape(len(y), horizon)                   # (n, H)
    return X, y


def test_small_example_by_hand():
    series = np.arange(10.0)[:, None]                          # (10, 1)
    X, y = make_windows(series, lookback=3, horizon=2)
    assert X.shape == (6, 3, 1) and y.shape == (6, 2)
    assert X[0, :, 0].tolist() == [0, 1, 2] and y[0].tolist() == [3, 4]
    assert X[-1, :, 0].tolist() == [5, 6, 7] and y[-1].tolist() == [8, 9]


def test_start_and_stop_select_predicted_rows():
    series = np.arange(20.0)[:, None]
    X, y = make_windows(series, lookback=4, horizon=1, start=15, stop=18)
    assert y[:, 0].tolist() == [15, 16, 17]
    assert X[0, :, 0].tolist() == [11, 12, 13, 14]             # inputs reach back before start


def test_inputs_are_a_view_of_the_series():
    series = np.random.default_rng(0).normal(size=(50, 3))
    X, y = make_windows(series, lookback=10, horizon=2, target_col=1)
    assert np.shares_memory(X, series)
    assert X.base is not None
    assert X.nbytes > series.nbytes                            # logically large, physically shared


def test_one_dimensional_series_is_one_feature():
    X, y = make_windows(np.arange(6.0), lookback=2, horizon=1)
    assert X.shape == (4, 2, 1) and y[:, 0].tolist() == [2, 3, 4, 5]


def test_too_short_series_gives_empty_arrays():
    X, y = make_windows(np.ones((3, 2)), lookback=5, horizon=1)
    assert X.shape == (0, 5, 2) and y.shape == (0, 1)


@pytest.mark.parametrize("name, kwargs, message", [
    ("lookback", {"lookback": 0, "horizon": 1}, "lookback must be >= 1. Received: lookback=0"),
    ("horizon", {"lookback": 3, "horizon": -2}, "horizon must be >= 1. Received: horizon=-2"),
    ("lookback", {"lookback": 2.5, "horizon": 1},
     "lookback must be a whole number. Received: lookback=2.5"),
])
def test_bad_steps_name_the_value(name, kwargs, message):
    with pytest.raises(ConfigError) as err:
        make_windows(np.ones((10, 1)), **kwargs)
    assert str(err.value) == message


@settings(max_examples=150, deadline=None)
@given(n_rows=st.integers(1, 40), lookback=st.integers(1, 10), horizon=st.integers(1, 5),
       n_features=st.integers(1, 3), data=st.data())
def test_matches_the_loop(n_rows, lookback, horizon, n_features, data):
    target_col = data.draw(st.integers(0, n_features - 1))
    start = data.draw(st.none() | st.integers(-5, 45))
    stop = data.draw(st.none() | st.integers(-5, 45))
    series = np.arange(n_rows * n_features, dtype="float64").reshape(n_rows, n_features)
    X, y = make_windows(series, lookback, horizon, target_col, start, stop)
    X_ref, y_ref = loop_windows(series, lookback, horizon, target_col, start, stop)
    assert X.shape == X_ref.shape and y.shape == y_ref.shape
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)
    if len(X):
        assert np.shares_memory(X, series)
