"""The data page's chart: the series over time, with its train / validation / test bands."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rnnlab.errors import DataError
from rnnlab.figures.axes import _x_label
from rnnlab.figures.spec import _empty, _figure, _line, _Spec
from rnnlab.figures.style import (COLORS, MAX_POINTS, RUN_COLORS, SPLIT_COLORS,
                                  SPLIT_LABELS)


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
