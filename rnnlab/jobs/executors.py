"""Where a run's worker runs: the Executor interface, the in-process executor, executors by name.

The runner (`rnnlab.jobs.runner`) decides which run starts and when; an executor only runs a worker
for it and answers for that worker. The interface:

    start(store, run_id, *, resume, threads) -> WorkerHandle | None
        Start the worker of a claimed (running) run with `threads` CPU threads. The handle is an
        opaque string that names the worker for this executor; the runner records it in the
        store (`lifecycle.record_worker`), so another runner, later, can ask about it too.
    alive(handle) -> bool
        Could the worker named by `handle` still be going? It may come from another runner, or
        from a worker or a foreground `rnnlab train` that recorded its own process id: by default
        a handle of digits is a local process id, alive while that process is; anything else
        cannot be told and counts as alive (the runner's stale-heartbeat check catches it).
    stop(handle, run_id) -> None
        Stop a hung worker for good, if it can be identified safely as the run's worker.
    capacity() -> int | None
        The most workers it can run at once (a cluster's slots); None: no limit of its own, the
        runner's concurrency decides.
    reap() -> list[WorkerEnd]
        The workers it started that ended since the last call, with their exit codes.
    owns(run_id) -> bool
        True while a worker it started for the run is still going.
    warm(store, threads), close()
        Get ready for the next start (every tick), and let go of resources at the end.

Handles: the process executor's is the worker's pid as text ("4242"); the in-process executor's
is a token of its own ("thread:1a2b3c4d5e6f"). The Ray executor's (`rnnlab.jobs.ray_cluster`) is
"ray:" and its worker actor's id; it answers `alive` and `owns` from the actor's state and
`stop` by killing the actor.

`make_executor` picks one by name: RNNLAB_EXECUTOR is "process" (`rnnlab.jobs.process`),
"inprocess", "ray" (`rnnlab.jobs.ray_cluster`), or "package.module:Class" for an Executor of one's
own.
"""

from __future__ import annotations

import importlib
import os
import secrets
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import NewType

from rnnlab.errors import ConfigError
from rnnlab.store import Store

WorkerHandle = NewType("WorkerHandle", str)   # what an executor calls one of its workers
EXECUTORS = ("process", "inprocess", "ray")
LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class WorkerEnd:
    """A worker this executor started has ended (its run may or may not have a final status)."""

    run_id: str
    returncode: int | None   # None when the executor cannot tell (a thread)
    log_tail: str = ""


class Executor(ABC):
    """Where a worker runs. The runner decides what starts; the executor only runs it."""

    name = "executor"

    @abstractmethod
    def start(self, store: Store, run_id: str, *, resume: bool,
              threads: int | None = None) -> WorkerHandle | None:
        """Start the worker of a claimed run (with `threads` CPU threads); its handle."""

    @abstractmethod
    def reap(self) -> list[WorkerEnd]:
        """Collect the workers that ended since the last call."""

    @abstractmethod
    def owns(self, run_id: str) -> bool:
        """True while a worker this executor started for the run is still going."""

    def alive(self, handle: WorkerHandle | str | None) -> bool:
        """Could the worker named by `handle` (maybe recorded by another runner) still be going?

        A handle of digits is a local process id: a live one may belong to a foreground `rnnlab
        train` or be a reused pid, which the stale heartbeat catches. Any other handle (or none)
        cannot be told here, so it counts as alive.
        """
        pid = local_pid(handle)
        return pid is None or pid_alive(pid)

    def stop(self, handle: WorkerHandle | str | None, run_id: str) -> None:
        """Stop the hung worker of `run_id` named by `handle`, if it can be identified safely;
        nothing by default."""

    def capacity(self) -> int | None:
        """The most workers this executor can run at once; None: no limit of its own."""
        return None

    def warm(self, store: Store, threads: int | None = None) -> None:
        """Get ready for the next start (the runner calls it every tick); nothing by default."""

    def close(self) -> None:
        """Let go of resources; running workers are left to finish."""


class InProcessExecutor(Executor):
    """Each run in a thread of this process: the real worker code, no subprocess (for tests)."""

    name = "inprocess"

    def __init__(self):
        self._threads: dict[str, tuple[threading.Thread, WorkerHandle]] = {}
        self._lock = threading.Lock()

    def start(self, store: Store, run_id: str, *, resume: bool,
              threads: int | None = None) -> WorkerHandle:
        """Run `worker.execute` in a daemon thread (threads: TensorFlow is shared, so unused);
        the handle is a token naming that thread."""
        from rnnlab import worker

        thread = threading.Thread(target=worker.execute, args=(store, run_id),
                                  kwargs={"resume": resume}, name=f"rnnlab-{run_id}", daemon=True)
        handle = WorkerHandle(f"thread:{secrets.token_hex(6)}")
        with self._lock:
            self._threads[run_id] = (thread, handle)
        thread.start()
        return handle

    def reap(self) -> list[WorkerEnd]:
        """Threads that returned."""
        with self._lock:
            done = [rid for rid, (t, _) in self._threads.items() if not t.is_alive()]
            for rid in done:
                del self._threads[rid]
        return [WorkerEnd(rid, None) for rid in done]

    def owns(self, run_id: str) -> bool:
        """True while the run's thread is going."""
        with self._lock:
            return run_id in self._threads

    def alive(self, handle: WorkerHandle | str | None) -> bool:
        """One of our threads while it runs; anything else as `Executor.alive` says (a thread
        that ran in this process is reaped, and then cannot be told from one of another's)."""
        with self._lock:
            for thread, ours in self._threads.values():
                if ours == handle:
                    return thread.is_alive()
        return super().alive(handle)

    # stop: a thread cannot be stopped from outside; a cancelled run ends at its next batch


def make_executor(name: str | None = None) -> Executor:
    """An executor by name; default from `RNNLAB_EXECUTOR`: "process", "inprocess", or
    "package.module:Class" for an Executor of your own (made with no arguments)."""
    from rnnlab.jobs.process import LocalProcessExecutor

    name = (name or os.environ.get("RNNLAB_EXECUTOR") or "process").strip()
    if ":" in name:
        return _executor_class(name)()
    known = {cls.name: cls for cls in (LocalProcessExecutor, InProcessExecutor)}
    if name.lower() in known:
        return known[name.lower()]()
    if name.lower() == "ray":   # a Ray cluster (rnnlab[ray]); Ray is imported when a run starts
        from rnnlab.jobs.ray_cluster import RayExecutor

        return RayExecutor()
    raise ConfigError(f"RNNLAB_EXECUTOR must be one of {', '.join(EXECUTORS)}, or "
                      f"package.module:Class for an executor of your own. Received: {name!r}")


def _executor_class(name: str) -> type:
    """The Executor subclass named "package.module:Class"; ConfigError saying what is wrong."""
    module_name, _, class_name = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"RNNLAB_EXECUTOR={name!r}: the module {module_name!r} cannot be "
                          f"imported ({exc}). Install it or fix the name.") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Executor)):
        raise ConfigError(f"RNNLAB_EXECUTOR={name!r}: {module_name} has no Executor subclass "
                          f"called {class_name!r}. Give a class derived from rnnlab.jobs.Executor.")
    return cls


# -- local processes ------------------------------------------------------------------------------
def local_pid(handle: WorkerHandle | str | int | None) -> int | None:
    """The local process id a handle names (a handle of digits), else None."""
    text = str(handle) if handle is not None else ""
    return int(text) if text.isdigit() and int(text) > 0 else None


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def log_tail(path: Path | None, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a worker's log file ('' when there is none)."""
    if path is None or not path.is_file():
        return ""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 20000))
        text = handle.read().decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])
