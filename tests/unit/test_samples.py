"""The sample registry matches the shipped files, and sources resolve to paths."""

import hashlib
import re

import pytest

from rnnlab.errors import DataError, RnnlabError
from rnnlab.samples import SAMPLE_DIR, SAMPLES, resolve_source, sample_for, sample_path

SAMPLE_NAMES = ", ".join(SAMPLES)


def test_every_shipped_csv_is_registered_and_every_sample_is_shipped():
    shipped = {p.name for p in SAMPLE_DIR.glob("*.csv")}
    assert shipped == set(SAMPLES)


def test_shipped_files_match_the_documented_hashes():
    provenance = "".join((SAMPLE_DIR / doc).read_text() for doc in ("PROVENANCE.md", "GENERATED.md"))
    listed = re.findall(r"^([0-9a-f]{64})  (\S+)$", provenance, re.M)
    hashes = {name: digest for digest, name in listed}
    for name in SAMPLES:
        assert hashlib.sha256((SAMPLE_DIR / name).read_bytes()).hexdigest() == hashes[name]


def test_samples_say_what_to_forecast():
    assert SAMPLES["airline_passengers.csv"].season == 12
    assert SAMPLES["daily_min_temperatures.csv"].season == 365
    assert SAMPLES["daily_min_temperatures.csv"].attribution == (
        "Source: Australian Bureau of Meteorology, via the Time Series Data Library")
    stock = SAMPLES["google_stock_price_train.csv"]
    assert (stock.target, stock.test_file) == ("Open", "google_stock_price_test.csv")
    assert SAMPLES["seattle_weather.csv"].target == "temp_max"
    for sample in SAMPLES.values():
        assert sample.description and "\n" not in sample.description
        assert sample.test_file is None or sample.test_file in SAMPLES


def test_sample_path_and_unknown_sample():
    assert sample_path("noisy_sine.csv") == SAMPLE_DIR / "noisy_sine.csv"
    assert sample_path("noisy_sine") == SAMPLE_DIR / "noisy_sine.csv"
    with pytest.raises(RnnlabError) as err:
        sample_path("nope.csv")
    assert str(err.value) == f"There is no sample called 'nope.csv'. Samples: {SAMPLE_NAMES}."


def test_resolve_source_accepts_sample_names_and_existing_files(tmp_path):
    assert resolve_source("airline_passengers.csv") == SAMPLE_DIR / "airline_passengers.csv"
    own = tmp_path / "mine.csv"
    own.write_text("a\n1\n")
    assert resolve_source(str(own)) == own
    assert resolve_source(own) == own
    assert sample_for(SAMPLE_DIR / "seattle_weather.csv") is SAMPLES["seattle_weather.csv"]
    assert sample_for(own) is None


def test_resolve_source_refuses_missing_files_and_folders(tmp_path):
    with pytest.raises(DataError) as err:
        resolve_source("no_such_file.csv")
    assert str(err.value) == (
        f"No sample or file called 'no_such_file.csv'. Pick a sample ({SAMPLE_NAMES}) or give the "
        "path of an existing CSV, Excel or Parquet file.")
    with pytest.raises(DataError) as err:
        resolve_source(str(tmp_path))
    assert str(err.value) == (f"{str(tmp_path)!r} is a folder, not a file. "
                              "Give the path of a CSV, Excel or Parquet file inside it.")
