"""Gradient views: the gradient's size at every step, per weight tensor and epoch, and through
time (steps back from the prediction). Log colour scales with colorbars in real values; the
hover shows the exact value."""

from __future__ import annotations

import math
import re

import numpy as np
import plotly.graph_objects as go

from rnnlab import cells
from rnnlab.errors import ConfigError
from rnnlab.figures.axes import _epoch_dtick, _floats, _fmt, _log_axis, _log_ticks, _positive
from rnnlab.figures.spec import _empty, _figure, _line, _Spec
from rnnlab.figures.style import COLORS, HEAT_SCALE, HINT_OPACITY, RELATIVE_SCALE


# Keras weight names in words: what each weight multiplies (rnnlab.cells' tensors).
WEIGHT_WORDS = cells.tensor_words()
# a recurrent layer's name: a cell's key, or Keras' "rnn", then its number
_RECURRENT_LAYER = re.compile(rf"({'|'.join(map(re.escape, (*cells.KEYS, 'rnn')))})(?:_(\d+))?")
LAYER_WORDS = {"dense": "output layer", "linear_skip": "straight-line path"}


def tensor_label(name: str) -> str:
    """'lstm_2/recurrent_kernel' -> 'layer 2 · recurrent weights', 'dense/kernel' -> 'output
    layer · input weights', 'lstm_1/forward/bias' -> 'layer 1 forward · bias'; a name of
    another shape is returned as it is."""
    parts = str(name).split("/")
    if len(parts) < 2 or parts[-1] not in WEIGHT_WORDS:
        return str(name)
    layer, middle, weight = parts[0], parts[1:-1], WEIGHT_WORDS[parts[-1]]
    found = _RECURRENT_LAYER.fullmatch(layer)
    if found:
        layer = f"layer {found.group(2) or 1}"
    elif layer in LAYER_WORDS:
        layer = LAYER_WORDS[layer]
    else:
        return str(name)
    return " ".join([layer, *middle]) + f" · {weight}"


def _log_heatmap(x, y, values: np.ndarray, hovertemplate: str, colorbar_title: str) -> dict:
    """A heatmap of log10(values) with a colorbar in real values and the exact value on hover."""
    z = np.log10(_positive(values))                     # (rows, cols)
    finite = z[np.isfinite(z)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    tickvals, ticktext = _log_ticks(lo, hi)
    return dict(
        type="heatmap", x=x, y=y, z=z, zmin=lo, zmax=hi, customdata=np.asarray(values, dtype=float),
        colorscale=HEAT_SCALE, hoverongaps=False, hovertemplate=hovertemplate,
        colorbar=dict(title=dict(text=colorbar_title, side="right"), tickvals=tickvals,
                      ticktext=ticktext, thickness=16))


def _note_if_blank(spec: _Spec, values: np.ndarray) -> None:
    """Say so when no cell can be drawn on a log scale (all zero or missing)."""
    if np.isnan(_positive(values)).all():
        spec.annotations.append(dict(
            text="Every value is 0 or missing: no gradient reached here", x=0.5, y=0.5,
            xref="paper", yref="paper", showarrow=False, font=dict(size=16),
            opacity=HINT_OPACITY, name="blank"))


def step_norm_figure(step_norms: dict[int, list[float]], clipnorm: float | None = None) -> go.Figure:
    """The global gradient norm of every training step (log y), epoch edges and the clip line."""
    title = "Gradient size at every step" + (" (before clipping)" if clipnorm else "")
    epochs = sorted(step_norms)
    norms = [_floats(step_norms[e]) for e in epochs]
    if not norms or sum(len(v) for v in norms) == 0:
        return _empty(title, "No gradient steps yet", "training step", "gradient norm")
    y = np.concatenate(norms)                           # (total_steps,)
    epoch_of = np.repeat(epochs, [len(v) for v in norms])  # (total_steps,)
    x = np.arange(1, len(y) + 1)                         # global step, 1-based
    spec = _figure(title, "training step (all epochs in a row)",
                   "size of the whole gradient (log scale)",
                   subtitle="Spikes are exploding gradients; a slide down the scale, decade after "
                            "decade, is vanishing")
    spec.traces.append(_line(x, _positive(y), "gradient norm", color=COLORS["model"], width=1.5,
                             customdata=epoch_of,
                             hovertemplate="step %{x} (epoch %{customdata})<br>"
                                           "norm %{y:.6~g}<extra></extra>"))
    _epoch_edges(spec, epochs, [len(v) for v in norms])
    if clipnorm is not None:
        _clip_line(spec, x, float(clipnorm))
    _log_axis(spec.yaxis, y, [] if clipnorm is None else [float(clipnorm)])
    return spec.figure()


def _epoch_edges(spec: _Spec, epochs: list[int], lengths: list[int]) -> None:
    """Faint lines where each epoch starts (up to 50 epochs), named at the top up to 12."""
    if len(epochs) > 50:
        return
    starts = np.cumsum([0, *lengths[:-1]]) + 0.5        # (n_epochs,) between two steps
    lines = [dict(type="line", x0=x, x1=x, y0=0, y1=1, xref="x", yref="paper", name="epoch edge",
                  line=dict(color="#999999", width=1, dash="dot")) for x in starts[1:]]
    labels = []
    if len(epochs) <= 12:
        texts = [f"epoch {epochs[0]}", *map(str, epochs[1:])]   # short, so narrow epochs fit
        labels = [dict(x=x, y=1, xref="x", yref="paper", text=text, showarrow=False,
                       xanchor="left", yanchor="top", xshift=3, name="epoch label",
                       font=dict(size=11), opacity=HINT_OPACITY)
                  for text, x in zip(texts, starts)]
    spec.shapes.extend(lines)
    spec.annotations.extend(labels)


def _clip_line(spec: _Spec, x: np.ndarray, clipnorm: float) -> None:
    """A dashed red line at the clipping threshold, in the legend and labelled on the plot."""
    spec.traces.append(dict(type="scatter", x=[x[0], x[-1]], y=[clipnorm, clipnorm],
                            mode="lines", name=f"clip threshold ({_fmt(clipnorm)})",
                            line=dict(color=COLORS["clip"], dash="dash", width=2),
                            hovertemplate=f"clip threshold {clipnorm:.6g}<extra></extra>"))
    # Annotations on a log axis are placed in log10 units.
    spec.annotations.append(dict(x=1, xref="paper", y=math.log10(clipnorm), yref="y",
                                 showarrow=False, text=f"clip threshold = {_fmt(clipnorm)}",
                                 xanchor="right", yanchor="bottom", yshift=2,
                                 font=dict(color=COLORS["clip"], size=13),
                                 name="clip threshold"))


def tensor_heatmap(tensor_norms: list[dict], stat: str = "mean") -> go.Figure:
    """Gradient norm of every weight tensor (rows) at every epoch (columns), log colour."""
    if stat not in ("mean", "max"):
        raise ConfigError(f"stat must be 'mean' or 'max'. Received: stat={stat!r}")
    word = "mean" if stat == "mean" else "largest"
    title = "Gradient size per group of weights"
    if not tensor_norms:
        return _empty(title, "No gradient norms yet", "epoch", "weight tensor")
    tensors, epochs, values = _tensor_grid(tensor_norms, stat)  # values: (n_tensors, n_epochs)
    labels = [tensor_label(t) for t in tensors]
    if len(set(labels)) < len(labels):                  # two names read the same: keep Keras's
        labels = list(tensors)
    spec = _figure(title, "epoch", "weights (first layer at the bottom)",
                   subtitle=f"The {word} over each epoch's steps. Dark rows get little gradient "
                            "and learn slowly; bright spikes explode")
    heat = _log_heatmap(
        epochs, labels, values,
        f"%{{y}} (%{{text}})<br>epoch %{{x}}<br>{word} gradient size %{{customdata:.6~g}}"
        "<extra></extra>", "gradient size")
    heat["text"] = [[name] * len(epochs) for name in tensors]   # Keras's name, in the hover
    spec.traces.append(heat)
    _note_if_blank(spec, values)
    spec.yaxis.update(type="category", automargin=True)
    spec.xaxis.update(showgrid=False, dtick=_epoch_dtick(len(epochs)))
    return spec.figure()


def _tensor_grid(tensor_norms: list[dict], stat: str) -> tuple[list, list, np.ndarray]:
    """Rows: tensors in model order (first seen first); columns: epochs in order; cells: the
    first recorded value of `stat` for that tensor and epoch (NaN where there is none)."""
    tensors = list(dict.fromkeys(row["tensor"] for row in tensor_norms))
    epochs = sorted({row["epoch"] for row in tensor_norms})
    row_of = {t: i for i, t in enumerate(tensors)}
    col_of = {e: j for j, e in enumerate(epochs)}
    values = np.full((len(tensors), len(epochs)), np.nan)
    for row in tensor_norms:
        value = row.get(stat)
        if value is None or value != value:             # missing or NaN: not a value
            continue
        cell = row_of[row["tensor"]], col_of[row["epoch"]]
        if np.isnan(values[cell]):
            values[cell] = value
    return tensors, epochs, values


def _through_time_title(series: str) -> str:
    """What a through-time series measures, in words."""
    if series == "input":
        return "Gradient reaching each input step"
    layer = series.removeprefix("layer_")
    return f"Gradient reaching each hidden state of layer {layer}"


def through_time_grid(through_time: dict[str, dict[int, list[float]]],
                      series: str = "input") -> tuple[list[int], np.ndarray]:
    """The epochs (sorted) and a (n_epochs, lookback) grid of one series' gradient through time;
    NaN where an epoch recorded fewer steps or a value is missing."""
    by_epoch = (through_time or {}).get(series) or {}
    epochs = sorted(by_epoch)
    width = max((len(by_epoch[e]) for e in epochs), default=0)
    values = np.full((len(epochs), width), np.nan)      # (n_epochs, lookback)
    for row, epoch in enumerate(epochs):
        values[row, :len(by_epoch[epoch])] = _floats(by_epoch[epoch])
    return epochs, values


def relative_to_first_step(values: np.ndarray) -> np.ndarray:
    """Each row divided by its first column (the gradient 1 step back): 1 at step 1, 8 where
    the gradient is eight times as strong as 1 step back. A row whose step-1 value is zero or
    missing has no such ratio: all NaN."""
    values = np.asarray(values, dtype=float)            # (rows, steps)
    if values.size == 0:
        return values.copy()
    first = _positive(values[:, :1])                    # (rows, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return values / first


def _relative_heatmap(x, y, values: np.ndarray, ratio: np.ndarray) -> dict:
    """A heatmap of log10(ratio), white at 1 (as strong as 1 step back), blue where weaker, red
    where stronger; a colour range symmetric around 1; the ratio and the value on hover."""
    z = np.log10(_positive(ratio))                      # (rows, cols)
    finite = z[np.isfinite(z)]
    reach = max(float(np.abs(finite).max()) if finite.size else 0.0, 0.5)
    tickvals, ticktext = _log_ticks(-reach, reach)
    return dict(
        type="heatmap", x=x, y=y, z=z, zmin=-reach, zmax=reach, zmid=0.0,
        customdata=np.stack([np.asarray(ratio, dtype=float), np.asarray(values, dtype=float)],
                            axis=-1),                    # (rows, cols, 2)
        colorscale=RELATIVE_SCALE, hoverongaps=False,
        hovertemplate="epoch %{y}<br>%{x} steps back<br>%{customdata[0]:.3~g}× the gradient "
                      "1 step back<br>mean gradient %{customdata[1]:.6~g}<extra></extra>",
        colorbar=dict(title=dict(text="× the gradient 1 step back", side="right"),
                      tickvals=tickvals, ticktext=[f"{t}×" for t in ticktext], thickness=16))


def through_time_heatmap(through_time: dict[str, dict[int, list[float]]],
                         series: str = "input", relative: bool = False) -> go.Figure:
    """Rows epochs, columns steps back from the prediction (nearest on the left), log colour.

    relative=False: one colour scale for every epoch (the gradient's size). relative=True: each
    epoch divided by its own gradient 1 step back, so how far back the gradient reaches shows
    in every epoch, also where the sizes span many decades (blue: weaker than 1 step back, red:
    stronger)."""
    title = _through_time_title(series)
    epochs, values = through_time_grid(through_time, series)
    if not epochs:
        return _empty(title, "No gradient-through-time data yet", "steps back", "epoch")
    steps = np.arange(1, values.shape[1] + 1)           # 1 = the input right before the prediction
    subtitle = ("Each epoch against its own gradient 1 step back: blue is weaker, red stronger"
                if relative else "Colour fading to the right: the gradient vanishes through time")
    spec = _figure(title, "steps back from the prediction (1 = most recent input)",
                   "epoch (first at the top)", subtitle=subtitle)
    if relative:
        ratio = relative_to_first_step(values)
        spec.traces.append(_relative_heatmap(steps, epochs, values, ratio))
        _note_if_blank(spec, ratio)
    else:
        spec.traces.append(_log_heatmap(
            steps, epochs, values,
            "epoch %{y}<br>%{x} steps back<br>mean gradient %{customdata:.6~g}<extra></extra>",
            "mean |gradient|"))
        _note_if_blank(spec, values)
    spec.yaxis.update(autorange="reversed", showgrid=False, dtick=_epoch_dtick(len(epochs)))
    spec.xaxis.update(showgrid=False)
    return spec.figure()
