"""One home for a run's status: the transition table, its verbs, and nothing else writing one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rnnlab import lifecycle
from rnnlab.lifecycle import RESUMABLE, TRANSITIONS, RunStatus

ROOT = Path(__file__).resolve().parents[2]
S = RunStatus


def test_every_status_has_a_row_and_finished_ones_lead_only_to_a_resume():
    assert set(TRANSITIONS) == set(RunStatus)
    for status, targets in TRANSITIONS.items():
        if status.finished and status not in RESUMABLE:
            assert targets <= {S.FAILED}, status
        if status in RESUMABLE:
            assert S.QUEUED in targets


def test_the_verbs_walk_a_run_through_its_life(store):
    run_id = store.create_run({"name": "x"})
    assert lifecycle.start(store, run_id, pid=123)
    assert not lifecycle.start(store, run_id)                 # already running
    assert lifecycle.record_pid(store, run_id, 456) and store.get_run(run_id).pid == 456
    assert lifecycle.interrupt(store, run_id, summary={"message": "gone"})
    run = store.get_run(run_id)
    assert run.status == S.INTERRUPTED and run.finished_at is not None
    assert lifecycle.finish(store, run_id, S.DONE)            # its worker came back and finished
    assert not lifecycle.requeue(store, run_id)              # done is done
    assert store.get_run(run_id).status == S.DONE


def test_cancel_then_resume(store):
    run_id = store.create_run({})
    assert lifecycle.cancel(store, run_id) == S.CANCELLED
    assert lifecycle.requeue(store, run_id, cancel_requested=0)
    assert store.get_run(run_id).status == S.QUEUED
    assert lifecycle.claim_next(store, pid=7) == run_id
    assert store.get_run(run_id).status == S.RUNNING
    assert lifecycle.cancel(store, run_id) == S.RUNNING      # a running run stops at its next batch
    assert store.cancel_requested(run_id)


def test_moves_outside_the_table_are_refused(store):
    run_id = store.create_run({})
    with pytest.raises(ValueError, match="cannot go from queued to interrupted"):
        store.transition(run_id, (S.QUEUED,), S.INTERRUPTED)
    with pytest.raises(ValueError, match="use fail"):
        lifecycle.finish(store, run_id, S.FAILED)
    with pytest.raises(ValueError, match="only through rnnlab.lifecycle"):
        store.update_run(run_id, status=S.DONE)
    assert store.get_run(run_id).status == S.QUEUED


WRITES = re.compile(r"\.transition\(|claim_next_queued\(|(update|create)_run\(.*\bstatus\s*=|"
                    r"SET status|status\s*=\s*'(running|done|failed|cancelled|interrupted)'")


def test_only_the_lifecycle_and_the_store_write_a_status():
    """The store carries a move out (its one guarded write and the atomic claim); the verbs in
    rnnlab.lifecycle are the only code that asks for one."""
    offenders = []
    for path in sorted([*ROOT.glob("rnnlab/**/*.py"), *ROOT.glob("views/*.py"), ROOT / "app.py"]):
        if path.relative_to(ROOT).as_posix() in ("rnnlab/lifecycle.py",
                                                  "rnnlab/store/__init__.py"):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if WRITES.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []
    store_src = (ROOT / "rnnlab/store/__init__.py").read_text()
    callers = [m.start() for m in re.finditer(r"self\.transition\(", store_src)]
    assert callers == []          # the store never moves a run by itself
