"""Plotly figure builders: pure functions from run data to `go.Figure`.

Every figure shares one look (`TEMPLATE`) and one colour language (`style`). Gradient views use
a log colour scale whose colorbar is labelled in real values, and their hover shows the exact
value. The dashboard draws the figures in its own light or dark theme (the template's background
and text colours give way to the theme's), so no text, line or label here may depend on a white
background; text that needs no colour of its own takes the theme's (a grey hint is the theme's
colour, faded with `opacity`). Inputs are the shapes the run store returns (`Store.epochs`,
`tensor_norms`, `step_norms`, `through_time`) and the run's artefacts (`predictions.csv`,
`forecast.csv`).

The modules:
- `style`: colours, legend words and sizes shared by every chart;
- `spec`: the template, the figure spec every builder fills, and the pieces all figures draw;
- `axes`: numbers, log-scale ticks, time and epoch axes;
- `data`: the series over time (the data page);
- `loss`: loss curves of one run, of several runs, and of a group of runs;
- `gradients`: gradient norms per step, per weight tensor and through time;
- `predictions`: predictions, errors, forecast, many-to-many windows, lag correlations;
- `skill`: a run's metrics beside its baselines', and skill across sweeps, groups, backtests
  and a class;
- `unrolled` and `bptt`: teaching diagrams;
- `table`: a figure in words and numbers;
- `startup`: the one-off warm-up of a web process.

Names starting with `_` are the package's own helpers, shared between its modules.
"""

from __future__ import annotations

from rnnlab.figures.axes import WHOLE_EPOCH_TICKS, _fmt, spans_decades
from rnnlab.figures.bptt import ACTIVATION_SLOPE, bptt_calculator_figure, bptt_factors
from rnnlab.figures.data import series_figure
from rnnlab.figures.gradients import (relative_to_first_step, step_norm_figure, tensor_heatmap,
                                      tensor_label, through_time_grid, through_time_heatmap)
from rnnlab.figures.loss import (compare_loss_figure, group_loss_figure, loss_figure,
                                 loss_log_scale)
from rnnlab.figures.predictions import (forecast_figure, horizon_figure, lag_correlation_figure,
                                        lag_correlations, predictions_figure, residuals_figure)
from rnnlab.figures.skill import (backtest_figure, class_skill_figure, group_skill_figure,
                                  metrics_bar_figure, sweep_figure)
from rnnlab.figures.spec import TEMPLATE, TRACE_TYPES, _empty
from rnnlab.figures.startup import warm_up
from rnnlab.figures.style import (COLORS, MAX_POINTS, RUN_COLORS, SPLIT_COLORS, SUBTITLE_MARGIN,
                                  SUBTITLE_WIDTH, TOP_MARGIN)
from rnnlab.figures.table import describe, figure_table
from rnnlab.figures.unrolled import unrolled_diagram

__all__ = [
    "COLORS", "SPLIT_COLORS", "RUN_COLORS", "TEMPLATE", "TRACE_TYPES", "MAX_POINTS", "TOP_MARGIN",
    "SUBTITLE_MARGIN", "SUBTITLE_WIDTH", "WHOLE_EPOCH_TICKS", "ACTIVATION_SLOPE",
    "series_figure", "loss_figure", "loss_log_scale", "spans_decades", "compare_loss_figure",
    "group_loss_figure", "step_norm_figure", "tensor_heatmap", "tensor_label",
    "through_time_grid", "through_time_heatmap", "relative_to_first_step",
    "predictions_figure", "residuals_figure", "forecast_figure", "horizon_figure",
    "lag_correlations", "lag_correlation_figure", "metrics_bar_figure", "sweep_figure",
    "group_skill_figure", "backtest_figure", "class_skill_figure", "unrolled_diagram",
    "bptt_factors", "bptt_calculator_figure", "describe", "figure_table", "warm_up",
]
