"""Shared helpers for the benchmarks: timing, percentiles, peak memory, the results table."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS_JSON = ROOT / "bench" / "results.json"


def percentile(values, q: float) -> float:
    """The q-th percentile of a list of numbers (nan when empty)."""
    return float(np.percentile(values, q)) if len(values) else float("nan")


def peak_rss_mb() -> float:
    """This process's peak resident memory, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, *args, **kwargs):
    """(result, seconds) of one call."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def python() -> str:
    """The interpreter running the benchmarks (the project's .venv when run via make)."""
    return sys.executable


def run_json(args: list[str], env: dict | None = None, timeout: float = 900) -> dict:
    """Run a child Python that prints one JSON object on its last stdout line; return it."""
    proc = subprocess.run([python(), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> str:
    """One line about this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def record(name: str, rows: list[dict]) -> None:
    """Keep one benchmark's rows in bench/results.json (read by run_all to write RESULTS.md)."""
    data = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    data[name] = {"when": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(), "rows": rows}
    RESULTS_JSON.write_text(json.dumps(data, indent=2))


def show(rows: list[dict]) -> None:
    """Print rows as an aligned table."""
    if not rows:
        return
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(_fmt(r.get(k))) for r in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys))
    for r in rows:
        print("  ".join(_fmt(r.get(k)).ljust(widths[k]) for k in keys))


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
