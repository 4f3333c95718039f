"""Plotly figure builders: pure functions from run data to `go.Figure`.

Every figure shares one look (`TEMPLATE`) and one colour language: actual values grey,
the model blue, the naive baseline orange dashed, the seasonal naive green dotted, the mean
light grey; train / validation / test each have their own colour. Gradient views use a log
colour scale whose colorbar is labelled in real values, and their hover shows the exact value.
The colours read on a light and on a dark background alike: the dashboard draws the figures in
its own light or dark theme (the template's background and text colours give way to the theme's),
so no text, line or label here may depend on a white background; text that needs no colour of
its own takes the theme's (a grey hint is the theme's colour, faded with `opacity`).
Inputs are the shapes the run store returns (`Store.epochs`, `tensor_norms`, `step_norms`,
`through_time`) and the run's artefacts (`predictions.csv`, `forecast.csv`).

Figures are built as plain dicts (`_Spec`) and validated by Plotly once, when the `go.Figure` is
made: Plotly validates every property again on each `update_*` / `add_*` call, and a whole
template each time one is assigned, which made a small figure cost 15-50 ms to build; this way
it costs a few. The JSON sent to the browser is the same, less the parts of the template that no
figure here uses.
"""

from __future__ import annotations

import functools
import json
import math
import numbers
import re
import textwrap
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from rnnlab.config import CELL_LABELS
from rnnlab.errors import ConfigError, DataError

__all__ = [
    "COLORS", "SPLIT_COLORS", "RUN_COLORS", "TEMPLATE", "MAX_POINTS", "ACTIVATION_SLOPE",
    "series_figure", "loss_figure", "step_norm_figure", "tensor_heatmap", "through_time_heatmap",
    "predictions_figure", "residuals_figure", "forecast_figure", "compare_loss_figure",
    "unrolled_diagram", "bptt_calculator_figure", "bptt_factors", "metrics_bar_figure",
    "lag_correlations", "lag_correlation_figure", "horizon_figure", "tensor_label",
    "spans_decades", "loss_log_scale", "TOP_MARGIN", "through_time_grid",
    "relative_to_first_step", "describe", "figure_table",
]

# -- the product's look ---------------------------------------------------------------------------
COLORS = {
    "actual": "#737373",      # mid grey: at least 3.5:1 against white and against near-black
    "model": "#1f77b4",
    "naive": "#ff7f0e",
    "seasonal_naive": "#2ca02c",
    "linear_ar": "#9467bd",
    "anchor": "#8c564b",
    "mean": "#a6a6a6",
    "clip": "#d62728",
    "grid": "#e5e5e5",
}
SPLIT_COLORS = {"train": "#6a5acd", "val": "#c51b7d", "test": "#01857a"}
SPLIT_LABELS = {"train": "train", "val": "validation", "test": "test"}
RUN_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
              "#17becf", "#bcbd22", "#7f7f7f"]
# How each prediction column is drawn: colour, dash, shown at first (else legend only), label.
LINE_STYLES = {
    "actual": (COLORS["actual"], "solid", True, "actual"),
    "model": (COLORS["model"], "solid", True, "model"),
    "naive": (COLORS["naive"], "dash", True, "naive (last value)"),
    "seasonal_naive": (COLORS["seasonal_naive"], "dot", False, "seasonal naive"),
    "linear_ar": (COLORS["linear_ar"], "dashdot", False, "linear autoregression"),
    "anchor": (COLORS["anchor"], "longdash", False, "exponential smoothing"),
    "mean": (COLORS["mean"], "solid", False, "mean (train)"),
}
HEAT_SCALE = "Viridis"
# The chart's tool bar (zoom, download, ...) takes the top 28 px at the right when the pointer
# is on a chart; the title starts below it, so the bar never covers it, even on a phone where the
# title runs under the bar. Margins at the top are counted with this room included.
TOOLBAR_ROOM = 34            # px above the title
TOP_MARGIN = 60 + 20         # a title alone
SUBTITLE_MARGIN = 85 + 20    # a title and a one-line subtitle (17 px per extra line)
HINT_OPACITY = 0.7           # a hint's text: the theme's text colour, faded
SUBTITLE_WIDTH = 52          # characters per subtitle line: fits a phone-wide chart
MAX_POINTS = 20_000          # above this a line is thinned (min/max per bucket) and drawn with WebGL
ACTIVATION_SLOPE = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0, "linear": 1.0}   # max |f'(x)|

TEMPLATE = go.layout.Template(pio.templates["plotly_white"])
TEMPLATE.layout.update(
    font=dict(family="Arial, Helvetica, sans-serif", size=14, color="#222222"),
    title=dict(font=dict(size=18), x=0.015, xanchor="left", xref="container", y=1.0,
               yanchor="top", pad=dict(t=TOOLBAR_ROOM)),
    colorway=RUN_COLORS,
    paper_bgcolor="white", plot_bgcolor="white",
    margin=dict(l=70, r=30, t=TOP_MARGIN, b=60),
    # At the bottom of the figure: a legend that wraps onto more rows pushes the plot up
    # instead of running into the title.
    legend=dict(orientation="h", x=0.0, xanchor="left", y=0.0, yanchor="bottom",
                yref="container", bgcolor="rgba(0,0,0,0)", font=dict(size=13)),
    hoverlabel=dict(font=dict(size=13)),
    xaxis=dict(showline=True, linecolor="#888888", gridcolor=COLORS["grid"], ticks="outside",
               zeroline=False),
    yaxis=dict(showline=True, linecolor="#888888", gridcolor=COLORS["grid"], ticks="outside",
               zeroline=False),
)
# Only the trace types drawn here keep their template defaults, and the template's settings for
# kinds of plot never drawn here (3D scenes, ternary, polar, maps) go: they would be sent with
# every figure, and the template was nine tenths of a small figure's JSON.
TRACE_TYPES = ("scatter", "scattergl", "heatmap", "bar")
TEMPLATE.data = {kind: TEMPLATE.data[kind] for kind in TRACE_TYPES}
TEMPLATE.layout = {key: value for key, value in TEMPLATE.layout.to_plotly_json().items()
                   if key not in ("scene", "ternary", "polar", "geo")}
_TEMPLATE_JSON = json.dumps(TEMPLATE.to_plotly_json())  # validated once, here
# A figure made without a template first gets a copy of Plotly's default one; this small one
# (valid, cheap to check) stands in until TEMPLATE replaces it.
_STAND_IN_TEMPLATE = {"layout": {"plot_bgcolor": "white"}}


def _with_template(fig: go.Figure, **validated) -> go.Figure:
    """Give a figure the product's template (and other `validated` layout properties, already
    checked by Plotly once) without validating them again.

    Plotly re-validates a template on every assignment (~10 ms); TEMPLATE was validated when it
    was built, so it is attached as Plotly attaches its own default template (validation off for
    these properties only). Each figure gets its own copy: changing one never changes another."""
    layout = fig.layout
    validate = getattr(layout, "_validate", None)
    if validate is None:  # a Plotly without this switch: the slow, validated way
        return fig.update_layout(template=TEMPLATE, **validated)
    try:
        layout._validate = False
        layout["template"] = json.loads(_TEMPLATE_JSON)
        for key, value in validated.items():
            layout[key] = value
    finally:
        layout._validate = validate
    return fig


class _Spec:
    """A figure under construction: traces, shapes, annotations and layout as plain dicts, in
    the product's look with its title and axis titles. `figure()` makes the `go.Figure`."""

    def __init__(self, title: str, x_title: str = "", y_title: str = "",
                 subtitle: str | None = None, **layout):
        title_spec = dict(text=title)
        if subtitle:
            # Plotly does not wrap text: break long subtitles so they fit a half-width column.
            lines = textwrap.wrap(subtitle, SUBTITLE_WIDTH, break_long_words=False)
            title_spec["subtitle"] = dict(text="<br>".join(lines), font=dict(size=13))
            layout.setdefault("margin", dict(t=SUBTITLE_MARGIN + 17 * (len(lines) - 1)))
        self.traces: list[dict] = []
        self.shapes: list[dict] = list(layout.pop("shapes", None) or [])
        self.annotations: list[dict] = list(layout.pop("annotations", None) or [])
        self.layout = dict(title=title_spec, **layout)
        self.xaxis: dict = dict(title=dict(text=x_title))
        self.yaxis: dict = dict(title=dict(text=y_title))

    def figure(self) -> go.Figure:
        """The figure, validated by Plotly in one pass, with the template."""
        layout = dict(self.layout, xaxis=self.xaxis, yaxis=self.yaxis,
                      template=_STAND_IN_TEMPLATE)
        if self.shapes:
            layout["shapes"] = self.shapes
        if self.annotations:
            layout["annotations"] = self.annotations
        return _with_template(go.Figure(data=self.traces, layout=layout))


def _figure(title: str, x_title: str = "", y_title: str = "", subtitle: str | None = None,
            **layout) -> _Spec:
    """An empty figure spec in the product's look with its title and axis titles."""
    return _Spec(title, x_title, y_title, subtitle, **layout)


def _empty(title: str, message: str, x_title: str = "", y_title: str = "") -> go.Figure:
    """A figure with no data and a message in the middle (never an exception)."""
    spec = _figure(title, x_title, y_title)
    spec.annotations.append(dict(text=message, x=0.5, y=0.5, xref="paper", yref="paper",
                                 showarrow=False, font=dict(size=18), opacity=HINT_OPACITY))
    spec.xaxis.update(showticklabels=False, showgrid=False)
    spec.yaxis.update(showticklabels=False, showgrid=False)
    return spec.figure()


def _hline(spec: _Spec, y: float, line: dict) -> None:
    """A horizontal line across the whole plot at y (what `Figure.add_hline` draws)."""
    spec.shapes.append(dict(type="line", x0=0, x1=1, xref="x domain", y0=y, y1=y, yref="y",
                            line=line))


# -- small helpers --------------------------------------------------------------------------------
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


def loss_log_scale(epochs) -> bool:
    """Whether a loss curve reads better on a log scale: train or validation loss spans more
    than 1.5 decades (the first epoch's loss would flatten the rest of a linear chart)."""
    cols = _loss_columns(epochs)
    return any(spans_decades(cols[key]) for key in ("train_loss", "val_loss"))


# Keras weight names in words: what each weight multiplies.
WEIGHT_WORDS = {"kernel": "input weights", "recurrent_kernel": "recurrent weights",
                "bias": "bias"}
LAYER_WORDS = {"dense": "output layer", "linear_skip": "straight-line path"}


def tensor_label(name: str) -> str:
    """'lstm_2/recurrent_kernel' -> 'layer 2 · recurrent weights', 'dense/kernel' -> 'output
    layer · input weights', 'lstm_1/forward/bias' -> 'layer 1 forward · bias'; a name of
    another shape is returned as it is."""
    parts = str(name).split("/")
    if len(parts) < 2 or parts[-1] not in WEIGHT_WORDS:
        return str(name)
    layer, middle, weight = parts[0], parts[1:-1], WEIGHT_WORDS[parts[-1]]
    found = re.fullmatch(r"(simple_rnn|gru|lstm|esn|rnn)(?:_(\d+))?", layer)
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


def _downsample(y: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Row indices that keep every bucket's min and max, so spikes survive the thinning."""
    n = len(y)
    if n <= max_points:
        return np.arange(n)
    size = math.ceil(n / (max_points // 2))
    padded = np.full(math.ceil(n / size) * size, np.nan)
    padded[:n] = y
    buckets = padded.reshape(-1, size)                  # (n_buckets, size)
    low = np.where(np.isnan(buckets), np.inf, buckets).argmin(axis=1)
    high = np.where(np.isnan(buckets), -np.inf, buckets).argmax(axis=1)
    starts = np.arange(len(buckets)) * size
    keep = np.unique(np.concatenate([starts + low, starts + high, [0, n - 1]]))
    return keep[keep < n]


def _line(x, y, name: str, *, color: str, dash: str = "solid", width: float = 2.0,
          visible: bool | str = True, hovertemplate: str | None = None, **kw) -> dict:
    """A line trace, thinned and drawn with WebGL when it has more than MAX_POINTS points
    (per-point customdata is thinned with it)."""
    y = np.asarray(y, dtype=float)
    x = np.asarray(x)
    kind = "scatter"
    if len(y) > MAX_POINTS:
        keep = _downsample(y)
        n = len(y)
        x, y, kind = x[keep], y[keep], "scattergl"
        if kw.get("customdata") is not None and len(kw["customdata"]) == n:
            kw["customdata"] = np.asarray(kw["customdata"])[keep]
    trace = dict(type=kind, x=x, y=y, name=name, mode="lines", visible=visible,
                 line=dict(color=color, dash=dash, width=width), **kw)
    if hovertemplate is not None:
        trace["hovertemplate"] = hovertemplate
    return trace


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


def _vline(spec: _Spec, x, text: str, color: str | None = None, dash: str = "dash",
           side: str = "right", name: str = "vline") -> None:
    """A vertical line across the plot, labelled at its top on one side (safe on date axes);
    without `color`, a grey line and a label in the theme's text colour."""
    spec.shapes.append(dict(type="line", x0=x, x1=x, y0=0, y1=1, xref="x", yref="paper",
                            line=dict(color=color or "#888888", width=1.5, dash=dash),
                            name=name))
    font = dict(size=13) if color is None else dict(color=color, size=13)
    spec.annotations.append(dict(x=x, y=1, xref="x", yref="paper", text=text, showarrow=False,
                                 xanchor="left" if side == "right" else "right", yanchor="top",
                                 xshift=4 if side == "right" else -4, font=font, name=name))


# -- data ---------------------------------------------------------------------------------------
def series_figure(frame: pd.DataFrame, target: str,
                  split: tuple[int, int, int] | None = None) -> go.Figure:
    """The data over time: the target highlighted, other numeric columns in the legend, split bands."""
    numeric = list(frame.select_dtypes("number").columns)
    if target not in numeric:
        raise DataError(f"The column to forecast {target!r} is not a numeric column of the data. "
                        f"Pick one of: {', '.join(map(str, numeric)) or '(none)'}.")
    title = f"{target} over time"
    if frame.empty:
        return _empty(title, "No rows to show", _x_label(frame.index), target)
    x = np.asarray(frame.index)
    shown = [target] + [c for c in numeric if c != target]
    spec = _figure(title, _x_label(frame.index), f"{target} (data units)",
                   subtitle=_thinning_note(len(frame)), hovermode="x unified")
    for i, col in enumerate(shown):
        main = col == target
        spec.traces.append(_line(x, frame[col].to_numpy(dtype=float), str(col),
                                 color=COLORS["actual"] if main else RUN_COLORS[i % 10],
                                 width=2.0 if main else 1.2, opacity=1.0 if main else 0.6,
                                 visible=True if main else "legendonly",
                                 hovertemplate="%{y:.6~g}"))
    if split is not None:
        _split_bands(spec, x, split)
    return spec.figure()


def _thinning_note(n: int) -> str | None:
    """A subtitle saying that a long series is drawn thinned (nothing when it is not)."""
    if n <= MAX_POINTS:
        return None
    return (f"{n:,} points, drawn as the low and high of every {math.ceil(n / (MAX_POINTS // 2))} "
            "points; zoom in for detail")


def _split_bands(spec: _Spec, x: np.ndarray, split: tuple[int, int, int]) -> None:
    """Shade train, validation and test (row counts, chronological) with a label on each band."""
    n = len(x)
    edges = np.cumsum([0, *split])                      # (4,) first row of each split, then end
    for i, key in enumerate(("train", "val", "test")):
        start, stop = min(int(edges[i]), n), min(int(edges[i + 1]), n)
        if stop <= start:
            continue
        x0, x1 = x[start], x[stop] if stop < n else x[n - 1]
        spec.shapes.append(dict(type="rect", x0=x0, x1=x1, y0=0, y1=1, xref="x", yref="paper",
                                fillcolor=SPLIT_COLORS[key], opacity=0.10, line=dict(width=0),
                                layer="below", name=key))
        # Every other label one line lower, so labels of narrow neighbouring bands never collide.
        spec.annotations.append(dict(x=x0, y=1, xref="x", yref="paper", text=SPLIT_LABELS[key],
                                     showarrow=False, xanchor="left", yanchor="top", xshift=4,
                                     yshift=-2 - 18 * (i % 2),
                                     font=dict(color=SPLIT_COLORS[key], size=13), name=key))


# -- training -------------------------------------------------------------------------------------
def _loss_columns(epochs) -> dict[str, list]:
    """{"epoch", "train_loss", "val_loss"} lists from Store.curves columns or Store.epochs rows."""
    if isinstance(epochs, dict):
        n = len(epochs.get("epoch", []))
        return {key: list(epochs.get(key) or [None] * n)
                for key in ("epoch", "train_loss", "val_loss")}
    return {key: [row.get(key) for row in epochs] for key in ("epoch", "train_loss", "val_loss")}


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


RELATIVE_SCALE = [[0.0, "#2166ac"], [0.25, "#67a9cf"], [0.45, "#d1e5f0"], [0.5, "#f7f7f7"],
                  [0.55, "#fddbc7"], [0.75, "#ef8a62"], [1.0, "#b2182b"]]   # weaker … stronger


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


def sweep_figure(axes: Mapping[str, list], cells: Sequence, words: Mapping[str, str] | None = None
                 ) -> go.Figure:
    """A sweep's grid: median skill vs naive per cell (over its seeds). Two settings: a heatmap
    with the median and the lowest … highest written in each cell; one: bars with the range as
    error bars. `cells`: `groups.Cell`s (values in the axes' order, `stats.skill`)."""
    names = list(axes)
    words = dict(words or {})
    title = "Skill vs naive over the sweep's grid"
    scored = [c for c in cells if c.stats.skill.median is not None]
    if not names or not scored:
        return _empty(title, "No run of the sweep has finished yet", "", "")
    label = [words.get(n, n) for n in names]
    sub = ("Median skill vs naive of each cell's runs (1 − RMSE ÷ naive RMSE on the test part); "
           "above 0 beats repeating the last value")

    def _v(v):
        return f"{v:g}" if isinstance(v, float) else str(v)
    if len(names) == 1:
        xs = [_v(v) for v in axes[names[0]]]
        by = {_v(c.values[0]): c.stats.skill for c in scored}
        mid = [by[x].median if x in by else None for x in xs]
        lo = [by[x].median - by[x].low if x in by else None for x in xs]
        hi = [by[x].high - by[x].median if x in by else None for x in xs]
        spec = _figure(title, label[0], "median skill vs naive", subtitle=sub)
        spec.traces.append(dict(type="bar", x=xs, y=mid, name="median skill",
                                marker=dict(color=[COLORS["model"] if (m or 0) > 0 else
                                                   COLORS["naive"] for m in mid]),
                                error_y=dict(type="data", symmetric=False, array=hi,
                                             arrayminus=lo, thickness=1.5),
                                hovertemplate="%{x}: %{y:+.3f}<extra></extra>"))
        spec.xaxis["type"] = "category"
        _hline(spec, 0, dict(color=COLORS["actual"], width=1))
        return spec.figure()
    xs = [_v(v) for v in axes[names[0]]]
    ys = [_v(v) for v in axes[names[1]]]
    z = np.full((len(ys), len(xs)), np.nan)
    text = [["" for _ in xs] for _ in ys]
    for c in scored:
        i, j = ys.index(_v(c.values[1])), xs.index(_v(c.values[0]))
        sk = c.stats.skill
        z[i, j] = sk.median
        text[i][j] = f"{sk.median:+.2f}" + (f"<br>({sk.low:+.2f} … {sk.high:+.2f})"
                                           if sk.n > 1 else "")
    reach = float(np.nanmax(np.abs(z))) or 1.0
    spec = _figure(title, label[0], label[1], subtitle=sub)
    spec.traces.append(dict(type="heatmap", x=xs, y=ys, z=z, text=text,
                            texttemplate="%{text}", zmid=0, zmin=-reach, zmax=reach,
                            colorscale="RdBu", colorbar=dict(title=dict(text="skill")),
                            hovertemplate=f"{label[0]} %{{x}}, {label[1]} %{{y}}: "
                                          "%{z:+.3f}<extra></extra>"))
    spec.xaxis["type"] = "category"
    spec.yaxis["type"] = "category"
    return spec.figure()


def group_skill_figure(spreads: Sequence) -> go.Figure:
    """Groups side by side: each one's median skill vs naive as a dot, its lowest to highest
    run as a bar. `spreads`: (label, groups.Spread) pairs."""
    title = "Skill vs naive of each group: median and lowest … highest"
    shown = [(label, sp) for label, sp in spreads if sp.median is not None]
    if not shown:
        return _empty(title, "No run of these groups has finished yet", "", "skill vs naive")
    spec = _figure(title, "", "skill vs naive", subtitle="A group whose bar stays above 0 beats "
                   "repeating the last value whatever the luck of its runs")
    xs = [label for label, _ in shown]
    mid = [sp.median for _, sp in shown]
    spec.traces.append(dict(
        type="scatter", x=xs, y=mid, mode="markers", name="median",
        marker=dict(size=12, color=[COLORS["model"] if m > 0 else COLORS["naive"] for m in mid]),
        error_y=dict(type="data", symmetric=False, array=[sp.high - sp.median for _, sp in shown],
                     arrayminus=[sp.median - sp.low for _, sp in shown], thickness=2),
        hovertemplate="%{x}: %{y:+.3f}<extra></extra>"))
    spec.xaxis["type"] = "category"
    _hline(spec, 0, dict(color=COLORS["actual"], width=1))
    return spec.figure()


def backtest_figure(rows: Sequence[Mapping]) -> go.Figure:
    """A backtest's folds: skill vs naive per fold as bars (above 0 beats naive), oldest first.
    `rows`: `groups.backtest_rows`."""
    title = "Skill vs naive at each backtest origin"
    done = [r for r in rows if r.get("skill vs naive") is not None]
    if not done:
        return _empty(title, "No fold has finished yet", "fold", "skill vs naive")
    spec = _figure(title, "fold (test part rolling forward)", "skill vs naive",
                   subtitle="Each fold trains on the rows before its test part and tests on the "
                            "next rows; above 0 beats repeating the last value")
    xs = [f"fold {r['fold']}<br>rows to {r['rows up to']}" for r in done]
    ys = [r["skill vs naive"] for r in done]
    spec.traces.append(dict(type="bar", x=xs, y=ys, name="skill vs naive",
                            marker=dict(color=[COLORS["model"] if y > 0 else COLORS["naive"]
                                               for y in ys]),
                            hovertemplate="%{x}: %{y:+.3f}<extra></extra>"))
    spec.xaxis["type"] = "category"
    _hline(spec, 0, dict(color=COLORS["actual"], width=1))
    return spec.figure()


def _band(spec: _Spec, x, rows: pd.DataFrame, band: str | None, lower: str = "lower",
          upper: str = "upper", name: str = "") -> None:
    """An interval as a shaded band (drawn first, under the lines): columns lower_80/upper_80
    and the like of `rows`, for band "80" or "95"; nothing when absent or all empty."""
    if not band or f"{lower}_{band}" not in rows or f"{upper}_{band}" not in rows:
        return
    lo = pd.to_numeric(rows[f"{lower}_{band}"], errors="coerce").to_numpy(dtype=float)
    hi = pd.to_numeric(rows[f"{upper}_{band}"], errors="coerce").to_numpy(dtype=float)
    if np.isnan(lo).all() or np.isnan(hi).all():
        return
    spec.traces.append(dict(type="scatter", x=x, y=lo, mode="lines", line=dict(width=0),
                            showlegend=False, hoverinfo="skip", name=f"{band} % lower"))
    spec.traces.append(dict(type="scatter", x=x, y=hi, mode="lines", line=dict(width=0),
                            fill="tonexty", fillcolor="rgba(31,119,180,0.18)",
                            name=name or f"{band} % interval", hoverinfo="skip"))


# -- results --------------------------------------------------------------------------------------
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
    if kind == "free-running":
        return (f"Free-running forecast{ahead}",
                "The model feeds its own predictions back in: errors can build up")
    return (f"One-step-ahead predictions{ahead}",
            "One step ahead, from actual values: each prediction sees the true past")


def _set_words(split: str | None) -> str:
    """" (test set)" for a split, "" for none."""
    return f" ({SPLIT_LABELS.get(split, split)} set)" if split else ""


def _no_predictions(title: str, y_title: str) -> go.Figure:
    return _empty(title, "No predictions for this choice", "time", y_title)


def predictions_figure(pred: pd.DataFrame, kind: str = "one-step-ahead", step: int = 1, *,
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
    for col, (color, dash, shown, label) in LINE_STYLES.items():
        if col not in rows:
            continue
        y = pd.to_numeric(rows[col], errors="coerce").to_numpy(dtype=float)
        if np.isnan(y).all():
            continue
        spec.traces.append(_line(x, y, label, color=color, dash=dash,
                                 width=2.5 if col in ("actual", "model") else 1.8,
                                 visible=True if shown else "legendonly",
                                 hovertemplate="%{y:.6~g}"))
    return spec.figure()


def residuals_figure(pred: pd.DataFrame, kind: str = "one-step-ahead", step: int = 1, *,
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
    for col in ("model", "naive", "seasonal_naive", "linear_ar", "anchor", "mean"):
        if col not in rows:
            continue
        y = actual - pd.to_numeric(rows[col], errors="coerce").to_numpy(dtype=float)
        if np.isnan(y).all():
            continue
        color, _, _, label = LINE_STYLES[col]
        spec.traces.append(dict(
            type="scatter", x=x, y=y, name=f"{label} error",
            mode="lines+markers" if len(y) <= 500 else "lines",
            visible=True if col == "model" else "legendonly",
            line=dict(color=color, width=1.5 if col == "model" else 1.2,
                      dash=LINE_STYLES[col][1]),
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
    _vline(spec, x_past[-1], f"end of the data ({_when(x_past[-1])})", name="end of data",
           side="left")  # over the history, which has room on a phone too
    return spec.figure()


def _when(x) -> str:
    """A point of a time axis in words: a date (with the time when it has one), else a row."""
    if isinstance(x, (np.datetime64, pd.Timestamp)):
        stamp = pd.Timestamp(x)
        return stamp.strftime("%Y-%m-%d" if stamp == stamp.normalize() else "%Y-%m-%d %H:%M")
    return f"row {x}"


def metrics_bar_figure(metrics: Mapping[str, Mapping], metric: str = "rmse") -> go.Figure:
    """The model's error beside the baselines' (one bar each, lower is better)."""
    title = f"{metric.upper()}: model vs baselines (lower is better)"
    rows = [(name, m.get(metric)) for name, m in (metrics or {}).items()
            if m and m.get(metric) is not None and math.isfinite(float(m.get(metric)))]
    if not rows:
        return _empty(title, f"No {metric.upper()} to show", "", metric.upper())
    names = [LINE_STYLES.get(n, (None, None, None, n))[3] for n, _ in rows]
    values = [float(v) for _, v in rows]
    colors = [LINE_STYLES.get(n, (RUN_COLORS[3],))[0] for n, _ in rows]
    spec = _figure(title, "", f"{metric.upper()} (data units)" if metric != "mape" else "MAPE (%)",
                   subtitle=_skill_text(dict(rows), metric), showlegend=False)
    spec.traces.append(dict(type="bar", x=names, y=values, marker=dict(color=colors),
                            text=[_fmt(v) for v in values], textposition="outside",
                            cliponaxis=False, name=metric.upper(),
                            hovertemplate=f"%{{x}}<br>{metric.upper()} %{{y:.6~g}}<extra></extra>"))
    spec.yaxis["rangemode"] = "tozero"
    spec.xaxis["showgrid"] = False
    return spec.figure()


def _skill_text(values: dict[str, float], metric: str) -> str | None:
    """'Skill vs naive: the model's RMSE is 18% lower than the naive one's', when both exist."""
    model, naive = values.get("model"), values.get("naive")
    if model is None or not naive:
        return None
    skill = 1 - model / naive
    way = "lower" if skill >= 0 else "higher"
    return (f"Skill vs naive = 1 − {_fmt(model)} / {_fmt(naive)} = {skill:+.0%}: the model's "
            f"{metric.upper()} is {abs(skill):.0%} {way} than repeating the last value")


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


# -- teaching diagrams --------------------------------------------------------------------------
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
    rows = pred[pred["kind"] == "one-step-ahead"]
    if "split" in rows:
        rows = rows[rows["split"] == split]
    rows = rows.assign(step=rows["step"].astype(int),
                       actual=pd.to_numeric(rows["actual"], errors="coerce"),
                       model=pd.to_numeric(rows["model"], errors="coerce"))
    return rows.assign(window=(rows["step"] == 1).cumsum()).reset_index(drop=True)


def _drawn_columns(lookback: int, max_steps_drawn: int) -> list[int | None]:
    """Which steps back to draw, oldest first: all of them, or the first and last few with a gap."""
    if lookback <= max_steps_drawn:
        return list(range(lookback, 0, -1))
    first = max_steps_drawn // 2
    last = max_steps_drawn - first
    return [*range(lookback, lookback - first, -1), None, *range(last, 0, -1)]


def _step_label(back: int) -> str:
    """'t' for the most recent input, 't-k' for k steps before it."""
    return "t" if back == 1 else f"t-{back - 1}"


def unrolled_diagram(cell: str, n_layers: int, lookback: int, horizon: int,
                     max_steps_drawn: int = 8) -> go.Figure:
    """The stacked recurrent network unrolled over its window: inputs at the bottom, output at right."""
    for name, value in (("n_layers", n_layers), ("lookback", lookback), ("horizon", horizon),
                        ("max_steps_drawn", max_steps_drawn)):
        low = 2 if name == "max_steps_drawn" else 1
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
            raise ConfigError(f"{name} must be a whole number >= {low}. Received: {name}={value!r}")
    layout = json.loads(_unrolled_layout(cell, n_layers, lookback, horizon, max_steps_drawn))
    return _with_template(go.Figure(layout={"template": _STAND_IN_TEMPLATE}), **layout)


@functools.lru_cache(maxsize=64)
def _unrolled_layout(cell: str, n_layers: int, lookback: int, horizon: int,
                     max_steps_drawn: int) -> str:
    """The diagram's layout as JSON, built and validated once per shape of network (it has a
    hundred boxes, arrows and labels, so validating it costs more than any other figure)."""
    label = "Reservoir" if cell == "esn" else CELL_LABELS.get(cell, cell)
    short = {"simple_rnn": "RNN", "esn": "ESN"}.get(cell, label)   # fits in a box
    columns = _drawn_columns(lookback, max_steps_drawn)
    out_x = len(columns) + 0.6
    sketch = _Sketch()
    for col, back in enumerate(columns):
        _draw_column(sketch, col, back, n_layers, short)
        if col < len(columns) - 1:
            for row in range(1, n_layers + 1):
                sketch.arrow(col + 0.36, row, col + 0.64, row, "recurrent")
    for row in range(n_layers + 1):
        sketch.text(-0.45, row, f"layer {row}<br>{label}" if row else "input x", "row label",
                    xanchor="right", font=dict(size=12))
    _draw_output(sketch, len(columns) - 1, out_x, n_layers, horizon, label)
    spec = _figure(f"{label} unrolled over its {lookback}-step window",
                   subtitle="Every column is the same cell reused; → carries the state forward "
                            "in time, ↑ passes it up the stack",
                   showlegend=False, height=150 + 95 * (n_layers + 1), hovermode=False,
                   margin=dict(l=110, r=30, t=105 + 20, b=30),
                   shapes=sketch.shapes, annotations=sketch.notes)
    spec.xaxis.update(visible=False, range=[-0.6, out_x + 0.8], fixedrange=True)
    spec.yaxis.update(visible=False, range=[-0.45, n_layers + 0.6], fixedrange=True)
    layout = spec.figure().to_plotly_json()["layout"]
    del layout["template"]
    return json.dumps(layout)


class _Sketch:
    """Boxes, arrows and text of a diagram, gathered as plain dicts in data units."""

    def __init__(self) -> None:
        self.shapes: list[dict] = []
        self.notes: list[dict] = []

    def text(self, x: float, y: float, text: str, name: str, **kw) -> None:
        """A label centred on (x, y) unless told otherwise."""
        self.notes.append(dict(x=x, y=y, xref="x", yref="y", text=text, showarrow=False,
                               name=name, **kw))

    def box(self, x: float, y: float, text: str, fill: str, name: str, w: float = 0.34,
            h: float = 0.27, size: int = 12) -> None:
        """A labelled box centred on (x, y)."""
        self.shapes.append(dict(type="rect", x0=x - w, x1=x + w, y0=y - h, y1=y + h, xref="x",
                                yref="y", fillcolor=fill, line=dict(color="#555555", width=1),
                                name=name))
        # dark text: the boxes are light in both themes
        self.text(x, y, text, name, font=dict(size=size, color="#222222"))

    def arrow(self, x0: float, y0: float, x1: float, y1: float, name: str) -> None:
        """An arrow from (x0, y0) to (x1, y1)."""
        self.notes.append(dict(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y",
                               text="", showarrow=True, arrowhead=2, arrowsize=1.2,
                               arrowwidth=1.5, arrowcolor="#888888", name=name))


def _draw_column(sketch: _Sketch, col: int, back: int | None, n_layers: int, label: str) -> None:
    """One time step: the input box, a cell per layer, and the arrows up the stack."""
    if back is None:                                    # the gap between drawn steps
        for row in range(n_layers + 1):
            sketch.text(col, row, "…", "ellipsis", font=dict(size=26))
        return
    sketch.box(col, 0, f"x<sub>{_step_label(back)}</sub>", "#eeeeee", "input")
    for row in range(1, n_layers + 1):
        sketch.box(col, row, label, "#d6e6f5", "cell", size=11)
        sketch.arrow(col, row - 0.7, col, row - 0.29, "feed-forward")


def _draw_output(sketch: _Sketch, last_col: int, out_x: float, n_layers: int, horizon: int,
                 label: str) -> None:
    """The Dense(horizon) output (an ESN's readout) fed by the top layer's last state."""
    head = "Readout" if label == "Reservoir" else "Dense"
    sketch.box(out_x, n_layers, f"{head}({horizon})", "#fde0c5", "output", w=0.45)
    sketch.arrow(last_col + 0.36, n_layers, out_x - 0.47, n_layers, "to output")
    future = "ŷ<sub>t+1</sub>" if horizon == 1 else f"ŷ<sub>t+1</sub> … ŷ<sub>t+{horizon}</sub>"
    sketch.text(out_x, n_layers - 0.5, future, "prediction", font=dict(size=13))


def bptt_factors(w: float, activation: str, steps: int) -> np.ndarray:
    """(|w|·f'max)^k for k = 1..steps: how much a gradient can shrink or grow k steps back."""
    if activation not in ACTIVATION_SLOPE:
        raise ConfigError(f"activation must be one of {', '.join(ACTIVATION_SLOPE)}. "
                          f"Received: activation={activation!r}")
    if not isinstance(steps, numbers.Integral) or isinstance(steps, bool) or steps < 1:
        raise ConfigError(f"steps must be a whole number >= 1. Received: steps={steps!r}")
    if not isinstance(w, numbers.Real) or isinstance(w, bool) or not math.isfinite(w):
        raise ConfigError(f"w must be a finite number. Received: w={w!r}")
    factor = abs(w) * ACTIVATION_SLOPE[activation]
    with np.errstate(over="ignore", under="ignore"):
        return np.power(factor, np.arange(1, steps + 1, dtype=float))  # (steps,)


def _power_text(factor: float, steps: int) -> str:
    """factor**steps as text, even far beyond the float range (8.7×10^1397)."""
    if factor == 0:
        return "0"
    exponent = steps * math.log10(factor)
    if abs(exponent) < 300:
        return _fmt(factor ** steps)
    whole = math.floor(exponent)
    return f"{10 ** (exponent - whole):.2g}×10<sup>{whole}</sup>"


def bptt_calculator_figure(w: float, activation: str, steps: int) -> go.Figure:
    """|∂h_T/∂h_{T−k}| ≈ (|w|·f'max)^k on a log axis: vanishing below 1, exploding above."""
    values = bptt_factors(w, activation, steps)         # (steps,)
    slope = ACTIVATION_SLOPE[activation]
    factor = abs(w) * slope
    verdict = "vanishing" if factor < 1 else "exploding" if factor > 1 else "steady (exactly 1)"
    k = np.arange(1, steps + 1)
    spec = _figure(f"Per-step factor |w|·f′max = {_fmt(abs(w))} × {_fmt(slope)} = "
                   f"{_fmt(factor)}: {verdict}",
                   "k: steps back through time",
                   "|∂h<sub>T</sub> / ∂h<sub>T−k</sub>| (log scale)",
                   subtitle=f"{activation}: f′ ≤ {_fmt(slope)}. After {steps} steps the "
                            f"gradient is multiplied by {_power_text(factor, steps)}",
                   showlegend=False)
    shown = _positive(values)
    lo, hi = _bptt_range(shown)
    _bptt_bands(spec, lo, hi, verdict)
    spec.traces.append(dict(type="scatter", x=k, y=shown,
                            mode="lines+markers" if steps <= 60 else "lines",
                            name="(|w|·f′)^k", line=dict(color=COLORS["model"], width=2.5),
                            hovertemplate="k = %{x}<br>factor %{y:.6~g}<extra></extra>"))
    _hline(spec, 1, dict(color="#777777", width=1, dash="dash"))
    _bptt_end_label(spec, steps, shown[-1], _power_text(factor, steps))
    _bptt_float_limit(spec, values)
    _log_axis(spec.yaxis, lo=lo, hi=hi)
    spec.yaxis["range"] = [lo, hi]
    spec.xaxis["range"] = [0, steps + max(1, steps * 0.03)]
    return spec.figure()


def _bptt_range(shown: np.ndarray) -> tuple[float, float]:
    """The y range in log10 units: all the points and 1, with some room."""
    logs = np.log10(shown[np.isfinite(shown)])
    lo = min(float(logs.min()) if logs.size else 0.0, 0.0)
    hi = max(float(logs.max()) if logs.size else 0.0, 0.0)
    pad = max(0.5, 0.08 * (hi - lo))
    return max(lo - pad, -307.0), min(hi + pad, 307.0)      # plotly cannot go past float


def _bptt_bands(spec: _Spec, lo: float, hi: float, verdict: str) -> None:
    """Shade above 1 (exploding, red) and below 1 (vanishing, blue); the verdict's band stronger."""
    one = -lo / (hi - lo)                               # where y = 1 sits, as a fraction of the plot
    for y0, y1, color, word, anchor, y_label in (
            (one, 1, "#d62728", "exploding", "bottom", 0.04),
            (0, one, "#1f77b4", "vanishing", "top", -0.04)):
        spec.shapes.append(dict(type="rect", x0=0, x1=1, xref="paper", y0=y0, y1=y1,
                                yref="paper", fillcolor=color,
                                opacity=0.12 if word == verdict else 0.04, line=dict(width=0),
                                layer="below", name=word))
        # On the right, where the curve has left the line y = 1 (log axis: log10 position).
        spec.annotations.append(dict(
            x=0.99, xref="paper", y=y_label, yref="y",
            text=f"{word} ({'>' if word == 'exploding' else '<'} 1 per step)", showarrow=False,
            xanchor="right", yanchor=anchor, font=dict(color=color, size=13), name=word))


def _bptt_end_label(spec: _Spec, steps: int, last: float, text: str) -> None:
    """The value at the last step, written next to the last point (log axis: log10 position)."""
    if not np.isfinite(last):
        return
    spec.annotations.append(dict(
        x=steps, y=math.log10(last), xref="x", yref="y", text=f"k = {steps}: {text}",
        showarrow=True, arrowhead=0, ax=-50, ay=35 if last < 1 else -35, xanchor="right",
        font=dict(size=13, color=COLORS["model"]),
        name="last value"))


def _bptt_float_limit(spec: _Spec, values: np.ndarray) -> None:
    """Where (|w|f')^k leaves the float64 range: what a computer does with it (inf or 0)."""
    gone = ~(np.isfinite(values) & (values > 0))
    if not gone.any():
        return
    if np.all(values == 0):                             # w = 0, not an underflow
        spec.annotations.append(dict(x=0.5, y=0.5, xref="paper", yref="paper", name="float limit",
                                     text="w = 0: nothing flows back, not even one step",
                                     showarrow=False, font=dict(size=16, color=COLORS["clip"])))
        return
    k = int(np.argmax(gone)) + 1
    text = (f"from k = {k} the number is too big<br>for a float (> 1.8×10<sup>308</sup>):<br>"
            "training would see inf, then NaN" if np.isinf(values[k - 1]) else
            f"from k = {k} the number is too small<br>for a float: it becomes exactly 0")
    _vline(spec, k, text, color=COLORS["clip"], dash="dot", side="left" if k > len(values) / 2
           else "right", name="float limit")


# -- the same figure in words and numbers ---------------------------------------------------------
def _plain(text) -> str:
    """Plotly's small HTML (<br>, <sub>, <b>) as plain text."""
    text = re.sub(r"<br\s*/?>", " ", str(text or ""))
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip()


def describe(fig: go.Figure) -> str:
    """A short text alternative for a figure: its title and subtitle, in plain words."""
    title = fig.layout.title
    words = [_plain(title.text), _plain(title.subtitle.text)]
    return ". ".join(w for w in words if w)


def _axis_title(axis, fallback: str) -> str:
    return _plain(axis.title.text) or fallback


def figure_table(fig: go.Figure) -> pd.DataFrame | None:
    """The numbers a figure draws, as a table (None for a drawing without data, like the
    unrolled network).

    A heatmap: its rows and columns as they are drawn (the first column names the rows), each
    cell the real value shown on hover (not its log). Lines and bars: one row per x, one column per line; where two lines do not
    share their x values, one row per point instead (line, x, y)."""
    traces = [t for t in fig.data if t.type in TRACE_TYPES]
    heat = [t for t in traces if t.type == "heatmap"]
    if heat:
        trace = heat[0]
        cells = np.asarray(trace.customdata if trace.customdata is not None else trace.z,
                           dtype=float)
        if cells.ndim == 3:                             # (rows, cols, k): the first is shown
            cells = cells[..., 0]
        table = pd.DataFrame(cells, columns=[str(x) for x in trace.x])
        table.insert(0, _axis_title(fig.layout.yaxis, "row"), list(trace.y))
        return table
    x_name = _axis_title(fig.layout.xaxis, "x")
    columns, points = {}, []
    for i, trace in enumerate(traces):
        if trace.x is None or trace.y is None:
            continue
        name = _plain(trace.name) or f"line {i + 1}"
        x, y = list(trace.x), np.asarray(trace.y, dtype=float)
        points.append(pd.DataFrame({"line": name, x_name: x, "value": y}))
        if name not in columns:
            columns[name] = pd.Series(y, index=pd.Index(x, name=x_name))
    if not points:
        return None
    if all(c.index.is_unique for c in columns.values()):
        try:
            return pd.concat(columns, axis=1).sort_index().reset_index()
        except TypeError:                               # x values that do not sort together
            pass
    return pd.concat(points, ignore_index=True)


# -- start-up -------------------------------------------------------------------------------------
def warm_up() -> None:
    """Build and serialise one small figure of each kind, so that a web process pays Plotly's
    first-use costs (it makes the validators of each trace type, and imports its colour scales,
    the first time they are used) once at start-up instead of on a user's first visit."""
    days = pd.date_range("2024-01-01", periods=4, freq="D")
    pred = pd.DataFrame({"split": "test", "kind": "one-step-ahead", "step": 1,
                         "timestamp": days.strftime("%Y-%m-%d"), "actual": [1.0, 2.0, 3.0, 4.0],
                         "model": [1.1, 2.1, 2.9, 4.2], "naive": [1.0, 1.0, 2.0, 3.0]})
    epochs = [dict(epoch=1, train_loss=1.0, val_loss=1.2), dict(epoch=2, train_loss=0.5,
                                                                   val_loss=0.7)]
    built = [
        series_figure(pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0]}, index=days), "y", (2, 1, 1)),
        loss_figure(epochs, log_y=True),
        compare_loss_figure({"a": epochs}),
        step_norm_figure({1: [0.5, 2.0], 2: [0.4, 0.3]}, clipnorm=1.0),
        tensor_heatmap([dict(epoch=1, tensor="lstm_1/kernel", mean=0.1, max=0.2)]),
        through_time_heatmap({"input": {1: [0.1, 0.01]}}),
        predictions_figure(pred), residuals_figure(pred),
        forecast_figure(pd.Series([1.0, 2.0], index=days[:2], name="y"),
                        pd.DataFrame({"timestamp": days[2:], "forecast": [3.0, 4.0]})),
        metrics_bar_figure({"model": {"rmse": 1.0}, "naive": {"rmse": 2.0}}),
        lag_correlation_figure(np.sin(np.arange(20.0)), np.sin(np.arange(20.0) - 1)),
        bptt_calculator_figure(0.9, "tanh", 10),
        unrolled_diagram("lstm", 1, 4, 1),
        _empty("warm-up", "no data"),
    ]
    for fig in built:
        pio.to_json(fig.to_dict(), validate=False)


# -- a class ----------------------------------------------------------------------------------------
def _plain_label(text: str) -> str:
    """A person's name as Plotly text: its small HTML (<b>, <a href>, ...) shown, not acted on."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def class_skill_figure(skills: Mapping[str, float | None],
                       title: str = "The class's best runs: skill vs the naive forecast"
                       ) -> go.Figure:
    """One dot per student: the skill vs naive (1 − model RMSE / naive RMSE) of their best
    finished run, students ordered from best to worst, so the spread of the class shows at a
    glance. Dots above 0 beat the naive forecast (blue), the others did not (orange); the
    dashed line is the class's median. Students without a finished run are left out."""
    scored = {name: float(v) for name, v in skills.items()
              if v is not None and math.isfinite(float(v))}
    if not scored:
        return _empty(title, "No finished run yet", "student", "skill vs naive")
    ranked = sorted(scored.items(), key=lambda item: (-item[1], item[0].casefold()))
    values = np.array([v for _, v in ranked])                       # (students,)
    median = float(np.median(values))
    beat = int((values > 0).sum())
    spec = _figure(title, "student", "skill vs naive (higher is better)",
                   subtitle=f"{beat} of {len(values)} beat the naive forecast (above 0); "
                            f"median {median:+.2f}, from {values.min():+.2f} to "
                            f"{values.max():+.2f}", hovermode="closest")
    for label, color, keep in (("beat the naive forecast", COLORS["model"], True),
                               ("did not beat it", COLORS["naive"], False)):
        part = [(name, v) for name, v in ranked if (v > 0) == keep]
        if not part:
            continue
        spec.traces.append(dict(
            type="scatter", mode="markers", name=label,
            x=[_plain_label(name) for name, _ in part], y=[v for _, v in part],
            marker=dict(color=color, size=16, line=dict(width=1, color="white")),
            hovertemplate="%{x}: skill %{y:+.3f}<extra></extra>"))
    _hline(spec, 0.0, dict(color=COLORS["naive"], width=1.5))
    _hline(spec, median, dict(color=COLORS["actual"], width=1.5, dash="dash"))
    spec.annotations.append(dict(text="naive forecast", x=1, xref="x domain", xanchor="right",
                                 y=0.0, yref="y", yanchor="bottom", showarrow=False,
                                 font=dict(size=12, color=COLORS["naive"])))
    spec.annotations.append(dict(text=f"median {median:+.2f}", x=0, xref="x domain",
                                 xanchor="left", y=median, yref="y", yanchor="bottom",
                                 showarrow=False, font=dict(size=12), opacity=HINT_OPACITY))
    spec.xaxis.update(type="category", categoryorder="array",
                      categoryarray=[_plain_label(name) for name, _ in ranked], tickangle=-30)
    low, high = min(values.min(), 0.0), max(values.max(), 0.0)
    pad = max(0.05, 0.1 * (high - low))
    spec.yaxis.update(range=[low - pad, high + pad], zeroline=False)
    return spec.figure()
