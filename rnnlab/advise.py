"""Defaults chosen from the data: a transform, a season, a lookback and a training budget.

A new dataset gets settings by simple rules read off its training and validation rows (never
the test rows), each with a one-line reason shown beside its control; the user can change any.
Presets and lessons keep their own settings. The rules, and what they bought on the tuning
series, are in bench/RESULTS.md (forecast quality):

- Transform: "none" when the series stays level: no trend across the training part (the means
  of its first and last thirds lie within STEADY_SHIFT standard deviations of each other) and
  the validation rows stay inside the training range. A series that moves cannot be learned as
  values (a network cannot predict above the highest value it was trained on, and on a rising
  series the test lies exactly there): with a season it learns the seasonal difference, without
  one the change from the window's last value ("relative"). On the tuning series plain
  differences stopped early in a plateau more often than either (airline: 54 vs 18 and 22).
  Where the validation rows clearly say otherwise, they win: a linear autoregression on the
  lookback's windows is fitted under each change (least squares, instant), and a change whose
  validation error is SWITCH_MARGIN lower than the usual choice's replaces it (`transform_scores`).
  A seasonal difference adds up a whole season of noise, so on a series whose season is small
  beside its wandering level the change from the last value forecasts better.
- Season: the calendar's candidate (12 for monthly data, ...) confirmed by the training rows'
  autocorrelation (`rnnlab.season`).
- Lookback: one season when there is one of at most MAX_LOOKBACK rows (so the window sees the
  same time last season), else the clearest cycle, else DEFAULT_LOOKBACK; never more than a
  quarter of the training rows, so there are enough windows to learn from. That usual choice
  then meets a few others on the validation rows (`choose_lookback_by_validation`): two
  seasons and 4, 8, 16, 32 and 64 steps. A linear autoregression is fitted on each lookback's
  windows (every input column, the chosen transform), and one whose validation error is
  SWITCH_MARGIN lower than the usual one's replaces it. Quarterly GDP with two more columns
  had a straight-line error of 105.6 from 30 quarters and 57.0 from 4 on its validation rows.
- Training: up to EPOCHS epochs with early stopping after PATIENCE epochs without improvement,
  keeping the best weights: long enough to converge, stopped before it over-fits.
- Linear path (`ModelConfig.linear_skip`): on when a linear autoregression on the run's own
  windows (every input column, the chosen transform, least squares on the training rows) beats
  repeating the last value on the validation rows by SWITCH_MARGIN or more. The network then
  starts from that straight line and keeps a change only where the validation rows agree
  (`rnnlab.nn.callbacks.EarlyStoppingFromStart`). With the target as its only input, it then
  keeps the line if the line, run forward on its own forecasts across the validation rows, errs
  less than the trained network (`rnnlab.train.keep_start_if_it_runs_better`; with other inputs
  such a forecast holds them at their last value, which says little about the network). Where
  the line does not beat naive (random walks, few rows with many inputs), the line would be a
  bad start, and it stays off (`choose_linear_skip`).

Numpy and pandas only: the web process calls this.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from rnnlab.config import DataConfig, RunConfig, TrainConfig
from rnnlab.evaluate import format_number
from rnnlab.season import find_season

DEFAULT_LOOKBACK = 30
MAX_LOOKBACK = 120         # a longer unrolled window trains slowly and its gradient fades anyway
MIN_WINDOWS_PER_LOOKBACK = 4
STEADY_SHIFT = 1.0         # first vs last third of training, in within-third standard deviations
OUTSIDE_SHARE = 0.05       # validation rows allowed outside the training range for "none"
EPOCHS = 200
PATIENCE = 20


@dataclass(frozen=True)
class Advice:
    """Settings for a new dataset, each with the reason it was chosen."""

    transform: str
    season: int | None
    lookback: int
    epochs: int
    patience: int
    reasons: dict            # setting name ("transform", "season", ...) -> one plain sentence

    linear_skip: bool | None = None   # None: not judged (advice from the target alone)

    def settings(self) -> dict:
        """A partial config for RunConfig.replace(**settings)."""
        model = {"lookback": self.lookback}
        if self.linear_skip is not None:
            model["linear_skip"] = self.linear_skip
        return {"data": {"transform": self.transform, "season": self.season},
                "model": model,
                "train": {"epochs": self.epochs, "early_stopping_patience": self.patience}}


def advise(train: np.ndarray, val: np.ndarray, frequency: str | None) -> Advice:
    """Advice from the target's training rows (n,) and validation rows (m,) and the frequency."""
    train = _finite(train)
    val = _finite(val)
    try:
        found = find_season(train, frequency)
    except ValueError:                 # a frequency the calendar rules do not know
        found = find_season(train, None)
    lookback, lookback_why = choose_lookback(len(train), found.period, found.cycle)
    transform, why = choose_transform(train, val, found.period, lookback)
    return Advice(transform=transform, season=found.period, lookback=lookback, epochs=EPOCHS,
                  patience=PATIENCE, reasons={
                      "transform": why, "season": found.reason, "lookback": lookback_why,
                      "epochs": (f"Up to {EPOCHS} epochs, stopping once the validation error has "
                                 f"not improved for {PATIENCE} epochs and keeping the best "
                                 "weights: long enough to learn, stopped before it over-fits.")})


def choose_transform(train: np.ndarray, val: np.ndarray, season: int | None,
                     lookback: int = DEFAULT_LOOKBACK) -> tuple[str, str]:
    """'none' for a level series; for a moving one, the change a linear autoregression forecasts
    the validation rows best from (`transform_scores`), else 'seasonal_difference' (with a
    season) or 'relative'."""
    shift = level_shift(train)
    outside = outside_share(train, val)
    if shift > STEADY_SHIFT:
        why = (f"The series moves: the last third of the training part averages {shift:.1f} "
               "standard deviations away from the first third.")
    elif outside > OUTSIDE_SHARE:
        why = f"{outside:.0%} of the validation rows lie outside the training range."
    else:
        return "none", (
            f"The series stays level (the first and last thirds of its training part are "
            f"{shift:.1f} standard deviations apart) and the validation rows stay inside the "
            "training range, so the network learns the values as they are.")
    beyond = (" A network on the values themselves cannot forecast beyond the range it was "
              "trained on, so it learns ")
    candidates = ["seasonal_difference", "relative", "difference"] if season else \
        ["relative", "difference"]
    scores = transform_scores(train, val, lookback, season, candidates)
    if len(scores) == len(candidates):
        best = min(candidates, key=scores.get)
        if scores[best] > (1 - SWITCH_MARGIN) * scores[candidates[0]]:
            best = candidates[0]                     # not clearly better: the usual choice
        words = {"seasonal_difference": f"the change from one season ({season} rows) earlier",
                 "relative": "the change from the last value each window saw",
                 "difference": "the change from one step to the next"}
        short = {"seasonal_difference": "from a season earlier", "relative": "from the last "
                 "value", "difference": "from the step before"}
        tried = ", ".join(f"{format_number(scores[k])} {short[k]}"
                          for k in sorted(candidates, key=scores.get))
        return best, (f"{why}{beyond}{words[best]}. On the validation rows a linear "
                      f"autoregression on {lookback}-step windows forecast with error {tried}.")
    if season:
        return "seasonal_difference", (
            f"{why}{beyond}the change from one season ({season} rows) earlier.")
    return "relative", f"{why}{beyond}the change from the last value each window saw."


MIN_FIT_WINDOWS = 20        # fewer training windows than this: too few to compare transforms
SWITCH_MARGIN = 0.05        # another change is chosen only when its error is this much lower


def transform_scores(train: np.ndarray, val: np.ndarray, lookback: int, season: int | None,
                     kinds: list[str]) -> dict[str, float]:
    """Validation RMSE, in the data's units, of a one-step linear autoregression under each
    transform: least squares (with a constant) of the transformed value on the `lookback`
    values before it, fitted on the training rows only. A transform whose training windows are
    too few (fewer than MIN_FIT_WINDOWS and the lookback + 1) is left out.

    Scaling does not change a least-squares forecast, so none is applied.
    """
    from rnnlab.evaluate import apply_linear, fit_linear
    from rnnlab.transforms import TargetTransform

    y = np.concatenate([train, val])                                    # (N,) train then val
    n_train, N = len(train), len(train) + len(val)
    out = {}
    if len(val) == 0:
        return out
    for kind in kinds:
        tt = TargetTransform(kind, season if kind == "seasonal_difference" else None)
        z = tt.forward(y)                                               # (N,), NaN for lag rows
        t = np.arange(tt.lag + lookback, N)                              # predicted rows
        fit = t < n_train
        if fit.sum() < max(MIN_FIT_WINDOWS, lookback + 1):
            continue
        X = np.lib.stride_tricks.sliding_window_view(z, lookback)[t - lookback]   # (n, L)
        target = z[t]                                                   # (n,)
        if tt.relative:
            last = X[:, -1:]                                            # (n, 1)
            X, target = X - last, target - last[:, 0]
        guess = apply_linear(fit_linear(X[fit], target[fit]), X[~fit])  # (m,)
        if tt.relative:
            guess = guess + y[t[~fit] - 1]
        else:
            guess = tt.invert(guess[:, None], t[~fit], y)[:, 0]
        out[kind] = float(np.sqrt(np.mean((guess - y[t[~fit]]) ** 2)))
    return out


def level_shift(train: np.ndarray) -> float:
    """|mean(last third) − mean(first third)| in units of the thirds' pooled standard deviation."""
    k = len(train) // 3
    if k < 2:
        return 0.0
    first, last = train[:k], train[-k:]
    spread = np.sqrt((np.var(first) + np.var(last)) / 2)
    if spread == 0:
        return 0.0 if first.mean() == last.mean() else float("inf")
    return float(abs(last.mean() - first.mean()) / spread)


def outside_share(train: np.ndarray, val: np.ndarray) -> float:
    """The share of validation values outside [min, max] of the training values."""
    if len(val) == 0 or len(train) == 0:
        return 0.0
    return float(np.mean((val < train.min()) | (val > train.max())))


def choose_lookback(n_train: int, season: int | None, cycle: int | None) -> tuple[int, str]:
    """Lookback from the season (or cycle), capped by MAX_LOOKBACK and the training rows."""
    cap = max(1, n_train // MIN_WINDOWS_PER_LOOKBACK)
    if season and season <= MAX_LOOKBACK:
        want, why = season, f"One season ({season} rows), so each window sees the same time last season."
    elif cycle and cycle <= MAX_LOOKBACK:
        want, why = cycle, f"One cycle ({cycle} rows), the clearest repeat in the training part."
    else:
        want = DEFAULT_LOOKBACK
        why = (f"{DEFAULT_LOOKBACK} steps, the usual start"
               + (f"; the season ({season} rows) is too long to unroll, and the seasonal baseline "
                  "covers it." if season else "."))
    if want > cap:
        return cap, (f"{cap} steps: the training part has {n_train} rows, and a longer window "
                     "would leave too few examples to learn from.")
    return want, why


def advise_loaded(loaded, target: str, data_cfg: DataConfig) -> Advice:
    """Advice for a loaded table's target, with the split of `data_cfg` (test rows unread),
    and the linear path judged on the run's windows (`choose_linear_skip`)."""
    from rnnlab.data import choose_target, future_rows, part_size
    from rnnlab.data.split import keep_table

    target = choose_target(loaded, target)
    values = loaded.frame[target].to_numpy(dtype="float64")                          # (N,)
    if not data_cfg.test_source:           # rows past the target's last value: a run's future
        values = values[:len(values) - future_rows(loaded, target)]
    n = len(values)
    n_test = 0 if data_cfg.test_source else part_size(n, data_cfg.test_fraction)
    n_val = part_size(n, data_cfg.val_fraction)
    n_train = n - n_test - n_val
    advice = advise(values[:n_train], values[n_train:n_train + n_val], loaded.frequency)
    data = dataclasses.replace(data_cfg, target=target, transform=advice.transform,
                               season=advice.season)
    tables: dict = {}           # the table in hand, or one read, serves every candidate below
    keep_table(tables, data, loaded)
    lookback, why = choose_lookback_by_validation(data, advice.lookback, advice.season, n_train,
                                                  tables=tables)
    if why:
        advice = dataclasses.replace(advice, lookback=lookback,
                                     reasons={**advice.reasons, "lookback": why})
    on, why = choose_linear_skip(data, advice.lookback, tables=tables)
    if on is None:
        return advice
    return dataclasses.replace(advice, linear_skip=on,
                               reasons={**advice.reasons, "linear_skip": why})


LOOKBACK_LADDER = (4, 8, 16, 32, 64)   # windows tried beside the usual one and two seasons


def lookback_candidates(usual: int, season: int | None, n_train: int) -> list[int]:
    """The lookbacks compared on the validation rows: the usual one, two seasons, the ladder;
    at least 2 and never above MAX_LOOKBACK or a quarter of the training rows."""
    cap = min(MAX_LOOKBACK, n_train // MIN_WINDOWS_PER_LOOKBACK)
    tried = {usual, *LOOKBACK_LADDER, *((2 * season,) if season else ())}
    return sorted(L for L in tried if L == usual or 2 <= L <= cap)


def lookback_scores(data_cfg: DataConfig, lookbacks: list[int], *, tables: dict | None = None
                    ) -> dict[int, float]:
    """Validation RMSE, in the data's units, of the linear autoregression on each lookback's
    windows (every input column, the config's transform, least squares on the training rows);
    a lookback that leaves too few windows or cannot be prepared is left out."""
    from rnnlab import evaluate
    from rnnlab.data import prepare
    from rnnlab.errors import RnnlabError

    out = {}
    tables = {} if tables is None else tables     # one read of the file for every lookback
    for L in lookbacks:
        try:
            prepared = prepare(data_cfg, L, 1, tables=tables)
            if len(prepared.t_val) == 0 or len(prepared.X_train) <= prepared.X_train[0].size:
                continue
            ev = evaluate.evaluate(prepared, evaluate.linear_ar(prepared), "val")
        except (RnnlabError, ValueError, np.linalg.LinAlgError):
            continue
        out[L] = float(ev.metrics["model"]["rmse"])
    return out


def choose_lookback_by_validation(data_cfg: DataConfig, usual: int, season: int | None,
                                  n_train: int, *, tables: dict | None = None
                                  ) -> tuple[int, str | None]:
    """(lookback, reason): the usual lookback unless another candidate's straight-line forecast
    is SWITCH_MARGIN better on the validation rows; the reason is None when the usual one stays."""
    scores = lookback_scores(data_cfg, lookback_candidates(usual, season, n_train), tables=tables)
    if usual not in scores or len(scores) < 2:
        return usual, None
    best = min(scores, key=scores.get)
    if scores[best] > (1 - SWITCH_MARGIN) * scores[usual]:
        return usual, None
    return best, (f"{best} steps: on the validation rows a straight-line forecast from "
                  f"{best}-step windows has error {format_number(scores[best])}, against "
                  f"{format_number(scores[usual])} from the usual {usual} steps "
                  f"({_usual_words(usual, season)}); {len(scores)} lengths were tried.")


def _usual_words(usual: int, season: int | None) -> str:
    """Why the usual lookback is the usual one, in a few words."""
    if season and usual == season:
        return "one season"
    return "the usual start" if usual == DEFAULT_LOOKBACK else "one cycle, or what the rows allow"


def choose_linear_skip(data_cfg: DataConfig, lookback: int, horizon: int = 1, *,
                       tables: dict | None = None) -> tuple[bool | None, str]:
    """(on, reason): the linear path is on when the linear autoregression on the run's windows
    beats naive on the validation rows by SWITCH_MARGIN; (None, why) when it cannot be judged
    (no validation rows, data that cannot be prepared)."""
    from rnnlab import evaluate
    from rnnlab.data import prepare
    from rnnlab.errors import RnnlabError

    try:
        prepared = prepare(data_cfg, lookback, horizon, tables=tables)
        if len(prepared.t_val) == 0 or len(prepared.X_train) <= prepared.X_train[0].size:
            return None, "Too few rows to judge a straight-line forecast."
        ev = evaluate.evaluate(prepared, evaluate.linear_ar(prepared), "val")
    except (RnnlabError, ValueError, np.linalg.LinAlgError) as exc:
        return None, f"The straight-line forecast could not be judged ({exc})."
    line, naive = ev.metrics["model"]["rmse"], ev.metrics["naive"]["rmse"]
    scores = (f"A straight-line forecast from each {lookback}-step window (least squares on "
              f"the training rows) has error {format_number(line)} on the validation rows, "
              f"repeating the last value {format_number(naive)}")
    if line <= (1 - SWITCH_MARGIN) * naive:
        return True, (f"{scores}: the network starts from that line and keeps a change only "
                      "where the validation rows agree, so it is never worse there than the "
                      "line.")
    return False, (f"{scores}: the line is no better than naive here, so it would be a poor "
                   "start for the network.")


def advise_data(loaded, data: dict) -> tuple[dict, dict]:
    """(settings, reasons) for a config's data section (a dict), on its loaded table.

    A shipped sample's known season is kept over the one found, and said so.
    """
    data_cfg = DataConfig(**{k: v for k, v in data.items() if k not in ("transform", "season")})
    target = data.get("target") or loaded.default_target
    advice = advise_loaded(loaded, target, data_cfg)
    settings, reasons = advice.settings(), dict(advice.reasons)
    sample = getattr(loaded, "sample", None)
    if sample is not None and sample.season and sample.target == target:
        settings["data"]["season"] = sample.season
        reasons["season"] = (f"This sample's known season: {sample.season} rows. "
                             f"(From the data alone: {advice.reasons['season']})")
    return settings, reasons


def load_for(data_cfg: DataConfig):
    """The table a data config reads (its file, date column, gap filling, text columns)."""
    from rnnlab.data import load
    from rnnlab.samples import resolve_source

    return load(resolve_source(data_cfg.source), date_column=data_cfg.date_column,
                fill=data_cfg.fill, categorical=data_cfg.categorical)


def advise_config(data_cfg: DataConfig) -> tuple[dict, dict]:
    """(settings, reasons) for a data config, reading its file."""
    return advise_data(load_for(data_cfg), dataclasses.asdict(data_cfg))


def default_run(source: str, target: str | None = None, date_column: str | None = None,
                features: tuple[str, ...] = (), **data) -> RunConfig:
    """A RunConfig for a new dataset with the advised transform, season, lookback and budget."""
    data_cfg = DataConfig(source=source, target=target, date_column=date_column,
                          features=tuple(features), **data)
    loaded = load_for(data_cfg)
    chosen = target or loaded.default_target
    advice = advise_loaded(loaded, chosen, data_cfg)
    settings = advice.settings()
    if data.get("season") is not None:             # the caller's season wins over the advice
        settings["data"]["season"] = data["season"]
    run = RunConfig(data=data_cfg, train=TrainConfig())
    return run.replace(data={**settings["data"], "target": chosen}, model=settings["model"],
                       train=settings["train"])


def _finite(values) -> np.ndarray:
    """A float64 copy without NaN or inf."""
    arr = np.asarray(values, dtype="float64").ravel()
    return arr[np.isfinite(arr)]
