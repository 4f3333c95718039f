"""The run store: lifecycle rows, traces, path safety and concurrent readers."""

import multiprocessing as mp
import os
import time

import pytest

from rnnlab.errors import RunNotFound, StoreError
from rnnlab.store import SCHEMA_VERSION, RunStatus, Store, check_run_id
from statuses import set_status


def _new(store, **kw):
    return store.create_run({"name": "x"}, data_sha256="abc", epochs_total=3, **kw)


def test_create_get_list(tmp_path):
    store = Store(tmp_path)
    a = _new(store, name="first")
    b = _new(store)
    run = store.get_run(a)
    assert run.status == RunStatus.QUEUED and run.name == "first" and run.epochs_total == 3
    assert [r.id for r in store.list_runs()] == [b, a]
    assert store.schema_version() == SCHEMA_VERSION == 3
    assert store.run_dir(a).is_dir()
    assert store.count_by_status() == {RunStatus.QUEUED: 2}


def test_claim_takes_oldest_first_and_only_once(tmp_path):
    store = Store(tmp_path)
    first, second = _new(store), _new(store)
    assert store.claim_next_queued() == first
    assert store.claim_next_queued() == second
    assert store.claim_next_queued() is None
    assert store.get_run(first).status == RunStatus.RUNNING


def test_epochs_and_traces_round_trip(tmp_path):
    store = Store(tmp_path)
    run_id = _new(store)
    for epoch in (1, 2):
        store.add_epoch(run_id, epoch, train_loss=1.0 / epoch, val_loss=None, lr=1e-3, seconds=0.5,
                        grad_norm_mean=2.0, grad_norm_max=3.0,
                        tensor_norms={"lstm_1/kernel": (0.1, 0.2), "dense/bias": (1.0, 1.5)},
                        step_norms=[1.0, 2.0, float("nan")],
                        through_time={"input": [1.0, 0.5, 0.25]})
    rows = store.epochs(run_id)
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[1]["train_loss"] == 0.5 and rows[0]["val_loss"] is None
    assert store.get_run(run_id).epochs_done == 2
    norms = store.tensor_norms(run_id)
    assert {(n["epoch"], n["tensor"]) for n in norms} == {(1, "lstm_1/kernel"), (1, "dense/bias"),
                                                          (2, "lstm_1/kernel"), (2, "dense/bias")}
    assert store.step_norms(run_id)[2] == [1.0, 2.0, None]
    assert store.through_time(run_id) == {"input": {1: [1.0, 0.5, 0.25], 2: [1.0, 0.5, 0.25]}}
    store.truncate_after(run_id, 1)
    assert [r["epoch"] for r in store.epochs(run_id)] == [1]
    assert list(store.step_norms(run_id)) == [1]
    assert store.get_run(run_id).epochs_done == 1


def test_cancel_of_queued_run_is_immediate_and_running_is_flagged(tmp_path):
    store = Store(tmp_path)
    queued = _new(store)
    assert store.request_cancel(queued) == RunStatus.CANCELLED
    running = _new(store)
    store.claim_next_queued()
    assert store.request_cancel(running) == RunStatus.RUNNING
    assert store.cancel_requested(running)
    assert store.claim_next_queued() is None


def test_transition_is_conditional(tmp_path):
    store = Store(tmp_path)
    run_id = _new(store)
    assert not store.transition(run_id, (RunStatus.RUNNING,), RunStatus.DONE)
    assert store.transition(run_id, (RunStatus.QUEUED,), RunStatus.FAILED, error="boom")
    assert store.get_run(run_id).error == "boom"


def test_delete_removes_rows_and_folder_but_not_running(tmp_path):
    store = Store(tmp_path)
    run_id = _new(store)
    store.add_epoch(run_id, 1, train_loss=1.0)
    store.claim_next_queued()
    with pytest.raises(StoreError, match="Cancel it first"):
        store.delete_run(run_id)
    set_status(store, run_id, RunStatus.DONE)
    store.delete_run(run_id)
    assert not store.run_dir(run_id).exists()
    with pytest.raises(RunNotFound):
        store.get_run(run_id)
    assert store.epochs(run_id) == []


@pytest.mark.parametrize("bad", ["../etc", "/etc/passwd", "r2026", "", "r20261127-120000-abc12g",
                                 "r20261127-120000-abcdef/../x"])
def test_run_ids_are_validated(bad):
    with pytest.raises(RunNotFound, match="is not a run id"):
        check_run_id(bad)


@pytest.mark.parametrize("name", ["../x", "/abs", "a/b", "..", ".hidden", ""])
def test_artefact_names_cannot_leave_the_run_folder(tmp_path, name):
    store = Store(tmp_path)
    with pytest.raises(StoreError, match="not a valid artefact name"):
        store.artefact(_new(store), name)


def test_symlinked_run_folder_is_refused(tmp_path):
    store = Store(tmp_path / "home")
    run_id = _new(store)
    folder = store.run_dir(run_id)
    folder.rmdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    folder.symlink_to(outside)
    with pytest.raises(StoreError, match="points outside"):
        store.run_dir(run_id)


def test_unwritable_home_gives_a_clear_message(tmp_path):
    if os.geteuid() == 0:
        home = "/proc/rnnlab-cannot-write-here"
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        home = ro / "home"
    with pytest.raises(StoreError, match="Cannot open the run store"):
        Store(home)


def _writer(home, run_id, n, go):
    store = Store(home)
    go.wait(60)
    for epoch in range(1, n + 1):
        store.add_epoch(run_id, epoch, train_loss=float(epoch), tensor_norms={"a": (1.0, 2.0)},
                        step_norms=[1.0] * 50, through_time={"input": [0.1] * 60})
        store.heartbeat(run_id, os.getpid())


def _reader(home, run_id, ready, go, done, queue):
    store, reads, errors = Store(home), 0, []
    ready.release()
    go.wait(60)
    while not done.is_set() or reads == 0:
        try:
            store.get_run(run_id)
            store.epochs(run_id)
            store.tensor_norms(run_id)
            store.list_runs()
            reads += 1
        except Exception as exc:  # any error here is what the test is looking for
            errors.append(repr(exc))
    queue.put((reads, errors))


def test_two_readers_and_a_writer_never_see_locked_errors(tmp_path):
    store = Store(tmp_path)
    run_id = _new(store)
    ctx = mp.get_context("spawn")
    queue, ready, go, done = ctx.Queue(), ctx.Semaphore(0), ctx.Event(), ctx.Event()
    readers = [ctx.Process(target=_reader, args=(tmp_path, run_id, ready, go, done, queue))
               for _ in range(2)]
    writer = ctx.Process(target=_writer, args=(tmp_path, run_id, 300, go))
    for p in (*readers, writer):
        p.start()
    for _ in readers:  # both readers are up before the writer starts: they overlap it
        assert ready.acquire(timeout=60)
    go.set()
    writer.join(120)
    done.set()
    results = [queue.get(timeout=60) for _ in readers]
    for p in readers:
        p.join(10)
    assert writer.exitcode == 0
    assert all(errors == [] for _, errors in results), results
    assert all(reads > 0 for reads, _ in results)
    assert len(store.epochs(run_id)) == 300
