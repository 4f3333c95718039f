"""The default executor: each run's worker in its own interpreter on this machine.

`LocalProcessExecutor` starts `python -m rnnlab.worker RUN_ID --home HOME` in a fresh session
(so the worker outlives the runner), or hands the run to its spare worker, an interpreter that
loaded Keras before the run was submitted. A worker's handle is its pid, as text; `stop` kills
its process group, only once the pid is verifiably that run's worker.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rnnlab.artefacts import LOG
from rnnlab.jobs.executors import Executor, WorkerEnd, WorkerHandle, local_pid, log_tail
from rnnlab.store import Store

THREAD_VARS = ("RNNLAB_TF_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
               "OMP_NUM_THREADS")
SPARE_ENV = "RNNLAB_SPARE_WORKER"
SPARE_AFTER = 10.0   # seconds after a worker starts before the next spare loads (it would slow
                     # that worker's first steps, on a machine with two cores)


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

    def start(self, store: Store, run_id: str, *, resume: bool,
              threads: int | None = None) -> WorkerHandle:
        """Hand the run to the spare worker, or spawn one in its own session (it outlives us);
        its output goes to the run's log.txt. The handle is the worker's pid, as text."""
        log_path = store.artefact(run_id, LOG)
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
        return WorkerHandle(str(child.pid))

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
                    ended.append(WorkerEnd(run_id, child.returncode, log_tail(log_path)))
        return ended

    def owns(self, run_id: str) -> bool:
        """True while our child for the run has not been reaped."""
        with self._lock:
            return run_id in self._children

    def stop(self, handle: WorkerHandle | str | None, run_id: str) -> None:
        """SIGKILL the worker's process group, only if the pid the handle names is verifiably
        this run's worker."""
        pid = local_pid(handle)
        if pid is None or pid == os.getpid():
            return
        with self._lock:
            child = self._children.get(run_id, (None,))[0]
        ours = child is not None and child.pid == pid and child.poll() is None
        if ours or _is_worker_of(pid, run_id):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass


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
