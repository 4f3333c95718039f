"""Names, room codes, a queued run's place in line and the teacher's board (no Streamlit)."""

import time

import pytest

from rnnlab import classroom, jobs
from rnnlab.config import RunConfig
from rnnlab.errors import ConfigError
from rnnlab.store import RunStatus
from statuses import set_status

SINE = RunConfig().replace(train={"epochs": 3})


@pytest.mark.parametrize("text, name", [("  Ada   Lovelace ", "Ada Lovelace"), ("", ""),
                                        (None, ""), ("Zoë", "Zoë")])
def test_names_are_tidied(text, name):
    assert classroom.check_name(text) == name


@pytest.mark.parametrize("text, message", [("x" * 41, "at most 40 characters"),
                                           ("Ada\x00", "control characters")])
def test_bad_names_say_what_to_type(text, message):
    with pytest.raises(ConfigError, match=message):
        classroom.check_name(text)


def test_room_codes():
    assert classroom.check_room(" bio-2b ") == "bio-2b" and classroom.check_room(None) == ""
    with pytest.raises(ConfigError, match="is not a room code.*ask your teacher"):
        classroom.check_room("<script>")


@pytest.mark.parametrize("n, text", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"),
                                     (11, "11th"), (12, "12th"), (13, "13th"), (21, "21st"),
                                     (102, "102nd")])
def test_ordinals(n, text):
    assert classroom.ordinal(n) == text


class Run:
    """A stand-in run: only what the estimate reads."""

    def __init__(self, eta=None, started_at=None):
        self.eta, self.started_at = eta, started_at


def test_start_estimate_by_hand():
    # two slots: they free in 10 s and 30 s; typical run 100 s
    running = [Run(eta=30), Run(eta=10)]
    est = [classroom.start_estimate(p, 2, running, 100.0) for p in (1, 2, 3, 4, 5)]
    assert est == [10, 30, 110, 130, 210]
    # a free slot starts the first at once
    assert classroom.start_estimate(1, 2, [Run(eta=50)], 100.0) == 0
    assert classroom.start_estimate(2, 2, [Run(eta=50)], 100.0) == 50
    # a run without ETA yet: the typical time minus what it has run
    assert classroom.start_estimate(1, 1, [Run(started_at=1000.0)], 100.0, now=1040.0) == 60
    assert classroom.start_estimate(3, 1, [Run(eta=5)], None) is None


@pytest.mark.parametrize("seconds, words", [(None, "when a place frees up"), (2, "now"),
                                            (41, "in about 50 seconds"),
                                            (150, "in about 2 minutes"),
                                            (4200, "in about 1 hour 10 minutes"),
                                            (7200, "in about 2 hours")])
def test_waits_in_words(seconds, words):
    assert classroom.in_words(seconds).startswith(words)


def test_place_in_line_of_a_queued_run(store):
    ids = [jobs.submit(store, SINE, check_data=False, owner=o) for o in ("a", "a", "b")]
    order = store.queue_order()
    assert order == [ids[0], ids[2], ids[1]]              # fair turns: b before a's second
    text = classroom.place_sentence(ids[1], order, 1, [], [])
    assert text.startswith("3rd in line; it starts when a place frees up")
    assert classroom.place_sentence("r20260101-000000-abcdef", order, 1, [], []) == ""


def finish(store, run_id, skill, rmse):
    set_status(store, run_id, RunStatus.DONE, summary={
        "skill_vs_naive": skill, "metrics": {"test": {"model": {"rmse": rmse}}}})


def test_the_board_has_one_row_per_student_of_the_room(store):
    def q(owner, room="R1", name="Lesson · LSTM"):
        return jobs.submit(store, SINE.replace(name=name), check_data=False, owner=owner,
                           room=room, reuse=False)
    a1, a2 = q("ada"), q("ada")
    b1 = q("Bo")
    c1 = q("cy")
    q("dee", room="R2")                                   # another room
    q("", room="R1")                                      # no name
    q("ed", name="Other lesson · GRU")
    finish(store, a1, 0.2, 5.0)
    finish(store, a2, 0.4, 4.0)
    finish(store, b1, -0.1, 9.0)
    set_status(store, c1, RunStatus.FAILED, error="boom")
    runs = classroom.room_runs(store.list_runs(), "R1", name_prefix="Lesson ·")
    rows = classroom.board(runs)
    assert [r.owner for r in rows] == ["ada", "Bo", "cy"]
    ada = rows[0].row()
    assert (ada["runs"], ada["finished"], ada["best skill vs naive"], ada["its test RMSE"],
            ada["best run"]) == (2, 2, 0.4, 4.0, a2)
    assert rows[2].row()["failed"] == 1 and rows[2].best is None
    text = classroom.class_sentence(rows)
    assert text == ("3 students, 2 with a finished run: median best skill +0.15 "
                    "(−0.10 … +0.40); 1 beat the naive forecast.")
    assert classroom.class_sentence([]).startswith("No named student")
