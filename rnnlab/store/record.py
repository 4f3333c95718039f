"""A run as the store gives it back (`RunRecord`), and the ids of runs and groups.

Run ids sort by the time they were made and are safe in paths: r20261127-142501-a1b2c3; a
group's id is the same with a `g`. `check_run_id` and `check_group_id` refuse anything else, so
an id from a URL or the command line never leaves the runs folder.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass, field

from rnnlab.errors import RunNotFound
from rnnlab.lifecycle import RunStatus
from rnnlab.summary import RunSummary

RUN_ID_RE = re.compile(r"^r[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")
GROUP_ID_RE = re.compile(r"^g[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")
_EXTRA_COLUMNS = ("group_id", "group_kind", "group_label", "owner", "room", "repeat_of")


@dataclass(frozen=True)
class RunRecord:
    """One row of the runs table, decoded."""

    id: str
    name: str
    status: RunStatus
    created_at: float
    started_at: float | None
    finished_at: float | None
    heartbeat_at: float | None
    pid: int | None           # the worker's local process id (None when its handle is not one)
    config: dict
    data_sha256: str
    epochs_total: int
    epochs_done: int
    summary: dict = field(default_factory=dict)   # as stored; `result` reads it typed
    error: str | None = None
    traceback: str | None = None
    cancel_requested: bool = False
    group_id: str = ""        # '' when the run is alone; else the id its group's runs share
    group_kind: str = ""      # how the group's runs differ: "seeds"
    group_label: str = ""     # the group's name, e.g. "LSTM × 5 seeds"
    owner: str = ""           # the name its session gave ('' outside a classroom)
    room: str = ""            # the room code of the link it was queued from ('' for none)
    repeat_of: str = ""       # the finished run whose results answer this one ('' when trained)
    worker: str | None = None  # the worker's handle (`rnnlab.jobs.executors.WorkerHandle`); a pid as text

    @property
    def result(self) -> RunSummary:
        """The summary, typed (`rnnlab.summary`)."""
        return RunSummary.from_dict(self.summary)

    @property
    def progress(self) -> float:
        """Fraction of epochs done, 0..1."""
        return min(1.0, self.epochs_done / self.epochs_total) if self.epochs_total else 0.0

    @property
    def elapsed(self) -> float | None:
        """Seconds spent running so far (or in all, once finished)."""
        if self.started_at is None:
            return None
        end = self.finished_at if self.finished_at is not None else time.time()
        return max(0.0, end - self.started_at)

    @property
    def eta(self) -> float | None:
        """Seconds left, from the mean time per epoch so far; None before the first epoch."""
        if self.status != RunStatus.RUNNING or not self.epochs_done or self.elapsed is None:
            return None
        per_epoch = self.elapsed / self.epochs_done
        return per_epoch * max(0, self.epochs_total - self.epochs_done)

    @property
    def worker_label(self) -> str:
        """Its worker in a few words: "pid 4242", or the handle its executor gave."""
        return f"pid {self.pid}" if self.pid is not None else str(self.worker)

    @property
    def label(self) -> str:
        """The run's name, or its id when it has none."""
        return self.name or self.id


def record(row: sqlite3.Row) -> RunRecord:
    """A row of the runs table as a RunRecord (a store made before groups lacks their columns)."""
    keys = row.keys()
    group = {k: row[k] or "" for k in _EXTRA_COLUMNS if k in keys}   # an old read-only store
    worker = row["pid"]
    return RunRecord(
        id=row["id"], name=row["name"], status=RunStatus(row["status"]),
        created_at=row["created_at"], started_at=row["started_at"],
        finished_at=row["finished_at"], heartbeat_at=row["heartbeat_at"],
        pid=worker if isinstance(worker, int) else None,
        config=json.loads(row["config"]), data_sha256=row["data_sha256"],
        epochs_total=row["epochs_total"], epochs_done=row["epochs_done"],
        summary=json.loads(row["summary"] or "{}"), error=row["error"],
        traceback=row["traceback"], cancel_requested=bool(row["cancel_requested"]), **group,
        worker=None if worker is None else str(worker),
    )


def format_duration(seconds: float | None, missing: str = "—") -> str:
    """Seconds as '42 s', '3 min 05 s', '1 h 02 min'; `missing` when unknown or not finite."""
    if seconds is None or seconds != seconds or seconds in (float("inf"), float("-inf")):
        return missing
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def new_run_id() -> str:
    """A sortable, unique, path-safe id: r20261127-142501-a1b2c3."""
    return time.strftime("r%Y%m%d-%H%M%S-", time.gmtime()) + secrets.token_hex(3)


def new_group_id() -> str:
    """A sortable, unique id for a group of runs: g20261127-142501-a1b2c3."""
    return "g" + new_run_id()[1:]


def check_group_id(group_id: str) -> str:
    """Refuse anything that is not a well-formed group id."""
    if not isinstance(group_id, str) or not GROUP_ID_RE.match(group_id):
        raise RunNotFound(f"{group_id!r} is not a group id. Group ids look like "
                          "g20261127-142501-a1b2c3; `rnnlab list` shows them.")
    return group_id


def check_run_id(run_id: str) -> str:
    """Refuse anything that is not a well-formed run id (no paths, no tricks)."""
    if not isinstance(run_id, str) or not RUN_ID_RE.match(run_id):
        raise RunNotFound(f"{run_id!r} is not a run id. Run ids look like r20261127-142501-a1b2c3; "
                          "`rnnlab list` shows them.")
    return run_id
