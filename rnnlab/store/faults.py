"""What went wrong with the run store's disk or file, in words that say what to do.

A full disk (or quota) raises `StoreFull`, a folder or database that may not be written
`StoreReadOnly`, a damaged database file `StoreCorrupt`; `storage_error` tells them apart from an
exception and its causes (SQLite's result codes, OSError numbers, SQLite's messages), and the
`*_message` functions give the advice each one carries.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Iterator

from rnnlab.errors import StoreError


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


DISK_FULL = "The disk is full"   # how every full-disk message begins (the runner looks for it)


def disk_full_message(home: str | Path, detail: str = "") -> str:
    """What to tell people when the disk under the run store is full, and what to do about it."""
    return (f"{DISK_FULL}: the run store at {home} could not be written{_bracketed(detail)}. "
            "Free some space on that disk, for example by deleting old runs (`rnnlab rm RUN_ID`, "
            "or Delete on the Train page), or point RNNLAB_HOME at a folder on a disk with room; "
            "then try again. What the store already holds is intact.")


def corrupt_message(home: str | Path, detail: str = "") -> str:
    """What to tell people when the store's database file is damaged, and how to start afresh."""
    home = Path(home).absolute()
    db = home / "rnnlab.sqlite"
    return (f"The run store's database {db} is damaged{_bracketed(detail)}, so RNN Lab cannot "
            "read its list of runs. Move it aside, with rnnlab.sqlite-wal and rnnlab.sqlite-shm "
            f"next to it if there are any (for example `mkdir {home}/damaged && mv {db}* "
            f"{home}/damaged/`), then start again: a new, empty store is made. The runs' folders "
            f"in {home / 'runs'} are kept (models, predictions, logs), but the new store does not "
            "list them. Or put back a copy of the file from a backup.")


def read_only_message(home: str | Path, detail: str = "") -> str:
    """Why a store that opened read-only cannot train, cancel, resume or delete runs."""
    return f"The run store at {home} is read-only{_bracketed(detail)}: " + _READ_ONLY_ADVICE


_READ_ONLY_ADVICE = ("its runs can be looked at, but none can be trained, resumed, cancelled or "
                     "deleted. Make the folder and rnnlab.sqlite in it writable for the user that "
                     "runs RNN Lab, or point RNNLAB_HOME at a writable folder; then try again.")


def _bracketed(detail: str) -> str:
    """' (detail)' to follow what went wrong, or '' when there is no detail."""
    return f" ({detail})" if detail else ""


def is_corrupt(exc: BaseException) -> bool:
    """True when an SQLite error says the database file itself is damaged."""
    return isinstance(exc, sqlite3.DatabaseError) and (
        _sqlite_code(exc) in (SQLITE_CORRUPT, SQLITE_NOTADB)
        or any(words in str(exc).lower() for words in _CORRUPT_WORDS))


def is_not_writable(exc: BaseException, home: str | Path | None = None) -> bool:
    """True when `exc` (or a cause) says the store's folder or file may not be written."""
    for cause in _chain(exc):
        base = _sqlite_code(cause)
        if _says_read_only(cause, base):
            return True
        if home is not None and (base == SQLITE_CANTOPEN
                                 or "unable to open database file" in str(cause).lower()):
            folder = Path(home)
            if not os.access(folder, os.W_OK) or not os.access(folder / "rnnlab.sqlite",
                                                                 os.W_OK):
                return True
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
    for cause in _chain(exc):
        if isinstance(cause, StoreError):
            return cause
        base = _sqlite_code(cause)
        text = str(cause)
        if (isinstance(cause, OSError) and cause.errno in _FULL_ERRNOS) or base == SQLITE_FULL \
                or any(words in text.lower() for words in _FULL_WORDS):
            return StoreFull(disk_full_message(home, short_reason(cause)))
        if is_corrupt(cause):
            return StoreCorrupt(corrupt_message(home, short_reason(cause)))
        if _says_read_only(cause, base):
            return StoreReadOnly(f"Cannot {doing} the run store at {home} ({short_reason(cause)}): "
                                 "the folder is not writable. Check its permissions, or point "
                                 "RNNLAB_HOME at a writable folder.")
        if base in (SQLITE_IOERR, SQLITE_CANTOPEN) or isinstance(cause, sqlite3.OperationalError):
            if _free_bytes(home) < _LOW_FREE_BYTES:
                return StoreFull(disk_full_message(home, short_reason(cause)))
            return StoreError(f"Cannot {doing} the run store at {home}: {text}. Check that the "
                              "disk is not full and the folder is writable, or point RNNLAB_HOME "
                              "at another folder.")
    return None


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    """`exc`, then its cause (or context), then that one's, ... each once."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _sqlite_code(exc: BaseException) -> int | None:
    """SQLite's primary result code carried by `exc` (SQLITE_FULL, ...); None when it has none."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _says_read_only(exc: BaseException, base: int | None) -> bool:
    """True when `exc` itself says the folder or database may not be written."""
    return (isinstance(exc, OSError) and exc.errno in _READONLY_ERRNOS) \
        or base == SQLITE_READONLY or "readonly database" in str(exc).lower()


def short_reason(exc: BaseException) -> str:
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
