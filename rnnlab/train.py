"""Train one run: seed, build, fit, and write every epoch to the run store as it ends.

`train_run` is called by the worker inside its catch-all. Per epoch it records the losses, the
learning rate, the time, the gradient telemetry (per-tensor norms, the global norm of every step,
the gradient through time on a fixed probe batch) and a checkpoint with the optimizer state.
Between execution chunks (a few batches, see `execution_plan`) it checks for a cancel request
and for a NaN/inf loss. It returns a `TrainOutcome`; statuses are set by the worker.

Files in the run folder:
  checkpoint.keras  the model after the last finished epoch, with the optimizer state
                    (a standard Keras file; written to a temporary name, then renamed)
  checkpoint.json   {"epoch": k, "iterations": optimizer steps so far}
  model.keras       the final model (best weights when early stopping), loadable without rnnlab
  model.npz         the echo state network instead, when cell == "esn"

Keras (on JAX or TensorFlow, see `rnnlab.backend`) is imported inside functions only.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from rnnlab import backend
from rnnlab.config import RunConfig
from rnnlab.errors import CheckpointError, DataError
from rnnlab.store import RunStatus, Store

CHECKPOINT = "checkpoint.keras"
CHECKPOINT_META = "checkpoint.json"
MODEL_FILE = "model.keras"
ESN_FILE = "model.npz"
PROBE_SIZE = 32                 # windows in the gradient-through-time probe batch
CHUNK_SECONDS = 1.0             # aim for a cancel check at least this often
CHECK_SECONDS = 0.25            # look for a cancel or a NaN loss at most this often
PLAIN_FLOPS = 25e9              # training throughput of one CPU job, FLOP/s, graph mode
JIT_FLOPS = 50e9                # the same with XLA (bench/train_speed.py)
XLA_WORTH_SECONDS = 30.0        # XLA compiles for seconds: worth it for runs longer than this


@dataclass
class TrainOutcome:
    """How training ended. `predict` (X scaled (n, L, F) -> (n, H)) is set when status is done."""

    status: RunStatus
    epochs_done: int
    message: str = ""
    model: Any = None
    predict: Callable[[np.ndarray], np.ndarray] | None = None


class _Stopped(Exception):
    """Raised by the recorder to leave model.fit at a chunk boundary."""

    def __init__(self, status: RunStatus, epochs_done: int, message: str):
        super().__init__(message)
        self.status, self.epochs_done, self.message = status, epochs_done, message


def train_run(store: Store, run_id: str, run_cfg: RunConfig, prepared, *,
              resume: bool = False, progress: Callable[[], None] = lambda: None) -> TrainOutcome:
    """Train the run's model on `prepared` windows, recording every epoch in `store`.

    `prepared` needs X_train, y_train, X_val, y_val (val may hold 0 windows), lookback, horizon.
    resume=True continues from run_dir/checkpoint.keras (CheckpointError if missing or damaged).
    `progress` is called as training gets on (the worker's heartbeat, see rnnlab.worker).
    """
    _check_windows(prepared)
    if store.cancel_requested(run_id):
        return TrainOutcome(RunStatus.CANCELLED, store.get_run(run_id).epochs_done,
                            "Cancelled before training started.")
    if run_cfg.model.cell == "esn":
        return _train_esn(store, run_id, run_cfg, prepared)
    return _train_keras(store, run_id, run_cfg, prepared, resume, progress)


def _check_windows(prepared) -> None:
    n = len(prepared.X_train)
    if n == 0:
        raise DataError("The training part has no complete window. Lower lookback or horizon, "
                        "or give the training part more rows.")
    if len(prepared.y_train) != n:
        raise DataError(f"X_train has {n} windows but y_train has {len(prepared.y_train)}.")


def _arrays(prepared):
    """Contiguous float32 copies of the windows (they may be strided views of the series)."""
    def as32(a):
        return np.ascontiguousarray(a, dtype=np.float32)
    val = None
    if prepared.X_val is not None and len(prepared.X_val):
        val = (as32(prepared.X_val), as32(prepared.y_val))   # (n_val, L, F), (n_val, H)
    return as32(prepared.X_train), as32(prepared.y_train), val


# -- Keras runs ---------------------------------------------------------------------------------

def _train_keras(store, run_id, run_cfg: RunConfig, prepared, resume: bool,
                 progress: Callable[[], None] = lambda: None) -> TrainOutcome:
    keras = backend.keras()

    from rnnlab.model import build_model, start_linear_skip

    backend_name = backend.active()   # before seeding: on JAX this keeps TensorFlow out
    mcfg, tcfg = run_cfg.model, run_cfg.train
    configure_threads()
    keras.utils.set_random_seed(tcfg.seed)
    x, y, val = _arrays(prepared)                # x (n, L, F), y (n, H)
    if tcfg.batch_size > len(x):                 # a batch never exceeds the windows (notes say so)
        tcfg = dataclasses.replace(tcfg, batch_size=len(x))
    plan = execution_plan(run_cfg, len(x), x.shape[2], backend_name)
    steps = plan.steps_per_epoch
    model = build_model(mcfg, tcfg, x.shape[2], jit_compile=plan.jit_compile,
                        steps_per_execution=plan.steps_per_execution)
    if mcfg.linear_skip:
        start_linear_skip(model, x, y)
    if run_cfg.from_model is not None and not resume:   # an uploaded model's trained weights
        from rnnlab.comeback import start_from

        start_from(model, store, run_id, run_cfg)
    if tcfg.track_gradients:
        model.start_meter(steps)
    run_dir = store.run_dir(run_id)
    start = 0
    if resume:
        start = load_checkpoint(model, run_dir, steps)
        store.truncate_after(run_id, start)
        store.add_event(run_id, "resumed", f"Resumed from the checkpoint of epoch {start}.")
        keras.utils.set_random_seed(tcfg.seed + start)   # a fresh batch order for the rest
    recorder = recorder_class()(store, run_id, run_dir, probe_batch(x, y, tcfg.seed), steps,
                                track=tcfg.track_gradients, progress=progress)
    early = _early_stopping(tcfg, val is not None)
    weights = None
    if backend_name == "jax":   # one batch shape, so one compiled step (see pad_to_batches)
        x, y, weights = pad_to_batches(x, y, tcfg.batch_size)
        val = pad_to_batches(*val, tcfg.batch_size) if val is not None else None
    if early is not None and mcfg.linear_skip and val is not None and not resume:
        # the start is the least-squares fit: a change is kept only where validation agrees
        early.start_loss = _validation_loss(model, val, tcfg.batch_size)
    try:
        model.fit(x, y, sample_weight=weights, batch_size=tcfg.batch_size, epochs=tcfg.epochs,
                  initial_epoch=start, validation_data=val, shuffle=True, verbose=0,
                  callbacks=[recorder] + ([early] if early else []))
    except _Stopped as stop:
        return TrainOutcome(stop.status, stop.epochs_done, stop.message, model=model)
    finally:
        if recorder.writer is not None:
            recorder.writer.wait()      # the last checkpoint is on disk before we return
    done = max(start, recorder.last_epoch)
    message = _early_stop_message(early, val is not None)
    if message:
        store.add_event(run_id, "early_stopping", message)
    save_model(model, run_dir / MODEL_FILE, tcfg)
    return TrainOutcome(RunStatus.DONE, done, message, model=model,
                        predict=predict_function(model))


@dataclass(frozen=True)
class ExecutionPlan:
    """How fit runs: batches per epoch, batches per compiled execution, XLA or not."""

    steps_per_epoch: int
    steps_per_execution: int
    jit_compile: bool


def execution_plan(run_cfg: RunConfig, n_windows: int, n_features: int,
                   backend_name: str = "tensorflow") -> ExecutionPlan:
    """Pick steps_per_execution and XLA from the model's estimated cost.

    One training step costs about 6 FLOP per parameter, time step and window. Chunks of batches
    last about CHUNK_SECONDS, the cancel latency; within a chunk no callback runs, which on JAX
    saves about 15 % of an epoch of the tutorial's model (bench/train_speed.py).

    On JAX every step is compiled by XLA. On TensorFlow, XLA halves the time of an epoch but
    compiles for seconds first, so it is used when the run would take over XLA_WORTH_SECONDS
    without it; RNNLAB_JIT=1 or 0 forces it on or off there.
    """
    from rnnlab.model_info import estimate_params

    tcfg = run_cfg.train
    steps = math.ceil(n_windows / tcfg.batch_size)
    step_flops = 6.0 * estimate_params(run_cfg.model, n_features) * run_cfg.model.lookback \
        * min(tcfg.batch_size, n_windows)
    forced = os.environ.get("RNNLAB_JIT", "").strip()
    if backend_name == "jax":
        jit = True
    elif forced in ("0", "1"):
        jit = forced == "1"
    else:
        jit = tcfg.epochs * steps * step_flops / PLAIN_FLOPS >= XLA_WORTH_SECONDS
    per_chunk = max(1, int(CHUNK_SECONDS * (JIT_FLOPS if jit else PLAIN_FLOPS) // step_flops))
    chunks = math.ceil(steps / min(steps, per_chunk))
    return ExecutionPlan(steps, math.ceil(steps / chunks), jit)


def configure_threads(threads: int | None = None) -> None:
    """Compute threads per job: `threads`, else RNNLAB_THREADS, else 1 (0: the backend's default).

    One thread is the default: a second one barely speeds up one small recurrent job, and it
    leaves the other core to the epoch writer, the web server, or a second job. On JAX the
    setting is made by `backend.use()` before JAX starts. On TensorFlow it must run before
    TensorFlow starts; later calls keep the pools TensorFlow already has.
    """
    if backend.active() != "tensorflow":
        return
    import tensorflow as tf

    if threads is None:
        threads = backend.threads()
    if threads <= 0:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already started in this process: keep its pools
        pass


def pad_to_batches(x: np.ndarray, y: np.ndarray, batch_size: int):
    """x, y padded with zero rows to a whole number of batches, and weights 1 (real) / 0 (pad).

    JAX compiles the training step once per batch shape; a short last batch would cost a second
    compile of several seconds before the first epoch ends. With the pad rows weighted 0 and the
    loss averaged over the weights (`model.loss`), every step's loss and gradient are those of
    its real rows; shuffling spreads the few pad rows over the batches.
    """
    n = len(x)
    pad = -n % batch_size if n > batch_size else 0
    weights = np.ones(n + pad, dtype=np.float32)                       # (n + pad,)
    if pad:
        x = np.concatenate([x, np.zeros((pad,) + x.shape[1:], x.dtype)])  # (n + pad, L, F)
        y = np.concatenate([y, np.zeros((pad,) + y.shape[1:], y.dtype)])  # (n + pad, H)
        weights[n:] = 0.0
    return x, y, weights


def probe_batch(x: np.ndarray, y: np.ndarray, seed: int, size: int = PROBE_SIZE):
    """A fixed probe batch of training windows, chosen once from the seed."""
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(x), size=min(size, len(x)), replace=False))
    return x[idx], y[idx]                         # (probe, L, F), (probe, H)


def _early_stopping(tcfg, has_val: bool):
    if not tcfg.early_stopping_patience:
        return None
    return early_stopping_class()(monitor="val_loss" if has_val else "loss",
                                  patience=tcfg.early_stopping_patience,
                                  restore_best_weights=True)


def _validation_loss(model, val, batch_size: int) -> float:
    """The compiled loss on the validation windows (x, y[, sample weights])."""
    x_val, y_val, *w = val
    scores = model.evaluate(x_val, y_val, sample_weight=w[0] if w else None,
                            batch_size=batch_size, verbose=0, return_dict=True)
    return float(scores["loss"])


def early_stopping_class():
    """Keras' EarlyStopping, also counting the starting weights when `start_loss` is set.

    With the linear path (ModelConfig.linear_skip) the untrained model is the least-squares
    linear autoregression. Its validation loss before the first epoch is the score to beat: if no
    epoch beats it, the starting weights are kept (best_epoch -1), so training never leaves the
    model worse on validation than the straight line it started from.
    """
    keras = backend.keras()

    class EarlyStoppingFromStart(keras.callbacks.EarlyStopping):
        start_loss: float | None = None

        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            if self.start_loss is not None and np.isfinite(self.start_loss):
                self.best = self.start_loss
                self.best_epoch = -1
                self.best_weights = self.model.get_weights()

    return EarlyStoppingFromStart


def _early_stop_message(early, has_val: bool) -> str:
    if early is None:
        return ""
    which = "validation" if has_val else "training"
    kept = (f"kept the weights of epoch {early.best_epoch + 1}" if early.best_epoch >= 0 else
            "kept the starting weights (the linear path's least-squares fit), which no epoch "
            f"beat on the {which} loss")
    if not early.stopped_epoch:
        return f"Trained every epoch; {kept}." if early.best_epoch < 0 else ""
    return (f"Early stopping at epoch {early.stopped_epoch + 1}: the {which} loss had not "
            f"improved for {early.patience} epochs; {kept}.")


def predict_function(model, batch_size: int = 1024) -> Callable[[np.ndarray], np.ndarray]:
    """A compiled X (n, L, F) -> (n, H) in scaled units, fast for one window too."""
    horizon = model.outputs[0].shape[-1]
    call = _jax_call(model, batch_size) if backend.active() == "jax" else _tf_call(model)

    def predict(X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float32)            # (n, L, F)
        if len(X) == 0:
            return np.zeros((0, horizon), dtype=np.float32)
        parts = [call(X[i:i + batch_size]) for i in range(0, len(X), batch_size)]
        return np.concatenate(parts)                              # (n, H)

    return predict


def _tf_call(model):
    import tensorflow as tf

    _, lookback, n_features = model.inputs[0].shape
    spec = tf.TensorSpec([None, lookback, n_features], tf.float32)
    call = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    return lambda X: call(X).numpy()


def _jax_call(model, batch_size: int):
    """The model's stateless call under jax.jit, on batches padded to a power of two.

    Padding keeps the number of compiled shapes to about log2(batch_size), where one-window
    forecasts of every length would otherwise compile one each.
    """
    import jax

    fn = jax.jit(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=False)[0])
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def call(X: np.ndarray) -> np.ndarray:
        n = len(X)
        size = min(batch_size, 1 << max(0, (n - 1).bit_length()))
        if size > n:
            X = np.concatenate([X, np.zeros((size - n,) + X.shape[1:], X.dtype)])
        return np.asarray(fn(trainable, non_trainable, X))[:n]

    return call


# -- files --------------------------------------------------------------------------------------

def _atomic_keras_save(keras_model, path: Path) -> None:
    """Save a .keras file under a temporary name, then rename it into place."""
    tmp = path.with_name(f".{path.stem}-partial.keras")
    keras_model.save(tmp)
    os.replace(tmp, path)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text)
    os.replace(tmp, path)


_VIEWS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _checkpoint_view(model):
    """The plain functional view of `model`, compiled with its (shared) optimizer; cached."""
    from rnnlab.model import plain_model

    view = _VIEWS.get(model)
    if view is None:
        view = plain_model(model)
        view.compile(optimizer=model.optimizer, loss=model.loss)
        _VIEWS[model] = view
    return view


def _write_checkpoint_meta(run_dir: Path, epoch: int, iterations: int) -> None:
    meta = {"epoch": int(epoch), "iterations": int(iterations)}
    _atomic_write_text(run_dir / CHECKPOINT_META, json.dumps(meta))


class EpochWriter:
    """Finishes each epoch on a background thread, so training goes on meanwhile.

    `submit` copies every weight and optimizer variable (a few ms) and hands the copy to a
    thread, which loads it into a twin model, computes the gradient through time on the twin
    (the probe), writes the epoch's row to the store and then the checkpoint (tens of ms that
    the otherwise idle second core absorbs). One epoch is in flight at a time; `wait` returns
    when it is on disk and re-raises a failure of the thread.
    """

    def __init__(self, model, store: Store, run_id: str, run_dir: Path, probe=None):
        self.model, self.store, self.run_id = model, store, run_id
        self.run_dir, self.probe = Path(run_dir), probe
        self._twin = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def submit(self, epoch: int, row: dict) -> None:
        """Record `row` (store.add_epoch arguments) and checkpoint the state after `epoch`."""
        self.wait()
        twin, sources = self._twin_and_sources()
        values = [v.numpy() for v in sources]
        iterations = int(self.model.optimizer.iterations.numpy())
        self._thread = threading.Thread(target=self._finish,
                                        args=(twin, values, epoch, iterations, row),
                                        name=f"epoch-{epoch}-writer")
        self._thread.start()

    def warm_up(self) -> None:
        """Build the twin and compile the probe on the writer's thread while training starts.

        Otherwise the first epoch's row would wait for both (seconds on JAX), and the first
        loss point would show that much later.
        """
        self.wait()
        optimizer = self.model.optimizer
        if not optimizer.built:  # TensorFlow builds it at the first step; the twin needs it now
            optimizer.build(self.model.trainable_variables)
        twin, _ = self._twin_and_sources()
        self._thread = threading.Thread(target=self._warm, args=(twin,), name="probe-warm-up")
        self._thread.start()

    def _warm(self, twin) -> None:
        from rnnlab import gradients

        try:
            if self.probe is not None:
                gradients.through_time(twin, *self.probe, jit=False)
        except BaseException as exc:  # handed to the training thread by wait()
            self._error = exc

    def wait(self) -> None:
        """Block until the last epoch is written; raise its error if it failed."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _finish(self, twin, values, epoch: int, iterations: int, row: dict) -> None:
        from rnnlab import gradients

        try:
            for var, value in zip(_all_variables(twin), values):
                var.assign(value)
            through = None
            if self.probe is not None:  # off the training path, so not worth an XLA compile
                through = gradients.through_time(twin, *self.probe, jit=False)
            self.store.add_epoch(self.run_id, epoch, **row, through_time=through)
            _atomic_keras_save(twin, self.run_dir / CHECKPOINT)
            _write_checkpoint_meta(self.run_dir, epoch, iterations)
        except BaseException as exc:  # handed to the training thread by wait()
            self._error = exc

    def _twin_and_sources(self):
        """A clone of the checkpoint view with its own optimizer, variables in the same order."""
        keras = backend.keras()

        view = _checkpoint_view(self.model)
        if self._twin is None:
            twin = keras.models.clone_model(view)
            opt = self.model.optimizer
            twin.compile(optimizer=type(opt).from_config(opt.get_config()), loss=view.loss)
            twin.optimizer.build(twin.trainable_variables)
            if [v.shape for v in _all_variables(twin)] != [v.shape for v in _all_variables(view)]:
                raise RuntimeError("The checkpoint twin does not match the model's variables.")
            self._twin = twin
        return self._twin, _all_variables(view)


def _all_variables(keras_model) -> list:
    """Model variables then optimizer variables: what a .keras checkpoint holds."""
    return list(keras_model.variables) + list(keras_model.optimizer.variables)


def load_checkpoint(model, run_dir: Path, steps_per_epoch: int) -> int:
    """Load weights and optimizer state into `model`; return the epoch the checkpoint ends."""
    run_dir = Path(run_dir)
    meta = _read_checkpoint_meta(run_dir)
    path = run_dir / CHECKPOINT
    if not path.is_file():
        raise CheckpointError(f"The checkpoint file {path} is missing, so the run cannot resume. "
                              "Start the run again.")
    model.optimizer.build(model.trainable_variables)
    try:
        _checkpoint_view(model).load_weights(path)
    except Exception as exc:  # a damaged file fails in zip, h5 or shape checks
        raise CheckpointError(f"The checkpoint {path} is damaged and cannot be read "
                              f"({type(exc).__name__}: {exc}). Start the run again.") from None
    return _checkpoint_epoch(meta, int(model.optimizer.iterations.numpy()), steps_per_epoch, path)


def _read_checkpoint_meta(run_dir: Path) -> dict:
    path = run_dir / CHECKPOINT_META
    if not path.is_file():
        raise CheckpointError(f"This run has no checkpoint to resume from ({path} is missing): it "
                              "stopped before its first epoch ended. Start the run again.")
    try:
        meta = json.loads(path.read_text())
        int(meta["epoch"]), int(meta["iterations"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"The checkpoint record {path} is damaged ({exc}). "
                              "Start the run again.") from None
    return meta


def _checkpoint_epoch(meta: dict, iterations: int, steps_per_epoch: int, path: Path) -> int:
    """The epoch the loaded weights belong to.

    The .keras file is renamed into place just before the .json one; a kill between the two
    leaves weights one epoch newer than the record, which the optimizer's step count reveals.
    """
    epoch, recorded = int(meta["epoch"]), int(meta["iterations"])
    if iterations == recorded:
        return epoch
    if iterations == recorded + steps_per_epoch:
        return epoch + 1
    raise CheckpointError(f"The checkpoint {path} does not match its record (optimizer steps "
                          f"{iterations}, expected {recorded}). Start the run again.")


def save_model(model, path: Path, tcfg) -> None:
    """The final model as a plain Keras file with its optimizer (and the run's clipping)."""
    from rnnlab.model import loss, plain_model

    opt = model.optimizer
    # the training step clipped by itself; a plain Keras model needs it on its optimizer
    if tcfg.clipnorm:
        opt.clipnorm = tcfg.clipnorm
    elif tcfg.clipvalue:
        opt.clipvalue = tcfg.clipvalue
    view = plain_model(model)
    view.compile(optimizer=opt, loss=loss(tcfg.loss))
    _atomic_keras_save(view, Path(path))


# -- the per-epoch recorder ---------------------------------------------------------------------

_RECORDER = None


def recorder_class():
    """The RunRecorder callback class (defined on first use, so Keras loads lazily)."""
    global _RECORDER
    if _RECORDER is None:
        _RECORDER = _define_recorder()
    return _RECORDER


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


def _define_recorder():
    keras = backend.keras()

    class RunRecorder(keras.callbacks.Callback):
        """Each epoch to the store and a checkpoint; stops on cancel or divergence.

        Checks run at the end of every execution chunk (see `execution_plan`).
        """

        def __init__(self, store, run_id, run_dir, probe, steps_per_epoch, *, track=True,
                     progress=lambda: None):
            super().__init__()
            self.store, self.run_id, self.run_dir = store, run_id, Path(run_dir)
            self.probe, self.steps, self.track = probe, steps_per_epoch, track
            self.progress = progress                # the worker's heartbeat: training got on
            self.last_epoch = self.epoch = 0
            self.writer: EpochWriter | None = None
            self._t0 = time.perf_counter()
            self._next_check = 0.0

        def set_model(self, model):
            super().set_model(model)
            self.writer = EpochWriter(model, self.store, self.run_id, self.run_dir,
                                      self.probe if self.track else None)

        def on_train_begin(self, logs=None):
            self.writer.warm_up()

        @property
        def meter(self):
            return getattr(self.model, "meter", None) if self.track else None

        @property
        def lr(self) -> float:
            return float(np.asarray(self.model.optimizer.learning_rate))

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch + 1                      # 1-based, as in the store
            if self.meter is not None:
                self.meter.reset()
            self._t0 = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            # On JAX this runs after every step: look at most every CHECK_SECONDS, so the
            # steps stay asynchronous (reading the loss waits for the step to finish)
            now = time.perf_counter()
            if batch >= self.steps - 1 or now < self._next_check:
                return
            self._next_check = now + CHECK_SECONDS
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(loss):
                self._diverge(self.epoch, loss)
            if self.store.cancel_requested(self.run_id):
                # mid-epoch: the partial epoch is dropped; the last checkpoint stays valid
                raise _Stopped(RunStatus.CANCELLED, self.epoch - 1,
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
                raise _Stopped(RunStatus.CANCELLED, k,
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
            raise _Stopped(RunStatus.DIVERGED, k, (
                f"The loss became {what} at epoch {k}: the gradients exploded (the last global "
                f"gradient norm was {last}). Turn on gradient clipping (clipnorm 1.0) or lower "
                f"the learning rate (now {self.lr:g})."))

    return RunRecorder


# -- echo state networks ------------------------------------------------------------------------

def _train_esn(store, run_id, run_cfg: RunConfig, prepared) -> TrainOutcome:
    """Fit the reservoir's readout in one pass and record it as epoch 1 (no gradients)."""
    from rnnlab.esn import EchoStateNetwork

    t0 = time.perf_counter()
    x, y, val = _arrays(prepared)
    esn = EchoStateNetwork(run_cfg.model, x.shape[2], run_cfg.train.seed).fit(x, y)
    val_loss = _loss_value(run_cfg.train.loss, val[1], esn.predict(val[0])) if val else None
    store.update_run(run_id, epochs_total=1)
    store.add_epoch(run_id, 1, train_loss=_loss_value(run_cfg.train.loss, y, esn.predict(x)),
                    val_loss=val_loss, seconds=time.perf_counter() - t0)
    esn.save(store.run_dir(run_id) / ESN_FILE)
    return TrainOutcome(RunStatus.DONE, 1, "", model=esn, predict=esn.predict)


def _loss_value(name: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The run's loss (mse, mae or huber with delta 1) in numpy."""
    err = np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)  # (n, H)
    if name == "mae":
        return float(np.mean(np.abs(err)))
    if name == "huber":
        a = np.abs(err)
        return float(np.mean(np.where(a <= 1.0, 0.5 * err**2, a - 0.5)))
    return float(np.mean(err**2))
