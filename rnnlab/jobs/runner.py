"""The job runner: takes queued runs from the store and starts their workers; watches them.

- A `Runner` takes queued runs in fair order and starts one worker per run through an
  `Executor` (`rnnlab.jobs.executors`), up to a concurrency limit counted from the store (so runs
  started by an earlier runner, or trained in the foreground by the CLI, count too), and the
  executor's capacity when it has one.
- It records the handle the executor gives for each worker in the store. A run whose worker
  is gone (the executor says its handle is not alive) or silent (no heartbeat for `stale_after`
  seconds; the executor stops it) is marked `interrupted`, resumable from its last checkpoint.
- Workers run in their own session, so they outlive the runner: a restarted runner finds them
  through the store and leaves them be.
- One runner per home is active at a time (a lock file in the home); others stay passive and
  take over when the lock frees.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
import weakref
from pathlib import Path
from typing import Callable

from rnnlab import lifecycle
from rnnlab.jobs import repeats
from rnnlab.artefacts import LOG
from rnnlab.errors import ConfigError, RnnlabError, RunNotFound, StoreError
from rnnlab.jobs.executors import Executor, WorkerEnd, log_tail, make_executor
from rnnlab.jobs.process import LocalProcessExecutor
from rnnlab.store import DISK_FULL, RunRecord, RunStatus, Store

try:  # POSIX only; elsewhere every runner is active (one per home is then the user's care)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

STALE_AFTER = 15.0          # seconds without a heartbeat before a running run is presumed dead
TICK_SECONDS = 0.5          # how often a started runner looks at the queue
STORE_ERROR_REPEAT = 60.0    # seconds before a runner repeats the same store error


def default_concurrency() -> int:
    """`RNNLAB_CONCURRENCY`, else one worker per two cores (at least one)."""
    raw = os.environ.get("RNNLAB_CONCURRENCY", "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise ConfigError(f"RNNLAB_CONCURRENCY must be a whole number >= 1. Received: {raw!r}")
        return int(raw)
    return max(1, (os.cpu_count() or 1) // 2)


class Runner:
    """Runs the queue of one store: claims queued runs and starts workers, watches running ones."""

    def __init__(self, store: Store, concurrency: int | None = None,
                 executor: Executor | None = None, *, stale_after: float = STALE_AFTER,
                 tick_seconds: float = TICK_SECONDS):
        if concurrency is not None and (not isinstance(concurrency, int) or concurrency < 1):
            raise ConfigError(f"concurrency must be a whole number >= 1. Received: concurrency={concurrency!r}")
        self.store = store
        self.concurrency = concurrency or default_concurrency()
        self.executor = executor or LocalProcessExecutor()
        self.stale_after = stale_after
        self.tick_seconds = tick_seconds
        self._lock_file = None
        self._tick_lock = threading.RLock()
        self._ticked = threading.Condition()
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_store_error, self._said_at = "", 0.0

    @property
    def threads_per_worker(self) -> int:
        """CPU threads for each worker: the cores shared out over the concurrency limit."""
        return max(1, (os.cpu_count() or 1) // self.concurrency)

    # -- one home, one active runner
    @property
    def active(self) -> bool:
        """True when this runner holds the home's lock and so runs the queue."""
        return self._lock_file is not None

    def _acquire(self) -> bool:
        if self._lock_file is not None:
            return True
        handle = open(self.store.home / "runner.lock", "a+")  # not inherited by workers
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock_file = handle
        return True

    def _release(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing drops the flock
            self._lock_file = None

    # -- the work of one tick
    def tick(self) -> list[str]:
        """Reap ended workers, mark dead runs interrupted, start queued runs; ids started."""
        with self._tick_lock:
            if not self.store.writable() or not self._acquire():
                return []   # a read-only store: nothing can be started or marked
            for end in self.executor.reap():
                self._after_end(end)
            for run in self.store.list_runs((RunStatus.RUNNING,)):
                self._watch(run)
            repeats.answer_repeats(self.store)
            started = self._fill()
            self.executor.warm(self.store, self.threads_per_worker)
        with self._ticked:
            self._ticked.notify_all()
        return started

    def _after_end(self, end: WorkerEnd) -> None:
        """A worker ended: if it left its run `running`, say why."""
        try:
            run = self.store.get_run(end.run_id)
        except RunNotFound:
            return
        if run.status != RunStatus.RUNNING:
            return
        code = end.returncode
        if code is not None and code < 0:
            self._interrupt(run, f"its worker was killed by signal {-code}")
        elif code == lifecycle.EXIT_DISK_FULL:  # resumable once there is room again
            self._interrupt(run, "its worker could not write to the run store", disk_full=True)
        elif code == lifecycle.EXIT_UNRECORDED:
            self._interrupt(run, "its worker could not record how the run ended")
        else:
            how = f" (exit code {code})" if code is not None else ""
            self._fail(run, f"The worker ended{how} before finishing the run. Its output is in "
                            "log.txt in the run's folder.", end.log_tail)

    def _watch(self, run: RunRecord) -> None:
        """Interrupt a running run whose worker is gone or silent."""
        now = time.time()
        silent = now - (run.heartbeat_at or run.started_at or now)
        if not self.executor.owns(run.id) and not self.executor.alive(run.worker):
            self._interrupt(run, f"its worker ({run.worker_label}) is gone")
        elif silent > self.stale_after:
            self.executor.stop(run.worker, run.id)
            self._interrupt(run, f"its worker sent no heartbeat for {silent:.0f} s")

    def _interrupt(self, run: RunRecord, reason: str, *, disk_full: bool = False) -> None:
        if disk_full:                          # the worker's exit code said so
            reason += "; the disk was full"
        elif DISK_FULL in self._log_tail(run.id):
            # a worker that is not ours (the runner restarted) left no exit code: its log is all
            # that says why
            reason += "; its log says the disk was full"
            disk_full = True
        advice = ("Free some space on that disk (delete old runs, for example), then resume it "
                  "to continue from its last checkpoint." if disk_full else
                  "Resume it to continue from its last checkpoint.")
        message = f"Interrupted at epoch {run.epochs_done} of {run.epochs_total}: {reason}. {advice}"
        summary = run.result.with_values(message=message).to_dict()
        if lifecycle.interrupt(self.store, run.id, summary=summary):
            self.store.add_event(run.id, "interrupted", message)

    def _log_tail(self, run_id: str) -> str:
        try:
            return log_tail(self.store.artefact(run_id, LOG))
        except (OSError, RnnlabError):
            return ""

    def _fail(self, run: RunRecord, message: str, detail: str) -> None:
        if lifecycle.fail(self.store, run.id, from_statuses=(RunStatus.RUNNING, RunStatus.QUEUED),
                          error=message, traceback=detail):
            self.store.add_event(run.id, "failed", message)

    def _fill(self) -> list[str]:
        """Start the oldest queued runs while fewer than `concurrency` run (and fewer than the
        executor's capacity, when it has one)."""
        started: list[str] = []
        running = self.store.count_by_status().get(RunStatus.RUNNING, 0)
        capacity = self.executor.capacity()
        limit = self.concurrency if capacity is None else min(self.concurrency, capacity)
        while running < limit:
            run_id = lifecycle.claim_next(self.store)
            if run_id is None:
                break
            self._launch(run_id)
            started.append(run_id)
            running += 1
        return started

    def _launch(self, run_id: str) -> None:
        try:
            run = self.store.get_run(run_id)
        except RunNotFound:  # deleted between the claim and now
            return
        try:
            handle = self.executor.start(self.store, run_id,
                                         resume=bool(run.result.resume),
                                         threads=self.threads_per_worker)
        except Exception as exc:  # the runner goes on; the run says what went wrong
            self._fail(run, f"The worker could not start: {exc}", traceback.format_exc())
            return
        if handle is not None:
            lifecycle.record_worker(self.store, run_id, str(handle))

    # -- running in the background
    def start(self) -> "Runner":
        """Tick every `tick_seconds` in a daemon thread (idempotent); returns self."""
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, name="rnnlab-runner", daemon=True)
            self._thread.start()
            _TICKING.add(self)
        return self

    def wake(self) -> None:
        """Tick now rather than at the next `tick_seconds` (a run was just queued)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._safe_tick()
            self._wake.wait(self.tick_seconds)
            self._wake.clear()

    def _safe_tick(self) -> list[str]:
        """tick(), but a store that cannot be written (a full disk) is said once, then retried.

        The same store message is repeated at most every STORE_ERROR_REPEAT seconds; any
        other error prints its traceback. Runs and workers are untouched: the next tick that
        can write goes on where this one stopped.
        """
        try:
            started = self.tick()
        except StoreError as exc:
            now, text = time.monotonic(), str(exc)
            if text != self._last_store_error or now - self._said_at > STORE_ERROR_REPEAT:
                print(f"rnnlab runner: {text} (retrying every {self.tick_seconds:g} s)",
                      file=sys.stderr, flush=True)
                self._last_store_error, self._said_at = text, now
            return []
        except Exception:  # a busy disk must not kill the runner; say so and retry
            traceback.print_exc(file=sys.stderr)
            return []
        if self._last_store_error:
            print("rnnlab runner: the run store can be written again.", file=sys.stderr,
                  flush=True)
            self._last_store_error = ""
        return started

    def run_forever(self, *, until_idle: bool = False, on_tick: Callable[[], None] | None = None) -> None:
        """Tick in this thread until stopped (or, with until_idle, until nothing is left to do)."""
        self._stopping.clear()
        while not self._stopping.is_set():
            self._safe_tick()
            if on_tick is not None:
                on_tick()
            if until_idle and self.active and self.idle():
                break
            self._stopping.wait(self.tick_seconds)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop ticking and give up the lock; workers already running go on."""
        self._stopping.set()
        self._wake.set()
        _TICKING.discard(self)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None
        with self._tick_lock:
            self._release()
            self.executor.close()

    @property
    def running_in_background(self) -> bool:
        """True while the background thread is ticking."""
        return self._thread is not None and self._thread.is_alive()

    def idle(self) -> bool:
        """True when no run of the store is queued or running."""
        counts = self.store.count_by_status()
        busy = counts.get(RunStatus.QUEUED, 0) + counts.get(RunStatus.RUNNING, 0)
        return busy == 0

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no run is queued or running; False if `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.running_in_background:
                self.tick()
            if self.idle():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with self._ticked:
                self._ticked.wait(min(left, self.tick_seconds))


_TICKING: "weakref.WeakSet[Runner]" = weakref.WeakSet()   # runners ticking in this process
_RUNNERS: dict[Path, Runner] = {}
_RUNNERS_LOCK = threading.Lock()


def get_runner(store: Store | None = None, *, start: bool = True) -> Runner:
    """The process-wide runner of a home (created once, started unless start=False)."""
    store = store or Store()
    key = store.home.resolve()
    with _RUNNERS_LOCK:
        runner = _RUNNERS.get(key)
        if runner is None:
            runner = _RUNNERS[key] = Runner(store, executor=make_executor())
    return runner.start() if start else runner


def wake_runners(store: Store) -> None:
    """A runner of this process takes what was just queued now, not at its next tick."""
    for runner in list(_TICKING):
        if runner.store.home.resolve() == store.home.resolve():
            runner.wake()
