"""Find the date column and read its dates, however they are written.

`_find_dates` reads the column the user named (`_named_dates`) or looks for one: a column
already stored as dates; text in one of DATE_FORMATS (between month/day and day/month, the
reading that fits every value and runs in order), or quarters ('1970 Q1'); year / month
(/ day / hour) or year / quarter columns assembled into one date; whole numbers written as
YYYYMMDD or YYMMDD, years alone, decimal years (1960.0833, as R writes them) or Unix
timestamps in seconds to nanoseconds. Time zones become UTC and are then dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from rnnlab.data.findings import _preview
from rnnlab.data.numbers import _arrow_text, _is_text, _looks_numeric
from rnnlab.errors import DataError

DATE_HINT = re.compile(r"date|time|day|month|year|period|stamp|quarter|week|^ds$|^dt$|^t$|fecha|datum",
                       re.IGNORECASE)
DATE_FORMATS = (
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
    "%Y-%m", "%Y/%m/%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m",
    "%m/%d/%Y", "%d/%m/%Y", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S", "%m/%d/%y", "%d/%m/%y", "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d.%m.%y",
    "%d-%m-%Y", "%m-%d-%Y", "%Y%m%d", "%b %Y", "%B %Y", "%Y-%b", "%b-%y", "%b-%Y", "%d %b %Y",
    "%d-%b-%Y", "%d-%b-%y", "%b %d, %Y", "%B %d, %Y", "%d %B %Y", "ISO8601", "%Y",
)
_SWAPPED = {"%m/%d": "%d/%m", "%d/%m": "%m/%d", "%m-%d-": "%d-%m-", "%d-%m-": "%m-%d-"}
QUARTER = re.compile(r"^\s*(?:(\d{4})\s*[-/ ]?\s*[Qq]([1-4])|[Qq]([1-4])\s*[-/ ]?\s*(\d{4}))\s*$")
PART_NAMES = {"year": ("year", "yr", "yyyy"), "month": ("month", "mon", "mm", "mo"),
              "day": ("day", "dd", "dom"), "hour": ("hour", "hr", "hh"), "quarter": ("quarter", "qtr")}
QUARTER_PART = re.compile(r"^\s*[Qq]?\s*([1-4])(?:\.0*)?\s*$")     # a quarter column's cell: 3, 3.0, Q3
MONTH_WORD = r"(?i)(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
EPOCH_UNITS = {"s": (1e8, 4.2e9), "ms": (1e11, 4.2e12), "us": (1e14, 4.2e15),   # 1973 to 2100
               "ns": (1e17, 4.2e18)}
EPOCH_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
EPOCH_WORDS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
MONTH_NAMES = {m.lower(): i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}


@dataclass
class _Dates:
    """Parsed dates for every row (NaT where unreadable) and how they were found."""

    values: pd.Series                  # datetime64, aligned with the table's rows
    name: str                          # the index name
    columns: list[str]                 # the table columns they came from
    how: str                           # plain words for the report


def _format_label(fmt: str) -> str:
    """'%m/%d/%Y' -> 'MM/DD/YYYY'."""
    if fmt == "ISO8601":
        return "ISO 8601"
    for code, word in (("%Y", "YYYY"), ("%y", "YY"), ("%m", "MM"), ("%d", "DD"), ("%H", "hh"),
                       ("%M", "mm"), ("%S", "ss"), ("%b", "Mon"), ("%B", "Month")):
        fmt = fmt.replace(code, word)
    return fmt


def _to_datetime(values: pd.Series, fmt: str) -> pd.Series:
    """Parse with one explicit format; unreadable values become NaT; time zones become UTC."""
    if fmt == "ISO8601" or "%b" in fmt or "%B" in fmt:
        return _pandas_datetime(values, fmt)
    parsed = pc.strptime(_arrow_text(values), format=fmt, unit="s", error_is_null=True)
    out = pd.Series(parsed.to_numpy(zero_copy_only=False), index=values.index).astype("datetime64[us]")
    out = out.where(out.dt.year.between(1000, 2999))
    # Arrow's strptime rolls 30 February over into March; pandas' strict parser re-checks those rows
    suspect = (out.dt.day <= 3).to_numpy() if "%d" in fmt else np.zeros(len(out), dtype=bool)
    if suspect.any():
        out[suspect] = _pandas_datetime(values[suspect], fmt).to_numpy()
    return out


def _pandas_datetime(values: pd.Series, fmt: str) -> pd.Series:
    """pandas' parser for ISO 8601 and month names; unreadable values become NaT."""
    try:
        parsed = pd.to_datetime(values, format=fmt, errors="coerce")
    except (ValueError, TypeError):  # mixed UTC offsets
        parsed = pd.to_datetime(values, format=fmt, errors="coerce", utc=True)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    parsed = parsed.astype("datetime64[us]")
    return parsed.where(parsed.dt.year.between(1000, 2999))


def _text_dates(column: pd.Series, allow_guess: bool) -> tuple[pd.Series, str] | None:
    """(dates, how they were read) if one explicit format (or a quarter pattern) reads the column."""
    text = column.astype("str").str.strip()
    present = text.notna().to_numpy() & (text != "").to_numpy()          # (n,)
    sample = text[present].head(50)
    if sample.empty or not sample.str.contains(r"\d", regex=True).all():
        return None
    quarters = _quarter_dates(text, sample)
    if quarters is not None:
        return quarters, "format YYYY Qn (quarters)"
    numeric_like = sample.map(_looks_numeric).all()
    quick = _SampleLook(sample)
    for fmt in DATE_FORMATS:
        if numeric_like and fmt not in ("%Y%m%d", "%Y"):
            continue
        if fmt == "%Y" and not allow_guess:
            continue
        if quick.share(fmt) < 0.8:
            continue
        parsed = _to_datetime(text, fmt)
        if parsed[present].notna().mean() >= 0.95:
            dates, label = _prefer_order(text, parsed, fmt, present)
            return dates, f"format {label}"
    if allow_guess and not numeric_like:
        return _guessed_dates(text, present)
    return None


class _SampleLook:
    """How much of a column's first values a date format reads, cheaply, before parsing it all."""

    def __init__(self, sample: pd.Series):
        self.sample = sample
        self.arrow = _arrow_text(sample)
        self.months = self._share(MONTH_WORD) >= 0.8      # worth trying month-name formats
        self.iso = self._share(r"^\d{4}-?\d{2}") >= 0.8   # worth trying pandas' ISO 8601 parser

    def _share(self, pattern: str) -> float:
        """The share of the sample that matches a regular expression."""
        found = pc.match_substring_regex(self.arrow, pattern)
        return pc.sum(pc.fill_null(found, False)).as_py() / max(len(self.arrow), 1)

    def share(self, fmt: str) -> float:
        """The share of the sample `fmt` reads (Arrow's parser; pandas' for ISO and month names)."""
        if "%b" in fmt or "%B" in fmt:
            return _to_datetime(self.sample, fmt).notna().mean() if self.months else 0.0
        if fmt == "ISO8601":
            return _to_datetime(self.sample, fmt).notna().mean() if self.iso else 0.0
        parsed = pc.strptime(self.arrow, format=fmt, unit="s", error_is_null=True)
        return 1.0 - parsed.null_count / max(len(parsed), 1)


def _prefer_order(text: pd.Series, parsed: pd.Series, fmt: str,
                  present: np.ndarray) -> tuple[pd.Series, str]:
    """Between month/day and day/month, keep the reading that fits every value and runs in order."""
    swapped_fmt = next((fmt.replace(a, b) for a, b in _SWAPPED.items() if a in fmt), None)
    if swapped_fmt is None or parsed.dt.day.max() > 12:
        return parsed, _format_label(fmt)          # only one reading fits every value
    swapped = _to_datetime(text, swapped_fmt)
    if not swapped[present].notna().all():
        return parsed, _format_label(fmt)
    if _order_score(swapped) < _order_score(parsed):
        return swapped, _format_label(swapped_fmt)
    return parsed, (_format_label(fmt) + " (every date also reads the other way round, day and "
                                          "month swapped; check that this reading is right)")


def _order_score(dates: pd.Series) -> tuple[bool, int]:
    """Lower is likelier: (not in date order, number of different steps between sorted dates)."""
    present = dates.dropna()
    steps = np.diff(np.sort(present.to_numpy()))
    return (not present.is_monotonic_increasing, len(np.unique(steps)))


def _quarter_dates(text: pd.Series, sample: pd.Series) -> pd.Series | None:
    """'1970 Q1', '1970Q1', 'Q1 1970' -> the first day of each quarter."""
    if not sample.str.match(QUARTER).all():
        return None
    parts = text.str.extract(QUARTER)
    year = parts[0].fillna(parts[3]).astype("float64")
    quarter = parts[1].fillna(parts[2]).astype("float64")
    frame = pd.DataFrame({"year": year, "month": (quarter - 1) * 3 + 1, "day": 1.0})
    return pd.to_datetime(frame, errors="coerce")


def _guessed_dates(text: pd.Series, present: np.ndarray) -> tuple[pd.Series, str] | None:
    """Last resort: let pandas guess each value's format (slow; only for columns named like dates)."""
    sample = text[present].head(50)
    try:
        if _pandas_datetime(sample, "mixed").notna().mean() < 0.9:
            return None
        parsed = _pandas_datetime(text, "mixed")
    except (ValueError, TypeError, OverflowError):
        return None
    if parsed[present].notna().mean() < 0.9:
        return None
    return parsed, "dates in mixed formats, each read on its own"


def _part_columns(table: pd.DataFrame) -> dict[str, str]:
    """{"year": column, "month": column, ...} for columns named like date parts."""
    found = {}
    for col in table.columns:
        for part, names in PART_NAMES.items():
            if col.strip().lower() in names and part not in found:
                found[part] = col
    return found


def _parts_dates(table: pd.DataFrame) -> _Dates | None:
    """Dates assembled from year / month (/ day / hour) columns, or year / quarter columns."""
    parts = _part_columns(table)
    if "year" in parts and "month" not in parts and "quarter" in parts:
        parts = {"year": parts["year"], "quarter": parts["quarter"]}   # a day or hour column is data
    else:
        parts.pop("quarter", None)           # with a month, a quarter column is left as it was
    if "year" not in parts or ("month" not in parts and "quarter" not in parts):
        return None
    pieces = {part: _part_numbers(table[col], part) for part, col in parts.items()}
    if "quarter" in pieces:                  # the first day of the quarter, so the frequency is QS
        pieces["month"] = (pieces.pop("quarter") - 1) * 3 + 1
    pieces.setdefault("day", pd.Series(1.0, index=table.index))
    values = pd.to_datetime(pd.DataFrame(pieces), errors="coerce")
    if values.notna().mean() < 0.9:
        return None
    used = list(parts.values())
    name = _free_name("date", table.columns)
    return _Dates(values, name, used, f"built from the columns {', '.join(used)}")


def _part_numbers(column: pd.Series, part: str) -> pd.Series:
    """A date part as numbers; month names ('Jan', 'January') become 1..12, 'Q1'..'Q4' 1..4."""
    if part == "quarter":
        return column.astype("str").str.extract(QUARTER_PART)[0].astype("float64")
    if part == "month" and not pd.api.types.is_numeric_dtype(column):
        text = column.astype("str").str.strip().str.lower().str[:3]
        return text.map(MONTH_NAMES).astype("float64")
    return pd.to_numeric(column, errors="coerce")


def _free_name(name: str, taken) -> str:
    taken = set(taken)
    while name in taken:
        name = f"{name}_"
    return name


def _integer_dates(column: pd.Series, allow_year: bool) -> tuple[pd.Series, str] | None:
    """Whole numbers written as YYYYMMDD or YYMMDD, years alone in a column named like a year,
    or decimal years (1960.0, 1960.083, ... as R writes a monthly or quarterly series' time)."""
    values = pd.to_numeric(column, errors="coerce")
    present = values.dropna()
    if present.empty:
        return None
    if not (present == present.round()).all():     # only a column named like a date or time
        named = DATE_HINT.search(str(column.name)) is not None
        return _decimal_years(values, present) if named else None
    if present.between(10000101, 99991231).all():
        parsed = pd.to_datetime(values.astype("Int64").astype("str"), format="%Y%m%d", errors="coerce")
        if parsed[present.index].notna().all():
            return parsed, "YYYYMMDD numbers"
    if present.between(100, 991231).all() and len(present) >= 3:
        text = values.astype("Int64").astype("str").str.zfill(6)
        parsed = pd.to_datetime(text.where(values.notna()), format="%y%m%d", errors="coerce")
        if parsed[present.index].notna().all() and parsed[present.index].is_monotonic_increasing:
            return parsed, "YYMMDD numbers (two-digit years)"
    if allow_year and present.between(1000, 2999).all():
        parsed = pd.to_datetime(values.astype("Int64").astype("str"), format="%Y", errors="coerce")
        return parsed, "years (one row per year)"
    return _epoch_dates(values, present, named=DATE_HINT.search(str(column.name)) is not None)


def _epoch_units(present: pd.Series) -> pd.Series:
    """The Unix-time unit each value's size puts it in ("s", "ms", "us", "ns"), "" if none."""
    size = present.abs().to_numpy(dtype="float64")                      # (n,)
    unit = np.full(len(size), "", dtype=object)
    for name, (low, high) in EPOCH_UNITS.items():
        unit[(size >= low) & (size < high)] = name
    return pd.Series(unit, index=present.index)


def _epoch_dates(values: pd.Series, present: pd.Series, named: bool) -> tuple[pd.Series, str] | None:
    """Whole numbers counting seconds, milliseconds, microseconds or nanoseconds since 1970-01-01
    (UTC), dated between 1973 and 2100 and mostly rising; each value read in the unit its size
    says, so a column mixing seconds and milliseconds reads too. A column not named like a date
    must also step by whole minutes (seconds) or whole seconds (the finer units)."""
    if len(present) < 3 or (present < 0).any():
        return None
    units = _epoch_units(present)
    if (units == "").any():
        return None
    rising = np.diff(present.to_numpy(dtype="float64") * units.map(EPOCH_SECONDS).to_numpy())
    if (rising > 0).mean() < 0.9:
        return None
    steps = np.abs(rising[rising != 0])
    grain = 60.0 if (units == "s").all() else 1.0
    if not named and (steps.size == 0 or (np.abs(steps / grain - np.round(steps / grain)) < 1e-6).mean() < 0.9):
        return None
    whole = values.astype("Int64") if not pd.api.types.is_integer_dtype(values) else values
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for unit in units.unique():
        rows = units.index[units == unit]
        parsed[rows] = pd.to_datetime(whole[rows].astype("int64"), unit=unit).to_numpy()
    kinds = [EPOCH_WORDS[u] for u in EPOCH_UNITS if u in set(units)]
    how = " and ".join(kinds) if len(kinds) > 1 else kinds[0]
    mixed = ", each value read by its size" if len(kinds) > 1 else ""
    return parsed, f"Unix timestamps in {how} since 1970-01-01 (UTC){mixed}"


def _decimal_years(values: pd.Series, present: pd.Series) -> tuple[pd.Series, str] | None:
    """1960.0, 1960.0833, ... -> the first day of each month (or quarter), when the steps are
    a whole twelfth (or quarter) of a year, rising."""
    if len(present) < 3 or not present.between(1000, 2999).all():
        return None
    steps = np.diff(present.to_numpy(dtype="float64"))
    for per_year, unit in ((12, "month"), (4, "quarter")):
        if np.allclose(steps * per_year, np.round(steps * per_year), atol=1e-3) and (steps > 0).all():
            periods = np.round(values.to_numpy(dtype="float64") * per_year)      # (n,) with NaN
            year, part = np.floor_divide(periods, per_year), np.mod(periods, per_year)
            frame = pd.DataFrame({"year": year, "month": part * (12 // per_year) + 1, "day": 1.0})
            return pd.to_datetime(frame, errors="coerce"), f"decimal years (one row per {unit})"
    return None


def _find_dates(table: pd.DataFrame, wanted: str | None) -> _Dates | None:
    """The date column (the one named, or the first readable one), or None for a plain sequence."""
    if wanted is not None:
        return _named_dates(table, wanted)
    for col in table.columns:
        if pd.api.types.is_datetime64_any_dtype(table[col]):
            return _Dates(_naive(table[col]), col, [col], "already stored as dates")
    text_cols = [c for c in table.columns if _is_text(table[c])]
    ordered = sorted(text_cols, key=lambda c: not DATE_HINT.search(c))
    for col in ordered:
        hinted = bool(DATE_HINT.search(col)) or col == table.columns[0]
        found = _text_dates(table[col], allow_guess=hinted)
        if found is not None:
            return _Dates(found[0], col, [col], found[1])
    parts = _parts_dates(table)
    if parts is not None:
        return parts
    for col in table.columns:
        if col in text_cols or not (DATE_HINT.search(col) or col == table.columns[0]):
            continue
        found = _integer_dates(table[col], allow_year=col.strip().lower() in PART_NAMES["year"])
        if found is not None:
            return _Dates(found[0], col, [col], found[1])
    return None


def _named_dates(table: pd.DataFrame, wanted: str) -> _Dates:
    """The dates in the column the user named; DataError if it is missing or unreadable.

    The name the loader gives to dates it built from year / quarter / month columns counts too,
    so a date column chosen on the Data page reads the same file again.
    """
    if wanted not in table.columns:
        built = _parts_dates(table)
        if built is not None and built.name == wanted:
            return built
        raise DataError(f"There is no column {wanted!r} to read dates from. Columns: "
                        f"{_preview(table.columns, 20)}. Pick one of them, or leave the date "
                        "column empty to detect it.")
    column = table[wanted]
    if pd.api.types.is_datetime64_any_dtype(column):
        return _Dates(_naive(column), wanted, [wanted], "already stored as dates")
    if _is_text(column):
        found = _text_dates(column, allow_guess=True)
    else:
        found = _integer_dates(column, allow_year=True)
    if found is None:
        examples = ", ".join(repr(str(v)) for v in column.dropna().head(3))
        raise DataError(f"Column {wanted!r} does not hold dates RNN Lab can read (it starts with "
                        f"{examples}). Pick the column with the dates, or leave the date column "
                        "empty to detect it.")
    return _Dates(found[0], wanted, [wanted], found[1])


def _naive(column: pd.Series) -> pd.Series:
    if getattr(column.dt, "tz", None) is not None:
        return column.dt.tz_convert("UTC").dt.tz_localize(None)
    return column
