"""The charts' constants: one colour language, the words of the legends and the sizes of the
figure's parts.

Actual values are grey, the model blue, the naive baseline orange dashed, the seasonal naive green
dotted, the mean light grey; train / validation / test each have their own colour. The colours
read on a light and on a dark background alike.
"""

from __future__ import annotations

from rnnlab.predictors import LEGEND_LABELS, LINE_COLORS, LINE_STYLES  # noqa: F401

COLORS = {
    **LINE_COLORS,            # the actual values and each predictor (`rnnlab.predictors`)
    "clip": "#d62728",
    "grid": "#e5e5e5",
}
SPLIT_COLORS = {"train": "#6a5acd", "val": "#c51b7d", "test": "#01857a"}
SPLIT_LABELS = {"train": "train", "val": "validation", "test": "test"}
RUN_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
              "#17becf", "#bcbd22", "#7f7f7f"]
# How each prediction column is drawn (colour, dash, shown at first) and its word in a legend:
# the one predictor table, `rnnlab.predictors`.
LINE_LABELS = LEGEND_LABELS
HEAT_SCALE = "Viridis"
RELATIVE_SCALE = [[0.0, "#2166ac"], [0.25, "#67a9cf"], [0.45, "#d1e5f0"], [0.5, "#f7f7f7"],
                  [0.55, "#fddbc7"], [0.75, "#ef8a62"], [1.0, "#b2182b"]]   # weaker … stronger
# The chart's tool bar (zoom, download, ...) takes the top 28 px at the right when the pointer
# is on a chart; the title starts below it, so the bar never covers it, even on a phone where the
# title runs under the bar. Margins at the top are counted with this room included.
TOOLBAR_ROOM = 34            # px above the title
TOP_MARGIN = 60 + 20         # a title alone
SUBTITLE_MARGIN = 85 + 20    # a title and a one-line subtitle (17 px per extra line)
HINT_OPACITY = 0.7           # a hint's text: the theme's text colour, faded
SUBTITLE_WIDTH = 52          # characters per subtitle line: fits a phone-wide chart
MAX_POINTS = 20_000          # above this a line is thinned (min/max per bucket) and drawn with WebGL
