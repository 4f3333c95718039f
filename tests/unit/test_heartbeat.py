"""One heartbeat, beaten by progress: a worker whose training hangs stops beating and is caught."""

from __future__ import annotations

import threading
import time

from rnnlab import jobs, train
from rnnlab.config import RunConfig
from rnnlab.store import RunStatus
from rnnlab.train import TrainOutcome


def _run(store) -> str:
    cfg = RunConfig().replace(data={"source": "noisy_sine.csv"}, train={"epochs": 2})
    return jobs.submit(store, cfg, check_data=False)


def _start(store, monkeypatch, fake_train) -> tuple[str, jobs.Runner]:
    """A queued run trained by `fake_train`, a worker stuck after 1 s, a runner patient for 3 s."""
    monkeypatch.setattr(train, "train_run", fake_train)
    monkeypatch.setenv("RNNLAB_HUNG_AFTER", "1")
    run_id = _run(store)
    return run_id, jobs.Runner(store, concurrency=1, executor=jobs.InProcessExecutor(),
                               stale_after=3, tick_seconds=0.2).start()


def _wait(store, run_id: str, status: RunStatus, seconds: float) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if store.get_run(run_id).status == status:
            return True
        time.sleep(0.1)
    return False


def test_a_hung_fit_stops_the_heartbeat_and_the_run_is_interrupted(store, monkeypatch):
    release = threading.Event()

    def hang(store_, run_id, cfg, prepared, *, resume=False, progress=lambda: None):
        progress()
        release.wait(60)                      # stuck: no batch, no epoch, no progress
        return TrainOutcome(RunStatus.CANCELLED, 0, "released")

    run_id, runner = _start(store, monkeypatch, hang)
    try:
        assert _wait(store, run_id, RunStatus.RUNNING, 20)
        assert _wait(store, run_id, RunStatus.INTERRUPTED, 30), store.get_run(run_id).status
        run = store.get_run(run_id)           # (a real worker is killed here; a thread is not)
    finally:
        release.set()
        runner.stop()
    assert "sent no heartbeat" in run.summary["message"]
    assert "Resume it" in run.summary["message"]


def test_a_fit_that_gets_on_keeps_beating(store, monkeypatch):
    """The same limits, but training reports progress: it is never taken for hung."""
    def slow_but_alive(store_, run_id, cfg, prepared, *, resume=False, progress=lambda: None):
        for _ in range(30):                   # 6 s, twice the runner's patience
            progress()
            time.sleep(0.2)
        return TrainOutcome(RunStatus.CANCELLED, 0, "done waiting")

    run_id, runner = _start(store, monkeypatch, slow_but_alive)
    try:
        assert _wait(store, run_id, RunStatus.CANCELLED, 40), store.get_run(run_id).status
    finally:
        runner.stop()
    assert [e["kind"] for e in store.events(run_id)].count("interrupted") == 0
