"""Dates built from separate year + quarter (or year + month) columns."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnlab.data import load

DATA = Path(__file__).resolve().parent.parent / "data"


def _quarter_csv(quarter_cell, years: int = 12, first: int = 1959) -> tuple[bytes, list[float]]:
    """A macrodata-like file: year,quarter,realgdp,realcons with one row per quarter."""
    values = [round(2700.0 + 11.5 * i + (i % 4) * 3.25, 2) for i in range(4 * years)]
    rows = ["year,quarter,realgdp,realcons"]
    for i, v in enumerate(values):
        rows.append(f"{first + i // 4},{quarter_cell(i % 4 + 1)},{v},{v / 2}")
    return ("\n".join(rows) + "\n").encode(), values


@pytest.mark.parametrize("quarter_cell", [str, lambda q: f"{q}.0", lambda q: f"Q{q}",
                                          lambda q: f"q{q}"],
                         ids=["1", "1.0", "Q1", "q1"])
def test_year_and_quarter_columns_become_one_quarterly_date(quarter_cell):
    raw, values = _quarter_csv(quarter_cell)
    loaded = load(raw, filename="macro.csv")
    assert len(loaded.frame) == 48
    assert loaded.frequency == "QS"
    expected = pd.date_range("1959-01-01", periods=48, freq="QS")
    assert isinstance(loaded.frame.index, pd.DatetimeIndex)
    assert (loaded.frame.index == expected).all()
    assert loaded.numeric_columns == ["realgdp", "realcons"]
    assert "year" not in loaded.frame.columns and "quarter" not in loaded.frame.columns
    assert "Dates: column date, built from the columns year, quarter." in loaded.report.lines()
    assert "One row per quarter (frequency QS), from 1959 Q1 to 1970 Q4." in loaded.report.lines()


def test_quarter_rows_keep_the_file_values_in_order():
    raw, values = _quarter_csv(str)
    loaded = load(raw, filename="macro.csv")
    np.testing.assert_array_equal(loaded.frame["realgdp"].to_numpy(), np.array(values))
    assert not any("averaged" in line for line in loaded.report.lines())


def test_shuffled_quarters_are_sorted_by_date():
    raw, values = _quarter_csv(lambda q: f"Q{q}", years=3)
    header, *rows = raw.decode().splitlines()
    loaded = load(("\n".join([header, *reversed(rows)]) + "\n").encode(), filename="rev.csv")
    np.testing.assert_array_equal(loaded.frame["realgdp"].to_numpy(), np.array(values))
    assert loaded.frequency == "QS"


def test_an_unreadable_quarter_leaves_out_that_row_only():
    raw, values = _quarter_csv(str, years=3)
    text = raw.decode().replace("1960,3,", "1960,7,")        # no seventh quarter
    loaded = load(text.encode(), filename="bad_q.csv")
    assert any(line.startswith("Left out 1 row without a readable date") for line in
               loaded.report.lines())
    assert ("1 quarter is missing: 1960 Q3. Added a row for it; its values are filled in as "
            "missing values.") in loaded.report.lines()
    assert len(loaded.frame) == 12 and loaded.frequency == "QS"


def test_a_day_column_beside_year_and_quarter_stays_data():
    rows = ["year,quarter,day,value"] + [f"{2000 + i // 4},{i % 4 + 1},{i + 1},{i}" for i in range(12)]
    loaded = load(("\n".join(rows) + "\n").encode(), filename="yqd.csv")
    assert loaded.frequency == "QS" and len(loaded.frame) == 12
    assert loaded.numeric_columns == ["day", "value"]


def test_year_and_month_columns_still_give_monthly_dates():
    rows = ["year,month,sales"] + [f"{2001 + i // 12},{i % 12 + 1},{10 + i}" for i in range(24)]
    loaded = load(("\n".join(rows) + "\n").encode(), filename="ym.csv")
    assert loaded.frequency == "MS" and len(loaded.frame) == 24
    assert loaded.frame.index[0] == pd.Timestamp("2001-01-01")
    assert loaded.numeric_columns == ["sales"]
    assert "Dates: column date, built from the columns year, month." in loaded.report.lines()


def test_with_a_month_column_a_quarter_column_is_left_as_data():
    rows = ["year,month,quarter,sales"] + [f"{2001 + i // 12},{i % 12 + 1},{i % 12 // 3 + 1},{i}"
                                           for i in range(24)]
    loaded = load(("\n".join(rows) + "\n").encode(), filename="ymq.csv")
    assert loaded.frequency == "MS" and len(loaded.frame) == 24
    assert "Dates: column date, built from the columns year, month." in loaded.report.lines()


def test_the_split_date_fixture_is_unchanged():
    loaded = load(DATA / "split_date.csv")
    assert loaded.frequency == "D" and loaded.numeric_columns == ["value"]
    assert "Dates: column date, built from the columns year, month, day." in loaded.report.lines()


def test_a_year_column_alone_still_gives_yearly_rows():
    rows = ["year,value"] + [f"{1900 + i},{i}" for i in range(10)]
    loaded = load(("\n".join(rows) + "\n").encode(), filename="y.csv")
    assert loaded.frequency == "YS" and len(loaded.frame) == 10
    assert "Dates: column year, years (one row per year)." in loaded.report.lines()


# -- dates written as numbers the way other tools write them --------------------------------------

def _load_text(text: str):
    return load(text.encode(), filename="series.csv")


def test_yymmdd_numbers_become_dates():
    loaded = _load_text("date,rate\n800102,0.58\n800103,0.59\n800104,0.57\n800107,0.6\n")
    assert loaded.date_column == "date"
    assert list(loaded.frame.index.strftime("%Y-%m-%d")) == ["1980-01-02", "1980-01-03",
                                                             "1980-01-04", "1980-01-07"]
    assert loaded.numeric_columns == ["rate"]


def test_decimal_years_become_months_or_quarters():
    months = "\n".join(f"{1960 + i / 12:.6f},{i}" for i in range(30))
    loaded = _load_text("time,value\n" + months + "\n")
    assert loaded.frequency == "MS" and len(loaded.frame) == 30
    assert loaded.frame.index[13].strftime("%Y-%m") == "1961-02"
    quarters = "\n".join(f"{1960 + i / 4},{i}" for i in range(12))
    loaded = _load_text("time,value\n" + quarters + "\n")
    assert loaded.frequency == "QS" and loaded.frame.index[5].strftime("%Y-%m") == "1961-04"


def test_decimal_numbers_in_a_column_not_named_like_a_date_stay_numbers():
    rows = "\n".join(f"{1000 + i / 4},{i}" for i in range(12))
    loaded = _load_text("price,volume\n" + rows + "\n")
    assert loaded.date_column is None and "price" in loaded.numeric_columns


def test_the_name_given_to_built_dates_reads_the_file_again():
    """The Data page passes back the date column it was shown; for dates built from year and
    quarter (or month) columns that is a name the file itself does not have."""
    rows = "\n".join(f"{1990 + i // 4},{i % 4 + 1},{100 + i}" for i in range(16))
    raw = ("year,quarter,gdp\n" + rows + "\n").encode()
    first = load(raw, filename="q.csv")
    again = load(raw, filename="q.csv", date_column=first.date_column)
    assert again.date_column == first.date_column == "date"
    assert again.frame.equals(first.frame) and again.frequency == "QS"
    with pytest.raises(Exception, match="There is no column 'when'"):
        load(raw, filename="q.csv", date_column="when")
