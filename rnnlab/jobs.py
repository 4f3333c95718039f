"""The job runner: a queue of runs in the store, worker processes, cancel, resume, recovery.

Lifecycle: `queued -> running -> done | diverged | failed | cancelled | interrupted`.

- `submit` checks a `RunConfig` and its data, then adds a queued run. It never imports
  TensorFlow and never trains in the caller's process.
- A `Runner` takes queued runs oldest first and starts one worker per run through an
  `Executor`, up to a concurrency limit counted from the store (so runs started by an earlier
  runner, or trained in the foreground by the CLI, count too).
- Workers heartbeat into the store. A run whose worker is gone (dead pid, or no heartbeat for
  `stale_after` seconds) is marked `interrupted`; `resume` queues it again to continue from its
  last epoch checkpoint. `recover` does the dead-pid half without a runner (the CLI calls it
  when it starts), so a killed foreground `rnnlab train` can be resumed at once.
- Workers run in their own session, so they outlive the runner: a restarted runner finds them
  through the store and leaves them be.
- One runner per home is active at a time (a lock file in the home); others stay passive and
  take over when the lock frees.

Where a worker runs is the executor's business: `LocalProcessExecutor` (the default) starts
`python -m rnnlab.worker RUN_ID` in a fresh interpreter, or hands the run to its spare worker, an
interpreter that loaded Keras before the run was submitted; `InProcessExecutor` runs the same code in
a thread of this process, for tests. A distributed executor (Ray) would implement the same
methods, running the worker as a remote task and answering `owns`/`alive` from the task's state.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rnnlab import lifecycle
from rnnlab.config import RunConfig
from rnnlab.errors import (CheckpointError, ConfigError, DataError, RnnlabError, RunNotFound,
                           StoreError)
from rnnlab.store import DISK_FULL, RESUMABLE, RunRecord, RunStatus, Store

try:  # POSIX only; elsewhere every runner is active (one per home is then the user's care)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

STALE_AFTER = 15.0          # seconds without a heartbeat before a running run is presumed dead
TICK_SECONDS = 0.5          # how often a started runner looks at the queue
EXECUTORS = ("process", "inprocess")
LOG_TAIL_LINES = 40
STORE_ERROR_REPEAT = 60.0    # seconds before a runner repeats the same store error
THREAD_VARS = ("RNNLAB_TF_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
               "OMP_NUM_THREADS")
SPARE_ENV = "RNNLAB_SPARE_WORKER"
SPARE_AFTER = 10.0   # seconds after a worker starts before the next spare loads (it would slow
                     # that worker's first steps, on a machine with two cores)


# -- submitting ---------------------------------------------------------------------------------
def default_concurrency() -> int:
    """`RNNLAB_CONCURRENCY`, else one worker per two cores (at least one)."""
    raw = os.environ.get("RNNLAB_CONCURRENCY", "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise ConfigError(f"RNNLAB_CONCURRENCY must be a whole number >= 1. Received: {raw!r}")
        return int(raw)
    return max(1, (os.cpu_count() or 1) // 2)


def absolute_sources(run_cfg: RunConfig) -> RunConfig:
    """The config with file paths made absolute, so a worker in another folder finds them."""
    changes = {}
    for key in ("source", "test_source"):
        value = getattr(run_cfg.data, key)
        if value and Path(value).expanduser().is_file():
            changes[key] = str(Path(value).expanduser().resolve())
    return run_cfg.replace(data=changes) if changes else run_cfg


def afresh(run_cfg: RunConfig) -> RunConfig:
    """The config without a model brought back: settings copied from such a run (a coach's
    "try this", "use these settings") train a new network. Runs that evaluate or continue an
    uploaded model are queued by `rnnlab.comeback.submit` only."""
    return run_cfg.replace(from_model=None) if run_cfg.from_model is not None else run_cfg


def check(run_cfg: RunConfig):
    """Prepare the run's data once (no TensorFlow): RnnlabError if it cannot train; the Prepared."""
    from rnnlab import validate  # pandas-heavy; imported when first needed

    return validate.check_run_feasible(run_cfg)   # a file over the size limit: data.load says so


def recover(store: Store) -> list[str]:
    """Mark interrupted the running runs whose process is gone (a killed foreground `rnnlab
    train`, a worker that died while no runner watched); the ids marked. Resumable at once.

    Only a pid that no longer exists counts (a silent heartbeat is the runner's call): a run
    without a pid, or trained by this very process, is left alone. Nothing on a read-only store.
    """
    if store.read_only:
        return []
    marked = []
    for run in store.list_runs((RunStatus.RUNNING,)):
        if run.pid is None or run.pid == os.getpid() or pid_alive(run.pid):
            continue
        message = (f"Interrupted at epoch {run.epochs_done} of {run.epochs_total}: its process "
                   f"(pid {run.pid}) is gone. Resume it to continue from its last checkpoint.")
        if lifecycle.interrupt(store, run.id, summary={**run.summary, "message": message}):
            store.add_event(run.id, "interrupted", message)
            marked.append(run.id)
    return marked


def submit(store: Store, run_cfg: RunConfig, *, check_data: bool = True, owner: str = "",
           room: str = "", reuse: bool = True) -> str:
    """Check the config and its data, queue the run, and return its id at once.

    `owner` and `room` say who queued it (classroom mode; see `check_turns` for the cap per
    owner). With `reuse`, a run whose settings, data and seed equal a finished run's (or one
    queued or training now) is not trained again: it is answered from that run's results, at
    once or as soon as that run is done (`answer_repeats`).
    """
    if not isinstance(run_cfg, RunConfig):
        raise ConfigError(f"submit needs a RunConfig. Received: {type(run_cfg).__name__}")
    run_cfg = absolute_sources(afresh(run_cfg))
    sha = check(run_cfg).data_sha256 if check_data else ""
    check_turns(store, owner)
    config = run_cfg.to_dict()
    twin = store.find_twin(config, sha, engine()) if reuse and sha else None
    run_id = store.create_run(config, data_sha256=sha, name=run_cfg.name,
                              epochs_total=run_cfg.train.epochs, owner=owner, room=room,
                              repeat_of=twin.id if twin else "")
    if twin is None:
        store.add_event(run_id, "queued", "Queued.")
    else:
        store.add_event(run_id, "repeat", repeat_message(twin))
        if twin.status == RunStatus.DONE:
            answer(store, run_id, twin.id)
    _wake_runners(store)   # a runner of this process takes it now, not at its next tick
    return run_id


MAX_QUEUED_ENV = "RNNLAB_MAX_QUEUED_PER_USER"


class QueueFull(RnnlabError):
    """An owner already has as many runs waiting as RNNLAB_MAX_QUEUED_PER_USER allows."""


def max_queued() -> int:
    """RNNLAB_MAX_QUEUED_PER_USER: runs one owner may have waiting (0 or unset: no cap)."""
    raw = os.environ.get(MAX_QUEUED_ENV, "").strip() or "0"
    try:
        return max(0, int(raw))
    except ValueError:
        raise ConfigError(f"{MAX_QUEUED_ENV} must be a whole number (0 for no limit). "
                          f"Received: {raw!r}") from None


def check_turns(store: Store, owner: str, adding: int = 1) -> None:
    """QueueFull when `owner` (a named session) would have more waiting runs than allowed."""
    cap = max_queued()
    if not owner or not cap:
        return
    waiting = store.queued_count(owner)
    if waiting + adding > cap:
        raise QueueFull(
            f"{owner}, you already have {waiting} run{'s' if waiting != 1 else ''} waiting, and "
            f"each person may have {cap} at a time so that everyone gets a turn. Wait until one "
            "starts, or cancel one on the Train page, then press Train again.")


def engine() -> dict:
    """What a worker trains on, as the summary records it: repeats need the same."""
    from rnnlab import backend

    return {"backend": backend.wanted()}


def repeat_message(twin: RunRecord) -> str:
    """The event of a repeat: whose results it shows, and how to train anyway."""
    who = f"'{twin.name}' ({twin.id})" if twin.name else twin.id
    when = ("which has finished" if twin.status == RunStatus.DONE else
            "which is still training; its results appear here when it finishes")
    return (f"Same settings, data and seed as run {who}, {when}. Training again would give the "
            "same numbers, so this run shows that run's results. To train anyway, use 'Train "
            "again anyway' on the Train page (or `rnnlab submit --no-reuse`).")


def answer(store: Store, run_id: str, source_id: str) -> bool:
    """Answer the repeat `run_id` from its finished twin (queued -> done)."""
    if not lifecycle.answer(store, run_id, source_id):
        return False
    store.add_event(run_id, "done", f"Answered from run {source_id} without training.")
    return True


def answer_repeats(store: Store) -> list[str]:
    """Settle the repeats waiting for a twin: answered when it is done, trained themselves
    when it ended any other way. The ids answered."""
    answered = []
    for run in store.list_runs((RunStatus.QUEUED,)):
        if not run.repeat_of:
            continue
        try:
            twin = store.get_run(run.repeat_of)
        except RunNotFound:
            twin = None
        if twin is not None and twin.status in (RunStatus.QUEUED, RunStatus.RUNNING):
            continue
        if twin is not None and twin.status == RunStatus.DONE:
            if answer(store, run.id, twin.id):
                answered.append(run.id)
            continue
        ended = twin.status.value if twin is not None else "deleted"
        store.release_repeat(run.id)
        store.add_event(run.id, "queued", f"The run it repeated was {ended}, so it trains "
                                          "itself.")
    return answered


def submit_seeds(store: Store, run_cfg: RunConfig, seeds: int, *, check_data: bool = True,
                 owner: str = "", room: str = "") -> tuple[str, list[str]]:
    """Queue the same setup with `seeds` seeds (the config's seed, then the next ones) as one
    group, in one action; the group's id and its runs' ids in seed order."""
    from rnnlab import groups

    if not isinstance(run_cfg, RunConfig):
        raise ConfigError(f"submit_seeds needs a RunConfig. Received: {type(run_cfg).__name__}")
    values = groups.seed_values(run_cfg.train.seed, seeds)
    run_cfg = absolute_sources(afresh(run_cfg))
    sha = check(run_cfg).data_sha256 if check_data else ""   # the data is the same for all
    check_turns(store, owner, adding=len(values))
    configs = [run_cfg.replace(train={"seed": s}, name=groups.member_name(run_cfg.name, s))
               for s in values]
    group_id, run_ids = store.create_group(
        [c.to_dict() for c in configs], kind="seeds", data_sha256=sha,
        label=groups.seeds_label(run_cfg.name, values[0], seeds),
        names=[c.name for c in configs], epochs_total=[c.train.epochs for c in configs],
        owner=owner, room=room)
    for run_id, s in zip(run_ids, values):
        store.add_event(run_id, "queued", f"Queued, seed {s} of the group {group_id}.")
    _wake_runners(store)
    return group_id, run_ids


def submit_sweep(store: Store, run_cfg: RunConfig, axes: dict[str, list], seeds: int = 1, *,
                 check_data: bool = True, owner: str = "", room: str = ""
                 ) -> tuple[str, list[str]]:
    """Queue a grid of settings (1 or 2 settings × a few values, × seeds) as one group; the
    group's id and its runs' ids in grid order. Every cell's config is checked before any run
    is queued, so a bad value (e.g. a lookback longer than the data) queues nothing."""
    from rnnlab import groups

    if not isinstance(run_cfg, RunConfig):
        raise ConfigError(f"submit_sweep needs a RunConfig. Received: {type(run_cfg).__name__}")
    run_cfg = absolute_sources(afresh(run_cfg))
    configs = groups.sweep_configs(run_cfg, axes, seeds)
    sha = ""
    if check_data:
        checked = {}
        for c in configs:          # the data is read once per distinct window shape
            key = (c.model.lookback, c.model.horizon, c.train.batch_size)
            if key not in checked:
                checked[key] = check(c).data_sha256
        sha = next(iter(checked.values()))
    check_turns(store, owner, adding=len(configs))
    group_id, run_ids = store.create_group(
        [c.to_dict() for c in configs], kind="sweep", data_sha256=sha,
        label=groups.sweep_label(run_cfg.name, axes, seeds), names=[c.name for c in configs],
        epochs_total=[c.train.epochs for c in configs], owner=owner, room=room)
    for run_id, c in zip(run_ids, configs):
        store.add_event(run_id, "queued", f"Queued in the sweep {group_id}.")
    _wake_runners(store)
    return group_id, run_ids


def submit_backtest(store: Store, run_cfg: RunConfig, folds: int, *, owner: str = "",
                    room: str = "") -> tuple[str, list[str]]:
    """Queue the setup at `folds` origins rolling forward through its data file, as one
    group (`groups.backtest_configs`); every fold is checked before any is queued."""
    from rnnlab import groups
    from rnnlab.data import part_size

    if not isinstance(run_cfg, RunConfig):
        raise ConfigError(f"submit_backtest needs a RunConfig. Received: {type(run_cfg).__name__}")
    run_cfg = absolute_sources(afresh(run_cfg))
    whole = check(run_cfg.replace(data={"end_row": None}))
    n_rows = len(whole.values)
    configs = groups.backtest_configs(run_cfg, folds, n_rows)
    for c in configs:
        check(c)
    check_turns(store, owner, adding=len(configs))
    h = part_size(n_rows, run_cfg.data.test_fraction)
    group_id, run_ids = store.create_group(
        [c.to_dict() for c in configs], kind="backtest", data_sha256=whole.data_sha256,
        label=groups.backtest_label(run_cfg.name, folds, h), names=[c.name for c in configs],
        epochs_total=[c.train.epochs for c in configs], owner=owner, room=room)
    for run_id in run_ids:
        store.add_event(run_id, "queued", f"Queued in the backtest {group_id}.")
    _wake_runners(store)
    return group_id, run_ids


def _wake_runners(store: Store) -> None:
    """A runner of this process takes what was just queued now, not at its next tick."""
    for runner in list(_TICKING):
        if runner.store.home.resolve() == store.home.resolve():
            runner.wake()


# -- acting on a run ----------------------------------------------------------------------------
def checkpoint_epoch(store: Store, run_id: str) -> int | None:
    """The epoch of the run's last checkpoint, or None when there is no usable one."""
    meta = store.artefact(run_id, "checkpoint.json")
    if not meta.is_file() or not store.artefact(run_id, "checkpoint.keras").is_file():
        return None
    try:
        epoch = json.loads(meta.read_text())["epoch"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return int(epoch) if isinstance(epoch, int) and epoch >= 0 else None


def cancel(store: Store, run_id: str) -> RunStatus:
    """Cancel a queued run (it never starts) or ask a running one to stop at its next batch."""
    run = store.get_run(run_id)
    if run.status.finished:
        raise RnnlabError(f"Run {run_id} has already ended ({run.status.value}); there is nothing "
                          "to cancel. `rnnlab rm` deletes it.")
    status = store.request_cancel(run_id)
    if status == RunStatus.RUNNING:
        store.add_event(run_id, "cancel requested", "Asked to stop at the next batch.")
    return status


def resume(store: Store, run_id: str) -> int:
    """Queue an interrupted or cancelled run to continue from its checkpoint; the epoch it resumes from."""
    run = store.get_run(run_id)
    if run.status not in RESUMABLE:
        raise RnnlabError(f"Run {run_id} is {run.status.value}; only interrupted or cancelled runs "
                          "can be resumed. Submit a new run to train again.")
    epoch = checkpoint_epoch(store, run_id)
    esn = run.config.get("model", {}).get("cell") == "esn"
    if epoch is None and run.epochs_done > 0 and not esn:
        raise CheckpointError(f"Run {run_id} has {run.epochs_done} epoch(s) but no readable "
                              f"checkpoint in {store.run_dir(run_id)}, so it cannot continue. "
                              "Submit the same config as a new run instead.")
    from_epoch = 0 if esn or epoch is None else epoch
    summary = {**run.summary, "resume": from_epoch > 0}
    summary.pop("message", None)
    if not lifecycle.requeue(store, run_id, summary=summary,
                            cancel_requested=0, finished_at=None, error=None, traceback=None):
        raise RnnlabError(f"Run {run_id} changed status while resuming it; look at it again "
                          "with `rnnlab show` and retry.")
    note = f"from epoch {from_epoch}" if from_epoch else "from the start"
    store.add_event(run_id, "resume requested", f"Queued to continue {note}.")
    return from_epoch


def delete(store: Store, run_id: str) -> None:
    """Delete a run's rows and folder; a queued run is cancelled first, a running one refused."""
    if store.get_run(run_id).status == RunStatus.QUEUED:
        store.request_cancel(run_id)
    store.delete_run(run_id)


# -- where workers run --------------------------------------------------------------------------
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
    def start(self, store: Store, run_id: str, *, resume: bool, threads: int | None = None) -> int | None:
        """Start the worker of a claimed run (with `threads` CPU threads); its pid if local."""

    @abstractmethod
    def reap(self) -> list[WorkerEnd]:
        """Collect the workers that ended since the last call."""

    @abstractmethod
    def owns(self, run_id: str) -> bool:
        """True while a worker this executor started for the run is still going."""

    def alive(self, run: RunRecord) -> bool:
        """Could the worker recorded for a run (maybe started by another runner) still be going?

        A live pid may belong to a foreground `rnnlab train` or to a reused pid; the second case
        is caught by the stale heartbeat.
        """
        return run.pid is None or pid_alive(run.pid)

    def kill(self, run: RunRecord) -> None:
        """Stop a hung worker for good, if it can be identified safely."""

    def warm(self, store: Store, threads: int | None = None) -> None:
        """Get ready for the next start (the runner calls it every tick); nothing by default."""

    def close(self) -> None:
        """Let go of resources; running workers are left to finish."""


def spare_wanted() -> bool:
    """RNNLAB_SPARE_WORKER: keep a spare worker ready (default), or not ("0")."""
    return os.environ.get(SPARE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


@dataclass
class _Spare:
    proc: subprocess.Popen
    home: Path
    threads: int | None

    def fits(self, home: Path, threads: int | None) -> bool:
        """Alive, and made for this home and thread count."""
        return self.proc.poll() is None and (self.home, self.threads) == (home, threads)


class LocalProcessExecutor(Executor):
    """Each run in its own interpreter: `python -m rnnlab.worker RUN_ID --home HOME`.

    With `spare` (RNNLAB_SPARE_WORKER, on by default) one more interpreter waits with Keras
    loaded (`python -m rnnlab.worker --standby`), and the next run goes to it: its first loss
    comes a second or two sooner. A new spare loads SPARE_AFTER seconds after a start, not
    while the worker just started compiles its first steps.
    """

    name = "process"

    def __init__(self, python: str | None = None, *, spare: bool | None = None):
        self.python = python or sys.executable
        self.spare = spare_wanted() if spare is None else spare
        self._children: dict[str, tuple[subprocess.Popen, Path]] = {}
        self._spare: _Spare | None = None
        self._last_start = -SPARE_AFTER
        self._lock = threading.Lock()

    def command(self, store: Store, run_id: str, *, resume: bool) -> list[str]:
        """The worker's command line."""
        cmd = [self.python, "-m", "rnnlab.worker", run_id, "--home", str(store.home.resolve())]
        return cmd + (["--resume"] if resume else [])

    def start(self, store: Store, run_id: str, *, resume: bool, threads: int | None = None) -> int:
        """Hand the run to the spare worker, or spawn one in its own session (it outlives us);
        its output goes to the run's log.txt."""
        log_path = store.artefact(run_id, "log.txt")
        child = self._hand_to_spare(store, run_id, resume=resume, threads=threads, log=log_path)
        if child is None:
            with open(log_path, "ab") as log:
                child = subprocess.Popen(self.command(store, run_id, resume=resume), stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=self._env(threads), start_new_session=True,
                                         close_fds=True)
        with self._lock:
            self._children[run_id] = (child, log_path)
            self._last_start = time.monotonic()
        return child.pid

    def _env(self, threads: int | None) -> dict[str, str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if threads:  # workers side by side each get their share of cores, unless the user chose
            for var in THREAD_VARS:
                env.setdefault(var, str(threads))
        return env

    def warm(self, store: Store, threads: int | None = None) -> None:
        """Keep one spare worker loading or waiting, unless a worker started moments ago."""
        if not self.spare:
            return
        home = store.home.resolve()
        with self._lock:
            spare = self._spare
            if spare and spare.fits(home, threads):
                return
            if time.monotonic() - self._last_start < SPARE_AFTER:
                return
            self._spare = None
        if spare is not None:
            _drop(spare.proc)
        proc = subprocess.Popen([self.python, "-m", "rnnlab.worker", "--standby", "--home", str(home)],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=self._env(threads),
                                start_new_session=True, close_fds=True)
        with self._lock:
            self._spare = _Spare(proc, home, threads)

    def _hand_to_spare(self, store: Store, run_id: str, *, resume: bool, threads: int | None,
                       log: Path) -> subprocess.Popen | None:
        """The spare worker, now running the run; None when there is no fitting spare."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is None:
            return None
        if not spare.fits(store.home.resolve(), threads):
            _drop(spare.proc)
            return None
        job = {"run_id": run_id, "resume": resume, "log": str(log)}
        try:
            spare.proc.stdin.write((json.dumps(job) + "\n").encode())
            spare.proc.stdin.close()
        except OSError:  # it died just now
            _drop(spare.proc)
            return None
        return spare.proc

    def close(self) -> None:
        """Stop the spare worker; running workers are left to finish."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            _drop(spare.proc)

    def reap(self) -> list[WorkerEnd]:
        """Wait for finished children so that none lingers as a zombie."""
        ended = []
        with self._lock:
            for run_id, (child, log_path) in list(self._children.items()):
                if child.poll() is not None:
                    del self._children[run_id]
                    ended.append(WorkerEnd(run_id, child.returncode, _tail(log_path)))
        return ended

    def owns(self, run_id: str) -> bool:
        """True while our child for the run has not been reaped."""
        with self._lock:
            return run_id in self._children

    def kill(self, run: RunRecord) -> None:
        """SIGKILL the worker's process group, only if the pid is verifiably this run's worker."""
        with self._lock:
            child = self._children.get(run.id, (None,))[0]
        ours = child is not None and child.pid == run.pid and child.poll() is None
        if run.pid and run.pid != os.getpid() and (ours or _is_worker_of(run.pid, run.id)):
            try:
                os.killpg(run.pid, signal.SIGKILL)
            except OSError:
                pass


class InProcessExecutor(Executor):
    """Each run in a thread of this process: the real worker code, no subprocess (for tests)."""

    name = "inprocess"

    def __init__(self):
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self, store: Store, run_id: str, *, resume: bool, threads: int | None = None) -> int:
        """Run `worker.execute` in a daemon thread (threads: TensorFlow is shared, so unused)."""
        from rnnlab import worker

        thread = threading.Thread(target=worker.execute, args=(store, run_id),
                                  kwargs={"resume": resume}, name=f"rnnlab-{run_id}", daemon=True)
        with self._lock:
            self._threads[run_id] = thread
        thread.start()
        return os.getpid()

    def reap(self) -> list[WorkerEnd]:
        """Threads that returned."""
        with self._lock:
            done = [rid for rid, t in self._threads.items() if not t.is_alive()]
            for rid in done:
                del self._threads[rid]
        return [WorkerEnd(rid, None) for rid in done]

    def owns(self, run_id: str) -> bool:
        """True while the run's thread is going."""
        with self._lock:
            return run_id in self._threads


def make_executor(name: str | None = None) -> Executor:
    """An executor by name; default from `RNNLAB_EXECUTOR`: "process", "inprocess", or
    "package.module:Class" for an Executor of your own (made with no arguments)."""
    name = (name or os.environ.get("RNNLAB_EXECUTOR") or "process").strip()
    if ":" in name:
        return _executor_class(name)()
    if name.lower() == "process":
        return LocalProcessExecutor()
    if name.lower() == "inprocess":
        return InProcessExecutor()
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


# -- the runner ---------------------------------------------------------------------------------
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
            answer_repeats(self.store)
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
        if not self.executor.owns(run.id) and not self.executor.alive(run):
            self._interrupt(run, f"its worker (pid {run.pid}) is gone")
        elif silent > self.stale_after:
            self.executor.kill(run)
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
        summary = {**run.summary, "message": message}
        if lifecycle.interrupt(self.store, run.id, summary=summary):
            self.store.add_event(run.id, "interrupted", message)

    def _log_tail(self, run_id: str) -> str:
        try:
            return _tail(self.store.artefact(run_id, "log.txt"))
        except (OSError, RnnlabError):
            return ""

    def _fail(self, run: RunRecord, message: str, detail: str) -> None:
        if lifecycle.fail(self.store, run.id, from_statuses=(RunStatus.RUNNING, RunStatus.QUEUED),
                          error=message, traceback=detail):
            self.store.add_event(run.id, "failed", message)

    def _fill(self) -> list[str]:
        """Start the oldest queued runs while fewer than `concurrency` run."""
        started: list[str] = []
        running = self.store.count_by_status().get(RunStatus.RUNNING, 0)
        while running < self.concurrency:
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
            pid = self.executor.start(self.store, run_id, resume=bool(run.summary.get("resume")),
                                      threads=self.threads_per_worker)
        except Exception as exc:  # the runner goes on; the run says what went wrong
            self._fail(run, f"The worker could not start: {exc}", traceback.format_exc())
            return
        if pid is not None:
            lifecycle.record_pid(self.store, run_id, pid)

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


# -- process helpers ----------------------------------------------------------------------------
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


def _is_worker_of(pid: int, run_id: str) -> bool | None:
    """Whether the process is `rnnlab.worker` for run_id; None when it cannot be told.

    A spare worker's command line names no run: it names itself after the run it took
    (`worker.name_process`).
    """
    if pid == os.getpid():
        return None
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"rnnlab.worker" not in argv:
            return False
        if run_id.encode() in argv:
            return True
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None if not Path("/proc/self").exists() else False
    from rnnlab.worker import COMM_CHARS

    return b"--standby" in argv and comm == run_id[-COMM_CHARS:]


def _drop(proc: subprocess.Popen) -> None:
    """End a spare worker that has no run (end of input, then a signal) and reap it."""
    try:
        if proc.stdin is not None and not proc.stdin.closed:
            proc.stdin.close()
    except OSError:
        pass
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tail(path: Path | None, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log file ('' when there is none)."""
    if path is None or not path.is_file():
        return ""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 20000))
        text = handle.read().decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])
