"""Small helpers for the training tests: windows from an array, a run in a temporary store."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from rnnlab.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from rnnlab.store import RunStatus, Store
from statuses import set_status


def one_thread() -> None:
    """Keep the backend on one thread (other test processes share the two cores).

    On JAX, `backend.use()` (tests/conftest.py) already asked XLA for one thread.
    """
    from rnnlab import backend

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if backend.active() != "tensorflow":
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already started: keep its pools
        pass


@dataclass
class Windows:
    """The part of data.Prepared that training reads."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    lookback: int
    horizon: int
    scaled: np.ndarray


def windows(series: np.ndarray, lookback: int, horizon: int = 1, val: int = 0,
            test: int = 0) -> Windows:
    """Chronological windows of a (T,) or (T, F) series; the last `val`/`test` windows held out."""
    s = np.asarray(series, dtype="float32")
    s = s[:, None] if s.ndim == 1 else s                                     # (T, F)
    n = len(s) - lookback - horizon + 1
    X = np.stack([s[i:i + lookback] for i in range(n)])                      # (n, L, F)
    y = np.stack([s[i + lookback:i + lookback + horizon, 0] for i in range(n)])  # (n, H)
    a, b = n - val - test, n - test
    return Windows(X[:a], y[:a], X[a:b], y[a:b], X[b:], y[b:], lookback, horizon, s)


def sine(n_rows: int = 120, period: float = 20.0, noise: float = 0.0, seed: int = 0):
    """A sine in [0, 1] with optional noise: (T,)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_rows)
    return 0.5 + 0.4 * np.sin(2 * np.pi * t / period) + noise * rng.normal(size=n_rows)


def run_config(epochs: int = 2, **model_and_train) -> RunConfig:
    """A tiny LSTM run; keyword arguments go to ModelConfig or TrainConfig by name."""
    model_keys = set(ModelConfig.__dataclass_fields__)
    model = {k: v for k, v in model_and_train.items() if k in model_keys}
    train = {k: v for k, v in model_and_train.items() if k not in model_keys}
    model = {"cell": "lstm", "n_layers": 1, "units": 4, "lookback": 10, **model}
    train = {"epochs": epochs, "batch_size": 16, **train}
    return RunConfig(data=DataConfig(), model=ModelConfig(**model), train=TrainConfig(**train))


def new_run(store: Store, cfg: RunConfig) -> str:
    """A run in the store, marked running as the worker would."""
    run_id = store.create_run(cfg.to_dict(), epochs_total=cfg.train.epochs)
    set_status(store, run_id, RunStatus.RUNNING)
    return run_id


def two_column_airline():
    """Airline passengers with a second input column (a wave), written to a temp file."""
    import tempfile
    from pathlib import Path

    import pandas as pd

    root = Path(__file__).resolve().parents[2]
    path = Path(tempfile.gettempdir()) / f"rnnlab-airline-wave-{os.getpid()}.csv"
    frame = pd.read_csv(root / "sample_data" / "airline_passengers.csv")
    frame["wave"] = np.sin(np.arange(len(frame)) / 3.0)
    frame.to_csv(path, index=False)
    return path
