"""Time to first loss point: from submit to the first epoch row in the store, cold.

Goal: <= 6 s. Baselines in the same run: a fresh interpreter that only imports Keras and builds
the same model, on the backend rnnlab trains on (the floor a fresh worker process pays before its
first step) and on TensorFlow; and rnnlab without its spare worker (RNNLAB_SPARE_WORKER=0).
"Cold" means nothing compiled yet: a fresh store, whose compile cache is empty.
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


def one_store(submits: int = 1, *, spare: bool = True, settle: float = 0.0) -> list[float]:
    """Seconds from jobs.submit to the first epoch row, for `submits` runs one after another
    in a fresh store (the first cold; the next find the first one's compiled steps cached).

    The runner starts with the store; `settle` seconds pass before the first submit (a spare
    worker, when `spare`, loads Keras meanwhile, as it does while a user sets up a run).
    """
    from rnnlab import jobs
    from rnnlab.store import Store

    seconds = []
    with tempfile.TemporaryDirectory() as home:
        store = Store(home)
        executor = jobs.LocalProcessExecutor(spare=spare)
        runner = jobs.Runner(store, concurrency=1, executor=executor).start()
        try:
            time.sleep(settle)
            for _ in range(submits):
                start = time.perf_counter()
                run_id = jobs.submit(store, CONFIG)
                while not store.epochs(run_id):
                    if store.get_run(run_id).status.finished:
                        raise RuntimeError(f"run ended {store.get_run(run_id).status}: "
                                           f"{store.get_run(run_id).error}")
                    time.sleep(0.02)
                seconds.append(time.perf_counter() - start)
                jobs.cancel(store, run_id)
                runner.wait_idle(60)
        finally:
            runner.stop()
    return seconds


SETTLE = 12.0   # seconds between starting the runner and the first submit: the spare is ready


def main() -> list[dict]:
    """Run the benchmark, print and record its table."""
    from rnnlab import backend

    name = backend.wanted()
    base, tf, plain, at_once, ready, again = [], [], [], [], [], []
    for _ in range(REPEATS):  # alternating, so that a busy spell of the machine hits all alike
        base.append(run_json(["-c", BASELINE], {"KERAS_BACKEND": name})["seconds"])
        tf.append(run_json(["-c", BASELINE], {"KERAS_BACKEND": "tensorflow"})["seconds"])
        plain.append(one_store(spare=False, settle=SETTLE)[0])
        at_once.append(one_store(spare=True)[0])
        first, second = one_store(submits=2, spare=True, settle=SETTLE)
        ready.append(first)
        again.append(second)
    floor = percentile(base, 50)

    def row(measure: str, values: list[float]) -> dict:
        return {"measure": measure, "median_s": percentile(values, 50),
                "ratio": percentile(values, 50) / floor}

    shape = "2 × LSTM(32), 30 steps"
    rows = [
        row(f"import keras + build model on {name}, fresh process (floor)", base),
        row("the same on tensorflow", tf),
        row(f"submit -> first epoch row ({shape}), rnnlab on {name}, a fresh worker process "
            "(RNNLAB_SPARE_WORKER=0)", plain),
        row("the same, submitted the moment the runner starts (its spare worker still loading)",
            at_once),
        row(f"the same, the spare worker ready ({SETTLE:g} s after the runner starts; default)",
            ready),
        row("the same config again in that store (compiled steps cached)", again),
        {"measure": "goal: <= 6 s (cold)", "median_s": percentile(ready, 50) <= 6, "ratio": ""},
    ]
    show(rows)
    record("first_loss", rows)
    return rows


if __name__ == "__main__":
    main()
