"""The coach: reads a run and says, in plain words, what went wrong and what to try next.

Each rule reads what the store already holds (config, summary, epoch curves, predictions.csv,
gradient through time) and returns a `Diagnosis`: a headline, the numbers behind it, advice, and
a "Try this", a partial config for `RunConfig.replace` that fills in a new run (`apply`). A rule
whose data is missing (an older run, a run still training) stays silent, so the coach also runs
live on the Train page. numpy and pandas only: it runs in the web process and the CLI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rnnlab import artefacts
from rnnlab import cells
from rnnlab.artefacts import ONE_STEP
from rnnlab.config import MAX_EPOCHS, RunConfig
from rnnlab.errors import StoreError
from rnnlab.evaluate import format_number
from rnnlab.summary import RunSummary, run_summary

OUTSIDE_SHARE = 0.20   # share of test values outside the training range that needs a fix
FLAT_RATIO = 0.10      # forecast spread below this share of the actual spread: a flat line
TREND_R2 = 0.5         # a straight line explains this much of the test values: a trend
COPY_MIN_CORR = 0.5    # the one-step-late match must be this strong to call it copying
IMPROVING_DROP = 0.05  # the loss fell this much over the last fifth of training: not done yet
OVERFIT_RISE = 0.20    # validation loss this far above its best (beyond noise): overfitting
OVERFIT_EPOCHS = 5     # ... for at least this many epochs (and a tenth of the run)
SPIKE_FACTOR = 100.0   # one step's gradient this many times the typical size: exploding
FADED = 1e-3           # gradient below this share of the latest step's: it no longer arrives
MIN_ROWS = 10          # fewer test rows than this say nothing reliable
LINEAR_MARGIN = 0.05   # the linear autoregression's error this much below the network's: it wins
CLASSICAL_MARGIN = 0.05  # the same for the classical anchor (exponential smoothing)
SAME_AS_LINE = 0.01    # the network within this share of its linear autoregression: the same line
MIN_EPOCHS = 5         # fewer epochs than this say nothing about where the loss is heading
CHANGES = ("none", "log")   # transforms under which the network learns levels, not changes
DEFAULTS = RunConfig()      # what an older run's config means where it lacks a setting


@dataclass(frozen=True)
class Diagnosis:
    """One thing the coach sees, the numbers behind it, and a change to try."""

    code: str            # stable id: "outside_range", "flat", ...
    title: str           # short headline in plain words
    evidence: str        # the numbers behind it
    advice: str          # what to do and why, one or two sentences
    try_this: dict = field(default_factory=dict)  # partial config for RunConfig.replace; {}: none
    try_label: str = ""  # the button text

    @property
    def settings(self) -> str:
        """The try-this as text: 'transform=difference, season=12' ('' when there is none)."""
        return ", ".join(f"{name}={value}" for part in self.try_this.values()
                         if isinstance(part, dict) for name, value in part.items())


@dataclass
class _Run:
    """What the rules read, tidied: missing parts are None or empty."""

    config: dict
    summary: RunSummary
    curves: dict
    status: str
    through_time: dict
    test: pd.DataFrame | None = None                # step-1 test rows: actual, model, naive
    train_range: tuple[float, float] | None = None  # (min, max) of the target in training
    skill: float | None = None                      # skill vs naive on the test part

    def setting(self, section: str, name: str):
        """A config value, or the default when an older config lacks it."""
        part = self.config.get(section)
        if isinstance(part, dict) and name in part:
            return part[name]
        return getattr(getattr(DEFAULTS, section), name)


def diagnose(config: dict, summary: dict | RunSummary | None, curves: dict | None,
             predictions: pd.DataFrame | None, through_time: dict | None,
             status: str) -> list[Diagnosis]:
    """Every diagnosis that applies, the most basic problem first; [] for a healthy run."""
    run = _Run(config or {}, run_summary(summary), curves or {},
               str(getattr(status, "value", status)),
               through_time or {}, test=_one_step_rows(predictions, "test"))
    run.train_range = _train_range(run.summary, _one_step_rows(predictions, "train", 1))
    run.skill = _skill(run.summary, run.test)
    found = (rule(run) for rule in RULES)
    return [d for d in found if d is not None]


def diagnose_run(store, run_id: str) -> list[Diagnosis]:
    """Diagnose a run from the store; missing or unreadable files only silence their rules."""
    run = store.get_run(run_id)
    return diagnose(run.config, run.result, store.curves(run_id), _read_predictions(store, run_id),
                    store.through_time(run_id), run.status.value)


def apply(config: dict, diagnosis: Diagnosis) -> RunConfig:
    """The validated config of the new run: the run's own with the diagnosis' change."""
    return RunConfig.from_dict(config).replace(**diagnosis.try_this)


# -- the rules, in the order they are reported --------------------------------------------------

def _exploding(run: _Run) -> Diagnosis | None:
    """Diverged, a loss that is not a number, or a gradient spike."""
    bad = np.flatnonzero(~np.isfinite(_column(run.curves, "train_loss")))  # NaN is kept as None
    spike, facts = _spike(run.curves), []
    if run.status == "diverged" or len(bad):
        where = f" at epoch {bad[0] + 1}" if len(bad) else ""
        facts.append(f"The loss became too large to compute{where} and training stopped.")
    if spike:
        epoch, top, usual = spike
        facts.append(f"At epoch {epoch} one step's gradient was {_n(top / usual)} times its usual "
                     f"size ({_n(top)} vs {_n(usual)}).")
    if not facts:
        return None
    clip = run.setting("train", "clipnorm")
    change = {"learning_rate": float(f"{run.setting('train', 'learning_rate') / 10:.3g}")}
    if clip is None or clip > 1.0:
        change["clipnorm"] = 1.0
    label = ("Clip gradients at 1 and use" if "clipnorm" in change else "Use") + \
        f" a learning rate of {change['learning_rate']:g}"
    return Diagnosis(
        "exploding", "The gradients grew out of control", " ".join(facts),
        "Each update was far too big, so the weights jumped instead of learning. Capping the "
        "size of each update (gradient clipping) and smaller steps keep training stable.",
        {"train": change}, label)


def _vanishing(run: _Run) -> Diagnosis | None:
    """The input gradient dies out within the newer half of the window."""
    series = run.through_time.get("input") or {}
    if not series:
        return None
    epoch = max(series, key=int)
    values = _column(series, epoch)  # index 0 is the latest step, the last the oldest
    size = len(values)
    if size < 4 or not np.all(np.isfinite(values)) or values[0] <= 0:
        return None
    reach = int(np.flatnonzero(values >= FADED * values[0])[-1]) + 1  # beyond: nothing arrives
    if reach > size // 2:
        return None
    fix = cells.of(run.setting("model", "cell")).fading_fix
    if fix:
        better = cells.get(fix).label
        change, label = {"cell": fix}, f"Use {better} cells"
        advice = ("A simple recurrent cell weakens the learning signal at every step it passes "
                  f"back (vanishing gradient). {better} cells carry it much further.")
    else:
        change, label = {"lookback": max(2, reach)}, f"Use a lookback of {max(2, reach)}"
        advice = ("The older steps cost time but teach nothing; a window as long as the part "
                  "that still learns trains faster and just as well.")
    return Diagnosis(
        "vanishing", "The network cannot learn from the older part of its window",
        f"At epoch {int(epoch)} the learning signal from more than {reach} steps back is under a "
        f"thousandth of that from the latest step ({values[-1]:.1e} vs {values[0]:.1e}), so "
        f"{size - reach} of the {size} steps in the window barely shape the forecast.",
        advice, {"model": change}, label)


def _outside_range(run: _Run) -> Diagnosis | None:
    """Many test values beyond the training range, with a transform that cannot reach them."""
    if run.setting("data", "transform") not in CHANGES or run.test is None:
        return None
    actual = run.test["actual"].to_numpy()
    if _outside_share(actual, run.train_range) < OUTSIDE_SHARE:
        return None
    (lo, hi), facts = run.train_range, []
    if np.any(actual > hi):
        facts.append(f"{_pct(np.mean(actual > hi))} of the test values are above the highest "
                     f"training value ({_n(actual.max())} vs {_n(hi)})")
    if np.any(actual < lo):
        facts.append(f"{_pct(np.mean(actual < lo))} of the test values are below the lowest "
                     f"training value ({_n(actual.min())} vs {_n(lo)})")
    return Diagnosis(
        "outside_range", "The test values lie outside what the model was trained on",
        "; ".join(facts) + ".",
        "A network rarely forecasts values beyond those it was trained on, so it cannot follow "
        "the series to new levels. Trained on the changes between steps, it can.",
        *_change_fix(run))


def _flat(run: _Run) -> Diagnosis | None:
    """The forecast barely moves while the actual values do."""
    if run.test is None:
        return None
    actual, model = run.test["actual"].to_numpy(), run.test["model"].to_numpy()
    spread, own = float(np.std(actual)), float(np.std(model))
    if spread == 0 or own >= FLAT_RATIO * spread:
        return None
    trending = (_outside_share(actual, run.train_range) >= OUTSIDE_SHARE
                or _trend_r2(actual) >= TREND_R2)
    if trending and run.setting("data", "transform") in CHANGES:
        fix = _change_fix(run)
        advice = ("The series trends, and the network settled on one value inside the range it "
                  "was trained on. Trained on the changes between steps, it can follow the trend.")
    else:
        fix = _longer(run)
        advice = ("The network has not learned the pattern yet and falls back on one safe "
                  "value. Give it more epochs; early stopping keeps the best weights.")
    return Diagnosis(
        "flat", "The forecast is almost a flat line",
        f"On the test part the forecasts vary by {_n(own)} while the actual values vary by "
        f"{_n(spread)} (standard deviation): {_pct(own / spread)} as much.", advice, *fix)


def _copy_cat(run: _Run) -> Diagnosis | None:
    """The forecast repeats the last value: it matches the actual values one step late."""
    if run.test is None or run.skill is None or run.skill > 0:
        return None
    model, actual = run.test["model"].to_numpy(), run.test["actual"].to_numpy()
    corr = [_lag_corr(model, actual, lag) for lag in (0, 1, 2)]
    if None in corr or int(np.argmax(corr)) != 1 or corr[1] < COPY_MIN_CORR:
        return None
    if run.setting("data", "transform") in CHANGES:
        fix = {"data": {"transform": "relative"}}, "Train on the change from the last value"
        advice = ("Repeating the last value is the easiest way to look close, so the network "
                  "learned it. Trained on the change from the last value, it starts from that "
                  "forecast, and whatever it learns beyond it is a real gain.")
    else:
        fix = ({}, "")
        advice = ("Even on the changes it found nothing better than repeating the last value: the "
                  "next change may not be predictable from this series alone. Inputs that move "
                  "ahead of it (features) could help.")
    return Diagnosis(
        "copy_cat", 'The model learned "the next value equals the last one"',
        f"The forecast's ups and downs match the actual ones of one step earlier (correlation "
        f"{corr[1]:.2f}, against {corr[0]:.2f} on time), and its error is {1 - run.skill:.2f} "
        "times that of repeating the last value.", advice, *fix)


def _overfitting(run: _Run) -> Diagnosis | None:
    """Validation loss rising for several epochs while the training loss falls."""
    val, train = _column(run.curves, "val_loss"), _column(run.curves, "train_loss")
    if np.sum(np.isfinite(val)) < MIN_EPOCHS or len(train) != len(val):
        return None
    best = int(np.nanargmin(val))
    after = len(val) - 1 - best
    val_end, train_end = np.nanmean(val[-3:]), np.nanmean(train[-3:])
    rising = val_end >= (1 + OVERFIT_RISE) * val[best] and train_end < train[best]
    if after < max(OVERFIT_EPOCHS, len(val) // 10) or not rising:
        return None
    change, words = {}, []
    if cells.applies(run.setting("model", "cell"), "model", "dropout") \
            and np.max(run.setting("model", "dropout")) < 0.2:
        change["model"], words = {"dropout": 0.2}, ["dropout 0.2"]
    if not run.setting("train", "early_stopping_patience"):
        change["train"] = {"early_stopping_patience": _patience(run.setting("train", "epochs"))}
        words.append("early stopping")
    if not change:
        return None  # dropout and early stopping (with the best weights) are already on
    return Diagnosis(
        "overfitting", "The model is memorising the training data",
        f"The validation loss has risen for {after} epochs since its best at epoch {best + 1} "
        f"({_n(val[best])} to {_n(val_end)}, +{_pct(val_end / val[best] - 1)}), while the "
        f"training loss kept falling ({_n(train[best])} to {_n(train_end)}).",
        "It learns details of the training rows that do not carry over to new data. Dropout "
        "makes it learn sturdier patterns; early stopping keeps the weights of the best epoch.",
        change, "Add " + " and ".join(words))


def _still_improving(run: _Run) -> Diagnosis | None:
    """A finished run whose loss was still falling at the end."""
    name, loss = "validation", _column(run.curves, "val_loss")
    if np.sum(np.isfinite(loss)) < MIN_EPOCHS:
        name, loss = "training", _column(run.curves, "train_loss")
    if run.status != "done" or np.sum(np.isfinite(loss)) < MIN_EPOCHS:
        return None
    n, best = len(loss), int(np.nanargmin(loss))
    last = max(3, round(n / 5))
    tail = loss[-last:]
    ok = np.isfinite(tail)
    if best < n - int(np.ceil(n / 10)) or ok.sum() < 3:
        return None
    slope, start = np.polyfit(np.flatnonzero(ok), tail[ok], 1)  # start: the line's first value
    drop = -slope * (last - 1) / start if start > 0 else 0.0
    if drop < IMPROVING_DROP:
        return None
    return Diagnosis(
        "still_improving", "The model was still learning when training ended",
        f"The {name} loss fell {_pct(drop)} over the last {last} of {n} epochs and was lowest "
        f"at epoch {best + 1}.",
        "More epochs will likely lower the error further; early stopping ends the run when it "
        "stops improving and keeps the best weights.", *_longer(run))


def _linear_wins(run: _Run) -> Diagnosis | None:
    """A straight-line forecast on the same windows (the linear autoregression) beats the network."""
    if not cells.applies(run.setting("model", "cell"), "model", "linear_skip") \
            or run.setting("model", "linear_skip"):
        return None
    model, linear = (run.summary.test_rmse(k) for k in ("model", "linear_ar"))
    if not _known(model, linear) or not linear < (1 - LINEAR_MARGIN) * model:
        return None
    return Diagnosis(
        "linear_wins", "A straight-line forecast beats the network",
        f"On the test rows the linear autoregression on the same windows has an error of "
        f"{_n(linear)}, {_pct(1 - linear / model)} below the network's {_n(model)}.",
        "What the network learned beyond a weighted sum of the window does not carry over to new "
        "data. With a linear path beside it, the network starts from that weighted sum and "
        "learns only what it misses, so it keeps the straight-line forecast's strength.",
        {"model": {"linear_skip": True}}, "Add a linear path beside the network")


def _classical_wins(run: _Run) -> Diagnosis | None:
    """Exponential smoothing (the classical anchor) forecasts the test rows clearly better."""
    model, anchor, linear = (run.summary.test_rmse(k) for k in ("model", "anchor", "linear_ar"))
    if not _known(model, anchor) or not anchor < (1 - CLASSICAL_MARGIN) * model:
        return None
    form = run.summary.classical or "exponential smoothing"
    evidence = (f"On the test rows the classical baseline, {form}, has an error of {_n(anchor)}, "
                f"{_pct(1 - anchor / model)} below the network's {_n(model)}.")
    if _known(linear) and abs(model / linear - 1) <= SAME_AS_LINE:
        evidence += (f" The network ends on a straight line: the linear autoregression on the "
                     f"same windows errs {_n(linear)}.")
    return Diagnosis(
        "classical_wins", "Exponential smoothing forecasts this series better",
        evidence,
        f"{_what_smoothing_tracks(run.summary.classical)} A network that learns from one short "
        "series seldom finds more than a weighted sum of its window. For this series the "
        "classical forecast is the one to use: Results draws it beside the model's forecast "
        f"beyond the data, and {artefacts.FORECAST} has it (column {artefacts.CLASSICAL}). To go "
        f"on exploring the network, {_lookback_sweep(run)} (Train page, \"Try several values at "
        "once\") shows whether another window closes the gap.")


def _lookback_sweep(run: _Run) -> str:
    """The lookback sweep worth trying, in words: whole seasons when there is a season."""
    season = run.summary.season or run.setting("data", "season")
    if isinstance(season, int) and season > 1:
        return f"a sweep of the lookback over {season}, {2 * season} and {3 * season} steps"
    lookback = int(run.setting("model", "lookback"))
    return (f"a sweep of the lookback over {max(2, lookback // 2)}, {lookback} and "
            f"{2 * lookback} steps")


def _what_smoothing_tracks(form: str | None) -> str:
    """What the anchor's form re-estimates at every step, and on which rows it is fitted."""
    fitted = (" It is fitted on the validation rows as well as the training rows; the network "
              "uses the validation rows only to decide when to stop.")
    found = re.search(r"ETS\((\w),(\w+),(\w)\)", form or "")
    if not found:
        return "Exponential smoothing re-estimates the series' level at every step." + fitted
    _, trend, season = found.groups()
    parts = ["level"] + (["trend"] if trend != "N" else []) + (["season"] if season != "N" else [])
    tracked = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    how = ", the season growing and shrinking with the level" if season == "M" else ""
    if (form or "").startswith("STL"):
        how = ", around a seasonal profile taken from the rows before the test part"
    return f"Exponential smoothing re-estimates the {tracked} at every step{how}." + fitted


RULES = (_exploding, _vanishing, _outside_range, _flat, _copy_cat, _overfitting, _still_improving,
         _linear_wins, _classical_wins)


# -- fixes ----------------------------------------------------------------------------------------

def _change_fix(run: _Run) -> tuple[dict, str]:
    """Train on changes: from a season earlier when that season forecasts better, else per step."""
    season = run.setting("data", "season")
    seasonal, naive = (run.summary.test_rmse(k) for k in ("seasonal_naive", "naive"))
    if season and isinstance(seasonal, (int, float)) and isinstance(naive, (int, float)) \
            and seasonal < naive:
        return ({"data": {"transform": "seasonal_difference", "season": int(season)}},
                "Train on the changes from one season earlier")
    return {"data": {"transform": "difference"}}, "Train on the changes between steps"


def _longer(run: _Run) -> tuple[dict, str]:
    """Twice the epochs (within the cap), with early stopping."""
    epochs = run.setting("train", "epochs")
    more = min(MAX_EPOCHS, 2 * epochs)
    if more == epochs:
        return {}, ""
    change = {"epochs": more}
    if not run.setting("train", "early_stopping_patience"):
        change["early_stopping_patience"] = _patience(more)
    return {"train": change}, f"Train for {more} epochs with early stopping"


def _patience(epochs: int) -> int:
    """Early-stopping patience: a fifth of the epochs, between 5 and 20."""
    return min(20, max(5, int(epochs) // 5))


# -- reading the run ------------------------------------------------------------------------------

def _read_predictions(store, run_id: str) -> pd.DataFrame | None:
    """predictions.csv of a run, or None when it is missing or cannot be read."""
    try:
        return artefacts.read_predictions(store.artefact(run_id, artefacts.PREDICTIONS))
    except (OSError, ValueError, StoreError):  # missing, empty, garbled, refused
        return None


def _one_step_rows(pred: pd.DataFrame | None, split: str,
                   least: int = MIN_ROWS) -> pd.DataFrame | None:
    """The step-1, one-step-ahead rows of a split (actual, model, naive), if there are enough."""
    if pred is None or not {"split", "kind", "step", "actual", "model"} <= set(pred.columns):
        return None
    rows = pred[(pred["split"] == split) & (pred["kind"] == ONE_STEP)
                & (pd.to_numeric(pred["step"], errors="coerce") == 1)]
    cols = [c for c in ("actual", "model", "naive") if c in rows]
    rows = rows[cols].apply(pd.to_numeric, errors="coerce").dropna(subset=["actual", "model"])
    return rows.reset_index(drop=True) if len(rows) >= least else None


def _train_range(summary: RunSummary, train: pd.DataFrame | None) -> tuple[float, float] | None:
    """(min, max) of the target over the training rows: the summary's, else from those rows."""
    if summary.train_bounds is not None:
        return summary.train_bounds
    return None if train is None else (float(train["actual"].min()), float(train["actual"].max()))


def _skill(summary: RunSummary, test: pd.DataFrame | None) -> float | None:
    """Skill vs naive on the test part: the summary's, else from the test rows."""
    skill = summary.skill_vs_naive
    if _known(skill):
        return float(skill)
    if test is None or "naive" not in test:
        return None
    naive, model = (np.sqrt(np.mean((test[k] - test["actual"]) ** 2)) for k in ("naive", "model"))
    return float(1.0 - model / naive) if naive > 0 else None


def _spike(curves: dict) -> tuple[int, float, float] | None:
    """(epoch, largest step norm, typical norm until then) of the first gradient spike."""
    means, maxes = _column(curves, "grad_norm_mean"), _column(curves, "grad_norm_max")
    for k in range(min(len(means), len(maxes))):
        seen = means[:k + 1][np.isfinite(means[:k + 1])]
        usual = float(np.median(seen)) if len(seen) else 0.0
        if usual > 0 and np.isfinite(maxes[k]) and maxes[k] > SPIKE_FACTOR * usual:
            return k + 1, float(maxes[k]), usual
    return None


# -- small numeric helpers ------------------------------------------------------------------------

def _column(columns: dict, name) -> np.ndarray:
    """One column (a curve, a trace) as floats, missing values as NaN."""
    return np.asarray([np.nan if v is None else v for v in columns.get(name) or []], dtype=float)


def _outside_share(actual: np.ndarray, bounds: tuple[float, float] | None) -> float:
    """Share of values outside [lo, hi]; 0 when the range is unknown."""
    if bounds is None or len(actual) == 0:
        return 0.0
    return float(np.mean((actual < bounds[0]) | (actual > bounds[1])))


def _trend_r2(values: np.ndarray) -> float:
    """How much of the values a straight line over time explains (0..1)."""
    if len(values) < 3 or np.std(values) == 0:
        return 0.0
    return float(np.corrcoef(np.arange(len(values)), values)[0, 1] ** 2)


def _lag_corr(model: np.ndarray, actual: np.ndarray, lag: int) -> float | None:
    """Correlation of the forecast's step changes with the actual changes `lag` steps earlier."""
    dm, da = np.diff(model), np.diff(actual)  # (n-1,)
    a, b = dm[lag:], da[:len(da) - lag]
    if len(a) < 3 or np.std(a) == 0 or np.std(b) == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def _known(*values) -> bool:
    """Whether every value is a finite number (a score the summary holds, not None or NaN)."""
    return all(isinstance(v, (int, float)) and np.isfinite(v) for v in values)


def _n(x: float) -> str:
    """A number for people: 3 significant digits, thousands as 12,345."""
    return format_number(x, 3, thousands=True, big=1000)


def _pct(share: float) -> str:
    """A share as a whole percentage: '62 %'."""
    return f"{round(100 * share)} %"
