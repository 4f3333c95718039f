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
    return _finite(run.result.test_rmse())


def skill(run: RunRecord) -> float | None:
    """Skill vs naive on the test part: the summary's, else 1 − RMSE ÷ naive RMSE."""
    value = _finite(run.result.skill_vs_naive)
    if value is not None:
        return value
    model, naive = test_rmse(run), _finite(run.result.test_rmse("naive"))
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


# -- sweeps -------------------------------------------------------------------------------------
# A "sweep" group varies one or two settings over a few values each (a grid), optionally times
# seeds: which setting helps, and is the difference bigger than the spread over seeds? The grid
# is not stored apart: it is read back from the members' configs (`sweep_axes`).

@dataclass(frozen=True)
class Sweepable:
    """A setting a sweep can vary: where it lives in the config and how a value is read."""

    section: str
    field: str
    words: str
    kind: type


SWEEPABLE = {
    "units": Sweepable("model", "units", "units per layer", int),
    "n_layers": Sweepable("model", "n_layers", "layers", int),
    "dropout": Sweepable("model", "dropout", "dropout", float),
    "lookback": Sweepable("model", "lookback", "lookback (steps)", int),
    "cell": Sweepable("model", "cell", "cell", str),
    "l2": Sweepable("model", "l2", "L2 penalty", float),
    "learning_rate": Sweepable("train", "learning_rate", "learning rate", float),
    "batch_size": Sweepable("train", "batch_size", "batch size", int),
    "epochs": Sweepable("train", "epochs", "epochs", int),
}
MAX_AXES, MAX_VALUES = 2, 6
MAX_SWEEP_RUNS = MAX_GROUP_SIZE * MAX_GROUP_SIZE     # the store's limit for one group
CONFIRM_OVER = 50                                    # a bigger grid asks "are you sure?" first
KIND_NOUNS["sweep"] = ("run", "runs")


def parse_values(name: str, text: str) -> list:
    """'8, 32, 128' -> [8, 32, 128] for the setting `name`, checked: 2 to MAX_VALUES distinct
    values of the right kind; ConfigError naming the problem otherwise."""
    if name not in SWEEPABLE:
        raise ConfigError(f"{name!r} cannot be swept. Settings that can: "
                          f"{', '.join(SWEEPABLE)}.")
    spec = SWEEPABLE[name]
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    values = []
    for part in parts:
        try:
            value = spec.kind(part) if spec.kind is not int else int(float(part))
            if spec.kind is int and float(part) != int(float(part)):
                raise ValueError
        except ValueError:
            kind = {int: "whole numbers", float: "numbers", str: "names"}[spec.kind]
            raise ConfigError(f"The {spec.words} values must be {kind} separated by commas, "
                              f"e.g. '8, 32, 128'. '{part}' is not.") from None
        if value not in values:
            values.append(value)
    if not 2 <= len(values) <= MAX_VALUES:
        raise ConfigError(f"Give {spec.words} 2 to {MAX_VALUES} different values, separated by "
                          f"commas. Received: {len(values)} ({text!r}).")
    return values


def sweep_size(axes: dict[str, list], seeds: int = 1) -> int:
    """Runs in the grid: the product of the axes' lengths, times the seeds."""
    n = seeds
    for values in axes.values():
        n *= len(values)
    return n


def check_sweep(axes: dict[str, list], seeds: int = 1) -> int:
    """The grid checked (1 or 2 settings, the seeds, at most MAX_SWEEP_RUNS runs); its size."""
    if not 1 <= len(axes) <= MAX_AXES:
        raise ConfigError(f"A sweep varies 1 or {MAX_AXES} settings. Received: {len(axes)}.")
    unknown = [name for name in axes if name not in SWEEPABLE]
    if unknown:
        raise ConfigError(f"{unknown[0]!r} cannot be swept. Settings that can: "
                          f"{', '.join(SWEEPABLE)}.")
    if seeds != 1:
        check_seeds(seeds)
    n = sweep_size(axes, seeds)
    if n > MAX_SWEEP_RUNS:
        raise ConfigError(f"This sweep would queue {n} runs; one group holds at most "
                          f"{MAX_SWEEP_RUNS}. Use fewer values or fewer seeds.")
    return n


def sweep_configs(run_cfg, axes: dict[str, list], seeds: int = 1) -> list:
    """One RunConfig per grid cell and seed, in queue order (cell by cell, seeds inside), each
    named for its cell: 'NAME · units 32, dropout 0.2 · seed 43'."""
    import itertools

    check_sweep(axes, seeds)
    names = list(axes)
    out = []
    for cell in itertools.product(*(axes[n] for n in names)):
        changes: dict[str, dict] = {}
        for name, value in zip(names, cell):
            spec = SWEEPABLE[name]
            changes.setdefault(spec.section, {})[spec.field] = value
        base = run_cfg.replace(**changes)
        words = ", ".join(f"{n} {_value(v)}" for n, v in zip(names, cell))
        for i in range(seeds):
            seed = run_cfg.train.seed + i
            label = f"{words} · seed {seed}" if seeds > 1 else words
            out.append(base.replace(train={"seed": seed},
                                    name=f"{run_cfg.name} · {label}" if run_cfg.name else label))
    return out


def sweep_label(name: str, axes: dict[str, list], seeds: int = 1) -> str:
    """The group's name: 'NAME: units 8/32/128 × dropout 0/0.2 × 2 seeds'."""
    grid = " × ".join(f"{n} {'/'.join(_value(v) for v in vals)}" for n, vals in axes.items())
    what = grid + (f" × {seeds} seeds" if seeds > 1 else "")
    return f"{name}: {what}" if name else f"Sweep: {what}"


def _value(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _setting(run: RunRecord, name: str):
    spec = SWEEPABLE[name]
    value = (run.config.get(spec.section) or {}).get(spec.field)
    return tuple(value) if isinstance(value, list) else value


def sweep_axes(runs: list[RunRecord]) -> dict[str, list]:
    """The settings the group's runs differ in (among SWEEPABLE), with their values in order."""
    axes = {}
    for name in SWEEPABLE:
        values = []
        for run in runs:
            v = _setting(run, name)
            if v not in values:
                values.append(v)
        if len(values) > 1:
            axes[name] = values
    return axes


@dataclass(frozen=True)
class Cell:
    """One grid cell of a sweep: its settings and its runs' scores over seeds."""

    values: tuple
    stats: GroupStats
    runs: tuple


def sweep_cells(runs: list[RunRecord]) -> tuple[dict[str, list], list[Cell]]:
    """(axes, cells in grid order): each cell's runs summed up like a seeds group."""
    axes = sweep_axes(runs)
    names = list(axes)
    by_cell: dict[tuple, list[RunRecord]] = {}
    for run in runs:
        by_cell.setdefault(tuple(_setting(run, n) for n in names), []).append(run)
    cells = [Cell(key, stats(members), tuple(members)) for key, members in by_cell.items()]
    return axes, cells


def best_cell(cells: list[Cell]) -> Cell | None:
    """The cell with the highest median skill vs naive (None until one has a score)."""
    scored = [c for c in cells if c.stats.skill.median is not None]
    return max(scored, key=lambda c: c.stats.skill.median) if scored else None


def sweep_sentence(runs: list[RunRecord]) -> str:
    """'Best: units 32, dropout 0.2, median skill +0.21 (+0.18 … +0.25) over 2 seeds; 9 of 12
    runs beat the naive forecast.' (or how far the sweep has got)."""
    axes, cells = sweep_cells(runs)
    overall = stats(runs)
    best = best_cell(cells)
    if best is None:
        return sentence(runs)
    where = ", ".join(f"{n} {_value(v)}" for n, v in zip(axes, best.values))
    s = best.stats
    over = (f" ({signed(s.skill.low)} … {signed(s.skill.high)}) over {s.scored} seeds"
            if s.scored > 1 else "")
    text = (f"Best: {where}, median skill {signed(s.skill.median)}{over}; {overall.beat} of "
            f"{overall.n} runs beat the naive forecast")
    if overall.active:
        text += f"; {overall.active} still queued or training"
    return text + "."


def sweep_table(runs: list[RunRecord]) -> list[dict]:
    """One row per grid cell: its settings, median skill (min … max over seeds), median test
    RMSE, and how many of its runs beat naive."""
    axes, cells = sweep_cells(runs)
    rows = []
    for cell in cells:
        s = cell.stats
        row = {SWEEPABLE[n].words: _value(v) for n, v in zip(axes, cell.values)}
        row.update({"median skill vs naive": s.skill.median, "lowest skill": s.skill.low,
                    "highest skill": s.skill.high, "median test RMSE": s.rmse.median,
                    "beat naive": f"{s.beat} of {s.n}"})
        rows.append(row)
    return rows


def estimate_seconds(finished: list[RunRecord], epochs: list[int], concurrency: int
                     ) -> float | None:
    """A rough upper estimate of the wall time of runs with these epoch budgets: the median
    seconds per epoch of the finished runs given, times every epoch, shared over the
    concurrency (early stopping usually ends runs sooner). None with nothing to go by."""
    per_epoch = [r.elapsed / r.epochs_done for r in finished
                 if r.status == RunStatus.DONE and r.epochs_done and r.elapsed
                 and not r.repeat_of]
    if not per_epoch:
        return None
    return float(np.median(per_epoch)) * sum(epochs) / max(1, concurrency)


def duration_words(seconds: float) -> str:
    """'40 seconds', '3 minutes', '1 hour 10 minutes' (rounded for people)."""
    if seconds < 90:
        return f"{max(10, int(math.ceil(seconds / 10.0) * 10))} seconds"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} minutes"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} hour{'s' if hours > 1 else ''}" + (f" {minutes} minutes" if minutes else "")


# -- backtests ----------------------------------------------------------------------------------
# A "backtest" group trains the same setup at k origins rolling forward through the data: fold i
# uses the rows up to its origin (DataConfig.end_row), trains on what came before its test part
# and tests on the next h rows (h: the whole data's test part). One chronological split says how
# the model does at one time; k folds say whether it holds up at others.

MIN_FOLDS, MAX_FOLDS = 2, MAX_GROUP_SIZE
KIND_NOUNS["backtest"] = ("fold", "folds")


def check_folds(k: object) -> int:
    """The number of folds: a whole number from 2 to 10."""
    if isinstance(k, bool) or not isinstance(k, int) or not MIN_FOLDS <= k <= MAX_FOLDS:
        raise ConfigError(f"A backtest has {MIN_FOLDS} to {MAX_FOLDS} folds (origins). "
                          f"Received: {k!r}")
    return k


def backtest_configs(run_cfg, folds: int, n_rows: int) -> list:
    """One RunConfig per fold, oldest origin first: fold i ends at row
    n_rows − (folds − 1 − i)·h and tests on its last h rows (h: the test part of all n_rows)."""
    from rnnlab.data import part_size

    check_folds(folds)
    if run_cfg.data.test_source:
        raise ConfigError("A backtest rolls the test part through one file; this setup tests on "
                          "a separate test file. Remove the test file, or train single runs.")
    h = part_size(n_rows, run_cfg.data.test_fraction)
    out = []
    for i in range(folds):
        end = n_rows - (folds - 1 - i) * h
        if end - h < max(20, 3 * h):
            raise ConfigError(f"{folds} folds of {h} test rows leave the first fold only "
                              f"{end - h} rows to learn from ({n_rows} rows in all). Use fewer "
                              "folds or a smaller test share.")
        label = f"fold {i + 1} of {folds} (rows to {end})"
        out.append(run_cfg.replace(
            data={"end_row": end, "test_fraction": h / end},
            name=f"{run_cfg.name} · {label}" if run_cfg.name else label))
    return out


def backtest_label(name: str, folds: int, h: int) -> str:
    """'NAME: backtest, 4 folds of 20 rows'."""
    what = f"backtest, {folds} folds of {h} test rows"
    return f"{name}: {what}" if name else f"Backtest: {what}"


def backtest_rows(runs: list[RunRecord]) -> list[dict]:
    """One row per fold: where it ends, its test RMSE, the naive RMSE, skill vs naive."""
    rows = []
    for k, run in enumerate(runs, 1):
        rows.append({"fold": k, "rows up to": (run.config.get("data") or {}).get("end_row"),
                     "status": run.status.value, "test RMSE": test_rmse(run),
                     "naive RMSE": _finite(run.result.test_rmse("naive")),
                     "skill vs naive": skill(run) if run.status == RunStatus.DONE else None})
    return rows


def pooled_skill(runs: list[RunRecord]) -> float | None:
    """Skill vs naive over every fold's test rows together: 1 − pooled RMSE ÷ pooled naive RMSE
    (each fold's mean squared error weighted by its number of test values)."""
    num = den = 0.0
    for run in runs:
        result = run.result
        model, naive = result.scores("test", "model"), result.scores("test", "naive")
        n = model.get("n")
        if run.status != RunStatus.DONE or not n or model.get("rmse") is None \
                or naive.get("rmse") is None:
            continue
        num += n * float(model["rmse"]) ** 2
        den += n * float(naive["rmse"]) ** 2
    return 1.0 - math.sqrt(num / den) if den > 0 else None


def backtest_sentence(runs: list[RunRecord]) -> str:
    """'3 of 4 folds beat the naive forecast; skill per fold +0.12, −0.03, +0.20, +0.15; over
    all folds +0.13.'"""
    st = stats(runs)
    if not st.scored:
        return sentence(runs)
    per = ", ".join("—" if r["skill vs naive"] is None else signed(r["skill vs naive"])
                    for r in backtest_rows(runs))
    pooled = pooled_skill(runs)
    text = (f"{st.beat} of {st.n} folds beat the naive forecast; skill per fold {per}"
            + (f"; over all folds {signed(pooled)}" if pooled is not None else ""))
    return text + (f"; {st.active} still queued or training." if st.active else ".")


def kind_sentence(runs: list[RunRecord]) -> str:
    """The group's one sentence for its kind: a sweep's best cell, a backtest's folds, else the
    spread over seeds."""
    kind = runs[0].group_kind if runs else ""
    if kind == "sweep":
        return sweep_sentence(runs)
    if kind == "backtest":
        return backtest_sentence(runs)
    return sentence(runs)
