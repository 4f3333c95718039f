"""Issue 16 on the pages: charts follow the app's theme with a tool bar shown on hover, the
gradient-through-time heatmaps' scale switch (shared, or each epoch relative to 1 step back),
the sidebar's dataset line after a refused upload, whole-epoch ticks on a short run's loss."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from apphelpers import APP, open_page, plotly_specs, values
from rnnlab import figures, ui
from rnnlab.lessons import load_lessons
from test_learn import open_learn, seed

TIMEOUT = 60
BROKEN = b"name;comment\nfoo;bar\nbaz;qux\n"


def _good_csv(n: int = 120) -> bytes:
    days = pd.date_range("2024-01-01", periods=n, freq="D")
    return ("date,value\n" + "".join(f"{d:%Y-%m-%d},{i * 0.5 + i % 7}\n"
                                      for i, d in enumerate(days))).encode()


def _sidebar_dataset(at: AppTest) -> str:
    """The sidebar's dataset line ('' when it is missing)."""
    captions = [c.value for c in at.sidebar.caption]
    if "Active dataset" not in captions:
        return ""
    lines = [m.value for m in at.sidebar.markdown if m.value.startswith(":material/dataset:")]
    return lines[0] if lines else ""


def _relative_oracle(by_epoch: dict) -> np.ndarray:
    epochs = sorted(by_epoch)
    width = max(len(by_epoch[e]) for e in epochs)
    grid = np.full((len(epochs), width), np.nan)
    for r, e in enumerate(epochs):
        grid[r, :len(by_epoch[e])] = by_epoch[e]
    return grid / grid[:, :1]


# -- every chart ----------------------------------------------------------------------------------
def test_every_chart_follows_the_theme_and_shows_its_tool_bar_on_hover(finished_runs):
    at = open_page("views/results.py")
    charts = at.get("plotly_chart")
    assert charts
    for chart in charts:
        assert chart.proto.theme == "streamlit"
        config = json.loads(chart.proto.config)
        assert config["displayModeBar"] == "hover" and config["displaylogo"] is False
        assert "lasso2d" in config["modeBarButtonsToRemove"]


# -- the scale of the gradient-through-time heatmap ----------------------------------------------
def test_gradients_page_switches_the_time_heatmap_to_each_epoch_relative(store, finished_runs):
    at = open_page("views/gradients.py")
    assert not at.exception, [e.value for e in at.exception]
    scale = at.radio(key="grad_time_scale")
    assert scale.value == "shared"
    assert scale.options == list(ui.TIME_SCALES.values())
    shared = plotly_specs(at)["grad_time_chart_a"]["data"][0]
    assert "zmid" not in shared
    scale.set_value("relative").run()
    assert not at.exception, [e.value for e in at.exception]
    heat = plotly_specs(at)["grad_time_chart_a"]["data"][0]
    run_id = at.selectbox(key="grad_run").value
    expected = _relative_oracle(store.through_time(run_id)["input"])
    np.testing.assert_allclose(np.asarray(values(heat["z"]), dtype=float), np.log10(expected),
                               rtol=1e-9)
    assert heat["zmid"] == 0 and heat["zmin"] == -heat["zmax"]
    assert heat["colorbar"]["title"]["text"] == "× the gradient 1 step back"
    captions = " ".join(c.value for c in at.caption)
    assert "divided by its own value 1 step back" in captions
    # the other charts of the page do not change
    assert "zmid" not in plotly_specs(at)["grad_tensor_chart_a"]["data"][0]


def test_two_runs_side_by_side_share_one_scale_centred_on_one_step_back(finished_runs):
    at = open_page("views/gradients.py")
    at.radio(key="grad_mode").set_value("Two runs side by side").run()
    at.radio(key="grad_time_scale").set_value("relative").run()
    assert not at.exception, [e.value for e in at.exception]
    specs = plotly_specs(at)
    maps = [specs[f"grad_time_chart_{s}"]["data"][0] for s in ("a", "b")]
    assert len({(m["zmin"], m["zmax"]) for m in maps}) == 1
    assert maps[0]["zmin"] == -maps[0]["zmax"]
    ticks = maps[0]["colorbar"]["ticktext"]
    assert "1×" in ticks and all(t.endswith("×") for t in ticks)


def test_the_vanishing_lesson_shows_each_epoch_relative_to_one_step_back(store):
    ids = seed(store, "vanishing")
    at = open_learn({"lesson": "vanishing"})
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="learn_time_scale").value == "shared"
    at.radio(key="learn_time_scale").set_value("relative").run()
    assert not at.exception, [e.value for e in at.exception]
    specs = plotly_specs(at)
    lesson = load_lessons()["vanishing"]
    for i, (label, _) in enumerate(lesson.runs):
        heat = specs[f"learn_time_{i}"]["data"][0]
        assert specs[f"learn_time_{i}"]["layout"]["title"]["text"] == label
        expected = _relative_oracle(store.through_time(ids[label])["input"])
        np.testing.assert_allclose(np.asarray(values(heat["z"]), dtype=float),
                                   np.log10(expected), rtol=1e-9, atol=1e-12)
        assert heat["zmid"] == 0
    assert len({(specs[f"learn_time_{i}"]["data"][0]["zmin"],
                 specs[f"learn_time_{i}"]["data"][0]["zmax"]) for i in range(3)}) == 1
    assert "stronger than 1 step back" in " ".join(c.value for c in at.caption)


def test_the_unrolled_lesson_has_the_scale_switch_too(store):
    seed(store, "unrolling")
    at = open_learn({"lesson": "unrolling"})
    at.radio(key="learn_unrolled_scale").set_value("relative").run()
    assert not at.exception, [e.value for e in at.exception]
    heat = plotly_specs(at)["learn_unrolled_time"]["data"][0]
    assert heat["zmid"] == 0
    assert np.allclose(np.asarray(values(heat["z"]), dtype=float)[:, 0], 0.0)   # 1× at step 1


# -- the sidebar after a refused upload -----------------------------------------------------------
def test_a_refused_upload_keeps_the_sidebars_dataset_line(home):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert "Noisy sine wave" in _sidebar_dataset(at)
    at.radio(key="data_kind").set_value("My own file").run()
    assert "Noisy sine wave" in _sidebar_dataset(at)       # nothing uploaded yet: still the sample
    at.file_uploader(key="data_upload").set_value(("broken.csv", BROKEN, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "cannot be used" in at.error[0].value
    assert "The active dataset is still **Noisy sine wave**" in at.error[0].value
    assert "Noisy sine wave" in _sidebar_dataset(at)


def test_after_a_good_file_a_refused_one_leaves_the_good_file_named_in_both_places(home):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.radio(key="data_kind").set_value("My own file").run()
    at.file_uploader(key="data_upload").set_value(("sales.csv", _good_csv(), "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "sales.csv" in _sidebar_dataset(at)
    at.file_uploader(key="data_upload").set_value(("broken.csv", BROKEN, "text/csv")).run()
    assert "The active dataset is still **sales.csv**" in at.error[0].value
    line = _sidebar_dataset(at)
    assert "sales.csv" in line and "broken" not in line
    for page in ("views/model.py", "views/train.py"):       # and the other pages agree
        at.switch_page(page).run()
        assert "sales.csv" in _sidebar_dataset(at)


def test_choosing_another_sample_updates_the_sidebar_in_the_same_run(home):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.radio(key="data_sample").set_value("airline_passengers.csv").run()
    assert not at.exception, [e.value for e in at.exception]
    line = _sidebar_dataset(at)
    assert "Airline passengers" in line and "Noisy sine wave" not in line
    assert len([c for c in at.sidebar.caption if c.value == "Active dataset"]) == 1


# -- whole epochs ---------------------------------------------------------------------------------
def test_a_three_epoch_runs_loss_chart_ticks_every_epoch(finished_runs):
    at = open_page("views/results.py")
    spec = plotly_specs(at).get("results_loss_chart")
    assert spec is not None
    axis = spec["layout"]["xaxis"]
    assert (axis["tickmode"], axis["dtick"]) == ("linear", 1)
    assert figures.WHOLE_EPOCH_TICKS >= 3



# -- every chart in words and as a table ----------------------------------------------------------
def test_every_chart_has_a_description_and_a_table_switch(finished_runs):
    at = open_page("views/results.py")
    charts = [c for c in at.get("plotly_chart") if c.key]
    assert charts
    toggles = {t.key for t in at.toggle}
    for chart in charts:
        assert chart.proto.alt, chart.key
        assert f"{chart.key}_table" in toggles, chart.key
    tables_before = len(at.dataframe)
    at.toggle(key="results_loss_chart_table").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.dataframe) == tables_before + 1
    (frame,) = [d.value for d in at.dataframe if list(d.value.columns)[:1] == ["epoch"]]
    assert list(frame.columns) == ["epoch", "train loss", "validation loss"]
    assert list(frame["epoch"]) == [1, 2, 3]


def test_the_gradients_heatmap_table_follows_the_scale_switch(store, finished_runs):
    at = open_page("views/gradients.py")
    at.radio(key="grad_time_scale").set_value("relative").run()
    at.toggle(key="grad_time_chart_a_table").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    (frame,) = [d.value for d in at.dataframe
                if list(d.value.columns)[:1] == ["epoch (first at the top)"]]
    run_id = at.selectbox(key="grad_run").value
    expected = _relative_oracle(store.through_time(run_id)["input"])
    np.testing.assert_allclose(frame.drop(columns=frame.columns[0]).to_numpy(dtype=float),
                               expected, rtol=1e-9)
