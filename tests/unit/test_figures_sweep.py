"""The sweep grid's chart: one setting gives bars of the median with the range as error bars,
two give a heatmap of medians; the numbers drawn are numpy's medians of each cell's skills."""

from __future__ import annotations

import numpy as np

from rnnlab import figures
from rnnlab.groups import Cell, GroupStats, Spread


def cell(values: tuple, skills: list[float]) -> Cell:
    sp = Spread.of(skills)
    return Cell(values, GroupStats("sweep", len(skills), 0, len(skills),
                                   sum(s > 0 for s in skills), sp, Spread.of([1.0])), ())


def test_one_setting_draws_bars_of_the_median_with_the_range():
    skills = {16: [0.1, 0.3, 0.2], 32: [-0.2, 0.05, -0.1]}
    cells = [cell((u,), s) for u, s in skills.items()]
    fig = figures.sweep_figure({"model.units": [16, 32]}, cells, {"model.units": "units"})
    (bar,) = [t for t in fig.data if t.type == "bar"]
    assert list(bar.x) == ["16", "32"]
    assert np.allclose(bar.y, [np.median(s) for s in skills.values()])
    assert np.allclose(bar.error_y.array, [max(s) - np.median(s) for s in skills.values()])
    assert np.allclose(bar.error_y.arrayminus, [np.median(s) - min(s) for s in skills.values()])
    assert fig.layout.xaxis.title.text == "units"
    assert bar.marker.color[0] != bar.marker.color[1]      # above 0 and below 0 look different


def test_two_settings_draw_a_heatmap_with_a_gap_where_a_cell_has_no_score():
    cells = [cell((16, 0.0), [0.1, 0.2]), cell((32, 0.0), [0.4]), cell((16, 0.2), [-0.3, 0.1])]
    fig = figures.sweep_figure({"units": [16, 32], "dropout": [0.0, 0.2]}, cells)
    (heat,) = [t for t in fig.data if t.type == "heatmap"]
    z = np.asarray(heat.z, dtype=float)
    assert z.shape == (2, 2)
    assert np.isclose(z[0, 0], 0.15) and np.isclose(z[0, 1], 0.4) and np.isclose(z[1, 0], -0.1)
    assert np.isnan(z[1, 1])                                 # (32, 0.2) never ran
    assert "(+0.10 … +0.20)" in heat.text[0][0].replace("<br>", "")
    assert heat.zmid == 0


def test_no_finished_cell_says_so():
    fig = figures.sweep_figure({"units": [16]}, [cell((16,), [])])
    assert "No run of the sweep has finished yet" in str(fig.layout.annotations)


def test_groups_side_by_side_show_each_median_and_its_range():
    spreads = [("seeds A", Spread.of([0.1, 0.3, 0.2])), ("seeds B", Spread.of([-0.4, 0.1])),
               ("empty", Spread.of([]))]
    fig = figures.group_skill_figure(spreads)
    (dots,) = fig.data
    assert list(dots.x) == ["seeds A", "seeds B"]             # a group with no score is left out
    assert np.allclose(dots.y, [0.2, -0.15])
    assert np.allclose(dots.error_y.array, [0.1, 0.25])
    assert np.allclose(dots.error_y.arrayminus, [0.1, 0.25])
    assert "No run of these groups has finished yet" in str(
        figures.group_skill_figure([("x", Spread.of([]))]).layout.annotations)


def test_backtest_folds_are_bars_of_their_skill_oldest_first():
    rows = [{"fold": 1, "rows up to": 80, "skill vs naive": 0.25},
            {"fold": 2, "rows up to": 90, "skill vs naive": None},
            {"fold": 3, "rows up to": 100, "skill vs naive": -0.5}]
    fig = figures.backtest_figure(rows)
    (bars,) = fig.data
    assert list(bars.y) == [0.25, -0.5]                        # the unfinished fold is left out
    assert bars.x[0].startswith("fold 1") and "80" in bars.x[0]
    assert bars.marker.color[0] != bars.marker.color[1]
