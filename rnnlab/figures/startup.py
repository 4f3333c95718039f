"""Start-up: one small figure of each kind, built once so that the first user does not wait."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.io as pio

from rnnlab.artefacts import ONE_STEP
from rnnlab.figures.bptt import bptt_calculator_figure
from rnnlab.figures.data import series_figure
from rnnlab.figures.gradients import step_norm_figure, tensor_heatmap, through_time_heatmap
from rnnlab.figures.loss import compare_loss_figure, loss_figure
from rnnlab.figures.predictions import (forecast_figure, lag_correlation_figure,
                                        predictions_figure, residuals_figure)
from rnnlab.figures.skill import metrics_bar_figure
from rnnlab.figures.spec import _empty
from rnnlab.figures.unrolled import unrolled_diagram


def warm_up() -> None:
    """Build and serialise one small figure of each kind, so that a web process pays Plotly's
    first-use costs (it makes the validators of each trace type, and imports its colour scales,
    the first time they are used) once at start-up instead of on a user's first visit."""
    days = pd.date_range("2024-01-01", periods=4, freq="D")
    pred = pd.DataFrame({"split": "test", "kind": ONE_STEP, "step": 1,
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
