"""`make bench`: every benchmark in turn, then bench/RESULTS.md from their figures."""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS_JSON, machine  # noqa: E402

BENCHES = [
    ("train_speed", "Training speed: the tutorial's 4 × LSTM(50), rnnlab vs the plain Keras script"),
    ("first_loss", "Time to first loss point, cold"),
    ("page_render", "Page render over a real `streamlit run`, 200 runs stored (20 groups among them)"),
    ("data_scale", "Data scale: 1,000,000 rows × 5 columns"),
    ("store_bench", "Run store: 10,000 epoch rows, reads while a worker writes"),
    ("load", "Load: a class on the pages at a browser's cadence while 2 runs train"),
    ("lesson_rush", "Lesson rush: a class of 30 presses Run on one lesson within a minute"),
    ("lessons", "Lessons: wall time of each, at full epochs"),
    ("forecast_quality", "Forecast quality: the defaults on real series against honest baselines"),
]
# More tables under a benchmark's own: its name -> (key in results.json, heading) of each.
SUBTABLES = {
    "forecast_quality": [
        ("forecast_quality_variants",
         "What each default rule bought: test RMSE and skill vs naive, first seed"),
        ("forecast_quality_paths",
         "The forecast a user takes away: free-running over the whole test part, RMSE"),
    ],
}
# Tables read off a benchmark's own when RESULTS.md is written: its name -> (function of its rows
# in bench/<name>.py, heading) of each; they always agree with the table they explain.
DERIVED = {
    "forecast_quality": [
        ("shortfall_rows",
         "Where the model does not beat the best baseline, and why (read off the first table)"),
        ("path_shortfall_rows", "Where the free-running forecast does not beat the best path, "
                                "and why (read off the free-running table)"),
    ],
}
# How to read a benchmark's table, under its "Measured ..." line.
NOTES = {
    "load": (
        "`python bench/load.py`. Each student opens the Train page, lets its self-refreshing "
        "parts refresh at the pace the page asks for, and opens another page every 10 s; students "
        "arrive over 5 s; each class size stays 45 s. Two runs (2 × LSTM(32), lookback 30, seeds 1 "
        "and 2) train throughout; their epoch rate with nobody on the pages, measured just before "
        "and just after each class size, is the baseline. web_cpu_share is the web process's CPU "
        "time per second (1.0 = one core); students_cpu_share the same for the simulated browsers, "
        "which share this machine here but not in a class.\n\n"
        "What brought p95 from 3,031 ms (2026-12-05 04:12) under 1 s: training workers below the "
        "web process in CPU priority (`RNNLAB_WORKER_NICE`, 10), the coach and a run's curves read "
        "once for every session, and the Train page refreshing only the runs that train. Measured "
        "alternately on a quiet machine, with 30 students: workers at the web's priority, p95 "
        "1,007 and 1,317 ms, epoch rate 0.77 / 0.77 and 0.84 / 0.89; at niceness 10, 883 and "
        "511 ms, 0.81 / 0.79 and 0.82 / 0.79 (before the last change, shared reads of a training "
        "run for 2 s)."),
    "lesson_rush": (
        "`python bench/lesson_rush.py`. Behind the dashboard (2 runs at a time), 30 students on the "
        "Learn page press Run on the vanishing-gradient lesson (3 runs) one every 2 s; each waits "
        "until its runs are finished, then opens the lesson page again (its results seen). The "
        "first run of each setting trains; the other 29 are repeats answered from it. Wait: from a "
        "student's press to its results seen. Baseline: one student alone on a fresh store."),
}
RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"


def _table(rows: list[dict]) -> list[str]:
    if not rows:
        return ["(no rows)"]
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + " --- |" * len(keys)]
    for row in rows:
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in (row.get(k, "") for k in keys)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _sections(text: str) -> dict[str, list[str]]:
    """The "## title" sections of a RESULTS.md: title -> its lines (heading included)."""
    sections, current = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = []
        if current is not None:
            sections[current].append(line)
    return sections


def write_markdown(only: list[str] | None = None) -> None:
    """bench/RESULTS.md from bench/results.json; a benchmark it lacks keeps its old section."""
    data = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    old = _sections(RESULTS_MD.read_text()) if RESULTS_MD.exists() else {}
    out = ["# Benchmark results", "", f"Machine: {machine()}.", "",
           "Made by `make bench`; each section says when it was measured.", ""]
    for name, title in BENCHES:
        key = {"store_bench": "store"}.get(name, name)
        if key not in data:
            kept = old.get(title, [])    # measured before, in a run that left no results.json
            out += kept + ([""] if kept and kept[-1] else [])
            continue
        note = [*NOTES[name].split("\n"), ""] if name in NOTES else []
        out += [f"## {title}", "", f"Measured {data[key]['when']}.", "", *note,
                *_table(data[key]["rows"]), ""]
        for sub, heading in SUBTABLES.get(name, []):
            if sub in data:
                out += [f"### {heading}", "", *_table(data[sub]["rows"]), ""]
        for function, heading in DERIVED.get(name, []):
            source = "forecast_quality_paths" if function.startswith("path_") else key
            if source in data:
                rows = getattr(importlib.import_module(f"bench.{name}"), function)(
                    data[source]["rows"])
                out += [f"### {heading}", "", *_table(rows), ""]
    titles = {title for _, title in BENCHES}
    for title, lines in old.items():      # a benchmark run on its own (e.g. bench/cluster.py)
        if title not in titles:
            out += lines + ([""] if lines and lines[-1] else [])
    RESULTS_MD.write_text("\n".join(out))


def main(names: list[str]) -> int:
    """Run the named benchmarks (all by default); 1 if any failed."""
    failed = []
    for name, title in BENCHES:
        if names and name not in names:
            continue
        print(f"\n== {title} ==", flush=True)
        start = time.perf_counter()
        try:
            bench_main = importlib.import_module(f"bench.{name}").main
            # a benchmark with its own options gets none: run_all's arguments are names
            takes_argv = "argv" in inspect.signature(bench_main).parameters
            bench_main([]) if takes_argv else bench_main()
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed.append(name)
        print(f"({time.perf_counter() - start:.0f} s)", flush=True)
    write_markdown()
    print(f"\nwrote {RESULTS_MD}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
