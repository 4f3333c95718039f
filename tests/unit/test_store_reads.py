"""Fast reads: curves as columns, one connection per thread, and nothing stale or leaked."""

import pickle
import sqlite3
import threading

import pytest

from rnnlab.store import CURVE_COLUMNS, LOSS_COLUMNS, Store


def _run_with_epochs(store, epochs=(3, 1, 2)):
    run_id = store.create_run({}, epochs_total=len(epochs))
    for e in epochs:  # written out of order: read back in epoch order
        store.add_epoch(run_id, e, train_loss=1.0 / e, val_loss=None if e == 2 else 2.0 / e,
                        lr=1e-3, seconds=0.25 * e, grad_norm_mean=float(e), grad_norm_max=None)
    return run_id


def test_curves_are_the_epoch_rows_as_columns(tmp_path):
    store = Store(tmp_path)
    run_id = _run_with_epochs(store)
    rows = store.epochs(run_id)
    assert [r["epoch"] for r in rows] == [1, 2, 3] and list(rows[0]) == list(CURVE_COLUMNS)
    curves = store.curves(run_id)
    assert list(curves) == list(CURVE_COLUMNS)
    assert curves == {c: [r[c] for r in rows] for c in CURVE_COLUMNS}  # same values, None kept
    assert curves["val_loss"][1] is None and curves["grad_norm_max"] == [None] * 3
    assert all(isinstance(v, list) for v in curves.values())
    losses = store.curves(run_id, LOSS_COLUMNS)
    assert losses == {"epoch": [1, 2, 3], "train_loss": [1.0, 0.5, 1 / 3],
                      "val_loss": [2.0, None, 2 / 3]}


def test_curves_of_a_run_without_epochs_and_bad_columns(tmp_path):
    store = Store(tmp_path)
    run_id = store.create_run({})
    assert store.curves(run_id, LOSS_COLUMNS) == {"epoch": [], "train_loss": [], "val_loss": []}
    assert store.epochs(run_id) == []
    with pytest.raises(ValueError, match="curves columns"):
        store.curves(run_id, ("epoch", "config"))
    with pytest.raises(ValueError):
        store.curves(run_id, ("epoch; DROP TABLE runs",))
    with pytest.raises(ValueError):
        store.curves(run_id, ())


def test_one_connection_per_thread_reused_and_fresh_data_seen(tmp_path):
    store = Store(tmp_path)
    run_id = _run_with_epochs(store, (1,))
    with store._connect() as first, store._connect() as second:
        assert first is second  # reused in this thread
    seen = {}

    def other_thread():
        with store._connect() as db:
            seen["db"] = db
        seen["epochs"] = len(store.epochs(run_id))
        store.add_epoch(run_id, 2, train_loss=0.5)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen["db"] is not first and seen["epochs"] == 1
    assert len(store.epochs(run_id)) == 2  # this thread's long-lived connection sees the write
    writer = Store(tmp_path)  # another Store, as another process would have
    writer.add_epoch(run_id, 3, train_loss=0.25)
    assert store.curves(run_id, ("epoch",)) == {"epoch": [1, 2, 3]}
    assert store.get_run(run_id).epochs_done == 3


def test_a_connection_left_in_a_bad_state_is_replaced(tmp_path):
    store = Store(tmp_path)
    with store._connect() as before:
        pass
    with pytest.raises(sqlite3.IntegrityError):
        with store._tx() as db:
            db.execute("INSERT INTO runs (id) VALUES (NULL)")
    with store._connect() as after:
        assert after is not before and not after.in_transaction
    assert store.list_runs() == []
    store.close()
    store.close()  # twice is fine
    assert store.create_run({}) and len(store.list_runs()) == 1


def test_a_store_pickles_without_its_connections(tmp_path):
    store = Store(tmp_path)
    run_id = _run_with_epochs(store, (1, 2))
    copy = pickle.loads(pickle.dumps(store))
    assert copy.home == store.home and copy.curves(run_id, ("epoch",)) == {"epoch": [1, 2]}
    with store._connect() as mine, copy._connect() as theirs:
        assert mine is not theirs


def test_bulk_reads_leave_the_garbage_collector_as_they_found_it(tmp_path):
    import gc

    store = Store(tmp_path)
    run_id = _run_with_epochs(store, (1, 2))
    assert gc.isenabled()
    store.curves(run_id)
    store.epochs(run_id)
    assert gc.isenabled()
    gc.disable()
    try:
        store.curves(run_id)
        store.epochs(run_id)
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ValueError):
        store.curves(run_id, ("nope",))
    assert gc.isenabled()
