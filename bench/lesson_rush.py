"""A lesson rush: a class of 30 presses Run on the same lesson within a minute.

Behind the dashboard (`streamlit run app.py`, its job runner training RNNLAB_CONCURRENCY = 2
runs at a time), each student is a websocket session (bench/stclient.py) on the Learn page of
the lesson. At its moment in the minute it presses Run: the Run button's own call,
`lessons.start_lesson` with the student's name and room. It then waits until every run of its
lesson is finished, as the page's live view shows, and opens the lesson's page once more: that
page run's end is when the student sees the results.

Baseline, in the same run on a fresh store: one student alone, press to results seen.
Figures: runs trained (not answered from a twin) against runs queued, each student's wait from
press to results seen (p50, max), the time from the first press to the last student seeing
results, and errors.

Goal: the lesson's runs train once (every other run is a repeat answered from them), and the
slowest student waits at most 2 × the one student's time.
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
from bench.stclient import Server, Session  # noqa: E402
from rnnlab import lessons  # noqa: E402
from rnnlab.store import Store  # noqa: E402

LESSON = "vanishing"        # three runs that all end "done" (a diverged run is not reused)
STUDENTS = 30
PRESS_SPREAD = 60.0         # the class presses Run over this many seconds
POLL = 1.0                  # how often a student's page looks at its runs (the live view)
TIMEOUT = 900.0


class Class:
    """Each student's press and results-seen moments, and the errors."""

    def __init__(self):
        self.pressed: dict[int, float] = {}
        self.seen: dict[int, float] = {}
        self.run_ids: dict[int, list[str]] = {}
        self.errors: list[str] = []


async def _student(server: Server, store: Store, lesson, index: int, press_at: float,
                   out: Class) -> None:
    session = Session(server)
    query = f"lesson={lesson.id}"
    try:
        await session.connect()
        await session.run_page("learn", query)
        await asyncio.sleep(max(0.0, press_at - time.perf_counter()))
        out.pressed[index] = time.perf_counter()
        ids = await asyncio.to_thread(lessons.start_lesson, store, lesson,
                                      owner=f"student {index + 1:02d}", room="rush")
        out.run_ids[index] = ids
        deadline = time.perf_counter() + TIMEOUT
        while True:
            runs = await asyncio.to_thread(lambda: [store.get_run(i) for i in ids])
            if all(r.status.finished for r in runs):
                break
            if time.perf_counter() > deadline:
                raise TimeoutError(f"student {index + 1}: runs not finished in {TIMEOUT:.0f} s")
            await asyncio.sleep(POLL)
        await session.run_page("learn", query)
        out.seen[index] = time.perf_counter()
        bad = [r for r in runs if r.status.value not in ("done", "diverged")]
        if bad:
            out.errors.append(f"student {index + 1}: " + ", ".join(
                f"{r.id} {r.status.value}" for r in bad))
    except Exception as exc:  # every failure is a figure of this benchmark
        out.errors.append(f"student {index + 1}: {exc!r}")
    finally:
        try:
            await session.close()
        except Exception:
            pass


async def _rush(server: Server, store: Store, lesson, students: int, spread: float) -> Class:
    out = Class()
    start = time.perf_counter() + 2.0
    presses = [start + spread * i / max(students - 1, 1) for i in range(students)]
    await asyncio.gather(*(_student(server, store, lesson, i, at, out)
                           for i, at in enumerate(presses)))
    return out


def _phase(lesson, students: int, spread: float) -> tuple[Class, list]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "home")
        with Server(store.home, env={"RNNLAB_CONCURRENCY": "2"}) as server:
            asyncio.run(_first_page(server))          # the first page run starts the runner
            out = asyncio.run(_rush(server, store, lesson, students, spread))
            runs = store.list_runs()
        return out, runs


async def _first_page(server: Server) -> None:
    session = Session(server)
    await session.connect()
    await session.close()


def _row(label: str, out: Class, runs: list) -> dict:
    waits = [out.seen[i] - out.pressed[i] for i in out.seen]
    first = min(out.pressed.values()) if out.pressed else float("nan")
    last = max(out.seen.values()) if out.seen else float("nan")
    return {"phase": label, "students": len(out.pressed), "runs_queued": len(runs),
            "runs_trained": sum(1 for r in runs if not r.repeat_of),
            "wait_p50_s": percentile(waits, 50), "wait_max_s": max(waits, default=float("nan")),
            "first_press_to_last_seen_s": last - first, "errors": len(out.errors)}


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the benchmark, print and record its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=STUDENTS)
    parser.add_argument("--spread", type=float, default=PRESS_SPREAD)
    parser.add_argument("--lesson", default=LESSON)
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args(argv)
    lesson = lessons.load_lessons()[args.lesson]
    rows = []
    for label, students, spread in (("one student", 1, 0.0),
                                    (f"a class of {args.students}", args.students, args.spread)):
        out, runs = _phase(lesson, students, spread)
        rows.append(_row(label, out, runs))
        for error in out.errors[:3]:
            print(f"{label}: {error}")
    solo, rush = rows
    trained_once = rush["runs_trained"] == len(lesson.runs)
    met = (trained_once and rush["errors"] == 0 and
           rush["wait_max_s"] <= 2 * solo["wait_max_s"])
    rows.append({"phase": f"goal: the lesson's {len(lesson.runs)} runs train once, the slowest "
                          f"student waits <= 2 × one student's time",
                 "students": "met" if met else "not met",
                 "runs_queued": f"{rush['wait_max_s'] / solo['wait_max_s']:.2f} ×"})
    show(rows)
    if not args.no_record:
        record("lesson_rush", rows)
    return rows


if __name__ == "__main__":
    main()
