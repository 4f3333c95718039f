"""A worker says by its exit code when it could not record how its run ended."""

from __future__ import annotations

import errno

from rnnlab import lifecycle, worker
from rnnlab.config import RunConfig
from rnnlab.store import RunStatus, StoreFull


def _failing_run(store, monkeypatch, record_error: Exception) -> str:
    run_id = store.create_run(RunConfig().to_dict())

    def boom(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    def cannot_record(*args, **kwargs):
        raise record_error

    monkeypatch.setattr(worker, "_execute", boom)
    monkeypatch.setattr(worker, "_record_failure", cannot_record)
    return run_id


def test_a_failure_that_cannot_be_recorded_on_a_full_disk_exits_75(store, monkeypatch):
    run_id = _failing_run(store, monkeypatch, StoreFull("The disk is full: ..."))
    assert worker._run(store, run_id, resume=False) == lifecycle.EXIT_DISK_FULL == 75
    assert store.get_run(run_id).status == RunStatus.RUNNING     # the runner takes it from here


def test_a_failure_that_cannot_be_recorded_otherwise_exits_74(store, monkeypatch):
    run_id = _failing_run(store, monkeypatch, RuntimeError("database is locked"))
    assert worker._run(store, run_id, resume=False) == lifecycle.EXIT_UNRECORDED == 74


def test_a_recorded_failure_exits_1(store, monkeypatch):
    run_id = store.create_run(RunConfig().to_dict())
    monkeypatch.setattr(worker, "_execute", lambda *a, **k: 1 / 0)
    assert worker._run(store, run_id, resume=False) == 1
    assert store.get_run(run_id).status == RunStatus.FAILED
