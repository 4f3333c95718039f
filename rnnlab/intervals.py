"""How sure is a forecast: split-conformal prediction intervals from the validation rows.

The model never trains on the validation rows, so its errors there are honest draws of the
errors it will make on new rows. For a level such as 80 %, the half-width of the interval is the
⌈(n + 1) · level⌉-th smallest of the n absolute validation errors (split conformal prediction,
Vovk et al. 2005; Lei et al. 2018): if the errors to come are exchangeable with those, the
interval forecast ± half-width covers the actual value with probability at least `level`.

- One step ahead (teacher forced, horizon H): one half-width per horizon step h, from the
  validation windows' errors at step h.
- Free running: the error grows as forecasts are fed back, so the half-width is measured per
  step k, from free-running trajectories started at every validation row and scored on the
  validation rows only (`free_running_errors`). A width never narrows with the step: fed-back
  errors only add up, and later steps are measured from fewer trajectories, so a narrower width
  there is noise (each step keeps the widest width so far). Past the last step the validation
  part can measure, the last width is carried on, and `measured_steps` says where that is.

Coverage on the test part (the share of actual values inside their interval) is reported beside
the metrics: the interval's promise checked on rows it never saw. Numpy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnlab.summary import RunSummary, run_summary

LEVELS = (0.8, 0.95)
MAX_ORIGINS = 200          # free-running trajectories per run (evenly spaced validation rows)


def min_errors(level: float) -> int:
    """The fewest errors a finite half-width at `level` needs: ⌈(n + 1)·level⌉ <= n."""
    return math.ceil(level / (1 - level) - 1e-9)


def half_width(abs_errors, level: float) -> float:
    """Split-conformal half-width: the ⌈(n + 1)·level⌉-th smallest absolute error (inf when
    there are too few errors to promise `level`). NaN errors are left out."""
    e = np.asarray(abs_errors, dtype=float).ravel()
    e = np.sort(np.abs(e[np.isfinite(e)]))
    k = math.ceil((len(e) + 1) * level - 1e-9)
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1. Received: level={level!r}")
    return float(e[k - 1]) if k <= len(e) else float("inf")


def step_half_widths(errors: np.ndarray, level: float) -> np.ndarray:
    """Half-widths (H,) from errors (n, H): one per horizon step (NaN rows skipped)."""
    errors = np.asarray(errors, dtype=float)
    return np.array([half_width(errors[:, h], level) for h in range(errors.shape[1])])


def carried(widths: np.ndarray) -> tuple[np.ndarray, int]:
    """(widths that never narrow, with every inf past the last finite one replaced by it,
    measured steps).

    Free-running widths are finite up to the step the validation part can still measure; each
    keeps the widest width before it (later steps rest on fewer trajectories), and later steps
    keep the last measured width (an under-statement, said where shown)."""
    widths = np.asarray(widths, dtype=float).copy()
    finite = np.flatnonzero(np.isfinite(widths))
    if len(finite) == 0:
        return widths, 0
    last = finite[-1]
    widths[:last + 1] = np.maximum.accumulate(widths[:last + 1])
    widths[last + 1:] = widths[last]
    return widths, int(last + 1)


def free_running_errors(prepared, predict_fn, max_steps: int) -> np.ndarray:
    """Errors (origins, steps) of free-running trajectories started at validation rows, in the
    data's units; NaN where a trajectory has left the validation part (test rows are never
    read). Up to MAX_ORIGINS origins, evenly spaced."""
    from rnnlab.evaluate import roll
    from rnnlab.transforms import lag_of

    first_val, end_val = prepared.n_train, prepared.n_train + prepared.n_val
    first = max(first_val, prepared.lookback + lag_of(prepared))
    if end_val <= first:
        return np.empty((0, 0))
    origins = np.arange(first, end_val)                                        # (n,)
    if len(origins) > MAX_ORIGINS:
        origins = origins[np.linspace(0, len(origins) - 1, MAX_ORIGINS).round().astype(int)]
    steps = int(min(max_steps, end_val - origins[0]))
    predicted = roll(prepared, predict_fn, origins, steps)                     # (n, steps)
    rows = origins[:, None] + np.arange(steps)                                 # (n, steps)
    target = np.asarray(prepared.values, dtype=float)[:, 0]                    # (T,)
    actual = np.where(rows < end_val, target[np.minimum(rows, end_val - 1)], np.nan)
    return predicted - actual


def coverage(actual, lower, upper) -> float | None:
    """The share of finite actual values inside [lower, upper] (None when there are none)."""
    a, lo, hi = (np.asarray(v, dtype=float).ravel() for v in (actual, lower, upper))
    keep = np.isfinite(a) & np.isfinite(lo) & np.isfinite(hi)
    if not keep.any():
        return None
    return float(np.mean((a[keep] >= lo[keep]) & (a[keep] <= hi[keep])))


@dataclass(frozen=True)
class Intervals:
    """Half-widths at each level: one-step per horizon step, free-running per step."""

    levels: tuple[float, ...]
    one_step: dict[float, np.ndarray]        # level -> (H,)
    free_running: dict[float, np.ndarray]    # level -> (steps,), carried past `measured`
    measured: dict[float, int]               # level -> free-running steps measured
    n_one_step: int                          # validation windows behind the one-step widths
    n_origins: int                           # free-running trajectories behind the others

    def summary(self) -> dict:
        """JSON-ready: the half-widths per level (keys like "80")."""
        out = {}
        for level in self.levels:
            out[label(level)] = {
                "level": level,
                "one_step": _listed(self.one_step[level]),
                "free_running": _listed(self.free_running[level]),
                "free_running_measured": self.measured[level],
            }
        return {"levels": out, "n_one_step": self.n_one_step, "n_origins": self.n_origins,
                "method": "split conformal, from the validation rows"}


def label(level: float) -> str:
    """80 for 0.8: the column suffix and the summary key."""
    return f"{round(level * 100):d}"


def _listed(values: np.ndarray) -> list:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=float)]


def fit(val_errors: np.ndarray, free_errors: np.ndarray, steps: int,
        levels: tuple[float, ...] = LEVELS) -> Intervals:
    """Intervals from the one-step validation errors (n, H) and the free-running ones
    (origins, k), for `steps` free-running steps."""
    one, free, measured = {}, {}, {}
    for level in levels:
        one[level] = step_half_widths(val_errors, level)
        if free_errors.size:
            widths = step_half_widths(free_errors, level)                     # (k,)
        else:
            widths = np.full(1, np.inf)
        widths = np.concatenate([widths[:steps], np.full(max(0, steps - len(widths)), np.inf)])
        free[level], measured[level] = carried(widths)
    return Intervals(tuple(levels), one, free, measured, int(len(val_errors)),
                     int(len(free_errors)))


def coverage_sentence(summary: dict | RunSummary) -> str:
    """'Prediction intervals from the validation rows: the 80 % interval (±12.3 one step ahead)
    covered 79 % of the test values one step ahead and 71 % free running; a 95 % interval needs
    19 validation windows (14 here).' ('' for a run without intervals)."""
    bands = run_summary(summary).intervals
    if not bands:
        return ""
    parts = []
    for key, level in sorted(bands["levels"].items(), key=lambda kv: kv[1]["level"]):
        widths = [w for w in level["one_step"] if w is not None]
        cover = level.get("coverage_one_step")
        if not widths or cover is None:
            parts.append(f"a {key} % interval needs {min_errors(level['level'])} validation "
                         f"windows ({bands['n_one_step']} here)")
            continue
        free = level.get("coverage_free_running")
        text = (f"the {key} % interval (±{_short(widths[0])} one step ahead) covered "
                f"{100 * cover:.0f} % of the test values one step ahead")
        if free is not None:
            text += f" and {100 * free:.0f} % free running"
        parts.append(text)
    return "Prediction intervals from the validation rows: " + "; ".join(parts) + "."


def _short(x: float) -> str:
    from rnnlab.evaluate import format_number

    return format_number(x, 3, thousands=True, big=1000)
