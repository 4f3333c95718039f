"""The charts of the report (`rnnlab.figures`), by key, each with a few words on how to read it;
long runs are thinned so that the file stays small."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from rnnlab import figures
from rnnlab.artefacts import FREE_RUN, ONE_STEP
from rnnlab.store import LOSS_COLUMNS, RunRecord, Store

if TYPE_CHECKING:
    from rnnlab.report.data import DataFacts

MAX_HEATMAP_CELLS = 12_000   # a gradient heatmap in the file keeps at most about this many cells


@dataclass
class Chart:
    """One figure of the report, with a few words on how to read it."""

    key: str
    figure: go.Figure
    caption: str = ""


def build_charts(store: Store, run: RunRecord, pred: pd.DataFrame | None,
                 forecast: pd.DataFrame | None, facts: DataFacts | None = None) -> dict[str, Chart]:
    """Every chart of the report, by key, in the order they are shown; charts without data
    are left out."""
    charts: dict[str, Chart] = {}
    if facts is not None and facts.chart is not None:
        charts["data"] = facts.chart
    target = run.result.target or run.config.get("data", {}).get("target")
    if pred is not None and not pred.empty and {"kind", "step", "actual", "model"} <= set(pred):
        _prediction_charts(charts, pred, target, forecast)
    test = run.result.test_metrics
    if test:
        charts["metrics"] = Chart("metrics", figures.metrics_bar_figure(test),
                                  "The test error of the model beside the baselines'.")
    curves = store.curves(run.id, LOSS_COLUMNS)
    if curves["epoch"]:
        charts["loss"] = Chart("loss", figures.loss_figure(curves),
                               "Loss on the scaled data, per epoch: training solid, validation "
                               "dashed.")
    _gradient_charts(charts, store, run)
    return charts


def _prediction_charts(charts: dict[str, Chart], pred: pd.DataFrame, target: str | None,
                       forecast: pd.DataFrame | None) -> None:
    kinds = set(pred["kind"].astype(str))
    if ONE_STEP in kinds:
        charts["pred_one"] = Chart("pred_one", figures.predictions_figure(
            pred, ONE_STEP, 1, target=target),
            "Each forecast is made from the true past values, so errors never pile up. The "
            "baselines not drawn are in the legend: click one to show it.")
        charts["resid_one"] = Chart("resid_one", figures.residuals_figure(
            pred, ONE_STEP, 1, target=target), "Actual minus predicted, over time.")
    if FREE_RUN in kinds:
        rows = pred[pred["kind"] == FREE_RUN].assign(step=1)
        charts["pred_free"] = Chart("pred_free", figures.predictions_figure(
            rows, FREE_RUN, 1, target=target),
            "From the start of the test part the model sees only its own forecasts, so errors "
            "can grow.")
    if forecast is not None and not forecast.empty and {"timestamp", "forecast"} <= set(forecast):
        history = _history(pred, target)
        if history is not None:
            charts["forecast"] = Chart("forecast", figures.forecast_figure(
                history, forecast.assign(timestamp=_index(forecast["timestamp"]))),
                "The forecast past the end of the data, each step fed the one before.")


def _history(pred: pd.DataFrame, target: str | None) -> pd.Series | None:
    rows = pred[(pred["kind"] == ONE_STEP) & (pred["step"] == 1)]
    if "split" in rows:
        rows = rows[rows["split"] == "test"]
    if rows.empty:
        return None
    try:
        return pd.Series(rows["actual"].to_numpy(dtype=float), index=_index(rows["timestamp"]),
                         name=target or "value")
    except (ValueError, TypeError):
        return None


def _index(values: pd.Series) -> pd.Index:
    """ISO text as dates, positions as numbers (as the Results page reads them)."""
    if pd.api.types.is_numeric_dtype(values):
        return pd.Index(values)
    return pd.DatetimeIndex(pd.to_datetime(values))


def shown_epochs(epochs, max_epochs: int) -> list[int]:
    """At most `max_epochs` of the sorted `epochs`, evenly spread, the first and last kept."""
    epochs = sorted(set(epochs))
    if len(epochs) <= max_epochs:
        return epochs
    picks = {round(i * (len(epochs) - 1) / (max_epochs - 1)) for i in range(max_epochs)}
    return [epochs[i] for i in sorted(picks)]


def _thinned_words(shown: int, total: int) -> str:
    return "" if shown == total else (f" To keep the file small, {shown} of the {total} epochs "
                                      "are shown, evenly spread (first and last included).")


def _gradient_charts(charts: dict[str, Chart], store: Store, run: RunRecord) -> None:
    tensors = store.tensor_norms(run.id)
    if tensors:
        all_epochs = {r["epoch"] for r in tensors}
        keep = set(shown_epochs(all_epochs, max(20, MAX_HEATMAP_CELLS // max(
            1, len({r["tensor"] for r in tensors})))))
        charts["grad_tensor"] = Chart(
            "grad_tensor", figures.tensor_heatmap([r for r in tensors if r["epoch"] in keep],
                                                  "mean"),
            "One row per weight tensor (kernel = from the inputs, recurrent_kernel = from one "
            "step to the next, bias), one column per epoch; colour = the average gradient size, "
            "log scale. Dark rows barely learn." + _thinned_words(len(keep), len(all_epochs)))
    steps = store.step_norms(run.id)
    if steps:
        charts["grad_steps"] = Chart(
            "grad_steps", figures.step_norm_figure(steps, (run.config.get("train") or {})
                                                   .get("clipnorm")),
            "The size of the whole gradient at every training step. Spikes are exploding "
            "gradients; sinking towards zero is vanishing.")
    through = store.through_time(run.id)
    for series in sorted(through, key=lambda n: (n != "input", len(n), n)):
        by_epoch = through[series]
        width = max((len(v) for v in by_epoch.values()), default=1)
        keep = shown_epochs(by_epoch, max(20, MAX_HEATMAP_CELLS // max(1, width)))
        charts[f"grad_time_{series}"] = Chart(
            f"grad_time_{series}",
            figures.through_time_heatmap({series: {e: by_epoch[e] for e in keep}}, series),
            "One row per epoch, one column per step back from the prediction (1 = the most "
            "recent input); colour fading to the right means the gradient vanishes on its way "
            "back in time." + _thinned_words(len(keep), len(by_epoch)))
