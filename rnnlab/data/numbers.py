"""Text cells read as numbers, and numbers kept where a network can compute with them.

`_numbers_from_text` reads a text column as float64: thousands separators (1,234.5  1'234.5
1 234,5) are removed, decimal commas read, and missing-value tokens (n/a, -, #DIV/0!, ...) and
other text become missing, each change worded for the report. `_decimal_mark` tells from a text
file's first rows whether it writes 3,14 or 3.14. `_rescaled` multiplies a column typically
tinier than 1e-30 or huger than 1e30 by a power of ten; `_within_range` makes infinite values
and values beyond float32's range missing.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rnnlab.data.findings import CleaningReport, _count, _token_counts

MISSING_TOKENS = ("", "n/a", "na", "nan", "null", "none", "-", "--", "?", ".", "#n/a", "missing", "nil",
                  "#div/0!", "#value!", "#ref!", "#num!", "#name?", "#null!", "#n/a n/a")  # Excel errors
GROUPS_POINT = (",", "'", " ", "\u00a0", "\u202f")   # thousands: 1,234.5  1'234.5  1 234.5
GROUPS_COMMA = (".", " ", "\u00a0", "\u202f")        # thousands with decimal commas: 1.234,5  1 234,5
NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
DECIMAL_COMMA = re.compile(r"[+-]?(\d{1,3}(\.\d{3})+|\d{1,3}([ \u00a0\u202f]\d{3})+|\d*),\d+")
DECIMAL_POINT = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d{1,3}(['\u00a0\u202f ]\d{3})+|\d*)\.\d+")
MAX_ABS_VALUE = float(np.finfo(np.float32).max)   # beyond this a network's 32-bit numbers overflow
MIN_TYPICAL, MAX_TYPICAL = 1e-30, 1e30   # a column typically outside this is rescaled by a power of 10


@dataclass
class _Column:
    """A column turned into numbers, with what was done to it."""

    values: pd.Series           # float64
    notes: list[str]


def _looks_numeric(text: str) -> bool:
    return bool(re.fullmatch(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*", text))


def _is_text(column: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(column) or pd.api.types.is_object_dtype(column)


def _arrow_text(column: pd.Series) -> pa.ChunkedArray | pa.Array:
    """The column as Arrow strings without surrounding blanks; missing cells are null."""
    return pc.utf8_trim_whitespace(pa.Array.from_pandas(column.astype("str")))


def _mask(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """An Arrow boolean array as a numpy bool array, null counted as False."""
    return np.asarray(pc.fill_null(values, False), dtype=bool)          # (n,)


def _numbers_from_text(column: pd.Series, name: str, decimal_comma: bool) -> _Column | None:
    """Text cells read as numbers (thousands separators, stray text -> missing), or None if text."""
    text = _arrow_text(column)
    blank = ~_mask(pc.is_valid(text)) | _mask(pc.is_in(pc.utf8_lower(text),
                                                       value_set=pa.array(MISSING_TOKENS)))
    n_present = int((~blank).sum())
    if n_present == 0:
        return _Column(pd.Series(np.nan, index=column.index, dtype="float64"), [])
    groups, point = (GROUPS_COMMA, ",") if decimal_comma else (GROUPS_POINT, ".")
    each = "|".join(f"(?:[{g}]\\d{{3}})+" for g in groups)         # one separator kind per number
    pattern = rf"^[+-]?\d{{1,3}}(?:{each})(?:[{point}]\d*)?$"
    has_groups = pc.fill_null(pc.match_substring_regex(text, pattern), False)
    thousands = _mask(has_groups)
    cleaned = text
    if thousands.any():
        cleaned = pc.if_else(has_groups, pc.replace_substring_regex(text, f"[{''.join(groups)}]", ""),
                             text)
    if decimal_comma:
        cleaned = pc.replace_substring(cleaned, ",", ".")
    is_number = pc.fill_null(pc.match_substring_regex(cleaned, NUMBER), False)
    numeric = _mask(is_number)
    if numeric.sum() < 0.9 * n_present:
        return None
    numbers = pc.cast(pc.if_else(is_number, cleaned, pa.scalar(None, cleaned.type)), pa.float64())
    values = pd.Series(numbers.to_numpy(zero_copy_only=False), index=column.index, dtype="float64")
    return _Column(values, _number_notes(column, name, thousands, blank | ~numeric))


def _number_notes(column: pd.Series, name: str, thousands: np.ndarray,
                  not_number: np.ndarray) -> list[str]:
    """Report lines for thousands separators and for cells that are not numbers."""
    notes = []
    if thousands.any():
        example = re.sub("[\u00a0\u202f]", " ", str(column[thousands].iloc[0]).strip())
        one = thousands.sum() == 1
        notes.append(f"Column {name} had {_count(int(thousands.sum()), 'value')} with thousands "
                     f"separators like {example!r}; read {'it as a number' if one else 'them as numbers'}.")
    if not_number.any():
        tokens = column[not_number].astype("str").str.strip()
        one = not_number.sum() == 1
        notes.append(f"Column {name} had {_count(int(not_number.sum()), 'entry', 'entries')} that "
                     f"{'is not a number' if one else 'are not numbers'} ({_token_counts(tokens)}); "
                     f"treated {'it' if one else 'them'} as missing.")
    return notes


def _decimal_mark(lines: list[str], sep: str) -> str:
    """"," when numbers are written like 3,14 (possible only when the delimiter is not a comma)."""
    if sep == ",":
        return "."
    try:
        cells = [c.strip() for row in csv.reader(lines, delimiter=sep) for c in row]
    except csv.Error:                             # a stray quote: fall back to plain splitting
        cells = [c.strip().strip('"') for line in lines for c in line.split(sep)]
    commas = sum(bool(DECIMAL_COMMA.fullmatch(c)) for c in cells)
    points = sum(bool(DECIMAL_POINT.fullmatch(c)) for c in cells)
    return "," if commas > points else "."


def _rescaled(values: pd.Series, name: str, report: CleaningReport) -> pd.Series:
    """A column whose numbers are typically tinier than 1e-30 or huger than 1e30 (a network's
    32-bit numbers and squared errors underflow or overflow there) multiplied by a power of
    ten that brings them near 1, reported with the factor."""
    numbers = values.to_numpy(dtype="float64")                          # (n,)
    sizes = np.abs(numbers[np.isfinite(numbers) & (numbers != 0)])
    if sizes.size == 0 or (sizes.min() >= MIN_TYPICAL and sizes.max() <= MAX_TYPICAL):
        return values
    typical = float(np.median(sizes))
    if MIN_TYPICAL <= typical <= MAX_TYPICAL:
        return values
    power = int(np.floor(np.log10(typical)))
    half = -power // 2                                  # two steps: 10**320 alone overflows
    with np.errstate(over="ignore", under="ignore"):
        scaled = values * 10.0 ** half * 10.0 ** (-power - half)
    kept = np.isfinite(numbers) & (numbers != 0)                         # (n,)
    now = float(np.median(np.abs(scaled.to_numpy(dtype="float64")[kept])))
    report.add("action", f"Column {name} holds numbers around {typical:.1e}, too "
                         f"{'small' if typical < MIN_TYPICAL else 'large'} to train a network "
                         "on and to measure its errors with (RNN Lab works with numbers "
                         "between about 1e-30 and 1e30); multiplied "
                         f"it by 1e{-power} so they read around {now:.3g}. Forecasts, errors "
                         f"and charts of {name} are in these units: multiply them by "
                         f"1e{power} to get the file's units back.")
    return scaled


def _within_range(values: pd.Series, column: pd.Series, name: str,
                  report: CleaningReport) -> pd.Series:
    """Infinite values and values too large to compute with become missing, reported."""
    bad = np.abs(values.to_numpy()) > MAX_ABS_VALUE                    # (n,) NaN -> False
    if not bad.any():
        return values
    tokens = column[bad].astype("str").str.strip()
    one = bad.sum() == 1
    report.add("action", f"Column {name} had {_count(int(bad.sum()), 'value')} that "
                         f"{'is' if one else 'are'} infinite or too large to compute with "
                         f"({_token_counts(tokens)}; RNN Lab keeps numbers within "
                         f"±{MAX_ABS_VALUE:.1e}); treated {'it' if one else 'them'} as "
                         "missing.")
    return values.mask(bad)
