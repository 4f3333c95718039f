"""Turn a raw table into `LoadedData`: a date index (or row positions) and finite float64 columns.

`_Cleaner` runs one step per method, each writing what it did to the `CleaningReport`: leave
out a saved row counter, find the dates (`rnnlab.data.dates`), read the other columns as
numbers (`rnnlab.data.numbers`) or text, leave text columns out or make one 0/1 column per
category (`categorical`), drop undated rows, sort, average rows that share a date, drop stray
dates, name the frequency and add rows for a few missing periods (`rnnlab.data.frequency`),
fill missing values (`fill`: interpolate, carry forward or drop rows), and pick a default
target that is not a row counter or a year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rnnlab.data.dates import DATE_HINT, _Dates, _find_dates
from rnnlab.data.findings import CleaningReport, _count, _preview, _shorten, _token_counts
from rnnlab.data.frequency import (_describe_missing, _Frequency, _infer_frequency, _period_label,
                                   _stray_rows)
from rnnlab.data.numbers import _numbers_from_text, _rescaled, _within_range
from rnnlab.errors import DataError
from rnnlab.evaluate import format_number
from rnnlab.samples import Sample

MAX_CATEGORIES = 50          # more different labels than this is free text or an id, not a category
INSERT_GAPS_UP_TO = 0.1      # add missing periods as rows when at most this share of the grid is missing
ID_NAME = re.compile(r"(^|[_\s.])(id|idx|index|key|code|no|nr|number|year|yr|month|day|hour|"
                     r"week|quarter)$|^unnamed", re.IGNORECASE)


@dataclass
class LoadedData:
    """A cleaned table: a date index (or row positions) and float64 columns."""

    frame: pd.DataFrame              # DatetimeIndex named after the date column, or a RangeIndex
    date_column: str | None
    numeric_columns: list[str]
    categorical_columns: list[str]   # text columns of the file (one-hot encoded or left out)
    default_target: str
    frequency: str | None            # pandas offset alias ("D", "B", "MS", ...) or None
    report: CleaningReport
    sha256: str                      # of the raw bytes
    onehot_columns: list[str] = field(default_factory=list)      # "weather=sun", ... in frame
    dropped_columns: dict[str, str] = field(default_factory=dict)  # name -> why it was left out
    source_name: str = ""
    sample: Sample | None = None
    missing: dict[str, int] = field(default_factory=dict)   # column -> values missing before filling
    # column -> how many of the last rows had no value before filling (not with fill="drop"):
    # past a target's last value the rows are the future, not gaps (`rnnlab.data.split`)
    trailing_missing: dict[str, int] = field(default_factory=dict)
    # (the file read, the read options as given) when read from a path or a sample name: a
    # caller holding this table need not read the same file again (`rnnlab.data.split`)
    read_as: tuple | None = None


class _Cleaner:
    """Turns a raw table into LoadedData, one step per method, each writing to the report."""

    def __init__(self, table: pd.DataFrame, report: CleaningReport, *, fill: str, categorical: str,
                 decimal_comma: bool = False):
        self.table, self.report, self.fill, self.categorical = table, report, fill, categorical
        self.decimal_comma = decimal_comma
        self.dropped: dict[str, str] = dict(table.attrs.get("dropped", {}))
        self.onehot_names: list[str] = []
        self.missing: dict[str, int] = {}
        self.trailing: dict[str, int] = {}

    def run(self, date_column: str | None) -> LoadedData:
        """All cleaning steps in order."""
        self._drop_row_counters()
        dates = _find_dates(self.table, date_column)
        if dates is not None:
            self.report.add("info", f"Dates: column {dates.name}, {dates.how}.")
        else:
            self._drop_time_steps()
        rest = self.table.drop(columns=dates.columns) if dates else self.table
        numeric, texts = self._split_columns(rest)
        onehot = self._categories(texts)
        self.onehot_names = list(onehot.columns)
        frame = pd.concat([numeric, onehot], axis=1)
        frame, frequency = self._index(frame, dates)
        frame = self._drop_empty_columns(self._fill(frame), list(numeric.columns))
        numeric = numeric[[c for c in numeric.columns if c in frame.columns]]
        return LoadedData(frame=frame, date_column=dates.name if dates else None,
                          numeric_columns=list(numeric.columns),
                          categorical_columns=list(texts.columns),
                          default_target=self._default_target(numeric), frequency=frequency,
                          report=self.report, sha256="", onehot_columns=list(onehot.columns),
                          dropped_columns=self.dropped, missing=dict(self.missing),
                          trailing_missing=dict(self.trailing))

    def _drop_empty_columns(self, frame: pd.DataFrame, numeric: list[str]) -> pd.DataFrame:
        """Columns whose only values sat in rows left out (e.g. rows without a date) are dropped."""
        if len(frame) == 0:
            raise DataError("No rows are left after cleaning: every row lacked a readable date or "
                            "any number. Check the date column and the numbers, then load it again.")
        empty = list(frame.columns[frame.isna().to_numpy().all(axis=0)])
        for col in empty:
            self.dropped[col] = "it has no values in the rows that were kept"
            self.report.add("warning", f"Column {col} has no values in the rows that were kept; "
                                       "left it out.")
        frame = frame.drop(columns=empty)
        if not any(c in frame.columns for c in numeric):
            raise DataError(self._no_numbers_message(list(self.table.columns)))
        return frame

    def _drop_row_counters(self) -> None:
        """An unnamed first column holding 0..n-1 is a saved row index, not data."""
        for col in [c for c in self.table.columns if c.startswith("Unnamed:")]:
            values = pd.to_numeric(self.table[col], errors="coerce").to_numpy()
            if _is_counter(values):
                self.table = self.table.drop(columns=[col])
                self.dropped[col] = "it only numbers the rows"
                self.report.add("action", f"Column {col!r} only numbers the rows (0, 1, 2, …, as a "
                                          "saved row index); left it out.")

    def _drop_time_steps(self) -> None:
        """Without dates: a time column in even fractional steps (1.1429, 1.2857, … as R writes
        a series of 7 per unit) is the row order, not data: left out, with what its steps say."""
        for col in list(self.table.columns):
            if not (DATE_HINT.search(str(col)) or str(col).strip().lower() == "index"):
                continue
            values = pd.to_numeric(self.table[col], errors="coerce").to_numpy(dtype="float64")
            step = _even_step(values)
            if step is None or step == round(step):
                continue
            self.table = self.table.drop(columns=[col])
            self.dropped[col] = "it only counts time, in even steps"
            per = 1 / step
            hint = (f"; it moves on by 1 every {round(per)} rows, so the data may repeat every "
                    f"{round(per)} rows" if abs(per - round(per)) < 1e-6 * per and per >= 2 else "")
            first, second, by = (format_number(v) for v in (values[0], values[1], step))
            self.report.add("action", f"Column {col!r} only counts time ({first}, {second}, … "
                                      f"in even steps of {by}){hint}; left it out, and the rows "
                                      "keep their order.")

    def _split_columns(self, table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(numeric float64 columns, text columns); other date columns and empty ones left out."""
        numeric, texts = {}, {}
        for col, column in table.items():
            if pd.api.types.is_datetime64_any_dtype(column):
                self.dropped[col] = "it holds dates; only one date column is used"
                self.report.add("info", f"Column {col} holds dates too; left it out (only one "
                                        "date column is used).")
                continue
            values = self._numeric(column, col)
            if values is None:
                texts[col] = column
            elif np.isnan(values.to_numpy()).all():
                self.dropped[col] = "it has no values (every cell is empty or not a number)"
                self.report.add("warning", f"Column {col} has no values (every cell is empty or not "
                                           "a number); left it out.")
            else:
                numeric[col] = values.to_numpy()
        if not numeric:
            raise DataError(self._no_numbers_message(list(table.columns)))
        block = np.column_stack(list(numeric.values()))                    # (n, numeric columns)
        return (pd.DataFrame(block, index=table.index, columns=list(numeric)),
                pd.DataFrame(texts, index=table.index))

    def _numeric(self, column: pd.Series, name: str) -> pd.Series | None:
        """The column as float64, or None when it holds text (categories, notes)."""
        if pd.api.types.is_complex_dtype(column):
            return None
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
            return _within_range(_rescaled(column.astype("float64"), name, self.report), column, name,
                                 self.report)
        found = _numbers_from_text(column, name, self.decimal_comma)
        if found is None:
            return None
        for note in found.notes:
            self.report.add("action", note)
        return _within_range(_rescaled(found.values, name, self.report), column, name, self.report)

    def _no_numbers_message(self, columns: list[str]) -> str:
        listing = _preview(columns, 12) or "none besides the date"
        empty = [f"Column {c} cannot be used: {self.dropped[c]}." for c in columns
                 if "no values" in self.dropped.get(c, "")]
        because = "".join(f" {sentence}" for sentence in empty[:3])
        return (f"No column holds numbers (columns: {listing}).{because} "
                "RNN Lab forecasts a numeric column: add one, or check that the numbers are not "
                "written with units or words (like '12 kg').")

    def _categories(self, texts: pd.DataFrame) -> pd.DataFrame:
        """Text columns: left out, or one 0/1 column per category when categorical == 'onehot'."""
        parts = []
        for col in texts.columns:
            labels = texts[col].astype("str").str.strip().replace("", np.nan)
            kinds = labels.dropna().unique()
            listing = _preview([_shorten(k) for k in sorted(kinds)], 5)
            if self.categorical == "exclude" or len(kinds) > MAX_CATEGORIES:
                parts.append(None)
                self._leave_out_text(col, len(kinds), listing)
                continue
            dummies = pd.get_dummies(labels, prefix=col, prefix_sep="=", dtype="float64")
            parts.append(dummies)
            kinds_text = _categories_text(len(kinds), listing)
            self.report.add("action", f"Column {col} holds text ({kinds_text}); made one 0/1 column "
                                      f"per category ({col}=…).")
        kept = [p for p in parts if p is not None]
        return pd.concat(kept, axis=1) if kept else pd.DataFrame(index=texts.index)

    def _leave_out_text(self, col: str, n_kinds: int, listing: str) -> None:
        if n_kinds > MAX_CATEGORIES:
            self.dropped[col] = f"it holds free text ({n_kinds} different values)"
            self.report.add("info", f"Column {col} holds text with {n_kinds:,} different values "
                                    f"(like {listing}); too many to use as categories, so left it out.")
        else:
            self.dropped[col] = "it holds text categories"
            self.report.add("info", f"Column {col} holds text ({_categories_text(n_kinds, listing)}); "
                                    "left it out. Choose one-hot encoding to use it as an input.")

    def _index(self, frame: pd.DataFrame, dates: _Dates | None) -> tuple[pd.DataFrame, str | None]:
        """Date index: drop undated rows, sort, merge duplicates, find the frequency, fill in gaps."""
        if dates is None:
            self.report.add("info", "Found no date column; each row counts as one time step, in "
                                    "file order.")
            return frame[self._rows_with_numbers(frame)].reset_index(drop=True), None
        stamps = dates.values.to_numpy()                                   # (n,) datetime64
        keep = self._rows_with_dates(stamps, dates)                        # (n,) bool
        frame = frame[keep]
        frame.index = pd.DatetimeIndex(stamps[keep], name=dates.name)
        frame = self._sort(frame)
        frame = self._merge_duplicates(frame)
        frame = self._drop_stray_dates(frame)
        return self._gaps(frame)

    def _drop_stray_dates(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A few rows at either end dated far away from all the others: likely typos (2202, 2022)."""
        stray = _stray_rows(frame.index)                                   # (n,) bool
        if not stray.any():
            return frame
        kept = frame.index[~stray]
        span = f"{_period_label(kept[0], 'day')} to {_period_label(kept[-1], 'day')}"
        for side, rows in (("before", stray & (frame.index < kept[0])),
                           ("after", stray & (frame.index > kept[-1]))):
            if rows.any():
                n = int(rows.sum())
                dates = _preview([_period_label(d, "day") for d in frame.index[rows]], 4)
                self.report.add("warning", f"{_count(n, 'row')} {'is' if n == 1 else 'are'} dated far "
                                           f"{side} all the others ({dates}; the others run from "
                                           f"{span}); left {'it' if n == 1 else 'them'} out as a "
                                           "likely typo. Correct the date in the file if it is real.")
        return frame[~stray]

    def _rows_with_numbers(self, frame: pd.DataFrame) -> np.ndarray:
        """Without dates, rows with no number at all are blank lines: reported and left out."""
        empty = frame.isna().to_numpy().all(axis=1)                        # (n,)
        if empty.any():
            self.report.add("action", f"Left out {_count(int(empty.sum()), 'row')} with no numbers "
                                      "at all.")
        return ~empty

    def _rows_with_dates(self, stamps: np.ndarray, dates: _Dates) -> np.ndarray:
        """Rows with a readable date; the others are reported and left out."""
        undated = np.isnat(stamps)                                         # (n,)
        if undated.any():
            raw = self.table[dates.columns[0]][undated].astype("str").str.strip().fillna("")
            self.report.add("warning", f"Left out {_count(int(undated.sum()), 'row')} without a "
                                       f"readable date in {dates.name} ({_token_counts(raw)}).")
        return ~undated

    def _sort(self, frame: pd.DataFrame) -> pd.DataFrame:
        if frame.index.is_monotonic_increasing:
            return frame
        self.report.add("action", "The rows were not in date order; sorted them by date.")
        return frame.sort_index(kind="stable")

    def _merge_duplicates(self, frame: pd.DataFrame) -> pd.DataFrame:
        repeated = frame.index.duplicated(keep=False)
        if not repeated.any():
            return frame
        stamps = frame.index[repeated]
        counts = pd.Series(stamps).value_counts(sort=False)
        example, n_rows, n_dates = counts.idxmax(), int(repeated.sum()), len(counts)
        label = _period_label(example, "day")
        merged = frame.groupby(level=0, sort=True).mean()
        if n_dates == 1 and len(merged) == 1:
            self.report.add("warning", f"All {n_rows:,} rows have the same date ({label}); averaged "
                                       "them into 1 row. If the rows are separate time steps, pick "
                                       "another date column, or no date column to use the row order.")
            return merged
        if n_dates == 1:
            which = f"the same date ({label}); averaged them into one row"
        else:
            which = (f"{n_dates:,} dates (like {label} ×{int(counts[example]):,}); averaged the "
                     "rows of each date into one")
        self.report.add("action", f"{n_rows:,} rows share {which}, leaving "
                                  f"{_count(len(merged), 'row')}.")
        return merged

    def _gaps(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
        """Name the frequency and the missing periods; add them as rows when few are missing."""
        index = frame.index
        found = _infer_frequency(index)
        if found is None:
            if len(index) >= 3:
                self.report.add("warning", "The dates are not evenly spaced (no regular frequency "
                                           "found); each row counts as one time step.")
            return frame, None
        missing = found.grid.difference(index)
        span = f"from {_period_label(index[0], found.unit)} to {_period_label(index[-1], found.unit)}"
        self.report.add("info", f"One row per {found.unit} (frequency {found.alias}), {span}.")
        if len(missing):
            frame = self._report_gaps(frame, found, missing)
        return frame, found.alias

    def _report_gaps(self, frame: pd.DataFrame, found: _Frequency,
                     missing: pd.DatetimeIndex) -> pd.DataFrame:
        n, unit = len(missing), found.unit
        listing = _describe_missing(missing, found.grid, unit)
        plural = _count(n, unit)
        if found.alias == "B":
            self.report.add("info", f"{plural} {'has' if n == 1 else 'have'} no row (holidays?), like "
                                    f"{listing}; kept the rows as they are.")
            return frame
        if self.fill == "drop" or n > INSERT_GAPS_UP_TO * len(found.grid):
            self.report.add("warning", f"{plural} {'is' if n == 1 else 'are'} missing: {listing}. "
                                       "Kept the rows as they are, so a window may step over a gap.")
            return frame
        one = n == 1
        self.report.add("action", f"{plural} {'is' if one else 'are'} missing: {listing}. Added "
                                  f"{'a row' if one else 'rows'} for {'it' if one else 'them'}; "
                                  f"{'its' if one else 'their'} values are filled in as missing values.")
        return frame.reindex(found.grid.rename(frame.index.name))

    def _fill(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Count the missing values per column, then interpolate, carry forward or drop rows."""
        if self.onehot_names:  # categories of added rows: the category of the row before
            frame[self.onehot_names] = frame[self.onehot_names].ffill().bfill()
        counts = frame.isna().sum()
        counts = counts[counts > 0]
        self.missing = {str(col): int(n) for col, n in counts.items()}
        if counts.empty:
            return frame
        if self.fill != "drop":
            self._report_trailing(frame)
        listing = _preview([f"{col} {n:,}" for col, n in counts.items()], 10)
        if self.fill == "interpolate":
            frame = frame.interpolate(method="linear", limit_direction="both")
            how = ("filled them by straight lines between neighbouring values (at the start or "
                   "end, the nearest value)")
        elif self.fill == "ffill":
            frame = frame.ffill().bfill()
            how = "filled each with the last value before it (at the start, the first value after)"
        else:
            before = len(frame)
            frame = frame.dropna()
            how = f"left out the {before - len(frame):,} rows that had one"
        self.report.add("action", f"Missing values per column: {listing}; {how}.")
        if frame.empty:
            raise DataError("After leaving out the rows with missing values no rows are left. "
                            "Fill missing values by interpolation instead, or remove the mostly "
                            "empty columns.")
        return frame

    def _report_trailing(self, frame: pd.DataFrame) -> None:
        """Note the columns whose last rows are empty: a file that lists future dates with the
        known future of some columns and none of the column to forecast."""
        empty = frame.drop(columns=self.onehot_names).isna().to_numpy()[::-1]   # (N, C), last 1st
        counts = np.where(empty.all(axis=0), len(frame), empty.argmin(axis=0))    # (C,)
        columns = [c for c in frame.columns if c not in self.onehot_names]
        self.trailing = {str(c): int(n) for c, n in zip(columns, counts) if 0 < n < len(frame)}
        for col, n in self.trailing.items():
            first = frame.index[len(frame) - n]
            where = (_period_label(first, "day") if isinstance(frame.index, pd.DatetimeIndex)
                     else f"row {len(frame) - n + 1}")
            self.report.add("info", f"The last {_count(n, 'row')} (from {where}) have no {col}. "
                                    f"A run that forecasts {col} leaves them out instead of "
                                    "filling them in, and uses the other columns' values there as "
                                    "their known future.")

    def _default_target(self, numeric: pd.DataFrame) -> str:
        """The first numeric column that is not a row counter or a year (judged before filling)."""
        for col in numeric.columns:
            if not _id_or_year_like(col, numeric[col].to_numpy()):
                return col
        return numeric.columns[0]


def _categories_text(n_kinds: int, listing: str) -> str:
    """'5 categories: drizzle, fog, rain, snow, sun'."""
    return f"{_count(n_kinds, 'category', 'categories')}: {listing}"


def _even_step(values: np.ndarray) -> float | None:
    """The step of values that rise in equal steps (to 1e-6 of a step, as text rounds them),
    with no gaps or missing values; None otherwise."""
    if len(values) < 3 or np.isnan(values).any():
        return None
    steps = np.diff(values)
    step = float(np.median(steps))
    if not step > 0 or np.abs(steps - step).max() > 1e-6 * step:
        return None
    return step


def _is_counter(values: np.ndarray) -> bool:
    """Whole numbers that only go up (0, 1, 2, …, maybe with rows filtered out): a saved index."""
    return (len(values) > 1 and not np.isnan(values).any() and np.all(values == np.round(values))
            and bool(np.all(np.diff(values) > 0)))


def _id_or_year_like(name: str, values: np.ndarray) -> bool:
    """A column that counts rows or years rather than measuring something."""
    if ID_NAME.search(name):
        return True
    present = values[~np.isnan(values)]
    if len(present) < 2 or not np.all(present == np.round(present)):
        return False
    steps = np.diff(present)
    counter = np.all(steps == 1)
    years = np.all(steps >= 0) and present.min() >= 1800 and present.max() <= 2200
    return bool(counter or years)
