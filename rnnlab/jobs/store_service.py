"""The run store for workers on other machines: a service on the head, a client in the worker.

A worker on a Ray node (`rnnlab.jobs.ray_cluster`) never opens the SQLite file or the run store's
folder. It talks to a `StoreService` on the head, the machine that holds RNNLAB_HOME, through a
`StoreClient` that has the methods the worker calls on a `Store` (get_run, heartbeat, add_epoch,
add_event, cancel_requested, curves, update_run, transition, truncate_after, shrink_journal...).

- Rows (runs, epochs, events) go to the head call by call; the head's `Store` writes them.
- Files: `StoreClient.run_dir` and `artefact` point to a scratch folder on the worker's node.
  What the worker writes there goes to the head with `put_files` (each file written to a
  temporary name, then renamed into place): the checkpoint after each epoch (`files_changed`,
  called by the epoch writer), every other changed file before the run's final status is
  written (so a page that sees the run done finds its files), and the log at the end.
  `get_files` brings a run's files to the worker before it starts (a resumed run's checkpoint,
  an uploaded model's file), on whichever node it lands.
- Data: an uploaded file reaches the worker by its content hash (sha256), registered on the
  head by the executor (`register_data`) and fetched once per node into a local cache
  (`fetch_data`); the samples come with the package.

Both classes are plain Python: the transport is a function `call(method, *args, **kwargs)`
(a Ray actor call in `rnnlab.jobs.ray_cluster`, a direct call in the tests).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import threading
from pathlib import Path
from typing import Any, Callable

from rnnlab.artefacts import CHECKPOINT, CHECKPOINT_META, LOG
from rnnlab.errors import StoreError
from rnnlab.lifecycle import RunStatus

# What a worker may ask of the head's store, and nothing else.
STORE_CALLS = frozenset({
    "get_run", "heartbeat", "add_epoch", "add_event", "cancel_requested", "curves", "epochs",
    "events", "update_run", "transition", "truncate_after", "shrink_journal", "writable",
    "check_writable", "request_cancel",
})
NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}")
SHA_RE = re.compile(r"[0-9a-f]{64}")
CHECKPOINT_FILES = (CHECKPOINT, CHECKPOINT_META)   # in this order: the .json says which epoch
                                                  # the .keras holds
MAX_FILE_BYTES = 2 * 2 ** 30


def sha256_of(path: Path) -> str:
    """The sha256 of a file's content, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name or "") or ".." in name:
        raise StoreError(f"{name!r} is not a valid artefact name (letters, digits, '.', '_', '-').")
    return name


class StoreService:
    """The head's side: a `Store` and the run folders, for workers that cannot open them."""

    def __init__(self, home: str | os.PathLike):
        from rnnlab.store import Store

        self.store = Store(home)
        self._data: dict[str, str] = {}       # sha256 -> path of a file on the head
        self._lock = threading.Lock()

    # -- rows
    def call(self, method: str, args: tuple = (), kwargs: dict | None = None) -> tuple[bool, Any]:
        """Run one allowed Store method: (True, its value) or (False, the exception it raised,
        made safe to send)."""
        if method not in STORE_CALLS:
            return False, StoreError(f"A worker may not call Store.{method}.")
        try:
            return True, getattr(self.store, method)(*args, **(kwargs or {}))
        except Exception as exc:  # sent back and raised in the worker, as a Store would
            return False, _portable(exc)

    def home(self) -> str:
        """The head's RNNLAB_HOME (for messages; a worker never opens it)."""
        return str(self.store.home.resolve())

    def ping(self) -> bool:
        return True

    # -- files of a run
    def put_files(self, run_id: str, files: dict[str, bytes]) -> None:
        """Write files into the run's folder: all to temporary names first, then each renamed
        into place in the order given (a checkpoint's .keras before its .json)."""
        folder = self.store.run_dir(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        staged = []
        try:
            for name, data in files.items():
                final = folder / _check_name(name)
                if final.is_symlink():
                    raise StoreError(f"Artefact {name} of run {run_id} is a symbolic link; "
                                     "refusing it.")
                tmp = folder / f".{name}.{os.getpid()}.{threading.get_ident()}.partial"
                tmp.write_bytes(data)
                staged.append((tmp, final))
            for tmp, final in staged:
                os.replace(tmp, final)
        except OSError as exc:
            from rnnlab.store import storage_error

            raise (storage_error(exc, self.store.home) or exc) from None
        finally:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)

    def put_file(self, run_id: str, name: str, data: bytes) -> None:
        """One file into the run's folder (temporary name, then rename)."""
        self.put_files(run_id, {name: data})

    def get_file(self, run_id: str, name: str) -> bytes | None:
        """A file of the run's folder; None when there is none."""
        path = self.store.run_dir(run_id) / _check_name(name)
        if path.is_symlink() or not path.is_file():
            return None
        return path.read_bytes()

    def get_files(self, run_id: str) -> dict[str, bytes]:
        """Every file of the run's folder (not hidden ones, not links)."""
        folder = self.store.run_dir(run_id)
        out = {}
        if folder.is_dir():
            for item in sorted(folder.iterdir()):
                if item.name.startswith(".") or item.is_symlink() or not item.is_file():
                    continue
                if NAME_RE.fullmatch(item.name) and item.stat().st_size <= MAX_FILE_BYTES:
                    out[item.name] = item.read_bytes()
        return out

    # -- data by content
    def register_data(self, sha256: str, path: str) -> None:
        """Let workers fetch this file of the head by its sha256."""
        if not SHA_RE.fullmatch(sha256):
            raise StoreError(f"Not a sha256: {sha256!r}")
        with self._lock:
            self._data[sha256] = str(path)

    def get_data(self, path_or_hash: str) -> bytes:
        """A registered data file by its sha256 (or its registered path), checked against the
        hash: StoreError when it is unknown or its content changed."""
        with self._lock:
            if path_or_hash in self._data:
                sha, path = path_or_hash, self._data[path_or_hash]
            else:
                by_path = {p: s for s, p in self._data.items()}
                if path_or_hash not in by_path:
                    raise StoreError("The data file a worker asked for is not one the runner "
                                     f"shared ({path_or_hash!r}).")
                sha, path = by_path[path_or_hash], path_or_hash
        data = Path(path).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha:
            raise StoreError(f"The data file {path} changed since its run was started. "
                             "Resume the run to train on it as it is now.")
        return data


def _portable(exc: Exception) -> Exception:
    """The exception itself when it can be rebuilt from its arguments on the other side (as
    Ray rebuilds an exception: its class called with `exc.args`), else a StoreError with its
    message."""
    try:
        again = type(exc)(*exc.args)
    except Exception:
        again = None
    if again is None or str(again) != str(exc):
        return StoreError(f"{type(exc).__name__}: {exc}")
    exc.__traceback__ = None
    return exc


class StoreClient:
    """The worker's side: what the worker calls on a `Store`, sent to a `StoreService`.

    `call(method, *args, **kwargs)` reaches the service. `scratch` is a local folder of the
    worker's node: `home` (where a kept model or the compile cache goes) and `runs/RUN_ID`,
    the run's folder here.
    """

    def __init__(self, call: Callable[..., Any], scratch: str | os.PathLike):
        self._call = call
        self.home = Path(scratch)
        self.runs_dir = self.home / "runs"
        self.read_only = False
        self._sent: dict[tuple[str, str], tuple[int, int]] = {}   # file -> (mtime_ns, size) sent
        self._files_lock = threading.Lock()

    # -- rows: the same methods as Store
    def _store(self, method: str, *args, **kwargs):
        ok, value = self._call("call", method, args, kwargs)
        if not ok:
            raise value
        return value

    def __getattr__(self, name: str):
        if name in STORE_CALLS:
            return lambda *args, **kwargs: self._store(name, *args, **kwargs)
        raise AttributeError(name)

    def transition(self, run_id: str, from_statuses, to, **values) -> bool:
        """As Store.transition; a run's files reach the head before its final status does."""
        if RunStatus(to).finished:
            self.push_files(run_id)
        return self._store("transition", run_id, tuple(from_statuses), to, **values)

    def writable(self) -> bool:
        return True

    def check_writable(self) -> None:
        pass

    # -- the run's folder, here
    def run_dir(self, run_id: str) -> Path:
        """The run's scratch folder on this node (made when missing)."""
        from rnnlab.store.record import check_run_id

        path = self.runs_dir / check_run_id(run_id)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def artefact(self, run_id: str, name: str) -> Path:
        """An artefact's path in the run's scratch folder."""
        path = self.run_dir(run_id) / _check_name(name)
        if path.is_symlink():
            raise StoreError(f"Artefact {name} of run {run_id} is a symbolic link; refusing it.")
        return path

    def pull_files(self, run_id: str) -> list[str]:
        """Bring the run's files from the head (a checkpoint to resume from, an uploaded
        model's file, the log so far); their names."""
        files = self._call("get_files", run_id)
        folder = self.run_dir(run_id)
        for name, data in files.items():
            path = folder / _check_name(name)
            tmp = folder / f".{name}.pull.partial"
            tmp.write_bytes(data)
            os.replace(tmp, path)
            stat = path.stat()
            self._sent[(run_id, name)] = (stat.st_mtime_ns, stat.st_size)
        return sorted(files)

    def files_changed(self, run_id: str, names=None) -> None:
        """Send these files of the run (all changed ones when None) to the head now: the epoch
        writer calls it after each checkpoint). A failure is said in the log and left to the
        next call: the final push, before the run's status, sends what is still missing."""
        try:
            self.push_files(run_id, names)
        except Exception as exc:  # training goes on; the next push tries again
            print(f"Could not send {', '.join(names or ['files'])} to the head: {exc}",
                  file=sys.stderr, flush=True)

    def push_files(self, run_id: str, names=None) -> list[str]:
        """Send the run's new or changed files to the head, a checkpoint's .keras before its
        .json; the names sent."""
        with self._files_lock:
            folder = self.run_dir(run_id)
            if names is None:
                names = [p.name for p in folder.iterdir()
                         if p.is_file() and not p.is_symlink() and not p.name.startswith(".")]
            order = {name: i for i, name in enumerate(CHECKPOINT_FILES)}
            names = sorted(set(names), key=lambda n: (n == LOG, order.get(n, -1), n))
            files, stamps = {}, {}
            for name in names:
                path = folder / name
                try:
                    stat = path.stat()
                    if self._sent.get((run_id, name)) == (stat.st_mtime_ns, stat.st_size):
                        continue
                    files[name] = path.read_bytes()
                except FileNotFoundError:
                    continue
                stamps[name] = (stat.st_mtime_ns, stat.st_size)
            if files:
                self._call("put_files", run_id, files)
                for name, stamp in stamps.items():
                    self._sent[(run_id, name)] = stamp
            return list(files)

    def fetch_data(self, sha256: str, name: str) -> Path:
        """A data file shared by the head, from this node's cache (fetched once per node,
        checked against its hash); its local path keeps the file's name."""
        if not SHA_RE.fullmatch(sha256 or ""):
            raise StoreError(f"Not a sha256: {sha256!r}")
        folder = self.home / "data" / sha256
        path = folder / (Path(name).name or "data")
        if path.is_file():
            return path
        folder.mkdir(parents=True, exist_ok=True)
        data = self._call("get_data", sha256)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise StoreError("The data file sent by the head does not match its hash.")
        tmp = folder / f".{path.name}.{os.getpid()}.partial"
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return path

    def forget(self, run_id: str) -> None:
        """Remove the run's scratch folder (once its files are on the head)."""
        shutil.rmtree(self.runs_dir / run_id, ignore_errors=True)


def prune_cache(folder: Path, keep_bytes: int = 2 * 2 ** 30) -> None:
    """Keep a node's data cache under `keep_bytes`: the files fetched longest ago go first (a
    run fetches its file again when it needs it)."""
    if not folder.is_dir():
        return
    try:
        files = [p for p in folder.glob("*/*") if p.is_file() and not p.name.startswith(".")]
        files.sort(key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in files)
    except OSError:
        return
    for path in files:
        if total <= keep_bytes:
            break
        try:
            total -= path.stat().st_size
            path.unlink()
        except OSError:   # another worker of this node pruned it first
            continue
