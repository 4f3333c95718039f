"""Numbers and axes: missing values, short number labels, log-scale ticks that read at a
glance, and time and epoch axes."""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import pandas as pd


def _floats(values: Iterable) -> np.ndarray:
    """Numbers as float64 with None, NaN and ±inf all turned into NaN (a gap in a line)."""
    arr = np.array([np.nan if v is None else v for v in values], dtype=float)  # (n,)
    arr[~np.isfinite(arr)] = np.nan
    return arr


def _positive(values: np.ndarray) -> np.ndarray:
    """Values that a log axis can show; zero, negative and non-finite become NaN."""
    out = np.array(values, dtype=float)
    out[~(np.isfinite(out) & (out > 0))] = np.nan
    return out


def _fmt(value: float) -> str:
    """A short real-valued label: 0.001, 1e-05 -> 1e-5, 250, 1e+06 -> 1e6."""
    text = f"{value:.3g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        text = f"{mantissa}e{int(exp)}"
    return text


def _log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Colorbar ticks for log10 data between lo and hi: positions (log10) and real-value labels."""
    first, last = math.floor(lo), math.ceil(hi)
    mults = (1,) if last - first >= 3 else (1, 2, 5)
    vals = [math.log10(m) + e for e in range(first, last + 1) for m in mults]
    vals = [v for v in vals if lo - 1e-9 <= v <= hi + 1e-9] or [lo]
    if len(vals) > 12:                                   # many decades: keep every other one
        vals = vals[::2]
    return vals, [_fmt(10 ** v) for v in vals]


def _log_axis(axis: dict, *series, lo: float | None = None, hi: float | None = None) -> None:
    """Make `axis` a log axis whose ticks read at a glance: whole decades labelled as numbers
    (0.001, 0.01, 0.1, 1; 1e-5 further out), or 1-2-5 steps (0.2, 0.5, 1, 2) when the values
    span less than two decades, never the bare "2, 5" digits Plotly writes between decades.

    The range comes from the positive finite values of `series`, or from `lo`/`hi` (log10)."""
    axis["type"] = "log"
    if lo is None or hi is None:
        values = [_positive(np.asarray(v, dtype=float).ravel()) for v in series]
        values = np.concatenate(values) if values else np.array([])
        values = values[np.isfinite(values)]
        if not values.size:
            return
        lo, hi = float(np.log10(values.min())), float(np.log10(values.max()))
    if hi - lo < 1e-9:
        lo, hi = lo - 0.3, hi + 0.3
    axis["tickmode"] = "array"
    axis["tickvals"], axis["ticktext"] = _axis_log_ticks(lo, hi)


def _axis_log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Tick values (real, not log10) and labels for a log axis spanning log10 lo..hi: decades
    when there are three or more, else the 1-2-5 steps (finer if even those give fewer than 3)."""
    first, last = math.floor(lo + 1e-9), math.ceil(hi - 1e-9)
    for mults in ((1,), (1, 2, 5), (1, 2, 3, 4, 5, 6, 8)):
        exps = [math.log10(m) + e for e in range(first, last + 1) for m in mults]
        exps = [v for v in exps if lo - 1e-9 <= v <= hi + 1e-9]
        if len(exps) >= 3:
            break
    if not exps:
        exps = [lo, hi]
    if len(exps) > 10:                                  # many decades: every n-th one
        step = math.ceil(len(exps) / 8)
        exps = exps[::step]
    vals = [float(f"{10 ** v:.6g}") for v in exps]
    return vals, [_fmt(v) for v in vals]


def spans_decades(values, decades: float = 1.5) -> bool:
    """True when the positive finite values span more than `decades` powers of ten (a curve
    that a linear axis would flatten after its first points)."""
    arr = _positive(np.asarray(_floats(values), dtype=float))
    arr = arr[np.isfinite(arr)]
    return bool(arr.size) and math.log10(arr.max() / arr.min()) > decades


def _as_x(values) -> np.ndarray:
    """Timestamps as datetimes when they parse as dates, else as they are (positions)."""
    values = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return values.to_numpy()
    parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
    if parsed.notna().all():
        return parsed.to_numpy()
    numeric = pd.to_numeric(values, errors="coerce")
    return numeric.to_numpy() if numeric.notna().all() else values.astype(str).to_numpy()


def _x_label(index: pd.Index) -> str:
    """The x axis title for a frame's index: its date column, or the row position."""
    if isinstance(index, pd.DatetimeIndex):
        return str(index.name or "date")
    return "row (position in the data)"


def _when(x) -> str:
    """A point of a time axis in words: a date (with the time when it has one), else a row."""
    if isinstance(x, (np.datetime64, pd.Timestamp)):
        stamp = pd.Timestamp(x)
        return stamp.strftime("%Y-%m-%d" if stamp == stamp.normalize() else "%Y-%m-%d %H:%M")
    return f"row {x}"


WHOLE_EPOCH_TICKS = 12     # up to this many epochs on an axis: a tick at every epoch


def _whole_epochs(axis: dict, epochs: Iterable) -> None:
    """An epoch axis that never reads "epoch 1.5": a tick at every epoch when there are few
    (Plotly would put half epochs between 1, 2 and 3); more epochs get Plotly's own whole steps."""
    found = [float(e) for e in epochs if e is not None and math.isfinite(float(e))]
    if found and max(found) - min(found) <= WHOLE_EPOCH_TICKS:
        axis.update(tickmode="linear", tick0=0, dtick=1)


def _epoch_dtick(n_epochs: int) -> int:
    """Whole-epoch tick spacing, at most about a dozen ticks (never 'epoch 1.5')."""
    return max(1, math.ceil(n_epochs / 12))
