"""Forecast quality: the model with the project's defaults against honest baselines, real series.

For each series (bench/data/PROVENANCE.md and sample_data/PROVENANCE.md say where each comes
from) the run config is `rnnlab.advise.default_run` as a user who only picks the file, the date
and the column gets it. Each run goes through the real engine in this machine's processes:
`Store.create_run` then `worker.execute`, three seeds. From every run it reads the test RMSE of
the model and of the engine's baselines (naive, seasonal naive when a season is set, the linear
autoregression) and the test rows of `predictions.csv`; on exactly those rows (timestamps mapped
to rows of the series) it computes the classical anchor (`rnnlab.classical.anchor`, ETS fitted on
the rows before the test part). Skill vs naive is 1 − RMSE_model / RMSE_naive, skill vs the best
baseline the same against the lowest of the four. The seed spread is (max − min) / median of the
three seeds' test RMSE.

The default rules were chosen on the tuning series (the three shipped samples); every other series
is held out, and the table says which is which. Goals: the model beats naive on >= 7 of 8 series
(scaled to the suite), beats the best baseline on at least half, median skill vs naive >= +0.15,
seed spread <= 10 % on most series. A win is a skill above TIE (0.1 %): a model that kept its linear
start equals the linear autoregression but for float32 rounding, and that is a tie.

Variants say what each rule bought (`rnnlab.advise`): functions from the default config to another
config, one seed each (the first), always with the same data, split and season so the test rows
are the same rows. "no transform" drops the target transform; "20 epochs" trains the old budget
with no early stopping; "lookback 30" undoes the season-long window; "old defaults" is a plain
`RunConfig` on the same data (no transform, lookback 30, 20 epochs): all the rules undone.
"no linear path" turns off the model's linear path (`ModelConfig.linear_skip`), which the
defaults turn on where a straight line beats naive on the validation rows.
Where the run found no season but the calendar has one (`Series.season`), the bench adds seasonal
naive with that season and gives it to the anchor, so a missed season never makes the model's
task easier.

A second table scores the forecast a user takes away, the free-running one: from the first test
row, each step fed the forecasts before it (`predictions.csv`, kind free-running, every seed),
over the whole test part, against the same path of naive (the last value held), seasonal naive
(the last season repeated), the linear autoregression (`evaluate.free_running` of its fit) and
ETS (`classical.anchor_path`: fitted on the rows before the test part, run forward). One origin
per series, so one series' figure is noisy; the count over the suite is the reading.

    python bench/forecast_quality.py [--quick] [--series NAME ...] [--variants NAME ...]
                                     [--jobs N] [--keep DIR] [--stand-in]

Runs go two at a time on two cores (one compute thread each, RNNLAB_THREADS; RNNLAB_CONCURRENCY
or --jobs overrides), each pool process keeping Keras loaded between runs as a spare worker does.
Only a full run (every series, every variant, real defaults) is recorded in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.common import ROOT, record, show  # noqa: E402
from rnnlab.artefacts import FREE_RUN, ONE_STEP, PREDICTIONS  # noqa: E402

DATA = ROOT / "bench" / "data"
SAMPLES = ROOT / "sample_data"
SEEDS = 3
BASELINES = ("naive", "seasonal_naive", "linear_ar", "anchor")
GOAL_NAIVE, GOAL_MEDIAN_SKILL, GOAL_SPREAD = 7 / 8, 0.15, 0.10
QUICK_SERIES = ("airline", "sunspots", "macro_gdp")


@dataclass(frozen=True)
class Series:
    """One benchmark series: the file and column a user would pick, and what kind it is."""

    name: str
    source: Path
    target: str
    kind: str                        # trend / seasonal / random-walk-like / multivariate
    frequency: str
    tuning: bool                     # the default rules were chosen on it
    season: int | None = None        # the calendar's season, for the bench's own baselines
    date_column: str | None = None
    features: tuple[str, ...] = ()
    test_source: Path | None = None
    new: bool = False                # added after the rules last changed, never seen before

    @property
    def role(self) -> str:
        """'tuning', 'held out', or 'held out, new'."""
        return "tuning" if self.tuning else "held out, new" if self.new else "held out"


SERIES = [
    Series("airline", SAMPLES / "airline_passengers.csv", "Passengers",
           "trend + season (×)", "monthly", True, 12),
    Series("google_open", SAMPLES / "google_stock_price_train.csv", "Open", "random-walk-like",
           "trading days", True, test_source=SAMPLES / "google_stock_price_test.csv"),
    Series("melbourne_min_temp", SAMPLES / "daily_min_temperatures.csv", "Temp",
           "seasonal (yearly)", "daily", True, 365),
    Series("co2", DATA / "co2_weekly.csv", "co2", "trend + season", "weekly", False, 52),
    Series("sunspots", DATA / "sunspots_yearly.csv", "SUNACTIVITY", "cycle (~11 years)",
           "yearly", False),
    Series("seattle_temp", DATA / "seattle_temps_hourly.csv", "temp", "seasonal (daily)",
           "hourly", False, 24),
    # seasonally adjusted at the source, so no season
    Series("macro_gdp", DATA / "macrodata_quarterly.csv", "realgdp", "trend, multivariate",
           "quarterly", False, features=("realcons", "realinv")),
    Series("dem_usd", DATA / "garch_fx_daily.csv", "dm", "random-walk-like", "trading days",
           False),
    Series("canada_gas", DATA / "canadian_gas_monthly.csv", "Volume", "trend + season",
           "monthly", False, 12),
    Series("elec_equip", DATA / "elec_equip_monthly.csv", "STS.M.I7.W.TOVT.NS0016.4.000",
           "trend + season, a crash", "monthly", False, 12),
    Series("nile", DATA / "nile_yearly.csv", "volume", "level with a change point", "yearly",
           False),
    Series("lynx", DATA / "lynx_yearly.csv", "value", "cycle (~10 years)", "yearly", False),
    Series("a10", DATA / "a10_monthly.csv", "value", "trend + season (×)", "monthly", False, 12),
    Series("qcement", DATA / "qcement_quarterly.csv", "value", "trend + season", "quarterly",
           False, 4),
    Series("elecdaily", DATA / "elecdaily_daily.csv", "Demand", "weekly season, multivariate",
           "daily", False, 7, features=("WorkDay", "Temperature")),
    # added after the linear path rule was written (see PROVENANCE.md)
    Series("usmelec", DATA / "usmelec_monthly.csv", "value", "trend + season", "monthly", False,
           12, new=True),
    Series("wineind", DATA / "wineind_monthly.csv", "value", "season, level", "monthly", False, 12,
           new=True),
    Series("hyndsight", DATA / "hyndsight_daily.csv", "value", "weekly season", "daily", False,
           7, new=True),
]


# -- configs ------------------------------------------------------------------------------------

def default_config(series: Series, stand_in: bool = False):
    """The project's default run for the series, as `rnnlab.advise.default_run` gives it."""
    if stand_in:
        return stand_in_config(series)
    try:
        from rnnlab.advise import default_run
    except ImportError as exc:
        raise RuntimeError("rnnlab.advise.default_run is not importable, so there are no project "
                           f"defaults to measure ({exc}). Run with --stand-in to check the "
                           "harness with a hand-made config (not recorded).") from None
    extra = {"test_source": str(series.test_source)} if series.test_source else {}
    return default_run(str(series.source), target=series.target, date_column=series.date_column,
                       features=series.features, **extra)


def stand_in_config(series: Series):
    """A hand-made stand-in for the defaults (difference transform, 20 epochs): harness checks."""
    from rnnlab.config import DataConfig, RunConfig, TrainConfig

    data = DataConfig(source=str(series.source), target=series.target,
                      date_column=series.date_column, features=series.features,
                      test_source=str(series.test_source) if series.test_source else None,
                      transform="difference")
    return RunConfig(data=data, train=TrainConfig(epochs=20))


# The data fields every variant keeps from the defaults, so that its test rows are the same rows.
SAME_ROWS = ("source", "target", "date_column", "features", "test_source", "val_fraction",
             "test_fraction", "season", "fill", "categorical")


def old_defaults(cfg):
    """The defaults before the rules: a plain RunConfig (no transform, lookback 30, 20 epochs)."""
    from rnnlab.config import DataConfig, RunConfig

    return RunConfig(data=DataConfig(**{k: getattr(cfg.data, k) for k in SAME_ROWS}))


def usual_lookback(cfg):
    """The defaults with the lookback of the rule of thumb (one season, a cycle or 30 steps),
    before the validation rows choose among a few (`rnnlab.advise.choose_lookback_by_validation`)."""
    from rnnlab.advise import advise, load_for
    from rnnlab.data import choose_target, part_size

    loaded = load_for(cfg.data)                     # the split of rnnlab.advise.advise_loaded
    values = loaded.frame[choose_target(loaded, cfg.data.target)].to_numpy(dtype="float64")
    n = len(values)
    n_test = 0 if cfg.data.test_source else part_size(n, cfg.data.test_fraction)
    n_train = n - n_test - part_size(n, cfg.data.val_fraction)
    usual = advise(values[:n_train], values[n_train:n - n_test], loaded.frequency).lookback
    return cfg.replace(model={"lookback": usual})


VARIANTS = {
    "defaults": lambda cfg: cfg,
    "usual lookback": usual_lookback,
    "no transform": lambda cfg: cfg.replace(data={"transform": "none"}),
    "20 epochs": lambda cfg: cfg.replace(train={"epochs": 20, "early_stopping_patience": 0}),
    "lookback 30": lambda cfg: cfg.replace(model={"lookback": 30}),
    "old defaults": old_defaults,
    "no linear path": lambda cfg: cfg.replace(model={"linear_skip": False}),
}


# -- one run, in a pool process -----------------------------------------------------------------

def _pool_start(home: str) -> None:
    """Each pool process: one compute thread, the backend chosen, compiled steps shared."""
    os.environ.setdefault("RNNLAB_THREADS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from rnnlab import backend, worker

    backend.cache_compiled(Path(home) / worker.COMPILE_CACHE)
    backend.use()


def run_one(home: str, config: dict, label: str) -> dict:
    """Create the run in the store at `home`, execute it here, return what the bench reads."""
    from rnnlab import worker
    from rnnlab.store import Store

    store = Store(home)
    run_id = store.create_run(config, name=label)
    start = time.perf_counter()
    status = worker.execute(store, run_id)
    seconds = time.perf_counter() - start
    run = store.get_run(run_id)
    return {"run_id": run_id, "label": label, "status": status.value, "error": run.error,
            "summary": run.summary or {}, "seconds": seconds,
            "predictions": str(store.artefact(run_id, PREDICTIONS))}


def execute_all(jobs: list[tuple[str, dict]], home: Path, workers: int) -> dict[str, dict]:
    """Run every (label, config) job, `workers` at a time; label -> run_one's result."""
    results = {}
    context = get_context("spawn")      # never fork a process that may hold JAX or TensorFlow
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_pool_start,
                             initargs=(str(home),)) as pool:
        futures = {pool.submit(run_one, str(home), cfg, label): label for label, cfg in jobs}
        for future in futures:
            label = futures[future]
            try:
                results[label] = future.result()
            except Exception as exc:     # the pool itself broke: report, keep the others
                results[label] = {"label": label, "status": "failed", "error": repr(exc),
                                  "summary": {}, "seconds": float("nan"), "predictions": ""}
            r = results[label]
            print(f"  {label}: {r['status']} in {r['seconds']:.0f} s"
                  + (f" ({r['error']})" if r["error"] else ""), flush=True)
    return results


# -- reading a run ------------------------------------------------------------------------------

def test_rmse(result: dict, name: str) -> float:
    """Test RMSE of the model or a baseline from the run's summary (nan when absent)."""
    scores = result["summary"].get("metrics", {}).get("test", {}).get(name) or {}
    value = scores.get("rmse")
    return float(value) if value is not None else float("nan")


def test_frame(result: dict):
    """The run's teacher-forced test rows from predictions.csv (first step of each window)."""
    import pandas as pd

    frame = pd.read_csv(result["predictions"])
    keep = (frame["split"] == "test") & (frame["kind"] == ONE_STEP) & (frame["step"] == 1)
    return frame[keep].reset_index(drop=True)


def rows_of(prepared, timestamps) -> np.ndarray:
    """Rows of the series for predictions.csv timestamps (ISO text or positions)."""
    import pandas as pd

    index = prepared.index
    keys = pd.to_datetime(timestamps) if isinstance(index, pd.DatetimeIndex) else \
        np.asarray(timestamps, dtype=int)
    rows = index.get_indexer(keys)
    if np.any(rows < 0):
        raise RuntimeError(f"{int(np.sum(rows < 0))} test timestamps are not rows of the series")
    return rows


def bench_baselines(series: Series, cfg, result: dict) -> dict:
    """The bench's own figures on exactly the run's test rows: the anchor, and seasonal naive
    with the calendar's season when the run has no season of its own.

    Keys: n_test, anchor, anchor_form, season (as shown), seasonal_naive (nan unless computed).
    """
    from rnnlab import classical, data

    prepared = data.prepare(cfg.data, cfg.model.lookback, cfg.model.horizon)
    frame = test_frame(result)
    rows = rows_of(prepared, frame["timestamp"])                              # (n,)
    target = np.asarray(prepared.values, dtype=float)[:, 0]                   # (T,)
    if not np.allclose(target[rows], frame["actual"].to_numpy(), rtol=1e-9, atol=1e-9):
        raise RuntimeError("predictions.csv actual values differ from the series at their rows")
    engine_season = result["summary"].get("season") or cfg.data.season or prepared.season
    season = engine_season or series.season
    name, pred = classical.anchor(target, prepared.n_train + prepared.n_val, rows, season)
    out = {"n_test": len(rows), "anchor": _rmse(pred, target[rows]), "anchor_form": name,
           "season": str(engine_season) if engine_season else "none",
           "seasonal_naive": float("nan")}
    engine = test_rmse(result, "anchor")           # the worker's own anchor, when it has one
    if np.isfinite(engine) and not np.isclose(engine, out["anchor"], rtol=1e-6):
        print(f"  note: {series.name}: the run's own anchor RMSE {engine:.6g} differs from the "
              f"bench's {out['anchor']:.6g}")
    if not engine_season and series.season and rows.min() >= series.season:
        out["seasonal_naive"] = _rmse(target[rows - series.season], target[rows])
        out["season"] = f"none (bench: {series.season})"
    return out


PATH_BASELINES = ("naive", "seasonal_naive", "linear_ar", "anchor")


def free_frame(result: dict):
    """The run's free-running test rows from predictions.csv, in step order."""
    import pandas as pd

    frame = pd.read_csv(result["predictions"])
    keep = (frame["split"] == "test") & (frame["kind"] == FREE_RUN)
    return frame[keep].sort_values("step").reset_index(drop=True)


def path_row(series: Series, cfg, runs: list[dict], own: dict) -> dict:
    """One line of the free-running table: each predictor's path RMSE over the test part."""
    from rnnlab import classical, data, evaluate

    prepared = data.prepare(cfg.data, cfg.model.lookback, cfg.model.horizon)
    frames = [free_frame(r) for r in runs]
    rows = rows_of(prepared, frames[0]["timestamp"])                          # (n,)
    start, n = int(rows[0]), len(rows)
    if not np.array_equal(rows, np.arange(start, start + n)):
        raise RuntimeError("the free-running test rows are not consecutive rows of the series")
    target = np.asarray(prepared.values, dtype=float)[:, 0]                   # (T,)
    actual = target[rows]
    season = int(own["season"].split()[-1].rstrip(")")) if own["season"] != "none" else None
    paths = {"naive": np.full(n, target[start - 1]),
             "seasonal_naive": evaluate.seasonal_naive_path(target, start, n, season),
             "linear_ar": evaluate.free_running(prepared, evaluate.linear_ar(prepared), start,
                                                n).values}
    name, paths["anchor"] = classical.anchor_path(target, start, n, season)
    base = {k: _rmse(v, actual) if v is not None else float("nan") for k, v in paths.items()}
    model = [_rmse(f["model"].to_numpy(), actual) for f in frames]
    median = float(np.median(model))
    known = {k: v for k, v in base.items() if np.isfinite(v)}
    best = min(known, key=known.get)
    return {"series": series.name, "set": series.role, "steps": n, **base, "model": median,
            "skill_vs_naive": skill(median, base["naive"]),
            "skill_vs_best": skill(median, known[best]), "best": best,
            "seed_spread": spread(model), "anchor_form": name}


def path_goal_rows(rows: list[dict]) -> list[dict]:
    """Counts under the free-running table (read, not goals of the issue)."""
    n = len(rows)
    naive = sum(beats(r["skill_vs_naive"]) for r in rows)
    best = sum(beats(r["skill_vs_best"]) for r in rows)
    median = float(np.median([r["skill_vs_naive"] for r in rows])) if rows else float("nan")
    blank = {k: "" for k in rows[0]} if rows else {}
    return [{**blank, "series": "beats naive", "set": f"{naive} of {n}"},
            {**blank, "series": "beats the best baseline", "set": f"{best} of {n}"},
            {**blank, "series": "median skill vs naive", "set": f"{median:+.3f}"}]


def _rmse(pred: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(pred) - np.asarray(actual)) ** 2)))


# -- figures ------------------------------------------------------------------------------------

TIE = 1e-3   # a skill this close to 0 is a tie, not a win: the model may be its own linear start,
             # equal to the linear autoregression but for float32 rounding


def beats(skill_value: float) -> bool:
    """Whether a skill counts as a win: above TIE (NaN never does)."""
    return bool(skill_value > TIE)


def skill(model: float, against: float) -> float:
    """1 − model / against (nan when undefined)."""
    if not (np.isfinite(model) and np.isfinite(against)) or against == 0:
        return float("nan")
    return 1.0 - model / against


def spread(values: list[float]) -> float:
    """(max − min) / median of finite values; nan unless there are two or more."""
    v = np.asarray([x for x in values if np.isfinite(x)])
    return float((v.max() - v.min()) / np.median(v)) if len(v) >= 2 else float("nan")


def series_row(series: Series, runs: list[dict], own: dict) -> dict:
    """One line of the main table from the default runs (all seeds) of one series."""
    first = runs[0]
    base = {name: test_rmse(first, name) for name in BASELINES if name != "anchor"}
    base["anchor"] = own["anchor"]
    if not np.isfinite(base["seasonal_naive"]):
        base["seasonal_naive"] = own["seasonal_naive"]
    model = [test_rmse(r, "model") for r in runs]
    median = float(np.median(model)) if all(np.isfinite(model)) else float("nan")
    known = {k: v for k, v in base.items() if np.isfinite(v)}
    best = min(known, key=known.get) if known else "naive"
    return {"series": series.name, "kind": series.kind, "frequency": series.frequency,
            "set": series.role, "n_test": own["n_test"], "season": own["season"],
            "naive": base["naive"],
            "seasonal_naive": base["seasonal_naive"], "linear_ar": base["linear_ar"],
            "anchor": base["anchor"], "model": median,
            "skill_vs_naive": skill(median, base["naive"]),
            "skill_vs_best": skill(median, known.get(best, float("nan"))), "best": best,
            "seed_spread": spread(model),
            "epochs": "/".join(str(r["summary"].get("epochs_done", "?")) for r in runs),
            "s_per_run": float(np.median([r["seconds"] for r in runs])),
            "anchor_form": own["anchor_form"],
            "transform": first["summary"].get("transform", "?")}


def goal_rows(rows: list[dict], seeds: int) -> list[dict]:
    """The goal lines under the table: counts over all series, and over the held-out ones."""
    def count(test, subset):
        return sum(1 for r in subset if test(r)), len(subset)

    held = [r for r in rows if r["set"].startswith("held out")]
    new = [r for r in rows if r["set"] == "held out, new"]
    n = len(rows)
    lines = []
    for label, test, need in [
        (f"beats naive (>= {math.ceil(GOAL_NAIVE * n)} of {n})",
         lambda r: beats(r["skill_vs_naive"]), math.ceil(GOAL_NAIVE * n)),
        (f"beats the best baseline (>= {math.ceil(n / 2)} of {n})",
         lambda r: beats(r["skill_vs_best"]), math.ceil(n / 2)),
        (f"seed spread <= {GOAL_SPREAD:.0%} (> {n // 2} of {n})",
         lambda r: r["seed_spread"] <= GOAL_SPREAD, n // 2 + 1),
    ]:
        if "spread" in label and seeds < 2:
            continue
        k, _ = count(test, rows)
        kh, nh = count(test, held)
        kn, nn = count(test, new)
        lines.append((label, f"{k} of {n} (held out {kh} of {nh}; new {kn} of {nn})", k >= need))

    def median(subset):
        return float(np.median([r["skill_vs_naive"] for r in subset])) if subset else float("nan")
    med = median(rows)
    lines.append((f"median skill vs naive >= +{GOAL_MEDIAN_SKILL}",
                  f"{med:+.3f} (held out {median(held):+.3f}; new {median(new):+.3f})",
                  med >= GOAL_MEDIAN_SKILL))
    keys = list(rows[0]) if rows else ["series", "kind", "frequency"]
    return [{**{k: "" for k in keys}, "series": f"goal: {label}", "kind": value,
             "frequency": "met" if met else "not met"} for label, value, met in lines]


BASELINE_WORDS = {"naive": "naive", "seasonal_naive": "seasonal naive",
                  "linear_ar": "linear autoregression", "anchor": "ETS"}
SAME_LINE = 0.01       # the model within this share of its linear autoregression: the same line


def shortfall_rows(rows: list[dict]) -> list[dict]:
    """Where the model does not beat the best baseline, why, from the main table's figures: the
    baseline that wins and by how much, how far the network moved from its own linear
    autoregression, and how far that line is from the winner. Then a count of each reason."""
    out, reasons = [], {}
    for r in rows:
        if str(r.get("series", "")).startswith(("goal:", "wall time")) \
                or not isinstance(r.get("skill_vs_best"), (int, float)) or beats(r["skill_vs_best"]):
            continue
        model, line, best = r["model"], r["linear_ar"], r["best"]
        winner = r[best]
        vs_line = model / line - 1 if isinstance(line, (int, float)) else float("nan")
        line_vs_best = line / winner - 1 if isinstance(line, (int, float)) else float("nan")
        reason = _shortfall_reason(r, vs_line, line_vs_best)
        reasons[reason[0]] = reasons.get(reason[0], 0) + 1
        out.append({"series": r["series"], "set": r["set"], "best": BASELINE_WORDS.get(best, best),
                    "model vs best": _pct(model / winner - 1, sign=True),
                    "model vs its linear AR": _pct(vs_line, sign=True),
                    "linear AR vs best": "—" if best == "linear_ar" else _pct(line_vs_best,
                                                                               sign=True),
                    "why": reason[1]})
    if out:
        out.append({**{k: "" for k in out[0]}, "series": "reasons",
                    "why": "; ".join(f"{k}: {n}" for k, n in sorted(reasons.items(),
                                                                       key=lambda kv: -kv[1]))})
    return out


def path_shortfall_rows(rows: list[dict]) -> list[dict]:
    """`shortfall_rows` for the free-running table: each predictor fed its own forecasts."""
    out = shortfall_rows(rows)
    for row in out:
        row["why"] = (row["why"]
                      .replace("The linear autoregression on the same windows errs",
                               "Fed its own forecasts, the linear autoregression errs")
                      .replace("the network stays", "the network's path stays")
                      .replace("the network improves", "the network's path improves")
                      .replace("the network ends", "the network's path ends")
                      .replace("least-squares start", "least-squares start's path"))
    return out


def _pct(share: float, sign: bool = False) -> str:
    """A share as a percentage for the table: '17.7 %' ('+17.7 %' with sign; '0.00 %' for
    what rounds to nothing)."""
    if abs(share) < 5e-5:
        return "0.00 %"
    return f"{100 * share:{'+' if sign else ''}.{2 if abs(share) < 0.001 else 1}f} %"


def _moved(vs_line: float) -> str:
    """How far the network ended from its least-squares start, in words."""
    if abs(vs_line) <= SAME_LINE:
        return f"the network stays within {_pct(abs(vs_line))} of its least-squares start"
    if vs_line < 0:
        return f"the network improves on its least-squares start by {_pct(-vs_line)}"
    return f"the network ends {_pct(vs_line)} worse than its least-squares start"


def _shortfall_reason(r: dict, vs_line: float, line_vs_best: float) -> tuple[str, str]:
    """(short reason, its sentence) for one series the model does not win."""
    best = r["best"]
    if best == "naive":
        return ("naive is best", f"Nothing here beats repeating the last value: the linear "
                f"autoregression errs {_pct(line_vs_best)} more than naive, and "
                f"{_moved(vs_line)}, not enough to pass naive.")
    if best == "linear_ar":
        if abs(vs_line) <= SAME_LINE:
            return ("ties its straight line", f"The linear autoregression is the best baseline "
                    f"and {_moved(vs_line)}: on these windows the non-linearity found nothing "
                    "that held on the validation rows.")
        return ("moved off its straight line and lost",
                f"The network left its least-squares start where the validation rows favoured "
                f"it, and ends {_pct(vs_line)} worse than it on the test rows.")
    who = r.get("anchor_form") or "ETS" if best == "anchor" else BASELINE_WORDS[best]
    grows = best == "anchor" and re.search(r"ETS\(M,\w+,M\)", str(r.get("anchor_form", "")))
    return (f"{BASELINE_WORDS[best]} beats the straight line",
            f"The linear autoregression on the same windows errs {_pct(line_vs_best)} more than "
            f"{who}{' (a season that grows with the level)' if grows else ''}, and "
            f"{_moved(vs_line)}: "
            + ("the model loses what the line loses." if abs(vs_line) <= SAME_LINE else
               "not enough to close that gap." if vs_line < 0 else "it loses more than the line."))


def variant_rows(chosen: list[Series], variants: list[str], results: dict) -> list[dict]:
    """Per series, each variant's first-seed test RMSE and skill vs naive; a closing count."""
    rows = []
    for s in chosen:
        row = {"series": s.name, "set": s.role}
        for v in variants:
            r = results.get(label_of(s, v, 0))
            model = test_rmse(r, "model") if r else float("nan")
            row[f"{v}: rmse"] = model
            row[f"{v}: skill"] = skill(model, test_rmse(r, "naive")) if r else float("nan")
        rows.append(row)
    total = {"series": "beats naive / median skill", "set": ""}
    for v in variants:
        skills = [r[f"{v}: skill"] for r in rows]
        total[f"{v}: rmse"] = f"{sum(1 for x in skills if beats(x))} of {len(skills)}"
        total[f"{v}: skill"] = float(np.median(skills)) if skills else float("nan")
    return rows + [total]


def _dashes(row: dict) -> dict:
    """The row with a dash for every missing figure (nan), as a reader expects."""
    return {k: "—" if isinstance(v, float) and not np.isfinite(v) else v for k, v in row.items()}


def label_of(series: Series, variant: str, seed_index: int) -> str:
    """The run's name in the store: series / variant / seed."""
    return f"{series.name} / {variant} / seed {seed_index + 1}"


# -- main ---------------------------------------------------------------------------------------

def plan(chosen: list[Series], variants: list[str], seeds: int,
         stand_in: bool) -> tuple[list[tuple[str, dict]], dict[str, object]]:
    """(jobs, default config per series): every run to do, largest series first."""
    jobs, defaults = [], {}
    for s in sorted(chosen, key=lambda s: -s.source.stat().st_size):
        cfg = default_config(s, stand_in)
        defaults[s.name] = cfg
        for v in variants:
            base = VARIANTS[v](cfg)
            for i in range(seeds if v == "defaults" else 1):
                seeded = base.replace(train={"seed": cfg.train.seed + i})
                jobs.append((label_of(s, v, i), seeded.to_dict()))
    return jobs, defaults


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the suite; print the table, the goals and the variants; record a full run."""
    args = _parser().parse_args([] if argv is None else argv)
    chosen = [s for s in SERIES if not args.series or s.name in args.series]
    if args.quick and not args.series:
        chosen = [s for s in SERIES if s.name in QUICK_SERIES]
    unknown = set(args.series or ()) - {s.name for s in SERIES}
    variants = args.variants or (["defaults"] if args.quick else list(VARIANTS))
    if unknown or set(variants) - set(VARIANTS) or "defaults" not in variants:
        raise SystemExit(f"series: {', '.join(s.name for s in SERIES)}; variants (defaults "
                         f"always): {', '.join(VARIANTS)}. Received: {sorted(unknown)} {variants}")
    seeds = 1 if args.quick else (args.seeds or SEEDS)
    workers = args.jobs or int(os.environ.get("RNNLAB_CONCURRENCY") or os.cpu_count() or 1)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rnnlab-bench-quality-") as scratch:
        home = Path(args.keep or scratch)
        jobs, defaults = plan(chosen, variants, seeds, args.stand_in)
        print(f"  {len(jobs)} runs, {workers} at a time, store {home}", flush=True)
        results = execute_all(jobs, home, workers)
        rows, prows = [], []
        for s in chosen:
            runs = [results[label_of(s, "defaults", i)] for i in range(seeds)]
            if any(r["status"] != "done" for r in runs):
                print(f"  {s.name}: a default run did not finish; left out of the table")
                continue
            own = bench_baselines(s, defaults[s.name], runs[0])
            rows.append(series_row(s, runs, own))
            prows.append(path_row(s, defaults[s.name], runs, own))
        vrows = variant_rows(chosen, variants, results)
    wall = time.perf_counter() - start
    table = [_dashes(r) for r in rows] + goal_rows(rows, seeds)
    table.append({**{k: "" for k in table[0]}, "series": "wall time, all runs (s)",
                  "kind": f"{wall:.0f}"})
    show(table)
    print()
    show(shortfall_rows(rows))
    print()
    vrows = [_dashes(r) for r in vrows]
    show(vrows)
    print()
    prows = [_dashes(r) for r in prows] + path_goal_rows(prows)
    show(prows)
    print()
    show(path_shortfall_rows(prows))
    full = not (args.quick or args.series or args.variants or args.stand_in or args.jobs
                or args.seeds)
    if full and len(rows) == len(chosen):
        record("forecast_quality", table)
        record("forecast_quality_variants", vrows)
        record("forecast_quality_paths", prows)
        if argv is not None:             # run on its own: bench/RESULTS.md now, as run_all does
            from bench.run_all import write_markdown

            write_markdown()
    return table


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"one seed, defaults only, series {', '.join(QUICK_SERIES)}")
    parser.add_argument("--series", nargs="+", help="only these series")
    parser.add_argument("--variants", nargs="+", help=f"of {', '.join(VARIANTS)}")
    parser.add_argument("--seeds", type=int, help=f"seeds of the defaults (default {SEEDS})")
    parser.add_argument("--jobs", type=int, help="runs at a time (default: the cores)")
    parser.add_argument("--keep", help="keep the run store in this folder")
    parser.add_argument("--stand-in", action="store_true",
                        help="a hand-made config in place of rnnlab.advise (harness check)")
    return parser


if __name__ == "__main__":
    main(sys.argv[1:])
