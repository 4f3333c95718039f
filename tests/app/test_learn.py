"""The Learn page: lessons as cards, a lesson from the link, its runs and chart by view, the Run
button, the gradient calculator and classroom mode. Behaviour by widget key."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from apphelpers import (APP, PAGES, add_finished_run, add_lesson_run, plotly_specs, values,
                        write_lesson_predictions)
from rnnlab import figures, ui
from rnnlab.errors import ConfigError
from rnnlab.lessons import load_lessons
from rnnlab.store import RunStatus
from rnnlab.ui import lesson_maths
from views import learn

LEARN = "views/learn.py"
TIMEOUT = 60
ADVANCED = {"model_kernel_init", "model_recurrent_init", "model_init_scale", "model_l1",
            "model_l2", "model_bidirectional", "train_seed", "train_clipvalue_on",
            "train_clipvalue"}


def open_learn(query: dict | None = None) -> AppTest:
    """The app with `query` in the link, switched to the Learn page."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.run()
    at.switch_page(LEARN).run()
    return at


def assert_clean(at: AppTest) -> None:
    """No exception and no error on the page."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def widget_keys(at: AppTest) -> set[str]:
    """Keys of every input widget on the page."""
    kinds = ("selectbox", "number_input", "slider", "toggle", "checkbox", "radio", "multiselect")
    return {w.key for kind in kinds for w in at.get(kind) if w.key}


def seed(store, lesson_id: str, statuses: dict[str, RunStatus] | None = None) -> dict[str, str]:
    """Finished runs of one lesson: label -> run id."""
    lesson = load_lessons()[lesson_id]
    return {label: add_lesson_run(store, lesson, label, (statuses or {}).get(label,
                                                                             RunStatus.DONE))
            for label, _ in lesson.runs}


# -- the page -----------------------------------------------------------------------------------
def test_an_empty_store_shows_every_lesson_as_a_card(home):
    at = open_learn()
    assert_clean(at)
    assert at.title[0].value == "Learn"
    found = load_lessons()
    assert [b.key for b in at.button if b.key.startswith("learn_open_")] == \
        [f"learn_open_{i}" for i in found]
    run = at.button(key="learn_run_vanishing")
    assert run.label == "Run" and not run.disabled
    text = " ".join(m.value for m in at.markdown)
    for lesson in found.values():
        assert lesson.title in text and lesson.look_at in text
    assert "learn_calc_chart" in plotly_specs(at)


def test_other_runs_do_not_count_as_lesson_runs(finished_runs):
    at = open_learn({"lesson": "vanishing"})
    assert_clean(at)
    assert at.button(key="learn_run_vanishing").label == "Run this lesson"
    assert any("Not run yet" in i.value for i in at.info)


def test_a_lesson_link_at_the_root_opens_the_learn_page(home):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["lesson"] = "vanishing"
    at.run()
    assert_clean(at)
    assert at.title[0].value == "Learn"
    assert at.header[0].value == "Vanishing gradients"
    assert at.button(key="learn_run_vanishing").label == "Run this lesson"
    assert at.query_params["lesson"] == ["vanishing"] or at.query_params["lesson"] == "vanishing"
    at.switch_page("views/data.py").run()  # the link redirects once, then the user moves on
    assert at.title[0].value == "Data"


def test_an_unknown_lesson_lists_the_valid_ids(home):
    at = open_learn({"lesson": "nope"})
    assert not at.exception
    (error,) = at.error
    assert "There is no lesson `nope`" in error.value
    for lesson_id in load_lessons():
        assert f"`{lesson_id}`" in error.value
    assert any(b.key == "learn_open_vanishing" for b in at.button)  # the overview is shown


def test_open_back_and_next_move_through_the_lessons(home):
    at = open_learn()
    at.button(key="learn_open_types").click().run()
    assert at.header[0].value.startswith("RNN types")
    assert at.query_params["lesson"] in ("types", ["types"])
    at.button(key="learn_next").click().run()
    assert at.header[0].value == "Unrolling and backpropagation through time"
    at.button(key="learn_back").click().run()
    assert_clean(at)
    assert [h.value for h in at.header] == ["Lessons"] and "lesson" not in at.query_params
    at.switch_page("views/model.py").run()
    at.switch_page(LEARN).run()
    assert [h.value for h in at.header] == ["Lessons"]          # the overview, no lesson open


def test_a_lesson_stays_open_when_the_user_comes_back(home):
    at = open_learn({"lesson": "exploding"})
    del at.query_params["lesson"]  # navigating between pages drops the link's query
    at.switch_page("views/train.py").run()
    at.switch_page(LEARN).run()
    assert at.header[0].value == "Exploding gradients, and clipping"


# -- running a lesson ---------------------------------------------------------------------------
@pytest.mark.timeout(300)
def test_run_queues_the_lessons_runs_with_the_epochs_cut(home, store, monkeypatch):
    from rnnlab import jobs

    monkeypatch.setenv(learn.LESSON_EPOCHS_ENV, "1")
    lesson = load_lessons()["unrolling"]
    at = open_learn({"lesson": "unrolling"})
    assert "1 run of 1 epoch" in " ".join(c.value for c in at.caption)
    at.button(key="learn_run_unrolling").click().run()
    assert_clean(at)
    runs = store.list_runs()
    assert [r.name for r in runs] == [lesson.run_name(label) for label, _ in lesson.runs]
    assert {r.epochs_total for r in runs} == {1}
    assert jobs.get_runner(store).wait_idle(timeout=240)
    at.run()
    assert_clean(at)
    (run,) = store.list_runs()
    assert run.status == RunStatus.DONE, run.error
    assert at.button(key="learn_run_unrolling").label == "Run again"
    heatmap = plotly_specs(at)["learn_unrolled_time"]["data"][0]
    assert heatmap["type"] == "heatmap" and values(heatmap["x"]) == list(range(1, 26))
    links = {(link.proto.page, link.proto.query_string) for link in at.get("page_link")}
    assert {("results", f"run={run.id}"), ("gradients", f"run={run.id}")} <= links


@pytest.mark.timeout(300)
def test_run_on_a_card_queues_every_run_and_opens_the_lesson(home, store, monkeypatch):
    from rnnlab import jobs

    monkeypatch.setenv(learn.LESSON_EPOCHS_ENV, "1")
    lesson = load_lessons()["esn"]
    at = open_learn()
    at.button(key="learn_run_esn").click().run()
    assert_clean(at)
    assert at.header[0].value == lesson.title and at.query_params["lesson"] in ("esn", ["esn"])
    names = sorted(r.name for r in store.list_runs())
    assert names == sorted(lesson.run_name(label) for label, _ in lesson.runs)
    assert jobs.get_runner(store).wait_idle(timeout=240)
    at.run()
    assert_clean(at)
    assert {r.status for r in store.list_runs()} == {RunStatus.DONE}
    table = at.dataframe[0].value
    assert list(table["run"]) == [label for label, _ in lesson.runs]
    assert table["test RMSE"].notna().all() and table["seconds per epoch"].notna().all()


def test_run_is_disabled_while_the_lessons_runs_train(store):
    lesson = load_lessons()["vanishing"]
    label, cfg = lesson.runs[0]
    waiting = store.create_run(cfg.to_dict(), name=lesson.run_name(label), epochs_total=12)
    store.update_run(waiting, cancel_requested=True)  # stays queued: no worker claims it
    at = open_learn({"lesson": "vanishing"})
    assert not at.exception
    button = at.button(key="learn_run_vanishing")
    assert button.disabled and button.label == "Training…"
    assert any("epoch 0/12" in p.proto.text for p in at.get("progress"))


def test_a_bad_lesson_epochs_setting_is_refused_with_advice(home, monkeypatch):
    monkeypatch.setenv(learn.LESSON_EPOCHS_ENV, "some")
    at = open_learn({"lesson": "vanishing"})
    assert not at.exception
    assert ui.md(learn.LESSON_EPOCHS_ENV) in at.error[0].value and "whole number" in at.error[0].value


# -- each view with its runs --------------------------------------------------------------------
def test_types_shows_tensor_shapes_and_the_three_framings(store):
    seed(store, "types")
    at = open_learn({"lesson": "types"})
    assert_clean(at)
    shapes = at.dataframe[0].value
    assert "run" not in shapes.columns  # the type names the run
    assert list(shapes["type"]) == ["many-to-one", "one-to-many (free-running)", "many-to-many"]
    assert list(shapes["input"])[::2] == ["(batch, 50, 1)", "(batch, 50, 1)"]
    assert list(shapes["output"])[::2] == ["(batch, 1)", "(batch, 10)"]
    specs = plotly_specs(at)
    assert "Many-to-one" in specs["learn_types_one_step"]["layout"]["title"]["text"]
    free = specs["learn_types_free"]
    assert "One-to-many" in free["layout"]["title"]["text"]
    assert len(values(free["data"][0]["x"])) == 40  # the whole free-running trajectory
    many = specs["learn_types_many"]["data"]
    windows = [t for t in many if t["name"].startswith("model")]
    assert windows and all(len(values(t["y"])) == 10 for t in windows)


def test_unrolled_draws_the_lessons_network_beside_its_gradient(store):
    seed(store, "unrolling")
    at = open_learn({"lesson": "unrolling"})
    assert_clean(at)
    specs = plotly_specs(at)
    assert "25-step window" in specs["learn_unrolled_diagram"]["layout"]["title"]["text"]
    assert values(specs["learn_unrolled_time"]["data"][0]["x"]) == list(range(1, 26))


def test_vanishing_puts_the_three_heatmaps_on_one_colour_scale(store):
    seed(store, "vanishing")
    at = open_learn({"lesson": "vanishing"})
    assert_clean(at)
    specs = plotly_specs(at)
    maps = [specs[f"learn_time_{i}"]["data"][0] for i in range(3)]
    assert len({(m["zmin"], m["zmax"]) for m in maps}) == 1
    titles = [specs[f"learn_time_{i}"]["layout"]["title"]["text"] for i in range(3)]
    assert titles == ["SimpleRNN", "LSTM", "GRU"]
    assert "learn_steps_0" not in specs  # no clipping in this lesson


def test_exploding_shows_the_step_norms_with_the_clip_line_and_the_divergence(store):
    seed(store, "exploding", {"no clipping": RunStatus.DIVERGED})
    at = open_learn({"lesson": "exploding"})
    assert not at.exception
    assert "Diverged after 3 of 3 epochs" in at.warning[0].value
    assert "clipnorm" in at.warning[0].value
    specs = plotly_specs(at)
    clipped = [t["name"] for t in specs["learn_steps_1"]["data"]]
    assert any(name.startswith("clip threshold") for name in clipped)
    assert not any("clip" in t["name"] for t in specs["learn_steps_0"]["data"])


def test_compare_overlays_losses_and_tables_seconds_and_error(store):
    seed(store, "truncated")
    at = open_learn({"lesson": "truncated"})
    assert_clean(at)
    lines = {t["name"] for t in plotly_specs(at)["learn_compare_loss"]["data"]}
    assert {"window 10", "window 60", "window 120"} <= lines
    table = at.dataframe[0].value
    assert list(table["run"]) == ["window 10", "window 60", "window 120"]
    assert list(table["seconds per epoch"]) == pytest.approx([0.7, 1.7, 2.9])
    assert list(table["test RMSE"]) == pytest.approx([0.12] * 3)


def test_lag_shows_predictions_skill_and_the_lag_correlations(store):
    (run_id,) = seed(store, "stock").values()
    at = open_learn({"lesson": "stock"})
    assert_clean(at)
    assert [m.value for m in at.metric] == ["0.12", "0.2", "+40%"]
    specs = plotly_specs(at)
    names = [t["name"] for t in specs["learn_lag_pred_0"]["data"]]
    assert names[:3] == ["actual", "model", "naive (last value)"]
    pred = pd.read_csv(store.artefact(run_id, "predictions.csv"))
    rows = learn.prediction_rows(pred)
    expected = figures.lag_correlations(rows["actual"], rows["model"])
    assert values(specs["learn_lag_corr_0"]["data"][0]["y"]) == pytest.approx(list(expected))


def test_every_lesson_renders_with_its_runs(store):
    found = load_lessons()
    for lesson_id in found:
        seed(store, lesson_id)
    at = open_learn()
    for lesson_id in found:
        at.button(key=f"learn_open_{lesson_id}").click().run()
        assert_clean(at)
        assert at.header[0].value == found[lesson_id].title
        at.button(key="learn_back").click().run()


# -- the calculator -----------------------------------------------------------------------------
@pytest.mark.parametrize("w, activation, steps, word", [
    (1.5, "linear", 30, "explodes"), (3.0, "sigmoid", 40, "vanishes"),
    (1.0, "relu", 10, "keeps its size"), (0.5, "tanh", 200, "vanishes")])
def test_the_calculator_draws_bptt_factors(home, w, activation, steps, word):
    at = open_learn()
    at.slider(key="learn_calc_w").set_value(w).run()
    at.radio(key="learn_calc_activation").set_value(activation).run()
    at.slider(key="learn_calc_steps").set_value(steps).run()
    assert not at.exception
    trace = plotly_specs(at)["learn_calc_chart"]["data"][0]
    expected = figures.bptt_factors(w, activation, steps)
    assert values(trace["x"]) == list(range(1, steps + 1))
    assert values(trace["y"]) == pytest.approx(list(expected), rel=1e-12)
    assert word in at.main.markdown[-1].value


# -- classroom mode -----------------------------------------------------------------------------
def test_classroom_mode_from_the_link_hides_advanced_controls_on_every_page(home):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["classroom"] = "1"
    at.run()
    keys = widget_keys(at)
    assert {"data_fill", "data_scaling", "data_season"}.isdisjoint(keys)
    assert "data_val" in keys and at.toggle(key="classroom").value
    del at.query_params["classroom"]  # the flag is kept in the session while navigating
    at.switch_page("views/model.py").run()
    assert not at.exception
    keys = widget_keys(at)
    assert ADVANCED.isdisjoint(keys)
    assert {"model_cell", "model_units", "model_lookback", "train_epochs",
            "train_clipnorm_on"} <= keys
    at.selectbox(key="model_cell").set_value("esn").run()
    assert "model_spectral_radius" not in widget_keys(at)
    assert "model_reservoir" in widget_keys(at)


def test_the_sidebar_toggle_turns_classroom_mode_on_and_off(home):
    at = open_learn()
    at.switch_page("views/model.py").run()
    assert ADVANCED <= widget_keys(at)
    at.toggle(key="classroom").set_value(True).run()
    assert ADVANCED.isdisjoint(widget_keys(at))
    assert any("Classroom mode" in c.value for c in at.caption)
    at.toggle(key="classroom").set_value(False).run()
    assert ADVANCED <= widget_keys(at)


def test_classroom_text_is_large_through_static_css_only(store):
    add_finished_run(store, "<b>html</b> name")
    seed(store, "vanishing")
    at = open_learn({"lesson": "vanishing", "classroom": "1"})
    assert_clean(at)
    html = [m for m in at.markdown if m.proto.allow_html]
    assert [m.value for m in html] == [ui.CLASSROOM_CSS]
    for page in PAGES:  # no page hands user text to unsafe HTML
        at.switch_page(page).run()
        assert all(m.value in ui.STATIC_CSS for m in at.markdown if m.proto.allow_html), page


# -- the helpers behind the page ----------------------------------------------------------------
def test_tensor_shapes_without_tensorflow():
    lesson = load_lessons()["types"]
    table = lesson_maths.tensor_shapes(lesson.runs)
    assert table.loc[0, "layers"] == "lstm_1 (batch, 16) → dense (batch, 1)"
    assert table.loc[1, "input"] == "one seed window (1, 50, 1)"
    assert table.loc[2, "parameters"] == 4 * 16 * (1 + 16 + 1) + 16 * 10 + 10


def test_power_words_and_the_calculator_sentence():
    assert lesson_maths.power_words(0.9, 50) == "0.0052"
    assert lesson_maths.power_words(1.5, 50) == "6.4 × 10⁸"
    assert lesson_maths.power_words(0.5, 2000) == "8.7 × 10⁻⁶⁰³"  # far below the float range
    assert "vanishes" in lesson_maths.bptt_sentence(0.9, "tanh", 50)
    assert "explodes" in lesson_maths.bptt_sentence(1.5, "tanh", 50)
    assert "nothing flows back" in lesson_maths.bptt_sentence(0.0, "tanh", 5)
    assert "0.25" in lesson_maths.bptt_sentence(3.0, "sigmoid", 5)


def test_lesson_epochs_and_plan(monkeypatch):
    monkeypatch.delenv(learn.LESSON_EPOCHS_ENV, raising=False)
    assert learn.lesson_epochs() is None
    monkeypatch.setenv(learn.LESSON_EPOCHS_ENV, "2")
    assert learn.lesson_epochs() == 2
    monkeypatch.setenv(learn.LESSON_EPOCHS_ENV, "0")
    with pytest.raises(ConfigError, match="RNNLAB_LESSON_EPOCHS must be a whole number >= 1"):
        learn.lesson_epochs()
    vanishing = load_lessons()["vanishing"]
    assert learn.lesson_plan(vanishing, None) == "3 runs of 20 epochs on Long memory (40 days back)"
    assert learn.lesson_plan(vanishing, 2).startswith("3 runs of 2 epochs")


def test_horizon_figure_draws_whole_windows_apart(tmp_path):
    from rnnlab.store import Store

    store = Store(tmp_path / "h")
    run_id = store.create_run({}, name="x")
    write_lesson_predictions(store, run_id, horizon=5, n=40)
    pred = pd.read_csv(store.artefact(run_id, "predictions.csv"))
    fig = figures.horizon_figure(pred, n_windows=3)
    windows = [t for t in fig.data if t.name.startswith("model")]
    assert len(windows) == 3 and all(len(t.y) == 5 for t in windows)
    starts = [pd.Timestamp(t.x[0]) for t in windows]
    assert all((b - a).days >= 10 for a, b in zip(starts, starts[1:]))
    assert "No predictions" in figures.horizon_figure(pred.iloc[:0]).layout.annotations[0].text
    assert math.isfinite(windows[0].y[0])
