"""Helpers for the dashboard tests: finished runs written straight into a store, chart specs."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import pandas as pd

from rnnlab.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from rnnlab.store import RunStatus, Store
from rnnlab.ui import PAGE_TABLE
from statuses import set_status

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:      # the pages as modules: `from views import results`
    sys.path.insert(0, str(ROOT))
APP = str(ROOT / "app.py")
# The pages every smoke test opens, from the app's page table: the page the app opens first,
# then the others in the table's order. The Bring and Class board pages have their own tests
# (test_bring_page.py, test_class_pages.py).
PAGES = [page.file for page in PAGE_TABLE if page.name not in ("bring", "board")]
TENSORS = ["lstm_1/kernel", "lstm_1/recurrent_kernel", "lstm_1/bias", "dense/kernel", "dense/bias"]


def tiny_config(name: str = "", cell: str = "lstm", units: int = 8) -> RunConfig:
    """noisy_sine, lookback 10, one small layer, 3 epochs."""
    return RunConfig(name=name, data=DataConfig(source="noisy_sine.csv", target="value"),
                     model=ModelConfig(cell=cell, n_layers=1, units=units, lookback=10),
                     train=TrainConfig(epochs=3, batch_size=32, clipnorm=1.0))


def add_finished_run(store: Store, name: str = "tiny LSTM", cell: str = "lstm", units: int = 8,
                     status: RunStatus = RunStatus.DONE, rmse: float = 0.12,
                     message: str | None = None, features: tuple[str, ...] = (),
                     **summary_keys) -> str:
    """A run as the worker leaves it: epoch rows, gradient traces, artefacts, summary (with
    `message`, how its training ended, when given, and any other `summary_keys`); `features`
    are its other input columns."""
    cfg = tiny_config(name, cell, units)
    if features:
        cfg = cfg.replace(data={"features": features})
    run_id = store.create_run(cfg.to_dict(), name=name, epochs_total=3, data_sha256="abc")
    now = time.time()
    set_status(store, run_id, RunStatus.RUNNING, started_at=now - 30)
    fade = 1.5 if cell == "simple_rnn" else 4.0  # SimpleRNN's gradient fades faster
    for epoch in (1, 2, 3):
        store.add_epoch(
            run_id, epoch, train_loss=0.5 / epoch, val_loss=0.6 / epoch, lr=1e-3, seconds=2.0,
            grad_norm_mean=0.3 / epoch, grad_norm_max=0.9 / epoch,
            tensor_norms={t: (0.1 * (i + 1) / epoch, 0.2 * (i + 1) / epoch)
                          for i, t in enumerate(TENSORS)},
            step_norms=[0.3 / epoch + 0.01 * k for k in range(25)],
            through_time={"input": [0.1 * math.exp(-k / fade) / epoch for k in range(10)],
                          "layer_1": [0.2 * math.exp(-k / fade) / epoch for k in range(10)]})
    write_artefacts(store, run_id, cfg)
    metrics = {"model": {"rmse": rmse, "mae": rmse * 0.8, "mape": None, "r2": 0.9, "n": 100},
               "naive": {"rmse": 0.2, "mae": 0.16, "mape": None, "r2": 0.7, "n": 100},
               "seasonal_naive": {"rmse": 0.15, "mae": 0.12, "mape": None, "r2": 0.8, "n": 100},
               "mean": {"rmse": 0.7, "mae": 0.6, "mape": None, "r2": 0.0, "n": 100}}
    summary = {"metrics": {"test": metrics, "val": metrics}, "skill_vs_naive": 1 - rmse / 0.2,
               "sentence": f"The model's error is {rmse / 0.2:.2g}× the naive forecast's.",
               "params": 337, "target": "value", "data_source": "noisy_sine.csv",
               "seconds_per_epoch": 2.0}
    error = traceback = None
    if status == RunStatus.FAILED:
        error = "ValueError: boom"
        traceback = "Traceback (most recent call last):\nValueError: boom"
    if message:
        summary["message"] = message
    summary.update(summary_keys)
    if status == RunStatus.DIVERGED:
        summary["message"] = "The loss became NaN: exploding gradients. Try clipnorm=1.0."
    set_status(store, run_id, status, finished_at=now, summary=summary, error=error,
                     traceback=traceback)
    return run_id


def write_artefacts(store: Store, run_id: str, cfg: RunConfig) -> None:
    """config.json, predictions.csv (both kinds), forecast.csv and a stand-in model file."""
    store.artefact(run_id, "config.json").write_text(cfg.to_json())
    times = pd.date_range("2022-06-01", periods=40, freq="D")
    actual = [math.sin(2 * math.pi * t / 50) for t in range(40)]
    rows = []
    for kind in ("one-step-ahead", "free-running"):
        for i, (t, a) in enumerate(zip(times, actual)):
            rows.append({"split": "test", "kind": kind, "timestamp": t.isoformat(),
                         "step": 1 if kind == "one-step-ahead" else i + 1, "actual": a,
                         "model": a + 0.05, "naive": actual[i - 1] if i else a,
                         "seasonal_naive": None, "mean": 0.0,
                         "linear_ar": a + 0.02 if kind == "free-running" else None,
                         "origin": (t - pd.Timedelta(days=1)).isoformat()})
    pd.DataFrame(rows).to_csv(store.artefact(run_id, "predictions.csv"), index=False)
    future = pd.date_range(times[-1] + pd.Timedelta(days=1), periods=30, freq="D")
    pd.DataFrame({"timestamp": [t.isoformat() for t in future],
                  "forecast": [0.1] * 30}).to_csv(store.artefact(run_id, "forecast.csv"),
                                                 index=False)
    store.artefact(run_id, "model.keras").write_bytes(b"PK\x03\x04 not a real model")


def add_lesson_run(store: Store, lesson, label: str, status: RunStatus = RunStatus.DONE,
                   epochs: int = 3, rmse: float = 0.12) -> str:
    """One run of a lesson as the worker leaves it, with the lesson's config and run name: epoch
    rows, gradient traces as long as its window, predictions for its horizon, a summary."""
    cfg = dict(lesson.runs)[label]
    m = cfg.model
    run_id = store.create_run(cfg.to_dict(), name=lesson.run_name(label), epochs_total=epochs,
                              data_sha256="abc")
    now = time.time()
    set_status(store, run_id, RunStatus.RUNNING, started_at=now - 10 * epochs)
    fade = {"simple_rnn": 3.0, "esn": 1.0}.get(m.cell, 30.0)  # SimpleRNN's gradient fades fast
    diverged = status == RunStatus.DIVERGED
    for epoch in range(1, epochs + 1):
        broken = diverged and epoch == epochs
        store.add_epoch(
            run_id, epoch, train_loss=float("nan") if broken else 0.5 / epoch,
            val_loss=float("nan") if broken else 0.6 / epoch, lr=1e-3,
            seconds=0.02 * m.lookback + 0.5, grad_norm_mean=0.3 * (10 ** epoch if diverged else 1),
            grad_norm_max=0.9 * (10 ** epoch if diverged else 1),
            tensor_norms={f"{m.cell}_1/{t}": (0.1 / epoch, 0.2 / epoch)
                          for t in ("kernel", "recurrent_kernel", "bias")},
            step_norms=[(0.5 * 1.5 ** (k + 20 * epoch) if diverged else 0.3 / epoch + 0.01 * k)
                        for k in range(20)],
            through_time={"input": [0.1 * math.exp(-k / fade) / epoch for k in range(m.lookback)],
                          "layer_1": [0.2 * math.exp(-k / fade) / epoch
                                      for k in range(m.lookback)]})
    summary = {"target": cfg.data.target or "value", "data_source": cfg.data.source,
               "params": 100, "seconds_per_epoch": 0.02 * m.lookback + 0.5}
    if diverged:
        summary["message"] = ("The loss became NaN at epoch 3: the gradients exploded. Turn on "
                              "clipnorm (e.g. 1.0) or lower the learning rate.")
    elif status == RunStatus.DONE:
        store.artefact(run_id, "config.json").write_text(cfg.to_json())
        write_lesson_predictions(store, run_id, m.horizon)
        metrics = {"model": {"rmse": rmse, "mae": rmse * 0.8, "mape": None, "r2": 0.9, "n": 40},
                   "naive": {"rmse": 0.2, "mae": 0.16, "mape": None, "r2": 0.7, "n": 40}}
        summary.update(metrics={"test": metrics}, skill_vs_naive=1 - rmse / 0.2,
                       sentence=f"The model's error is {rmse / 0.2:.2g}× the naive forecast's.")
    set_status(store, run_id, status, finished_at=now, summary=summary, epochs_done=epochs)
    return run_id


def write_lesson_predictions(store: Store, run_id: str, horizon: int, n: int = 40) -> None:
    """predictions.csv as the worker writes it: n test windows of `horizon` steps (teacher
    forced), then a free-running trajectory of n steps."""
    times = pd.date_range("2022-06-01", periods=n + horizon, freq="D")
    actual = [math.sin(2 * math.pi * t / 25) for t in range(n + horizon)]
    rows = []
    for w in range(n):
        for step in range(1, horizon + 1):
            t = w + step - 1
            rows.append({"split": "test", "kind": "one-step-ahead",
                         "timestamp": times[t].isoformat(),
                         "step": step, "actual": actual[t], "model": actual[t] + 0.02 * step,
                         "naive": actual[w - 1] if w else actual[0], "seasonal_naive": None,
                         "mean": 0.0, "origin": times[max(w - 1, 0)].isoformat()})
    for t in range(n):
        rows.append({"split": "test", "kind": "free-running", "timestamp": times[t].isoformat(),
                     "step": t + 1, "actual": actual[t], "model": actual[t] * 0.97 ** t,
                     "naive": actual[0], "seasonal_naive": None, "mean": 0.0,
                     "origin": times[0].isoformat()})
    pd.DataFrame(rows).to_csv(store.artefact(run_id, "predictions.csv"), index=False)


def plotly_specs(at) -> dict:
    """Plotly charts on the page by key -> their figure spec (the JSON Streamlit sends)."""
    import json

    out = {}
    for el in at.get("plotly_chart"):
        out[el.proto.id.split("-")[-1] if not el.key else el.key] = json.loads(el.proto.spec)
    return out


def values(array) -> list:
    """A Plotly JSON array as a list; typed arrays ({dtype, bdata}) are decoded."""
    import base64

    import numpy as np

    if isinstance(array, dict) and "bdata" in array:
        flat = np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"]))
        shape = array.get("shape")
        if shape:
            flat = flat.reshape([int(n) for n in str(shape).split(",")])
        return flat.tolist()
    return list(array)


def open_page(page: str, query: dict | None = None, timeout: float = 60) -> "AppTest":
    """The app run once through app.py (with `query` in the link), then switched to `page`."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page != PAGES[0]:
        at.switch_page(page)
        at.run()
    return at
