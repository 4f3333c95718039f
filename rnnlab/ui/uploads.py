"""Uploaded files, kept under the run store (so worker processes can read them) and written
atomically."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from .process import store


def uploads_dir() -> Path:
    """Where uploaded files are kept, so worker processes can read them."""
    path = store().home / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


UPLOAD_DISK_FULL = ("The server's disk is full: the file could not be saved. Free some space "
                    "or ask whoever runs the server.")


def save_upload(raw: bytes, filename: str) -> Path:
    """Keep an uploaded file under the store: a folder named by the content's hash, holding the
    file under a safe version of its own name (so reports and exports speak of the user's name,
    and never of a path the user chose).

    Written atomically (a temporary file in the same folder, flushed to disk, then renamed), so
    a full disk or a crash never leaves a short file under the final name; a file already there
    counts only when it has the same size and content (a damaged one is written again). A full
    disk raises StoreFull with UPLOAD_DISK_FULL, another failure to write a StoreError; neither
    leaves a file behind. A file over the size limit is a DataError.
    """
    import errno
    import tempfile

    from rnnlab.store import StoreError, StoreFull

    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(filename).name).strip("._") or "data.csv"
    from rnnlab.data import check_size

    check_size(len(raw), safe)
    digest = hashlib.sha256(raw).hexdigest()
    tmp = None
    try:
        folder = uploads_dir() / digest[:16]
        path = folder / safe
        if _same_content(path, len(raw), digest):
            return path
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{safe}.", suffix=".part")
        try:
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        tmp = None
        _fsync_folder(folder)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)):
            raise StoreFull(UPLOAD_DISK_FULL) from None
        raise StoreError(f"The file could not be saved on the server ({exc.strerror or exc}). "
                         f"Ask whoever runs the server to check that {store().home / 'uploads'} "
                         "is writable.") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return path


def _same_content(path: Path, size: int, digest: str) -> bool:
    """True when `path` is a file of this size whose SHA-256 is `digest`."""
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size != size:
            return False
        hasher = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(block)
    except OSError:
        return False
    return hasher.hexdigest() == digest


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (best effort: not every system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
