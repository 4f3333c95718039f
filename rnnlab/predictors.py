"""Every predictor a run is scored with, and the actual values beside them: one table.

Each row gives a prediction column's name (as in predictions.csv and the summary's metrics), its
label for people (tables, sentences), its shorter word in a chart's legend, its colour, its dash,
and whether a chart shows it at first (else in the legend only). The rows are in the order tables
and legends list them. Plain Python: the web side and the engine both read it.
"""

from __future__ import annotations

from dataclasses import dataclass

ACTUAL, MODEL, NAIVE, SEASONAL_NAIVE = "actual", "model", "naive", "seasonal_naive"
LINEAR_AR, ANCHOR, MEAN = "linear_ar", "anchor", "mean"


@dataclass(frozen=True)
class Line:
    """One prediction column as people see it."""

    name: str
    label: str       # in tables and sentences
    legend: str      # in a chart's legend
    color: str
    dash: str
    shown: bool      # drawn at first (else in the legend only)


LINES = (
    Line(ACTUAL, "actual", "actual", "#737373", "solid", True),   # grey: 3.5:1 on light and dark
    Line(MODEL, "the model", "model", "#1f77b4", "solid", True),
    Line(NAIVE, "naive (last value)", "naive (last value)", "#ff7f0e", "dash", True),
    Line(SEASONAL_NAIVE, "seasonal naive (one season ago)", "seasonal naive", "#2ca02c", "dot",
         False),
    Line(LINEAR_AR, "linear autoregression", "linear autoregression", "#9467bd", "dashdot", False),
    Line(ANCHOR, "classical (exponential smoothing)", "exponential smoothing", "#8c564b",
         "longdash", False),
    Line(MEAN, "mean of training data", "mean (train)", "#a6a6a6", "solid", False),
)
BY_NAME = {line.name: line for line in LINES}

# The predictors proper (the model and the baselines): name -> label for people.
PREDICTORS = {line.name: line.label for line in LINES if line.name != ACTUAL}
BASELINES = tuple(name for name in PREDICTORS if name != MODEL)
# Each line's word in a legend, the actual values first.
LEGEND_LABELS = {line.name: line.legend for line in LINES}
# How each line is drawn: name -> (colour, dash, shown at first).
LINE_STYLES = {line.name: (line.color, line.dash, line.shown) for line in LINES}
LINE_COLORS = {line.name: line.color for line in LINES}
# The rows of a score table in a terminal: the baselines by their label, the model as "model".
TABLE_LABELS = {**PREDICTORS, MODEL: BY_NAME[MODEL].legend}


def label(name: str) -> str:
    """The predictor's label for people, or its name when it is not one of ours."""
    return PREDICTORS.get(name, name)
