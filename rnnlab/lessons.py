"""Lessons: a preset (data + run configs) plus a text of what to look at.

Lessons are JSON files: the built-in ones in `lessons/` beside the package, and a teacher's own in
the folder named by `RNNLAB_LESSONS`. Each file holds one lesson:

    {"id": "vanishing", "order": 3, "title": ..., "concept": ..., "explanation": ...,
     "look_at": ..., "view": "gradients_compare",
     "preset": "seed-tutorial",            (optional: start from a preset config)
     "base": {RunConfig fields to set},
     "runs": [{"label": "SimpleRNN", "changes": {"model": {"cell": "simple_rnn"}}}, ...]}

A lesson's runs are ordinary runs, named "<title> · <label>" so every page shows them.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rnnlab.config import RunConfig, preset
from rnnlab.errors import ConfigError, RnnlabError

BUILTIN_DIR = Path(__file__).resolve().parent / "lessons"   # package data; ./lessons links here
VIEWS = ("types", "unrolled", "gradients_compare", "compare", "lag", "results", "gradients")
_FIELDS = {"id", "order", "title", "concept", "explanation", "look_at", "view", "preset", "base",
           "runs"}
NAME_SEP = " · "


class LessonError(ConfigError):
    """A lesson file is malformed."""


@dataclass(frozen=True)
class Lesson:
    """One lesson: its texts and the configs of its runs."""

    id: str
    order: int
    title: str
    concept: str
    explanation: str
    look_at: str
    view: str
    runs: tuple[tuple[str, RunConfig], ...]   # (label, config) in the order to train them
    source: str = ""

    def configs(self, quick_epochs: int | None = None) -> list[tuple[str, RunConfig]]:
        """The runs' configs; `quick_epochs` cuts every run's epochs (tests, rehearsals)."""
        if quick_epochs is None:
            return list(self.runs)
        return [(label, cfg.replace(train={"epochs": min(cfg.train.epochs, quick_epochs)}))
                for label, cfg in self.runs]

    def run_name(self, label: str) -> str:
        """The name a run of this lesson is stored under."""
        return f"{self.title}{NAME_SEP}{label}"


def parse_lesson(raw: dict, source: str = "") -> Lesson:
    """Validate one lesson dict and build its run configs."""
    where = f"Lesson {source or raw.get('id', '?')}"
    if not isinstance(raw, dict):
        raise LessonError(f"{where} must be a JSON object.")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise LessonError(f"{where} has unknown field(s): {', '.join(unknown)}. "
                          f"Known fields: {', '.join(sorted(_FIELDS))}.")
    missing = [k for k in ("id", "title", "explanation", "look_at", "runs") if not raw.get(k)]
    if missing:
        raise LessonError(f"{where} is missing: {', '.join(missing)}.")
    view = raw.get("view", "results")
    if view not in VIEWS:
        raise LessonError(f"{where}: view must be one of {', '.join(VIEWS)}. Received: {view!r}")
    runs = tuple((str(r.get("label", f"run {i + 1}")), _run_config(raw, r, where))
                 for i, r in enumerate(raw["runs"]))
    return Lesson(id=str(raw["id"]), order=int(raw.get("order", 99)), title=str(raw["title"]),
                  concept=str(raw.get("concept", "")), explanation=str(raw["explanation"]),
                  look_at=str(raw["look_at"]), view=view, runs=runs, source=source)


def _run_config(raw: dict, run: dict, where: str) -> RunConfig:
    base = preset(raw["preset"]) if raw.get("preset") else RunConfig()
    try:
        cfg = base.replace(**raw.get("base", {})) if raw.get("base") else base
        cfg = cfg.replace(**run.get("changes", {})) if run.get("changes") else cfg
    except RnnlabError as exc:
        raise LessonError(f"{where}, run {run.get('label', '?')!r}: {exc}") from None
    title = f"{raw['title']}{NAME_SEP}{run.get('label', '')}"
    return cfg.replace(name=title)


def lesson_dirs() -> list[Path]:
    """Where lessons are read from: the built-in folder, then RNNLAB_LESSONS if set."""
    dirs = [BUILTIN_DIR]
    if os.environ.get("RNNLAB_LESSONS"):
        dirs.append(Path(os.environ["RNNLAB_LESSONS"]).expanduser())
    return dirs


def load_lessons(dirs: list[Path] | None = None) -> dict[str, Lesson]:
    """All lessons by id, in teaching order; a teacher's lesson with a built-in id replaces it.

    Parsed once per version of the files: a file added, removed or changed (its size, time or
    inode) is read again; an unreadable file raises every time."""
    folders = dirs if dirs is not None else lesson_dirs()
    return dict(_parsed_lessons(tuple(_signature(Path(folder)) for folder in folders)))


def _signature(folder: Path) -> tuple:
    """(folder, ((path, mtime_ns, size, inode), ...)) of the folder's lesson files, by name."""
    files = []
    for path in sorted(folder.glob("*.json")):
        try:
            stat = path.stat()
        except OSError:  # vanished, or unreadable: reading it says why
            files.append((str(path), None, None, None))
            continue
        files.append((str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino))
    return str(folder), tuple(files)


@functools.lru_cache(maxsize=8)
def _parsed_lessons(signature: tuple) -> tuple[tuple[str, Lesson], ...]:
    """The lessons of these files (Lesson and RunConfig are frozen: safe to share)."""
    found: dict[str, Lesson] = {}
    for _, files in signature:
        for name, *_ in files:
            path = Path(name)
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise LessonError(f"Lesson file {path.name} cannot be read: {exc}. "
                                  "Fix the JSON or remove the file.") from None
            lesson = parse_lesson(raw, source=path.name)
            found[lesson.id] = lesson
    return tuple(sorted(found.items(), key=lambda item: (item[1].order, item[0])))


def get_lesson(lesson_id: str, lessons: dict[str, Lesson] | None = None) -> Lesson:
    """One lesson by id, with the list of ids in the message when it is unknown."""
    lessons = lessons if lessons is not None else load_lessons()
    if lesson_id not in lessons:
        raise LessonError(f"There is no lesson {lesson_id!r}. Lessons: {', '.join(lessons)}.")
    return lessons[lesson_id]


def start_lesson(store, lesson: Lesson, quick_epochs: int | None = None,
                 submit: Callable | None = None, *, owner: str = "",
                 room: str = "") -> list[str]:
    """Queue every run of a lesson; return their run ids in lesson order.

    `owner` and `room` say who queued them (a class); with a cap on waiting runs per person
    (RNNLAB_MAX_QUEUED_PER_USER) the whole lesson is refused up front (jobs.QueueFull) rather
    than queued in part."""
    configs = lesson.configs(quick_epochs)
    who = {key: value for key, value in (("owner", owner), ("room", room)) if value}
    if submit is None:
        from rnnlab.jobs import check_turns, submit

        check_turns(store, owner, adding=len(configs))
    return [submit(store, cfg, **who) for _, cfg in configs]


def lesson_runs(store, lesson: Lesson, runs: list | None = None,
                owner: str = "") -> dict[str, object]:
    """The newest stored run for each of the lesson's labels: {label: RunRecord}; with `owner`
    (a named student) only that person's runs, so a class's runs do not mix.

    `runs`: the store's runs, newest first, when the caller has just listed them (a page showing
    every lesson lists them once, not once per lesson)."""
    by_name = {}
    for run in store.list_runs() if runs is None else runs:  # newest first: the first match wins
        if owner and run.owner != owner:
            continue
        by_name.setdefault(run.name, run)
    return {label: by_name[lesson.run_name(label)] for label, _ in lesson.runs
            if lesson.run_name(label) in by_name}
