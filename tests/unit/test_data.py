"""data.load (reading, cleaning, report), Scaler and prepare, on the samples and tiny fixtures."""

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnlab.config import DataConfig, preset
from rnnlab.data import CleaningReport, Finding, Scaler, load, prepare
from rnnlab.errors import ConfigError, DataError
from rnnlab.samples import SAMPLES

DATA = Path(__file__).resolve().parent.parent / "data"


def data_error(*args, **kwargs) -> str:
    """The message of the DataError that load(*args, **kwargs) raises."""
    with pytest.raises(DataError) as err:
        load(*args, **kwargs)
    return str(err.value)


def prepare_error(cfg: DataConfig, lookback: int, horizon: int) -> str:
    with pytest.raises(DataError) as err:
        prepare(cfg, lookback, horizon)
    return str(err.value)


# --------------------------------------------------------------------------- samples

@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_sample_loads_with_its_target_and_a_report(name):
    loaded = load(name)
    sample = SAMPLES[name]
    assert loaded.default_target == sample.target
    assert loaded.date_column == sample.date_column
    assert isinstance(loaded.frame.index, pd.DatetimeIndex)
    assert loaded.frame.index.name == sample.date_column
    assert loaded.frame.index.is_monotonic_increasing and loaded.frame.index.is_unique
    assert all(dtype == np.float64 for dtype in loaded.frame.dtypes)
    assert not loaded.frame.isna().any().any()
    assert loaded.report.lines() and len(loaded.sha256) == 64
    assert loaded.sample is sample


def test_temperature_gaps_are_named_and_filled():
    loaded = load("daily_min_temperatures.csv")
    assert loaded.frequency == "D"
    assert ("2 days are missing: 1984-12-31, 1988-12-31. Added rows for them; their values are "
            "filled in as missing values.") in loaded.report.lines()
    assert len(loaded.frame) == 3652
    gap = loaded.frame.loc["1984-12-31", "Temp"]
    neighbours = loaded.frame.loc[["1984-12-30", "1985-01-01"], "Temp"]
    assert gap == pytest.approx(neighbours.mean())


def test_stock_thousands_separators_are_reported_and_read():
    loaded = load("google_stock_price_train.csv")
    lines = loaded.report.lines()
    assert ("Column Close had 109 values with thousands separators like '1,008.64'; "
            "read them as numbers.") in lines
    assert ("Column Volume had 1,258 values with thousands separators like '7,380,500'; "
            "read them as numbers.") in lines
    assert "Dates: column Date, format MM/DD/YYYY." in lines
    assert loaded.frequency == "B" and len(loaded.frame) == 1258
    assert loaded.frame["Volume"].iloc[0] == 7380500.0
    assert loaded.frame["Close"].max() > 1000
    assert loaded.sha256 == "ec5746990ac62c58025ddc48723bfe87b67f329a1f7f81fcfe6edf3146105a05"


def test_airline_is_monthly_and_seattle_text_is_left_out_or_one_hot():
    assert load("airline_passengers.csv").frequency == "MS"
    weather = load("seattle_weather.csv")
    assert weather.categorical_columns == ["weather"] and weather.onehot_columns == []
    assert "weather" not in weather.frame.columns
    assert ("Column weather holds text (5 categories: drizzle, fog, rain, snow, sun); left it out. "
            "Choose one-hot encoding to use it as an input.") in weather.report.lines()
    onehot = load("seattle_weather.csv", categorical="onehot")
    assert onehot.onehot_columns == ["weather=drizzle", "weather=fog", "weather=rain",
                                     "weather=snow", "weather=sun"]
    assert (onehot.frame[onehot.onehot_columns].sum(axis=1) == 1).all()


def test_uploaded_bytes_of_a_sample_count_as_the_sample():
    raw = (DATA.parent.parent / "sample_data" / "seattle_weather.csv").read_bytes()
    assert load(raw, filename="seattle_weather.csv").sample is SAMPLES["seattle_weather.csv"]
    renamed = load(raw, filename="upload.csv")
    assert renamed.sample is None and renamed.default_target == "precipitation"


# --------------------------------------------------------------------------- formats

def test_messy_file_report_and_cleaning():
    loaded = load(DATA / "messy.csv")
    assert loaded.report.lines() == [
        "Read 10 rows × 7 columns from messy.csv (comma-separated).",
        "Column 'Unnamed: 0' only numbers the rows (0, 1, 2, …, as a saved row index); left it out.",
        "Dates: column date, format YYYY-MM-DD.",
        "Column price had 2 values with thousands separators like '1,008.64'; read them as numbers.",
        "Column price had 1 entry that is not a number (empty ×1); treated it as missing.",
        "Column volume had 2 entries that are not numbers ('n/a' ×1, '-' ×1); treated them as "
        "missing.",
        "Column note holds text (2 categories: late, ok); left it out. Choose one-hot encoding to use "
        "it as an input.",
        "Column city holds text (2 categories: Bergen, Oslo); left it out. Choose one-hot encoding to "
        "use it as an input.",
        "The rows were not in date order; sorted them by date.",
        "2 rows share the same date (2020-01-02); averaged them into one row, leaving 9 rows.",
        "One row per day (frequency D), from 2020-01-01 to 2020-01-10.",
        "1 day is missing: 2020-01-07. Added a row for it; its values are filled in as missing values.",
        "Missing values per column: id 1, price 2, volume 2; filled them by straight lines between "
        "neighbouring values (at the start or end, the nearest value).",
    ]
    assert loaded.missing == {"id": 1, "price": 2, "volume": 2}   # as data, not only a sentence
    frame = loaded.frame
    assert loaded.numeric_columns == ["id", "price", "volume"]
    assert loaded.default_target == "price"                      # "id" is a row id, not data
    assert frame.loc["2020-01-02", "price"] == pytest.approx((1001.25 + 1003.25) / 2)
    assert frame.loc["2020-01-03", "price"] == 1008.64
    assert frame.loc["2020-01-07", "price"] == pytest.approx((1011.5 + 1012.75) / 2)
    assert list(loaded.report.findings[0].__dict__) == ["kind", "message"]


def test_fill_drop_and_ffill():
    dropped = load(DATA / "messy.csv", fill="drop")
    assert len(dropped.frame) == 7 and not dropped.frame.isna().any().any()
    assert "1 day is missing: 2020-01-07. Kept the rows as they are, so a window may step over a gap." \
        in dropped.report.lines()
    carried = load(DATA / "messy.csv", fill="ffill")
    assert carried.frame.loc["2020-01-07", "price"] == 1011.5


@pytest.mark.parametrize("fixture, date_column, frequency, first, columns, line", [
    ("semicolon_decimal_comma.csv", "Datum", "D", "2021-01-01", {"Wert": 0.5, "Menge": 1000.5},
     "Read 12 rows × 3 columns from semicolon_decimal_comma.csv (semicolon-separated, decimal "
     "commas like 3,14)."),
    ("hourly.tsv", "time", "h", "2022-03-01 00:00", {"load": 100.0, "temp": 5.0},
     "Read 24 rows × 3 columns from hourly.tsv (tab-separated)."),
    ("pipe_yyyymmdd.txt", "day", "D", "2023-05-01", {"sales": 20.0},
     "Dates: column day, YYYYMMDD numbers."),
    ("quarters.csv", "Quarter", "QS", "1970-01-01", {"GDP": 1010.0},
     "One row per quarter (frequency QS), from 1970 Q1 to 1972 Q4."),
    ("split_date.csv", "date", "D", "2020-02-20", {"value": 0.0},
     "Dates: column date, built from the columns year, month, day."),
    ("iso_t.csv", "timestamp", "h", "2021-06-01 00:30", {"value": 0.0},
     "Dates: column timestamp, format YYYY-MM-DDThh:mm:ss."),
    ("utf16.csv", "date", "D", "2020-01-01", {"value": 1.5},
     "Read 3 rows × 2 columns from utf16.csv (tab-separated)."),
    ("utf8_bom.csv", "date", "D", "2020-01-01", {"value": 1.5},
     "Read 3 rows × 2 columns from utf8_bom.csv (comma-separated)."),
    ("latin1.csv", "Datum", "D", "2020-01-01", {"Température": 1.5},
     "latin1.csv is not UTF-8 text; read it as Latin-1 (Western European). If accented letters "
     "look wrong, save the file as CSV (UTF-8)."),
])
def test_formats_delimiters_and_encodings(fixture, date_column, frequency, first, columns, line):
    loaded = load(DATA / fixture)
    assert loaded.date_column == date_column and loaded.frequency == frequency
    assert loaded.frame.index[0] == pd.Timestamp(first)
    for column, value in columns.items():
        assert loaded.frame[column].iloc[0] == value
    assert line in loaded.report.lines()


@pytest.mark.parametrize("text, expected, label", [
    ("d,v\n1/3/2012,1\n1/4/2012,2\n1/5/2012,3\n", "2012-01-03", "MM/DD/YYYY"),
    ("d,v\n13/01/2020,1\n14/01/2020,2\n15/01/2020,3\n", "2020-01-13", "DD/MM/YYYY"),
    ("d,v\n01/02/2020,1\n02/02/2020,2\n03/02/2020,3\n04/02/2020,4\n", "2020-02-01", "DD/MM/YYYY"),
    ("d,v\n1949-01,1\n1949-02,2\n1949-03,3\n", "1949-01-01", "YYYY-MM"),
    ("d,v\n2012/01/01,1\n2012/01/02,2\n2012/01/03,3\n", "2012-01-01", "YYYY/MM/DD"),
    ("d,v\n2020-01-01T00:00:00.250Z,1\n2020-01-01T01:00:00.250Z,2\n2020-01-01T02:00:00.250Z,3\n",
     "2020-01-01 00:00:00.250", "ISO 8601"),
    ("d,v\n1970Q1,1\n1970Q2,2\n1970Q3,3\n", "1970-01-01", "YYYY Qn (quarters)"),
    ("d,v\nJan 2020,1\nFeb 2020,2\nMar 2020,3\n", "2020-01-01", "Mon YYYY"),
])
def test_date_formats(text, expected, label):
    loaded = load(text.encode(), filename="dates.csv")
    assert loaded.frame.index[0] == pd.Timestamp(expected)
    assert any(line.startswith(f"Dates: column d, format {label}") for line in loaded.report.lines())


def test_impossible_dates_are_not_rolled_over():
    text = "d,v\n" + "".join(f"2/{day}/2020,{day}\n" for day in range(1, 31))
    loaded = load(text.encode(), filename="feb.csv")
    assert len(loaded.frame) == 29                               # 30 February is not 1 March
    assert "Left out 1 row without a readable date in d ('2/30/2020' ×1)." in loaded.report.lines()


def test_no_date_column_and_headerless_numbers():
    loaded = load(b"1.5,2.5\n2.5,3.5\n3.5,1.0\n", filename="nohdr.csv")
    assert loaded.date_column is None and loaded.frequency is None
    assert isinstance(loaded.frame.index, pd.RangeIndex)
    assert loaded.numeric_columns == ["column_1", "column_2"]
    assert loaded.report.lines()[0] == ("The first row holds numbers, not column names; read it as "
                                        "data and named the columns column_1, column_2.")


def test_explicit_date_column():
    loaded = load(DATA / "hourly.tsv", date_column="time")
    assert loaded.date_column == "time"
    assert data_error(DATA / "split_date.csv", date_column="nope") == (
        "There is no column 'nope' to read dates from. Columns: year, month, day, value. Pick one "
        "of them, or leave the date column empty to detect it.")
    assert data_error(DATA / "split_date.csv", date_column="value") == (
        "Column 'value' does not hold dates RNN Lab can read (it starts with '0.0', '1.5', '3.0'). "
        "Pick the column with the dates, or leave the date column empty to detect it.")


def test_excel_first_sheet_and_parquet(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"Month": pd.date_range("2020-01-01", periods=6, freq="MS"),
                      "Sales": ["1,200", "1,300", "n/a", "1,500", "1,600", "1,700"]}
                     ).to_excel(writer, sheet_name="Data", index=False)
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="Notes", index=False)
    loaded = load(path)
    assert loaded.frequency == "MS" and loaded.default_target == "Sales"
    assert loaded.frame["Sales"].tolist() == [1200, 1300, 1400, 1500, 1600, 1700]
    assert ("The workbook has 2 sheets; used only the first, 'Data', and ignored 'Notes'. Move the "
            "data to the first sheet to use it.") in loaded.report.lines()
    frame = pd.DataFrame({"v": np.arange(5.0)},
                         index=pd.date_range("2020-01-01", periods=5, freq="h", name="ts"))
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    parquet = load(buffer.getvalue(), filename="d.parquet")
    assert parquet.date_column == "ts" and parquet.frequency == "h"
    assert parquet.frame["v"].tolist() == [0, 1, 2, 3, 4]


def test_workbook_renamed_csv_and_extra_date_columns(tmp_path):
    path = tmp_path / "book.csv"
    frame = pd.DataFrame({"start": pd.date_range("2021-01-01", periods=5, freq="D", tz="UTC"),
                          "end": pd.date_range("2021-02-01", periods=5, freq="D"),
                          "v": [1.0, 2.0, 4.0, 8.0, 16.0]})
    frame["start"] = frame["start"].dt.tz_localize(None)
    frame.to_excel(path, index=False, engine="openpyxl")
    loaded = load(path)
    assert loaded.date_column == "start" and loaded.numeric_columns == ["v"]
    assert "book.csv is an Excel workbook despite its name; read it as one." in loaded.report.lines()
    assert ("Column end holds dates too; left it out (only one date column is used)."
            in loaded.report.lines())


def test_time_zones_become_utc():
    text = (b"t,v\n2020-01-01T01:00:00+01:00,1\n2020-01-01T02:00:00+01:00,2\n"
            b"2020-01-01T04:00:00+02:00,3\n")
    loaded = load(text, filename="tz.csv")
    assert loaded.frame.index.tz is None
    assert loaded.frame.index[0] == pd.Timestamp("2020-01-01 00:00")
    assert loaded.frequency == "h" and len(loaded.frame) == 3


# --------------------------------------------------------------------------- unusable files

def test_unusable_files_say_what_is_wrong_and_what_to_do():
    assert data_error(DATA / "empty.csv") == (
        "empty.csv is empty. Choose a file with a header row and rows of data below it.")
    assert data_error(DATA / "header_only.csv") == (
        "header_only.csv has column names (Date, Open, Close) but no rows of data. Add the data "
        "rows below the header and load it again.")
    assert data_error(DATA / "no_numbers.csv") == (
        "No column holds numbers (columns: city, weather). RNN Lab forecasts a numeric column: add "
        "one, or check that the numbers are not written with units or words (like '12 kg').")
    assert data_error(b"date,v\n2020-01-01,1\n2020-01-02,2,3\n", filename="ragged.csv") == (
        "ragged.csv could not be read as a comma-separated table: Error tokenizing data. C error: "
        "Expected 2 fields in line 3, saw 3. Every row needs as many fields as the header; fix "
        "that row or save the file again as CSV.")


def test_binary_and_archives_renamed_csv():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.csv", "date,v\n2020-01-01,1\n")
    assert data_error(archive.getvalue(), filename="data.csv") == (
        "data.csv is a ZIP archive, not a table. Unzip it and load the CSV, Excel or Parquet file "
        "inside.")
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    assert data_error(png, filename="pic.csv") == (
        "pic.csv is not a text table: it contains binary data. Save your data as CSV (UTF-8), Excel "
        "(.xlsx) or Parquet and load that file.")
    assert data_error(b"\xff\xfea\x00,\x00\x00\xd8", filename="bad16.csv") == (
        "bad16.csv starts like UTF-16 text but cannot be decoded. Save it again as CSV (UTF-8).")
    assert data_error(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), filename="old.xls") == (
        "old.xls is an old Excel 97-2003 workbook (.xls), which RNN Lab cannot read. Open it in "
        "Excel and save it as .xlsx or as CSV.")


def test_size_and_width_limits():
    assert data_error(b"date,v\n2020-01-01,1\n", filename="x.csv", max_bytes=10) == (
        "x.csv is 20 bytes; the limit is 10 bytes. Use a shorter time span or fewer columns, or "
        "save it as Parquet, which is smaller.")
    wide = ",".join(f"c{i}" for i in range(10_001)) + "\n" + ",".join("1" * 10_001) + "\n"
    assert data_error(wide.encode(), filename="wide.csv") == (
        "The file has 10,001 columns; RNN Lab reads at most 10,000. Keep only the date and the "
        "columns you want to forecast from, then load it again.")


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError) as err:
        load("noisy_sine.csv", fill="mean")
    assert str(err.value) == "fill must be one of interpolate, ffill, drop. Received: fill='mean'"


def test_report_objects():
    report = CleaningReport([Finding("info", "a"), Finding("action", "b")])
    assert report.lines() == ["a", "b"] and str(report) == "- a\n- b"


# --------------------------------------------------------------------------- Scaler

@pytest.mark.parametrize("kind", ["minmax", "standard", "none"])
def test_scaler_round_trip(kind):
    rng = np.random.default_rng(1)
    train = rng.normal(5, 3, size=(40, 3))                     # (n, F)
    train[:, 2] = 7.0                                          # a constant column
    scaler = Scaler(kind).fit(train)
    other = rng.normal(5, 3, size=(10, 3))
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(other)), other)
    again = Scaler.from_dict(scaler.to_dict())
    np.testing.assert_array_equal(again.transform(other), scaler.transform(other))
    assert np.isfinite(scaler.transform(train)).all()
    assert scaler.scale[2] == 1.0 and scaler.constant.tolist() == [False, False, True]
    y = scaler.transform(other)[:, :1]                         # (n, 1) scaled target
    np.testing.assert_allclose(scaler.inverse_target(y), other[:, :1])


def test_minmax_is_sklearn_minmax_to_unit_range():
    train = np.array([[1.0, -2.0], [3.0, 2.0], [2.0, 0.0]])
    scaled = Scaler("minmax").fit(train).transform(train)
    np.testing.assert_allclose(scaled, [[0, 0], [1, 1], [0.5, 0.5]])
    standard = Scaler("standard").fit(train).transform(train)
    np.testing.assert_allclose(standard.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(standard.std(axis=0), 1)


# --------------------------------------------------------------------------- prepare

def test_seed_tutorial_shapes_and_training_only_scaling():
    p = prepare(preset("seed-tutorial").data, 60, 1)
    assert p.X_train.shape == (1198, 60, 1) and p.y_train.shape == (1198, 1)
    assert p.X_val.shape == (0, 60, 1) and p.y_val.shape == (0, 1)
    assert p.X_test.shape == (20, 60, 1) and p.y_test.shape == (20, 1)
    assert (p.n_train, p.n_val, p.n_test) == (1258, 0, 20) and p.inputs == ["Open"]
    train_open = p.values[:1258, 0]
    assert p.scaler.offset[0] == train_open.min()
    assert p.scaler.offset[0] + p.scaler.scale[0] == pytest.approx(train_open.max())
    test_open = p.values[1258:, 0]
    assert test_open[0] == 778.81 and p.index[1258] == pd.Timestamp("2017-01-03")
    np.testing.assert_allclose(p.y_test[:, 0], (test_open - train_open.min()) / np.ptp(train_open))
    np.testing.assert_array_equal(p.X_test[0, :, 0], p.scaled[1198:1258, 0])   # last 60 train days
    np.testing.assert_array_equal(p.t_test, np.arange(1258, 1278))
    assert np.shares_memory(p.X_train, p.scaled)
    assert p.test_loaded is not None and p.season is None


def test_splits_are_chronological_and_scaling_sees_only_train_rows():
    cfg = DataConfig(source="seattle_weather.csv", features=("precipitation", "weather"),
                     categorical="onehot", val_fraction=0.1, test_fraction=0.2, scaling="minmax")
    p = prepare(cfg, 14, 3)
    assert p.inputs[:2] == ["temp_max", "precipitation"] and p.inputs[2].startswith("weather=")
    assert p.n_train + p.n_val + p.n_test == len(p.values) == 1461
    assert (p.n_val, p.n_test) == (146, 292)
    np.testing.assert_array_equal(p.scaler.offset, p.values[:p.n_train].min(axis=0))
    np.testing.assert_allclose(p.scaler.offset + p.scaler.scale, p.values[:p.n_train].max(axis=0))
    for t, lo, hi in ((p.t_train, 0, p.n_train), (p.t_val, p.n_train, p.n_train + p.n_val),
                      (p.t_test, p.n_train + p.n_val, len(p.values))):
        assert t.min() >= lo and t.max() + p.horizon <= hi
    assert len(p.t_val) == p.n_val - 3 + 1 and len(p.t_test) == p.n_test - 3 + 1
    assert p.X_train.shape == (p.n_train - 14 - 3 + 1, 14, len(p.inputs))
    np.testing.assert_array_equal(p.y_val[0], p.scaled[p.t_val[0]:p.t_val[0] + 3, 0])
    assert p.season == 365 and len(p.data_sha256) == 64


def test_too_short_parts_give_the_numbers_and_the_fix():
    sine = DataConfig(source="noisy_sine.csv")
    assert prepare_error(sine, 900, 1) == (
        "The training part has 800 rows but lookback 900 + horizon 1 needs at least 901. Lower "
        "the lookback, use smaller validation/test parts, or use a longer series (1,000 rows in all).")
    assert prepare_error(DataConfig(source="noisy_sine.csv", test_fraction=0.01), 5, 20) == (
        "The test part has 10 rows but horizon 20 needs at least 20. Lower the horizon or raise "
        "test_fraction.")
    assert prepare_error(DataConfig(source="noisy_sine.csv", val_fraction=0.01), 5, 20) == (
        "The validation part has 10 rows but horizon 20 needs at least 20. Raise val_fraction, "
        "lower the horizon, or set val_fraction to 0.")


def test_constant_target_and_bad_columns():
    assert prepare_error(DataConfig(source=str(DATA / "constant.csv"), target="level"), 2, 1) == (
        "The target level is constant (= 5.0) in the training part; there is nothing to learn. "
        "Pick another column or a longer span.")
    stock = "google_stock_price_train.csv"
    assert prepare_error(DataConfig(source=stock, target="Nope"), 5, 1) == (
        "There is no column 'Nope' in google_stock_price_train.csv. Pick one of the numeric "
        "columns: Open, High, Low, Close, Volume.")
    assert prepare_error(DataConfig(source="seattle_weather.csv", target="weather"), 5, 1) == (
        "The target 'weather' holds text, not numbers. Pick one of the numeric columns: "
        "precipitation, temp_max, temp_min, wind.")
    assert prepare_error(DataConfig(source="seattle_weather.csv", features=("weather",)), 5, 1) == (
        "The input 'weather' holds text, not numbers. Pick one of the numeric columns: "
        "precipitation, temp_max, temp_min, wind or choose one-hot encoding to use its categories "
        "as inputs.")
    assert prepare_error(DataConfig(source=str(DATA / "empty_column.csv"), target="level"), 1, 1) == (
        "The target 'level' cannot be used: it has no values (every cell is empty or not a number). "
        "Pick one of the numeric columns: flow.")


def test_constant_inputs_are_noted_not_refused():
    cfg = DataConfig(source=str(DATA / "pipe_yyyymmdd.txt"), features=("store_id",),
                     val_fraction=0.0, test_fraction=0.2)
    p = prepare(cfg, 3, 1)
    assert p.inputs == ["sales", "store_id"] and p.scaler.scale[1] == 1.0
    assert p.notes == ["Input store_id is constant (= 7.0) in the training part; it carries no "
                       "information for the model."]
    assert np.isfinite(p.scaled).all()


def test_test_file_must_follow_the_training_file():
    cfg = DataConfig(source="google_stock_price_test.csv", test_source="google_stock_price_train.csv",
                     val_fraction=0.0)
    assert prepare_error(cfg, 5, 1) == (
        "The test file google_stock_price_train.csv starts on 2012-01-03, which is not after the "
        "training file ends (2017-01-31). The test rows must come after the training rows in time.")


def test_lookback_and_horizon_are_checked():
    with pytest.raises(ConfigError) as err:
        prepare(DataConfig(), 0, 1)
    assert str(err.value) == "lookback must be >= 1. Received: lookback=0"


def test_importing_data_does_not_import_tensorflow():
    code = ("import sys, rnnlab.data; "
            "sys.exit(any(m in sys.modules for m in ('tensorflow', 'keras')))")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_missing_values_are_counted_per_column_before_filling(tmp_path):
    """The counts are data in the result (every column, not the report's first ten), and equal
    pandas' own count on the table as read, with the added rows of missing days counted too."""
    n = 40
    dates = pd.date_range("2021-01-01", periods=n, freq="D")
    rng = np.random.default_rng(3)
    table = pd.DataFrame({f"c{i}": rng.normal(size=n) for i in range(12)})
    for i, col in enumerate(table.columns):
        table.loc[rng.choice(n, size=i + 1, replace=False), col] = np.nan
    table.insert(0, "date", dates.strftime("%Y-%m-%d"))
    table = table.drop(index=[5, 6])                          # two missing days
    path = tmp_path / "gaps.csv"
    table.to_csv(path, index=False)
    loaded = load(path)
    expected = table.set_index(pd.to_datetime(table["date"])).drop(columns="date") \
        .reindex(dates).isna().sum()
    assert loaded.missing == {c: int(v) for c, v in expected.items() if v}
    assert len(loaded.missing) == 12 and loaded.frame.notna().all().all()


# --------------------------------------------------------------------------- time in even steps

def r_ts_csv(per: int, n: int = 60, start: float = 1.0) -> bytes:
    """A series as R's write.csv(data.frame(time = time(x), value = x)) writes it: 15 digits."""
    rng = np.random.default_rng(per)
    rows = [f"{start + k / per:.15g},{100 + rng.normal():.3f}" for k in range(n)]
    return ("time,value\n" + "\n".join(rows) + "\n").encode()


def test_a_time_column_in_fractional_steps_is_the_row_order_not_data():
    loaded = load(r_ts_csv(7, start=1 + 3 / 7), filename="web.csv")
    assert list(loaded.frame.columns) == ["value"] and loaded.default_target == "value"
    assert loaded.dropped_columns == {"time": "it only counts time, in even steps"}
    assert ("Column 'time' only counts time (1.429, 1.571, … in even steps of 0.1429); it moves on "
            "by 1 every 7 rows, so the data may repeat every 7 rows; left it out, and the rows "
            "keep their order.") in loaded.report.lines()


@pytest.mark.parametrize("text", [
    "time,value\n1,5\n2,6\n3,7\n4,8\n",                    # whole steps: a counter
    "time,value\n0.5,5\n0.75,6\n1.5,7\n1.75,8\n",          # uneven steps: measured times
    "time,value\n0.1,5\n0.3,6\n0.2,7\n0.4,8\n",            # not rising
    "time,value\n0.1,5\n,6\n0.3,7\n0.4,8\n",               # a gap
    "level,value\n0.5,5\n0.75,6\n1.0,7\n1.25,8\n",         # even steps, but named as data
])
def test_other_columns_are_kept(text):
    loaded = load(text.encode(), filename="f.csv")
    first = text.split(",")[0]
    assert first in loaded.frame.columns or first in loaded.numeric_columns
    assert not any("only counts time" in line for line in loaded.report.lines())


# --------------------------------------------------------------------------- rows past the target

def future_rows_file(tmp_path, *, blank_wind: int = 0) -> Path:
    """Monthly sales with price and promo inputs; the last 4 months list the planned inputs and
    no sales (and the last `blank_wind` of them no promo either)."""
    n = 40
    months = pd.date_range("2020-01-01", periods=n, freq="MS")
    sales = [str(100 + 3 * i) for i in range(n - 4)] + [""] * 4
    promo = [str(i % 3) for i in range(n - blank_wind)] + [""] * blank_wind
    price = [f"{9 + 0.1 * i:.1f}" for i in range(n)]
    lines = ["month,sales,price,promo"] + [f"{m:%Y-%m-%d},{s},{p},{q}" for m, s, p, q
                                           in zip(months, sales, price, promo)]
    path = tmp_path / "plan.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_rows_past_the_targets_last_value_are_left_out_and_their_inputs_are_its_future(tmp_path):
    path = future_rows_file(tmp_path)
    loaded = load(path)
    assert loaded.trailing_missing == {"sales": 4}
    assert "The last 4 rows (from 2023-01-01) have no sales" in str(loaded.report)
    cfg = DataConfig(source=str(path), target="sales", features=("price", "promo"))
    p = prepare(cfg, 6, 1)
    assert len(p.values) == 36 and p.index[-1] == pd.Timestamp("2022-12-01")
    # no made-up sales: the last value trained and scored on is the file's last real one
    assert p.values[-1, 0] == 100 + 3 * 35 and p.n_train + p.n_val + p.n_test == 36
    np.testing.assert_array_equal(p.future_inputs, [[9 + 0.1 * i, i % 3] for i in range(36, 40)])
    assert p.notes[0].startswith("The last 4 rows of the file (2023-01-01 to 2023-04-01) have "
                                 "no sales: they are left out of training and scoring")
    assert "reads price, promo from the first 4 rows of them" in p.notes[0]


def test_the_known_future_stops_where_an_input_has_no_value_either(tmp_path):
    path = future_rows_file(tmp_path, blank_wind=2)
    cfg = DataConfig(source=str(path), target="sales", features=("price", "promo"))
    p = prepare(cfg, 6, 1)
    assert len(p.values) == 36 and len(p.future_inputs) == 2
    # on the target alone the rows are still left out, with nothing to read there
    alone = prepare(DataConfig(source=str(path), target="sales"), 6, 1)
    assert len(alone.values) == 36 and alone.future_inputs is None
    assert "reads" not in alone.notes[0]
    # a backtest fold ends inside the data: no future to read
    fold = prepare(DataConfig(source=str(path), target="sales", features=("price",),
                              end_row=30), 6, 1)
    assert len(fold.values) == 30 and fold.future_inputs is None


def test_dropping_rows_with_missing_values_leaves_no_future_rows(tmp_path):
    loaded = load(future_rows_file(tmp_path), fill="drop")
    assert loaded.trailing_missing == {} and len(loaded.frame) == 36
