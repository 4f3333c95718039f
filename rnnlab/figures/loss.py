"""Loss curves: one run's train and validation loss, several runs side by side, and a group of
runs of one setup as a median with its spread."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from rnnlab.figures.axes import _floats, _log_axis, _whole_epochs, spans_decades
from rnnlab.figures.spec import _empty, _figure, _Spec, _vline
from rnnlab.figures.style import COLORS, RUN_COLORS, SPLIT_COLORS, SPLIT_LABELS


def _loss_columns(epochs) -> dict[str, list]:
    """{"epoch", "train_loss", "val_loss"} lists from Store.curves columns or Store.epochs rows."""
    if isinstance(epochs, dict):
        n = len(epochs.get("epoch", []))
        return {key: list(epochs.get(key) or [None] * n)
                for key in ("epoch", "train_loss", "val_loss")}
    return {key: [row.get(key) for row in epochs] for key in ("epoch", "train_loss", "val_loss")}


def loss_log_scale(epochs) -> bool:
    """Whether a loss curve reads better on a log scale: train or validation loss spans more
    than 1.5 decades (the first epoch's loss would flatten the rest of a linear chart)."""
    cols = _loss_columns(epochs)
    return any(spans_decades(cols[key]) for key in ("train_loss", "val_loss"))


def loss_figure(epochs, log_y: bool | None = None) -> go.Figure:
    """Train and validation loss per epoch; gaps where the loss was NaN, a note if it diverged.

    `epochs`: Store.curves columns (what the pages read) or Store.epochs rows. `log_y` None:
    a log scale when the loss spans more than 1.5 decades (`loss_log_scale`).
    """
    title = "Loss per epoch (lower is better)"
    cols = _loss_columns(epochs)
    if not cols["epoch"]:
        return _empty(title, "No epochs yet", "epoch", "loss")
    if log_y is None:
        log_y = loss_log_scale(cols)
    x = cols["epoch"]
    spec = _figure(title, "epoch", "loss (on scaled data)" + (", log scale" if log_y else ""),
                   subtitle="A growing gap between train and validation means overfitting",
                   hovermode="x unified")
    for key, dash in (("train", "solid"), ("val", "dash")):
        y = _floats(cols[f"{key}_loss"])
        if key == "val" and np.isnan(y).all():
            continue
        spec.traces.append(dict(
            type="scatter", x=x, y=y, name=f"{SPLIT_LABELS[key]} loss", mode="lines+markers",
            line=dict(color=SPLIT_COLORS[key], dash=dash, width=2), marker=dict(size=7),
            hovertemplate="%{y:.6~g}"))
    _mark_divergence(spec, cols)
    _whole_epochs(spec.xaxis, x)
    if log_y:
        _log_axis(spec.yaxis, cols["train_loss"], cols["val_loss"])
    else:
        spec.yaxis["type"] = "linear"
    return spec.figure()


def _mark_divergence(spec: _Spec, cols: dict[str, list]) -> None:
    """A red line and a note at the first epoch whose training loss is missing, NaN or inf."""
    for epoch, loss in zip(cols["epoch"], cols["train_loss"]):
        if loss is None or not math.isfinite(float(loss)):
            _vline(spec, epoch, f"diverged at epoch {epoch} (loss NaN or inf)",
                   color=COLORS["clip"], dash="dot", side="left", name="diverged")
            return


def compare_loss_figure(curves: dict[str, list[dict]], log_y: bool | None = None) -> go.Figure:
    """Several runs' losses: one colour per run, train solid, validation dashed (`log_y` None:
    a log scale when any run's loss spans more than 1.5 decades)."""
    title = "Loss per epoch, run by run"
    if not curves or not any(curves.values()):
        return _empty(title, "No runs to compare", "epoch", "loss")
    if log_y is None:
        log_y = any(loss_log_scale(epochs) for epochs in curves.values() if epochs)
    shown_losses = []
    spec = _figure(title, "epoch", "loss (on scaled data)" + (", log scale" if log_y else ""),
                   subtitle="Solid: train, dashed: validation. Click a run in the legend to "
                            "hide it")
    for i, (run, epochs) in enumerate(curves.items()):
        color = RUN_COLORS[i % len(RUN_COLORS)]
        x = [row["epoch"] for row in epochs]
        for key, dash in (("train", "solid"), ("val", "dash")):
            y = _floats(row.get(f"{key}_loss") for row in epochs)
            if key == "val" and (not len(y) or np.isnan(y).all()):
                continue
            shown_losses.append(y)
            # One legend entry per run (its train line); the validation line follows it.
            spec.traces.append(dict(
                type="scatter", x=x, y=y, name=run if key == "train" else f"{run} validation",
                legendgroup=run, showlegend=key == "train", mode="lines",
                line=dict(color=color, dash=dash, width=2),
                hovertemplate=f"%{{fullData.legendgroup}}<br>epoch %{{x}}<br>"
                              f"{SPLIT_LABELS[key]} loss %{{y:.6~g}}<extra></extra>"))
    _whole_epochs(spec.xaxis, [row["epoch"] for epochs in curves.values() for row in epochs])
    if log_y:
        _log_axis(spec.yaxis, *shown_losses)
    else:
        spec.yaxis["type"] = "linear"
    return spec.figure()


def group_loss_figure(curves: Sequence, log_y: bool | None = False,
                      title: str = "Loss per epoch over the group's runs") -> go.Figure:
    """Several runs of one setup (a seeds group): per epoch the median loss as a line and the
    lowest to highest as a band, for train and validation.

    `curves`: one Store.curves (or Store.epochs rows) per run. At each epoch only the runs that
    reached it with a finite loss count (early stopping ends some runs sooner).
    """
    cols = [_loss_columns(c) for c in curves]
    if not any(c["epoch"] for c in cols):
        return _empty(title, "No epochs yet", "epoch", "loss")
    epochs = sorted({int(e) for c in cols for e in c["epoch"] if e is not None})
    if log_y is None:
        log_y = any(loss_log_scale(c) for c in cols)
    spec = _figure(title, "epoch", "loss (on scaled data)" + (", log scale" if log_y else ""),
                   subtitle=f"Line: the median of {len(cols)} runs; band: the lowest to the "
                            "highest. A wide band means the result depends on luck",
                   hovermode="x unified")
    for key, dash, fill in (("train", "solid", "rgba(106,90,205,0.18)"),
                            ("val", "dash", "rgba(197,27,125,0.15)")):
        table = np.full((len(cols), len(epochs)), np.nan)       # (runs, epochs)
        where = {e: j for j, e in enumerate(epochs)}
        for i, c in enumerate(cols):
            for e, v in zip(c["epoch"], _floats(c[f"{key}_loss"])):
                if e is not None:
                    table[i, where[int(e)]] = v
        has = ~np.isnan(table).all(axis=0)
        if not has.any():
            continue
        x = [e for e, ok in zip(epochs, has) if ok]
        part = table[:, has]
        low, mid, high = np.nanmin(part, 0), np.nanmedian(part, 0), np.nanmax(part, 0)
        label = SPLIT_LABELS[key]
        spec.traces.append(dict(type="scatter", x=x, y=low, name=f"{label} lowest",
                                mode="lines", line=dict(width=0, color=SPLIT_COLORS[key]),
                                legendgroup=key, showlegend=False, hoverinfo="skip"))
        spec.traces.append(dict(type="scatter", x=x, y=high, name=f"{label} lowest to highest",
                                mode="lines", line=dict(width=0, color=SPLIT_COLORS[key]),
                                fill="tonexty", fillcolor=fill, legendgroup=key,
                                hoverinfo="skip"))
        spec.traces.append(dict(type="scatter", x=x, y=mid, name=f"{label} loss (median)",
                                mode="lines", legendgroup=key,
                                line=dict(color=SPLIT_COLORS[key], dash=dash, width=2),
                                customdata=np.stack([low, high], axis=1),
                                hovertemplate="%{y:.6~g} (%{customdata[0]:.4~g} … "
                                              "%{customdata[1]:.4~g})"))
    _whole_epochs(spec.xaxis, epochs)
    if log_y:
        _log_axis(spec.yaxis, *(c[f"{key}_loss"] for c in cols for key in ("train", "val")))
    else:
        spec.yaxis["type"] = "linear"
    return spec.figure()
