"""A teaching diagram: the stacked recurrent network unrolled over its window."""

from __future__ import annotations

import functools
import json
import numbers

import plotly.graph_objects as go

from rnnlab import cells
from rnnlab.errors import ConfigError
from rnnlab.figures.spec import _STAND_IN_TEMPLATE, _figure, _with_template


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
    spec = cells.BY_KEY.get(cell)
    label = spec.diagram_label if spec else cell
    short = spec.short if spec else label   # fits in a box
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
