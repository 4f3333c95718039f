"""Training speed: the plain tutorial Keras script vs rnnlab's train_run, per epoch.

The model is the classic one: 4 x LSTM(50) with Dropout 0.2, Dense(1), input (60, 1), Adam, MSE,
batch 32, on the 1198 windows of the Google 2012-2016 Open prices (synthetic windows of the
same shape if the data module cannot load them). Each measurement is a fresh subprocess; the
two kinds alternate so a busy machine slows both alike. A per-epoch time is the wall time from
one epoch's end to the next's in the training thread, so rnnlab's is charged for everything it
does at an epoch's end; its store row, probe and checkpoint are written by a background thread
while the next epoch trains, and the next epoch's end waits for them. The first epoch (compilation) is
reported apart, and so is the process CPU time per epoch, which a busy machine disturbs less
than the wall time. Goal: rnnlab <= 0.5 x the tutorial script (wall time per epoch). The tutorial
runs on Keras' default backend (TensorFlow); rnnlab on its own (JAX when installed) and, for
comparison, with Keras' own loops and dropout masks in place of rnnlab.nn.kernels'
(RNNLAB_FAST_KERNELS=0), and on TensorFlow too.

    python bench/train_speed.py [--reps 3] [--epochs 6] [--threads 0] [--spe K]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.common import record, run_json, show  # noqa: E402

GOAL = 0.5
LOOKBACK = 60


def tutorial_windows():
    """(X (1198, 60, 1), y (1198, 1), source): the tutorial's MinMax-scaled Open windows."""
    try:
        from rnnlab import data
        from rnnlab.config import preset

        prepared = data.prepare(preset("seed-tutorial").data, LOOKBACK, 1)
        return prepared.X_train, prepared.y_train, "google_stock_price_train.csv"
    except Exception:  # the data module is not ready: same shapes, synthetic values
        rng = np.random.default_rng(0)
        series = np.cumsum(rng.normal(size=1258))
        series = (series - series.min()) / (series.max() - series.min())       # (T,)
        X = np.stack([series[i - LOOKBACK:i] for i in range(LOOKBACK, 1258)])[:, :, None]
        return X, series[LOOKBACK:, None], "synthetic"


# -- children (each in a fresh interpreter) ------------------------------------------------------

def child_plain(epochs: int) -> dict:
    """The tutorial script as written: Sequential, model.fit, default verbosity and threads."""
    import keras

    X, y, source = tutorial_windows()
    stamps = []

    class Stamp(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            stamps.append((time.perf_counter(), time.process_time()))

    regressor = keras.Sequential([keras.Input((LOOKBACK, 1))])
    for i in range(4):
        regressor.add(keras.layers.LSTM(50, return_sequences=i < 3))
        regressor.add(keras.layers.Dropout(0.2))
    regressor.add(keras.layers.Dense(1))
    regressor.compile(optimizer="adam", loss="mean_squared_error")
    start = time.perf_counter()
    regressor.fit(X, y, epochs=epochs, batch_size=32, callbacks=[Stamp()])
    return _result("tutorial script", start, stamps, source, len(X))


def child_rnnlab(epochs: int, spe: int | None) -> dict:
    """rnnlab.train.train_run on the seed-tutorial preset, gradient tracking on."""
    from rnnlab import train
    from rnnlab.config import preset
    from rnnlab.store import RunStatus, Store

    X, y, source = tutorial_windows()
    cfg = preset("seed-tutorial").replace(train={"epochs": epochs, "track_gradients": True})
    stamps = []

    submit = train.EpochWriter.submit

    def timed_submit(writer, epoch, row):   # at each epoch's end, in the training thread
        submit(writer, epoch, row)
        stamps.append((time.perf_counter(), time.process_time()))

    train.EpochWriter.submit = timed_submit

    if spe:
        choose = train.execution_plan
        train.execution_plan = lambda *a: dataclasses.replace(choose(*a), steps_per_execution=spe)
    empty = np.zeros((0, LOOKBACK, 1), dtype="float32")
    windows = argparse.Namespace(X_train=X, y_train=y, X_val=empty, y_val=empty[:, 0, :],
                                 X_test=empty, y_test=empty[:, 0, :], lookback=LOOKBACK,
                                 horizon=1, scaled=None)
    with tempfile.TemporaryDirectory(prefix="rnnlab-bench-") as home:
        store = Store(home)
        run_id = store.create_run(cfg.to_dict(), epochs_total=epochs, status=RunStatus.RUNNING)
        start = time.perf_counter()
        outcome = train.train_run(store, run_id, cfg, windows)
    assert outcome.status == RunStatus.DONE, outcome
    from rnnlab import backend
    from rnnlab.nn import kernels

    name = backend.active()
    plan = train.execution_plan(cfg, len(X), 1, name)
    loop = "" if name != "jax" else (", rnnlab.kernels" if kernels.install()
                                     else ", Keras' own loops and dropout")
    return {**_result(f"rnnlab train_run on {name}{loop}", start, stamps, source, len(X)),
            "steps_per_execution": plan.steps_per_execution, "jit_compile": plan.jit_compile,
            "backend": name}


def _result(kind: str, start: float, stamps: list[tuple], source: str, n: int) -> dict:
    """Per-epoch wall and CPU seconds from (wall, cpu) stamps at each epoch's end."""
    import resource

    wall, cpu = np.array(stamps).T                                     # (epochs,) each
    per_epoch = np.diff(wall).tolist()
    return {"kind": kind, "first_epoch_s": wall[0] - start, "epoch_s": per_epoch,
            "median_s": float(np.median(per_epoch)), "cpu_s": float(np.median(np.diff(cpu))),
            "windows": n, "data": source,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# -- parent ---------------------------------------------------------------------------------------

def main(reps: int = 3, epochs: int = 6, threads: int = 0, spe: int | None = None,
         jit: str = "1", tf_too: bool = True) -> list[dict]:
    """Alternate the kinds `reps` times; print and record per-epoch medians and the ratio.

    The tutorial script runs on Keras' default backend, TensorFlow, as written. rnnlab runs on
    its own backend (JAX when installed, see rnnlab.backend); with tf_too it also runs on
    TensorFlow, with XLA on by default (jit="1") as the 100-epoch tutorial preset does there.
    """
    env = {"TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow"}  # Keras' default
    mine = {**env, **({"RNNLAB_THREADS": str(threads)} if threads else {})}
    if jit in ("0", "1"):
        mine["RNNLAB_JIT"] = jit
    kinds = {"plain": env, "rnnlab": mine,   # rnnlab-keras-loop: what rnnlab.nn.kernels saves
             "rnnlab-keras-loop": {**mine, "RNNLAB_FAST_KERNELS": "0"}}
    if tf_too:
        kinds["rnnlab-tf"] = {**mine, "RNNLAB_BACKEND": "tensorflow"}
    runs = {kind: [] for kind in kinds}
    for _ in range(reps):
        for kind, kind_env in kinds.items():
            child = "plain" if kind == "plain" else "rnnlab"
            args = [__file__, "--child", child, "--epochs", str(epochs)]
            runs[kind].append(run_json(args + (["--spe", str(spe)] if spe and child == "rnnlab"
                                                else []), kind_env))
    rows = [_row(kind, results, threads) for kind, results in runs.items()]
    ratio = rows[1]["s_per_epoch"] / rows[0]["s_per_epoch"]
    rows.insert(2, {"kind": f"ratio rnnlab / tutorial (goal <= {GOAL})", "s_per_epoch": ratio,
                    "cpu_s_per_epoch": rows[1]["cpu_s_per_epoch"] / rows[0]["cpu_s_per_epoch"],
                    "first_epoch_s": rows[1]["first_epoch_s"] / rows[0]["first_epoch_s"],
                    "runs_medians": "", "peak_rss_mb": "",
                    "settings": "met" if ratio <= GOAL else "NOT met"})
    show(rows)
    record("train_speed", rows)
    return rows


def _row(kind: str, results: list[dict], threads: int) -> dict:
    medians = [r["median_s"] for r in results]
    settings = ("TF defaults, model.fit, verbose=1" if kind == "plain" else
                f"backend {results[0]['backend']}, jit_compile={results[0]['jit_compile']}, "
                f"steps_per_execution={results[0]['steps_per_execution']}, "
                f"intra-op threads {threads or '1 (rnnlab default)'}, gradient tracking on")
    return {"kind": results[0]["kind"], "s_per_epoch": float(np.median(medians)),
            "cpu_s_per_epoch": float(np.median([r["cpu_s"] for r in results])),
            "first_epoch_s": float(np.median([r["first_epoch_s"] for r in results])),
            "runs_medians": " ".join(f"{m:.3f}" for m in medians),
            "peak_rss_mb": float(np.median([r["peak_rss_mb"] for r in results])),
            "settings": f"{settings}; data {results[0]['data']} ({results[0]['windows']} windows)"}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=["plain", "rnnlab"])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--threads", type=int, default=0,
                        help="RNNLAB_THREADS for rnnlab (default: rnnlab's own, 1)")
    parser.add_argument("--no-tf", action="store_true", help="skip rnnlab on TensorFlow")
    parser.add_argument("--spe", type=int, default=None, help="override steps_per_execution")
    parser.add_argument("--jit", choices=["1", "0", "auto"], default="1",
                        help="XLA for rnnlab: on (as the 100-epoch preset), off, or its own choice")
    ns = parser.parse_args()
    if ns.child == "plain":
        print(json.dumps(child_plain(ns.epochs)))
    elif ns.child == "rnnlab":
        print(json.dumps(child_rnnlab(ns.epochs, ns.spe)))
    else:
        main(ns.reps, ns.epochs, ns.threads, ns.spe, ns.jit, not ns.no_tf)
