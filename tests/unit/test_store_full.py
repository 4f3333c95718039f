"""A full disk: the store says so plainly, keeps what it had, and works again once there is room.

Always run: SQLite's own "database or disk is full" (a page limit on the connection), ENOSPC-like
OSErrors, and a worker whose store cannot even record the failure. When this machine lets us
mount a tiny tmpfs (root, mount allowed), the same on a real full filesystem.
"""

import errno
import sqlite3
import time
from contextlib import contextmanager

import pytest
from fulldisk import (advice_in, cap_and_overflow, fill, integrity, mount_tmpfs,
                      unmount)

from rnnlab import jobs, worker
from rnnlab.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from rnnlab.errors import StoreError
from rnnlab.store import RunStatus, Store, StoreFull, storage_error
from statuses import set_status


class FillingStore(Store):
    """A store whose database cannot grow while `full` is set: SQLite raises SQLITE_FULL.

    Each write transaction caps the database at its current size and then needs more room
    (a 1 MB ballast row), so every write fails the way a full disk makes it fail, and is
    rolled back by the store's own code.
    """

    full = False

    @contextmanager
    def _tx(self):
        with super()._tx() as db:
            if self.full:
                cap_and_overflow(db)
            yield db


def _epoch(store, run_id, epoch, width=60):
    store.add_epoch(run_id, epoch, train_loss=1.0 / epoch, val_loss=2.0 / epoch, lr=1e-3,
                    seconds=0.5, grad_norm_mean=1.0, grad_norm_max=2.0,
                    tensor_norms={"lstm/kernel": (0.1, 0.2)}, step_norms=[1.0] * 10,
                    through_time={"input": [0.1] * width})


@pytest.mark.parametrize("exc", [
    OSError(errno.ENOSPC, "No space left on device"),
    OSError(errno.EDQUOT, "Disk quota exceeded"),
    OSError(errno.EFBIG, "File too large"),
    sqlite3.OperationalError("database or disk is full"),
])
def test_a_full_disk_is_named_in_plain_words(tmp_path, exc):
    problem = storage_error(exc, tmp_path)
    assert isinstance(problem, StoreFull)
    advice_in(str(problem))
    wrapped = RuntimeError("saving the checkpoint failed")
    wrapped.__cause__ = exc
    assert isinstance(storage_error(wrapped, tmp_path), StoreFull)  # found among the causes


def test_other_errors_are_not_called_a_full_disk(tmp_path):
    assert storage_error(ValueError("bad value"), tmp_path) is None
    assert storage_error(KeyError("x"), tmp_path) is None
    readonly = storage_error(OSError(errno.EROFS, "Read-only file system"), tmp_path)
    assert isinstance(readonly, StoreError) and not isinstance(readonly, StoreFull)
    assert "not writable" in str(readonly)


def test_a_store_that_fills_up_keeps_its_rows_and_works_again(tmp_path):
    store = FillingStore(tmp_path / "home")
    other = store.create_run({"other": 1}, epochs_total=3)
    for epoch in (1, 2, 3):
        _epoch(store, other, epoch)
    other_before = (store.get_run(other), store.epochs(other), store.step_norms(other),
                    store.through_time(other), store.events(other))
    run_id = store.create_run({"mine": 1}, epochs_total=5)
    set_status(store, run_id, RunStatus.RUNNING)
    _epoch(store, run_id, 1)
    _epoch(store, run_id, 2)

    store.full = True
    with pytest.raises(StoreFull) as caught:
        _epoch(store, run_id, 3)
    advice_in(str(caught.value))
    with pytest.raises(StoreFull):
        store.create_run({"new": 1})
    with pytest.raises(StoreFull):
        set_status(store, run_id, RunStatus.FAILED)
    assert len(list(store.runs_dir.iterdir())) == 2  # the failed create left no folder behind

    # nothing half-written, everything before still readable, the other run untouched
    assert integrity(store) == "ok"
    assert [r["epoch"] for r in store.epochs(run_id)] == [1, 2]
    assert store.curves(run_id)["train_loss"] == [1.0, 0.5]
    assert sorted(store.step_norms(run_id)) == [1, 2]
    assert sorted(store.through_time(run_id)["input"]) == [1, 2]
    run = store.get_run(run_id)
    assert run.epochs_done == 2 and run.status == RunStatus.RUNNING
    assert (store.get_run(other), store.epochs(other), store.step_norms(other),
            store.through_time(other), store.events(other)) == other_before

    store.full = False  # room again: the same store object writes as before
    _epoch(store, run_id, 3)
    assert store.get_run(run_id).epochs_done == 3
    new = store.create_run({"new": 1})
    assert store.get_run(new).status == RunStatus.QUEUED
    assert integrity(store) == "ok"
    fresh = Store(store.home)  # and so does a fresh one, from another process's point of view
    assert [r["epoch"] for r in fresh.epochs(run_id)] == [1, 2, 3]


def test_the_write_that_fails_is_rolled_back_whole(tmp_path):
    """Epoch row, traces and epochs_done commit together or not at all."""
    store = FillingStore(tmp_path / "home")
    run_id = store.create_run({}, epochs_total=5)
    _epoch(store, run_id, 1)
    store.full = True
    for _ in range(3):  # the failed transaction leaves the connection usable, not stuck in it
        with pytest.raises(StoreFull):
            _epoch(store, run_id, 2)
    store.full = False
    assert [r["epoch"] for r in store.epochs(run_id)] == [1]
    assert {r["epoch"] for r in store.tensor_norms(run_id)} == {1}
    assert store.get_run(run_id).epochs_done == 1


def _tiny() -> RunConfig:
    return RunConfig(data=DataConfig(source="noisy_sine.csv", target="value"),
                     model=ModelConfig(cell="lstm", n_layers=1, units=4, lookback=5),
                     train=TrainConfig(epochs=2, batch_size=32, seed=3))


def test_a_worker_whose_failure_fits_records_it_in_plain_words(tmp_path):
    """A write that needed room failed (ENOSPC); the small final status still fits."""
    store = Store(tmp_path / "home")
    run_id = jobs.submit(store, _tiny(), check_data=False)
    assert store.claim_next_queued() == run_id
    exc = OSError(errno.ENOSPC, "No space left on device",
                  str(store.run_dir(run_id) / ".checkpoint-partial.keras"))
    partial = store.run_dir(run_id) / ".checkpoint-partial.keras"
    partial.write_bytes(b"half a checkpoint")
    assert worker._fail(store, run_id, exc) == RunStatus.FAILED
    run = store.get_run(run_id)
    assert run.status == RunStatus.FAILED and run.finished_at
    advice_in(run.error)
    assert "No space left on device" in run.error and "OSError" in run.traceback
    assert store.events(run_id)[-1]["kind"] == "failed"
    assert partial.exists()  # recorded at the first try: nothing needed to be removed


def test_a_worker_that_cannot_even_record_its_failure_ends_and_the_runner_says_so(tmp_path, capfd):
    store = FillingStore(tmp_path / "home")
    run_id = jobs.submit(store, _tiny(), check_data=False)
    assert store.claim_next_queued() == run_id
    partial = store.run_dir(run_id) / ".checkpoint-partial.keras"
    partial.write_bytes(b"half a checkpoint")
    store.full = True

    start = time.monotonic()
    assert worker.execute(store, run_id) == RunStatus.FAILED  # returns, does not raise
    assert time.monotonic() - start < 20
    err = capfd.readouterr().err
    assert "The disk is full" in err and "could not be recorded" in err
    assert not partial.exists()  # the worker gave back what the failed write left
    run = store.get_run(run_id)
    assert run.status == RunStatus.RUNNING  # nothing could be written...
    assert integrity(store) == "ok"

    store.full = False  # ...until there is room again: the runner finds the silent run
    runner = jobs.Runner(store, concurrency=1, executor=jobs.InProcessExecutor(),
                         stale_after=0.2, tick_seconds=0.05)
    time.sleep(0.3)
    runner.tick()
    runner.stop()
    run = store.get_run(run_id)
    assert run.status == RunStatus.INTERRUPTED and run.finished_at
    assert "Resume it" in run.summary["message"]
    assert store.events(run_id)[-1]["kind"] == "interrupted"


def test_a_real_filesystem_that_fills_up(tmp_path):
    """A 1 MB tmpfs (needs root and mount; skipped where there is neither)."""
    disk = tmp_path / "disk"
    if not mount_tmpfs(disk, "1m"):
        pytest.skip("cannot mount a tmpfs here (not root, or mount not allowed)")
    try:
        store = Store(disk / "home")
        other = store.create_run({"other": 1}, epochs_total=3)
        _epoch(store, other, 1)
        run_id = store.create_run({"mine": 1}, epochs_total=9)
        (store.run_dir(run_id) / "model.keras").write_bytes(b"\1" * 150_000)
        for epoch in (1, 2):
            _epoch(store, run_id, epoch)
        other_before = store.epochs(other)
        fill(disk)

        with pytest.raises(StoreFull) as caught:
            for epoch in range(3, 50):
                _epoch(store, run_id, epoch, width=500)
        advice_in(str(caught.value))
        assert [r["epoch"] for r in store.epochs(run_id)][:2] == [1, 2]  # reads go on
        assert store.epochs(other) == other_before
        assert integrity(store) == "ok"
        assert [r["epoch"] for r in Store(disk / "home").epochs(other)] == [1]

        # deleting a run is how people make room: it works on the full disk
        store.delete_run(run_id)
        assert not store.run_dir(run_id).exists()
        assert [r.id for r in store.list_runs()] == [other]

        (disk / "filler").unlink()
        new = store.create_run({"new": 1})
        _epoch(store, new, 1)
        assert store.get_run(new).epochs_done == 1 and integrity(store) == "ok"
        store.close()
    finally:
        unmount(disk)
