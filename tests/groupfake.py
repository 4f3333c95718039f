"""A seeds group written into a store by hand, as the runner and its workers would leave it,
without training: one finished run per seed with its own loss curve and test scores."""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from rnnlab import jobs
from rnnlab.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from rnnlab.store import RunStatus, Store
from statuses import set_status

NAIVE_RMSE = 0.2


def group_config(name: str = "tiny LSTM", seed: int = 42, epochs: int = 6,
                 source: str = "noisy_sine.csv", target: str = "value") -> RunConfig:
    return RunConfig(name=name, data=DataConfig(source=source, target=target),
                     model=ModelConfig(cell="lstm", n_layers=1, units=8, lookback=10),
                     train=TrainConfig(epochs=epochs, batch_size=32, seed=seed))


def loss_curves(n: int, epochs: int, seed: int = 0) -> np.ndarray:
    """(n runs, epochs, 2): train and validation loss of each run, each a little different."""
    rng = np.random.default_rng(seed)
    e = np.arange(1, epochs + 1)
    out = np.empty((n, epochs, 2))
    for i in range(n):
        scale = 0.3 + 0.4 * rng.random()
        out[i, :, 0] = scale / e + 0.01 * rng.random(epochs)
        out[i, :, 1] = 1.2 * scale / e + 0.02 * rng.random(epochs)
    return out


def add_seed_group(store: Store, rmses: list[float | None], *, name: str = "tiny LSTM",
                   epochs: int = 6, cfg: RunConfig | None = None, curves: np.ndarray | None = None,
                   statuses: list[RunStatus] | None = None,
                   artefacts: Callable[[Store, str, RunConfig], None] | None = None
                   ) -> tuple[str, list[str]]:
    """A seeds group of len(rmses) runs queued by `jobs.submit_seeds`, then finished by hand:
    run i gets test RMSE rmses[i] (naive 0.2, so skill 1 − rmse/0.2) and curves[i] as its loss."""
    cfg = cfg or group_config(name, epochs=epochs)
    n = len(rmses)
    curves = loss_curves(n, epochs) if curves is None else curves
    statuses = statuses or [RunStatus.DONE] * n
    group_id, run_ids = jobs.submit_seeds(store, cfg, n, check_data=False)
    now = time.time()
    for i, run_id in enumerate(run_ids):
        status, rmse = statuses[i], rmses[i]
        if status == RunStatus.QUEUED:
            continue
        set_status(store, run_id, RunStatus.RUNNING, started_at=now - 30)
        for e in range(curves.shape[1]):
            store.add_epoch(run_id, e + 1, train_loss=float(curves[i, e, 0]),
                            val_loss=float(curves[i, e, 1]), lr=1e-3, seconds=1.0)
        if status == RunStatus.RUNNING:
            continue
        summary: dict = {"target": cfg.data.target, "data_source": cfg.data.source,
                         "params": 337}
        if status == RunStatus.DONE and rmse is not None:
            metrics = {"model": {"rmse": rmse, "mae": rmse * 0.8, "mape": None, "r2": 0.9,
                                 "n": 100},
                       "naive": {"rmse": NAIVE_RMSE, "mae": 0.16, "mape": None, "r2": 0.7,
                                 "n": 100}}
            summary.update(metrics={"test": metrics, "val": metrics},
                           skill_vs_naive=1 - rmse / NAIVE_RMSE)
            if artefacts is not None:
                artefacts(store, run_id, cfg)
        set_status(store, run_id, status, finished_at=now, summary=summary,
                   **({"error": "ValueError: boom"} if status == RunStatus.FAILED else {}))
    return group_id, run_ids
