"""Finished runs written straight into a store (no training), for page and load benchmarks."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from rnnlab import artefacts, lifecycle
from rnnlab.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from rnnlab.store import RunStatus, Store

TENSORS = [f"lstm_{i}/{k}" for i in (1, 2) for k in ("kernel", "recurrent_kernel", "bias")] + [
    "dense/kernel", "dense/bias"]


def add_runs(store: Store, n: int, epochs: int = 20, lookback: int = 30) -> list[str]:
    """n done runs with epoch rows, gradient traces, predictions and a summary."""
    ids = []
    for i in range(n):
        cfg = _config(i, epochs, lookback)
        run_id = store.create_run(cfg.to_dict(), name=cfg.name, epochs_total=epochs)
        _finish(store, run_id, cfg, epochs, lookback)
        ids.append(run_id)
    return ids


GROUP_KINDS = ("seeds", "sweep", "backtest")


def add_groups(store: Store, n_groups: int, size: int = 3, epochs: int = 20,
               lookback: int = 30) -> list[str]:
    """n_groups finished groups of `size` runs each, of every kind in turn; their ids."""
    group_ids = []
    for g in range(n_groups):
        kind = GROUP_KINDS[g % len(GROUP_KINDS)]
        configs = [_config(1000 + g * size + k, epochs, lookback) for k in range(size)]
        if kind == "sweep":
            configs = [c.replace(model={"units": 8 * (k + 1)}) for k, c in enumerate(configs)]
        if kind == "backtest":
            configs = [c.replace(data={"end_row": 800 + 100 * k, "test_fraction": 0.1})
                       for k, c in enumerate(configs)]
        group_id, run_ids = store.create_group(
            [c.to_dict() for c in configs], kind=kind, label=f"{kind} group {g}",
            names=[c.name for c in configs], epochs_total=[epochs] * size)
        for run_id, cfg in zip(run_ids, configs):
            _finish(store, run_id, cfg, epochs, lookback)
        group_ids.append(group_id)
    return group_ids


def _config(i: int, epochs: int, lookback: int) -> RunConfig:
    return RunConfig(name=f"run {i}", data=DataConfig(source="noisy_sine.csv", target="value"),
                     model=ModelConfig(n_layers=2, units=16 + i % 3, lookback=lookback),
                     train=TrainConfig(epochs=epochs, seed=i))


def _finish(store: Store, run_id: str, cfg: RunConfig, epochs: int, lookback: int) -> None:
    """A queued run taken through its life: epochs, traces, artefacts, summary, done."""
    lifecycle.start(store, run_id, started_at=time.time() - 60)
    for epoch in range(1, epochs + 1):
        store.add_epoch(run_id, epoch, train_loss=1 / epoch, val_loss=1.2 / epoch, lr=1e-3,
                        seconds=0.5, grad_norm_mean=0.5, grad_norm_max=1.0,
                        tensor_norms={t: (0.1, 0.2) for t in TENSORS},
                        step_norms=[0.5] * 25,
                        through_time={s: [math.exp(-k / 10) for k in range(lookback)]
                                      for s in ("input", "layer_1")})
    _artefacts(store, run_id, cfg)
    metrics = {"model": {"rmse": 0.1, "mae": 0.08, "mape": None, "r2": 0.9, "n": 90},
               "naive": {"rmse": 0.12, "mae": 0.1, "mape": None, "r2": 0.85, "n": 90}}
    lifecycle.finish(store, run_id, RunStatus.DONE, summary={
        "metrics": {"test": metrics}, "skill_vs_naive": 1 - 0.1 / 0.12,
        "sentence": "The model's error is 0.83× the naive forecast's.", "params": 3000,
        "target": "value", "data_source": "noisy_sine.csv", "seconds_per_epoch": 0.5})


def _artefacts(store: Store, run_id: str, cfg: RunConfig) -> None:
    store.artefact(run_id, artefacts.CONFIG).write_text(cfg.to_json())
    times = pd.date_range("2022-06-01", periods=90, freq="D")
    actual = np.sin(np.arange(90) * 2 * np.pi / 50)
    frame = pd.DataFrame({"split": "test", "kind": artefacts.ONE_STEP,
                          "timestamp": [t.isoformat() for t in times], "step": 1,
                          "actual": actual, "model": actual + 0.05,
                          "naive": np.r_[actual[0], actual[:-1]], "seasonal_naive": None,
                          "mean": 0.0, "origin": [t.isoformat() for t in times]})
    frame.to_csv(store.artefact(run_id, artefacts.PREDICTIONS), index=False)
    future = pd.date_range(times[-1] + pd.Timedelta(days=1), periods=30, freq="D")
    pd.DataFrame({"timestamp": [t.isoformat() for t in future],
                  "forecast": np.sin(np.arange(30))}).to_csv(
        store.artefact(run_id, artefacts.FORECAST), index=False)
