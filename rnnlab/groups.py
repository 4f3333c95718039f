"""Run groups: several runs queued as one action and judged as one.

A "seeds" group trains the same setup with the seeds s, s+1, ..., s+N-1: one run is one draw,
and the spread over seeds tells luck from skill. This module names the members and sums a group
up from the runs' summaries (no TensorFlow, no Streamlit): the spread of test RMSE and of skill
vs naive, and one sentence such as
"3 of 5 seeds beat the naive forecast; median skill +0.12 (−0.05 … +0.20)".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnlab.errors import ConfigError
from rnnlab.store import MAX_GROUP_SIZE, RunRecord, RunStatus

MIN_SEEDS, MAX_SEEDS = 2, MAX_GROUP_SIZE
KIND_NOUNS = {"seeds": ("seed", "seeds")}


def check_seeds(n: object) -> int:
    """The number of seeds of a group, checked: a whole number from 2 to 10."""
    if isinstance(n, bool) or not isinstance(n, int) or not MIN_SEEDS <= n <= MAX_SEEDS:
        raise ConfigError(f"A seeds group has {MIN_SEEDS} to {MAX_SEEDS} runs (one per seed). "
                          f"Received: {n!r}")
    return n


def seed_values(seed: int, n: int) -> list[int]:
    """The seeds of a group of n: the config's seed, then the next n-1."""
    return [seed + i for i in range(check_seeds(n))]


def seeds_label(name: str, seed: int, n: int) -> str:
    """The group's name: 'NAME × 5 seeds (1–5)' (or without a name)."""
    what = f"× {n} seeds ({seed}–{seed + n - 1})"
    return f"{name} {what}" if name else f"Run {what}"


def member_name(name: str, seed: int) -> str:
    """A member's run name: 'NAME · seed 43'."""
    return f"{name} · seed {seed}" if name else f"seed {seed}"


def test_rmse(run: RunRecord) -> float | None:
    """The model's RMSE on the test part (None when the run has none, or it is not a number)."""
    value = (((run.summary.get("metrics") or {}).get("test") or {}).get("model") or {}).get("rmse")
    return _finite(value)


def skill(run: RunRecord) -> float | None:
    """Skill vs naive on the test part: the summary's, else 1 − RMSE ÷ naive RMSE."""
    value = _finite(run.summary.get("skill_vs_naive"))
    if value is not None:
        return value
    test = (run.summary.get("metrics") or {}).get("test") or {}
    model, naive = test_rmse(run), _finite((test.get("naive") or {}).get("rmse"))
    return 1.0 - model / naive if model is not None and naive else None


def _finite(value: object) -> float | None:
    try:
        value = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Spread:
    """Median, min and max of some numbers (None when there are none)."""

    n: int
    median: float | None
    low: float | None
    high: float | None

    @classmethod
    def of(cls, values: list[float]) -> "Spread":
        if not values:
            return cls(0, None, None, None)
        arr = np.asarray(values, dtype=float)
        return cls(len(values), float(np.median(arr)), float(arr.min()), float(arr.max()))


@dataclass(frozen=True)
class GroupStats:
    """A group summed up: how many runs, how many finished with a test score, how many beat
    the naive forecast, and the spread of skill and test RMSE over the scored runs."""

    kind: str
    n: int              # runs in the group
    active: int         # queued or running
    scored: int         # finished with a test score
    beat: int           # skill vs naive above 0
    skill: Spread
    rmse: Spread

    @property
    def nouns(self) -> tuple[str, str]:
        return KIND_NOUNS.get(self.kind, ("run", "runs"))


def stats(runs: list[RunRecord]) -> GroupStats:
    """The group's numbers, from its runs' summaries (only DONE runs are scored)."""
    done = [r for r in runs if r.status == RunStatus.DONE]
    skills = [s for s in (skill(r) for r in done) if s is not None]
    rmses = [v for v in (test_rmse(r) for r in done) if v is not None]
    kind = runs[0].group_kind if runs else ""
    return GroupStats(kind=kind, n=len(runs),
                      active=sum(r.status in (RunStatus.QUEUED, RunStatus.RUNNING) for r in runs),
                      scored=len(skills), beat=sum(s > 0 for s in skills),
                      skill=Spread.of(skills), rmse=Spread.of(rmses))


def signed(value: float) -> str:
    """+0.12, −0.05 (a real minus sign)."""
    text = f"{value:+.2f}"
    return "+0.00" if text == "-0.00" else text.replace("-", "−")


def sentence(runs: list[RunRecord]) -> str:
    """'3 of 5 seeds beat the naive forecast; median skill +0.12 (−0.05 … +0.20)', with what is
    still training or has no score said after it."""
    st = stats(runs)
    one, many = st.nouns
    if not st.scored:
        if st.active:
            return f"None of the {st.n} {many} has finished yet ({st.active} queued or training)."
        return f"None of the {st.n} {many} finished with a test score."
    text = (f"{st.beat} of {st.n} {many} beat the naive forecast; median skill "
            f"{signed(st.skill.median)} ({signed(st.skill.low)} … {signed(st.skill.high)})")
    rest = []
    if st.active:
        rest.append(f"{st.active} still queued or training")
    unscored = st.n - st.scored - st.active
    if unscored:
        rest.append(f"{unscored} ended without a test score")
    return text + (f"; {', '.join(rest)}." if rest else ".")


def spread_rows(runs: list[RunRecord]) -> list[dict]:
    """One row per run of the group: its seed, status, test RMSE and skill vs naive."""
    return [{"seed": (r.config.get("train") or {}).get("seed"), "run": r.id,
             "status": r.status.value, "test RMSE": test_rmse(r), "skill vs naive": skill(r),
             "beats naive": None if skill(r) is None else skill(r) > 0} for r in runs]
