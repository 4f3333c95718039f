"""Lessons: the wall time of each lesson at its full epochs, run as the dashboard runs it.

For each lesson, every run is queued at once (`lessons.start_lesson`), then a `Runner` with the
default concurrency and the `LocalProcessExecutor` (one fresh worker process per run, as behind
the dashboard's Run button) works through the queue. The time is from the first submit until the
queue is empty. Goal: <= 90 s per lesson.

    python bench/lessons.py [LESSON_ID ...] [--keep DIR]   (--keep: leave the runs in DIR;
                                                            RNNLAB_BENCH_KEEP=DIR does the same)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import record, show  # noqa: E402

GOAL_S = 90.0
TIMEOUT_S = 900.0   # a lesson that takes longer is stopped and reported as such


def one_lesson(lesson, home: Path) -> dict:
    """Queue every run of `lesson` in the store at `home`, drain the queue, and time it."""
    from rnnlab import jobs
    from rnnlab.lessons import start_lesson
    from rnnlab.store import Store

    store = Store(home)
    runner = jobs.Runner(store, executor=jobs.LocalProcessExecutor())
    start = time.perf_counter()
    ids = start_lesson(store, lesson)
    runner.start()
    try:
        drained = runner.wait_idle(timeout=TIMEOUT_S)
        wall = time.perf_counter() - start
        if not drained:
            for run_id in ids:
                if not store.get_run(run_id).status.finished:
                    jobs.cancel(store, run_id)
            runner.wait_idle(timeout=60)
    finally:
        runner.stop()
    runs = [store.get_run(run_id) for run_id in ids]
    return {"lesson": lesson.id, "runs": len(runs),
            "epochs": " ".join(str(r.epochs_done) for r in runs),
            "statuses": " ".join(r.status.value for r in runs),
            "wall_s": wall if drained else f"> {TIMEOUT_S:.0f}",
            "concurrency": runner.concurrency,
            "goal_met": drained and wall <= GOAL_S}


def main(names: list[str] | None = None, keep: str | None = None) -> list[dict]:
    """Time the named lessons (all by default); print and record the table."""
    from rnnlab.lessons import load_lessons

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # workers inherit it: quiet logs
    keep = keep or os.environ.get("RNNLAB_BENCH_KEEP") or None
    lessons = load_lessons()
    chosen = [lessons[name] for name in names] if names else list(lessons.values())
    rows = []
    with tempfile.TemporaryDirectory(prefix="rnnlab-bench-lessons-") as scratch:
        for lesson in chosen:
            home = Path(keep or scratch) / lesson.id
            rows.append(one_lesson(lesson, home))
            print(f"  {lesson.id}: {rows[-1]['wall_s']} s", flush=True)
    rows.append({"lesson": f"goal: each <= {GOAL_S:.0f} s", "runs": "", "epochs": "",
                 "statuses": "", "wall_s": "", "concurrency": "",
                 "goal_met": all(r["goal_met"] for r in rows)})
    show(rows)
    if not names:
        record("lessons", rows)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("lessons", nargs="*", help="lesson ids (default: every lesson)")
    parser.add_argument("--keep", help="keep the runs in this folder (one store per lesson)")
    args = parser.parse_args()
    main(args.lessons, args.keep)
