"""A finished run written into a store by hand, as a worker would leave it, without training:
epochs with losses, learning rate and gradient norms, per-tensor and per-step gradient norms,
gradient through time, predictions.csv, forecast.csv, a model file and a summary with metrics.

The default is the seed tutorial's shape (4 × LSTM(50), lookback 60, 100 epochs on the Google
stock sample), so the report's size can be checked at the size of a real run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnnlab.config import RunConfig, preset
from rnnlab.store import RunStatus, Store
from rnnlab.summary import RunSummary
from rnnlab.artefacts import FREE_RUN, ONE_STEP, PREDICTION_COLUMNS
from statuses import set_status

EVIL_NAME = "<script>alert('x')</script> & \"quotes\""


def tensors(cfg: RunConfig) -> list[str]:
    """Weight tensor names as the trainer records them."""
    names = []
    for i in range(1, cfg.model.n_layers + 1):
        names += [f"lstm_{i}/kernel", f"lstm_{i}/recurrent_kernel", f"lstm_{i}/bias"]
    return names + ["dense/kernel", "dense/bias"]


def summary(test_actual: np.ndarray, test_model: np.ndarray, naive: np.ndarray) -> dict:
    """A worker's summary with test and validation metrics."""
    def scores(pred):
        err = test_actual - pred
        return {"rmse": float(np.sqrt(np.mean(err ** 2))), "mae": float(np.mean(np.abs(err))),
                "mape": float(np.mean(np.abs(err / test_actual)) * 100),
                "r2": float(1 - np.sum(err ** 2) / np.sum((test_actual - test_actual.mean()) ** 2)),
                "n": int(len(err))}

    test = {"model": scores(test_model), "naive": scores(naive),
            "linear_ar": scores(naive * 0.5 + test_model * 0.5),
            "mean": scores(np.full_like(test_actual, test_actual.mean()))}
    skill = 1 - test["model"]["rmse"] / test["naive"]["rmse"]
    return RunSummary().set(
        target="Open", data_source="google_stock_price_train.csv", epochs_done=0,
        seconds_per_epoch=0.8, params=71051, metrics={"test": test},
        skill_vs_naive=skill, best_baseline="naive",
        headline=f"The model's error is {1 - skill:.2f}× the naive forecast's <b>bold</b>.",
        sentence="It does better than repeating the last value.",
        transform="none", season=None, train_range={"min": 279.1, "max": 816.7},
        kind="one-step-ahead", baseline_notes={},
        notes=["A note with <img src=x onerror=alert(1)> in it."]).to_dict()


def make_run(store: Store, *, epochs: int = 100, name: str = EVIL_NAME,
             cfg: RunConfig | None = None, seed: int = 0) -> str:
    """A done run in `store`; returns its id."""
    rng = np.random.default_rng(seed)
    cfg = cfg or preset("seed-tutorial").replace(name=name)
    run_id = store.create_run(cfg.to_dict(), name=cfg.name, epochs_total=cfg.train.epochs)
    set_status(store, run_id, RunStatus.RUNNING)
    lookback = cfg.model.lookback
    for epoch in range(1, epochs + 1):
        steps = (0.5 + rng.random(38)) / epoch
        store.add_epoch(
            run_id, epoch, train_loss=0.05 / epoch + 0.001, val_loss=0.06 / epoch + 0.002,
            lr=1e-3 * 0.99 ** epoch, seconds=0.8 + 0.01 * epoch,
            grad_norm_mean=float(steps.mean()), grad_norm_max=float(steps.max()),
            tensor_norms={t: (0.01 * (i + 1) / epoch, 0.02 * (i + 1) / epoch)
                          for i, t in enumerate(tensors(cfg))},
            step_norms=steps.tolist(),
            through_time={s: (0.9 ** np.arange(lookback) * (k + 1) / epoch).tolist()
                          for k, s in enumerate(["input"] + [f"layer_{i}" for i in
                                                             range(1, cfg.model.n_layers + 1)])})
    store.add_event(run_id, "note", "An event mentioning <b>markup</b>.")
    times = pd.bdate_range("2017-01-03", periods=20)
    actual = 790 + np.cumsum(rng.normal(0, 5, 20))
    model = actual + rng.normal(0, 3, 20)
    naive = np.r_[786.0, actual[:-1]]
    one = pd.DataFrame({"split": "test", "kind": ONE_STEP, "timestamp": times.strftime("%Y-%m-%d"),
                        "step": 1, "actual": actual, "model": model, "naive": naive,
                        "mean": 550.0, "linear_ar": (naive + model) / 2})
    free = one.assign(kind=FREE_RUN, step=np.arange(1, 21), model=actual[0] + np.arange(20) * 0.5)
    pd.concat([one, free]).reindex(columns=PREDICTION_COLUMNS).to_csv(
        store.artefact(run_id, "predictions.csv"), index=False)
    future = pd.bdate_range(times[-1] + pd.offsets.BDay(), periods=30)
    pd.DataFrame({"timestamp": future.strftime("%Y-%m-%d"),
                  "forecast": actual[-1] + np.arange(30) * 0.3}).to_csv(
        store.artefact(run_id, "forecast.csv"), index=False)
    store.artefact(run_id, "model.keras").write_bytes(b"not really a model")
    result = summary(actual, model, naive)
    result["epochs_done"] = epochs
    set_status(store, run_id, RunStatus.DONE, summary=result)
    return run_id
