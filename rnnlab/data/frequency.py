"""The regular grid a date index sits on, its gaps, and dates far away from all the others.

`_infer_frequency` finds the coarsest grid that holds every timestamp and is at least
MIN_COVERAGE filled: month, quarter or year starts or ends, business days, or a fixed step
(days, weeks, hours, minutes, ...), named by its pandas offset alias ("D", "B", "MS", "QS-OCT",
"15min"). `_period_label` and `_describe_missing` word periods and runs of missing periods for
the report; `_stray_rows` finds the few rows at either end dated far from the rest (likely typos).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_COVERAGE = 0.5           # a frequency must explain at least this share of the grid
STRAY_GAP_STEPS = 1000       # a gap this many usual steps wide (and over a year) cuts off stray dates
MAX_STRAY_ROWS = 10          # at most this many rows (and 1 % of them) count as stray at either end
_MONTH_CODES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAY_CODES = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


@dataclass
class _Frequency:
    """A regular grid the timestamps sit on."""

    alias: str                 # pandas offset alias
    unit: str                  # "day", "business day", "month", ...
    grid: pd.DatetimeIndex     # every period from the first to the last timestamp


def _infer_frequency(index: pd.DatetimeIndex) -> _Frequency | None:
    """The coarsest regular grid holding every timestamp and at least half filled, or None."""
    if len(index) < 3:
        return None
    for finder in (_calendar_frequency, _business_frequency, _fixed_frequency):
        found = finder(index)
        if found is not None:
            return found if len(index) >= MIN_COVERAGE * len(found.grid) else None
    return None


def _calendar_frequency(index: pd.DatetimeIndex) -> _Frequency | None:
    """Month, quarter or year starts (or ends): the steps are whole months."""
    if not (index == index.normalize()).all():
        return None
    if (index.day == 1).all():
        end = False
    elif index.is_month_end.all():
        end = True
    else:
        return None
    months = np.asarray(index.year * 12 + index.month - 1, dtype=np.int64)   # (n,)
    step = int(np.gcd.reduce(np.diff(months)))
    if step < 1 or (months[-1] - months[0]) // step + 1 > 20 * len(index):
        return None
    alias, unit = _month_alias(step, int(index[0].month), end)
    return _Frequency(alias, unit, pd.date_range(index[0], index[-1], freq=alias))


def _month_alias(step: int, first_month: int, end: bool) -> tuple[str, str]:
    """An offset alias for a step of `step` months: MS/ME, QS/QE(-anchor), YS/YE(-anchor)."""
    tail = "E" if end else "S"
    if step == 3:
        anchor = _MONTH_CODES[(first_month - 1) % 3 + (9 if end else 0)]
        default = "DEC" if end else "JAN"
        return (f"Q{tail}" if anchor == default else f"Q{tail}-{anchor}"), "quarter"
    if step == 12:
        anchor = _MONTH_CODES[first_month - 1]
        default = "DEC" if end else "JAN"
        return (f"Y{tail}" if anchor == default else f"Y{tail}-{anchor}"), "year"
    if step == 1:
        return f"M{tail}", "month"
    return f"{step}M{tail}", f"{step}-month step"


def _business_frequency(index: pd.DatetimeIndex) -> _Frequency | None:
    """Weekdays only, stepping by a day (e.g. trading days)."""
    if not (index == index.normalize()).all() or (index.day_of_week >= 5).any():
        return None
    if (index[-1] - index[0]).days < 7 or np.diff(index.values).min() != np.timedelta64(1, "D"):
        return None
    return _Frequency("B", "business day", pd.bdate_range(index[0], index[-1]))


def _fixed_frequency(index: pd.DatetimeIndex) -> _Frequency | None:
    """A fixed step (days, hours, minutes, ...) that divides every gap."""
    deltas = np.diff(index.values)                                  # (n - 1,) timedelta64
    step = deltas.min()
    if step <= np.timedelta64(0) or (deltas % step != np.timedelta64(0)).any():
        return None
    step = pd.Timedelta(step)
    if (index[-1] - index[0]) // step + 1 > 20 * len(index):
        return None
    alias, unit = _fixed_alias(step, index[0])
    return _Frequency(alias, unit, pd.date_range(index[0], index[-1], freq=step))


def _fixed_alias(step: pd.Timedelta, first: pd.Timestamp) -> tuple[str, str]:
    """'D', 'W-MON', '3D', 'h', '15min', ... for a fixed step."""
    day = pd.Timedelta(days=1)
    if step % day == pd.Timedelta(0):
        days = step // day
        if days == 7:
            return f"W-{_DAY_CODES[first.day_of_week]}", "week"
        return ("D", "day") if days == 1 else (f"{days}D", f"{days}-day step")
    alias = pd.tseries.frequencies.to_offset(step).freqstr
    units = {"h": "hour", "min": "minute", "s": "second"}
    return alias, units.get(alias, f"{alias} step")


def _period_label(stamp: pd.Timestamp, unit: str) -> str:
    """How to name one period in a report: '1984-12-31', '1960-03', '1970 Q2', '2020-01-01 10:00'."""
    if unit == "quarter":
        return f"{stamp.year} Q{stamp.quarter}"
    if unit == "year":
        return f"{stamp.year}"
    if "month" in unit:
        return stamp.strftime("%Y-%m")
    if stamp == stamp.normalize():
        return stamp.strftime("%Y-%m-%d")
    return stamp.strftime("%Y-%m-%d %H:%M:%S" if stamp.second else "%Y-%m-%d %H:%M")


def _describe_missing(missing: pd.DatetimeIndex, grid: pd.DatetimeIndex, unit: str,
                      limit: int = 8) -> str:
    """'1984-12-31, 1988-12-31' or '2001-03-01 to 2001-03-07, …' (runs of consecutive periods)."""
    positions = grid.get_indexer(missing)                           # (n_missing,)
    breaks = np.flatnonzero(np.diff(positions) != 1) + 1
    runs = np.split(positions, breaks)
    texts = []
    for run in runs[:limit]:
        first, last = _period_label(grid[run[0]], unit), _period_label(grid[run[-1]], unit)
        texts.append(first if len(run) == 1 else f"{first} to {last}")
    more = f", and {len(runs) - limit} more gaps" if len(runs) > limit else ""
    return ", ".join(texts) + more


def _stray_rows(index: pd.DatetimeIndex) -> np.ndarray:
    """Rows at either end cut off from the rest by a gap of over a year and STRAY_GAP_STEPS steps."""
    n = len(index)
    stray = np.zeros(n, dtype=bool)                                        # (n,)
    if n < 10:
        return stray
    seconds = index.to_numpy().astype("datetime64[s]").astype(np.int64)    # (n,)
    steps = np.diff(seconds)                                               # (n - 1,)
    typical = max(float(np.median(steps)), 1.0)
    wide = np.flatnonzero((steps > STRAY_GAP_STEPS * typical) & (steps > 366 * 86400))
    limit = max(1, min(MAX_STRAY_ROWS, n // 100))
    after, before = wide[wide >= n - 1 - limit], wide[wide < limit]
    if after.size:
        stray[after.min() + 1:] = True
    if before.size:
        stray[:before.max() + 1] = True
    return stray
