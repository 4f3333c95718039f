"""Train one run: seed, build, fit, and write every epoch to the run store as it ends.

`train_run` is called by the worker inside its catch-all. Per epoch the recorder
(`rnnlab.nn.callbacks`) records the losses, the learning rate, the time, the gradient telemetry
(per-tensor norms, the global norm of every step, the gradient through time on a fixed probe
batch) and a checkpoint with the optimizer state (`rnnlab.nn.checkpoint`). Between execution
chunks (a few batches, see `execution_plan`) it checks for a cancel request and for a NaN/inf
loss. It returns a `TrainOutcome`; statuses are set by the worker.

Files in the run folder:
  checkpoint.keras  the model after the last finished epoch, with the optimizer state
  checkpoint.json   {"epoch": k, "iterations": optimizer steps so far}
  model.keras       the final model (best weights when early stopping), loadable without rnnlab
  model.npz         the echo state network instead (a cell fitted in one pass, rnnlab.cells)

Keras (on JAX or TensorFlow, see `rnnlab.backend`) is imported inside functions only.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from rnnlab import backend
from rnnlab import cells
from rnnlab.config import RunConfig
from rnnlab.errors import CheckpointError, DataError
from rnnlab.artefacts import (CHECKPOINT, CHECKPOINT_META, ESN_FILE, MODEL_FILE,  # noqa: F401
                              read_checkpoint_meta)
from rnnlab.nn.checkpoint import EpochWriter, atomic_keras_save, checkpoint_view
from rnnlab.store import RunStatus, Store
PROBE_SIZE = 32                 # windows in the gradient-through-time probe batch
CHUNK_SECONDS = 1.0             # aim for a cancel check at least this often
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
    if cells.get(run_cfg.model.cell).fitted:
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

    from rnnlab.nn.callbacks import RunRecorder, Stopped
    from rnnlab.nn.model import build_model, start_linear_skip

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
    probe = probe_batch(x, y, tcfg.seed)
    writer = EpochWriter(model, store, run_id, run_dir, probe if tcfg.track_gradients else None)
    recorder = RunRecorder(store, run_id, writer, steps, track=tcfg.track_gradients,
                           progress=progress)
    early = _early_stopping(tcfg, val is not None)
    weights = None
    if backend_name == "jax":   # one batch shape, so one compiled step (see pad_to_batches)
        x, y, weights = pad_to_batches(x, y, tcfg.batch_size)
        val = pad_to_batches(*val, tcfg.batch_size) if val is not None else None
    start_weights = None
    if early is not None and mcfg.linear_skip and val is not None and not resume:
        # the start is the least-squares fit: a change is kept only where validation agrees
        early.start_loss = _validation_loss(model, val, tcfg.batch_size)
        start_weights = model.get_weights()
    try:
        model.fit(x, y, sample_weight=weights, batch_size=tcfg.batch_size, epochs=tcfg.epochs,
                  initial_epoch=start, validation_data=val, shuffle=True, verbose=0,
                  callbacks=[recorder] + ([early] if early else []))
    except Stopped as stop:
        return TrainOutcome(stop.status, stop.epochs_done, stop.message, model=model)
    finally:
        writer.wait()      # the last checkpoint is on disk before we return
    done = max(start, recorder.last_epoch)
    message = _early_stop_message(early, val is not None)
    if start_weights is not None and early.best_epoch >= 0 and x.shape[2] == 1:
        # only the target as input: with other columns, a forecast fed on its own outputs holds
        # them at their last value, an assumption the network is not to blame for
        kept = keep_start_if_it_runs_better(model, prepared, start_weights, early.best_epoch + 1)
        if kept:
            message = f"{message} {kept}".strip()
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
    saves a part of each epoch (bench/train_speed.py runs with this plan).

    On JAX every step is compiled by XLA. On TensorFlow, XLA shortens an epoch but
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
    loss averaged over the weights (`rnnlab.nn.model.loss`), every step's loss and gradient are
    those of its real rows; shuffling spreads the few pad rows over the batches.
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


FREE_RUN_SHARE = 0.5     # steps run forward from each validation origin, as a share of the part


def _early_stopping(tcfg, has_val: bool):
    """Keras' early stopping that also counts the starting weights (see
    `rnnlab.nn.callbacks.EarlyStoppingFromStart`), or None when patience is 0."""
    if not tcfg.early_stopping_patience:
        return None
    from rnnlab.nn.callbacks import EarlyStoppingFromStart

    return EarlyStoppingFromStart(monitor="val_loss" if has_val else "loss",
                                  patience=tcfg.early_stopping_patience,
                                  restore_best_weights=True)


def _validation_loss(model, val, batch_size: int) -> float:
    """The compiled loss on the validation windows (x, y[, sample weights])."""
    x_val, y_val, *w = val
    scores = model.evaluate(x_val, y_val, sample_weight=w[0] if w else None,
                            batch_size=batch_size, verbose=0, return_dict=True)
    return float(scores["loss"])


def keep_start_if_it_runs_better(model, prepared, start_weights, epoch: int) -> str:
    """Run the trained model and its starting weights (the linear path's least-squares fit)
    forward over the validation rows, each feeding on its own forecasts. If the start errs
    less, the trained corrections pile up instead of helping: go back to the start and say so
    (else "")."""
    from rnnlab.evaluate import format_number

    trained_weights = model.get_weights()
    # a predict function per set of weights: on JAX it holds the weights it was made with
    trained = free_running_validation_error(prepared, predict_function(model))
    model.set_weights(start_weights)
    linear = free_running_validation_error(prepared, predict_function(model))
    if not (np.isfinite(linear) and (linear < trained or not np.isfinite(trained))):
        model.set_weights(trained_weights)
        return ""
    return (f"Run forward over the validation rows on its own forecasts, the starting weights "
            f"(the linear path's least-squares fit) erred {format_number(linear)} against "
            f"{format_number(trained)} for epoch {epoch}'s, so the run keeps the starting "
            "weights instead.")


def free_running_validation_error(prepared, predict_fn) -> float:
    """RMSE in the data's units of forecasts fed on their own outputs across the validation
    rows: from every validation row that leaves FREE_RUN_SHARE of the part ahead of it, that
    many steps (at least the horizon). NaN when there are no validation rows."""
    from rnnlab.evaluate import roll

    n_val = int(prepared.n_val)
    steps = max(int(prepared.horizon), int(n_val * FREE_RUN_SHARE))
    if n_val < steps or steps < 1:
        return float("nan")
    first = int(prepared.n_train)
    origins = np.arange(first, first + n_val - steps + 1)                  # (n,)
    path = roll(prepared, predict_fn, origins, steps)                       # (n, steps)
    rows = origins[:, None] + np.arange(steps)                              # (n, steps)
    actual = np.asarray(prepared.values, dtype=float)[rows, 0]              # (n, steps)
    return float(np.sqrt(np.mean((path - actual) ** 2)))


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


# -- checkpoints and the final model -------------------------------------------------------

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
        checkpoint_view(model).load_weights(path)
    except Exception as exc:  # a damaged file fails in zip, h5 or shape checks
        raise CheckpointError(f"The checkpoint {path} is damaged and cannot be read "
                              f"({type(exc).__name__}: {exc}). Start the run again.") from None
    return _checkpoint_epoch(meta, int(model.optimizer.iterations.numpy()), steps_per_epoch, path)


def _read_checkpoint_meta(run_dir: Path) -> dict:
    path = run_dir / CHECKPOINT_META
    try:
        return read_checkpoint_meta(run_dir)
    except FileNotFoundError:
        raise CheckpointError(f"This run has no checkpoint to resume from ({path} is missing): it "
                              "stopped before its first epoch ended. Start the run again.") from None
    except ValueError as exc:
        raise CheckpointError(f"The checkpoint record {path} is damaged ({exc}). "
                              "Start the run again.") from None


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
    from rnnlab.nn.model import loss, plain_model

    opt = model.optimizer
    # the training step clipped by itself; a plain Keras model needs it on its optimizer
    if tcfg.clipnorm:
        opt.clipnorm = tcfg.clipnorm
    elif tcfg.clipvalue:
        opt.clipvalue = tcfg.clipvalue
    view = plain_model(model)
    view.compile(optimizer=opt, loss=loss(tcfg.loss))
    atomic_keras_save(view, Path(path))


# -- echo state networks ------------------------------------------------------------------------

def _train_esn(store, run_id, run_cfg: RunConfig, prepared) -> TrainOutcome:
    """Fit the reservoir's readout in one pass and record it as epoch 1 (no gradients)."""
    from rnnlab.nn.esn import EchoStateNetwork

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
