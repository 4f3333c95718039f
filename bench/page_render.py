"""Page render: every page's full script run over a real `streamlit run`, with 200 runs stored.

Goals: p95 <= 300 ms per page; the web process's RSS <= 300 MB; TensorFlow never loaded in it.
Baseline in the same run: the same round trip against a one-line Streamlit app (protocol cost).
Also each page's AppTest run time (what the app tests pay).
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
from rnnlab.store import Store  # noqa: E402

PAGES = ["data", "model", "train", "results", "gradients", "compare", "learn"]
N_RUNS = 200
REPEATS = 15


async def _time_pages(server: Server, pages: list[str]) -> dict[str, list[float]]:
    session = Session(server)
    await session.connect()
    times = {p: [] for p in pages}
    for _ in range(REPEATS):
        for page in pages:
            seconds, _ = await session.run_page(page)
            times[page].append(seconds * 1000)
    await session.close()
    return times


def _tf_loaded(pid: int) -> bool:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return "tensorflow" in maps or "libtensorflow" in maps


def _baseline(tmp: Path) -> list[float]:
    app = tmp / "hello.py"
    app.write_text("import streamlit as st\nst.write('hello')\n")
    with Server(tmp / "base-home", app=app) as server:
        return asyncio.run(_time_pages(server, [""]))[""]


def _apptest_seconds(home: Path) -> dict[str, float]:
    import os

    from streamlit.testing.v1 import AppTest

    os.environ["RNNLAB_HOME"] = str(home)
    out = {}
    for page in PAGES:
        at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"),
                               default_timeout=60)
        at.run()
        start = time.perf_counter()
        at.switch_page(f"views/{page}.py").run()
        out[page] = time.perf_counter() - start
    return out


def main() -> list[dict]:
    """Run the benchmark, print and record its table."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = _baseline(tmp)
        home = tmp / "home"
        add_runs(Store(home), N_RUNS)
        with Server(home) as server:
            times = asyncio.run(_time_pages(server, PAGES))
            rss, tf = server.rss_mb(), _tf_loaded(server.proc.pid)
        apptest = _apptest_seconds(home)
    base95 = percentile(base, 95)
    rows = [{"page": "baseline: one-line app", "p50_ms": percentile(base, 50), "p95_ms": base95,
             "vs_baseline": 1.0, "apptest_s": ""}]
    for page in PAGES:
        p95 = percentile(times[page], 95)
        rows.append({"page": page, "p50_ms": percentile(times[page], 50), "p95_ms": p95,
                     "vs_baseline": p95 / base95, "apptest_s": apptest[page]})
    worst = max(percentile(times[p], 95) for p in PAGES)
    rows.append({"page": f"goals: p95 <= 300 ms ({worst:.0f}); RSS <= 300 MB ({rss:.0f}); "
                         f"no TensorFlow ({not tf})",
                 "p50_ms": "", "p95_ms": worst <= 300, "vs_baseline": rss <= 300,
                 "apptest_s": not tf})
    show(rows)
    record("page_render", rows)
    return rows


if __name__ == "__main__":
    main()
