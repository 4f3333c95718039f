"""The run store: an SQLite index (runs, epochs, gradient traces, events) plus a folder per run.

The store is the truth: workers write to it, pages and the CLI read from it. It is safe for one
writer per run and many readers at once (WAL journal, a busy timeout on every connection).
Where it lives: `RNNLAB_HOME`, else `./.rnnlab` in the working folder.

Each thread keeps one connection per Store (opened on first use, closed when the thread ends), so
a page that reads several things does not pay for opening the database and parsing its schema
each time. A connection left in a bad state by an error is dropped; the next call opens another.

A full disk or an unwritable folder never corrupts the store (SQLite rolls the transaction
back); the write raises `StoreFull` or `StoreError` with a message that says what to do.

A store whose folder or database cannot be written (a read-only home, a database owned by
someone else) opens read-only: everything can be read, and every write raises `StoreReadOnly`
saying why (`Store.read_only`, `Store.read_only_reason`); it becomes writable again by itself
once the folder is fixed (`Store.writable`). A damaged database file (garbage, truncated,
malformed) raises `StoreCorrupt`, which names the file and says how to start afresh.
"""

from __future__ import annotations

import errno
import gc
import json
import os
import re
import secrets
import shutil
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from rnnlab.errors import RunNotFound, StoreError

SCHEMA_VERSION = 3   # 2: run groups (group_id, group_kind, group_label on runs)
                     # 3: who ran it (owner, room) and repeats (repeat_of)
RUN_ID_RE = re.compile(r"^r[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")
GROUP_ID_RE = re.compile(r"^g[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")
GROUP_KINDS = ("seeds", "sweep", "backtest")   # how a group's runs differ: "seeds" (the same
# setup, seed + 0..N-1), "sweep" (a grid of settings, × seeds), "backtest" (origins rolling forward)
MAX_GROUP_SIZE = 10


# The statuses and their moves live in rnnlab.lifecycle; the store only carries them out.
from rnnlab import lifecycle  # noqa: E402
from rnnlab.lifecycle import RESUMABLE, RunStatus  # noqa: E402,F401

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    heartbeat_at REAL,
    pid INTEGER,
    config TEXT NOT NULL,
    data_sha256 TEXT NOT NULL DEFAULT '',
    epochs_total INTEGER NOT NULL DEFAULT 0,
    epochs_done INTEGER NOT NULL DEFAULT 0,
    summary TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    traceback TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    group_id TEXT NOT NULL DEFAULT '',
    group_kind TEXT NOT NULL DEFAULT '',
    group_label TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    room TEXT NOT NULL DEFAULT '',
    repeat_of TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status, created_at);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    train_loss REAL,
    val_loss REAL,
    lr REAL,
    seconds REAL,
    grad_norm_mean REAL,
    grad_norm_max REAL,
    PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS grad_tensors (
    run_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    tensor TEXT NOT NULL,
    mean REAL,
    max REAL,
    PRIMARY KEY (run_id, epoch, tensor)
);
CREATE TABLE IF NOT EXISTS grad_steps (
    run_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    norms TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS grad_time (
    run_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    series TEXT NOT NULL,
    value_list TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch, series)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_run ON events(run_id, id);
"""

CURVE_COLUMNS = ("epoch", "train_loss", "val_loss", "lr", "seconds", "grad_norm_mean",
                 "grad_norm_max")
LOSS_COLUMNS = ("epoch", "train_loss", "val_loss")   # what the loss charts draw

_RUN_FIELDS = ("name", "status", "started_at", "finished_at", "heartbeat_at", "pid",
               "epochs_total", "epochs_done", "summary", "error", "traceback", "cancel_requested")
_CHILD_TABLES = ("epochs", "grad_tensors", "grad_steps", "grad_time", "events")
# columns added after schema 1, with their definitions: a store made before them gets them on open
_ADDED_COLUMNS = (("group_id", "TEXT NOT NULL DEFAULT ''"), ("group_kind", "TEXT NOT NULL DEFAULT ''"),
                  ("group_label", "TEXT NOT NULL DEFAULT ''"), ("owner", "TEXT NOT NULL DEFAULT ''"),
                  ("room", "TEXT NOT NULL DEFAULT ''"), ("repeat_of", "TEXT NOT NULL DEFAULT ''"))


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
    pid: int | None
    config: dict
    data_sha256: str
    epochs_total: int
    epochs_done: int
    summary: dict = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None
    cancel_requested: bool = False
    group_id: str = ""        # '' when the run is alone; else the id its group's runs share
    group_kind: str = ""      # how the group's runs differ: "seeds"
    group_label: str = ""     # the group's name, e.g. "LSTM × 5 seeds"
    owner: str = ""           # the name its session gave ('' outside a classroom)
    room: str = ""            # the room code of the link it was queued from ('' for none)
    repeat_of: str = ""       # the finished run whose results answer this one ('' when trained)

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
    def label(self) -> str:
        """The run's name, or its id when it has none."""
        return self.name or self.id


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


class StoreFull(StoreError):
    """The disk (or quota) holding the run store is full, so the store cannot be written."""


class StoreReadOnly(StoreError):
    """The run store can be read but not written (a read-only folder or database file)."""


class StoreCorrupt(StoreError):
    """The run store's database file is damaged (not a database, or malformed)."""


_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG} | ({errno.EDQUOT} if hasattr(errno, "EDQUOT") else set())
_FULL_WORDS = ("database or disk is full", "no space left on device", "disk quota exceeded",
               "file too large")
_READONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}
_LOW_FREE_BYTES = 8 * 1024 * 1024   # an I/O error with less room than this is a full disk
SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY, SQLITE_CANTOPEN = 13, 10, 8, 14
SQLITE_CORRUPT, SQLITE_NOTADB = 11, 26
_CORRUPT_WORDS = ("file is not a database", "database disk image is malformed",
                  "malformed database schema")
WRITABLE_RECHECK_SECONDS = 5.0   # how often a read-only store looks whether it can write again


DISK_FULL = "The disk is full"   # how every full-disk message begins (the runner looks for it)


def disk_full_message(home: str | Path, detail: str = "") -> str:
    """What to tell people when the disk under the run store is full, and what to do about it."""
    what = f" ({detail})" if detail else ""
    return (f"{DISK_FULL}: the run store at {home} could not be written{what}. "
            "Free some space on that disk, for example by deleting old runs (`rnnlab rm RUN_ID`, "
            "or Delete on the Train page), or point RNNLAB_HOME at a folder on a disk with room; "
            "then try again. What the store already holds is intact.")


def corrupt_message(home: str | Path, detail: str = "") -> str:
    """What to tell people when the store's database file is damaged, and how to start afresh."""
    home = Path(home).absolute()
    db = home / "rnnlab.sqlite"
    what = f" ({detail})" if detail else ""
    return (f"The run store's database {db} is damaged{what}, so RNN Lab cannot read its list "
            f"of runs. Move it aside, with rnnlab.sqlite-wal and rnnlab.sqlite-shm next to it "
            f"if there are any (for example `mkdir {home}/damaged && mv {db}* {home}/damaged/`), "
            "then start again: a new, empty store is made. The runs' folders in "
            f"{home / 'runs'} are kept (models, predictions, logs), but the new store does not "
            "list them. Or put back a copy of the file from a backup.")


def read_only_message(home: str | Path, detail: str = "") -> str:
    """Why a store that opened read-only cannot train, cancel, resume or delete runs."""
    what = f" ({detail})" if detail else ""
    return (f"The run store at {home} is read-only{what}: its runs can be looked at, but none "
            "can be trained, resumed, cancelled or deleted. Make the folder and rnnlab.sqlite "
            "in it writable for the user that runs RNN Lab, or point RNNLAB_HOME at a "
            "writable folder; then try again.")


def is_corrupt(exc: BaseException) -> bool:
    """True when an SQLite error says the database file itself is damaged."""
    code = getattr(exc, "sqlite_errorcode", None)
    base = code & 0xFF if isinstance(code, int) else None
    return isinstance(exc, sqlite3.DatabaseError) and (
        base in (SQLITE_CORRUPT, SQLITE_NOTADB)
        or any(words in str(exc).lower() for words in _CORRUPT_WORDS))


def is_not_writable(exc: BaseException, home: str | Path | None = None) -> bool:
    """True when `exc` (or a cause) says the store's folder or file may not be written."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        code = getattr(exc, "sqlite_errorcode", None)
        base = code & 0xFF if isinstance(code, int) else None
        if (isinstance(exc, OSError) and exc.errno in _READONLY_ERRNOS) \
                or base == SQLITE_READONLY or "readonly database" in str(exc).lower():
            return True
        if home is not None and (base == SQLITE_CANTOPEN
                                 or "unable to open database file" in str(exc).lower()):
            folder = Path(home)
            if not os.access(folder, os.W_OK) or not os.access(folder / "rnnlab.sqlite",
                                                                 os.W_OK):
                return True
        exc = exc.__cause__ or exc.__context__
    return False


def storage_error(exc: BaseException, home: str | Path,
                  doing: str = "write to") -> StoreError | None:
    """A StoreError with advice when `exc` is the disk being full, the store being unwritable
    or its database damaged.

    Looks at the exception and its causes: SQLite's SQLITE_FULL, an OSError ENOSPC, EDQUOT or
    EFBIG, SQLITE_READONLY or EROFS/EACCES, SQLITE_CORRUPT or SQLITE_NOTADB, and an SQLite I/O
    error on a nearly full disk.
    None when `exc` is something else (a bug, a bad value): let it say so itself.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, StoreError):
            return exc
        code = getattr(exc, "sqlite_errorcode", None)
        base = code & 0xFF if isinstance(code, int) else None
        text = str(exc)
        lower = text.lower()
        if (isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS) or base == SQLITE_FULL \
                or any(words in lower for words in _FULL_WORDS):
            return StoreFull(disk_full_message(home, _short(exc)))
        if is_corrupt(exc):
            return StoreCorrupt(corrupt_message(home, _short(exc)))
        if (isinstance(exc, OSError) and exc.errno in _READONLY_ERRNOS) or base == SQLITE_READONLY \
                or "readonly database" in lower:
            return StoreReadOnly(f"Cannot {doing} the run store at {home} ({_short(exc)}): the folder "
                              "is not writable. Check its permissions, or point RNNLAB_HOME at a "
                              "writable folder.")
        if base in (SQLITE_IOERR, SQLITE_CANTOPEN) or isinstance(exc, sqlite3.OperationalError):
            if _free_bytes(home) < _LOW_FREE_BYTES:
                return StoreFull(disk_full_message(home, _short(exc)))
            return StoreError(f"Cannot {doing} the run store at {home}: {text}. Check that the "
                              "disk is not full and the folder is writable, or point RNNLAB_HOME "
                              "at another folder.")
        exc = exc.__cause__ or exc.__context__
    return None


def _short(exc: BaseException) -> str:
    """An exception in a few words: 'database or disk is full', 'No space left on device'."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _free_bytes(home: str | Path) -> float:
    """Free bytes on the disk holding `home` (inf when it cannot be told)."""
    path = Path(home)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return float("inf")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a bulk read builds its tuples.

    Reading 10,000 epochs creates 10,000 row tuples, which sets off a dozen collections, now and
    then one of the oldest generation (every object of a dashboard process): the slow tail of a
    read. Nothing cyclic is made here, so collecting can wait until the read is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Connection:
    """One thread's SQLite connection; closed when its thread ends or its Store goes away."""

    __slots__ = ("db", "pid", "mode")

    def __init__(self, db: sqlite3.Connection, mode: int = 0):
        self.db, self.pid, self.mode = db, os.getpid(), mode

    def close(self) -> None:
        if self.pid == os.getpid():  # never close a connection inherited through fork
            self.db.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown, or already closed
            pass


def default_home() -> Path:
    """`RNNLAB_HOME`, else `.rnnlab` in the working folder."""
    return Path(os.environ.get("RNNLAB_HOME") or ".rnnlab").expanduser()


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


class Store:
    """The run store under one home folder."""

    def __init__(self, home: str | Path | None = None):
        self.home = Path(home) if home is not None else default_home()
        self.runs_dir = self.home / "runs"
        self.db_path = self.home / "rnnlab.sqlite"
        self._local = threading.local()
        self.read_only, self.read_only_reason = False, ""
        self._mode = 0                 # bumped when read-only or writable: connections reopen
        self._rechecked = 0.0
        try:
            self._prepare()
        except (OSError, sqlite3.Error) as exc:
            self.close()
            problem = storage_error(exc, self.home, "open")
            if isinstance(problem, (StoreFull, StoreCorrupt)):
                raise problem from None
            if self.db_path.is_file() and is_not_writable(exc, self.home):
                self._open_read_only(_short(exc))
                return
            raise StoreError(f"Cannot open the run store at {self.home}: {_short(exc)}. "
                             "Check that the folder exists and is writable, or point "
                             "RNNLAB_HOME at another folder.") from None

    def _prepare(self) -> None:
        """Make the folders and the schema (the first writes of a store that can write)."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode = WAL")  # persistent: set once per database file
            db.executescript(_SCHEMA)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                       (str(SCHEMA_VERSION),))
            self._migrate(db)

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        """Bring a store made by an older version up to SCHEMA_VERSION, keeping its runs: the
        columns added since (run groups) are added with their defaults, in one transaction."""
        db.execute("BEGIN IMMEDIATE")   # another process may be migrating the same file
        try:
            have = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
            for name, kind in [(n, k) for n, k in _ADDED_COLUMNS if n not in have]:
                db.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
            db.execute("CREATE INDEX IF NOT EXISTS runs_group ON runs(group_id, created_at)")
            db.execute("CREATE INDEX IF NOT EXISTS runs_owner ON runs(owner, status)")
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version' "
                       "AND CAST(value AS INTEGER) < ?", (str(SCHEMA_VERSION), SCHEMA_VERSION))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _open_read_only(self, detail: str) -> None:
        """Go on read-only: reads work, writes raise StoreReadOnly with the reason.

        StoreCorrupt when the file turns out to be damaged, StoreError when it cannot be read.
        """
        self.read_only, self.read_only_reason = True, read_only_message(self.home, detail)
        self._mode += 1
        self._rechecked = time.monotonic()
        try:
            self.schema_version()
        except StoreError:
            self.close()
            raise
        except (sqlite3.Error, LookupError, ValueError) as exc:  # no meta row: not our file
            self.close()
            raise StoreCorrupt(corrupt_message(self.home, _short(exc))) from None

    def writable(self) -> bool:
        """True when the store can be written; a read-only store looks again (at most every
        WRITABLE_RECHECK_SECONDS) and becomes writable once its folder has been fixed."""
        if not self.read_only:
            return True
        if time.monotonic() - self._rechecked < WRITABLE_RECHECK_SECONDS:
            return False
        self._rechecked = time.monotonic()
        self.read_only = False
        self._mode += 1
        try:
            self._prepare()
        except (OSError, sqlite3.Error):
            self.close()
            self.read_only = True
            self._mode += 1
            return False
        self.read_only_reason = ""
        return True

    def check_writable(self) -> None:
        """StoreReadOnly, with the reason and what to do, unless the store can be written."""
        if not self.writable():
            raise StoreReadOnly(self.read_only_reason)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_local", None)  # connections stay with the process and thread that opened them
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    # -- plumbing ---------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        """A new connection (autocommit; transactions are explicit, see `_tx`); read-only
        (`mode=ro`, else `immutable=1` when not even the journal's index can be made) when
        the store is."""
        if self.read_only:
            return self._open_ro()
        db = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None,
                             check_same_thread=False)  # only its thread uses it; any may close it
        try:
            db.execute("PRAGMA busy_timeout = 30000")
            db.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            db.close()
            raise
        return db

    def _open_ro(self) -> sqlite3.Connection:
        uri = self.db_path.resolve().as_uri()
        error: sqlite3.Error | None = None
        for options in ("mode=ro", "mode=ro&immutable=1"):
            db = sqlite3.connect(f"{uri}?{options}", uri=True, timeout=30.0, isolation_level=None,
                                 check_same_thread=False)
            try:
                db.execute("PRAGMA busy_timeout = 30000")
                db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # opens the file
                return db
            except sqlite3.Error as exc:
                db.close()
                if is_corrupt(exc):
                    raise
                error = exc
        raise error

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, opened on first use.

        After an SQLite error it is kept only when it is back to a clean state (an operational
        error such as a full disk, rolled back): keeping it open keeps the journal files open,
        so reads go on working while the disk is full. Otherwise the next call opens a new one.
        """
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn.mode != self._mode and conn.pid == os.getpid():
            self.close()               # the store became read-only or writable since
            conn = None
        if conn is None or conn.pid != os.getpid():
            conn = self._local.conn = _Connection(self._open(), self._mode)
        try:
            yield conn.db
        except sqlite3.Error as exc:
            try:
                clean = isinstance(exc, sqlite3.OperationalError) and not conn.db.in_transaction
            except sqlite3.Error:
                clean = False
            if not clean:
                self.close()
            raise

    def close(self) -> None:
        """Close this thread's connection (those of other threads close as their threads end)."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:
                pass

    def shrink_journal(self, wait_seconds: float = 2.0) -> bool:
        """Copy the write-ahead journal into the database and truncate it; True if it was.

        After a full disk this gives the journal's space back, so that a small write (such as
        a run's final status) can fit. Waits at most `wait_seconds` for readers to let go.
        Never raises.
        """
        try:
            with self._connect() as db:
                db.execute(f"PRAGMA busy_timeout = {int(wait_seconds * 1000)}")
                try:
                    busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                finally:
                    db.execute("PRAGMA busy_timeout = 30000")
            return busy == 0
        except sqlite3.Error:
            return False

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; a full disk raises StoreFull, other storage failures StoreError.

        On any failure the transaction is rolled back (SQLite may already have done so, as it
        does after SQLITE_FULL), so the store keeps what it had before the transaction.
        A read-only store raises StoreReadOnly at once.
        """
        self.check_writable()
        try:
            with self._connect() as db:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        try:
                            db.execute("ROLLBACK")
                        except sqlite3.Error:  # the original error is the one to report
                            pass
                    raise
        except (sqlite3.DatabaseError, OSError) as exc:
            raise (storage_error(exc, self.home) or exc) from None

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection for a read; a store that cannot be read raises StoreError
        with advice."""
        try:
            with self._connect() as db:
                yield db
        except sqlite3.DatabaseError as exc:
            raise (storage_error(exc, self.home, "read") or exc) from None

    def _rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        """Plain tuples."""
        with self._reading() as db:
            return db.execute(sql, args).fetchall()

    def _read(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        """sqlite3.Row rows (by name or position)."""
        with self._reading() as db:
            cur = db.cursor()
            cur.row_factory = sqlite3.Row
            return cur.execute(sql, args).fetchall()

    def _read_dicts(self, sql: str, args: tuple = ()) -> list[dict]:
        """Rows as plain dicts (several times faster than sqlite3.Row for long curves)."""
        with self._reading() as db:
            cur = db.execute(sql, args)
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, row)) for row in cur.fetchall()]

    def schema_version(self) -> int:
        """The schema version recorded in the store."""
        return int(self._rows("SELECT value FROM meta WHERE key='schema_version'")[0][0])

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
        return [_record(r) for r in self._read(
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
        return _record(rows[0])

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
        return [_record(r) for r in self._read(sql, tuple(args))]

    def count_by_status(self) -> dict[RunStatus, int]:
        """How many runs are in each status."""
        rows = self._rows("SELECT status, COUNT(*) FROM runs GROUP BY status")
        return {RunStatus(s): n for s, n in rows}

    def update_run(self, run_id: str, **values: Any) -> None:
        """Set some fields of a run (pid, summary, error, ...); a status only through
        `rnnlab.lifecycle`."""
        unknown = set(values) - set(_RUN_FIELDS)
        if unknown:
            raise ValueError(f"unknown run fields: {sorted(unknown)}")
        if "status" in values:
            raise ValueError("A run's status changes only through rnnlab.lifecycle "
                             "(start, finish, fail, interrupt, cancel, requeue).")
        sets, args = [], []
        for key, value in values.items():
            if key == "summary":
                value = json.dumps(value, sort_keys=True, default=float)
            elif key == "cancel_requested":
                value = int(bool(value))
            sets.append(f"{key} = ?")
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
                value = json.dumps(value, sort_keys=True, default=float)
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
        threads, as the summary records them); done, or queued/running and not itself a
        repeat. None when there is none (or the data's hash is unknown)."""
        if not data_sha256:
            return None
        key = same_settings(config)
        for row in self._read("SELECT * FROM runs WHERE data_sha256 = ? AND repeat_of = '' AND "
                              "status IN ('done', 'queued', 'running') AND cancel_requested = 0 "
                              "ORDER BY created_at DESC, id DESC", (data_sha256,)):
            run = _record(row)
            if same_settings(run.config) != key:
                continue
            if run.status == RunStatus.DONE and run.summary.get("engine") != engine:
                continue
            return run
        return None

    def answer_repeat(self, run_id: str, source_id: str) -> bool:
        """Give the queued repeat `run_id` the results of the finished run `source_id`: its
        epochs, gradients, files and summary, and mark it done. False if it was no longer
        queued. Files are hard links where the filesystem allows (copies otherwise)."""
        source = self.get_run(source_id)
        if source.status != RunStatus.DONE:
            raise StoreError(f"Run {source_id} is {source.status.value}, not done: it has no "
                             "results to share.")
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
        summary = {**source.summary, "repeat_of": source_id}
        now = time.time()
        with self._tx() as db:
            cur = db.execute("UPDATE runs SET status = 'done', started_at = ?, finished_at = ?, "
                             "epochs_done = ?, epochs_total = ?, summary = ?, repeat_of = ? "
                             "WHERE id = ? AND status = 'queued'",
                             (now, now, source.epochs_done, source.epochs_total,
                              json.dumps(summary, sort_keys=True, default=float), source_id,
                              check_run_id(run_id)))
            if cur.rowcount != 1:
                return False
            for table in _CHILD_TABLES:
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
        """Record that the worker of a run is alive."""
        with self._tx() as db:
            if pid is None:
                db.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (time.time(), run_id))
            else:
                db.execute("UPDATE runs SET heartbeat_at = ?, pid = ? WHERE id = ?",
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
            for table in _CHILD_TABLES:
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

    # -- epochs and traces --------------------------------------------------------------------
    def add_epoch(self, run_id: str, epoch: int, *, train_loss: float | None,
                  val_loss: float | None = None, lr: float | None = None,
                  seconds: float | None = None, grad_norm_mean: float | None = None,
                  grad_norm_max: float | None = None,
                  tensor_norms: dict[str, tuple[float, float]] | None = None,
                  step_norms: list[float] | None = None,
                  through_time: dict[str, list[float]] | None = None) -> None:
        """Record one finished epoch (1-based) and its gradient traces, atomically."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (run_id, epoch, _num(train_loss), _num(val_loss), _num(lr), _num(seconds),
                        _num(grad_norm_mean), _num(grad_norm_max)))
            for tensor, (mean, mx) in (tensor_norms or {}).items():
                db.execute("INSERT OR REPLACE INTO grad_tensors VALUES (?, ?, ?, ?, ?)",
                           (run_id, epoch, tensor, _num(mean), _num(mx)))
            if step_norms is not None:
                db.execute("INSERT OR REPLACE INTO grad_steps VALUES (?, ?, ?)",
                           (run_id, epoch, json.dumps([_num(v) for v in step_norms])))
            for series, values in (through_time or {}).items():
                db.execute("INSERT OR REPLACE INTO grad_time VALUES (?, ?, ?, ?)",
                           (run_id, epoch, series, json.dumps([_num(v) for v in values])))
            db.execute("UPDATE runs SET epochs_done = ?, heartbeat_at = ? WHERE id = ?",
                       (epoch, time.time(), run_id))

    def truncate_after(self, run_id: str, epoch: int) -> None:
        """Forget epochs after `epoch` (resuming from a checkpoint at that epoch)."""
        with self._tx() as db:
            for table in ("epochs", "grad_tensors", "grad_steps", "grad_time"):
                db.execute(f"DELETE FROM {table} WHERE run_id = ? AND epoch > ?", (run_id, epoch))
            db.execute("UPDATE runs SET epochs_done = ? WHERE id = ?", (epoch, run_id))

    def epochs(self, run_id: str) -> list[dict]:
        """Epoch rows in order: epoch, train_loss, val_loss, lr, seconds, grad norms.

        One dict per epoch. A chart of a long run should read `curves` with only the columns
        it draws: for 10,000 epochs the loss columns take about half the time of this.
        """
        with _gc_paused():
            rows = self._curve_rows(run_id, CURVE_COLUMNS)
            return [{"epoch": e, "train_loss": train, "val_loss": val, "lr": lr, "seconds": sec,
                     "grad_norm_mean": mean, "grad_norm_max": mx}
                    for e, train, val, lr, sec, mean, mx in rows]

    def curves(self, run_id: str, columns: tuple[str, ...] = CURVE_COLUMNS) -> dict[str, list]:
        """The run's epochs as columns, in epoch order: {"epoch": [1, 2, ...], "train_loss": [...]}.

        `columns` picks from CURVE_COLUMNS (LOSS_COLUMNS is what a loss chart needs); missing
        values are None, as in `epochs`. One query, one list per column and no dict per epoch;
        most of the cost is one Python object per value, so ask only for the columns you draw.
        """
        columns = tuple(columns)
        unknown = [c for c in columns if c not in CURVE_COLUMNS]
        if unknown or not columns:
            raise ValueError(f"curves columns must come from {CURVE_COLUMNS}; got {columns}")
        with _gc_paused():
            rows = self._curve_rows(run_id, columns)
            if not rows:
                return {c: [] for c in columns}
            return {c: list(values) for c, values in zip(columns, zip(*rows))}

    def _curve_rows(self, run_id: str, columns: tuple[str, ...]) -> list[tuple]:
        """The epochs table's `columns` (checked names from CURVE_COLUMNS), in epoch order."""
        return self._rows(f"SELECT {', '.join(columns)} FROM epochs WHERE run_id = ? "
                          "ORDER BY epoch", (run_id,))

    def tensor_norms(self, run_id: str) -> list[dict]:
        """Per-tensor gradient norms: rows of epoch, tensor, mean, max."""
        return self._read_dicts("SELECT epoch, tensor, mean, max FROM grad_tensors WHERE run_id = ? "
                                "ORDER BY epoch, rowid", (run_id,))

    def step_norms(self, run_id: str) -> dict[int, list[float]]:
        """The global gradient norm of every step, by epoch."""
        rows = self._rows("SELECT epoch, norms FROM grad_steps WHERE run_id = ? ORDER BY epoch",
                          (run_id,))
        return {r[0]: json.loads(r[1]) for r in rows}

    def through_time(self, run_id: str) -> dict[str, dict[int, list[float]]]:
        """Gradient through time: {series: {epoch: [value per step back]}}."""
        rows = self._rows("SELECT epoch, series, value_list FROM grad_time WHERE run_id = ? "
                          "ORDER BY epoch", (run_id,))
        out: dict[str, dict[int, list[float]]] = {}
        for epoch, series, values in rows:
            out.setdefault(series, {})[epoch] = json.loads(values)
        return out

    # -- events -------------------------------------------------------------------------------
    def add_event(self, run_id: str, kind: str, message: str) -> None:
        """Append a line to the run's event log (started, resumed, diverged, ...)."""
        with self._tx() as db:
            db.execute("INSERT INTO events (run_id, at, kind, message) VALUES (?, ?, ?, ?)",
                       (run_id, time.time(), kind, message))

    def events(self, run_id: str) -> list[dict]:
        """The run's event log, oldest first."""
        rows = self._read("SELECT at, kind, message FROM events WHERE run_id = ? ORDER BY id",
                          (run_id,))
        return [dict(r) for r in rows]


def _num(value: Any) -> float | None:
    """A float for SQLite; NaN and inf are kept as text-free None/±inf-safe floats."""
    if value is None:
        return None
    value = float(value)
    return None if value != value else value


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
_EXTRA_COLUMNS = ("group_id", "group_kind", "group_label", "owner", "room", "repeat_of")


def same_settings(config: dict) -> str:
    """The part of a config that decides a run's results, as text: all of it but its name."""
    return json.dumps({k: v for k, v in config.items() if k != "name"}, sort_keys=True)


def _record(row: sqlite3.Row) -> RunRecord:
    keys = row.keys()
    group = {k: row[k] or "" for k in _EXTRA_COLUMNS if k in keys}   # an old read-only store
    return RunRecord(
        id=row["id"], name=row["name"], status=RunStatus(row["status"]),
        created_at=row["created_at"], started_at=row["started_at"],
        finished_at=row["finished_at"], heartbeat_at=row["heartbeat_at"], pid=row["pid"],
        config=json.loads(row["config"]), data_sha256=row["data_sha256"],
        epochs_total=row["epochs_total"], epochs_done=row["epochs_done"],
        summary=json.loads(row["summary"] or "{}"), error=row["error"],
        traceback=row["traceback"], cancel_requested=bool(row["cancel_requested"]), **group,
    )
