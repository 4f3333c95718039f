"""The run store's SQLite database: one connection per thread, transactions, reads, read-only.

The store is safe for one writer per run and many readers at once (WAL journal, a busy timeout
on every connection). Each thread keeps one connection per store (opened on first use, closed
when the thread ends), so a page that reads several things does not pay for opening the database
and parsing its schema each time. A connection left in a bad state by an error is dropped; the
next call opens another.

A full disk or an unwritable folder never corrupts the store (SQLite rolls the transaction
back); the write raises `StoreFull` or `StoreError` with a message that says what to do. A store
whose folder or database cannot be written opens read-only: everything can be read, and every
write raises `StoreReadOnly` saying why, until the folder is fixed (`Database.writable`).
"""

from __future__ import annotations

import gc
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rnnlab.store import schema as store_schema
from rnnlab.errors import StoreError
from rnnlab.store.faults import (StoreCorrupt, StoreFull, StoreReadOnly, corrupt_message,
                                 is_corrupt, is_not_writable, read_only_message, short_reason,
                                 storage_error)

WRITABLE_RECHECK_SECONDS = 5.0   # how often a read-only store looks whether it can write again


def default_home() -> Path:
    """`RNNLAB_HOME`, else `.rnnlab` in the working folder."""
    return Path(os.environ.get("RNNLAB_HOME") or ".rnnlab").expanduser()


@contextmanager
def gc_paused() -> Iterator[None]:
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


class Database:
    """The run store's database under one home folder: its connections, transactions and reads.

    `rnnlab.store.Store` adds the runs, their epochs and their files.
    """

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
                self._open_read_only(short_reason(exc))
                return
            raise StoreError(f"Cannot open the run store at {self.home}: {short_reason(exc)}. "
                             "Check that the folder exists and is writable, or point "
                             "RNNLAB_HOME at another folder.") from None

    def _prepare(self) -> None:
        """Make the folders and the schema (the first writes of a store that can write)."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            store_schema.create(db)

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
            raise StoreCorrupt(corrupt_message(self.home, short_reason(exc))) from None

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
