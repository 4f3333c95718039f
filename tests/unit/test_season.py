"""season: candidates from the calendar, confirmed (or not) by the training rows' autocorrelation."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnlab.data import load
from rnnlab.season import SeasonFinding, acf, candidates, find_season

SAMPLES = Path(__file__).resolve().parent.parent.parent / "sample_data"


def acf_loop(x, max_lag: int) -> np.ndarray:
    """The textbook sample autocorrelation, one plain loop per lag, in float64."""
    x = [float(v) for v in x]
    n, mean = len(x), sum(x) / len(x)
    denom = sum((v - mean) ** 2 for v in x)
    out = []
    for k in range(max_lag + 1):
        out.append(sum((x[t] - mean) * (x[t + k] - mean) for t in range(n - k)) / denom)
    return np.array(out)


def assert_plain(finding: SeasonFinding) -> None:
    """A full sentence with numbers, saying 'autocorrelation', never the bare abbreviation."""
    assert finding.reason[0].isupper() and finding.reason.endswith(".")
    assert "ACF" not in finding.reason and "acf" not in finding.reason
    assert re.search(r"\d", finding.reason)


def training_part(path: Path, column: str) -> tuple[np.ndarray, str]:
    """The first 80 % of a sample's target column, and the loader's frequency."""
    loaded = load(path)
    values = loaded.frame[column].to_numpy(dtype=np.float64)
    return values[:int(0.8 * len(values))], loaded.frequency


# --------------------------------------------------------------------------- acf

@pytest.mark.parametrize("n, max_lag", [(2, 1), (7, 6), (50, 20), (301, 40)])
def test_acf_matches_a_plain_loop(n, max_lag):
    x = np.random.default_rng(n).normal(size=n).cumsum() + 5.0
    np.testing.assert_allclose(acf(x, max_lag), acf_loop(x, max_lag), rtol=1e-10, atol=1e-12)


def test_acf_matches_statsmodels_when_installed():
    tsa = pytest.importorskip("statsmodels.tsa.stattools")
    x = np.random.default_rng(3).normal(size=200)
    np.testing.assert_allclose(acf(x, 30), tsa.acf(x, nlags=30, fft=False), rtol=1e-10, atol=1e-12)


def test_acf_of_a_constant_is_undefined_and_bad_lags_are_refused():
    assert np.isnan(acf(np.ones(5), 2)).all()
    with pytest.raises(ValueError, match=r"longer than max_lag. Received: shape=\(3,\), max_lag=3"):
        acf(np.arange(3.0), 3)


# --------------------------------------------------------------------------- candidates

@pytest.mark.parametrize("frequency, expected", [
    ("h", (24, 168)), ("D", (7, 365)), ("B", (5, 261)), ("W-SUN", (52,)), ("W-SAT", (52,)),
    ("MS", (12,)), ("ME", (12,)), ("QS", (4,)), ("QS-OCT", (4,)), ("QE-DEC", (4,)),
    ("YS", ()), ("YE", ()), ("15min", (96, 672)), ("30min", (48, 336)), ("2h", (12, 84)),
    ("3D", (122,)), ("min", (1440,)), ("2MS", (6,)), (None, ()),
])
def test_candidates_for_every_alias(frequency, expected):
    assert candidates(frequency) == expected


def test_an_unknown_alias_is_refused_with_its_value():
    with pytest.raises(ValueError, match="Received: frequency='fortnightly'"):
        candidates("fortnightly")


# --------------------------------------------------------------------------- synthetic series

def monthly(n: int = 120, seed: int = 0) -> np.ndarray:
    """Trend + yearly cycle + noise, one row per month."""
    t = np.arange(n)
    return 100 + 0.8 * t + 10 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(seed).normal(0, 2, n)


def test_monthly_trend_and_yearly_cycle_gives_12():
    found = find_season(monthly(), "MS")
    assert (found.period, found.candidate) == (12, 12) and found.strength > 0.7
    assert found.reason == (f"Monthly data: a yearly cycle of 12 months, confirmed by the training "
                            f"part (autocorrelation {found.strength:.2f} at lag 12).")
    assert_plain(found)


@pytest.mark.parametrize("kind", ["white noise", "random walk"])
def test_monthly_noise_has_no_season_and_says_the_autocorrelation(kind):
    noise = np.random.default_rng(7).normal(size=120)
    found = find_season(noise if kind == "white noise" else noise.cumsum(), "MS")
    assert found.period is None and found.candidate == 12 and abs(found.strength) < 0.3
    assert found.reason.startswith(
        f"Monthly data usually repeats every 12 months, but the training part does not "
        f"(autocorrelation {found.strength:.2f} at lag 12), so no season is used")
    assert_plain(found)


def test_weekly_series_with_a_yearly_cycle_gives_52():
    t = np.arange(52 * 5)
    x = 50 + 0.05 * t + 8 * np.cos(2 * np.pi * t / 52) + np.random.default_rng(1).normal(0, 2, len(t))
    found = find_season(x, "W-SUN")
    assert found.period == 52
    assert found.reason.startswith("Weekly data: a yearly cycle of 52 weeks, confirmed")


def test_hourly_series_with_a_daily_cycle_gives_24():
    t = np.arange(24 * 30)
    x = 20 + 5 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(2).normal(0, 1, len(t))
    found = find_season(x, "h")
    assert found.period == 24
    assert "it is stronger than a weekly cycle of 168 hours" in found.reason  # 168 = 7 × 24 echoes


def test_daily_series_too_short_for_a_year_still_checks_the_week():
    t = np.arange(547)                                       # 1.5 years of days
    x = 12 - 6 * np.cos(2 * np.pi * t / 365.25) + np.random.default_rng(4).normal(0, 2, len(t))
    found = find_season(x, "D")
    assert found.period is None and found.candidate == 7
    assert found.reason.startswith(
        f"Daily data usually repeats every 7 days, but the training part does not (autocorrelation "
        f"{found.strength:.2f} at lag 7), so no season is used; the training part is too short to "
        f"check a yearly cycle of 365 days (547 rows, at least 1,095 needed: 3 full cycles)")


def test_a_weekly_pattern_in_daily_data_is_found_when_the_year_cannot_be_checked():
    t = np.arange(547)
    weekday = np.where(t % 7 < 5, 10.0, 2.0)
    x = weekday + 0.01 * t + np.random.default_rng(5).normal(0, 1, len(t))
    found = find_season(x, "D")
    assert found.period == 7
    assert found.reason.endswith("; the training part is too short to check a yearly cycle of 365 "
                                 "days (547 rows, at least 1,095 needed: 3 full cycles).")


BENCH = Path(__file__).resolve().parent.parent.parent / "bench" / "data"


@pytest.mark.parametrize("file, column, cycle", [("sunspots_yearly.csv", "SUNACTIVITY", 11),
                                                 ("lynx_yearly.csv", "value", 10)])
@pytest.mark.parametrize("frequency", ["YS", None])
def test_a_cycle_of_varying_length_is_a_cycle_not_a_season(file, column, cycle, frequency):
    values = pd.read_csv(BENCH / file)[column].to_numpy(dtype=np.float64)
    found = find_season(values[:int(0.8 * len(values))], frequency)
    assert found.period is None and found.candidate is None and found.strength is None
    assert found.cycle == cycle
    data = "Yearly data" if frequency else "A series without dates"
    assert found.reason.startswith(f"{data} has no calendar season; its clearest cycle is "
                                   f"{cycle} rows long (autocorrelation ")
    assert found.reason.endswith("used only to choose the lookback.")
    assert_plain(found)


def test_a_sunspot_like_sine_of_one_fixed_length_is_a_season():
    t = np.arange(250)
    x = 80 + 60 * np.sin(2 * np.pi * t / 11) + np.random.default_rng(6).normal(0, 20, len(t))
    found = find_season(x, "YS")
    assert (found.period, found.candidate, found.cycle) == (11, None, 11)
    assert found.reason.startswith("Yearly data has no calendar season; its training part "
                                   "repeats every 11 rows (autocorrelation ")


def test_a_fixed_cycle_without_dates_is_the_season():
    t = np.arange(300)
    x = np.where(t % 7 < 5, 10.0, 4.0) + 0.02 * t + np.random.default_rng(9).normal(0, 1, len(t))
    found = find_season(x, None)
    assert (found.period, found.candidate, found.cycle) == (7, None, 7)
    assert re.fullmatch(r"A series without dates has no calendar season; its training part repeats "
                        r"every 7 rows \(autocorrelation (0\.\d\d) at lag 7 and (0\.\d\d) at lag "
                        r"14\), so 7 rows is its season\.", found.reason)
    assert found.reason.startswith(f"A series without dates has no calendar season; its training "
                                   f"part repeats every 7 rows (autocorrelation {found.strength:.2f}")
    assert_plain(found)


def test_a_fixed_cycle_the_calendar_did_not_suggest_is_the_season():
    t = np.arange(800)
    x = np.sin(2 * np.pi * t / 50) + np.random.default_rng(10).normal(0, 0.1, len(t))
    found = find_season(x, "D")
    assert (found.period, found.candidate, found.cycle) == (50, 7, 50)
    assert found.reason.startswith("Daily data usually repeats every 7 days, but the training "
                                   "part does not (autocorrelation ")
    assert "so no season is used" not in found.reason
    assert found.reason.endswith("so 50 rows is its season.")


def test_a_fixed_cycle_needs_six_cycles_of_rows():
    t = np.arange(41)                                      # 5.9 cycles of 7
    x = np.where(t % 7 < 5, 10.0, 4.0) + np.random.default_rng(11).normal(0, 0.5, len(t))
    assert find_season(x, None).period is None


def test_noise_without_dates_never_gets_a_season():
    rng = np.random.default_rng(12)
    found = []
    for n in (40, 150, 600):
        for _ in range(30):
            e = rng.normal(size=n)
            ar1 = np.zeros(n)
            for i in range(1, n):
                ar1[i] = 0.7 * ar1[i - 1] + e[i]
            found += [find_season(x, None).period for x in (e, e.cumsum(), ar1)]
    assert found.count(None) == len(found)


def test_plain_noise_without_dates_has_neither_season_nor_cycle():
    found = find_season(np.random.default_rng(8).normal(size=300), None)
    assert (found.period, found.cycle) == (None, None)
    assert found.reason == ("A series without dates has no calendar season, and no clear cycle shows "
                            "in the training part.")


def test_missing_values_are_bridged_not_fatal():
    x = monthly()
    x[[0, 1, 30, 31, 32, 77, 119]] = np.nan
    assert find_season(x, "MS").period == 12


@pytest.mark.parametrize("values, reason", [
    (np.full(50, 3.0), "The training part holds the same value in every row, so there is no "
                       "season to find."),
    (np.array([1.0, np.nan, 2.0]), "The training part holds only 2 values, too few to look for a "
                                   "season."),
])
def test_degenerate_training_parts_are_explained(values, reason):
    found = find_season(values, "MS")
    assert (found.period, found.candidate, found.reason) == (None, 12, reason)


# --------------------------------------------------------------------------- real samples

def test_airline_passengers_repeat_every_12_months():
    train, frequency = training_part(SAMPLES / "airline_passengers.csv", "Passengers")
    found = find_season(train, frequency)
    assert frequency == "MS" and found.period == 12 and found.strength > 0.6
    assert_plain(found)


def test_daily_minimum_temperatures_repeat_every_365_days():
    train, frequency = training_part(SAMPLES / "daily_min_temperatures.csv", "Temp")
    found = find_season(train, frequency)
    assert frequency == "D" and found.period == 365 and found.strength > 0.3
    assert "Daily data: a yearly cycle of 365 days, confirmed by the training part" in found.reason


def test_trading_days_have_no_season():
    train, frequency = training_part(SAMPLES / "google_stock_price_train.csv", "Open")
    found = find_season(train, frequency)
    assert frequency == "B" and found.period is None and found.cycle is None


def test_a_straight_line_rounded_to_its_digits_has_no_season():
    """An R time column (1 + k/7, written with 15 digits) repeats its rounding every 7 rows."""
    x = np.array([float(f"{1 + k / 7:.15g}") for k in range(300)])
    found = find_season(x, None)
    assert (found.period, found.cycle) == (None, None)
    assert found.reason == ("The training part is a straight line (every row adds the same "
                            "amount), so there is no season to find.")
