"""The disk fills up in the middle of a real training run (tiny LSTM, two epochs, this process).

Always run: SQLite's own "database or disk is full" for epoch 2's rows. When this machine lets
us mount a tiny tmpfs: a real filesystem that fills up after epoch 1, then gets room back.
"""

import threading
import time
from contextlib import contextmanager

import pytest
from fulldisk import (advice_in, cap_and_overflow, fill, integrity, mount_tmpfs,
                      unmount)

from rnnlab import jobs, worker
from rnnlab.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from rnnlab.store import RunStatus, Store

pytestmark = pytest.mark.slow


def tiny(epochs: int = 2) -> RunConfig:
    return RunConfig(data=DataConfig(source="noisy_sine.csv", target="value"),
                     model=ModelConfig(cell="lstm", n_layers=1, units=4, lookback=5),
                     train=TrainConfig(epochs=epochs, batch_size=32, seed=3))


def _claimed(store, cfg):
    run_id = jobs.submit(store, cfg)
    assert store.claim_next_queued() == run_id
    return run_id


class FullFromEpoch(Store):
    """Epoch rows from `full_from` on need room the database cannot have (SQLITE_FULL)."""

    full_from = 2

    def __init__(self, home):
        super().__init__(home)
        self._filling = threading.local()

    def add_epoch(self, run_id, epoch, **kw):
        self._filling.on = epoch >= self.full_from
        try:
            super().add_epoch(run_id, epoch, **kw)
        finally:
            self._filling.on = False

    @contextmanager
    def _tx(self):
        with super()._tx() as db:
            if getattr(self._filling, "on", False):
                cap_and_overflow(db)
            yield db


def test_the_database_filling_up_mid_run_fails_the_run_in_plain_words(tmp_path):
    store = FullFromEpoch(tmp_path / "home")
    other = store.create_run({"other": 1}, epochs_total=1, status=RunStatus.DONE)
    store.add_epoch(other, 1, train_loss=0.5, step_norms=[1.0, 2.0])
    other_before = (store.get_run(other), store.epochs(other), store.step_norms(other))
    run_id = _claimed(store, tiny(2))

    assert worker.execute(store, run_id) == RunStatus.FAILED  # returns: no hang, no raise
    run = store.get_run(run_id)
    assert run.status == RunStatus.FAILED and run.finished_at
    advice_in(run.error)
    assert "database or disk is full" in run.error and "Traceback" in run.traceback
    assert store.events(run_id)[-1]["kind"] == "failed"
    assert run.epochs_done == 1 and [r["epoch"] for r in store.epochs(run_id)] == [1]
    assert store.curves(run_id)["train_loss"][0] > 0

    assert integrity(store) == "ok"
    assert (store.get_run(other), store.epochs(other), store.step_norms(other)) == other_before
    new = store.create_run({"new": 1})  # room again for what fits
    store.add_epoch(new, 1, train_loss=1.0)
    assert store.get_run(new).epochs_done == 1


class FillsAfterEpoch(Store):
    """Fills its filesystem to the brim just before writing epoch `fill_at`."""

    fill_at = 2
    disk = None
    filled = False

    def add_epoch(self, run_id, epoch, **kw):
        if epoch == self.fill_at and not self.filled:
            self.filled = True
            fill(self.disk)
        super().add_epoch(run_id, epoch, **kw)


def test_a_real_filesystem_filling_up_mid_run_then_room_again(tmp_path, capfd):
    """A 4 MB tmpfs fills after epoch 1 (needs root and mount; skipped where there is neither)."""
    disk = tmp_path / "disk"
    if not mount_tmpfs(disk, "4m"):
        pytest.skip("cannot mount a tmpfs here (not root, or mount not allowed)")
    try:
        store = FillsAfterEpoch(disk / "home")
        store.disk = disk
        run_id = _claimed(store, tiny(2))
        start = time.monotonic()
        status = worker.execute(store, run_id)
        assert status == RunStatus.FAILED and time.monotonic() - start < 120
        assert "The disk is full" in capfd.readouterr().err
        assert integrity(store) == "ok"
        assert [r["epoch"] for r in store.epochs(run_id)] == [1]  # readable on the full disk

        run = store.get_run(run_id)
        if run.status == RunStatus.RUNNING:
            # Not even the final status fitted. Once there is room, the runner finds the
            # silent run and marks it interrupted: resumable from the epoch-1 checkpoint.
            (disk / "filler").unlink()
            watcher = jobs.Runner(store, concurrency=1, executor=jobs.InProcessExecutor(),
                                  stale_after=0.2)
            time.sleep(0.3)
            watcher.tick()
            watcher.stop()
            run = store.get_run(run_id)
            assert run.status == RunStatus.INTERRUPTED, run
            assert "Resume it" in run.summary["message"]
            assert jobs.resume(store, run_id) == 1
            runner = jobs.Runner(store, concurrency=1, executor=jobs.InProcessExecutor(),
                                 tick_seconds=0.05)
            assert runner.wait_idle(timeout=120)
            runner.stop()
            run = store.get_run(run_id)
            assert run.status == RunStatus.DONE, run.error
            assert [r["epoch"] for r in store.epochs(run_id)] == [1, 2]
        else:  # the failure fitted once the worker gave back what it could
            assert run.status == RunStatus.FAILED
            advice_in(run.error)
            (disk / "filler").unlink()
        assert store.create_run({"new": 1}) and integrity(store) == "ok"
        store.close()
    finally:
        unmount(disk)
