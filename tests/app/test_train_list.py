"""The Train page's list: the runs that train or wait refresh live, the finished ones are drawn
with the page below them; together they are the newest LIST_LIMIT runs, each once."""

from __future__ import annotations

import os
import time

from apphelpers import add_finished_run, open_page, tiny_config
from statuses import set_status
from rnnlab.store import RunStatus

LIST_LIMIT = 12


def keys(at, prefix: str) -> list[str]:
    return [b.key[len(prefix):] for b in at.button if b.key and b.key.startswith(prefix)]


def test_live_runs_and_finished_runs_make_one_list(store):
    finished = [add_finished_run(store, f"done {i}") for i in range(14)]
    busy = store.create_run(tiny_config("busy").to_dict(), name="busy", epochs_total=3)
    now = time.time()  # a live pid and a fresh heartbeat: the runner leaves it running
    set_status(store, busy, RunStatus.RUNNING, started_at=now, heartbeat_at=now, pid=os.getpid())
    at = open_page("views/train.py")
    assert not at.exception
    assert keys(at, "runs_cancel_") == [busy]
    shown = keys(at, "runs_delete_")          # finished runs: a Delete button each
    newest = finished[::-1][:LIST_LIMIT - 1]
    assert shown == newest                    # newest first, each once, after the live one
    at.toggle(key="runs_show_all").set_value(True).run()
    assert keys(at, "runs_delete_") == finished[::-1]
    assert keys(at, "runs_cancel_") == [busy]


def test_with_nothing_training_the_list_is_the_newest_finished_runs(store):
    finished = [add_finished_run(store, f"done {i}") for i in range(3)]
    at = open_page("views/train.py")
    assert not at.exception
    assert keys(at, "runs_delete_") == finished[::-1]
    assert not keys(at, "runs_cancel_")


def running(store, name: str) -> str:
    run_id = store.create_run(tiny_config(name).to_dict(), name=name, epochs_total=3)
    now = time.time()
    set_status(store, run_id, RunStatus.RUNNING, started_at=now, heartbeat_at=now, pid=os.getpid())
    return run_id


def test_the_live_view_follows_a_run_that_starts_unless_the_user_picked_one(store):
    old, older = add_finished_run(store, "old"), add_finished_run(store, "newer")
    at = open_page("views/train.py")
    assert at.selectbox(key="runs_watch").value == older          # the newest, picked by the page
    busy = running(store, "busy")
    at.run()
    assert at.selectbox(key="runs_watch").value == busy           # a run started: followed
    at.selectbox(key="runs_watch").set_value(old).run()
    running(store, "later")
    at.run()
    assert at.selectbox(key="runs_watch").value == old            # the user's pick stays
