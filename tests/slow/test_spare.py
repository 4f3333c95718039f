"""The spare worker: a process that loads Keras before a run is submitted, then takes the run."""

import subprocess
import sys
from pathlib import Path

import pytest

from rnnlab import jobs
from rnnlab.store import RunStatus
from test_jobs import WAIT, _log, tiny, wait_for

pytestmark = pytest.mark.slow


def _cmdline(pid: int) -> list[bytes]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")


@pytest.fixture
def spare_runner(store):
    executor = jobs.LocalProcessExecutor(spare=True)
    runner = jobs.Runner(store, concurrency=1, executor=executor, tick_seconds=0.1).start()
    yield runner, executor
    runner.stop()


def test_the_next_run_goes_to_the_spare_worker(store, spare_runner):
    runner, executor = spare_runner
    spare = wait_for(lambda: executor._spare, 30, "a spare worker")
    assert b"--standby" in _cmdline(spare.proc.pid)
    run_id = jobs.submit(store, tiny(2))
    # the claim marks it running (with a heartbeat) before the runner records its worker's pid
    running = wait_for(lambda: (r := store.get_run(run_id)).status == RunStatus.RUNNING
                       and r.heartbeat_at and r.pid and r, WAIT, "the run to start")
    assert running.pid == spare.proc.pid
    # the spare's command line names no run; it names itself after the run once it reads it
    wait_for(lambda: jobs._is_worker_of(running.pid, run_id), WAIT, "the spare to take the run")
    assert jobs._is_worker_of(running.pid, "r20200101-000000-abcdef") is False
    assert executor._spare is None  # no new spare while the run starts up
    assert runner.wait_idle(WAIT)
    run = store.get_run(run_id)
    assert run.status == RunStatus.DONE, _log(store, run_id)
    assert [row["epoch"] for row in store.epochs(run_id)] == [1, 2]
    # the worker records the final status, then ends; its last output reaches the log as it
    # exits (a file is flushed on exit), so the log is read once the process has ended
    assert spare.proc.wait(timeout=WAIT) == 0
    assert f"run {run_id}: done" in _log(store, run_id)  # its output went to the run's log


def test_stopping_the_runner_ends_its_spare(store, spare_runner):
    runner, executor = spare_runner
    spare = wait_for(lambda: executor._spare, 30, "a spare worker")
    runner.stop()
    assert spare.proc.poll() is not None
    assert executor._spare is None


def test_a_standby_worker_ends_quietly_when_nobody_sends_a_run(store):
    proc = subprocess.Popen([sys.executable, "-m", "rnnlab.worker", "--standby",
                             "--home", str(store.home)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = proc.communicate(b"", timeout=WAIT)
    assert proc.returncode == 0, out
    assert b"Traceback" not in out


def test_a_dead_spare_is_passed_over_for_a_fresh_worker(store, spare_runner):
    runner, executor = spare_runner
    spare = wait_for(lambda: executor._spare, 30, "a spare worker")
    spare.proc.kill()
    spare.proc.wait()
    run_id = jobs.submit(store, tiny(2))
    assert runner.wait_idle(WAIT)
    run = store.get_run(run_id)
    assert run.status == RunStatus.DONE, _log(store, run_id)
    assert run.pid != spare.proc.pid  # a fresh `python -m rnnlab.worker RUN_ID` took it


def test_a_spare_for_other_thread_counts_is_replaced(store):
    executor = jobs.LocalProcessExecutor(spare=True)
    try:
        executor.warm(store, threads=1)
        first = executor._spare.proc
        executor.warm(store, threads=1)
        assert executor._spare.proc is first  # one spare, kept
        executor.warm(store, threads=2)
        assert first.wait(timeout=30) is not None  # dropped
        assert executor._spare.threads == 2
    finally:
        executor.close()


def test_no_spare_when_turned_off(store, monkeypatch):
    monkeypatch.setenv(jobs.SPARE_ENV, "0")
    executor = jobs.LocalProcessExecutor()
    executor.warm(store, threads=1)
    assert executor._spare is None


def test_a_run_on_the_spare_learns_exactly_as_on_a_fresh_worker(tmp_path):
    from rnnlab.store import Store

    losses = {}
    for spare in (True, False):
        store = Store(tmp_path / f"spare-{spare}")
        executor = jobs.LocalProcessExecutor(spare=spare)
        runner = jobs.Runner(store, concurrency=1, executor=executor, tick_seconds=0.1).start()
        try:
            if spare:
                wait_for(lambda: executor._spare, 30, "a spare worker")
                pid = executor._spare.proc.pid
            run_id = jobs.submit(store, tiny(3))
            assert runner.wait_idle(WAIT)
        finally:
            runner.stop()
        run = store.get_run(run_id)
        assert run.status == RunStatus.DONE, _log(store, run_id)
        assert (run.pid == pid) is spare
        losses[spare] = [(row["train_loss"], row["val_loss"], row["grad_norm_mean"])
                         for row in store.epochs(run_id)]
    assert len(losses[True]) == 3
    assert losses[True] == losses[False]
