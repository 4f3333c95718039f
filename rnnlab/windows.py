"""Cut a series into (input window, target) pairs without copying it.

A window that predicts rows [t, t + horizon) reads rows [t - lookback, t) as its input. The inputs
are a strided view of the series (numpy `sliding_window_view`), so a lookback of 60 does not make
60 copies of the data.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from rnnlab.errors import ConfigError


def check_positive_int(name: str, value: object) -> int:
    """A whole number >= 1, or ConfigError naming the value received."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{name} must be a whole number. Received: {name}={value!r}")
    if value < 1:
        raise ConfigError(f"{name} must be >= 1. Received: {name}={value!r}")
    return int(value)


def window_range(n_rows: int, lookback: int, horizon: int, start: int | None = None,
                 stop: int | None = None) -> tuple[int, int]:
    """(first predicted row, number of windows) with t >= start, t >= lookback, t + horizon <= stop."""
    first = lookback if start is None else max(int(start), lookback)
    end = n_rows if stop is None else min(int(stop), n_rows)
    return first, max(0, end - horizon - first + 1)


def make_windows(series: np.ndarray, lookback: int, horizon: int, target_col: int = 0,
                 start: int | None = None, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Windows X (n, lookback, F) as a view of `series` and targets y (n, horizon) of `target_col`.

    Only windows whose first predicted row t satisfies start <= t and t + horizon <= stop are
    returned, in order of t; t also needs t >= lookback so the whole input lies in the series.
    """
    lookback = check_positive_int("lookback", lookback)
    horizon = check_positive_int("horizon", horizon)
    series = np.asarray(series)
    if series.ndim == 1:
        series = series[:, None]                                   # (T, 1)
    if series.ndim != 2:
        raise ConfigError("series must be a table of shape (rows, columns). "
                          f"Received shape {series.shape}")
    n_rows, n_features = series.shape
    if not -n_features <= target_col < n_features:
        raise ConfigError(f"target_col must name one of the {n_features} columns. "
                          f"Received: target_col={target_col}")
    first, count = window_range(n_rows, lookback, horizon, start, stop)
    if count == 0:
        return (np.empty((0, lookback, n_features), dtype=series.dtype),
                np.empty((0, horizon), dtype=series.dtype))
    inputs = sliding_window_view(series, lookback, axis=0)         # (T - L + 1, F, L)
    X = inputs[first - lookback: first - lookback + count].transpose(0, 2, 1)  # (n, L, F)
    targets = sliding_window_view(series[:, target_col], horizon)   # (T - H + 1, H)
    y = targets[first: first + count]                               # (n, H)
    return X, y
