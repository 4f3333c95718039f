"""train.train_run: epoch rows, files, divergence, cancel, resume, checkpoints, early stopping."""

import dataclasses
import json
import threading

import numpy as np
import pytest

from helpers_train import new_run, one_thread, run_config, sine, windows
from rnnlab import train
from rnnlab.errors import CheckpointError
from rnnlab.store import RunStatus, Store

pytestmark = pytest.mark.slow
one_thread()


@pytest.fixture(scope="module")
def data():
    return windows(sine(120, noise=0.02), lookback=10, val=16)


def test_every_epoch_is_recorded_with_its_traces_and_files(store, data):
    import keras

    from rnnlab.nn.gradients import tensor_names, through_time

    cfg = run_config(epochs=3, n_layers=2, units=4)
    run_id = new_run(store, cfg)
    out = train.train_run(store, run_id, cfg, data)
    assert (out.status, out.epochs_done, out.message) == (RunStatus.DONE, 3, "")
    rows = store.epochs(run_id)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    for r in rows:
        assert r["train_loss"] > 0 and r["val_loss"] > 0 and r["seconds"] > 0
        assert r["lr"] == pytest.approx(1e-3)
        assert 0 < r["grad_norm_mean"] <= r["grad_norm_max"]
    steps = int(np.ceil(len(data.X_train) / 16))
    assert [len(v) for v in store.step_norms(run_id).values()] == [steps] * 3
    names = {r["tensor"] for r in store.tensor_norms(run_id)}
    assert names == set(tensor_names(out.model))
    through = store.through_time(run_id)
    assert sorted(through) == ["input", "layer_1"]
    assert [len(v) for v in through["input"].values()] == [10] * 3
    # computed in the background on a twin holding a copy of the epoch's weights
    x, y = (np.asarray(a, dtype="float32") for a in (data.X_train, data.y_train))
    now = through_time(out.model, *train.probe_batch(x, y, cfg.train.seed))
    for key, series in now.items():
        np.testing.assert_allclose(through[key][3], series, rtol=1e-4, err_msg=key)
    folder = store.run_dir(run_id)
    assert json.loads((folder / "checkpoint.json").read_text())["epoch"] == 3
    final = keras.saving.load_model(folder / "model.keras")
    assert type(final).__name__ == "Functional"
    np.testing.assert_allclose(final.predict(data.X_val, verbose=0), out.predict(data.X_val),
                               rtol=1e-5, atol=1e-6)
    assert out.predict(data.X_val[:1]).shape == (1, 1)


def test_without_validation_and_without_tracking(store):
    cfg = run_config(epochs=2, track_gradients=False, horizon=3)
    run_id = new_run(store, cfg)
    out = train.train_run(store, run_id, cfg, windows(sine(60), lookback=10, horizon=3))
    assert out.status == RunStatus.DONE
    assert [r["val_loss"] for r in store.epochs(run_id)] == [None, None]
    assert store.tensor_norms(run_id) == [] and store.through_time(run_id) == {}
    assert out.predict(np.zeros((2, 10, 1))).shape == (2, 3)


def test_exploding_gradients_stop_the_run_with_advice(store, data):
    cfg = run_config(epochs=6, cell="simple_rnn", optimizer="sgd", learning_rate=10.0)
    run_id = new_run(store, cfg)
    out = train.train_run(store, run_id, cfg, data)
    assert out.status == RunStatus.DIVERGED and out.predict is None
    k = out.epochs_done
    assert 1 <= k < 6
    assert out.message.startswith("The loss became ")
    assert (f"at epoch {k}: the gradients exploded (the last global gradient norm was "
            in out.message)
    assert out.message.endswith("Turn on gradient clipping (clipnorm 1.0) or lower the "
                                "learning rate (now 10).")
    rows = store.epochs(run_id)
    assert rows[-1]["epoch"] == k and rows[-1]["grad_norm_max"] > 1e6   # the spike is kept
    checkpoint = store.run_dir(run_id) / "checkpoint.json"
    assert not checkpoint.exists() or json.loads(checkpoint.read_text())["epoch"] < k


class CancelAfter(Store):
    """A store whose cancel flag rises once two epoch rows are recorded."""

    def cancel_requested(self, run_id):
        return len(self.epochs(run_id)) >= 2 or super().cancel_requested(run_id)


def test_cancel_stops_and_resume_continues_to_the_end(tmp_path, data):
    cfg = run_config(epochs=5)
    store = CancelAfter(tmp_path / "home")
    run_id = new_run(store, cfg)
    out = train.train_run(store, run_id, cfg, data)
    done = out.epochs_done
    # rows are written just behind training, so the flag is seen after epoch 2 or 3, or
    # between two batches of the epoch after (then that partial epoch is dropped)
    assert out.status == RunStatus.CANCELLED and done in (2, 3)
    assert out.message in (f"Cancelled after epoch {done}; the run can be resumed.",
                           f"Cancelled during epoch {done + 1}; the run keeps epochs 1 to "
                           f"{done} and can be resumed.")
    kept = store.epochs(run_id)
    assert [r["epoch"] for r in kept] == list(range(1, done + 1))
    plain = Store(tmp_path / "home")
    plain.add_epoch(run_id, done + 1, train_loss=9.0)  # a row the checkpoint does not cover
    out = train.train_run(plain, run_id, cfg, data, resume=True)
    assert (out.status, out.epochs_done) == (RunStatus.DONE, 5)
    rows = plain.epochs(run_id)
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[:done] == kept and rows[done]["train_loss"] != 9.0
    steps = int(np.ceil(len(data.X_train) / 16))
    meta = json.loads((plain.run_dir(run_id) / "checkpoint.json").read_text())
    assert meta == {"epoch": 5, "iterations": 5 * steps}     # the optimizer state came back
    assert any(e["kind"] == "resumed" for e in plain.events(run_id))


def test_cancel_between_batches_drops_the_partial_epoch(tmp_path, data, monkeypatch):
    plan = train.execution_plan
    monkeypatch.setattr(train, "execution_plan", lambda *a: dataclasses.replace(
        plan(*a), steps_per_execution=1))
    store = Store(tmp_path / "home")
    cfg = run_config(epochs=3)
    run_id = new_run(store, cfg)
    # call 0 is the check before training starts; call 1 the first one between two batches
    store.cancel_requested = lambda rid, calls=iter(range(100)): next(calls) >= 1
    out = train.train_run(store, run_id, cfg, data)
    assert (out.status, out.epochs_done) == (RunStatus.CANCELLED, 0)
    assert "Cancelled during epoch 1" in out.message
    assert store.epochs(run_id) == []


def test_a_real_cancel_request_stops_within_one_epoch(store, data):
    cfg = run_config(epochs=500)
    run_id = new_run(store, cfg)
    seen = {}

    def cancel_after_first_epoch():
        while not store.epochs(run_id):
            threading.Event().wait(0.02)
        seen["rows"] = len(store.epochs(run_id))
        store.request_cancel(run_id)

    thread = threading.Thread(target=cancel_after_first_epoch)
    thread.start()
    out = train.train_run(store, run_id, cfg, data)
    thread.join()
    assert out.status == RunStatus.CANCELLED
    # rows are written beside training, so the store shows one epoch less than has finished:
    # with n rows seen, epoch n + 1 may be done and n + 2 in training when the cancel arrives
    assert out.epochs_done <= seen["rows"] + 2


def test_cancelled_before_start(store, data):
    cfg = run_config()
    run_id = new_run(store, cfg)
    store.request_cancel(run_id)
    assert train.train_run(store, run_id, cfg, data).status == RunStatus.CANCELLED


def test_resume_without_or_with_a_damaged_checkpoint(store, data):
    cfg = run_config(epochs=2)
    run_id = new_run(store, cfg)
    with pytest.raises(CheckpointError, match="no checkpoint to resume from"):
        train.train_run(store, run_id, cfg, data, resume=True)
    assert train.train_run(store, run_id, cfg, data).status == RunStatus.DONE
    folder = store.run_dir(run_id)
    (folder / "checkpoint.keras").write_bytes(b"PK\x03\x04 not a zip any more")
    with pytest.raises(CheckpointError, match="is damaged and cannot be read.*Start the run again"):
        train.train_run(store, run_id, cfg, data, resume=True)
    (folder / "checkpoint.json").write_text("{\"epoch\": ")
    with pytest.raises(CheckpointError, match="checkpoint record .* is damaged"):
        train.train_run(store, run_id, cfg, data, resume=True)


def test_checkpoint_one_epoch_ahead_of_its_record_is_recognised(tmp_path):
    meta = {"epoch": 3, "iterations": 30}
    assert train._checkpoint_epoch(meta, 30, 10, tmp_path) == 3
    assert train._checkpoint_epoch(meta, 40, 10, tmp_path) == 4      # killed between renames
    with pytest.raises(CheckpointError, match="does not match its record"):
        train._checkpoint_epoch(meta, 55, 10, tmp_path)


def test_early_stopping_keeps_the_best_weights(store):
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(96, 10, 1)).astype("float32")
    data = windows(sine(40), lookback=10)
    data.X_train, data.y_train = x[:64], x[:64, -1:, 0]           # learn: y = last input
    data.X_val, data.y_val = x[64:], -x[64:, -1:, 0]               # validation: y = -last input
    cfg = run_config(epochs=30, learning_rate=0.02, early_stopping_patience=2)
    run_id = new_run(store, cfg)
    out = train.train_run(store, run_id, cfg, data)
    rows = store.epochs(run_id)
    assert out.status == RunStatus.DONE and out.epochs_done == len(rows) < 30
    assert out.message.startswith(f"Early stopping at epoch {len(rows)}: the validation loss")
    best = min(r["val_loss"] for r in rows)
    mse = float(np.mean((out.predict(data.X_val) - data.y_val) ** 2))
    assert mse == pytest.approx(best, rel=1e-4)


def test_echo_state_network_is_one_epoch(store):
    from rnnlab.nn.esn import EchoStateNetwork

    cfg = run_config(cell="esn", lookback=20, reservoir_size=60)
    run_id = new_run(store, cfg)
    data = windows(sine(200), lookback=20, val=20)
    out = train.train_run(store, run_id, cfg, data)
    assert (out.status, out.epochs_done) == (RunStatus.DONE, 1)
    (row,) = store.epochs(run_id)
    assert row["val_loss"] < 1e-3 and store.through_time(run_id) == {}
    again = EchoStateNetwork.load(store.run_dir(run_id) / "model.npz")
    np.testing.assert_allclose(again.predict(data.X_val), out.predict(data.X_val))
    assert store.get_run(run_id).epochs_total == 1


def test_execution_plan_keeps_cancel_latency_short_and_xla_for_long_runs(monkeypatch):
    from rnnlab.config import preset

    monkeypatch.delenv("RNNLAB_JIT", raising=False)

    tutorial = preset("seed-tutorial")
    plan = train.execution_plan(tutorial, 1198, 1)
    assert plan.steps_per_epoch == 38 and plan.jit_compile
    assert plan.steps_per_execution == 38            # about 0.6 s: one chunk per epoch
    big = train.execution_plan(tutorial.replace(model={"units": 400}), 1198, 1)
    assert big.jit_compile and big.steps_per_execution < big.steps_per_epoch
    short = train.execution_plan(tutorial.replace(train={"epochs": 2}), 1198, 1)
    assert not short.jit_compile
    tiny = train.execution_plan(run_config(), 100, 1)
    assert tiny.steps_per_execution == tiny.steps_per_epoch == 7
