"""A run's predictions: actual vs model vs baselines (with a prediction interval), their
errors, the forecast beyond the data, many-to-many windows, and which past value the
prediction follows.

Inputs are the run's artefacts: `predictions.csv` rows and `forecast.csv`."""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rnnlab.artefacts import CLASSICAL, FREE_RUN, ONE_STEP
from rnnlab.errors import ConfigError
from rnnlab.figures.axes import _as_x, _fmt, _when
from rnnlab.figures.spec import _empty, _figure, _hline, _line, _Spec, _vline
from rnnlab.figures.style import COLORS, LINE_LABELS, LINE_STYLES, SPLIT_LABELS


def _band(spec: _Spec, x, rows: pd.DataFrame, band: str | None) -> None:
    """An interval as a shaded band (drawn first, under the lines): columns lower_80/upper_80
    and the like of `rows`, for band "80" or "95"; nothing when absent or all empty."""
    lower, upper = f"lower_{band}", f"upper_{band}"
    if not band or lower not in rows or upper not in rows:
        return
    lo = pd.to_numeric(rows[lower], errors="coerce").to_numpy(dtype=float)
    hi = pd.to_numeric(rows[upper], errors="coerce").to_numpy(dtype=float)
    if np.isnan(lo).all() or np.isnan(hi).all():
        return
    spec.traces.append(dict(type="scatter", x=x, y=lo, mode="lines", line=dict(width=0),
                            showlegend=False, hoverinfo="skip", name=f"{band} % lower"))
    spec.traces.append(dict(type="scatter", x=x, y=hi, mode="lines", line=dict(width=0),
                            fill="tonexty", fillcolor="rgba(31,119,180,0.18)",
                            name=f"{band} % interval", hoverinfo="skip"))


def _pick(pred: pd.DataFrame, kind: str, step: int, split: str | None) -> pd.DataFrame:
    """The rows of predictions.csv for one kind, one horizon step and (optionally) one split."""
    if pred is None or pred.empty or "kind" not in pred:
        return pd.DataFrame(columns=["timestamp", "actual", "model"])
    rows = pred[(pred["kind"] == kind) & (pred["step"].astype(int) == int(step))]
    if split is not None and "split" in rows:
        rows = rows[rows["split"] == split]
    return rows.reset_index(drop=True)


def _kind_words(kind: str, step: int) -> tuple[str, str]:
    """Title words and a plain explanation for a prediction kind."""
    ahead = "" if step == 1 else f", {step} steps ahead"
    if kind == FREE_RUN:
        return (f"Free-running forecast{ahead}",
                "The model feeds its own predictions back in: errors can build up")
    return (f"One-step-ahead predictions{ahead}",
            "One step ahead, from actual values: each prediction sees the true past")


def _set_words(split: str | None) -> str:
    """" (test set)" for a split, "" for none."""
    return f" ({SPLIT_LABELS.get(split, split)} set)" if split else ""


def _no_predictions(title: str, y_title: str) -> go.Figure:
    return _empty(title, "No predictions for this choice", "time", y_title)


def predictions_figure(pred: pd.DataFrame, kind: str = ONE_STEP, step: int = 1, *,
                       split: str | None = "test", target: str | None = None,
                       band: str | None = None) -> go.Figure:
    """Actual vs model vs naive baseline (seasonal naive and mean in the legend), in data units;
    with `band` ("80" or "95"), the model's prediction interval as a shaded band."""
    words, explain = _kind_words(kind, step)
    title, y_title = f"{words}{_set_words(split)}", f"{target or 'value'} (data units)"
    rows = _pick(pred, kind, step, split)
    if rows.empty:
        return _no_predictions(title, y_title)
    x = _as_x(rows["timestamp"])
    spec = _figure(title, "time", y_title, subtitle=explain, hovermode="x unified")
    _band(spec, x, rows, band)
    for col, (color, dash, shown) in LINE_STYLES.items():
        if col not in rows:
            continue
        y = pd.to_numeric(rows[col], errors="coerce").to_numpy(dtype=float)
        if np.isnan(y).all():
            continue
        spec.traces.append(_line(x, y, LINE_LABELS[col], color=color, dash=dash,
                                 width=2.5 if col in ("actual", "model") else 1.8,
                                 visible=True if shown else "legendonly",
                                 hovertemplate="%{y:.6~g}"))
    return spec.figure()


def residuals_figure(pred: pd.DataFrame, kind: str = ONE_STEP, step: int = 1, *,
                     split: str | None = "test", target: str | None = None) -> go.Figure:
    """Errors over time (actual − prediction) for the model, and the naive baseline to compare."""
    words, _ = _kind_words(kind, step)
    title = f"Errors, actual − prediction{_set_words(split)}"
    y_title = f"error in {target or 'value'} (data units)"
    rows = _pick(pred, kind, step, split)
    if rows.empty:
        return _no_predictions(title, y_title)
    x = _as_x(rows["timestamp"])
    actual = pd.to_numeric(rows["actual"], errors="coerce").to_numpy(dtype=float)
    spec = _figure(title, "time", y_title, hovermode="x unified",
                   subtitle=f"{words}. Near zero is good; a pattern left in the errors is "
                            "something the model missed")
    for col, (color, dash, _) in LINE_STYLES.items():
        if col == "actual" or col not in rows:
            continue
        y = actual - pd.to_numeric(rows[col], errors="coerce").to_numpy(dtype=float)
        if np.isnan(y).all():
            continue
        spec.traces.append(dict(
            type="scatter", x=x, y=y, name=f"{LINE_LABELS[col]} error",
            mode="lines+markers" if len(y) <= 500 else "lines",
            visible=True if col == "model" else "legendonly",
            line=dict(color=color, width=1.5 if col == "model" else 1.2, dash=dash),
            marker=dict(size=4), hovertemplate="%{y:.6~g}"))
    _hline(spec, 0, dict(color=COLORS["actual"], width=1))
    return spec.figure()


def forecast_figure(history: pd.Series, forecast: pd.DataFrame, tail: int | None = None,
                    band: str | None = None) -> go.Figure:
    """The end of the history and the forecast beyond it (dashed), split by a line at the end
    of the data (labelled with its date: the data may end long before today)."""
    name = history.name if history is not None and history.name is not None else "value"
    title = f"Forecast of {name} beyond the data"
    if history is None or history.empty:
        return _empty(title, "No history to show", "time", f"{name} (data units)")
    n_future = 0 if forecast is None else len(forecast)
    tail = tail or min(len(history), max(4 * n_future, 60))
    past = history.iloc[-tail:]
    x_past = _as_x(past.index)
    spec = _figure(title, "time", f"{name} (data units)", hovermode="x unified",
                   subtitle="Free-running: each forecast step is fed the previous forecast")
    spec.traces.append(_line(x_past, past.to_numpy(dtype=float), "history (actual)",
                             color=COLORS["actual"], hovertemplate="%{y:.6~g}"))
    if n_future:
        _band(spec, _as_x(forecast["timestamp"]), forecast, band)
        # Start the forecast line at the last known value so the two lines join.
        x_future = np.concatenate([x_past[-1:], _as_x(forecast["timestamp"])])
        y_future = np.concatenate([past.to_numpy(dtype=float)[-1:],
                                   pd.to_numeric(forecast["forecast"]).to_numpy(dtype=float)])
        spec.traces.append(dict(type="scatter", x=x_future, y=y_future, name="forecast (model)",
                                mode="lines+markers" if n_future <= 60 else "lines",
                                line=dict(color=COLORS["model"], dash="dash", width=2.5),
                                marker=dict(size=5), hovertemplate="%{y:.6~g}"))
        classical = _classical_forecast(forecast)
        if classical is not None:
            spec.traces.append(dict(
                type="scatter", x=x_future,
                y=np.concatenate([past.to_numpy(dtype=float)[-1:], classical]),
                name="forecast (exponential smoothing)", mode="lines",
                line=dict(color=COLORS["anchor"], dash="dot", width=2),
                hovertemplate="%{y:.6~g}"))
    _vline(spec, x_past[-1], f"end of the data ({_when(x_past[-1])})", name="end of data",
           side="left")  # over the history, which has room on a phone too
    return spec.figure()


def _classical_forecast(forecast: pd.DataFrame) -> np.ndarray | None:
    """The classical anchor's forecast beyond the data as numbers, or None when there is none."""
    if CLASSICAL not in forecast:
        return None
    values = pd.to_numeric(forecast[CLASSICAL], errors="coerce").to_numpy(dtype=float)
    return values if np.isfinite(values).any() else None


def horizon_figure(pred: pd.DataFrame, n_windows: int = 4, *, split: str = "test",
                   target: str | None = None) -> go.Figure:
    """Many-to-many: a few windows' whole H-step outputs drawn over the actual series."""
    if not isinstance(n_windows, numbers.Integral) or isinstance(n_windows, bool) or n_windows < 1:
        raise ConfigError("n_windows must be a whole number >= 1. "
                          f"Received: n_windows={n_windows!r}")
    rows = _window_rows(pred, split)
    y_title = f"{target or 'value'} (data units)"
    horizon = int(rows["step"].max()) if not rows.empty else 0
    title = f"Many-to-many: {horizon} values from each window at once"
    if rows.empty:
        return _empty("Many-to-many: the values of each window", "No predictions yet", "time",
                      y_title)
    spec = _figure(title, "time", y_title,
                   subtitle=f"Each blue line is one output of the network: it read the window "
                            f"ending just before the line and gave all {horizon} values in one go")
    actual = rows.drop_duplicates("timestamp").sort_values("timestamp")
    spec.traces.append(_line(_as_x(actual["timestamp"]), actual["actual"].to_numpy(dtype=float),
                             "actual", color=COLORS["actual"], width=2.5,
                             hovertemplate="%{y:.6~g}"))
    windows = rows["window"].unique()
    stride = max(2 * horizon, len(windows) // n_windows)  # a gap between lines: one per window
    for i, window in enumerate(windows[::stride][:n_windows]):
        one = rows[rows["window"] == window]
        spec.traces.append(dict(
            type="scatter", x=_as_x(one["timestamp"]), y=one["model"].to_numpy(dtype=float),
            mode="lines+markers", name=f"model: {horizon} values from one window",
            legendgroup="model", showlegend=i == 0, line=dict(color=COLORS["model"], width=2.5),
            marker=dict(size=6),
            hovertemplate="step %{customdata} ahead<br>%{y:.6~g}<extra></extra>",
            customdata=one["step"].to_numpy()))
    return spec.figure()


def _window_rows(pred: pd.DataFrame, split: str) -> pd.DataFrame:
    """Teacher-forced rows of one split with a window number (rows are stored window by window,
    steps 1..H)."""
    if pred is None or pred.empty or "kind" not in pred:
        return pd.DataFrame(columns=["timestamp", "step", "actual", "model", "window"])
    rows = pred[pred["kind"] == ONE_STEP]
    if "split" in rows:
        rows = rows[rows["split"] == split]
    rows = rows.assign(step=rows["step"].astype(int),
                       actual=pd.to_numeric(rows["actual"], errors="coerce"),
                       model=pd.to_numeric(rows["model"], errors="coerce"))
    return rows.assign(window=(rows["step"] == 1).cumsum()).reset_index(drop=True)


def lag_correlations(actual: Sequence[float], model: Sequence[float], max_lag: int = 5) -> np.ndarray:
    """corr(model_t, actual_{t-k}) for k = 0..max_lag (NaN where too short or constant)."""
    a = np.asarray(actual, dtype=float)                 # (n,)
    m = np.asarray(model, dtype=float)                  # (n,)
    out = np.full(max_lag + 1, np.nan)
    for k in range(max_lag + 1):
        pred, past = m[k:], a[:len(a) - k]
        ok = np.isfinite(pred) & np.isfinite(past)
        if ok.sum() >= 3 and pred[ok].std() > 0 and past[ok].std() > 0:
            out[k] = np.corrcoef(pred[ok], past[ok])[0, 1]
    return out


def lag_correlation_figure(actual: Sequence[float], model: Sequence[float],
                           max_lag: int = 5) -> go.Figure:
    """Which past value the prediction tracks: a peak at lag 1 means it mostly repeats the last one."""
    if not isinstance(max_lag, numbers.Integral) or isinstance(max_lag, bool) or max_lag < 1:
        raise ConfigError(f"max_lag must be a whole number >= 1. Received: max_lag={max_lag!r}")
    title = "Which past value does the prediction follow?"
    corr = lag_correlations(actual, model, max_lag)
    if np.isnan(corr).all():
        return _empty(title, "Too few predictions to correlate", "lag k (steps)", "correlation")
    best = int(np.nanargmax(corr))
    verdict = ("the prediction follows the value it predicts (lag 0): good" if best == 0 else
               f"the prediction follows the value {best} step{'s' * (best > 1)} earlier: "
               "it mostly repeats the past")
    spec = _figure(title, "lag k (steps back; 0 = the value being predicted)", "correlation",
                   subtitle=f"corr(prediction at t, actual at t−k). Peak at lag {best}: "
                            f"{verdict}", showlegend=False)
    colors = [COLORS["model"] if k == best else "#9ecae1" for k in range(len(corr))]
    spec.traces.append(dict(type="bar", x=list(range(len(corr))), y=corr, marker=dict(color=colors),
                            name="correlation",
                            text=[_fmt(v) if np.isfinite(v) else "" for v in corr],
                            textposition="outside", cliponaxis=False,
                            hovertemplate="lag %{x}<br>correlation %{y:.6~g}<extra></extra>"))
    lo = min(0.0, float(np.nanmin(corr)))
    spec.yaxis["range"] = [lo - 0.05, 1.1]
    spec.xaxis.update(dtick=1, showgrid=False)
    return spec.figure()
