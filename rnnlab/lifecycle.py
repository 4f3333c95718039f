"""A run's life: its statuses, the moves allowed between them, and the verbs that make them.

    queued ──start──> running ──finish──> done | cancelled | diverged | interrupted
       │                 │  └──fail──> failed
       ├──cancel──> cancelled            └──interrupt──> interrupted (its worker is gone)
       └──fail──> failed (its worker could not start)
    interrupted | cancelled ──requeue──> queued (resume)

A worker that was taken for dead (interrupted) may still come back and finish, so an interrupted
run can also be finished or failed. Nothing else writes a status: the verbs here are the only
callers of `Store.transition`, the one guarded write, which refuses any move not in TRANSITIONS.
"""

from __future__ import annotations

import time
from enum import Enum
from typing import Any


class RunStatus(str, Enum):
    """Where a run is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    DIVERGED = "diverged"

    @property
    def finished(self) -> bool:
        """True once no worker will touch the run again (unless it is resumed)."""
        return self not in (RunStatus.QUEUED, RunStatus.RUNNING)


S = RunStatus
# How a worker process ends, read by the job runner (besides 0: done or stopped, 1: failed and
# recorded): the run's end could not be recorded because the disk is full (75, EX_TEMPFAIL) or
# for another reason (74, EX_IOERR). The runner then marks the run interrupted: resumable.
EXIT_DISK_FULL = 75
EXIT_UNRECORDED = 74
RESUMABLE = (S.INTERRUPTED, S.CANCELLED)
ENDINGS = (S.DONE, S.CANCELLED, S.DIVERGED, S.INTERRUPTED)   # how a worker's training can end
TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    # done or diverged: a repeat answered from its twin's results (`answer`)
    S.QUEUED: frozenset({S.RUNNING, S.CANCELLED, S.FAILED, S.DONE, S.DIVERGED}),
    S.RUNNING: frozenset({S.RUNNING, S.DONE, S.FAILED, S.CANCELLED, S.INTERRUPTED, S.DIVERGED}),
    S.INTERRUPTED: frozenset({S.QUEUED, S.DONE, S.FAILED, S.CANCELLED, S.DIVERGED}),
    S.CANCELLED: frozenset({S.QUEUED}),
    S.FAILED: frozenset({S.FAILED}),           # a worker's own record of why, after the runner's
    S.DONE: frozenset(),
    S.DIVERGED: frozenset(),
}


def check(from_statuses: tuple[RunStatus, ...], to: RunStatus) -> None:
    """ValueError (a bug, not a user's mistake) unless every from -> to move is allowed."""
    for frm in from_statuses:
        if RunStatus(to) not in TRANSITIONS[RunStatus(frm)]:
            raise ValueError(f"A run cannot go from {RunStatus(frm).value} to {RunStatus(to).value}.")


def create_running(store, config: dict, **values: Any) -> str:
    """A new run that is running from the start (trained here, in the foreground): no runner
    can claim it between its creation and its start."""
    return store.create_run(config, status=S.RUNNING, **values)


def start(store, run_id: str, **values: Any) -> bool:
    """queued -> running (a worker took it); False if it was not queued."""
    return store.transition(run_id, (S.QUEUED,), S.RUNNING, **values)


def claim_next(store, pid: int | None = None) -> str | None:
    """Take the oldest queued run that is not being cancelled and mark it running."""
    return store.claim_next_queued(pid)


ANSWERS = (S.DONE, S.DIVERGED)   # how a twin can end for its repeats to take its results


def answer(store, run_id: str, source_id: str) -> bool:
    """queued -> done (or diverged) without training: a repeat takes the results of its twin,
    which trained to the end or diverged (the same seed diverges at the same step)."""
    for to in ANSWERS:
        check((S.QUEUED,), to)
    return store.answer_repeat(run_id, source_id)


def record_worker(store, run_id: str, handle: str | int | None) -> bool:
    """Note the worker of a running run (running -> running): the handle its executor gave
    (`rnnlab.jobs.executors.WorkerHandle`; a pid as text is kept as a number), or a process id."""
    return store.transition(run_id, (S.RUNNING,), S.RUNNING, pid=handle)


record_pid = record_worker   # a local process id is a worker handle too


def finish(store, run_id: str, status: RunStatus, **values: Any) -> bool:
    """running (or interrupted, its worker back) -> how training ended, finished_at set."""
    if RunStatus(status) not in ENDINGS:
        raise ValueError(f"Training cannot end as {RunStatus(status).value}; use fail().")
    values.setdefault("finished_at", time.time())
    return store.transition(run_id, (S.RUNNING, S.INTERRUPTED), status, **values)


def fail(store, run_id: str, *, from_statuses: tuple[RunStatus, ...] = (
        S.QUEUED, S.RUNNING, S.INTERRUPTED, S.FAILED), **values: Any) -> bool:
    """-> failed, with the message and traceback in `values`; finished_at set."""
    values.setdefault("finished_at", time.time())
    return store.transition(run_id, from_statuses, S.FAILED, **values)


def interrupt(store, run_id: str, **values: Any) -> bool:
    """running -> interrupted: its worker is gone; resumable from the last checkpoint."""
    values.setdefault("finished_at", time.time())
    return store.transition(run_id, (S.RUNNING,), S.INTERRUPTED, **values)


def requeue(store, run_id: str, **values: Any) -> bool:
    """interrupted or cancelled -> queued, to resume."""
    return store.transition(run_id, RESUMABLE, S.QUEUED, **values)


def cancel(store, run_id: str) -> RunStatus:
    """Ask a run to stop: a queued run is cancelled at once, a running one at its next batch."""
    run = store.get_run(run_id)
    if run.status == S.QUEUED and store.transition(run_id, (S.QUEUED,), S.CANCELLED,
                                                    finished_at=time.time(), cancel_requested=1):
        store.add_event(run_id, "cancelled", "Cancelled before it started.")
        return S.CANCELLED
    store.update_run(run_id, cancel_requested=True)
    return store.get_run(run_id).status
