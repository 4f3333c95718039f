"""A class on one server: who is who, a place in line, and the teacher's board.

A session can carry a name (typed once, kept by the browser) and a room code from the link
(`?room=CODE`); runs record both (`Store.create_run(owner=, room=)`). This is not security: the
shared password (`rnnlab.gate`) stays the lock, and anyone may type any name.

The queue's fair order lives in the store (`store._FAIR_ORDER`, `Store.queue_order`); this module
turns it into words ("3rd in line, starts in about 2 minutes") and sums a room up for the
teacher's board. Pure Python on run records: no Streamlit, no TensorFlow.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np

from rnnlab.errors import ConfigError
from rnnlab.groups import skill, test_rmse
from rnnlab.store import RunRecord, RunStatus

MAX_NAME = 40
ROOM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$")
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


def check_name(text: object) -> str:
    """A student's name, tidied (spaces collapsed); ConfigError saying what to type otherwise.
    '' stays '' (no name)."""
    name = " ".join(str(text or "").split())
    if len(name) > MAX_NAME:
        raise ConfigError(f"A name has at most {MAX_NAME} characters; this one has {len(name)}. "
                          "A first name or a nickname is enough.")
    if any(not ch.isprintable() for ch in name):
        raise ConfigError("A name cannot hold control characters. Type it again with letters, "
                          "digits and spaces.")
    return name


def check_room(code: object) -> str:
    """A room code from a link: 1-20 letters, digits, '-' or '_'; ConfigError otherwise."""
    room = str(code or "").strip()
    if room and not ROOM_RE.match(room):
        raise ConfigError(f"{room[:30]!r} is not a room code. Room codes are 1 to 20 letters, "
                          "digits, '-' or '_' (e.g. ?room=bio-2b); ask your teacher for the link.")
    return room


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def typical_seconds(runs: list[RunRecord], recent: int = 20) -> float | None:
    """The median wall time of the most recent finished (trained, not repeated) runs."""
    done = [r for r in runs if r.status == RunStatus.DONE and not r.repeat_of
            and r.elapsed is not None and r.finished_at]
    done.sort(key=lambda r: r.finished_at, reverse=True)
    times = [r.elapsed for r in done[:recent]]
    return float(np.median(times)) if times else None


def start_estimate(place: int, concurrency: int, running: list[RunRecord],
                   typical: float | None, now: float | None = None) -> float | None:
    """Seconds until the run `place`-th in line (1 = next) can start: the slots free up as the
    running runs finish (their ETA, else the typical time minus what they have run), then every
    `concurrency` runs ahead take one typical run time. None when nothing is known."""
    now = time.time() if now is None else now
    concurrency = max(1, concurrency)
    frees = []
    for run in running:
        if run.eta is not None:
            frees.append(run.eta)
        elif typical is not None and run.started_at is not None:
            frees.append(max(0.0, typical - (now - run.started_at)))
        else:
            return None
    frees += [0.0] * max(0, concurrency - len(running))   # free slots now
    frees.sort()
    if typical is None:
        return frees[place - 1] if place <= len(frees) else None
    # each slot serves its queue in turn: the run waits for the slot it will get
    rounds = (place - 1) // concurrency
    slot = frees[(place - 1) % concurrency] if frees else 0.0
    return slot + rounds * typical


def in_words(seconds: float | None) -> str:
    """'now', 'in about 40 seconds', 'in about 3 minutes', 'in about 1 hour 10 minutes'."""
    from rnnlab.groups import duration_words

    if seconds is None:
        return "when a place frees up (no finished run yet to judge how long runs take)"
    if seconds < 5:
        return "now"
    return f"in about {duration_words(seconds)}"


def place_sentence(run_id: str, order: list[str], concurrency: int,
                   running: list[RunRecord], finished: list[RunRecord]) -> str:
    """'3rd in line; it starts in about 2 minutes (2 runs train at a time).' for a queued run
    (or why it waits: a repeat waiting for its twin)."""
    if run_id not in order:
        return ""
    place = order.index(run_id) + 1
    when = start_estimate(place, concurrency, running, typical_seconds(finished))
    return (f"{ordinal(place)} in line; it starts {in_words(when)} ({concurrency} "
            f"run{'s' if concurrency != 1 else ''} train at a time).")


# -- the teacher's board ------------------------------------------------------------------------
@dataclass(frozen=True)
class StudentRow:
    """One student on the board: their runs in the room and their latest result."""

    owner: str
    runs: int
    active: int
    done: int
    failed: int
    latest: RunRecord | None        # the newest run
    best: RunRecord | None          # the finished run with the highest skill vs naive

    def row(self) -> dict:
        """The board's table row, in words and numbers."""
        best = self.best
        latest = self.latest
        return {"student": self.owner, "runs": self.runs, "training or waiting": self.active,
                "finished": self.done, "failed": self.failed,
                "latest": f"{latest.name or latest.id}: {latest.status.value}" if latest else "",
                "best skill vs naive": skill(best) if best else None,
                "its test RMSE": test_rmse(best) if best else None,
                "best run": best.id if best else ""}


def room_runs(runs: list[RunRecord], room: str, name_prefix: str = "") -> list[RunRecord]:
    """The runs queued from a room (with a name), optionally only a lesson's (by run name)."""
    return [r for r in runs if r.room == room and r.owner
            and (not name_prefix or r.name.startswith(name_prefix))]


def board(runs: list[RunRecord]) -> list[StudentRow]:
    """One row per student, by name."""
    by_owner: dict[str, list[RunRecord]] = {}
    for run in runs:
        by_owner.setdefault(run.owner, []).append(run)
    rows = []
    for owner in sorted(by_owner, key=str.casefold):
        mine = sorted(by_owner[owner], key=lambda r: r.created_at)
        scored = [r for r in mine if r.status == RunStatus.DONE and skill(r) is not None]
        rows.append(StudentRow(
            owner=owner, runs=len(mine), active=sum(r.status in ACTIVE for r in mine),
            done=sum(r.status == RunStatus.DONE for r in mine),
            failed=sum(r.status == RunStatus.FAILED for r in mine), latest=mine[-1],
            best=max(scored, key=skill) if scored else None))
    return rows


def class_sentence(rows: list[StudentRow]) -> str:
    """'12 students, 9 with a finished run: median skill +0.21 (−0.10 … +0.40); 7 beat naive.'"""
    from rnnlab.groups import signed

    if not rows:
        return "No named student has queued a run in this room yet."
    skills = [skill(r.best) for r in rows if r.best is not None]
    head = f"{len(rows)} student{'s' if len(rows) != 1 else ''}"
    if not skills:
        return f"{head}, none with a finished run yet."
    med = float(np.median(skills))
    return (f"{head}, {len(skills)} with a finished run: median best skill {signed(med)} "
            f"({signed(min(skills))} … {signed(max(skills))}); "
            f"{sum(s > 0 for s in skills)} beat the naive forecast.")
