"""Page render: every page's full script run over a real `streamlit run`, with 200 runs stored,
60 of them in 20 groups (seeds, sweeps and backtests of 3 runs).

Goals: p95 <= 300 ms per page; the web process's RSS <= 300 MB; TensorFlow never loaded in it.
Baseline in the same run: the same round trip against a one-line Streamlit app (protocol cost,
and Streamlit's own work after every run, such as its garbage collection).
Also each page's AppTest run time (what the app tests pay).

How: one simulated browser tab (bench/stclient.py, Streamlit's websocket protocol) asks for a
full script run of each page in turn, REPEATS times, and times each until `script_finished`.
The first visit of each page counts too. `--pages` and `--repeats` narrow a run down (only the
full default run is recorded in bench/results.json).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import percentile, record, show  # noqa: E402
from bench.fake_runs import add_groups, add_runs  # noqa: E402
from bench.stclient import Server, Session  # noqa: E402
from rnnlab.store import Store  # noqa: E402

PAGES = ["data", "model", "train", "results", "gradients", "compare", "learn"]
N_RUNS = 200
N_GROUPS, GROUP_SIZE = 20, 3
REPEATS = 15


async def _time_pages(server: Server, pages: list[str],
                      repeats: int = REPEATS) -> dict[str, list[float]]:
    session = Session(server)
    await session.connect()
    times = {p: [] for p in pages}
    for _ in range(repeats):
        for page in pages:
            seconds, _ = await session.run_page(page)
            times[page].append(seconds * 1000)
    await session.close()
    return times


def _tf_loaded(pid: int) -> bool:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return "tensorflow" in maps or "libtensorflow" in maps


def _baseline(tmp: Path, repeats: int = REPEATS) -> list[float]:
    app = tmp / "hello.py"
    app.write_text("import streamlit as st\nst.write('hello')\n")
    with Server(tmp / "base-home", app=app) as server:
        return asyncio.run(_time_pages(server, [""], repeats))[""]


def _apptest_seconds(home: Path, pages: list[str] = PAGES) -> dict[str, float]:
    import os

    from streamlit.testing.v1 import AppTest

    os.environ["RNNLAB_HOME"] = str(home)
    out = {}
    for page in pages:
        at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"),
                               default_timeout=60)
        at.run()
        start = time.perf_counter()
        at.switch_page(f"views/{page}.py").run()
        out[page] = time.perf_counter() - start
    from rnnlab import jobs

    # The app started the home's job runner in this process: stop it before the home goes.
    jobs.get_runner(Store(home), start=False).stop()
    return out


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=(
        "Prints a table: p50 and p95 per page in ms, p95 against the baseline's p95, and the "
        "page's AppTest run time in s; the last row says whether the goals are met."))
    parser.add_argument("--pages", default=",".join(PAGES),
                        help="comma-separated pages to time (default: all: %(default)s)")
    parser.add_argument("--repeats", type=int, default=REPEATS,
                        help="full runs of each page (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=N_RUNS,
                        help="finished runs in the store (default: %(default)s)")
    args = parser.parse_args(argv)
    args.pages = [p for p in args.pages.split(",") if p]
    unknown = sorted(set(args.pages) - set(PAGES))
    if unknown:
        parser.error(f"unknown page(s): {', '.join(unknown)}; pages: {', '.join(PAGES)}")
    return args


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the benchmark, print its table, and record it when it is the full default run."""
    args = _args([] if argv is None else argv)
    pages = args.pages
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = _baseline(tmp, args.repeats)
        home = tmp / "home"
        store = Store(home)
        groups = min(N_GROUPS, args.runs // (2 * GROUP_SIZE))
        add_runs(store, args.runs - groups * GROUP_SIZE)
        add_groups(store, groups, GROUP_SIZE)
        with Server(home) as server:
            times = asyncio.run(_time_pages(server, pages, args.repeats))
            rss, tf = server.rss_mb(), _tf_loaded(server.proc.pid)
        apptest = _apptest_seconds(home, pages)
    base95 = percentile(base, 95)
    rows = [{"page": "baseline: one-line app", "p50_ms": percentile(base, 50), "p95_ms": base95,
             "vs_baseline": 1.0, "apptest_s": ""}]
    for page in pages:
        p95 = percentile(times[page], 95)
        rows.append({"page": page, "p50_ms": percentile(times[page], 50), "p95_ms": p95,
                     "vs_baseline": p95 / base95, "apptest_s": apptest[page]})
    worst = max(percentile(times[p], 95) for p in pages)
    rows.append({"page": f"goals: p95 <= 300 ms ({worst:.0f}); RSS <= 300 MB ({rss:.0f}); "
                         f"no TensorFlow ({not tf})",
                 "p50_ms": "", "p95_ms": worst <= 300, "vs_baseline": rss <= 300,
                 "apptest_s": not tf})
    show(rows)
    if (pages, args.repeats, args.runs) == (PAGES, REPEATS, N_RUNS):
        record("page_render", rows)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
