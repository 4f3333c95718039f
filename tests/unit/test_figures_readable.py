"""Charts that read at a glance (issue 16): log axes label whole numbers, the loss chooses its
log scale, captions name only what is drawn, weights are named in words."""

import math

import numpy as np
import pandas as pd
import pytest

from rnnlab import figures as F


def _epochs(losses):
    return [dict(epoch=i + 1, train_loss=v, val_loss=v * 1.2) for i, v in enumerate(losses)]


def _log_axes():
    """Every log axis the module draws, over a range that once gave '2, 1, 5, 2, 0.1'."""
    falling = _epochs([2.0, 0.9, 0.4, 0.2, 0.12, 0.08, 0.05])
    return {
        "loss": F.loss_figure(falling, log_y=True).layout.yaxis,
        "steps": F.step_norm_figure({1: [2.0, 0.9, 0.5], 2: [0.2, 0.1, 0.05]}).layout.yaxis,
        "steps clipped": F.step_norm_figure({1: [20.0, 0.9], 2: [0.01]}, 1.0).layout.yaxis,
        "compare": F.compare_loss_figure({"a": falling, "b": falling}, log_y=True).layout.yaxis,
        "group": F.group_loss_figure([falling, falling], log_y=True).layout.yaxis,
        "bptt": F.bptt_calculator_figure(0.9, "tanh", 50).layout.yaxis,
        "bptt steady": F.bptt_calculator_figure(1.0, "tanh", 5).layout.yaxis,
        "bptt exploding": F.bptt_calculator_figure(3.0, "tanh", 200).layout.yaxis,
    }


@pytest.mark.parametrize("name", list(_log_axes()))
def test_every_log_axis_labels_whole_values_never_bare_digits(name):
    axis = _log_axes()[name]
    assert axis.type == "log"
    assert axis.tickmode == "array" and axis.tickvals and len(axis.tickvals) == len(axis.ticktext)
    assert 2 <= len(axis.tickvals) <= 10
    for value, text in zip(axis.tickvals, axis.ticktext):
        # "0.5" under "1", not a bare "5" that reads as five
        assert float(text) == pytest.approx(value, rel=1e-6), (value, text)
    assert list(axis.tickvals) == sorted(axis.tickvals)


def test_log_ticks_are_decades_over_three_decades_and_1_2_5_below():
    wide = F.step_norm_figure({1: [1e-4, 1e-2, 1.0, 30.0]}).layout.yaxis
    assert list(wide.ticktext) == ["0.0001", "0.001", "0.01", "0.1", "1", "10"]
    narrow = F.loss_figure(_epochs([2.0, 0.05]), log_y=True).layout.yaxis
    assert list(narrow.ticktext) == ["0.05", "0.1", "0.2", "0.5", "1", "2"]


def test_the_loss_takes_a_log_scale_when_it_spans_more_than_one_and_a_half_decades():
    steep = _epochs([5.0, 0.05, 0.02, 0.01])                 # the first epoch flattens the rest
    assert F.loss_log_scale(steep)
    assert F.loss_figure(steep).layout.yaxis.type == "log"
    gentle = _epochs([1.0, 0.5, 0.3, 0.25])
    assert not F.loss_log_scale(gentle)
    assert F.loss_figure(gentle).layout.yaxis.type == "linear"
    assert F.loss_figure(steep, log_y=False).layout.yaxis.type == "linear"  # the user's choice
    assert F.compare_loss_figure({"a": steep, "b": gentle}).layout.yaxis.type == "log"
    assert not F.loss_log_scale([dict(epoch=e, train_loss=v, val_loss=None)
                                 for e, v in enumerate([float("nan"), 0.0, None, 1.0])])


def test_the_step_norm_chart_mentions_clipping_only_when_there_is_some():
    plain = F.step_norm_figure({1: [0.5, 2.0]}, clipnorm=None)
    assert "clipping" not in plain.layout.title.text
    assert [t.name for t in plain.data] == ["gradient norm"]
    clipped = F.step_norm_figure({1: [0.5, 2.0]}, clipnorm=1.0)
    assert "before clipping" in clipped.layout.title.text
    assert "L2" not in plain.layout.yaxis.title.text


@pytest.mark.parametrize("raw, words", [
    ("lstm_2/recurrent_kernel", "layer 2 · recurrent weights"),
    ("lstm_1/kernel", "layer 1 · input weights"),
    ("gru_3/bias", "layer 3 · bias"),
    ("simple_rnn/kernel", "layer 1 · input weights"),
    ("dense/kernel", "output layer · input weights"),
    ("dense/bias", "output layer · bias"),
    ("lstm_1/forward/recurrent_kernel", "layer 1 forward · recurrent weights"),
    ("linear_skip/kernel", "straight-line path · input weights"),
    ("mystery/thing", "mystery/thing"),
    ("a", "a"),
])
def test_weight_tensors_are_named_for_what_they_do(raw, words):
    assert F.tensor_label(raw) == words


def test_the_tensor_heatmap_keeps_keras_names_when_two_would_read_the_same():
    rows = [dict(epoch=1, tensor=t, mean=0.1, max=0.2) for t in ("lstm/kernel", "lstm_1/kernel")]
    assert list(F.tensor_heatmap(rows).data[0].y) == ["lstm/kernel", "lstm_1/kernel"]


def test_no_teacher_forcing_jargon_in_the_prediction_charts():
    pred = pd.DataFrame({"split": "test", "kind": "one-step-ahead", "step": 1,
                         "timestamp": pd.date_range("2024-01-01", periods=3).strftime("%Y-%m-%d"),
                         "actual": [1.0, 2.0, 3.0], "model": [1.0, 2.1, 2.9]})
    for fig in (F.predictions_figure(pred), F.residuals_figure(pred)):
        assert "teacher" not in fig.layout.title.subtitle.text
    subtitle = F.predictions_figure(pred).layout.title.subtitle.text.replace("<br>", " ")
    assert "One step ahead, from actual values" in subtitle


def test_the_forecast_marks_the_end_of_the_data_with_its_date_or_row():
    hist = pd.Series([1.0, 2.0], index=pd.to_datetime(["2019-03-01 00:00", "2019-03-01 06:00"]))
    fc = pd.DataFrame({"timestamp": ["2019-03-01 12:00"], "forecast": [3.0]})
    texts = [a.text for a in F.forecast_figure(hist, fc).layout.annotations]
    assert "end of the data (2019-03-01 06:00)" in texts
    rows = pd.Series([1.0, 2.0, 3.0], index=pd.Index([0, 1, 2]))
    texts = [a.text for a in F.forecast_figure(rows, pd.DataFrame(
        {"timestamp": [3], "forecast": [4.0]})).layout.annotations]
    assert "end of the data (row 2)" in texts
