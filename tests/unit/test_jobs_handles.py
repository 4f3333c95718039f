"""Worker handles: the runner records what its executor calls a worker, and asks the executor
about it (alive, stop) instead of treating it as a local process id."""

import os
import subprocess
import sys
import threading
import time

import pytest

from rnnlab import jobs, lifecycle
from rnnlab.config import RunConfig
from rnnlab.jobs.executors import Executor, WorkerEnd, local_pid
from rnnlab.jobs import Runner
from rnnlab.store import RunStatus


class TaskExecutor(Executor):
    """Workers somewhere else, named "task-N"; the test says which are alive."""

    name = "tasks"

    def __init__(self, slots=None):
        self.slots = slots
        self.live: set[str] = set()
        self.stopped: list[tuple[str, str]] = []
        self.asked: list[str | None] = []
        self.started: list[str] = []

    def start(self, store, run_id, *, resume, threads=None):
        handle = f"task-{len(self.started) + 1}"
        self.started.append(run_id)
        self.live.add(handle)
        store.heartbeat(run_id)
        return handle

    def reap(self):
        return []

    def owns(self, run_id):
        return False          # as a restarted runner sees every worker: through the store

    def alive(self, handle):
        self.asked.append(handle)
        return handle in self.live

    def stop(self, handle, run_id):
        self.stopped.append((handle, run_id))
        self.live.discard(handle)

    def capacity(self):
        return self.slots


def _queue(store, n=1):
    cfg = RunConfig().replace(train={"epochs": 3})
    return [jobs.submit(store, cfg, check_data=False, reuse=False) for _ in range(n)]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_runner_records_the_handle_and_asks_the_executor_about_it(store):
    tasks = TaskExecutor()
    runner = Runner(store, concurrency=1, executor=tasks)
    run_id = _queue(store)[0]
    assert runner.tick() == [run_id]
    run = store.get_run(run_id)
    assert run.worker == "task-1" and run.pid is None
    runner.tick()
    assert tasks.asked == ["task-1"] and store.get_run(run_id).status == RunStatus.RUNNING
    tasks.live.clear()                       # the remote task ended without a word
    runner.tick()
    run = store.get_run(run_id)
    assert run.status == RunStatus.INTERRUPTED
    assert "its worker (task-1) is gone" in run.summary["message"]
    runner.stop()


def test_a_silent_worker_is_stopped_through_its_handle(store):
    tasks = TaskExecutor()
    runner = Runner(store, concurrency=1, executor=tasks, stale_after=0.2)
    run_id = _queue(store)[0]
    runner.tick()
    store.update_run(run_id, heartbeat_at=time.time() - 1.0)
    runner.tick()
    assert tasks.stopped == [("task-1", run_id)]
    assert store.get_run(run_id).status == RunStatus.INTERRUPTED
    runner.stop()


def test_a_workers_own_pid_does_not_replace_its_executors_handle(store):
    tasks = TaskExecutor()
    runner = Runner(store, concurrency=1, executor=tasks)
    run_id = _queue(store)[0]
    runner.tick()
    store.heartbeat(run_id, pid=os.getpid())        # what rnnlab.worker does wherever it runs
    store.update_run(run_id, pid=os.getpid(), error=None)
    assert store.get_run(run_id).worker == "task-1"
    runner.stop()


def test_the_executors_capacity_caps_the_runs_started(store):
    runner = Runner(store, concurrency=3, executor=TaskExecutor(slots=1))
    ids = _queue(store, 3)
    assert runner.tick() == ids[:1]
    runner.stop()


def test_a_pid_handle_is_kept_as_the_runs_pid(store):
    run_id = _queue(store)[0]
    assert lifecycle.claim_next(store) == run_id
    assert lifecycle.record_worker(store, run_id, "4242")
    run = store.get_run(run_id)
    assert run.pid == 4242 and run.worker == "4242"


def test_the_process_executors_handle_is_a_pid_and_only_its_workers_are_stopped(store):
    executor = jobs.LocalProcessExecutor(spare=False)
    assert executor.alive(str(os.getpid())) and not executor.alive(str(_dead_pid()))
    assert executor.alive(None) and executor.alive("task-7")   # cannot be told: presumed alive
    assert local_pid("4242") == 4242 and local_pid("task-7") is None and local_pid(None) is None
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        executor.stop(str(stranger.pid), "r20260101-000000-abcdef")  # not an rnnlab worker
        executor.stop(str(os.getpid()), "r20260101-000000-abcdef")   # never this process
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_the_in_process_executor_names_its_threads_with_tokens(store, monkeypatch):
    from rnnlab import worker

    release = threading.Event()
    monkeypatch.setattr(worker, "execute", lambda store, run_id, resume=False: release.wait(30))
    executor = jobs.InProcessExecutor()
    handle = executor.start(store, "r20260101-000000-abcdef", resume=False)
    assert handle.startswith("thread:") and local_pid(handle) is None
    assert executor.alive(handle) and executor.owns("r20260101-000000-abcdef")
    release.set()
    ended, deadline = [], time.monotonic() + 10
    while not ended and time.monotonic() < deadline:
        ended = executor.reap()
        time.sleep(0.01)
    assert ended == [WorkerEnd("r20260101-000000-abcdef", None)]
    assert not executor.owns("r20260101-000000-abcdef")
    assert not executor.alive(str(_dead_pid()))


def test_recover_asks_the_executor_about_handles_it_cannot_read_as_pids(store):
    gone, unknown = _queue(store, 2)
    for run_id, handle in ((gone, str(_dead_pid())), (unknown, "task-9")):
        assert lifecycle.claim_next(store) == run_id
        lifecycle.record_worker(store, run_id, handle)
    assert jobs.recover(store) == [gone]
    assert store.get_run(unknown).status == RunStatus.RUNNING
    assert jobs.recover(store, TaskExecutor()) == [unknown]


def test_the_ray_executor_without_ray_installed_says_how_to_get_it(monkeypatch):
    from rnnlab.errors import ConfigError
    from rnnlab.jobs import executors, ray_cluster

    monkeypatch.setattr(ray_cluster, "ray_installed", lambda: False)
    with pytest.raises(ConfigError, match=r"needs Ray.*pip install 'rnnlab\[ray\]'"):
        executors.make_executor("ray")
