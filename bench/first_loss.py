"""Time to first loss point: from submit to the first epoch row in the store, cold.

Goal: <= 6 s. Baselines in the same run: a fresh interpreter that only imports Keras and builds
the same model, on the backend rnnlab trains on (the floor any worker process pays before its
first step) and on TensorFlow.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import percentile, record, run_json, show  # noqa: E402
from rnnlab.config import DataConfig, ModelConfig, RunConfig, TrainConfig  # noqa: E402

REPEATS = 3
CONFIG = RunConfig(
    name="first loss point",
    data=DataConfig(source="noisy_sine.csv", target="value"),
    model=ModelConfig(cell="lstm", n_layers=2, units=32, lookback=30),
    train=TrainConfig(epochs=3),
)
BASELINE = (
    "import json, time; t = time.perf_counter()\n"
    "import keras\n"
    "m = keras.Sequential([keras.Input((30, 1)), keras.layers.LSTM(32, return_sequences=True),"
    " keras.layers.LSTM(32), keras.layers.Dense(1)])\n"
    "m.compile('adam', 'mse')\n"
    "print(json.dumps({'seconds': time.perf_counter() - t}))\n"
)


def one_store(submits: int = 1) -> list[float]:
    """Seconds from jobs.submit to the first epoch row, for `submits` runs one after another
    in a fresh store (the first cold; the next find the first one's compiled steps cached)."""
    from rnnlab import jobs
    from rnnlab.store import Store

    seconds = []
    with tempfile.TemporaryDirectory() as home:
        store = Store(home)
        runner = jobs.Runner(store, concurrency=1, executor=jobs.LocalProcessExecutor()).start()
        try:
            for _ in range(submits):
                start = time.perf_counter()
                run_id = jobs.submit(store, CONFIG)
                while not store.epochs(run_id):
                    if store.get_run(run_id).status.finished:
                        raise RuntimeError(f"run ended {store.get_run(run_id).status}: "
                                           f"{store.get_run(run_id).error}")
                    time.sleep(0.05)
                seconds.append(time.perf_counter() - start)
                jobs.cancel(store, run_id)
                runner.wait_idle(60)
        finally:
            runner.stop()
    return seconds


def main() -> list[dict]:
    """Run the benchmark, print and record its table."""
    from rnnlab import backend

    name = backend.wanted()
    base = [run_json(["-c", BASELINE], {"KERAS_BACKEND": name})["seconds"]
            for _ in range(REPEATS)]
    tf = [run_json(["-c", BASELINE], {"KERAS_BACKEND": "tensorflow"})["seconds"]
          for _ in range(REPEATS)]
    pairs = [one_store(submits=2) for _ in range(REPEATS)]
    ours, again = [p[0] for p in pairs], [p[1] for p in pairs]
    rows = [
        {"measure": f"import keras + build model on {name}, fresh process (floor)",
         "median_s": percentile(base, 50), "ratio": 1.0},
        {"measure": "the same on tensorflow", "median_s": percentile(tf, 50),
         "ratio": percentile(tf, 50) / percentile(base, 50)},
        {"measure": f"submit -> first epoch row (2 × LSTM(32), 30 steps), rnnlab on {name}", "median_s": percentile(ours, 50),
         "ratio": percentile(ours, 50) / percentile(base, 50)},
        {"measure": "the same config again in that store (compiled steps cached)",
         "median_s": percentile(again, 50), "ratio": percentile(again, 50) / percentile(base, 50)},
        {"measure": "goal: <= 6 s (cold)", "median_s": percentile(ours, 50) <= 6, "ratio": ""},
    ]
    show(rows)
    record("first_loss", rows)
    return rows


if __name__ == "__main__":
    main()
