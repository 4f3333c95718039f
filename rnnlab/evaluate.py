"""Honest results: predictions in the data's own units, baselines, metrics and skill vs naive.

Numpy and pandas only. Everything here reads a `Prepared` (see `rnnlab.data`) by duck typing:
`index`, `values` (T, F) raw, `scaled` (T, F), `scaler.inverse_target`, `n_train`, `lookback`,
`horizon`, `season`, `X_<split>` (n, lookback, F) and `t_<split>` (n,) row of the first predicted
step. A `predict_fn` maps scaled windows (n, lookback, F) to scaled targets (n, horizon).

Two kinds of prediction, labelled as what they are:
- teacher forced (`evaluate`): every window reads the real past, so errors never pile up;
- free-running (`free_running`, `forecast_beyond`): the model's own predictions are fed back as
  inputs, so errors compound with every step.

Baselines are rules, not models: they may read any observed row before the window's first
predicted row t, even further back than the lookback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from rnnlab import transforms
from rnnlab.artefacts import FREE_RUN
from rnnlab.errors import ConfigError, DataError
from rnnlab.predictors import PREDICTORS

PredictFn = Callable[[np.ndarray], Any]

SPLITS = {"train": "training", "val": "validation", "test": "test"}
TEACHER_FORCED = "one-step-ahead (teacher forced)"
FREE_RUNNING = FREE_RUN     # a trajectory fed its own predictions (predictions.csv's kind)
NEAR_ZERO = 0.05  # MAPE is refused when actuals cross 0 or some |actual| < NEAR_ZERO × max |actual|



# ---------------------------------------------------------------- metrics

def metrics(y_true, y_pred) -> dict:
    """RMSE, MAE, MAPE (percent, or None with `mape_note`), R² (None if actuals are constant), n."""
    y = np.asarray(y_true, dtype=float).ravel()  # (n,)
    p = np.asarray(y_pred, dtype=float).ravel()  # (n,)
    if y.shape != p.shape:
        raise ValueError(f"y_true and y_pred must hold the same number of values. "
                         f"Received: {y.size} and {p.size}")
    if y.size == 0:
        raise ValueError("metrics need at least one value. Received: 0 values")
    err = p - y  # (n,)
    mape, note = _mape(y, err)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = None if ss_tot == 0.0 else 1.0 - float(np.sum(err**2)) / ss_tot
    return {"rmse": float(np.sqrt(np.mean(err**2))), "mae": float(np.mean(np.abs(err))),
            "mape": mape, "mape_note": note, "r2": r2, "n": int(y.size)}


def _mape(y: np.ndarray, err: np.ndarray) -> tuple[float | None, str | None]:
    """MAPE in percent, or None and the reason when actual values cross or come near zero."""
    scale = float(np.max(np.abs(y)))
    smallest = float(np.min(np.abs(y)))
    crosses = bool(np.any(y < 0) and np.any(y > 0))
    if scale == 0.0 or crosses or smallest < NEAR_ZERO * scale:
        where = "cross zero" if crosses else "come near zero"
        return None, (f"MAPE is not shown: the actual values {where} (smallest |value| "
                      f"{smallest:.3g}, largest {scale:.3g}), and dividing by them would blow the "
                      "percentage up. Use RMSE or MAE instead.")
    return float(np.mean(np.abs(err) / np.abs(y)) * 100.0), None


# ---------------------------------------------------------------- windows of a split

def _split_windows(prepared, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(X (n, lookback, F) scaled, t (n,) first predicted row) of a split; DataError if empty."""
    if split not in SPLITS:
        raise ConfigError(f"split must be one of {', '.join(SPLITS)}. Received: split={split!r}")
    X = np.asarray(getattr(prepared, f"X_{split}"))  # (n, lookback, F)
    t = np.asarray(getattr(prepared, f"t_{split}"), dtype=int)  # (n,)
    if len(t) == 0:
        raise DataError(f"The {SPLITS[split]} part has no windows to evaluate. "
                        f"Give it more rows (a larger {split}_fraction) or evaluate another part.")
    return X, t


def _target_rows(prepared, t: np.ndarray) -> np.ndarray:
    """Row numbers of every predicted value: t + h for h in [0, horizon)."""
    return t[:, None] + np.arange(prepared.horizon)[None, :]  # (n, H)


def _predict(prepared, predict_fn: PredictFn, X: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Run predict_fn on model-space windows starting at rows t; the target in original units."""
    n, H = len(X), prepared.horizon
    scaled = np.asarray(predict_fn(X), dtype=float)
    if scaled.size != n * H:
        raise ValueError(f"predict_fn must return {n} × {H} values for {n} windows and horizon "
                         f"{H}. Received: shape {scaled.shape}")
    return transforms.to_original(prepared, scaled.reshape(n, H), t)  # (n, H)


# ---------------------------------------------------------------- baselines

def baselines(prepared, split: str = "test") -> dict[str, np.ndarray]:
    """Baseline forecasts (n, horizon) in original units: naive, seasonal_naive (if any),
    linear_ar, mean."""
    X, t = _split_windows(prepared, split)
    return _baselines(prepared, X, t)[0]


def _baselines(prepared, X: np.ndarray, t: np.ndarray,
               linear: PredictFn | None = None) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Baseline forecasts for windows X starting at rows t, and notes on any baseline skipped;
    `linear` is `linear_ar(prepared)` when the caller already fitted it."""
    target = np.asarray(prepared.values, dtype=float)[:, 0]  # (T,)
    H = prepared.horizon
    out = {"naive": np.repeat(target[t - 1][:, None], H, axis=1)}  # (n, H)
    notes = {}
    season = getattr(prepared, "season", None)
    if season:
        seasonal, note = _seasonal_naive(target, t, H, int(season))
        if seasonal is None:
            notes["seasonal_naive"] = note
        else:
            out["seasonal_naive"] = seasonal
    linear = linear or linear_ar(prepared)
    out["linear_ar"] = transforms.to_original(prepared, linear(X), t)  # (n, H)
    out["mean"] = np.full((len(t), H), float(target[: prepared.n_train].mean()))  # (n, H)
    return out, notes


def linear_ar(prepared) -> PredictFn:
    """A linear autoregression on the model's own windows, transform and training rows.

    Least squares of y_train (n, H) on the flattened windows X_train (n, L·F) and a constant: it
    answers "does the network's non-linearity earn its keep?". Returns a predict_fn in model space.
    """
    coef = fit_linear(prepared.X_train, prepared.y_train)               # (L·F + 1, H)
    return lambda windows: apply_linear(coef, windows)                   # (m, H)


def _design(windows) -> np.ndarray:
    """Windows (n, ...) flattened to rows, with a constant 1 last: (n, k + 1), float64."""
    W = np.asarray(windows, dtype="float64")
    return np.column_stack([W.reshape(len(W), -1), np.ones(len(W))])


def fit_linear(windows, y) -> np.ndarray:
    """Least-squares weights of y (n,) or (n, H) on the flattened windows (n, ...) and a
    constant: (k + 1,) or (k + 1, H), the constant last. The one fit behind the linear
    autoregression baseline, the start of the model's linear path and the transform advice."""
    coef, *_ = np.linalg.lstsq(_design(windows), np.asarray(y, dtype="float64"), rcond=None)
    return coef


def apply_linear(coef: np.ndarray, windows) -> np.ndarray:
    """The forecasts of `fit_linear`'s weights for windows (m, ...): (m,) or (m, H)."""
    return _design(windows) @ coef


def _seasonal_naive(target: np.ndarray, t: np.ndarray, H: int, m: int):
    """Value one season back (whole seasons back when h >= m), from rows before t only."""
    if int(t.min()) - m < 0:
        short = int(np.sum(t - m < 0))
        return None, (f"Seasonal naive is not shown: a season of {m} rows reaches back before the "
                      f"first row of the data for {short} of {len(t)} windows. Use a shorter "
                      "season or a later part of the data.")
    h = np.arange(H)  # (H,)
    rows = t[:, None] + h[None, :] - m * (h[None, :] // m + 1)  # (n, H), every row < t
    return target[rows], None


def seasonal_naive_path(target: np.ndarray, start: int, steps: int,
                        season: int | None) -> np.ndarray | None:
    """The seasonal naive forecast of `steps` values from row `start` on (steps,), as a
    free-running trajectory sees it: None without a season or when it reaches before the data."""
    if not season:
        return None
    values, _ = _seasonal_naive(np.asarray(target), np.array([int(start)]), int(steps), int(season))
    return None if values is None else values[0]


# ---------------------------------------------------------------- evaluation

@dataclass
class Evaluation:
    """Predictions on one split next to the actual values and the baselines, in original units."""

    split: str
    kind: str                                 # what the predictions are (teacher forced here)
    timestamps: pd.Index                      # (n,) time of the first predicted step of each window
    rows: np.ndarray                          # (n,) row of the first predicted step
    origins: pd.Index                         # (n,) time of the last observed row (t - 1)
    step_timestamps: np.ndarray               # (n, H) time of every predicted value
    actual: np.ndarray                        # (n, H)
    predictions: np.ndarray                   # (n, H)
    baselines: dict[str, np.ndarray]          # name -> (n, H)
    baseline_notes: dict[str, str]            # name -> why that baseline is not shown
    metrics: dict[str, dict]                  # "model" and each baseline -> metrics()
    skill_vs_naive: float | None              # 1 − RMSE_model / RMSE_naive; None if naive is exact
    verdict: str                              # the skill in plain words
    best_baseline: str = "naive"              # the baseline with the lowest RMSE
    skill_vs_best: float | None = None        # 1 − RMSE_model / RMSE_best
    headline: str = ""                        # the model vs the best baseline (named) and naive
    notes: list[str] = field(default_factory=list)

    @property
    def horizon(self) -> int:
        """Values predicted per window."""
        return int(self.actual.shape[1])

    def to_frame(self) -> pd.DataFrame:
        """One row per predicted value: timestamp, origin, step, actual, model, each baseline."""
        n, H = self.actual.shape
        frame = pd.DataFrame({
            "timestamp": self.step_timestamps.ravel(),
            "origin": np.repeat(np.asarray(self.origins), H),
            "step": np.tile(np.arange(1, H + 1), n),
            "actual": self.actual.ravel(),
            "model": self.predictions.ravel(),
        })
        for name, values in self.baselines.items():
            frame[name] = values.ravel()
        return frame

    def summary(self) -> dict:
        """Flat numbers for the run list: the model's metrics, naive RMSE and the skill."""
        model = self.metrics["model"]
        out = {k: model[k] for k in ("rmse", "mae", "mape", "r2", "n")}
        out["naive_rmse"] = self.metrics["naive"]["rmse"]
        out["skill_vs_naive"] = self.skill_vs_naive
        out["best_baseline"], out["skill_vs_best"] = self.best_baseline, self.skill_vs_best
        out["kind"], out["split"] = self.kind, self.split
        return out

    def rmse_by_step(self) -> dict[str, list[float]]:
        """RMSE for each horizon step (1..H), for the model and each baseline."""
        series = {"model": self.predictions, **self.baselines}
        return {name: np.sqrt(np.mean((v - self.actual) ** 2, axis=0)).tolist()
                for name, v in series.items()}


def evaluate(prepared, predict_fn: PredictFn, split: str = "test",
             extra_baselines: dict[str, np.ndarray] | None = None,
             linear: PredictFn | None = None) -> Evaluation:
    """Predict every window of a split from real inputs and compare with actuals and baselines.

    extra_baselines: more forecasts (n, H) of the same windows, e.g. the classical anchor.
    linear: `linear_ar(prepared)` fitted once for several splits (else fitted here).
    """
    X, t = _split_windows(prepared, split)
    rows = _target_rows(prepared, t)  # (n, H)
    actual = np.asarray(prepared.values, dtype=float)[rows, 0]  # (n, H)
    predictions = _predict(prepared, predict_fn, X, t)  # (n, H)
    base, notes = _baselines(prepared, X, t, linear)
    base.update(extra_baselines or {})
    scores = {"model": metrics(actual, predictions)}
    scores.update({name: metrics(actual, values) for name, values in base.items()})
    skill, verdict = _skill(scores["model"]["rmse"], scores["naive"]["rmse"])
    best = best_baseline(scores)
    index = prepared.index
    return Evaluation(
        split=split, kind=_kind(prepared.horizon), timestamps=index[t], rows=t,
        origins=index[t - 1], step_timestamps=np.asarray(index[rows.ravel()]).reshape(rows.shape),
        actual=actual, predictions=predictions, baselines=base, baseline_notes=notes,
        metrics=scores, skill_vs_naive=skill, verdict=verdict, best_baseline=best,
        skill_vs_best=_ratio_skill(scores, best), headline=headline(scores, best),
        notes=[scores["model"]["mape_note"]] if scores["model"]["mape_note"] else [],
    )


def format_number(value: Any, digits: int = 4, *, thousands: bool = False,
                  big: float = 1e5) -> str:
    """A score for a table or a sentence: `digits` significant digits ('—' when missing, 'not a
    number' for NaN or ±inf, text as it is); with `thousands`, `big` and above as whole numbers
    with separators (100,000)."""
    if value is None:
        return "—"
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(value):
        return "not a number"
    if thousands and abs(value) >= big:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def best_baseline(scores: dict[str, dict]) -> str:
    """The baseline with the lowest RMSE (naive on ties), the one the model must beat."""
    finite = {name: s["rmse"] for name, s in scores.items()
              if name != "model" and s and np.isfinite(s.get("rmse", np.nan))}
    return min(finite, key=lambda name: (finite[name], name != "naive"))


def _ratio_skill(scores: dict[str, dict], against: str) -> float | None:
    """1 − RMSE_model / RMSE_against, or None when undefined."""
    model, other = scores["model"]["rmse"], scores[against]["rmse"]
    if not np.isfinite(model) or other == 0.0:
        return None
    return 1.0 - model / other


def headline(scores: dict[str, dict], best: str) -> str:
    """The model against the best baseline, named, and against naive, in one or two sentences."""
    skill = _ratio_skill(scores, best)
    label = PREDICTORS.get(best, best)
    if skill is None and np.isfinite(scores["model"]["rmse"]) and scores["naive"]["rmse"] != 0.0:
        return (f"The best baseline, {label}, has no error at all on this part of the data, so "
                "comparing the model with it is meaningless. "
                + _skill(scores["model"]["rmse"], scores["naive"]["rmse"])[1])
    if skill is None:
        return _skill(scores["model"]["rmse"], scores["naive"]["rmse"])[1]
    if round(abs(skill) * 100) == 0:
        first = f"The model is as good as the best baseline, {label}, and no better."
    elif skill > 0:
        first = f"The model beats the best baseline, {label}: its error is {round(skill * 100)} % lower."
    else:
        first = (f"The model loses to the best baseline, {label}: its error is "
                 f"{_times(1 - skill)} that baseline's.")
    naive = _ratio_skill(scores, "naive")
    if best == "naive" or naive is None:
        return first
    if round(naive * 100) > 0:
        return f"{first} Compared with repeating the last value, its error is {round(naive * 100)} % lower."
    if round(naive * 100) == 0:
        return f"{first} It is about as good as repeating the last value."
    return (f"{first} Compared with repeating the last value, its error is {_times(1 - naive)} "
            "as large.")


def _times(ratio: float) -> str:
    """1.234 -> '1.23×'; 12.3 -> '12×'."""
    return (f"{ratio:.0f}" if ratio >= 10 else f"{ratio:.2f}".rstrip("0").rstrip(".")) + "×"


def _kind(horizon: int) -> str:
    """Label for predictions made from real inputs."""
    if horizon == 1:
        return TEACHER_FORCED
    return f"{horizon} steps at once from real inputs (teacher forced)"


CONSTANT_PART = ("Repeating the last value has no error at all on this part of the data: the "
                 "series does not change there (or changes by too little to measure), so "
                 "comparing the model's error with it is meaningless and says nothing about the "
                 "model. Test on a part where the series varies.")


def _skill(rmse_model: float, rmse_naive: float) -> tuple[float | None, str]:
    """Skill vs naive and a sentence a non-programmer can read."""
    if not np.isfinite(rmse_model):
        return None, "The model's predictions are not numbers (the training diverged)."
    if rmse_naive == 0.0:
        return None, CONSTANT_PART
    ratio = rmse_model / rmse_naive
    shown = _times(ratio)
    if round(abs(1.0 - ratio) * 100) == 0:  # under half a percent apart
        sentence = (f"The model's error is about the same as the naive forecast's ({shown}): "
                    "it does no better than repeating the last value.")
    elif ratio > 1.0:
        sentence = (f"The model's error is {shown} the naive forecast's: "
                    "it does worse than repeating the last value.")
    else:
        sentence = (f"The model's error is {shown} the naive forecast's: "
                    f"{round((1.0 - ratio) * 100)} % better than repeating the last value.")
    return 1.0 - ratio, sentence


# ---------------------------------------------------------------- free-running forecasts

@dataclass
class Trajectory:
    """A free-running forecast: the model's own outputs fed back as its inputs."""

    index: pd.Index          # (steps,) time of every forecast value
    values: np.ndarray       # (steps,) forecast in original units
    actual: np.ndarray       # (steps,) actual values where the data has them, else NaN
    start_row: int           # first forecast row; the seed is rows [start_row − lookback, start_row)
    kind: str = FREE_RUNNING
    note: str | None = None  # e.g. how inputs other than the target were filled in

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.values, dtype=dtype)

    def __len__(self) -> int:
        return len(self.values)


def free_running(prepared, predict_fn: PredictFn, start_row: int, steps: int,
                 future: np.ndarray | None = None) -> Trajectory:
    """Seed with the real window ending just before start_row, then feed predictions back.

    Each model call predicts `horizon` values; all of them are appended before the next call.
    Inputs other than the target are unknown in the future: they are held at their last known
    (seed window) values, and the trajectory's note says so.
    """
    T, L = len(prepared.values), prepared.lookback
    first = L + transforms.lag_of(prepared)
    _check_int("start_row", start_row, first, T,
               f"The seed window needs {first} real rows before it (lookback {L}"
               f"{' and the transform' if first > L else ''}) and must end inside the data "
               f"({T} rows).")
    _check_int("steps", steps, 1, 100_000, "Ask for at least one step.")
    values = roll(prepared, predict_fn, np.array([start_row]), steps, future)[0]  # (steps,)
    rows = np.arange(start_row, start_row + steps)  # (steps,)
    target = np.asarray(prepared.values, dtype=float)[:, 0]  # (T,)
    actual = np.where(rows < T, target[np.minimum(rows, T - 1)], np.nan)  # (steps,)
    return Trajectory(index=_rows_index(prepared, rows), values=values, actual=actual,
                      start_row=int(start_row),
                      note=_held_note(prepared, 0 if future is None else len(future)))


def forecast_beyond(prepared, predict_fn: PredictFn, steps: int) -> tuple[pd.Index, np.ndarray]:
    """Free-running forecast past the last row: (future index, values in original units)."""
    trajectory = free_running(prepared, predict_fn, len(prepared.values), steps,
                              getattr(prepared, "future_inputs", None))
    return trajectory.index, trajectory.values


def roll(prepared, predict_fn: PredictFn, start_rows: np.ndarray, steps: int,
         future: np.ndarray | None = None) -> np.ndarray:
    """Free-running forecasts in original units (n, steps) from n origins at once: row
    start_rows[i] + k is forecast from the real window ending at start_rows[i] − 1 and the
    forecasts before it. One model call per `horizon` steps serves every origin.

    The other inputs are held at their last known values, or, given `future` (j, F − 1) in the
    data's units, read from it for the first j steps and held at its last row after that."""
    start_rows = np.asarray(start_rows, dtype=int)                             # (n,)
    L, H = prepared.lookback, prepared.horizon
    scaled = np.asarray(prepared.scaled, dtype=float)                          # (T, F)
    window = np.stack([scaled[r - L:r] for r in start_rows])                   # (n, L, F)
    held = window[:, -1:, 1:]        # (n, 1, F − 1) other inputs, held at their last known values
    ahead = _scaled_inputs(prepared, future)                                   # (j, F − 1)
    out = np.empty((len(start_rows), 0))
    while out.shape[1] < steps:
        inputs, offset = transforms.to_model(prepared, window)                 # (n, L, F), (n, 1)
        y = np.asarray(predict_fn(inputs), dtype=float).reshape(len(window), -1)[:, :H] + offset
        k = min(H, steps - out.shape[1])
        others = np.repeat(held, k, axis=1)                                    # (n, k, F − 1)
        if len(ahead):
            rows = ahead[np.minimum(np.arange(out.shape[1], out.shape[1] + k), len(ahead) - 1)]
            others = np.broadcast_to(rows[None], others.shape)                 # (n, k, F − 1)
        new = np.concatenate([y[:, :k, None], others], axis=2)                 # (n, k, F)
        window = np.concatenate([window, new], axis=1)[:, -L:]                # (n, L, F)
        out = np.concatenate([out, y[:, :k]], axis=1)                          # (n, done + k)
    return transforms.series_to_original(prepared, out, start_rows)           # (n, steps)


def _scaled_inputs(prepared, future: np.ndarray | None) -> np.ndarray:
    """The other inputs' known future (j, F − 1), scaled as the network reads them; (0, F − 1)
    when there is none."""
    F = np.asarray(prepared.values).shape[1]
    if future is None or F <= 1 or len(future) == 0:
        return np.empty((0, max(F - 1, 0)))
    rows = np.column_stack([np.zeros(len(future)), np.asarray(future, dtype=float)])   # (j, F)
    return prepared.scaler.transform(rows)[:, 1:]


def path_scores(rows: pd.DataFrame) -> dict[str, dict]:
    """`metrics` of the model and of each baseline path over free-running rows (one trajectory,
    as in predictions.csv), on the steps whose actual value is known; a predictor column with a
    missing value there is left out."""
    actual = pd.to_numeric(rows["actual"], errors="coerce").to_numpy(dtype=float)   # (steps,)
    known = ~np.isnan(actual)
    actual = actual[known]
    out = {}
    if not known.any():
        return out
    for name in PREDICTORS:
        if name not in rows:
            continue
        pred = pd.to_numeric(rows[name], errors="coerce").to_numpy(dtype=float)[known]
        if np.all(np.isfinite(pred)):
            out[name] = metrics(actual, pred)
    return out


def _held_note(prepared, known: int = 0) -> str | None:
    """Say how non-target inputs were filled in, when there are any (`known`: the steps whose
    inputs the data gave)."""
    if np.asarray(prepared.values).shape[1] <= 1:
        return None
    others = list(getattr(prepared, "inputs", None) or [])[1:]
    names = ", ".join(others) if others else "the other inputs"
    if known:
        return (f"The data gives {names} for the first {known} step{'s' if known > 1 else ''}; "
                "after that the forecast holds them at their last given values.")
    return (f"The future of {names} is unknown, so the forecast holds them at their last known "
            "values. Treat it as a what-if, not a prediction of those inputs.")


def _rows_index(prepared, rows: np.ndarray) -> pd.Index:
    """Timestamps (or positions) for rows, continuing the data's frequency past its end."""
    index, T = prepared.index, len(prepared.values)
    inside = index[rows[rows < T]]
    n_future = int(np.sum(rows >= T))
    if n_future == 0:
        return inside
    return inside.append(future_index(prepared, n_future))


def future_index(prepared, steps: int) -> pd.Index:
    """The next `steps` timestamps after the data's last row (positions if there are no dates)."""
    index = prepared.index
    if not isinstance(index, pd.DatetimeIndex):
        last = int(index[-1]) if len(index) else -1
        return pd.RangeIndex(last + 1, last + 1 + steps)
    freq = _frequency(prepared)
    if freq is not None:
        return pd.date_range(index[-1], periods=steps + 1, freq=freq, name=index.name)[1:]
    gap = pd.Series(index).diff().median() if len(index) > 1 else pd.Timedelta(days=1)
    return pd.DatetimeIndex([index[-1] + gap * (i + 1) for i in range(steps)], name=index.name)


def _frequency(prepared):
    """The data's frequency: the loader's, the index's own, or inferred; None if irregular."""
    loaded = getattr(prepared, "loaded", None)
    freq = getattr(loaded, "frequency", None) or prepared.index.freq
    if freq is None and len(prepared.index) >= 3:
        try:
            freq = pd.infer_freq(prepared.index)
        except (TypeError, ValueError):
            freq = None
    return freq


def _check_int(name: str, value: Any, lo: int, hi: int, fix: str) -> None:
    """ConfigError unless value is a whole number in [lo, hi]."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok or not lo <= value <= hi:
        raise ConfigError(f"{name} must be a whole number in [{lo}, {hi}]. "
                          f"Received: {name}={value!r}. {fix}")
