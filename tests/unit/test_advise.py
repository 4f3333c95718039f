"""Defaults chosen from the data: each rule on a series built to trigger it, and on the samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnlab import advise
from rnnlab.config import RunConfig
from rnnlab.data import load, prepare

rng = np.random.default_rng(7)


def test_a_level_series_keeps_its_values():
    train = rng.normal(10, 1, 300)
    val = rng.normal(10, 1, 40)
    kind, why = advise.choose_transform(train, val, None)
    assert kind == "none"
    assert why.startswith("The series stays level")


PROFILE = rng.normal(0, 10, 12)                  # a sharp yearly pattern, not a sine


def rising_seasonal(n: int, noise: float = 1.0) -> np.ndarray:
    t = np.arange(n)
    return 100 + 2 * t + PROFILE[t % 12] + rng.normal(0, noise, n)


def test_a_trending_series_learns_changes_seasonal_when_there_is_a_season():
    t = np.arange(300.0)
    train = 0.05 * t + rng.normal(0, 1, 300)
    kind, why = advise.choose_transform(train, train[-30:] + 3, None)
    assert kind == "relative"
    assert "The series moves" in why and "the last value each window saw" in why
    y = rising_seasonal(340)
    kind, why = advise.choose_transform(y[:300], y[300:], 12, lookback=12)
    assert kind == "seasonal_difference"
    assert "one season (12 rows) earlier" in why
    scores = advise.transform_scores(y[:300], y[300:], 12, 12,
                                     ["seasonal_difference", "relative", "difference"])
    assert scores["seasonal_difference"] < min(scores["relative"], scores["difference"])
    assert f"{scores['seasonal_difference']:.4g} from a season earlier" in why


def test_a_small_season_on_a_wandering_level_learns_the_change_from_the_last_value():
    """A seasonal difference adds up a season of steps of the random walk: the validation
    rows say so, and the reason gives each change's error, lowest first."""
    t = np.arange(600)
    y = np.cumsum(rng.normal(0, 1, 600)) + 0.5 * np.sin(2 * np.pi * t / 12)
    kind, why = advise.choose_transform(y[:520], y[520:], 12, lookback=12)
    scores = advise.transform_scores(y[:520], y[520:], 12, 12,
                                     ["seasonal_difference", "relative", "difference"])
    assert scores["relative"] < (1 - advise.SWITCH_MARGIN) * scores["seasonal_difference"]
    assert kind == "relative"
    order = sorted(scores, key=scores.get)
    assert why.index(f"{scores[order[0]]:.4g}") < why.index(f"{scores[order[-1]]:.4g}")


def test_a_change_that_is_not_clearly_better_keeps_the_usual_choice():
    y = np.cumsum(rng.normal(0.3, 1, 400))          # a random walk: every change forecasts alike
    scores = advise.transform_scores(y[:360], y[360:], 10, None, ["relative", "difference"])
    assert abs(scores["difference"] / scores["relative"] - 1) < advise.SWITCH_MARGIN
    assert advise.choose_transform(y[:360], y[360:], None, lookback=10)[0] == "relative"


def loop_scores(train, val, lookback, season):
    """The same validation errors by a plain loop over rows and the normal equations."""
    y = list(train) + list(val)
    n_train, out = len(train), {}
    lags = {"difference": 1, "seasonal_difference": season, "relative": 0}
    for kind, lag in lags.items():
        def z(r):
            return y[r] - y[r - lag] if lag else y[r]
        rows = range(lag + lookback, len(y))
        X, target, base = [], [], []
        for r in rows:
            window = [z(r - lookback + i) for i in range(lookback)]
            last = window[-1] if kind == "relative" else 0.0
            shifted = [w - last for w in window]
            X.append((shifted[:-1] if kind == "relative" else shifted) + [1.0])  # no 0 column
            target.append(z(r) - last)
            base.append(y[r - 1] if kind == "relative" else y[r - lag])
        X, target, base = np.array(X), np.array(target), np.array(base)
        fit = np.array([r < n_train for r in rows])
        coef = np.linalg.solve(X[fit].T @ X[fit], X[fit].T @ target[fit])
        guess = X[~fit] @ coef + base[~fit]
        actual = np.array(y)[[r for r in rows if r >= n_train]]
        out[kind] = float(np.sqrt(np.mean((guess - actual) ** 2)))
    return out


def test_transform_scores_against_a_plain_loop():
    y = rising_seasonal(200, noise=3.0)
    ours = advise.transform_scores(y[:170], y[170:], 7, 12,
                                   ["seasonal_difference", "relative", "difference"])
    assert ours == pytest.approx(loop_scores(y[:170], y[170:], 7, 12), rel=1e-6)
    assert advise.transform_scores(y[:170], y[:0], 7, 12, ["relative"]) == {}
    assert advise.transform_scores(y[:25], y[25:30], 7, 12, ["seasonal_difference"]) == {}


def test_validation_outside_the_training_range_also_means_changes():
    train = rng.normal(0, 1, 200)
    val = np.full(20, 10.0)                      # a jump after the training part
    kind, why = advise.choose_transform(train, val, None)
    assert kind == "relative"
    assert why.startswith("100% of the validation rows lie outside the training range.")


def test_level_shift_against_a_hand_computation():
    x = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9])
    first, last = x[:3], x[-3:]
    expected = abs(last.mean() - first.mean()) / np.sqrt((first.var() + last.var()) / 2)
    assert advise.level_shift(x) == pytest.approx(expected)
    assert advise.outside_share(x, np.array([0.0, 5, 10, 11])) == 0.75


@pytest.mark.parametrize("n_train, season, cycle, expected", [
    (1000, 12, None, 12),          # one season
    (1000, None, 40, 40),          # one cycle
    (1000, 365, None, 30),         # a season too long to unroll: the usual start
    (1000, None, None, 30),
    (60, 24, None, 15),            # a quarter of the training rows at most
])
def test_lookback_rules(n_train, season, cycle, expected):
    assert advise.choose_lookback(n_train, season, cycle)[0] == expected


def test_every_reason_is_a_sentence_with_its_number():
    _, why = advise.choose_lookback(60, 24, None)
    assert why == ("15 steps: the training part has 60 rows, and a longer window would leave too "
                   "few examples to learn from.")
    _, why = advise.choose_lookback(1000, 365, None)
    assert "the season (365 rows) is too long to unroll" in why


def monthly_csv(path, values) -> str:
    dates = pd.date_range("2000-01-01", periods=len(values), freq="MS")
    pd.DataFrame({"month": dates.strftime("%Y-%m"), "sales": values}).to_csv(path, index=False)
    return str(path)


def test_default_run_on_a_rising_seasonal_file(tmp_path):
    y = rising_seasonal(144)
    cfg = advise.default_run(monthly_csv(tmp_path / "m.csv", y))
    assert isinstance(cfg, RunConfig)
    assert (cfg.data.season, cfg.model.lookback) == (12, 12)
    assert cfg.data.transform in ("seasonal_difference", "difference")   # a change, not values
    assert (cfg.train.epochs, cfg.train.early_stopping_patience) == (advise.EPOCHS, advise.PATIENCE)
    prepare(cfg.data, cfg.model.lookback, cfg.model.horizon)      # and it prepares


def test_advice_reads_no_test_row(tmp_path):
    """Changing only the test rows never changes the advice."""
    y = rng.normal(5, 1, 200)
    a = advise.default_run(monthly_csv(tmp_path / "a.csv", y))
    y2 = y.copy()
    y2[-20:] += 1000                              # the last 10 %: the test part
    b = advise.default_run(monthly_csv(tmp_path / "b.csv", y2))
    assert a.data.transform == b.data.transform == "none"
    assert a.model.lookback == b.model.lookback
    assert a.model.linear_skip == b.model.linear_skip


def test_samples_advice_and_a_sample_keeps_its_known_season():
    loaded = load("noisy_sine.csv")
    settings, reasons = advise.advise_data(loaded, {"source": "noisy_sine.csv", "target": "value"})
    assert settings["data"]["season"] == 50
    assert reasons["season"].startswith("This sample's known season: 50 rows.")
    assert settings["model"]["lookback"] == 50
    airline = advise.default_run("airline_passengers.csv", "Passengers")
    assert (airline.data.transform, airline.data.season) == ("seasonal_difference", 12)
    temps = advise.default_run("daily_min_temperatures.csv", "Temp")
    assert temps.data.transform == "none"


def test_a_column_that_is_not_there_is_the_data_error_of_prepare():
    from rnnlab.errors import DataError

    with pytest.raises(DataError, match="There is no column 'nope'"):
        advise.advise_data(load("noisy_sine.csv"), {"source": "noisy_sine.csv", "target": "nope"})


def test_a_frequency_the_calendar_rules_do_not_know_gives_advice_without_a_calendar_season():
    advice = advise.advise(rng.normal(0, 1, 300), rng.normal(0, 1, 30), "garbage")
    assert advice.transform == "none" and advice.season is None
    assert advice.reasons["season"]


# -- the linear path ----------------------------------------------------------------------------
def ar2(n: int, seed: int = 0) -> np.ndarray:
    """A strongly predictable AR(2) cycle around 50: a straight line on the window beats naive."""
    r = np.random.default_rng(seed)
    x = np.zeros(n)
    for t in range(2, n):
        x[t] = 1.5 * x[t - 1] - 0.8 * x[t - 2] + r.normal(0, 1)
    return 50 + x


def test_the_linear_path_is_on_where_the_line_beats_naive_on_validation(tmp_path):
    cfg = advise.default_run(monthly_csv(tmp_path / "ar.csv", ar2(300)))
    assert cfg.model.linear_skip is True
    walk = 100 + np.cumsum(np.random.default_rng(3).normal(0, 1, 300))
    cfg = advise.default_run(monthly_csv(tmp_path / "walk.csv", walk))
    assert cfg.model.linear_skip is False


def test_the_linear_path_reason_gives_both_errors_of_a_plain_numpy_fit(tmp_path):
    """The two numbers in the reason: least squares on the training windows (numpy lstsq),
    scored on the validation rows against repeating the last value."""
    y = ar2(300, seed=3)                          # level: its values are learned as they are
    source = monthly_csv(tmp_path / "ar.csv", y)
    loaded = load(source)
    settings, reasons = advise.advise_data(loaded, {"source": source})
    assert settings["model"]["linear_skip"] is True
    lookback = settings["model"]["lookback"]
    data = RunConfig().replace(data={"source": source, **settings["data"]}).data
    assert data.transform == "none"               # a level series: values as they are
    p = prepare(data, lookback, 1)
    n_train, n_val = p.n_train, p.n_val
    rows = []
    for t in range(lookback, n_train):             # training windows, plain loop, data units
        rows.append(list(y[t - lookback:t]) + [1.0])
    coef = np.linalg.lstsq(np.array(rows), y[lookback:n_train], rcond=None)[0]
    val_t = np.arange(n_train, n_train + n_val)
    line = np.array([np.dot(list(y[t - lookback:t]) + [1.0], coef) for t in val_t])
    line_rmse = np.sqrt(np.mean((line - y[val_t]) ** 2))
    naive_rmse = np.sqrt(np.mean((y[val_t - 1] - y[val_t]) ** 2))
    assert line_rmse < 0.95 * naive_rmse
    why = reasons["linear_skip"]
    assert why.endswith("so it is never worse there than the line.")
    assert f"error {line_rmse:.4g} on the validation rows" in why
    assert f"repeating the last value {naive_rmse:.4g}:" in why


def test_the_linear_path_is_not_judged_without_validation_rows(tmp_path):
    source = monthly_csv(tmp_path / "ar.csv", ar2(200))
    from rnnlab.config import DataConfig

    on, why = advise.choose_linear_skip(DataConfig(source=source, val_fraction=0.0), 12)
    assert on is None and why


# -- the lookback, chosen on the validation rows ------------------------------------------------
@pytest.mark.parametrize("usual, season, n_train, expected", [
    (30, None, 1000, [4, 8, 16, 30, 32, 64]),
    (12, 12, 1000, [4, 8, 12, 16, 24, 32, 64]),
    (52, 52, 1000, [4, 8, 16, 32, 52, 64, 104]),
    (12, 12, 100, [4, 8, 12, 16, 24]),           # a quarter of the training rows at most
    (24, 24, 4000, [4, 8, 16, 24, 32, 48, 64]),
    (100, 100, 4000, [4, 8, 16, 32, 64, 100]),    # two seasons pass MAX_LOOKBACK
    (3, None, 12, [3]),                           # the usual one is kept even above the cap
])
def test_lookback_candidates(usual, season, n_train, expected):
    assert advise.lookback_candidates(usual, season, n_train) == expected


def undated_csv(path, values) -> str:
    pd.DataFrame({"v": values}).to_csv(path, index=False)
    return str(path)


def loop_val_rmse(y, lookback, n_train, n_val) -> float:
    """A straight line on the training windows (plain loop, data units), scored on validation."""
    rows = [list(y[t - lookback:t]) + [1.0] for t in range(lookback, n_train)]
    coef = np.linalg.lstsq(np.array(rows), y[lookback:n_train], rcond=None)[0]
    val_t = range(n_train, n_train + n_val)
    line = np.array([np.dot(list(y[t - lookback:t]) + [1.0], coef) for t in val_t])
    return float(np.sqrt(np.mean((line - y[n_train:n_train + n_val]) ** 2)))


def test_the_lookback_reason_gives_both_errors_of_a_plain_numpy_fit(tmp_path):
    from rnnlab.config import DataConfig

    y = ar2(200, seed=3)                          # an AR(2): 4 steps say all there is to say
    data = DataConfig(source=undated_csv(tmp_path / "ar.csv", y), target="v")
    p = prepare(data, 30, 1)
    lookback, why = advise.choose_lookback_by_validation(data, 30, None, p.n_train)
    assert lookback == 4
    short, usual = (loop_val_rmse(y, L, p.n_train, p.n_val) for L in (4, 30))
    assert short < 0.95 * usual
    assert why == (f"4 steps: on the validation rows a straight-line forecast from 4-step windows "
                   f"has error {short:.4g}, against {usual:.4g} from the usual 30 steps (the "
                   f"usual start); 5 lengths were tried.")


def test_a_lookback_that_is_not_clearly_better_keeps_the_usual_one(tmp_path):
    from rnnlab.config import DataConfig

    y = ar2(200, seed=0)
    data = DataConfig(source=undated_csv(tmp_path / "ar.csv", y), target="v")
    p = prepare(data, 30, 1)
    scores = advise.lookback_scores(data, advise.lookback_candidates(30, None, p.n_train))
    assert min(scores.values()) > 0.95 * scores[30]          # 4 steps: 0.5 % better, not 5 %
    assert advise.choose_lookback_by_validation(data, 30, None, p.n_train) == (30, None)
    assert advise.choose_lookback_by_validation(data, 30, None, 0) == (30, None)   # one length


def test_default_run_takes_the_lookback_the_validation_rows_chose(tmp_path):
    cfg = advise.default_run(undated_csv(tmp_path / "ar.csv", ar2(200, seed=3)), "v")
    assert cfg.model.lookback == 4


def test_the_advice_reads_the_file_once_for_every_lookback_and_the_linear_path(tmp_path,
                                                                               monkeypatch):
    """Six lookbacks and the linear path are prepared from one read, with or without a dict
    from the caller; the scores are the same either way."""
    from rnnlab.config import DataConfig
    from rnnlab.data import split

    data = DataConfig(source=undated_csv(tmp_path / "ar.csv", ar2(400, seed=3)), target="v")
    lookbacks = advise.lookback_candidates(30, None, 280)
    apart = advise.lookback_scores(data, lookbacks)
    reads = []
    real = split.load
    monkeypatch.setattr(split, "load", lambda *a, **k: reads.append(a) or real(*a, **k))
    tables: dict = {}
    assert advise.lookback_scores(data, lookbacks, tables=tables) == apart
    assert len(apart) == 6 and len(reads) == 1
    advise.choose_linear_skip(data, 4, tables=tables)
    assert len(reads) == 1
    assert advise.lookback_scores(data, lookbacks) == apart     # its own dict: one more read
    assert len(reads) == 2
    # the table in hand serves the advice when it is that file read with the same options
    advise.advise_data(real(data.source), {"source": data.source, "target": "v"})
    assert len(reads) == 2
    advise.advise_data(real(data.source, fill="ffill"), {"source": data.source, "target": "v"})
    assert len(reads) == 3                                  # read otherwise: once, for all


def test_the_advice_reads_the_rows_a_run_trains_on_not_the_planned_rows_past_them():
    """planned_inputs.csv: 36 months of sales, then 4 with planned inputs and no sales. The
    advice splits the 36 as a run does (28 training rows), so no made-up sales reach it."""
    from pathlib import Path

    from rnnlab.config import DataConfig

    path = str(Path(__file__).resolve().parents[1] / "data" / "planned_inputs.csv")
    loaded = load(path)
    advice = advise.advise_loaded(loaded, "sales", DataConfig(source=path))
    assert "(28 rows, at least 36 needed" in advice.reasons["season"]
    run = advise.default_run(path, "sales")
    assert prepare(run.data, run.model.lookback, 1).n_train == 28
