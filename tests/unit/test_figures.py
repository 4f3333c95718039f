"""Figure builders: checked on fig.data and fig.layout, never on pixels."""

import functools
import json
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from rnnlab import figures as F
from rnnlab.errors import ConfigError, DataError
from rnnlab.store import Store


# -- helpers --------------------------------------------------------------------------------------
def _names(fig):
    return [t.name for t in fig.data]


def _trace(fig, name):
    (trace,) = [t for t in fig.data if t.name == name]
    return trace


def _texts(fig):
    return [a.text for a in fig.layout.annotations]


def _is_empty_with(fig, message):
    return len(fig.data) == 0 and message in _texts(fig)


def _epochs(n=5, val=True):
    return [dict(epoch=e, train_loss=1.0 / e, val_loss=(1.5 / e if val else None))
            for e in range(1, n + 1)]


def _pred_frame():
    """predictions.csv in its long format: two splits, two kinds, horizon 2."""
    rows = []
    for split, start in (("val", 0), ("test", 10)):
        for kind in ("one-step-ahead", "free-running"):
            for i in range(start, start + 10):
                for step in (1, 2):
                    rows.append(dict(split=split, kind=kind,
                                     timestamp=(pd.Timestamp("2024-01-01")
                                                + pd.Timedelta(days=i + step)).strftime("%Y-%m-%d"),
                                     step=step, actual=float(i), model=i + 0.5 * step,
                                     naive=i - 1.0, seasonal_naive=np.nan, mean=4.5))
    return pd.DataFrame(rows)


# -- the shared look ------------------------------------------------------------------------------
def test_line_styles_are_the_same_in_every_results_figure():
    fig = F.predictions_figure(_pred_frame())
    assert _trace(fig, "actual").line.color == F.COLORS["actual"]
    assert _trace(fig, "model").line.color == F.COLORS["model"]
    naive = _trace(fig, "naive (last value)")
    assert naive.line.color == F.COLORS["naive"] and naive.line.dash == "dash"
    hist = pd.Series([1.0, 2.0, 3.0], index=pd.date_range("2024-01-01", periods=3), name="y")
    fc = pd.DataFrame({"timestamp": ["2024-01-04", "2024-01-05"], "forecast": [4.0, 5.0]})
    forecast = F.forecast_figure(hist, fc)
    assert _trace(forecast, "history (actual)").line.color == F.COLORS["actual"]
    assert _trace(forecast, "forecast (model)").line.color == F.COLORS["model"]
    bars = F.metrics_bar_figure({"model": {"rmse": 1.0}, "naive": {"rmse": 2.0}})
    assert list(bars.data[0].marker.color) == [F.COLORS["model"], F.COLORS["naive"]]
    loss = F.loss_figure(_epochs())
    assert _trace(loss, "train loss").line.color == F.SPLIT_COLORS["train"]


def test_the_forecast_chart_draws_the_classical_forecast_when_the_run_has_one():
    hist = pd.Series([1.0, 2.0, 3.0], index=pd.date_range("2024-01-01", periods=3), name="y")
    fc = pd.DataFrame({"timestamp": ["2024-01-04", "2024-01-05"], "forecast": [4.0, 5.0],
                       "classical": [3.5, 3.9]})
    line = _trace(F.forecast_figure(hist, fc), "forecast (exponential smoothing)")
    assert line.line.color == F.COLORS["anchor"] and line.line.dash == "dot"
    assert list(line.y) == [3.0, 3.5, 3.9]               # joined to the last known value
    for without in (fc.drop(columns="classical"), fc.assign(classical=np.nan)):
        names = [t.name for t in F.forecast_figure(hist, without).data]
        assert "forecast (exponential smoothing)" not in names and "forecast (model)" in names


@functools.cache
def _every_figure():
    hist = pd.Series(np.arange(10.0), name="y")
    fc = pd.DataFrame({"timestamp": [10, 11], "forecast": [10.0, 11.0]})
    tensors = [dict(epoch=1, tensor="lstm/kernel", mean=0.1, max=0.2)]
    return {
        "series": F.series_figure(pd.DataFrame({"y": np.arange(10.0)}), "y", (6, 2, 2)),
        "loss": F.loss_figure(_epochs()),
        "steps": F.step_norm_figure({1: [0.5, 2.0]}, clipnorm=1.0),
        "tensors": F.tensor_heatmap(tensors),
        "through_time": F.through_time_heatmap({"input": {1: [0.1, 0.01]}}),
        "predictions": F.predictions_figure(_pred_frame()),
        "residuals": F.residuals_figure(_pred_frame()),
        "forecast": F.forecast_figure(hist, fc),
        "compare": F.compare_loss_figure({"a": _epochs()}),
        "unrolled": F.unrolled_diagram("gru", 2, 12, 1),
        "bptt": F.bptt_calculator_figure(0.9, "tanh", 10),
        "metrics": F.metrics_bar_figure({"model": {"rmse": 1.0}}),
        "lag": F.lag_correlation_figure(np.sin(np.arange(50)), np.sin(np.arange(50) - 1)),
    }


@pytest.mark.parametrize("name", list(_every_figure()))
def test_every_figure_has_a_title_the_template_and_serialises(name):
    fig = _every_figure()[name]
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text
    assert fig.layout.template.layout.plot_bgcolor == "white"
    json.loads(fig.to_json())                            # what Streamlit sends to the browser
    assert len(fig.layout.title.text) <= 60              # fits a half-width column
    subtitle = fig.layout.title.subtitle.text or ""
    assert all(len(line) <= F.SUBTITLE_WIDTH for line in subtitle.split("<br>"))
    if name != "unrolled":
        assert fig.layout.xaxis.title.text or name == "metrics"
        assert fig.layout.yaxis.title.text


@pytest.mark.parametrize("name", list(_every_figure()))
def test_every_figure_is_valid_plotly_template_included(name):
    """Parts attached without validation (the template, the diagram's layout) were checked once;
    a strict rebuild of the whole figure proves it."""
    spec = _every_figure()[name].to_dict()
    strict = go.Figure(spec)                             # raises on any invalid property
    assert strict.layout.template.layout.font.family.startswith("Arial")


def test_warm_up_builds_every_kind_of_figure():
    F.warm_up()  # the web process calls it once at start-up; it must never fail


def test_each_figure_has_its_own_copy_of_the_template():
    one, two = F.loss_figure(_epochs()), F.loss_figure(_epochs())
    one.layout.template.layout.font.size = 30
    assert two.layout.template.layout.font.size == 14
    assert F.loss_figure(_epochs()).layout.template.layout.font.size == 14
    assert F.TEMPLATE.layout.font.size == 14


def test_the_template_keeps_the_look_of_the_kinds_of_plot_drawn_here():
    import plotly.io as pio

    white = pio.templates["plotly_white"]
    spec = F.loss_figure(_epochs()).to_dict()["layout"]["template"]
    assert sorted(spec["data"]) == sorted(F.TRACE_TYPES)
    for kind in F.TRACE_TYPES:
        assert spec["data"][kind] == white.to_plotly_json()["data"][kind]
    assert spec["layout"]["xaxis"]["gridcolor"] == F.COLORS["grid"]
    assert "scene" not in spec["layout"] and "polar" not in spec["layout"]


def test_the_diagram_is_built_once_per_shape_and_each_call_gets_its_own_figure():
    one = F.unrolled_diagram("gru", 2, 12, 1)
    two = F.unrolled_diagram("gru", 2, 12, 1)
    assert one is not two and one.to_dict() == two.to_dict()
    one.update_layout(title_text="changed")
    assert F.unrolled_diagram("gru", 2, 12, 1).layout.title.text.startswith("GRU unrolled")
    assert F.unrolled_diagram("lstm", 2, 12, 1).layout.title.text.startswith("LSTM unrolled")


# -- series -------------------------------------------------------------------------------------
def test_series_target_first_others_in_the_legend_only():
    frame = pd.DataFrame({"a": np.arange(10.0), "y": np.arange(10.0) * 2, "b": np.ones(10),
                          "label": ["x"] * 10})
    fig = F.series_figure(frame, "y", None)
    assert _names(fig) == ["y", "a", "b"]
    assert [t.visible for t in fig.data] == [True, "legendonly", "legendonly"]
    assert fig.data[0].line.color == F.COLORS["actual"]
    assert np.array_equal(fig.data[0].y, frame["y"].to_numpy())
    assert len(fig.layout.shapes) == 0


def test_series_split_bands_on_a_range_index():
    fig = F.series_figure(pd.DataFrame({"y": np.arange(100.0)}), "y", (70, 20, 10))
    bands = [(s.name, s.x0, s.x1) for s in fig.layout.shapes if s.type == "rect"]
    assert bands == [("train", 0, 70), ("val", 70, 90), ("test", 90, 99)]
    assert [a.text for a in fig.layout.annotations] == ["train", "validation", "test"]
    assert [a.yshift for a in fig.layout.annotations] == [-2, -20, -2]   # staggered labels
    assert [s.fillcolor for s in fig.layout.shapes] == [F.SPLIT_COLORS[k] for k in
                                                        ("train", "val", "test")]
    assert fig.layout.xaxis.title.text.startswith("row")


def test_series_split_bands_on_dates_and_an_empty_split():
    index = pd.date_range("2024-01-01", periods=30, freq="D", name="date")
    fig = F.series_figure(pd.DataFrame({"y": np.arange(30.0)}, index=index), "y", (25, 0, 5))
    bands = [(s.name, pd.Timestamp(s.x0), pd.Timestamp(s.x1)) for s in fig.layout.shapes]
    assert bands == [("train", index[0], index[25]), ("test", index[25], index[29])]
    assert fig.layout.xaxis.title.text == "date"
    json.loads(fig.to_json())


def test_series_long_series_thinned_with_webgl_and_spikes_kept():
    y = np.sin(np.arange(50_000) / 100.0)
    y[31_234] = 9.0
    fig = F.series_figure(pd.DataFrame({"y": y}), "y", None)
    trace = fig.data[0]
    assert isinstance(trace, go.Scattergl)
    assert len(trace.y) <= F.MAX_POINTS + 2
    assert 9.0 in trace.y and 31_234 in trace.x          # the spike survives
    assert trace.x[0] == 0 and trace.x[-1] == 49_999
    assert "50,000 points" in fig.layout.title.subtitle.text


def test_series_unknown_target_says_which_columns_exist():
    with pytest.raises(DataError, match="'nope'.*Pick one of: y"):
        F.series_figure(pd.DataFrame({"y": [1.0]}), "nope", None)


def test_series_empty_frame():
    fig = F.series_figure(pd.DataFrame({"y": pd.Series([], dtype=float)}), "y", (0, 0, 0))
    assert _is_empty_with(fig, "No rows to show")


# -- loss -----------------------------------------------------------------------------------------
def test_loss_train_and_val_per_epoch():
    fig = F.loss_figure(_epochs(4))
    assert _names(fig) == ["train loss", "validation loss"]
    assert list(fig.data[0].x) == [1, 2, 3, 4]
    assert np.allclose(fig.data[1].y, [1.5, 0.75, 0.5, 0.375])
    assert fig.data[0].mode == "lines+markers" and fig.data[1].line.dash == "dash"
    assert fig.layout.yaxis.type == "linear"
    assert F.loss_figure(_epochs(4), log_y=True).layout.yaxis.type == "log"


def test_loss_gaps_for_nan_and_a_divergence_note():
    epochs = _epochs(3) + [dict(epoch=4, train_loss=None, val_loss=float("nan")),
                           dict(epoch=5, train_loss=float("inf"), val_loss=None)]
    fig = F.loss_figure(epochs)
    assert np.isnan(fig.data[0].y[3]) and np.isnan(fig.data[0].y[4])
    assert np.isnan(fig.data[1].y[3])
    assert "diverged at epoch 4 (loss NaN or inf)" in _texts(fig)
    (line,) = [s for s in fig.layout.shapes if s.name == "diverged"]
    assert line.x0 == line.x1 == 4
    json.loads(fig.to_json())


def test_loss_without_validation_and_empty():
    assert _names(F.loss_figure(_epochs(3, val=False))) == ["train loss"]
    assert _is_empty_with(F.loss_figure([]), "No epochs yet")


def test_loss_from_store_columns_equals_loss_from_rows(tmp_path):
    """The pages pass Store.curves columns; the figure is the one rows give."""
    from rnnlab.store import LOSS_COLUMNS, Store

    store = Store(tmp_path / "home")
    run_id = store.create_run({}, epochs_total=5)
    rows = _epochs(3) + [dict(epoch=4, train_loss=None, val_loss=float("nan"))]
    for row in rows:
        store.add_epoch(run_id, row["epoch"], train_loss=row["train_loss"],
                        val_loss=row["val_loss"])
    from_rows = F.loss_figure(store.epochs(run_id)).to_plotly_json()
    from_cols = F.loss_figure(store.curves(run_id, LOSS_COLUMNS)).to_plotly_json()
    assert json.dumps(from_rows, default=str) == json.dumps(from_cols, default=str)
    assert "diverged at epoch 4 (loss NaN or inf)" in _texts(F.loss_figure(
        store.curves(run_id, LOSS_COLUMNS)))
    assert _is_empty_with(F.loss_figure(store.curves(store.create_run({}), LOSS_COLUMNS)),
                          "No epochs yet")


# -- step norms -----------------------------------------------------------------------------------
def test_step_norms_global_steps_epochs_in_hover_and_log_y():
    fig = F.step_norm_figure({1: [1.0, 2.0, 3.0], 2: [4.0, None], 3: [5.0]}, clipnorm=None)
    (trace,) = fig.data
    assert list(trace.x) == [1, 2, 3, 4, 5, 6]
    assert np.allclose(trace.y, [1, 2, 3, 4, np.nan, 5], equal_nan=True)
    assert list(trace.customdata) == [1, 1, 1, 2, 2, 3]
    assert "%{customdata}" in trace.hovertemplate and "%{y:.6~g}" in trace.hovertemplate
    assert fig.layout.yaxis.type == "log"
    edges = [s.x0 for s in fig.layout.shapes if s.name == "epoch edge"]
    assert edges == [3.5, 5.5]


def test_step_norms_thinned_keep_each_points_epoch():
    fig = F.step_norm_figure({1: [1.0] * 15_000, 2: [2.0] * 15_000}, clipnorm=None)
    (trace,) = fig.data
    assert isinstance(trace, go.Scattergl) and len(trace.y) <= F.MAX_POINTS + 2
    assert len(trace.customdata) == len(trace.x)
    assert [int(e) for e, y in zip(trace.customdata, trace.y)] == [int(y) for y in trace.y]


def test_step_norms_clip_line_at_clipnorm():
    fig = F.step_norm_figure({1: [0.5, 3.0], 2: [0.2, 0.1]}, clipnorm=1.5)
    clip = _trace(fig, "clip threshold (1.5)")
    assert list(clip.y) == [1.5, 1.5] and list(clip.x) == [1, 4]
    assert clip.line.dash == "dash" and clip.line.color == F.COLORS["clip"]
    (label,) = [a for a in fig.layout.annotations if a.name == "clip threshold"]
    assert label.text == "clip threshold = 1.5"
    assert label.y == pytest.approx(math.log10(1.5))    # annotations sit in log10 units on a log axis


def test_step_norms_empty():
    assert _is_empty_with(F.step_norm_figure({}, clipnorm=1.0), "No gradient steps yet")
    assert _is_empty_with(F.step_norm_figure({1: []}, None), "No gradient steps yet")


# -- tensor heatmap -------------------------------------------------------------------------------
TENSORS = ["lstm/kernel", "lstm/recurrent_kernel", "lstm/bias", "dense/kernel"]


def _tensor_rows():
    rng = np.random.default_rng(1)
    return [dict(epoch=e, tensor=t, mean=float(10 ** rng.uniform(-5, 1)),
                 max=float(10 ** rng.uniform(-4, 2))) for e in (1, 2, 3) for t in TENSORS]


@pytest.mark.parametrize("stat", ["mean", "max"])
def test_tensor_heatmap_is_log10_of_the_norms_with_exact_hover(stat):
    rows = _tensor_rows()
    fig = F.tensor_heatmap(rows, stat=stat)
    (heat,) = fig.data
    assert list(heat.y) == [F.tensor_label(t) for t in TENSORS]  # model order, in words
    assert [row[0] for row in heat.text] == TENSORS       # Keras's names, in the hover
    assert "%{text}" in heat.hovertemplate
    assert list(heat.x) == [1, 2, 3]
    raw = np.array([[next(r[stat] for r in rows if r["tensor"] == t and r["epoch"] == e)
                     for e in (1, 2, 3)] for t in TENSORS])   # (n_tensors, n_epochs)
    assert np.allclose(heat.z, np.log10(raw))
    assert np.array_equal(heat.customdata, raw)          # hover shows these, unrounded
    assert "%{customdata:.6~g}" in heat.hovertemplate
    assert {"mean": "mean", "max": "largest"}[stat] in heat.hovertemplate
    assert fig.layout.yaxis.type == "category"


def test_tensor_heatmap_colorbar_ticks_are_real_values():
    rows = [dict(epoch=1, tensor="a", mean=1e-4, max=1.0), dict(epoch=1, tensor="b", mean=10.0, max=1.0)]
    bar = F.tensor_heatmap(rows).data[0].colorbar
    assert list(bar.tickvals) == [-4, -3, -2, -1, 0, 1]
    assert list(bar.ticktext) == ["0.0001", "0.001", "0.01", "0.1", "1", "10"]
    narrow = F.tensor_heatmap([dict(epoch=1, tensor="a", mean=0.011, max=1),
                               dict(epoch=2, tensor="a", mean=0.06, max=1)]).data[0].colorbar
    assert list(narrow.ticktext) == ["0.02", "0.05"]     # under a decade: 1-2-5 ticks


def test_tensor_heatmap_missing_and_zero_values_are_gaps():
    rows = [dict(epoch=1, tensor="a", mean=None, max=None), dict(epoch=2, tensor="a", mean=0.0, max=1.0),
            dict(epoch=3, tensor="a", mean=0.5, max=1.0)]
    heat = F.tensor_heatmap(rows).data[0]
    assert np.isnan(heat.z[0][0]) and np.isnan(heat.z[0][1])
    assert heat.z[0][2] == pytest.approx(math.log10(0.5))
    assert heat.hoverongaps is False


def test_tensor_heatmap_bad_stat_and_empty():
    with pytest.raises(ConfigError, match="stat must be 'mean' or 'max'. Received: stat='median'"):
        F.tensor_heatmap(_tensor_rows(), stat="median")
    assert _is_empty_with(F.tensor_heatmap([]), "No gradient norms yet")


# -- through time -------------------------------------------------------------------------------
def test_through_time_nearest_step_first_and_log10():
    data = {"input": {2: [0.1, 0.01, 0.001], 1: [0.2, 0.02, 0.002]},
            "layer_1": {1: [1.0, 2.0, 3.0]}}
    fig = F.through_time_heatmap(data)
    (heat,) = fig.data
    assert list(heat.x) == [1, 2, 3]                     # steps back, 1 = nearest, on the left
    assert list(heat.y) == [1, 2]                        # epochs, sorted
    assert np.allclose(heat.z, np.log10([[0.2, 0.02, 0.002], [0.1, 0.01, 0.001]]))
    assert np.array_equal(heat.customdata, [[0.2, 0.02, 0.002], [0.1, 0.01, 0.001]])
    assert "%{customdata:.6~g}" in heat.hovertemplate
    assert fig.layout.title.text == "Gradient reaching each input step"
    assert fig.layout.yaxis.autorange == "reversed"      # first epoch at the top
    layer = F.through_time_heatmap(data, series="layer_1")
    assert "layer 1" in layer.layout.title.text and "hidden state" in layer.layout.title.text


def test_through_time_ragged_rows_and_missing_series():
    heat = F.through_time_heatmap({"input": {1: [0.1], 2: [0.1, 0.2]}}).data[0]
    assert np.isnan(heat.z[0][1]) and heat.z[1][1] == pytest.approx(math.log10(0.2))
    assert _is_empty_with(F.through_time_heatmap({}, "input"), "No gradient-through-time data yet")
    assert _is_empty_with(F.through_time_heatmap({"input": {1: [1.0]}}, "layer_3"),
                          "No gradient-through-time data yet")


def test_figures_read_what_the_store_returns(tmp_path):
    store = Store(tmp_path)
    run = store.create_run({"x": 1})
    for epoch in (1, 2):
        store.add_epoch(run, epoch, train_loss=1.0 / epoch, val_loss=2.0 / epoch,
                        tensor_norms={"gru/kernel": (0.1 * epoch, 0.3), "dense/kernel": (0.2, 0.4)},
                        step_norms=[1.0, 2.0, float("nan")],
                        through_time={"input": [0.3, 0.2, 0.1], "layer_1": [0.5, 0.4, 0.3]})
    assert _names(F.loss_figure(store.epochs(run))) == ["train loss", "validation loss"]
    assert len(F.step_norm_figure(store.step_norms(run), 1.0).data[0].y) == 6
    heat = F.tensor_heatmap(store.tensor_norms(run)).data[0]
    assert list(heat.y) == ["layer 1 · input weights", "output layer · input weights"]
    assert np.allclose(heat.z[0], np.log10([0.1, 0.2]))
    assert np.array_equal(F.through_time_heatmap(store.through_time(run), "layer_1").data[0].customdata,
                          [[0.5, 0.4, 0.3]] * 2)


# -- predictions, residuals, forecast -------------------------------------------------------------
def test_predictions_filter_and_lines():
    fig = F.predictions_figure(_pred_frame(), kind="one-step-ahead", step=2, target="Open")
    # The all-empty seasonal naive column is left out.
    assert _names(fig) == ["actual", "model", "naive (last value)", "mean (train)"]
    assert [t.visible for t in fig.data] == [True, True, True, "legendonly"]
    assert list(fig.data[0].y) == list(np.arange(10.0, 20.0))        # test split only
    assert list(fig.data[1].y) == list(np.arange(10.0, 20.0) + 1.0)  # step 2: model = i + 1
    assert fig.data[0].x[0] == np.datetime64("2024-01-13")           # ISO text parsed as dates
    assert fig.layout.yaxis.title.text == "Open (data units)"
    assert "One-step-ahead" in fig.layout.title.text and "test" in fig.layout.title.text
    both = F.predictions_figure(_pred_frame(), split=None)
    assert len(both.data[0].y) == 20
    free = F.predictions_figure(_pred_frame(), kind="free-running")
    assert "Free-running" in free.layout.title.text


def test_predictions_seasonal_naive_when_present_and_integer_timestamps():
    pred = _pred_frame().assign(seasonal_naive=3.0, timestamp=lambda d: np.arange(len(d)))
    fig = F.predictions_figure(pred)
    seasonal = _trace(fig, "seasonal naive")
    assert seasonal.visible == "legendonly" and seasonal.line.dash == "dot"
    assert seasonal.line.color == F.COLORS["seasonal_naive"]
    assert np.issubdtype(np.asarray(fig.data[0].x).dtype, np.integer)


def test_predictions_and_residuals_empty():
    for build in (F.predictions_figure, F.residuals_figure):
        assert _is_empty_with(build(_pred_frame(), step=7), "No predictions for this choice")
        assert _is_empty_with(build(pd.DataFrame()), "No predictions for this choice")


def test_residuals_are_actual_minus_prediction():
    fig = F.residuals_figure(_pred_frame(), step=1)
    model = _trace(fig, "model error")
    assert np.allclose(model.y, -0.5) and model.visible is True
    assert np.allclose(_trace(fig, "naive (last value) error").y, 1.0)
    assert [s.y0 for s in fig.layout.shapes] == [0]      # the zero line


def test_forecast_joins_history_and_marks_the_end_of_the_data():
    index = pd.date_range("2024-01-01", periods=200, freq="D")
    hist = pd.Series(np.arange(200.0), index=index, name="Temp")
    fc = pd.DataFrame({"timestamp": [d.strftime("%Y-%m-%d") for d in
                                     pd.date_range("2024-07-19", periods=5)],
                       "forecast": [1.0, 2.0, 3.0, 4.0, 5.0]})
    fig = F.forecast_figure(hist, fc)
    past, future = fig.data
    assert len(past.y) == 60                             # the tail, not the whole history
    assert future.line.dash == "dash"
    assert list(future.y) == [199.0, 1.0, 2.0, 3.0, 4.0, 5.0]  # starts at the last known value
    (end,) = [s for s in fig.layout.shapes if s.name == "end of data"]
    assert pd.Timestamp(end.x0) == index[-1]
    assert "end of the data (2024-07-18)" in _texts(fig)   # the data may end long before today
    assert not any("today" in text for text in _texts(fig))
    assert len(F.forecast_figure(hist, fc, tail=10).data[0].y) == 10
    assert _names(F.forecast_figure(hist, fc.iloc[:0])) == ["history (actual)"]
    assert _is_empty_with(F.forecast_figure(pd.Series([], dtype=float), fc), "No history to show")


# -- comparison -----------------------------------------------------------------------------------
def test_compare_loss_one_colour_per_run_train_solid_val_dashed():
    curves = {"SimpleRNN": _epochs(3), "LSTM": _epochs(4), "ESN": _epochs(1, val=False)}
    fig = F.compare_loss_figure(curves, log_y=True)
    assert _names(fig) == ["SimpleRNN", "SimpleRNN validation", "LSTM", "LSTM validation", "ESN"]
    assert [t.showlegend for t in fig.data] == [True, False, True, False, True]  # one entry a run
    assert [t.legendgroup for t in fig.data] == ["SimpleRNN"] * 2 + ["LSTM"] * 2 + ["ESN"]
    assert "validation loss" in fig.data[1].hovertemplate
    colors = [t.line.color for t in fig.data]
    assert colors[0] == colors[1] != colors[2] == colors[3] != colors[4]
    assert [t.line.dash for t in fig.data] == ["solid", "dash", "solid", "dash", "solid"]
    assert fig.layout.yaxis.type == "log"
    assert _is_empty_with(F.compare_loss_figure({}), "No runs to compare")
    assert _is_empty_with(F.compare_loss_figure({"a": []}), "No runs to compare")


# -- teaching diagrams --------------------------------------------------------------------------
def _named(fig, name, kind="annotations"):
    return [x for x in getattr(fig.layout, kind) if x.name == name]


def test_unrolled_long_window_draws_first_and_last_steps_with_an_ellipsis():
    fig = F.unrolled_diagram("lstm", n_layers=3, lookback=60, horizon=1, max_steps_drawn=8)
    inputs = [a.text for a in _named(fig, "input")]
    assert inputs == [f"x<sub>{s}</sub>" for s in
                      ("t-59", "t-58", "t-57", "t-56", "t-3", "t-2", "t-1", "t")]
    assert len(_named(fig, "ellipsis")) == 4             # one per row: inputs and 3 layers
    assert len(_named(fig, "cell", "shapes")) == 3 * 8
    assert {a.text for a in _named(fig, "cell")} == {"LSTM"}
    assert "layer 2<br>LSTM" in [a.text for a in _named(fig, "row label")]
    assert len(_named(fig, "feed-forward")) == 3 * 8
    assert len(_named(fig, "recurrent")) == 3 * 8        # 9 columns with the gap: 8 links per row
    assert all(a.ay == a.y for a in _named(fig, "recurrent"))      # horizontal
    assert all(a.ax == a.x for a in _named(fig, "feed-forward"))   # vertical
    assert [a.text for a in _named(fig, "output")] == ["Dense(1)"]
    assert len(_named(fig, "to output")) == 1
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert "layer 3<br>LSTM" in _texts(fig)


def test_unrolled_short_window_draws_every_step():
    fig = F.unrolled_diagram("simple_rnn", n_layers=1, lookback=4, horizon=3)
    assert [a.text for a in _named(fig, "input")] == [f"x<sub>{s}</sub>"
                                                       for s in ("t-3", "t-2", "t-1", "t")]
    assert _named(fig, "ellipsis") == []
    assert len(_named(fig, "recurrent")) == 3
    assert [a.text for a in _named(fig, "output")] == ["Dense(3)"]
    assert "ŷ<sub>t+3</sub>" in _named(fig, "prediction")[0].text
    assert "SimpleRNN" in fig.layout.title.text
    assert {a.text for a in _named(fig, "cell")} == {"RNN"}             # short enough for a box


def test_unrolled_rejects_nonsense():
    with pytest.raises(ConfigError, match="lookback must be a whole number >= 1. Received: lookback=0"):
        F.unrolled_diagram("lstm", 1, 0, 1)


@pytest.mark.parametrize("w,activation,steps", [(0.9, "tanh", 20), (3.0, "sigmoid", 15),
                                                (1.5, "relu", 30), (-0.7, "linear", 5),
                                                (1.0, "tanh", 3)])
def test_bptt_factors_match_the_product_of_per_step_factors(w, activation, steps):
    slope = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0, "linear": 1.0}[activation]
    oracle, product = [], 1.0
    for _ in range(steps):                               # a plain loop: multiply one step at a time
        product *= abs(w) * slope
        oracle.append(product)
    fig = F.bptt_calculator_figure(w, activation, steps)
    (curve,) = fig.data
    assert list(curve.x) == list(range(1, steps + 1))
    assert np.allclose(curve.y, oracle, rtol=1e-12)
    assert np.allclose(F.bptt_factors(w, activation, steps), np.power(abs(w) * slope, curve.x))
    assert fig.layout.yaxis.type == "log"
    factor = abs(w) * slope
    verdict = "vanishing" if factor < 1 else "exploding" if factor > 1 else "steady"
    assert f"= {F._fmt(factor)}: {verdict}" in fig.layout.title.text
    (last,) = _named(fig, "last value")
    assert last.x == steps and last.y == pytest.approx(math.log10(oracle[-1]))
    assert F._fmt(oracle[-1]) in last.text


def test_bptt_band_of_the_verdict_is_stronger():
    fig = F.bptt_calculator_figure(0.5, "tanh", 10)
    (vanish,) = _named(fig, "vanishing", "shapes")
    (explode,) = _named(fig, "exploding", "shapes")
    assert vanish.opacity > explode.opacity
    assert vanish.y1 == explode.y0                       # they meet at y = 1


def test_bptt_beyond_the_float_range_is_explained():
    fig = F.bptt_calculator_figure(5.0, "relu", 600)
    assert np.isnan(fig.data[0].y[-1])                   # 5^600 is not a float
    (note,) = _named(fig, "float limit")
    assert "from k = 442" in note.text and "inf" in note.text
    assert "×10<sup>419</sup>" in fig.layout.title.subtitle.text
    tiny = F.bptt_calculator_figure(0.01, "sigmoid", 400)
    assert "becomes exactly 0" in _named(tiny, "float limit")[0].text
    json.loads(fig.to_json())


def test_bptt_rejects_unknown_activation_and_steps():
    with pytest.raises(ConfigError, match="activation must be one of tanh, sigmoid, relu, linear"):
        F.bptt_calculator_figure(1.0, "softmax", 10)
    with pytest.raises(ConfigError, match="steps must be a whole number >= 1. Received: steps=0"):
        F.bptt_calculator_figure(1.0, "tanh", 0)


# -- metrics and lags ---------------------------------------------------------------------------
def test_metrics_bars_with_skill_and_missing_values():
    metrics = {"model": {"rmse": 4.0, "mae": 3.0}, "naive": {"rmse": 5.0},
               "seasonal_naive": {"rmse": None}, "mean": {"rmse": 20.0}}
    fig = F.metrics_bar_figure(metrics)
    (bars,) = fig.data
    assert list(bars.x) == ["model", "naive (last value)", "mean (train)"]
    assert list(bars.y) == [4.0, 5.0, 20.0]
    assert list(bars.text) == ["4", "5", "20"]
    assert "+20%" in fig.layout.title.subtitle.text and "lower" in fig.layout.title.subtitle.text
    assert "RMSE" in fig.layout.title.text
    assert _is_empty_with(F.metrics_bar_figure({}), "No RMSE to show")
    assert list(F.metrics_bar_figure(metrics, metric="mae").data[0].y) == [3.0]


def test_lag_correlations_match_numpy():
    rng = np.random.default_rng(3)
    actual = np.cumsum(rng.normal(size=200))
    model = actual + rng.normal(scale=0.5, size=200)
    got = F.lag_correlations(actual, model, max_lag=4)
    for k in range(5):
        assert got[k] == pytest.approx(np.corrcoef(model[k:], actual[:200 - k])[0, 1])


def test_lag_peak_at_one_when_the_model_repeats_the_last_value():
    rng = np.random.default_rng(4)
    actual = rng.normal(size=300)
    model = np.r_[np.nan, actual[:-1]]                   # prediction_t = actual_{t-1}
    fig = F.lag_correlation_figure(actual, model, max_lag=3)
    (bars,) = fig.data
    assert list(bars.x) == [0, 1, 2, 3]
    assert bars.y[1] == pytest.approx(1.0)
    assert bars.marker.color[1] == F.COLORS["model"]     # the peak is highlighted
    assert "Peak at lag 1" in fig.layout.title.subtitle.text
    assert _is_empty_with(F.lag_correlation_figure([1.0, 1.0], [1.0, 1.0]),
                          "Too few predictions to correlate")


def test_heatmaps_say_so_when_every_value_is_zero():
    for fig in (F.through_time_heatmap({"input": {1: [0.0, 0.0]}}),
                F.tensor_heatmap([dict(epoch=1, tensor="a", mean=0.0, max=None)])):
        assert "Every value is 0 or missing: no gradient reached here" in _texts(fig)
        json.loads(fig.to_json())


def test_bptt_with_w_zero_and_the_esn_readout():
    fig = F.bptt_calculator_figure(0.0, "tanh", 5)
    assert np.isnan(np.asarray(fig.data[0].y, dtype=float)).all()
    assert "w = 0: nothing flows back, not even one step" in _texts(fig)
    esn = F.unrolled_diagram("esn", 1, 3, 2)
    assert [a.text for a in _named(esn, "output")] == ["Readout(2)"]
