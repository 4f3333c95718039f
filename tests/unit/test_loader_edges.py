"""Loader edge cases: over-long header names, binary Parquet columns, Unix timestamps, numbers too
small or too large for 32-bit training, rows sharing one date, workbooks opening on a cover page,
and the verdict when the test part does not change."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rnnlab import evaluate
from rnnlab.config import DataConfig
from rnnlab.data import load, prepare
from rnnlab.errors import DataError

UNITS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
WORDS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}


def _csv(text: str, name: str = "f.csv"):
    return load(text.encode(), filename=name)


def _stamps(n: int = 40, freq: str = "h", start: str = "2023-05-01") -> np.ndarray:
    """Nanoseconds since 1970 of `n` regular timestamps (int64)."""
    return pd.date_range(start, periods=n, freq=freq).as_unit("ns").asi8


# --------------------------------------------------------------------------- header names

@pytest.mark.parametrize("n_chars", [131_073, 140_000, 1_001])
def test_an_over_long_header_name_is_refused_with_the_fix(n_chars):
    rows = "".join(f"2021-03-{d:02d},{d}\n" for d in range(1, 11))
    with pytest.raises(DataError) as err:
        _csv(f"{'n' * n_chars},value\n{rows}", "long.csv")
    message = str(err.value)
    assert message.startswith(f"long.csv has a column name of {n_chars:,} characters in its header "
                              "row (it starts 'nnnn")
    assert ("Make the first row hold only the column names, separated by commas (or semicolons or "
            "tabs), and load it again.") in message


def test_an_over_long_quoted_header_name_on_a_semicolon_file_is_refused():
    rows = "".join(f"2021-03-{d:02d};{d},5\n" for d in range(1, 11))
    with pytest.raises(DataError, match="semi.csv has a column name of 200,00. characters"):
        _csv(f'"{"q" * 200_000}";value\n{rows}', "semi.csv")


def test_a_long_but_plausible_header_name_still_loads():
    name = "a fairly long but real column description " * 20                 # 860 characters
    rows = "".join(f"2021-03-{d:02d},{d}\n" for d in range(1, 11))
    loaded = _csv(f"date,{name}\n{rows}")
    assert loaded.numeric_columns == [name.strip()]


# --------------------------------------------------------------------------- Parquet bytes

def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def test_a_parquet_column_of_non_utf8_bytes_is_left_out_and_named():
    raw = _parquet(pa.table({"blob": pa.array([b"\xff\xfe" + bytes([i]) for i in range(20)]),
                             "value": pa.array(np.arange(20.0))}))
    loaded = load(raw, filename="b.parquet")
    assert loaded.numeric_columns == ["value"]
    assert "blob" in loaded.dropped_columns
    assert ("Column blob holds raw bytes that are not text (not UTF-8); left it out. Store it as "
            "text (a string column) in the Parquet file to use it.") in loaded.report.lines()


def test_a_parquet_binary_column_of_utf8_text_is_read_as_text():
    days = [f"2022-01-{d:02d}".encode() for d in range(1, 21)]
    raw = _parquet(pa.table({"day": pa.array(days, pa.binary()),
                             "city": pa.array([b"Troms\xc3\xb8"] * 20, pa.large_binary()),
                             "value": pa.array(np.arange(20.0))}))
    loaded = load(raw, filename="b.parquet", categorical="onehot")
    assert loaded.date_column == "day" and loaded.frequency == "D"
    assert loaded.onehot_columns == ["city=Tromsø"]


def test_a_parquet_file_of_only_binary_bytes_says_there_are_no_numbers():
    raw = _parquet(pa.table({"blob": pa.array([b"\x80\x81"] * 5)}))
    with pytest.raises(DataError, match="No column holds numbers"):
        load(raw, filename="b.parquet")


# --------------------------------------------------------------------------- Unix timestamps

@pytest.mark.parametrize("unit", list(UNITS))
def test_unix_timestamps_become_the_dates_as_pandas_reads_them(unit):
    ints = _stamps(40) // UNITS[unit]
    body = "".join(f"{t},{np.sin(i / 3):.4f},{i % 5}\n" for i, t in enumerate(ints))
    loaded = _csv(f"timestamp,value,count\n{body}")
    assert loaded.date_column == "timestamp"
    assert loaded.default_target == "value" and "timestamp" not in loaded.numeric_columns
    expected = pd.to_datetime(ints, unit=unit)
    assert (loaded.frame.index == expected).all()
    assert loaded.frequency == "h"
    assert (f"Dates: column timestamp, Unix timestamps in {WORDS[unit]} since 1970-01-01 (UTC)."
            in loaded.report.lines())


@pytest.mark.parametrize("unit", list(UNITS))
def test_unix_timestamps_in_a_first_column_not_named_like_a_date(unit):
    ints = _stamps(30, "min") // UNITS[unit]
    loaded = _csv("x,value\n" + "".join(f"{t},{i * 0.5}\n" for i, t in enumerate(ints)))
    assert loaded.date_column == "x"
    assert (loaded.frame.index == pd.to_datetime(ints, unit=unit)).all()


def test_mixed_seconds_and_milliseconds_are_each_read_by_their_size():
    ns = _stamps(30, "D", "2019-12-30")
    ints = [t // UNITS["s"] if i % 2 else t // UNITS["ms"] for i, t in enumerate(ns)]
    loaded = _csv("time,value\n" + "".join(f"{t},{i}\n" for i, t in enumerate(ints)))
    expected = [pd.to_datetime(t, unit="s" if i % 2 else "ms") for i, t in enumerate(ints)]
    assert list(loaded.frame.index) == expected
    assert loaded.frequency == "D"
    assert any("Unix timestamps in seconds and milliseconds since 1970-01-01 (UTC), each value "
               "read by its size" in line for line in loaded.report.lines())


def test_unix_timestamps_out_of_order_are_sorted_and_reported():
    ints = list(_stamps(30) // UNITS["s"])
    ints[3], ints[4] = ints[4], ints[3]
    loaded = _csv("epoch,value\n" + "".join(f"{t},{i}\n" for i, t in enumerate(ints)))
    assert loaded.date_column == "epoch"
    assert (loaded.frame.index == pd.to_datetime(sorted(ints), unit="s")).all()
    assert "The rows were not in date order; sorted them by date." in loaded.report.lines()


def test_the_user_may_name_a_unix_timestamp_column():
    ints = _stamps(20) // UNITS["ms"]
    body = "".join(f"{i},{t},{i * 2.0}\n" for i, t in enumerate(ints))
    loaded = _csv(f"row,created,value\n{body}", "named.csv")
    assert loaded.date_column is None                          # "created" is not named like a date
    named = load(f"row,created,value\n{body}".encode(), filename="named.csv", date_column="created")
    assert (named.frame.index == pd.to_datetime(ints, unit="ms")).all()


@pytest.mark.parametrize("header, values", [
    ("t,value", range(0, 40)),                                      # a step counter
    ("time,value", range(1_000, 41_000, 1_000)),                    # seconds since start
    ("population,value", range(1_600_000_123, 1_650_000_123, 1_234_567)),   # big rising counts
    ("timestamp,value", [1_600_000_000 + (-1) ** i * 1000 * i for i in range(40)]),  # no order
])
def test_numbers_that_are_not_unix_timestamps_stay_numbers(header, values):
    loaded = _csv(header + "\n" + "".join(f"{v},{i % 7}\n" for i, v in enumerate(values)))
    assert loaded.date_column is None
    assert loaded.numeric_columns[0] == header.split(",")[0]


def test_yyyymmdd_numbers_are_still_read_as_such():
    loaded = _csv("date,value\n" + "".join(f"202101{d:02d},{d}\n" for d in range(1, 21)))
    assert any("YYYYMMDD numbers" in line for line in loaded.report.lines())


# --------------------------------------------------------------------------- magnitudes

def _series(scale: float, n: int = 40) -> str:
    days = pd.date_range("2021-01-01", periods=n, freq="D").strftime("%Y-%m-%d")
    return "date,value\n" + "".join(f"{d},{float((2 + np.sin(i / 3)) * scale)!r}\n"
                                    for i, d in enumerate(days))


@pytest.mark.parametrize("scale, factor", [(1e-299, "1e299"), (1e-35, "1e35"), (1e35, "1e-35"),
                                           (1e39, "1e-39"), (1e300, "1e-300")])
def test_a_column_far_from_1_is_rescaled_by_a_power_of_ten_and_reported(scale, factor):
    loaded = _csv(_series(scale))
    values = loaded.frame["value"].to_numpy()
    expected = 2 + np.sin(np.arange(40) / 3)
    np.testing.assert_allclose(values, expected * (scale / 10.0 ** np.floor(np.log10(scale * 2.4))),
                               rtol=1e-9)
    assert 1 <= np.median(np.abs(values)) < 10
    line = next(l for l in loaded.report.lines() if l.startswith("Column value holds numbers"))
    assert f"multiplied it by {factor} " in line and "get the file's units back" in line


def test_rescaled_values_give_errors_that_are_not_zero(tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text(_series(1e-299))
    p = prepare(DataConfig(source=str(path)), 3, 1)
    target = p.values[:, 0]                                                  # (T,)
    assert np.ptp(target) > 1
    naive = evaluate.metrics(target[1:], target[:-1])
    assert naive["rmse"] > 0.01


@pytest.mark.parametrize("scale", [1.0, 1e-25, 1e25, 1234.5])
def test_ordinary_magnitudes_are_left_as_they_are(scale):
    loaded = _csv(_series(scale))
    assert loaded.frame["value"].iloc[0] == pytest.approx(2 * scale)
    assert not any("multiplied it by" in line for line in loaded.report.lines())


def test_one_tiny_value_in_an_ordinary_column_is_left_alone():
    text = _series(1.0).replace("2021-01-05,", "2021-01-05,1e-40,", 1)
    text = "\n".join(line if not line.startswith("2021-01-05") else "2021-01-05,1e-40"
                     for line in text.splitlines()) + "\n"
    loaded = _csv(text)
    assert loaded.frame["value"].iloc[4] == 1e-40
    assert not any("multiplied it by" in line for line in loaded.report.lines())


# --------------------------------------------------------------------------- duplicated dates

def test_rows_sharing_one_date_are_counted_as_rows():
    loaded = _csv("date,value\n" + "".join(f"2022-07-01,{i}\n" for i in range(200)))
    assert len(loaded.frame) == 1
    assert loaded.report.lines()[-1].startswith(
        "All 200 rows have the same date (2022-07-01); averaged them into 1 row.")


def test_rows_sharing_several_dates_are_counted_with_what_is_left():
    body = "".join(f"2022-07-{1 + i // 50:02d},{i}\n" for i in range(200))
    loaded = _csv("date,value\n" + body + "2022-07-05,1\n")
    assert ("200 rows share 4 dates (like 2022-07-01 ×50); averaged the rows of each date into "
            "one, leaving 5 rows.") in loaded.report.lines()


# --------------------------------------------------------------------------- workbooks

def _workbook(sheets: dict[str, pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()


def _sales(n: int = 24) -> pd.DataFrame:
    return pd.DataFrame({"Month": pd.date_range("2022-01-01", periods=n, freq="MS"),
                         "Sales": np.arange(n) * 2.5 + 100})


def test_a_cover_page_is_passed_over_for_the_first_sheet_with_numbers():
    cover = pd.DataFrame({"Annual report": ["Prepared by finance", "Draft", "Page 2 has data"]})
    notes = pd.DataFrame({"Notes": ["ok", "checked"]})
    raw = _workbook({"Cover": cover, "Notes": notes, "Figures": _sales(), "Later": _sales(3)})
    loaded = load(raw, filename="book.xlsx")
    assert loaded.default_target == "Sales" and loaded.date_column == "Month"
    lines = loaded.report.lines()
    assert lines[0] == "Read 24 rows × 2 columns from the sheet 'Figures' of the workbook book.xlsx."
    assert lines[1] == ("The sheets 'Cover', 'Notes' hold text but no column of numbers (a cover or "
                        "notes page?); read the data from the sheet 'Figures', the first with "
                        "numbers.")
    assert lines[2] == ("The workbook has 4 sheets; used only 'Figures', and ignored 'Later'. Move "
                        "the data to the sheet 'Figures' to use it.")


def test_numbers_written_as_text_on_a_sheet_count_as_numbers():
    text_numbers = pd.DataFrame({"day": [f"2022-01-{d:02d}" for d in range(1, 11)],
                                 "value": [f"{d},500.5" for d in range(1, 11)]})
    raw = _workbook({"Cover": pd.DataFrame({"Title": ["x"]}), "Data": text_numbers})
    loaded = load(raw, filename="book.xlsx")
    assert "sheet 'Data'" in loaded.report.lines()[0]


def test_a_workbook_of_text_only_says_there_are_no_numbers():
    raw = _workbook({"Cover": pd.DataFrame({"Title": ["a", "b"]}),
                     "More": pd.DataFrame({"Words": ["c", "d"]})})
    with pytest.raises(DataError, match="No column holds numbers"):
        load(raw, filename="book.xlsx")


# --------------------------------------------------------------------------- verdicts

def _scores(model: float, naive: float, **others: float) -> dict:
    out = {"model": {"rmse": model}, "naive": {"rmse": naive}}
    out.update({name: {"rmse": value} for name, value in others.items()})
    return out


@pytest.mark.parametrize("model", [0.0, 0.5])
def test_a_constant_test_part_gets_no_verdict(model):
    scores = _scores(model, 0.0, mean=0.0, seasonal_naive=0.0)
    best = evaluate.best_baseline(scores)
    text = evaluate.headline(scores, best)
    skill, verdict = evaluate._skill(model, 0.0)
    assert skill is None and verdict == text
    assert "meaningless" in text and "does not change" in text
    for claim in ("exact", "%", "beats", "better", "worse", "loses", "nothing to beat"):
        assert claim not in text


def test_a_perfect_best_baseline_is_named_without_a_skill_against_it():
    scores = _scores(0.2, 0.4, seasonal_naive=0.0, mean=1.0)
    text = evaluate.headline(scores, evaluate.best_baseline(scores))
    assert text.startswith("The best baseline, ")
    assert "has no error at all on this part of the data, so comparing the model with it is " \
           "meaningless." in text
    assert "exact" not in text and "beats" not in text


def test_an_ordinary_comparison_is_unchanged():
    scores = _scores(0.1, 0.2, mean=0.5)
    assert evaluate.headline(scores, "naive").startswith(
        "The model beats the best baseline, ")
