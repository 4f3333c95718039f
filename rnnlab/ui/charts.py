"""Plotly charts on a page: drawn in the app's theme with a table switch, and the gradient
heatmaps' colour scales."""

from __future__ import annotations

import math
import re
from typing import Any

import streamlit as st

from rnnlab import figures

# The chart's tool bar (zoom, download, ...) shows only while the pointer is on the chart, so it
# never covers the title, not on a narrow screen either.
# Only the tools these charts need (no box or lasso selection): a short bar, over less of the
# chart on a phone.
CHART_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": "hover",
                "modeBarButtonsToRemove": ["select2d", "lasso2d", "zoomIn2d", "zoomOut2d",
                                           "autoScale2d"]}


def chart(fig, key: str) -> None:
    """A Plotly figure at full width. Its colours mean the same everywhere (figures.COLORS); its
    background, text and grid follow the app's theme, light or dark (the browser's choice).
    Screen readers get its title as a description, and a switch under it shows the numbers it
    draws as a table (built only when asked for)."""
    st.plotly_chart(fig, key=key, width="stretch", theme="streamlit", config=CHART_CONFIG,
                    alt=figures.describe(fig) or None)
    if not any(t.type in figures.TRACE_TYPES for t in fig.data):
        return                                   # a drawing (the unrolled network): no numbers
    if st.toggle("Show as table", key=f"{key}_table",
                 help="The numbers drawn in the chart above, as a table you can sort, search "
                      "and download."):
        table = figures.figure_table(fig)
        if table is not None:
            st.dataframe(table, key=f"{key}_table_view", hide_index=True)


# The gradient-through-time heatmap's two scales: one for every epoch (sizes), or each epoch
# against its own gradient 1 step back (how far back the gradient reaches, epoch by epoch).
TIME_SCALES = {"shared": "shared across epochs",
               "relative": "each epoch relative to 1 step back"}
TIME_SCALE_HELP = ("Shared: one colour scale for every epoch, so the gradient's size shows, "
                   "but a late epoch can be lost in a range of many powers of ten. Relative: "
                   "each epoch divided by its own gradient 1 step back, so 1× (white) is as "
                   "strong as the most recent step, red is stronger, blue weaker: how far back "
                   "the gradient reaches shows in every epoch.")


def time_scale_ui(key: str, where: Any = None) -> bool:
    """The scale switch of a gradient-through-time heatmap; True for the relative view."""
    choice = (where or st).radio("Scale", list(TIME_SCALES), key=key, horizontal=True,
                                 format_func=TIME_SCALES.get, help=TIME_SCALE_HELP)
    return choice == "relative"


MAX_COLOUR_TICKS = 7


def share_colour_scale(figs: list) -> None:
    """Give the log-colour heatmaps of figures shown side by side one colour range (in log10
    units, as the figures draw them), so equal colours mean equal values in every figure."""
    traces = [t for fig in figs for t in fig.data
              if t.type == "heatmap" and t.zmin is not None and t.zmax is not None]
    if len(traces) < 2:
        return
    lo, hi = min(t.zmin for t in traces), max(t.zmax for t in traces)
    ticks = [k for k in range(math.floor(lo), math.ceil(hi) + 1) if lo <= k <= hi] or [lo, hi]
    step = -(-len(ticks) // MAX_COLOUR_TICKS)             # at most that many, in narrow columns
    labels_end = ""
    if all(t.zmid == 0 for t in traces):   # ratios to 1 step back: 1× in the middle, kept
        ticks = [k for k in ticks if k % step == 0]
        labels_end = "×"
    else:
        ticks = ticks[::step]
    # 1e+08 -> 1e8, 1e-05 -> 1e-5, as the figures write them
    labels = [re.sub(r"e\+?(-?)0*(?=\d)", r"e\1", f"{10.0 ** k:.3g}") + labels_end
              for k in ticks]
    for trace in traces:
        trace.update(zmin=lo, zmax=hi, colorbar=dict(tickvals=ticks, ticktext=labels))
