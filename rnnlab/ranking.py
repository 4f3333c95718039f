"""Which runs can be ranked against each other, and which of them (if any) is the best.

Errors are in the data's units and on its test part: a run on CO2 in ppm and a run on quarterly
percentage changes cannot be ranked by RMSE, nor can two runs scored on different test parts or
horizons. Skill vs naive (1 − RMSE ÷ naive RMSE) is unit-free and can be read side by side. A
run that does not beat the naive forecast is never called the best.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rnnlab.evaluate import format_number
from rnnlab.groups import signed, skill, test_rmse
from rnnlab.predictors import PREDICTORS
from rnnlab.store import RunRecord, RunStatus


def _data(run: RunRecord) -> dict:
    return run.config.get("data") or {}


def target_of(run: RunRecord) -> str:
    """The column the run forecasts: as the worker recorded it, else as configured."""
    return str(run.result.target or _data(run).get("target") or "")


def source_of(run: RunRecord) -> str:
    return str(_data(run).get("source") or run.result.data_source or "")


def same_data(a: RunRecord, b: RunRecord) -> bool:
    """The same data: the same content hash when both runs recorded one, else the same file."""
    if a.data_sha256 and b.data_sha256:
        return a.data_sha256 == b.data_sha256
    return source_of(a) == source_of(b)


def _test_part(run: RunRecord) -> tuple:
    data = _data(run)
    return (data.get("test_source") or "", data.get("test_fraction"))


def _horizon(run: RunRecord) -> object:
    return (run.config.get("model") or {}).get("horizon", 1)


CHECKS = (  # what must agree for errors to be ranked, and how a difference is said
    ("data", lambda a, b: same_data(a, b)),
    ("target column", lambda a, b: target_of(a) == target_of(b)),
    ("test part", lambda a, b: _test_part(a) == _test_part(b)),
    ("forecast horizon", lambda a, b: _horizon(a) == _horizon(b)),
)


def comparable(a: RunRecord, b: RunRecord) -> bool:
    """True when the errors of the two runs can be ranked against each other."""
    return all(check(a, b) for _, check in CHECKS)


def differences(runs: list[RunRecord]) -> list[str]:
    """What differs among the runs that keeps their errors from being ranked ([] if nothing)."""
    if not runs:
        return []
    first = runs[0]
    return [what for what, check in CHECKS if not all(check(first, r) for r in runs[1:])]


def same_data_as(reference: RunRecord, runs: list[RunRecord]) -> list[RunRecord]:
    """The runs whose errors can be ranked against the reference's (it included), in order."""
    return [r for r in runs if r.id == reference.id or comparable(reference, r)]


@dataclass(frozen=True)
class Verdict:
    """The outcome of ranking some runs.

    kind: "best" (best is set), "none_beat_naive", "different" (not rankable: `differ` says
    why), "unscored" (no finished run with a test score). `message` says it in words."""

    kind: str
    message: str
    best: str | None = None
    caveat: str = ""
    differ: list[str] = field(default_factory=list)


def verdict(runs: list[RunRecord], label=lambda r: r.label) -> Verdict:
    """Rank the runs by test RMSE, honestly: none across different data, targets, test parts or
    horizons; none crowned that does not beat the naive forecast."""
    differ = differences(runs)
    if differ:
        return Verdict("different", (
            f"No best run: these runs differ in their {_words(differ)}, so their errors are in "
            "different units or on different values and cannot be ranked. Compare their skill "
            "vs naive instead (above 0 beats repeating the last value)."), differ=differ)
    scored = [(test_rmse(r), r) for r in runs if r.status == RunStatus.DONE]
    scored = [(v, r) for v, r in scored if v is not None]
    if not scored:
        return Verdict("unscored", "None of these runs finished with a test score, so none is "
                                   "ranked.")
    rmse, best = min(scored, key=lambda pair: pair[0])
    best_skill = skill(best)
    if best_skill is None or best_skill <= 0:
        what = "this run does not do" if len(scored) == 1 else "none of these runs does"
        return Verdict("none_beat_naive", (
            f"No best run: {what} better than the naive forecast (repeating the last value). "
            f"The lowest test RMSE, {format_number(rmse)} by {label(best)}, "
            + (f"gives a skill of {signed(best_skill)} (0 or below: no better than naive)."
               if best_skill is not None else "was not compared with naive.")))
    message = (f"Best run: {label(best)}, with the lowest test RMSE ({format_number(rmse)}); it beats "
               f"the naive forecast (skill {signed(best_skill)}).")
    return Verdict("best", message, best=best.id, caveat=_baseline_caveat(best, rmse))


def _baseline_caveat(run: RunRecord, rmse: float) -> str:
    """'But the seasonal naive forecast does better still (RMSE 0.15 against 0.18).' or ''."""
    test = run.result.test_metrics
    baselines = []
    for name, scores in test.items():
        value = (scores or {}).get("rmse") if isinstance(scores, dict) else None
        if name != "model" and isinstance(value, (int, float)) and math.isfinite(value):
            baselines.append((float(value), name))
    if not baselines:
        return ""
    value, name = min(baselines)
    if value >= rmse:
        return ""
    return (f"But a simpler forecast, {PREDICTORS.get(name, name)}, does better still "
            f"(RMSE {format_number(value)} against {format_number(rmse)}): the network is not worth its cost yet.")


def _words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
