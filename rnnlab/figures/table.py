"""The same figure in words and numbers: a short text alternative and the table of what it
draws."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rnnlab.figures.spec import TRACE_TYPES


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
