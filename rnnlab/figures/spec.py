"""The product's look and the figure spec that every builder fills.

`TEMPLATE` is the one look of every figure. Figures are built as plain dicts (`_Spec`) and
validated by Plotly once, when the `go.Figure` is made: Plotly validates every property again on
each `update_*` / `add_*` call, and a whole template each time one is assigned, which made a small
figure cost 15-50 ms to build; this way it costs a few. The JSON sent to the browser is the same,
less the parts of the template that no figure here uses.

Also here: the pieces that figures of every kind draw (a line, thinned when long; horizontal and
vertical lines; the figure with no data and a message).
"""

from __future__ import annotations

import json
import math
import textwrap

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from rnnlab.figures.style import (COLORS, HINT_OPACITY, MAX_POINTS, RUN_COLORS, SUBTITLE_MARGIN,
                                  SUBTITLE_WIDTH, TOOLBAR_ROOM, TOP_MARGIN)


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
