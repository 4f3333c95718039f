"""A class on one server, in the dashboard: a name and a room from the link go into the runs
queued from Train and from a lesson, a full turn is refused in words, a repeat is said and can
be trained anyway, a student's own runs come first, and the teacher's board."""

from __future__ import annotations

import types

import pytest
from streamlit.testing.v1 import AppTest

from apphelpers import open_page as open_any
from apphelpers import plotly_specs, tiny_config, write_artefacts
from classfake import add_student_run
from rnnlab import jobs, lessons, ui
from rnnlab.store import RunStatus
from statuses import set_status

TIMEOUT = 60


def open_page(page: str, query: dict | None = None) -> AppTest:
    at = open_any(page, query, TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown) + " " + " ".join(c.value for c in at.caption)


@pytest.fixture
def no_runner(monkeypatch):
    """Queued runs stay queued: no runner starts in this process (a stand-in says how many
    runs would train at a time)."""
    stand_in = types.SimpleNamespace(concurrency=1)
    monkeypatch.setattr(ui, "runner", lambda: stand_in)


# -- who is who -----------------------------------------------------------------------------------
def test_the_name_and_room_of_the_link_go_into_a_train_run(home, store, no_runner):
    at = open_page("views/train.py", {"room": "bio-2b", "name": "Ada"})
    assert at.text_input(key=ui.NAME_WIDGET).value == "Ada"
    assert "bio\\-2b" in shown(at)
    at.button(key="runs_submit").click().run()
    (run,) = store.list_runs()
    assert (run.owner, run.room) == ("Ada", "bio-2b")
    assert at.query_params["name"] == "Ada" and at.query_params["room"] == "bio-2b"


def test_seeds_carry_the_name_too(home, store, no_runner):
    at = open_page("views/train.py", {"name": "Bo"})
    at.selectbox(key="runs_seeds").set_value(3).run()
    at.button(key="runs_submit").click().run()
    assert {(r.owner, r.room) for r in store.list_runs()} == {("Bo", "")}


def test_a_lesson_run_carries_the_name_and_room(home, store, no_runner):
    at = open_page("views/learn.py", {"lesson": "vanishing", "room": "r1", "name": "Cy"})
    at.button(key="learn_run_vanishing").click().run()
    assert not at.error, [e.value for e in at.error]
    runs = store.list_runs()
    assert len(runs) == len(lessons.get_lesson("vanishing").runs)
    assert {(r.owner, r.room) for r in runs} == {("Cy", "r1")}


def test_a_bad_room_code_is_said_and_not_used(home, store, no_runner):
    at = open_page("views/data.py", {"room": "<script>"})
    assert any("is not a room code" in w.value for w in at.warning)
    assert "room" not in at.query_params                  # dropped from the link
    at.switch_page("views/train.py").run()
    at.button(key="runs_submit").click().run()
    assert store.list_runs()[0].room == ""


def test_classroom_mode_asks_for_the_name_before_the_first_run(home, store, no_runner):
    at = open_page("views/train.py", {"classroom": "1"})
    assert at.button(key="runs_submit").disabled
    at.text_input(key="name_prompt").input("  Dee  ").run()
    assert not at.button(key="runs_submit").disabled
    assert at.text_input(key=ui.NAME_WIDGET).value == "Dee"
    at.button(key="runs_submit").click().run()
    assert store.list_runs()[0].owner == "Dee"
    assert at.query_params["name"] == "Dee"


def test_a_name_typed_in_the_sidebar_is_kept_in_the_link(home, store, no_runner):
    at = open_page("views/train.py")
    at.text_input(key=ui.NAME_WIDGET).input("Eve").run()
    assert at.query_params["name"] == "Eve"
    at.switch_page("views/results.py").run()
    assert at.query_params["name"] == "Eve"           # moving between pages keeps it


# -- turns and repeats ----------------------------------------------------------------------------
def test_a_full_turn_is_refused_in_words(home, store, no_runner, monkeypatch):
    monkeypatch.setenv(jobs.MAX_QUEUED_ENV, "1")
    at = open_page("views/train.py", {"name": "Ada"})
    at.button(key="runs_submit").click().run()
    assert not at.error
    at.button(key="runs_submit").click().run()
    assert any("each person may have 1 at a time" in e.value for e in at.error)
    assert len(store.list_runs()) == 1


def test_a_repeat_is_said_and_can_be_trained_anyway(home, store, no_runner):
    at = open_page("views/train.py", {"name": "Ada"})
    at.button(key="runs_submit").click().run()
    (first,) = store.list_runs()
    write_artefacts(store, first.id, tiny_config())
    set_status(store, first.id, RunStatus.DONE, summary={"engine": jobs.engine()})
    at.button(key="runs_submit").click().run()
    repeat = store.list_runs()[0]
    assert repeat.id != first.id and repeat.repeat_of == first.id
    assert repeat.status == RunStatus.DONE                 # answered at once
    notice = " ".join(i.value for i in at.info)
    assert f"Same settings, data and seed as run {first.id}" in notice
    assert "its results are shown without training again" in notice
    assert f"repeat of {first.id}" in shown(at)
    at.button(key="runs_train_anyway").click().run()
    assert not at.error and not at.exception
    again = store.list_runs()[0]
    assert again.id not in (first.id, repeat.id)
    assert again.repeat_of == "" and again.status == RunStatus.QUEUED
    assert "runs_train_anyway" not in [b.key for b in at.button]


def test_a_queued_run_shows_its_place_in_line(home, store, no_runner):
    ahead = store.create_run(tiny_config("someone's").to_dict(), owner="Bo", epochs_total=3)
    at = open_page("views/train.py", {"name": "Ada"})
    at.button(key="runs_submit").click().run()
    at.run()
    text = shown(at)
    assert "2nd in line" in text and ahead not in text     # Bo's run first: not Ada's


# -- own runs first -------------------------------------------------------------------------------
@pytest.fixture
def class_runs(store):
    """Ada's run (the oldest), then Bo's two newer ones."""
    return {"ada": add_student_run(store, "Ada", "r1", 0.1, age=300),
            "bo1": add_student_run(store, "Bo", "r1", 0.15, age=200),
            "bo2": add_student_run(store, "Bo", "r1", 0.18, age=100)}


def test_results_lists_the_sessions_own_runs_first(class_runs):
    at = open_page("views/results.py", {"name": "Ada"})
    assert at.selectbox(key="results_run").options[0].endswith(class_runs["ada"] + " · by Ada")
    assert len(at.selectbox(key="results_run").options) == 1
    at.toggle(key="results_run_everyone").set_value(True).run()
    options = at.selectbox(key="results_run").options
    assert len(options) == 3 and class_runs["ada"] in options[0]
    assert at.selectbox(key="results_run").value == class_runs["ada"]


def test_without_a_name_every_run_is_listed_as_before(class_runs):
    at = open_page("views/results.py")
    assert len(at.selectbox(key="results_run").options) == 3
    assert "results_run_everyone" not in [t.key for t in at.toggle]


def test_a_linked_run_of_someone_else_stays_pickable(class_runs):
    at = open_page("views/results.py", {"name": "Ada", "run": class_runs["bo1"]})
    assert at.selectbox(key="results_run").value == class_runs["bo1"]


def test_compare_and_train_list_own_runs_first(class_runs):
    at = open_page("views/compare.py", {"name": "Bo"})
    ms = at.multiselect(key="compare_runs")
    assert [o.rsplit(" · ", 2)[-2] for o in ms.options] == [class_runs["bo2"], class_runs["bo1"]]
    at.toggle(key="compare_everyone").set_value(True).run()
    ms = at.multiselect(key="compare_runs")
    assert [o.rsplit(" · ", 2)[-2] for o in ms.options] == \
        [class_runs["bo2"], class_runs["bo1"], class_runs["ada"]]
    at = open_page("views/train.py", {"name": "Ada"})
    text = shown(at)
    assert class_runs["ada"] in text and class_runs["bo1"] not in text
    at.toggle(key="runs_everyone").set_value(True).run()
    text = shown(at)
    assert text.index(class_runs["ada"]) < text.index(class_runs["bo2"]) \
        < text.index(class_runs["bo1"])


# -- the teacher's board --------------------------------------------------------------------------
@pytest.fixture
def room_of_three(store):
    runs = {"ada": add_student_run(store, "Ada", "bio-2b", 0.1),
            "bo": add_student_run(store, "Bo", "bio-2b", 0.25),
            "cy": add_student_run(store, "Cy", "bio-2b", 0.15),
            "cy_running": add_student_run(store, "Cy", "bio-2b", 0.15,
                                          status=RunStatus.RUNNING)}
    add_student_run(store, "Dee", "other-room", 0.1)        # another room
    add_student_run(store, "", "bio-2b", 0.1)               # no name
    return runs


def test_the_board_shows_one_row_per_student_and_the_sentence(room_of_three, no_runner):
    at = open_page("views/board.py", {"room": "bio-2b", "teacher": "1"})
    frame = at.dataframe[0].value
    assert list(frame["student"]) == ["Ada", "Bo", "Cy"]
    assert list(frame["training or waiting"]) == [0, 0, 1]
    assert frame["best skill vs naive"].round(3).tolist() == [0.5, -0.25, 0.25]
    sentence = "3 students, 3 with a finished run: median best skill +0.25"
    assert any(ui.md(sentence) in m.value for m in at.markdown)
    spec = plotly_specs(at)["board_chart"]
    assert [len(t["x"]) for t in spec["data"]] == [2, 1]     # 2 beat naive, 1 did not
    assert at.selectbox(key="board_student").value == "Ada"
    assert "board_projector_chart" in plotly_specs(at)
    at.selectbox(key="board_student").set_value("Bo").run()
    assert at.selectbox(key="board_run_Bo").value == room_of_three["bo"]


def test_the_board_of_one_lesson(store):
    lesson = lessons.get_lesson("vanishing")
    label = lesson.runs[0][0]
    add_student_run(store, "Ada", "r1", 0.1, name=lesson.run_name(label))
    add_student_run(store, "Bo", "r1", 0.1, name="my own idea")
    at = open_page("views/board.py", {"room": "r1"})
    assert len(at.dataframe[0].value) == 2
    at.selectbox(key="board_lesson").set_value("vanishing").run()
    assert list(at.dataframe[0].value["student"]) == ["Ada"]


def test_the_board_without_a_room_asks_for_one(store):
    at = open_page("views/board.py")
    assert at.text_input(key="board_room")
    assert any("No named student" in m.value for m in at.markdown)
    at.text_input(key="board_room").input("not a room!").run()
    assert any("is not a room code" in w.value for w in at.warning)

