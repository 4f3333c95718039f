"""The run store: an SQLite index (runs, epochs, gradient traces, events) plus a folder per run.

The store is the truth: workers write to it, pages and the CLI read from it. Where it lives:
`RNNLAB_HOME`, else `./.rnnlab` in the working folder. Its parts:

- `rnnlab.store.db`: connections (one per thread), transactions, reads, a read-only store;
- `rnnlab.store.schema`: the tables and the migration of an older store;
- `rnnlab.store.faults`: a full disk, an unwritable folder, a damaged file, in plain words;
- `rnnlab.store.telemetry`: what a run records as it trains (epochs, traces, events);
- `rnnlab.store.record`: a run as read back (`RunRecord`) and the ids of runs and groups;
- here: `Store`, with the runs themselves (queue, groups, repeats, status, folders).

A run's status changes only through `rnnlab.lifecycle`, whose verbs call `Store.transition`
(the one guarded write) or the atomic claim of the next queued run (`claim_next_queued`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

# The statuses and their moves live in rnnlab.lifecycle; the store only carries them out.
from rnnlab import lifecycle
from rnnlab.errors import RunNotFound, StoreError
from rnnlab.lifecycle import RESUMABLE, RunStatus  # noqa: F401
from rnnlab.store.record import (GROUP_ID_RE, RunRecord, check_group_id,  # noqa: F401
                               check_run_id, format_duration, new_group_id, new_run_id, record)
from rnnlab.store.db import Database, default_home  # noqa: F401
from rnnlab.store.faults import (DISK_FULL, StoreCorrupt, StoreFull,  # noqa: F401
                                 StoreReadOnly, storage_error)
from rnnlab.store.schema import CHILD_TABLES, SCHEMA_VERSION  # noqa: F401
from rnnlab.store.telemetry import CURVE_COLUMNS, LOSS_COLUMNS, Telemetry  # noqa: F401

GROUP_KINDS = ("seeds", "sweep", "backtest")   # how a group's runs differ: "seeds" (the same
# setup, seed + 0..N-1), "sweep" (a grid of settings, × seeds), "backtest" (origins rolling forward)
MAX_GROUP_SIZE = 10
# A worker records its own process id (heartbeat, update_run), which is its handle under the
# process executor; under another executor the handle the runner recorded (text, such as a
# remote task's id) stays, and a new claim or start of the run replaces it.
_OWN_PID = "pid = CASE WHEN typeof(pid) = 'text' THEN pid ELSE ? END"
_RUN_FIELDS = ("name", "status", "started_at", "finished_at", "heartbeat_at", "pid",
               "epochs_total", "epochs_done", "summary", "error", "traceback", "cancel_requested")


class Store(Telemetry, Database):
    """The run store under one home folder."""

    # -- runs ---------------------------------------------------------------------------------
    def create_run(self, config: dict, *, data_sha256: str = "", name: str = "",
                   epochs_total: int = 0, status: RunStatus = RunStatus.QUEUED,
                   owner: str = "", room: str = "", repeat_of: str = "") -> str:
        """Add a run (queued by default) and its folder; return its id.

        `repeat_of` names a run with the same config, data and seed: the runner answers this
        one from its results once it is done (`answer_repeat`) instead of training again."""
        self.check_writable()
        run_id = new_run_id()
        folder = self.run_dir(run_id)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise (storage_error(exc, self.home) or exc) from None
        try:
            with self._tx() as db:
                db.execute("INSERT INTO runs (id, name, status, created_at, config, data_sha256, "
                           "epochs_total, owner, room, repeat_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                           "?, ?)",
                           (run_id, name, RunStatus(status).value, time.time(),
                            json.dumps(config, sort_keys=True), data_sha256, epochs_total,
                            owner, room, repeat_of and check_run_id(repeat_of)))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return run_id

    def create_group(self, configs: list[dict], *, kind: str, label: str, names: list[str],
                     data_sha256: str = "", epochs_total: list[int] | None = None,
                     owner: str = "", room: str = "") -> tuple[str, list[str]]:
        """Queue several runs as one group, in one transaction (all or none); the group's id
        and the runs' ids, in the order given (which is also the order they are trained in)."""
        if kind not in GROUP_KINDS:
            raise ValueError(f"unknown group kind {kind!r}; one of {GROUP_KINDS}")
        if not 1 <= len(configs) <= MAX_GROUP_SIZE * MAX_GROUP_SIZE or len(names) != len(configs):
            raise ValueError("a group needs one name per config, and at most "
                             f"{MAX_GROUP_SIZE * MAX_GROUP_SIZE} runs")
        self.check_writable()
        group_id = new_group_id()
        run_ids: list[str] = []
        while len(run_ids) < len(configs):
            run_id = new_run_id()
            if run_id not in run_ids:
                run_ids.append(run_id)
        folders = [self.run_dir(run_id) for run_id in run_ids]
        totals = epochs_total or [0] * len(configs)
        try:
            for folder in folders:
                folder.mkdir(parents=True, exist_ok=True)
            now = time.time()
            with self._tx() as db:
                for i, (run_id, config) in enumerate(zip(run_ids, configs)):
                    # a microsecond apart: the queue (oldest first) takes them in this order
                    db.execute("INSERT INTO runs (id, name, status, created_at, config, "
                               "data_sha256, epochs_total, group_id, group_kind, group_label, "
                               "owner, room) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               (run_id, names[i], now + i * 1e-5,
                                json.dumps(config, sort_keys=True), data_sha256, totals[i],
                                group_id, kind, label, owner, room))
        except BaseException as exc:
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)
            if isinstance(exc, OSError):
                raise (storage_error(exc, self.home) or exc) from None
            raise
        return group_id, run_ids

    def group_runs(self, group_id: str) -> list[RunRecord]:
        """The runs of a group in the order they were queued; [] for an unknown group (or a
        read-only store made before groups existed)."""
        if not self._has_groups():
            return []
        return [record(r) for r in self._read(
            "SELECT * FROM runs WHERE group_id = ? ORDER BY created_at, id",
            (check_group_id(group_id),))]

    def _has_groups(self) -> bool:
        """True when the runs table has the group columns (a read-only old store has not)."""
        return "group_id" in {row[1] for row in self._rows("PRAGMA table_info(runs)")}

    def get_run(self, run_id: str) -> RunRecord:
        """One run; RunNotFound if there is none."""
        rows = self._read("SELECT * FROM runs WHERE id = ?", (check_run_id(run_id),))
        if not rows:
            raise RunNotFound(f"No run {run_id!r} in {self.home}. `rnnlab list` shows the runs.")
        return record(rows[0])

    def list_runs(self, statuses: tuple[RunStatus | str, ...] | None = None,
                  limit: int | None = None) -> list[RunRecord]:
        """Runs, newest first, optionally only some statuses."""
        sql, args = "SELECT * FROM runs", []
        if statuses:
            sql += f" WHERE status IN ({','.join('?' * len(statuses))})"
            args = [RunStatus(s).value for s in statuses]
        sql += " ORDER BY created_at DESC, id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [record(r) for r in self._read(sql, tuple(args))]

    def count_by_status(self) -> dict[RunStatus, int]:
        """How many runs are in each status."""
        rows = self._rows("SELECT status, COUNT(*) FROM runs GROUP BY status")
        return {RunStatus(s): n for s, n in rows}

    def update_run(self, run_id: str, **values: Any) -> None:
        """Set some fields of a run (pid, summary, error, ...); a status only through
        `rnnlab.lifecycle`. A process id keeps an executor's handle in place (`_OWN_PID`)."""
        unknown = set(values) - set(_RUN_FIELDS)
        if unknown:
            raise ValueError(f"unknown run fields: {sorted(unknown)}")
        if "status" in values:
            raise ValueError("A run's status changes only through rnnlab.lifecycle "
                             "(start, finish, fail, interrupt, cancel, requeue).")
        sets, args = [], []
        for key, value in values.items():
            if key == "summary":
                value = summary_json(value)
            elif key == "cancel_requested":
                value = int(bool(value))
            sets.append(_OWN_PID if key == "pid" and isinstance(value, int) else f"{key} = ?")
            args.append(value)
        with self._tx() as db:
            cur = db.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id = ?",
                             (*args, check_run_id(run_id)))
            if cur.rowcount == 0:
                raise RunNotFound(f"No run {run_id!r} in {self.home}.")

    def transition(self, run_id: str, from_statuses: tuple[RunStatus, ...], to: RunStatus,
                   **values: Any) -> bool:
        """Atomically move a run from one of `from_statuses` to `to`; False if it was elsewhere.

        Called by `rnnlab.lifecycle` only; a move its table does not allow is a ValueError.
        """
        lifecycle.check(tuple(from_statuses), to)
        sets, args = ["status = ?"], [RunStatus(to).value]
        for key, value in values.items():
            if key not in _RUN_FIELDS:
                raise ValueError(f"unknown run field: {key}")
            if key == "summary":
                value = summary_json(value)
            sets.append(f"{key} = ?")
            args.append(value)
        marks = ",".join("?" * len(from_statuses))
        with self._tx() as db:
            cur = db.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id = ? AND status IN ({marks})",
                             (*args, check_run_id(run_id), *[RunStatus(s).value for s in from_statuses]))
            return cur.rowcount == 1

    def claim_next_queued(self, pid: int | None = None) -> str | None:
        """Atomically take the next queued run in fair order (`_FAIR_ORDER`) and mark it
        running; None if nothing can start. A repeat waiting for its twin is never taken."""
        with self._tx() as db:
            row = db.execute(_FAIR_ORDER + " LIMIT 1").fetchone()
            if row is None:
                return None
            now = time.time()
            db.execute("UPDATE runs SET status = 'running', started_at = COALESCE(started_at, ?), "
                       "heartbeat_at = ?, pid = ?, finished_at = NULL WHERE id = ?",
                       (now, now, pid, row[0]))
            return row[0]

    def queue_order(self) -> list[str]:
        """The queued runs the runner can take, in the order it would take them if none
        finished meanwhile: `_FAIR_ORDER` applied pick after pick, each pick counted as
        running and served for its owner."""
        queued = [(r[0], r[1], r[2]) for r in self._rows(
            "SELECT id, owner, created_at FROM runs WHERE status = 'queued' AND "
            "cancel_requested = 0 AND repeat_of = '' ORDER BY created_at, id")]
        running = {o: n for o, n in self._rows(
            "SELECT owner, COUNT(*) FROM runs WHERE status = 'running' GROUP BY owner")}
        started = self._rows("SELECT owner, started_at FROM runs WHERE started_at IS NOT NULL "
                             "AND owner IN (SELECT owner FROM runs WHERE status = 'queued')")
        order: list[str] = []
        picked_by: dict[str, int] = {}
        while queued:
            oldest = {}
            for _, owner, created in queued:
                oldest.setdefault(owner, created)
            served = {o: picked_by.get(o, 0) + sum(1 for so, at in started
                                                   if so == o and at >= oldest[o])
                      for o in oldest}
            best = min(queued, key=lambda q: (running.get(q[1], 0), served[q[1]], q[2], q[0]))
            order.append(best[0])
            queued.remove(best)
            running[best[1]] = running.get(best[1], 0) + 1
            picked_by[best[1]] = picked_by.get(best[1], 0) + 1
        return order

    def queued_count(self, owner: str) -> int:
        """How many runs of `owner` wait in the queue (repeats waiting for a twin included)."""
        return int(self._rows("SELECT COUNT(*) FROM runs WHERE status = 'queued' AND owner = ?",
                              (owner,))[0][0])

    def find_twin(self, config: dict, data_sha256: str, engine: dict) -> RunRecord | None:
        """The newest run that this config would repeat: the same settings (its name aside),
        the same data (by content) and a worker on the same engine (`engine`: backend and
        threads, as the summary records them); done or diverged (the same seed diverges at the
        same step), or queued/running, and not itself a repeat. None when there is none (or the
        data's hash is unknown)."""
        if not data_sha256:
            return None
        key = same_settings(config)
        for row in self._read("SELECT * FROM runs WHERE data_sha256 = ? AND repeat_of = '' AND "
                              "status IN ('done', 'diverged', 'queued', 'running') AND "
                              "cancel_requested = 0 ORDER BY created_at DESC, id DESC",
                              (data_sha256,)):
            run = record(row)
            if same_settings(run.config) != key:
                continue
            if run.status in (RunStatus.DONE, RunStatus.DIVERGED) and \
                    run.result.engine != engine:
                continue
            return run
        return None

    def answer_repeat(self, run_id: str, source_id: str) -> bool:
        """Give the queued repeat `run_id` the results of the finished run `source_id`: its
        epochs, gradients, files and summary, and mark it done. False if it was no longer
        queued. Files are hard links where the filesystem allows (copies otherwise)."""
        source = self.get_run(source_id)
        if source.status not in (RunStatus.DONE, RunStatus.DIVERGED):
            raise StoreError(f"Run {source_id} is {source.status.value}, neither done nor "
                             "diverged: it has no results to share.")
        src_dir, dst_dir = self.run_dir(source_id), self.run_dir(run_id)
        dst_dir.mkdir(parents=True, exist_ok=True)
        for item in src_dir.iterdir():
            if not item.is_file() or item.is_symlink() or item.name.startswith("."):
                continue
            target = dst_dir / item.name
            if target.exists():
                continue
            try:
                os.link(item, target)
            except OSError:
                shutil.copy2(item, target)
        summary = source.result.with_values(repeat_of=source_id)
        now = time.time()
        with self._tx() as db:
            cur = db.execute("UPDATE runs SET status = ?, started_at = ?, finished_at = ?, "
                             "epochs_done = ?, epochs_total = ?, summary = ?, repeat_of = ?, "
                             "error = ? WHERE id = ? AND status = 'queued'",
                             (source.status.value, now, now, source.epochs_done,
                              source.epochs_total, summary_json(summary), source_id,
                              source.error, check_run_id(run_id)))
            if cur.rowcount != 1:
                return False
            for table in CHILD_TABLES:
                if table == "events":
                    continue
                cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
                rest = [c for c in cols if c not in ("run_id", "id")]
                db.execute(f"INSERT INTO {table} (run_id, {', '.join(rest)}) "
                           f"SELECT ?, {', '.join(rest)} FROM {table} WHERE run_id = ?",
                           (run_id, source_id))
        return True

    def release_repeat(self, run_id: str) -> None:
        """A waiting repeat whose twin will not finish trains itself: its link is dropped."""
        with self._tx() as db:
            db.execute("UPDATE runs SET repeat_of = '' WHERE id = ? AND status = 'queued'",
                       (check_run_id(run_id),))

    def heartbeat(self, run_id: str, pid: int | None = None) -> None:
        """Record that the worker of a run is alive (and its process id: see `_OWN_PID`)."""
        with self._tx() as db:
            if pid is None:
                db.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (time.time(), run_id))
            else:
                db.execute(f"UPDATE runs SET heartbeat_at = ?, {_OWN_PID} WHERE id = ?",
                           (time.time(), pid, run_id))

    def request_cancel(self, run_id: str) -> RunStatus:
        """Ask a run to stop (see `lifecycle.cancel`)."""
        return lifecycle.cancel(self, run_id)

    def cancel_requested(self, run_id: str) -> bool:
        """True when someone asked this run to stop."""
        rows = self._rows("SELECT cancel_requested FROM runs WHERE id = ?", (run_id,))
        return bool(rows and rows[0][0])

    def delete_run(self, run_id: str) -> None:
        """Remove a run's rows and its folder. Refuses a running run."""
        run = self.get_run(run_id)
        if run.status == RunStatus.RUNNING:
            raise StoreError(f"Run {run_id} is still running. Cancel it first, then delete it.")
        folder = self.run_dir(run_id)
        try:
            self._delete_rows(run_id)
        except StoreFull:
            # Even a delete needs a little room in the journal: the folder's files give it.
            shutil.rmtree(folder, ignore_errors=True)
            self._delete_rows(run_id)
        shutil.rmtree(folder, ignore_errors=True)

    def _delete_rows(self, run_id: str) -> None:
        with self._tx() as db:
            for table in CHILD_TABLES:
                db.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    def run_dir(self, run_id: str) -> Path:
        """The run's artefact folder (checked to stay inside the runs folder)."""
        path = (self.runs_dir / check_run_id(run_id))
        if path.is_symlink() or not path.resolve().is_relative_to(self.runs_dir.resolve()):
            raise StoreError(f"The folder of run {run_id} points outside {self.runs_dir}; refusing it.")
        return path

    def artefact(self, run_id: str, name: str) -> Path:
        """Path of an artefact file inside a run's folder; refuses names that leave it."""
        if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}", name or "") or ".." in name:
            raise StoreError(f"{name!r} is not a valid artefact name (letters, digits, '.', '_', '-').")
        path = self.run_dir(run_id) / name
        if path.is_symlink():
            raise StoreError(f"Artefact {name} of run {run_id} is a symbolic link; refusing it.")
        return path


# Fair turns: the queued runs in the order the runner takes them. First the owner with the
# fewest runs running, then the owner served least since their oldest waiting run was queued
# (runs started after it), then the oldest run. With one owner (or none: '') it is the queue's
# own order, oldest first; one student who queues ten runs waits behind each other student's
# first. Repeats waiting for their twin (repeat_of) are not taken.
_FAIR_ORDER = """
SELECT q.id FROM runs q
WHERE q.status = 'queued' AND q.cancel_requested = 0 AND q.repeat_of = ''
ORDER BY
  (SELECT COUNT(*) FROM runs r WHERE r.status = 'running' AND r.owner = q.owner),
  (SELECT COUNT(*) FROM runs r WHERE r.owner = q.owner AND r.started_at IS NOT NULL
     AND r.started_at >= (SELECT MIN(w.created_at) FROM runs w
                          WHERE w.status = 'queued' AND w.owner = q.owner)),
  q.created_at, q.id
"""


def summary_json(summary) -> str:
    """A run's summary (a RunSummary or its dict) as the runs table keeps it."""
    stored = summary.to_dict() if hasattr(summary, "to_dict") else summary
    return json.dumps(stored, sort_keys=True, default=float)


def same_settings(config: dict) -> str:
    """The part of a config that decides a run's results, as text: all of it but its name."""
    return json.dumps({k: v for k, v in config.items() if k != "name"}, sort_keys=True)
