"""The class summary chart of the teacher's board: one dot per student, the spread at a glance."""

import json

import numpy as np
import plotly.io as pio

from rnnlab import figures as F


def test_one_dot_per_student_best_first_split_by_naive():
    fig = F.class_skill_figure({"Cy": 0.25, "Ada": 0.5, "Bo": -0.25, "Dee": None,
                                "Eve": float("nan")})
    beat, lost = fig.data
    assert beat.name == "beat the naive forecast" and list(beat.x) == ["Ada", "Cy"]
    assert list(beat.y) == [0.5, 0.25]
    assert lost.name == "did not beat it" and list(lost.x) == ["Bo"] and list(lost.y) == [-0.25]
    assert list(fig.layout.xaxis.categoryarray) == ["Ada", "Cy", "Bo"]   # best to worst
    lines = sorted(s.y0 for s in fig.layout.shapes)
    assert lines == [0.0, 0.25]                          # naive and the median
    assert "2 of 3 beat the naive forecast" in fig.layout.title.subtitle.text
    lo, hi = fig.layout.yaxis.range
    assert lo < -0.25 and hi > 0.5
    json.loads(pio.to_json(fig))                         # serialisable


def test_no_finished_run_is_an_empty_chart_with_a_message():
    fig = F.class_skill_figure({"Ada": None})
    assert len(fig.data) == 0
    assert "No finished run yet" in [a.text for a in fig.layout.annotations]


def test_names_are_shown_not_acted_on_and_the_table_has_the_numbers():
    fig = F.class_skill_figure({"<b>x</b>": 0.1, "Zoë": -0.2})
    assert "&lt;b&gt;x&lt;/b&gt;" in list(fig.data[0].x)
    table = F.figure_table(fig)
    numbers = table.select_dtypes("number").to_numpy().ravel()
    assert sorted(np.round(numbers[np.isfinite(numbers)], 3)) == [-0.2, 0.1]


def test_all_below_naive_keeps_zero_in_view():
    fig = F.class_skill_figure({"a": -0.5, "b": -0.3})
    assert len(fig.data) == 1 and fig.layout.yaxis.range[1] > 0
