"""Helpers for the full-disk tests: a database that cannot grow, a tiny tmpfs, checks."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path


def cap_and_overflow(db: sqlite3.Connection) -> None:
    """Make this write transaction fail as on a full disk (SQLITE_FULL), then lift the cap.

    The database is capped at its current size, then a 1 MB ballast row needs more room.
    """
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    try:
        db.execute("INSERT INTO meta VALUES ('ballast', zeroblob(1048576))")
    finally:
        db.execute("PRAGMA max_page_count = 1073741823")


def integrity(store) -> str:
    """SQLite's integrity_check of the store's database ("ok" when sound)."""
    db = sqlite3.connect(store.db_path)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


def advice_in(message: str) -> None:
    """A message for people: what happened and what to do, not a traceback."""
    assert message.startswith("The disk is full"), message
    assert "rnnlab rm" in message and "Train page" in message and "RNNLAB_HOME" in message
    assert "Traceback" not in message and "sqlite3." not in message


def mount_tmpfs(path: Path, size: str) -> bool:
    """Mount a tmpfs of `size` (e.g. "1m") at `path`; False where not root or not allowed."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, timeout=30)
    return proc.returncode == 0


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


def fill(folder: Path) -> None:
    """Write zeros into folder/filler until the filesystem says it is full."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (65536, 512):
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
