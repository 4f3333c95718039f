"""Throughput of small runs: local worker processes vs a Ray cluster on this machine.

8 tiny runs (one LSTM layer of 8 units, lookback 10, 3 epochs on the noisy sine sample), two at
a time, first with the default executor (a fresh interpreter per run, with its spare worker),
then with RNNLAB_EXECUTOR=ray on a Ray instance started here with as many CPUs as that
concurrency (or the cluster at RNNLAB_RAY_ADDRESS). Each in a fresh store, so both start with
an empty compile cache. The difference per run is what Ray adds: placing an actor, a worker
process that loads Ray, rows and files sent through the store service.

    .venv/bin/python bench/cluster.py [--runs 8] [--concurrency 2] [--epochs 3]

Prints a table to paste; writes nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine  # noqa: E402
from rnnlab.config import DataConfig, ModelConfig, RunConfig, TrainConfig  # noqa: E402


def config(epochs: int, i: int) -> RunConfig:
    return RunConfig(name=f"bench {i}", data=DataConfig(source="noisy_sine.csv", target="value"),
                     model=ModelConfig(cell="lstm", n_layers=1, units=8, lookback=10),
                     train=TrainConfig(epochs=epochs, batch_size=32, seed=i))


def one_batch(executor, runs: int, concurrency: int, epochs: int) -> dict:
    """Submit `runs` runs to a fresh store, work the queue with `executor`; the figures."""
    from rnnlab import jobs
    from rnnlab.jobs.runner import Runner
    from rnnlab.store import RunStatus, Store

    class Runner1(Runner):
        threads_per_worker = 1

    with tempfile.TemporaryDirectory() as home:
        store = Store(Path(home) / "home")
        t0 = time.time()
        ids = [jobs.submit(store, config(epochs, i), check_data=False, reuse=False)
               for i in range(runs)]
        runner = Runner1(store, concurrency=concurrency, executor=executor, tick_seconds=0.2)
        try:
            if not runner.wait_idle(1800):
                raise RuntimeError("the runs did not finish in 30 minutes")
        finally:
            runner.stop()
        wall = time.time() - t0
        records = [store.get_run(i) for i in ids]
        bad = [(r.id, r.status.value, r.error) for r in records if r.status != RunStatus.DONE]
        if bad:
            raise RuntimeError(f"runs did not finish done: {bad}")
        per_run = [r.finished_at - r.started_at for r in records]
        training = [sum(s for s in store.curves(r.id, ("seconds",))["seconds"] if s)
                    for r in records]
    return {"wall": wall, "per_run": statistics.mean(per_run),
            "training": statistics.mean(training), "runs": runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("RNNLAB_CLASSICAL", "0")

    from rnnlab.jobs.process import LocalProcessExecutor

    local = one_batch(LocalProcessExecutor(), args.runs, args.concurrency, args.epochs)

    import ray

    from rnnlab.jobs.ray_cluster import NAMESPACE, RayExecutor

    t = time.perf_counter()
    address = os.environ.get("RNNLAB_RAY_ADDRESS") or None
    scratch = tempfile.TemporaryDirectory()     # the workers' compile cache starts empty too
    os.environ["RNNLAB_RAY_SCRATCH"] = scratch.name   # (a local instance's workers inherit it)
    if address:
        ray.init(address=address, namespace=NAMESPACE, log_to_driver=False)
    else:
        ray.init(num_cpus=args.concurrency, include_dashboard=False, namespace=NAMESPACE,
                 log_to_driver=False)
    ray_start = time.perf_counter() - t
    try:
        remote = one_batch(RayExecutor(), args.runs, args.concurrency, args.epochs)
    finally:
        ray.shutdown()
        scratch.cleanup()

    where = address or f"a local Ray instance, {args.concurrency} CPUs"
    print(f"\n{args.runs} runs of {args.epochs} epochs (LSTM 8 units, lookback 10, noisy_sine), "
          f"{args.concurrency} at a time; {machine()}; Ray {ray.__version__} ({where}, "
          f"started in {ray_start:.1f} s, not counted)\n")
    print("| executor | wall (s) | runs / min | start to end of a run (s) | of which epochs (s) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, r in (("process (local workers)", local), ("ray", remote)):
        print(f"| {name} | {r['wall']:.1f} | {60 * r['runs'] / r['wall']:.1f} | "
              f"{r['per_run']:.1f} | {r['training']:.2f} |")
    ratio = remote["wall"] / local["wall"]
    extra = (remote["per_run"] - local["per_run"])
    print(f"\nRay / local wall time: {ratio:.2f}×; start to end of a run, Ray minus local: "
          f"{extra:+.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
