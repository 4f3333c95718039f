"""Load: a class of students on one server while 2 runs train.

Each student is a websocket session speaking Streamlit's protocol (bench/stclient.py) at a
browser tab's cadence: it opens the Train page, lets the page's self-refreshing fragments (the
runs list and live charts, the sidebar's run status) refresh at the intervals the page asks for,
and every 10 s opens another page (Results, Compare, Gradients, each followed by Train again).
Students arrive spread over the first few seconds.

Figures, for 1 and N students: p50 and p95 of page opens, of fragment refreshes and of both,
errors, the web process's CPU time per second of wall time (1.0 = one core), the same for
this benchmark's own process (the simulated students' browsers, which in a class run on the
students' computers, not on the server), and the load average. Baseline in the same run: the two runs' epoch rate with nobody on
the pages; with the class on, each run's rate is given as a ratio of it.

Goal: with 30 students p95 of every request <= 1 s, 0 errors, and both runs' epoch rate within
20 % of their rate with no users.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
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

USERS = (1, 30)
SECONDS = 45.0              # each class size is on the pages this long
QUIET_SECONDS = 20.0        # the epoch rate with no users is measured this long, before and
                            # after each class size
SETTLE = 20.0               # seconds after both runs started before measuring (the spare loads)
PAGE_EVERY = 10.0           # a student opens another page this often
ARRIVAL_SPREAD = 5.0        # students arrive over this many seconds
TOUR = ("results", "train", "compare", "train", "gradients", "train")
TRAINING = RunConfig(name="load: background training",
                     data=DataConfig(source="noisy_sine.csv", target="value"),
                     model=ModelConfig(cell="lstm", n_layers=2, units=32, lookback=30),
                     train=TrainConfig(epochs=5000))


class Times:
    """Seconds of each page open and each fragment refresh, and the errors."""

    def __init__(self):
        self.pages: list[float] = []
        self.fragments: list[float] = []
        self.errors: list[str] = []


async def _student(server: Server, index: int, users: int, seconds: float, out: Times) -> None:
    await asyncio.sleep(ARRIVAL_SPREAD * index / max(users, 1))
    session = Session(server)
    try:
        await session.connect()
        end = time.perf_counter() + seconds
        page, stop = "train", 0
        while time.perf_counter() < end:
            took, _ = await session.run_page(page)
            out.pages.append(took)
            now = time.perf_counter()
            leave = min(now + PAGE_EVERY, end)
            due = {fid: now + interval for fid, interval in session.fragments.items()}
            while True:
                fid = min(due, key=due.get) if due else None
                at = due[fid] if fid else math.inf
                if at >= leave:
                    await asyncio.sleep(max(0.0, leave - time.perf_counter()))
                    break
                await asyncio.sleep(max(0.0, at - time.perf_counter()))
                took, _ = await session.run_fragment(fid)
                out.fragments.append(took)
                # the browser asks again an interval after the refresh ended
                due = {f: due.get(f, time.perf_counter()) for f in session.fragments}
                if fid in due:
                    due[fid] = time.perf_counter() + session.fragments[fid]
            page = TOUR[stop % len(TOUR)]
            stop += 1
    except Exception as exc:  # every failure is a figure of this benchmark
        out.errors.append(repr(exc))
    finally:
        try:
            await session.close()
        except Exception:
            pass


async def _class(server: Server, users: int, seconds: float) -> Times:
    out = Times()
    await asyncio.gather(*(_student(server, i, users, seconds, out) for i in range(users)))
    return out


def _epochs(store: Store, ids: list[str]) -> list[int]:
    return [store.get_run(i).epochs_done for i in ids]


def _rates(before: list[int], after: list[int], seconds: float) -> list[float]:
    """Epochs per minute of each run between two readings."""
    return [(b - a) * 60 / seconds for a, b in zip(before, after)]


def _ms(values: list[float], q: float) -> float:
    return percentile([v * 1000 for v in values], q)


def _row(users: int, times: Times, rates: list[float], quiet: list[float],
         web_cpu: float, client_cpu: float, load: float) -> dict:
    both = times.pages + times.fragments
    ratios = [r / q if q else float("nan") for r, q in zip(rates, quiet)]
    return {"students": users, "page_opens": len(times.pages),
            "page_p95_ms": _ms(times.pages, 95), "refreshes": len(times.fragments),
            "refresh_p95_ms": _ms(times.fragments, 95), "all_p50_ms": _ms(both, 50),
            "all_p95_ms": _ms(both, 95), "errors": len(times.errors),
            "web_cpu_share": round(web_cpu, 2), "students_cpu_share": round(client_cpu, 2),
            "load_avg_1min": round(load, 2),
            "epochs_per_min": " / ".join(f"{r:.0f}" for r in rates),
            "epoch_rate_vs_quiet": " / ".join(f"{r:.2f}" for r in ratios)}


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the benchmark, print and record its table."""
    args = _parser().parse_args(argv)
    users_list = tuple(args.users) if args.users else USERS
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "home")
        add_runs(store, 20)
        env = {"RNNLAB_CONCURRENCY": "2"}
        if args.nice is not None:
            env["RNNLAB_WORKER_NICE"] = str(args.nice)
        with Server(store.home, env=env) as server:
            asyncio.run(_class(server, 1, 1.0))      # the first page run starts the runner
            # two seeds: the same settings twice would be one run and its repeat
            ids = [jobs.submit(store, TRAINING.replace(train={"seed": seed}))
                   for seed in (1, 2)]
            deadline = time.time() + 180
            while min(_epochs(store, ids)) < 3:       # both running, past their compiles
                if time.time() > deadline:
                    runs = [store.get_run(i) for i in ids]
                    raise RuntimeError("the two training runs did not start within 180 s: "
                                       + "; ".join(f"{r.status.value}, {r.epochs_done} epochs"
                                                   for r in runs))
                time.sleep(0.5)
            time.sleep(SETTLE)                        # the spare worker loads meanwhile

            def quiet_window() -> list[float]:
                start = _epochs(store, ids)
                time.sleep(args.quiet)
                return _rates(start, _epochs(store, ids), args.quiet)

            windows = [quiet_window()]
            classes = []
            for users in users_list:
                before, t0, cpu0 = _epochs(store, ids), time.perf_counter(), server.cpu_seconds()
                client0 = time.process_time()
                times = asyncio.run(_class(server, users, args.seconds))
                wall = time.perf_counter() - t0
                rates = _rates(before, _epochs(store, ids), wall)
                classes.append((users, times, rates, (server.cpu_seconds() - cpu0) / wall,
                                (time.process_time() - client0) / wall, os.getloadavg()[0]))
                windows.append(quiet_window())
                if times.errors:
                    print(f"{users} students: first error: {times.errors[0]}")
            quiet_all = [sum(w) / len(windows) for w in zip(*windows)]
            rows = [{"students": 0, "page_opens": "", "page_p95_ms": "", "refreshes": "",
                     "refresh_p95_ms": "", "all_p50_ms": "", "all_p95_ms": "", "errors": "",
                     "web_cpu_share": "", "students_cpu_share": "", "load_avg_1min": "",
                     "epochs_per_min": " / ".join(f"{r:.0f}" for r in quiet_all),
                     "epoch_rate_vs_quiet": "1.00 / 1.00"}]
            for k, (users, times, rates, web_cpu, client_cpu, load) in enumerate(classes):
                # the baseline of each class: the quiet windows just before and just after it
                quiet = [(a + b) / 2 for a, b in zip(windows[k], windows[k + 1])]
                rows.append(_row(users, times, rates, quiet, web_cpu, client_cpu, load))
            statuses = [store.get_run(i).status for i in ids]
            for run_id in ids:
                jobs.cancel(store, run_id)
    if any(s != RunStatus.RUNNING for s in statuses):
        print(f"note: the training runs were not both running at the end: {statuses}")
    goal = rows[-1]
    worst = min(float(x) for x in goal["epoch_rate_vs_quiet"].split(" / "))
    met = goal["all_p95_ms"] <= 1000 and goal["errors"] == 0 and worst >= 0.8
    rows.append({"students": f"goal: {goal['students']} students, p95 <= 1000 ms, 0 errors, "
                             f"epoch rate >= 0.8 of quiet", "page_opens": "met" if met else
                 "not met"})
    show(rows)
    if not args.no_record:
        record("load", rows)
    return rows


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", help=f"class sizes (default {USERS})")
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--quiet", type=float, default=QUIET_SECONDS)
    parser.add_argument("--nice", type=int, default=None,
                        help="the workers' RNNLAB_WORKER_NICE (default: the worker's own)")
    parser.add_argument("--no-record", action="store_true", help="print only")
    return parser


if __name__ == "__main__":
    main()
