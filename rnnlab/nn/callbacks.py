"""The callbacks a run's fit gets: the run recorder, and early stopping that counts the start.

`RunRecorder` writes each epoch to the store (through an `rnnlab.nn.checkpoint.EpochWriter`)
and, between execution chunks, stops the fit on a cancel request or a NaN/inf loss by raising
`Stopped`, which `rnnlab.train` turns into the run's outcome.
"""

from __future__ import annotations

import math
import time

import numpy as np

from rnnlab import backend
from rnnlab.store import RunStatus

keras = backend.keras()

CHECK_SECONDS = 0.25            # look for a cancel or a NaN loss at most this often


class Stopped(Exception):
    """Raised by the recorder to leave model.fit at a chunk boundary."""

    def __init__(self, status: RunStatus, epochs_done: int, message: str):
        super().__init__(message)
        self.status, self.epochs_done, self.message = status, epochs_done, message


class EarlyStoppingFromStart(keras.callbacks.EarlyStopping):
    """Keras' EarlyStopping, also counting the starting weights when `start_loss` is set.

    With the linear path (ModelConfig.linear_skip) the untrained model is the least-squares
    linear autoregression. Its validation loss before the first epoch is the score to beat: if
    no epoch beats it, the starting weights are kept (best_epoch -1), so training never leaves
    the model worse on validation than the straight line it started from.
    """

    start_loss: float | None = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.start_loss is not None and np.isfinite(self.start_loss):
            self.best = self.start_loss
            self.best_epoch = -1
            self.best_weights = self.model.get_weights()


def _finite_or_none(values) -> list:
    return [float(v) if math.isfinite(v) else None for v in values]


def epoch_row(logs: dict, seconds: float, lr: float, grads) -> dict:
    """store.add_epoch arguments (without through_time) from Keras logs and the meter's reading.

    Non-finite gradient norms (a diverging step) are stored as missing; the global mean and max
    are taken over the finite steps, so the spike before a blow-up stays visible.
    """
    finite = [v for v in (grads.step_norms if grads else []) if math.isfinite(v)]
    return {
        "train_loss": logs.get("loss"), "val_loss": logs.get("val_loss"), "lr": lr,
        "seconds": seconds,
        "grad_norm_mean": float(np.mean(finite)) if finite else None,
        "grad_norm_max": float(np.max(finite)) if finite else None,
        "tensor_norms": ({name: tuple(_finite_or_none(pair))
                          for name, pair in grads.tensor_norms.items()} if grads else None),
        "step_norms": _finite_or_none(grads.step_norms) if grads else None,
    }


class RunRecorder(keras.callbacks.Callback):
    """Each epoch to the store and a checkpoint (by `writer`); stops on cancel or divergence.

    Checks run at the end of every execution chunk (see `rnnlab.train.execution_plan`).
    `progress` is the worker's heartbeat, called as training gets on.
    """

    def __init__(self, store, run_id, writer, steps_per_epoch, *, track=True,
                 progress=lambda: None):
        super().__init__()
        self.store, self.run_id, self.writer = store, run_id, writer
        self.steps, self.track, self.progress = steps_per_epoch, track, progress
        self.last_epoch = self.epoch = 0
        self._t0 = time.perf_counter()
        self._next_check = 0.0

    def on_train_begin(self, logs=None):
        self.writer.warm_up()

    @property
    def meter(self):
        return getattr(self.model, "meter", None) if self.track else None

    @property
    def lr(self) -> float:
        return float(np.asarray(self.model.optimizer.learning_rate))

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1                          # 1-based, as in the store
        if self.meter is not None:
            self.meter.reset()
        self._t0 = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        # On JAX this runs after every step: look at most every CHECK_SECONDS, so the steps
        # stay asynchronous (reading the loss waits for the step to finish)
        now = time.perf_counter()
        if batch >= self.steps - 1 or now < self._next_check:
            return
        self._next_check = now + CHECK_SECONDS
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self._diverge(self.epoch, loss)
        if self.store.cancel_requested(self.run_id):
            # mid-epoch: the partial epoch is dropped; the last checkpoint stays valid
            raise Stopped(RunStatus.CANCELLED, self.epoch - 1,
                          f"Cancelled during epoch {self.epoch}; the run keeps epochs "
                          f"1 to {self.epoch - 1} and can be resumed.")
        self.progress()

    def on_epoch_end(self, epoch, logs=None):
        logs, k = logs or {}, epoch + 1
        seconds = time.perf_counter() - self._t0
        loss = logs.get("loss", float("nan"))
        if not math.isfinite(loss):
            self._diverge(k, loss)
        grads = self.meter.read() if self.meter is not None else None
        self.writer.submit(k, epoch_row(logs, seconds, self.lr, grads))
        self.last_epoch = k
        self.progress()
        if k < self.params.get("epochs", k + 1) and self.store.cancel_requested(self.run_id):
            raise Stopped(RunStatus.CANCELLED, k,
                          f"Cancelled after epoch {k}; the run can be resumed.")

    def _diverge(self, k: int, loss: float) -> None:
        """Record the epoch that blew up (its gradient spike, no probe) and stop with advice."""
        self.writer.wait()
        sync = getattr(self.model, "jax_state_sync", None)
        if sync is not None:  # mid-epoch on JAX the meter's values are in the train state
            sync()
        grads = self.meter.read() if self.meter is not None else None
        row = epoch_row({"loss": loss}, time.perf_counter() - self._t0, self.lr, grads)
        self.store.add_epoch(self.run_id, k, **row)
        finite = [v for v in (grads.step_norms if grads else []) if math.isfinite(v)]
        last = f"{finite[-1]:.3g}" if finite else "not recorded"
        what = "NaN" if math.isnan(loss) else "infinite"
        raise Stopped(RunStatus.DIVERGED, k, (
            f"The loss became {what} at epoch {k}: the gradients exploded (the last global "
            f"gradient norm was {last}). Turn on gradient clipping (clipnorm 1.0) or lower "
            f"the learning rate (now {self.lr:g})."))
