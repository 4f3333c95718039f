"""The job runner with real worker processes on tiny data: the acceptance tests of background training.

Every worker is a fresh interpreter with one TensorFlow thread (see tests/conftest.py); two run at
once at most. Waiting is on conditions (the store's state), never on fixed sleeps.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest


from rnnlab import backend, jobs, worker  # noqa: E402
from rnnlab.config import DataConfig, ModelConfig, RunConfig, TrainConfig  # noqa: E402
from rnnlab.store import RunStatus  # noqa: E402

pytestmark = pytest.mark.slow

WAIT = 240  # seconds: generous for a shared two-core machine; tests end as soon as they can


def tiny(epochs: int = 2, *, source: str = "noisy_sine.csv", name: str = "") -> RunConfig:
    """One LSTM layer of 4 units, lookback 5: a second or so per run after TensorFlow loads."""
    return RunConfig(data=DataConfig(source=source, target="value"),
                     model=ModelConfig(cell="lstm", n_layers=1, units=4, lookback=5),
                     train=TrainConfig(epochs=epochs, batch_size=32, seed=1), name=name)


def wait_for(predicate, timeout: float, what: str, every: float = 0.05):
    """Poll `predicate` until it returns something truthy; fail saying what did not happen."""
    deadline = time.monotonic() + timeout
    tick = threading.Event()
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        tick.wait(every)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def runner(store):
    started = []

    def make(concurrency: int = 1, **kw):
        r = jobs.Runner(store, concurrency=concurrency, executor=jobs.LocalProcessExecutor(),
                        tick_seconds=0.1, **kw).start()
        started.append(r)
        return r

    yield make
    for r in started:
        r.stop()
    _kill_leftover_workers(store)


def _kill_leftover_workers(store):
    """A failing test must not leave workers training in the background."""
    for run in store.list_runs((RunStatus.RUNNING,)):
        if run.pid and run.pid != os.getpid() and jobs._is_worker_of(run.pid, run.id):
            os.killpg(run.pid, signal.SIGKILL)


def _epochs(store, run_id):
    return [row["epoch"] for row in store.epochs(run_id)]


def _log(store, run_id) -> str:
    path = store.artefact(run_id, "log.txt")
    return path.read_text()[-3000:] if path.exists() else "(no log)"


def test_six_runs_at_concurrency_two(store, runner):
    seen_running = []
    stop = threading.Event()

    def sample():
        while not stop.wait(0.05):
            seen_running.append(store.count_by_status().get(RunStatus.RUNNING, 0))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # the same settings six times: trained each time (reuse off), not answered as repeats
    ids = [jobs.submit(store, tiny(2, name=f"run {i}"), reuse=False) for i in range(6)]
    r = runner(concurrency=2)
    assert r.wait_idle(timeout=WAIT), "the queue did not drain"
    stop.set()
    sampler.join()
    runs = [store.get_run(run_id) for run_id in ids]
    assert [run.status for run in runs] == [RunStatus.DONE] * 6, [_log(store, i) for i in ids]
    assert max(seen_running) == 2
    assert _max_overlap(runs) <= 2
    for run in runs:
        assert _epochs(store, run.id) == [1, 2] and run.epochs_done == 2
    # oldest first: runs started in the order they were submitted
    starts = [run.started_at for run in runs]
    assert starts == sorted(starts)
    # six runs of one shape: on JAX the workers share their compiled steps through the store
    cached = list((store.home / worker.COMPILE_CACHE).glob("*")) if backend.wanted() == "jax" \
        else None
    assert cached is None or any("train_step" in p.name for p in cached), cached


def _max_overlap(runs) -> int:
    """Most runs whose [started, finished) intervals overlap at one instant."""
    edges = sorted([(r.started_at, 1) for r in runs] + [(r.finished_at, -1) for r in runs],
                   key=lambda e: (e[0], e[1]))
    live = most = 0
    for _, step in edges:
        live += step
        most = max(most, live)
    return most


def test_kill_9_is_interrupted_and_resume_finishes(store, runner):
    epochs = 8
    run_id = jobs.submit(store, tiny(epochs))
    runner(concurrency=1)
    run = wait_for(lambda: (r := store.get_run(run_id)).epochs_done >= 2 and r, WAIT,
                   "two epochs")
    assert run.status == RunStatus.RUNNING, _log(store, run_id)
    os.kill(run.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    wait_for(lambda: store.get_run(run_id).status == RunStatus.INTERRUPTED, 10,
             "the killed run to be marked interrupted")
    assert time.monotonic() - killed_at <= 10
    at_kill = store.get_run(run_id)
    assert at_kill.epochs_done < epochs, "the run finished before it was killed; use more epochs"
    assert "signal 9" in at_kill.summary["message"] or "gone" in at_kill.summary["message"]

    from_epoch = jobs.resume(store, run_id)
    assert 1 <= from_epoch <= at_kill.epochs_done
    assert at_kill.epochs_done - from_epoch <= 1, "more than one epoch would be repeated"
    wait_for(lambda: store.get_run(run_id).status.finished, WAIT, "the resumed run to end")
    run = store.get_run(run_id)
    assert run.status == RunStatus.DONE, (run.error, _log(store, run_id))
    assert run.epochs_done == epochs
    assert _epochs(store, run_id) == list(range(1, epochs + 1))
    kinds = [e["kind"] for e in store.events(run_id)]
    assert kinds.count("started") == 1 and kinds.count("resumed") == 1
    assert "interrupted" in kinds


def _start_runner_process(home: Path, log: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "rnnlab.cli", "--home", str(home), "runner", "--concurrency", "1",
           *extra]
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)


def test_a_restarted_runner_loses_nothing(store, tmp_path):
    long_run = jobs.submit(store, tiny(8, name="long"))
    queued = jobs.submit(store, tiny(2, name="queued behind it"))
    log = tmp_path / "runner.log"
    first = _start_runner_process(store.home, log)
    try:
        run = wait_for(lambda: (r := store.get_run(long_run)).epochs_done >= 1 and r, WAIT,
                       "the first epoch of the long run")
        first.kill()
        first.wait(10)
        assert jobs.pid_alive(run.pid), "the worker died with its runner"
        assert store.get_run(long_run).status == RunStatus.RUNNING
        assert store.get_run(queued).status == RunStatus.QUEUED
        second = _start_runner_process(store.home, log, "--until-idle")
        assert second.wait(WAIT) == 0, log.read_text()
    finally:
        for proc in (first, locals().get("second")):
            if proc is not None and proc.poll() is None:
                proc.kill()
        _kill_leftover_workers(store)
    for run_id in (long_run, queued):
        run = store.get_run(run_id)
        assert run.status == RunStatus.DONE, (run_id, run.error, log.read_text())
        assert run.epochs_done == run.epochs_total
        assert "interrupted" not in [e["kind"] for e in store.events(run_id)]
    assert _epochs(store, long_run) == list(range(1, 9))


def test_cancel_a_running_run_and_a_queued_one(store, runner):
    running = jobs.submit(store, tiny(40, name="to stop"))
    waiting = jobs.submit(store, tiny(2, name="never starts"))
    r = runner(concurrency=1)
    wait_for(lambda: store.get_run(running).epochs_done >= 1, WAIT, "the first epoch")
    assert jobs.cancel(store, waiting) == RunStatus.CANCELLED
    assert jobs.cancel(store, running) == RunStatus.RUNNING
    # The store shows epoch v; one more may be finished and still being written beside training
    # (train.EpochWriter), so the epoch in training when the cancel arrives is at most v + 2.
    # Landing within that epoch means ending with at most v + 2 epochs.
    in_training = store.get_run(running).epochs_done + 2
    assert r.wait_idle(timeout=WAIT)
    run = store.get_run(running)
    assert run.status == RunStatus.CANCELLED, (run.error, _log(store, running))
    assert run.epochs_done <= in_training, "the cancel landed after the epoch in training"
    assert run.epochs_done < run.epochs_total
    assert _epochs(store, running) == list(range(1, run.epochs_done + 1))
    assert store.artefact(running, "checkpoint.keras").is_file()
    never = store.get_run(waiting)
    assert never.status == RunStatus.CANCELLED and never.started_at is None
    assert "started" not in [e["kind"] for e in store.events(waiting)]
    assert not store.artefact(waiting, "log.txt").exists()


def test_a_failing_worker_fails_its_run_and_the_queue_goes_on(store, runner, tmp_path):
    doomed_file = tmp_path / "vanishing.csv"
    doomed_file.write_text(Path(__file__).parents[2].joinpath("sample_data", "noisy_sine.csv").read_text())
    doomed = jobs.submit(store, tiny(2, source=str(doomed_file)))
    doomed_file.unlink()  # the data disappears between queueing and training
    after = jobs.submit(store, tiny(2))
    r = runner(concurrency=1)
    assert r.wait_idle(timeout=WAIT)
    run = store.get_run(doomed)
    assert run.status == RunStatus.FAILED
    assert "vanishing.csv" in run.error
    assert "Traceback" in run.traceback
    assert store.get_run(after).status == RunStatus.DONE, _log(store, after)


READER = r"""
import sys, time
from rnnlab.store import Store, RunStatus
store, run_id = Store(sys.argv[1]), sys.argv[2]
reads = errors = 0
deadline = time.time() + 300
while time.time() < deadline:
    try:
        run = store.get_run(run_id)
        store.epochs(run_id); store.tensor_norms(run_id); store.step_norms(run_id)
        store.through_time(run_id); store.list_runs(); store.events(run_id)
        reads += 1
        if run.status.finished:
            break
        time.sleep(0.02)  # a reader polls, as the dashboard does
    except Exception as exc:
        errors += 1
        print("ERROR", type(exc).__name__, exc, flush=True)
print("reads", reads, "errors", errors, flush=True)
"""


def test_two_readers_poll_while_a_worker_writes(store, runner):
    run_id = jobs.submit(store, tiny(8))
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(store.home), run_id],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for _ in range(2)]
    runner(concurrency=1)
    outputs = [proc.communicate(timeout=WAIT)[0] for proc in readers]
    assert store.get_run(run_id).status == RunStatus.DONE, _log(store, run_id)
    for out in outputs:
        assert "locked" not in out and "ERROR" not in out, out
        assert out.strip().splitlines()[-1].startswith("reads ")
        assert int(out.split()[-3]) > 5


def test_twenty_runs_queued_at_once_all_finish_with_exact_epoch_rows(store):
    """A class presses Train twenty times: at concurrency 2 every run ends done, rows exact.

    The in-process executor keeps this fast (one TensorFlow import); the queue, the concurrency
    limit and the store are the same as with worker processes, which the tests above cover.
    """
    runner = jobs.Runner(store, concurrency=2, executor=jobs.InProcessExecutor(), tick_seconds=0.05)
    ids = [jobs.submit(store, tiny(2, name=f"student {i}")) for i in range(20)]
    peak = 0

    def watch():
        nonlocal peak
        while not runner.idle():
            peak = max(peak, store.count_by_status().get(RunStatus.RUNNING, 0))
            time.sleep(0.05)

    runner.start()
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert runner.wait_idle(timeout=WAIT * 2)
    finally:
        runner.stop()
        watcher.join(10)
    runs = [store.get_run(i) for i in ids]
    assert [r.status for r in runs] == [RunStatus.DONE] * 20, [(r.id, r.error) for r in runs]
    assert all(_epochs(store, r.id) == [1, 2] for r in runs)
    assert 1 <= peak <= 2
    # the same settings, data and seed: the first trains, the other 19 take its results
    assert [r.repeat_of for r in runs] == [""] + [ids[0]] * 19
    assert len({json.dumps(r.summary["metrics"], sort_keys=True) for r in runs}) == 1
