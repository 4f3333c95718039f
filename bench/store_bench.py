"""Store: write 10,000 epoch rows, and read a run's full curves back while a worker writes.

Goal: reads p95 <= 20 ms. Baseline in the same run: the same reads with no writer.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import percentile, record, show  # noqa: E402
from rnnlab.store import Store  # noqa: E402

N_ROWS = 10_000
TENSORS = [f"lstm_{i}/{k}" for i in range(1, 5) for k in ("kernel", "recurrent_kernel", "bias")]


def _epoch(store: Store, run_id: str, epoch: int) -> None:
    store.add_epoch(run_id, epoch, train_loss=1.0 / epoch, val_loss=1.1 / epoch, lr=1e-3,
                    seconds=0.6, grad_norm_mean=1.0, grad_norm_max=2.0,
                    tensor_norms={t: (0.1, 0.2) for t in TENSORS}, step_norms=[1.0] * 38,
                    through_time={"input": [0.1] * 60, "layer_1": [0.1] * 60})


def _writer(home: str, run_id: str, n: int, first: int) -> None:
    store = Store(home)
    for epoch in range(first, first + n):
        _epoch(store, run_id, epoch)


def _read_curves(store: Store, run_id: str) -> None:
    store.get_run(run_id)
    store.epochs(run_id)


def _reads(store: Store, run_id: str, seconds: float) -> list[float]:
    times, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        _read_curves(store, run_id)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> list[dict]:
    """Run the benchmark, print and record its table."""
    with tempfile.TemporaryDirectory() as home:
        store = Store(home)
        run_id = store.create_run({}, epochs_total=N_ROWS + 2000)
        start = time.perf_counter()
        for epoch in range(1, N_ROWS + 1):
            _epoch(store, run_id, epoch)
        write_s = time.perf_counter() - start
        alone = _reads(store, run_id, 3.0)
        writer = mp.get_context("spawn").Process(target=_writer, args=(home, run_id, 2000, N_ROWS + 1))
        writer.start()
        time.sleep(0.5)
        busy = _reads(store, run_id, 3.0)
        writer.join()
    rows = [
        {"measure": f"write {N_ROWS} epoch rows (+ traces)", "value": write_s, "unit": "s",
         "per_row_ms": write_s / N_ROWS * 1000},
        {"measure": "read full curves, no writer: p50 / p95", "value": percentile(alone, 95),
         "unit": "ms p95", "per_row_ms": percentile(alone, 50)},
        {"measure": "read full curves while a worker writes: p50 / p95",
         "value": percentile(busy, 95), "unit": "ms p95", "per_row_ms": percentile(busy, 50)},
        {"measure": "goal: p95 while writing <= 20 ms", "value": percentile(busy, 95) <= 20,
         "unit": "", "per_row_ms": ""},
    ]
    show(rows)
    record("store", rows)
    return rows


if __name__ == "__main__":
    main()
