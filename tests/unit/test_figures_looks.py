"""Figures that read in the light and the dark theme, on a phone, with whole epochs, and the
gradient-through-time heatmap relative to 1 step back (checked against numpy)."""

import math

import numpy as np
import pandas as pd
import pytest

from rnnlab import figures as F

LIGHT_ONLY = {"white", "#ffffff", "#fff", "#333333", "#222222", "#555555"}


def _through_time(values: np.ndarray) -> dict:
    """A run's gradient through time for `values` (epochs × steps), as Store.through_time gives."""
    return {"input": {epoch: list(row) for epoch, row in enumerate(values, start=1)}}


def _sample_figures() -> list:
    days = pd.date_range("2024-01-01", periods=30, freq="D")
    pred = pd.DataFrame({"split": "test", "kind": "one-step-ahead", "step": 1,
                         "timestamp": days.strftime("%Y-%m-%d"),
                         "actual": np.sin(np.arange(30.0)), "model": np.sin(np.arange(30.0)) + .1,
                         "naive": np.sin(np.arange(30.0) - 1)})
    epochs = [dict(epoch=e, train_loss=10.0 ** -e, val_loss=2 * 10.0 ** -e) for e in (1, 2, 3)]
    epochs.append(dict(epoch=4, train_loss=float("nan"), val_loss=None))
    return [
        F.series_figure(pd.DataFrame({"y": np.arange(30.0)}, index=days), "y", (20, 5, 5)),
        F.loss_figure(epochs), F.compare_loss_figure({"a": epochs, "b": epochs}),
        F.group_loss_figure([epochs, epochs]),
        F.step_norm_figure({1: [0.5, 2.0], 2: [0.4, 0.3]}, clipnorm=1.0),
        F.tensor_heatmap([dict(epoch=1, tensor="lstm_1/kernel", mean=0.1, max=0.2)]),
        F.through_time_heatmap(_through_time(np.array([[1.0, 0.1], [0.0, 0.0]]))),
        F.through_time_heatmap(_through_time(np.array([[1.0, 0.1]])), relative=True),
        F.predictions_figure(pred), F.residuals_figure(pred),
        F.forecast_figure(pd.Series(np.arange(10.0), index=days[:10], name="y"),
                          pd.DataFrame({"timestamp": days[10:15], "forecast": np.ones(5)})),
        F.metrics_bar_figure({"model": {"rmse": 1.0}, "naive": {"rmse": 2.0}}),
        F.lag_correlation_figure(np.sin(np.arange(20.0)), np.sin(np.arange(20.0) - 1)),
        F.bptt_calculator_figure(0.5, "tanh", 2000),
        F._empty("nothing", "no data"),
    ]


# -- light and dark -------------------------------------------------------------------------------
def test_no_text_or_box_depends_on_a_white_background():
    """The theme gives the background and the text colour: nothing drawn on top of it may be
    near-black text or a white box (it would vanish, or glare, in the dark theme)."""
    for fig in _sample_figures():
        layout = fig.layout
        for note in layout.annotations:
            assert note.bgcolor is None or note.bgcolor.lower() not in LIGHT_ONLY, note
            assert note.font.color is None or note.font.color.lower() not in LIGHT_ONLY, note
        subtitle = layout.title.subtitle
        assert subtitle.font.color is None, layout.title.text
        for trace in fig.data:
            line = getattr(trace, "line", None)
            color = getattr(line, "color", None) if line is not None else None
            assert not isinstance(color, str) or color.lower() not in LIGHT_ONLY, trace.name
    legend = F.TEMPLATE.layout.legend
    assert legend.bgcolor == "rgba(0,0,0,0)"                   # no white box under the legend


def _contrast(a: str, b: str) -> float:
    def lum(hex_colour):
        rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("background", ["#ffffff", "#171614", "#0e1117"])
def test_the_actual_line_stands_out_on_light_and_dark(background):
    assert _contrast(F.COLORS["actual"], background) >= 3.5
    assert _contrast(F.SPLIT_COLORS["train"], background) >= 3


def test_the_diagrams_box_labels_stay_dark_on_their_light_boxes():
    fig = F.unrolled_diagram("lstm", 2, 5, 1)
    boxed = [a for a in fig.layout.annotations if a.name in ("input", "cell", "output")]
    assert boxed and all(a.font.color == "#222222" for a in boxed)
    row_labels = [a for a in fig.layout.annotations if a.name == "row label"]
    assert row_labels and all(a.font.color is None for a in row_labels)


# -- a phone -------------------------------------------------------------------------------------
def test_the_title_starts_below_the_chart_tool_bar():
    title = F.TEMPLATE.layout.title
    assert title.y == 1.0 and title.yanchor == "top" and title.pad.t >= 34
    fig = F.loss_figure([dict(epoch=1, train_loss=1.0, val_loss=1.0)])
    lines = fig.layout.title.subtitle.text.split("<br>")
    assert fig.layout.margin.t == F.SUBTITLE_MARGIN + 17 * (len(lines) - 1)
    assert all(len(line) <= 52 for line in lines)             # fits a 390 px wide chart


# -- whole epochs --------------------------------------------------------------------------------
def _rows(n):
    return [dict(epoch=e, train_loss=1.0 / e, val_loss=1.2 / e) for e in range(1, n + 1)]


@pytest.mark.parametrize("n", [1, 2, 3, 12])
def test_a_short_run_has_a_tick_at_every_epoch(n):
    for fig in (F.loss_figure(_rows(n)), F.compare_loss_figure({"a": _rows(n)}),
                F.group_loss_figure([_rows(n), _rows(n)])):
        axis = fig.layout.xaxis
        assert (axis.tickmode, axis.tick0, axis.dtick) == ("linear", 0, 1)


def test_a_long_run_keeps_plotlys_own_whole_steps():
    for fig in (F.loss_figure(_rows(100)), F.compare_loss_figure({"a": _rows(100)})):
        assert fig.layout.xaxis.dtick is None and fig.layout.xaxis.tickmode is None


def test_the_loss_chart_of_store_columns_has_whole_epoch_ticks_too():
    cols = {"epoch": [1, 2, 3], "train_loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.6, 0.3]}
    assert F.loss_figure(cols).layout.xaxis.dtick == 1


# -- relative to 1 step back ---------------------------------------------------------------------
def _oracle(values: np.ndarray) -> np.ndarray:
    """Each row over its own first column, by plain numpy; rows without a positive first
    value are all NaN."""
    out = np.full(values.shape, np.nan)
    for r in range(values.shape[0]):
        first = values[r, 0]
        if np.isfinite(first) and first > 0:
            out[r] = values[r] / first
    return out


def test_relative_to_first_step_matches_numpy():
    rng = np.random.default_rng(16)
    values = 10.0 ** rng.uniform(-12, 2, size=(20, 80))       # 14 decades, like a real run
    values[3, 0] = 0.0                                        # no gradient 1 step back
    values[5, 0] = np.nan
    values[7, 10:] = np.nan                                   # a shorter row
    got = F.relative_to_first_step(values)
    np.testing.assert_allclose(got, _oracle(values), rtol=1e-12, equal_nan=True)
    assert np.all(got[~np.isnan(got[:, 0]), 0] == 1.0)
    assert np.isnan(got[3]).all() and np.isnan(got[5]).all()


def test_the_relative_heatmap_shows_a_late_epoch_stronger_far_back():
    """The LSTM of the vanishing-gradient lesson: by the last epoch its gradient 80 steps back
    is 8× its gradient 1 step back, while the first epoch fades over 20 decades. On the shared
    scale the last epoch is one flat colour; relative to 1 step back it is red at the far end."""
    steps = np.arange(80)
    first = 1e-2 * 10.0 ** (-20 * steps / 79)                  # fades 20 decades
    last = 1e-12 * np.linspace(1.0, 8.0, 80)                   # grows 8× towards the far end
    values = np.vstack([first, last])
    fig = F.through_time_heatmap(_through_time(values), relative=True)
    (heat,) = fig.data
    z = np.asarray(heat.z, dtype=float)
    np.testing.assert_allclose(z, np.log10(_oracle(values)), rtol=1e-12, atol=1e-12)
    assert z[1, -1] == pytest.approx(math.log10(8.0))          # stronger 80 steps back
    assert z[1, -1] > 0 > z[0, -1]
    assert heat.zmid == 0 and heat.zmin == -heat.zmax           # white at 1×, symmetric
    assert heat.zmax >= 20 - 1e-9                               # the first epoch's 20 decades
    ratio = np.asarray(heat.customdata, dtype=float)[..., 0]
    np.testing.assert_allclose(ratio, _oracle(values), rtol=1e-12)
    raw = np.asarray(heat.customdata, dtype=float)[..., 1]
    np.testing.assert_allclose(raw, values)                     # the real value in the hover
    assert all(text.endswith("×") for text in heat.colorbar.ticktext)
    assert "1×" in heat.colorbar.ticktext
    assert "× the gradient 1 step back" in heat.colorbar.title.text
    assert "1 step back" in fig.layout.title.subtitle.text.replace("<br>", " ")


def test_the_shared_heatmap_is_unchanged_by_default():
    values = np.array([[1.0, 0.1, 0.01], [1e-9, 2e-9, 8e-9]])
    shared = F.through_time_heatmap(_through_time(values))
    assert shared.data[0].zmid is None
    np.testing.assert_allclose(np.asarray(shared.data[0].z, dtype=float), np.log10(values))


def test_relative_rows_without_a_first_step_are_blank_not_an_error():
    fig = F.through_time_heatmap(_through_time(np.array([[0.0, 1.0], [0.0, 2.0]])),
                                 relative=True)
    assert np.isnan(np.asarray(fig.data[0].z, dtype=float)).all()
    assert any(a.name == "blank" for a in fig.layout.annotations)


def test_through_time_grid_pads_ragged_epochs_with_nan():
    epochs, grid = F.through_time_grid({"input": {2: [1.0, 0.5], 1: [3.0]}})
    assert epochs == [1, 2]
    np.testing.assert_array_equal(grid, np.array([[3.0, np.nan], [1.0, 0.5]]))
    assert F.through_time_grid({}, "input")[1].shape == (0, 0)


# -- in words and numbers ------------------------------------------------------------------------
def test_describe_is_the_title_and_subtitle_in_plain_text():
    fig = F.loss_figure(_rows(3))
    assert F.describe(fig) == ("Loss per epoch (lower is better). A growing gap between train "
                               "and validation means overfitting")
    assert "<" not in F.describe(F.bptt_calculator_figure(0.9, "tanh", 10))


def test_a_line_chart_as_a_table_has_one_column_per_line():
    table = F.figure_table(F.loss_figure(_rows(3)))
    assert list(table.columns) == ["epoch", "train loss", "validation loss"]
    assert list(table["epoch"]) == [1, 2, 3]
    np.testing.assert_allclose(table["train loss"], [1.0, 0.5, 1 / 3])


def test_lines_on_different_x_share_one_time_column():
    days = pd.date_range("2024-01-01", periods=6, freq="D")
    fig = F.forecast_figure(pd.Series([1.0, 2.0, 3.0], index=days[:3], name="y"),
                            pd.DataFrame({"timestamp": days[3:], "forecast": [4.0, 5.0, 6.0]}))
    table = F.figure_table(fig)
    assert list(table.columns) == ["time", "history (actual)", "forecast (model)"]
    assert len(table) == 6                     # the two lines share the last day of the data
    assert table["forecast (model)"].isna().sum() == 2


def test_a_heatmap_as_a_table_shows_the_real_values_not_their_logs():
    values = np.array([[1.0, 0.1, 0.01], [2.0, 4.0, 8.0]])
    shared = F.figure_table(F.through_time_heatmap(_through_time(values)))
    assert list(shared.columns) == ["epoch (first at the top)", "1", "2", "3"]
    np.testing.assert_allclose(shared[["1", "2", "3"]].to_numpy(), values)
    relative = F.figure_table(F.through_time_heatmap(_through_time(values), relative=True))
    np.testing.assert_allclose(relative[["1", "2", "3"]].to_numpy(), _oracle(values))


def test_a_drawing_without_data_has_no_table():
    assert F.figure_table(F.unrolled_diagram("lstm", 1, 4, 1)) is None
    assert F.figure_table(F._empty("nothing", "no data")) is None


def test_points_with_repeated_x_become_one_row_per_point():
    fig = F.compare_loss_figure({"a": _rows(2)})
    fig.add_scatter(x=[1, 1], y=[0.3, 0.4], name="twice at epoch 1")
    table = F.figure_table(fig)
    assert list(table.columns) == ["line", "epoch", "value"]
    assert len(table) == 2 + 2 + 2
