"""Load: N simulated users poll the Train page while 2 runs train; p50/p95 latency and errors.

Each user is a websocket session speaking Streamlit's protocol (bench/stclient.py), asking for a
full run of the Train page again and again for a fixed time. N = 1, 10, 30. Baseline in the same
run: N = 1 with no training.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import percentile, record, show  # noqa: E402
from bench.fake_runs import add_runs  # noqa: E402
from bench.stclient import Server, Session  # noqa: E402
from rnnlab import jobs  # noqa: E402
from rnnlab.config import DataConfig, ModelConfig, RunConfig, TrainConfig  # noqa: E402
from rnnlab.store import RunStatus, Store  # noqa: E402

USERS = (1, 10, 30)
SECONDS = 15.0
TRAINING = RunConfig(name="load: background training",
                     data=DataConfig(source="noisy_sine.csv", target="value"),
                     model=ModelConfig(cell="lstm", n_layers=2, units=32, lookback=30),
                     train=TrainConfig(epochs=2000))


async def _user(server: Server, seconds: float, out: list, errors: list) -> None:
    session = Session(server)
    try:
        await session.connect()
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            took, _ = await session.run_page("train")
            out.append(took * 1000)
    except Exception as exc:  # every failure is a figure of this benchmark
        errors.append(repr(exc))
    finally:
        try:
            await session.close()
        except Exception:
            pass


async def _poll(server: Server, users: int, seconds: float) -> tuple[list, list]:
    out, errors = [], []
    await asyncio.gather(*(_user(server, seconds, out, errors) for _ in range(users)))
    return out, errors


def _row(label: str, users: int, times: list, errors: list, base95: float) -> dict:
    p95 = percentile(times, 95)
    return {"case": label, "users": users, "requests": len(times), "p50_ms": percentile(times, 50),
            "p95_ms": p95, "errors": len(errors), "p95_vs_baseline": p95 / base95 if base95 else ""}


def main() -> list[dict]:
    """Run the benchmark, print and record its table."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "home")
        add_runs(store, 20)
        with Server(store.home, env={"RNNLAB_CONCURRENCY": "2"}) as server:
            base, base_err = asyncio.run(_poll(server, 1, SECONDS / 2))
            base95 = percentile(base, 95)
            rows = [_row("baseline: no training", 1, base, base_err, base95)]
            ids = [jobs.submit(store, TRAINING) for _ in range(2)]
            deadline = time.time() + 120
            while sum(store.get_run(i).status == RunStatus.RUNNING for i in ids) < 2:
                if time.time() > deadline:
                    raise RuntimeError("the two training runs did not start within 120 s")
                time.sleep(0.2)
            for users in USERS:
                times, errors = asyncio.run(_poll(server, users, SECONDS))
                rows.append(_row("2 runs training", users, times, errors, base95))
                if errors:
                    print(f"N={users}: first error: {errors[0]}")
            for run_id in ids:
                jobs.cancel(store, run_id)
            epochs = [store.get_run(i).epochs_done for i in ids]
    rows.append({"case": f"runs kept training: epochs done {epochs}", "users": "", "requests": "",
                 "p50_ms": "", "p95_ms": "", "errors": "", "p95_vs_baseline": ""})
    show(rows)
    record("load", rows)
    return rows


if __name__ == "__main__":
    main()
