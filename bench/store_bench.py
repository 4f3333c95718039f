"""Store: write 10,000 epoch rows, and read a run's full curves back while a worker writes.

Goal: reads p95 <= 20 ms while a worker writes. The read measured is the one the pages need for
a loss chart: the run's record and its loss curves (`get_run` + `curves(LOSS_COLUMNS)`). In the
same run, for comparison: the same read with no writer (the baseline), every curve column, and
the older read of one dict per epoch (`get_run` + `epochs`).

The writer is another process writing epoch rows with their traces as fast as it can, to a
second run (so every read returns exactly N_ROWS rows): far more writes per second than any
training worker makes, the worst case for a reader.

`python bench/store_bench.py --profile` also prints a pyinstrument profile of the page read
while the writer writes (pip install pyinstrument).
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import percentile, record, show  # noqa: E402
from rnnlab.store import CURVE_COLUMNS, LOSS_COLUMNS, Store  # noqa: E402

N_ROWS = 10_000
SECONDS = 3.0                 # each read measurement lasts this long
GOAL_MS = 20.0
TENSORS = [f"lstm_{i}/{k}" for i in range(1, 5) for k in ("kernel", "recurrent_kernel", "bias")]


def _epoch(store: Store, run_id: str, epoch: int) -> None:
    store.add_epoch(run_id, epoch, train_loss=1.0 / epoch, val_loss=1.1 / epoch, lr=1e-3,
                    seconds=0.6, grad_norm_mean=1.0, grad_norm_max=2.0,
                    tensor_norms={t: (0.1, 0.2) for t in TENSORS}, step_norms=[1.0] * 38,
                    through_time={"input": [0.1] * 60, "layer_1": [0.1] * 60})


def _writer(home: str, run_id: str, first: int, stop, written) -> None:
    """Another process writing epochs as fast as it can, as a (very fast) worker would."""
    store = Store(home)
    epoch = first
    while not stop.is_set():
        _epoch(store, run_id, epoch)
        epoch += 1
        written.value = epoch - first


def page_read(store: Store, run_id: str) -> None:
    """What a page reads to draw a run's loss chart."""
    store.get_run(run_id)
    store.curves(run_id, LOSS_COLUMNS)


def all_curves(store: Store, run_id: str) -> None:
    store.get_run(run_id)
    store.curves(run_id, CURVE_COLUMNS)


def dict_rows(store: Store, run_id: str) -> None:
    """The older read: one dict per epoch."""
    store.get_run(run_id)
    store.epochs(run_id)


def _reads(read, store: Store, run_id: str, seconds: float = SECONDS):
    """Wall-clock ms of each read, and the reading thread's CPU ms (the rest is waiting)."""
    times, cpu, end = [], [], time.perf_counter() + seconds
    while time.perf_counter() < end:
        start, start_cpu = time.perf_counter(), time.thread_time()
        read(store, run_id)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
    return times, cpu


def _row(measure: str, measured, writes: int | None = None) -> dict:
    times, cpu = measured
    return {"measure": measure, "p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95),
            "cpu_p50_ms": percentile(cpu, 50), "cpu_p95_ms": percentile(cpu, 95),
            "reads": len(times), "rows_written_meanwhile": "" if writes is None else writes}


def _load() -> str:
    """The machine's 1-minute load average (other processes inflate the wall-clock times)."""
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def main(profile: bool = False) -> list[dict]:
    """Run the benchmark, print and record its table."""
    load_before = _load()
    with tempfile.TemporaryDirectory() as home:
        store = Store(home)
        run_id = store.create_run({}, epochs_total=N_ROWS)
        start = time.perf_counter()
        for epoch in range(1, N_ROWS + 1):
            _epoch(store, run_id, epoch)
        write_s = time.perf_counter() - start
        measured = [("get_run + curves(loss columns)", page_read),
                    ("get_run + curves(all 7 columns)", all_curves),
                    ("get_run + epochs() (a dict per epoch)", dict_rows)]
        alone = {name: _reads(read, store, run_id) for name, read in measured}

        ctx = mp.get_context("spawn")
        stop, written = ctx.Event(), ctx.Value("i", 0)
        other = store.create_run({}, epochs_total=10 ** 6)  # so every read is of N_ROWS rows
        writer = ctx.Process(target=_writer, args=(home, other, 1, stop, written))
        writer.start()
        try:
            deadline = time.monotonic() + 120
            while written.value < 20:  # the writer is up and writing
                if not writer.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("The writer process did not start writing.")
                time.sleep(0.05)
            busy, writes = {}, {}
            for name, read in measured:
                before = written.value
                busy[name] = _reads(read, store, run_id)
                writes[name] = written.value - before
            profiler_text = ""
            if profile:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005)
                profiler.start()
                _reads(page_read, store, run_id)
                profiler.stop()
                profiler_text = profiler.output_text(unicode=False, color=False)
        finally:
            stop.set()
            writer.join(60)
        store.close()

    page = measured[0][0]
    blank = {"p50_ms": "", "p95_ms": "", "cpu_p50_ms": "", "cpu_p95_ms": "", "reads": "",
             "rows_written_meanwhile": ""}
    rows = [{"measure": f"write {N_ROWS} epoch rows (+ traces), ms per row", **blank,
             "p50_ms": write_s / N_ROWS * 1000, "rows_written_meanwhile": N_ROWS}]
    for name, _ in measured:
        rows.append(_row(f"{name}, no writer", alone[name]))
        rows.append(_row(f"{name}, while a worker writes", busy[name], writes[name]))
    goal_p95 = percentile(busy[page][0], 95)
    verdict = "met" if goal_p95 <= GOAL_MS else "not met"
    rows.append({"measure": f"goal: {page} p95 while writing <= {GOAL_MS:g} ms: {verdict}",
                 **blank, "p95_ms": goal_p95})
    rows.append({"measure": "machine load average (1 min), before / after", **blank,
                 "p50_ms": load_before, "p95_ms": _load()})
    show(rows)
    record("store", rows)
    if profiler_text:
        print(profiler_text)
    return rows


if __name__ == "__main__":
    main(profile="--profile" in sys.argv[1:])
