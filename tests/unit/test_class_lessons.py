"""A lesson queued by a named student in a room: who queued it, fair caps, their own runs."""

import pytest

from rnnlab import jobs
from rnnlab.lessons import get_lesson, lesson_runs, start_lesson


def test_a_lessons_runs_record_who_queued_them(store):
    lesson = get_lesson("vanishing")
    ids = start_lesson(store, lesson, quick_epochs=1, owner="Ada", room="r1")
    assert {(store.get_run(i).owner, store.get_run(i).room) for i in ids} == {("Ada", "r1")}
    assert set(lesson_runs(store, lesson, owner="Ada")) == {label for label, _ in lesson.runs}
    assert lesson_runs(store, lesson, owner="Bo") == {}       # Bo sees only his own
    assert len(lesson_runs(store, lesson)) == len(lesson.runs)  # no name: every run


def test_a_full_turn_refuses_the_whole_lesson(store, monkeypatch):
    monkeypatch.setenv(jobs.MAX_QUEUED_ENV, "2")
    lesson = get_lesson("vanishing")
    assert len(lesson.runs) > 2
    with pytest.raises(jobs.QueueFull, match="Ada, you already have 0 runs waiting"):
        start_lesson(store, lesson, quick_epochs=1, owner="Ada")
    assert store.list_runs() == []                            # nothing queued in part
