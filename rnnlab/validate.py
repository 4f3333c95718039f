"""Check a run against its data before it is queued, so a bad setting never reaches a worker.

`RunConfig` already refuses settings that are wrong on their own (horizon 0, dropout 1.0, a
learning rate of 0, 100,000 epochs). What is left depends on the data: whether the lookback fits
the training part and whether the windows fit in memory. A batch larger than the training
windows is not refused: the run trains on batches of all its windows and its notes say so. `check_run_feasible` prepares the data once (no TensorFlow) and checks those, raising
an `RnnlabError` that says what is wrong and what to change.
"""

from __future__ import annotations

from rnnlab import cells
from rnnlab.config import RunConfig
from rnnlab.data import Prepared, prepare
from rnnlab.errors import ConfigError

MAX_WINDOW_BYTES = 2 * 1024 ** 3   # the float32 copy of the windows a worker trains on
FLOAT32_BYTES = 4
TYPICAL_BATCH = 32


def check_run_feasible(run_cfg: RunConfig) -> Prepared:
    """Prepare the run's data and check the settings against it; the Prepared data if they fit.

    Raises DataError when the data cannot be used or is too short for the lookback and horizon,
    and ConfigError when the memory of the windows does not fit the data.
    """
    if not isinstance(run_cfg, RunConfig):
        raise ConfigError(f"A run needs a RunConfig. Received: {type(run_cfg).__name__}")
    prepared = prepare(run_cfg.data, run_cfg.model.lookback, run_cfg.model.horizon)
    check_window_memory(run_cfg, prepared)
    return prepared


def suggest_batch_size(n_windows: int) -> int:
    """A batch size for `n_windows` training windows: the largest power of two <= min(32, n)."""
    limit = max(1, min(TYPICAL_BATCH, n_windows))
    return 1 << (limit.bit_length() - 1)


def effective_batch_size(run_cfg: RunConfig, n_windows: int) -> int:
    """The batch size a run trains with: the configured one, capped to the training windows."""
    return max(1, min(run_cfg.train.batch_size, n_windows))


def batch_note(run_cfg: RunConfig, n_windows: int) -> str | None:
    """A note for the run when its batch is larger than the training windows (ESN: never)."""
    batch = run_cfg.train.batch_size
    if cells.get(run_cfg.model.cell).fitted or batch <= n_windows:
        return None                  # an echo state network fits all windows at once
    return (f"The batch size {batch:,} is larger than the {n_windows:,} training windows, so it "
            f"trains on batches of {n_windows:,} (every window, once per epoch). A smaller batch, "
            f"such as {suggest_batch_size(n_windows)}, usually learns more per epoch.")


def loop_note(run_cfg: RunConfig, fast_loops: bool) -> str | None:
    """A note for the run when some of its layers leave rnnlab's fast loops for Keras' own,
    slower one (recurrent dropout, the backward half of a bidirectional layer: see
    `cells.own_loop_note`); None when the run has no fast loops to leave (`fast_loops` False:
    TensorFlow, a GPU, RNNLAB_FAST_KERNELS=0) or keeps them in every layer."""
    return cells.own_loop_note(run_cfg.model) if fast_loops else None


def fast_loops_expected() -> bool:
    """Whether a worker is to train with rnnlab's fast loops, as far as the web process can
    tell without loading JAX: JAX chosen or installed, RNNLAB_FAST_KERNELS not off."""
    from rnnlab import backend
    from rnnlab.nn import kernels

    try:
        return backend.wanted() == "jax" and kernels.wanted()
    except ConfigError:          # a bad RNNLAB_BACKEND: the worker says so when it starts
        return False


def window_bytes(prepared: Prepared) -> int:
    """Memory of the float32 training and validation windows a worker copies out of the series."""
    n_windows = len(prepared.X_train) + len(prepared.X_val)
    n_features = prepared.values.shape[1]
    return n_windows * prepared.lookback * n_features * FLOAT32_BYTES


def check_window_memory(run_cfg: RunConfig, prepared: Prepared) -> None:
    """ConfigError when the windows would not fit in memory, with the numbers that make them up."""
    needed = window_bytes(prepared)
    if needed <= MAX_WINDOW_BYTES:
        return
    n_windows = len(prepared.X_train) + len(prepared.X_val)
    raise ConfigError(f"The training windows would take {_size(needed)} of memory "
                      f"({n_windows:,} windows × lookback {prepared.lookback} × "
                      f"{prepared.values.shape[1]} input columns × 4 bytes); the limit is "
                      f"{_size(MAX_WINDOW_BYTES)}. Lower the lookback, use fewer input columns, or "
                      f"train on a shorter span. Received: lookback={run_cfg.model.lookback}")


def _size(n_bytes: int) -> str:
    """'2.0 GB', '310.5 MB' or '48.8 kB'."""
    for unit, power in (("GB", 3), ("MB", 2)):
        if n_bytes >= 1024 ** power:
            return f"{n_bytes / 1024 ** power:.1f} {unit}"
    return f"{n_bytes / 1024:.1f} kB"
