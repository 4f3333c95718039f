"""Read a table of time series, clean it, scale it and cut it into training windows.

`load` reads CSV/TSV, Excel (.xlsx) or Parquet from a path or from uploaded bytes (at most
MAX_UPLOAD_BYTES, checked before reading; never unpickling anything), finds the encoding, the
header row below any title or comment lines, the delimiter and decimal mark, the date column and
its format, turns the other columns into finite numbers, and writes a plain-language
`CleaningReport` of everything it changed. A file it cannot use raises DataError saying what is
wrong and what to do. `prepare` picks the target and input columns, splits
the rows chronologically into train / validation / test, fits a `Scaler` on the training rows only
and cuts windows with `windows.make_windows`.

Everything here is pandas and numpy only: the web process imports it, so no TensorFlow.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import math
import re
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rnnlab.errors import ConfigError, DataError
from rnnlab.samples import SAMPLE_DIR, SAMPLES, Sample, resolve_source, sample_for
from rnnlab.transforms import TargetTransform, shift_windows, step_scale
from rnnlab.windows import check_positive_int, make_windows, window_range

# The largest data file, in the dashboard and the CLI alike: Streamlit's file uploader counts
# server.maxUploadSize (.streamlit/config.toml) in megabytes of 1,000,000 bytes, and so do we.
MAX_UPLOAD_MB = 200
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1000 * 1000
MAX_COLUMNS = 10_000
MAX_CATEGORIES = 50          # more different labels than this is free text or an id, not a category
MISSING_TOKENS = ("", "n/a", "na", "nan", "null", "none", "-", "--", "?", ".", "#n/a", "missing", "nil",
                  "#div/0!", "#value!", "#ref!", "#num!", "#name?", "#null!", "#n/a n/a")  # Excel errors
GROUPS_POINT = (",", "'", " ", "\u00a0", "\u202f")   # thousands: 1,234.5  1'234.5  1 234.5
GROUPS_COMMA = (".", " ", "\u00a0", "\u202f")        # thousands with decimal commas: 1.234,5  1 234,5
FILLS = ("interpolate", "ffill", "drop")
CATEGORICAL = ("exclude", "onehot")
DELIMITERS = {"\t": "tab", ";": "semicolon", "|": "pipe", ",": "comma"}
INSERT_GAPS_UP_TO = 0.1      # add missing periods as rows when at most this share of the grid is missing
MIN_COVERAGE = 0.5           # a frequency must explain at least this share of the grid
MAX_UNPACKED_BYTES = 1024 ** 3   # a workbook or Parquet file may unpack to at most this
MAX_NAME_CHARS = 1000        # a longer "column name" is a broken header (an unclosed quote)
HEAD_CHARS = 65536           # the start of a text file that is looked at to find its layout
MAX_PREAMBLE_LINES = 20      # title and comment lines above the header that are skipped
SEP_LINE = re.compile(r'^\s*"?sep=(.)"?[,;\t|]*\s*$', re.IGNORECASE)      # Excel's 'sep=;' line
LINE_BREAK = re.compile(r"\r\n|\r|\n")                            # as pandas' C parser splits
MAX_ABS_VALUE = float(np.finfo(np.float32).max)   # beyond this a network's 32-bit numbers overflow
MIN_TYPICAL, MAX_TYPICAL = 1e-30, 1e30   # a column typically outside this is rescaled by a power of 10
STRAY_GAP_STEPS = 1000       # a gap this many usual steps wide (and over a year) cuts off stray dates
MAX_STRAY_ROWS = 10          # at most this many rows (and 1 % of them) count as stray at either end
DECIMAL_COMMA = re.compile(r"[+-]?(\d{1,3}(\.\d{3})+|\d{1,3}([ \u00a0\u202f]\d{3})+|\d*),\d+")
DECIMAL_POINT = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d{1,3}(['\u00a0\u202f ]\d{3})+|\d*)\.\d+")
JSON_START = re.compile(r'\s*(\{\s*("|\}|$)|\[\s*(\{|\[|"|\]|$))')


# --------------------------------------------------------------------------- report

@dataclass
class Finding:
    """One thing the loader noticed: "info", "warning" or "action" (it changed the data)."""

    kind: str
    message: str


@dataclass
class CleaningReport:
    """What the loader found and changed, in plain words, in the order it happened."""

    findings: list[Finding] = field(default_factory=list)

    def add(self, kind: str, message: str) -> None:
        """Append a finding."""
        self.findings.append(Finding(kind, message))

    def lines(self) -> list[str]:
        """The messages, one per finding."""
        return [f.message for f in self.findings]

    def __str__(self) -> str:
        return "\n".join(f"- {line}" for line in self.lines())


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


# --------------------------------------------------------------------------- load

def load(source: str | Path | bytes, *, filename: str | None = None, date_column: str | None = None,
         fill: str = "interpolate", categorical: str = "exclude",
         max_bytes: int = MAX_UPLOAD_BYTES) -> LoadedData:
    """Read and clean a CSV/TSV, Excel or Parquet file given as a path, sample name or raw bytes."""
    _check_choice("fill", fill, FILLS)
    _check_choice("categorical", categorical, CATEGORICAL)
    raw, name, sample = _read_source(source, filename, max_bytes)
    report = CleaningReport()
    table, decimal_comma = _read_table(raw, name, report)
    if date_column is None and sample is not None:
        date_column = sample.date_column
    cleaner = _Cleaner(table, report, fill=fill, categorical=categorical, decimal_comma=decimal_comma)
    loaded = cleaner.run(date_column)
    loaded.sha256 = hashlib.sha256(raw).hexdigest()
    loaded.source_name, loaded.sample = name, sample
    if sample is not None and sample.target in loaded.numeric_columns:
        loaded.default_target = sample.target
    return loaded


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}. Received: {name}={value!r}")


def _read_source(source: str | Path | bytes, filename: str | None,
                 max_bytes: int) -> tuple[bytes, str, Sample | None]:
    """The raw bytes, a display name and the sample it is (if any); checks the size first."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
        name = Path(filename).name if filename else "upload"
        _check_size(len(raw), max_bytes, name)
        return raw, name, _sample_of_bytes(raw, name)
    path = resolve_source(source)
    _check_size(path.stat().st_size, max_bytes, path.name)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"Could not read {path}: {exc.strerror}. Check that the file exists and "
                        "that RNN Lab may read it.") from None
    return raw, path.name, sample_for(path)


def _sample_of_bytes(raw: bytes, name: str) -> Sample | None:
    """An upload counts as a sample only if it is byte for byte the shipped file."""
    sample = SAMPLES.get(name)
    if sample is None:
        return None
    shipped = SAMPLE_DIR / sample.file
    return sample if shipped.is_file() and shipped.read_bytes() == raw else None


def check_size(n_bytes: int, name: str, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    """DataError when a data file of n_bytes is over the limit (the dashboard's upload limit)."""
    if n_bytes > max_bytes:
        limit = (f"{MAX_UPLOAD_MB} MB ({MAX_UPLOAD_BYTES:,} bytes), as in the dashboard"
                 if max_bytes == MAX_UPLOAD_BYTES else _megabytes(max_bytes))
        raise DataError(f"{name} is {_megabytes(n_bytes)}; the limit is {limit}. "
                        "Use a shorter time span or fewer columns, or save it as Parquet, "
                        "which is smaller.")


def _check_size(n_bytes: int, max_bytes: int, name: str) -> None:
    check_size(n_bytes, name, max_bytes)


def _megabytes(n_bytes: int) -> str:
    """'250.0 MB', '12.5 kB' or '80 bytes', in units of 1,000 bytes as the uploader counts."""
    if n_bytes >= 1000 * 1000:
        return f"{n_bytes / 1e6:.1f} MB"
    return f"{n_bytes / 1000:.1f} kB" if n_bytes >= 1000 else _count(n_bytes, "byte")


# --------------------------------------------------------------------------- reading the table

def _read_table(raw: bytes, name: str, report: CleaningReport) -> tuple[pd.DataFrame, bool]:
    """(the file as a raw DataFrame with string column names and rows, uses decimal commas)."""
    kind = _file_kind(raw, name)
    decimal_comma = False
    if kind == "excel":
        table = _read_excel(raw, name, report)
    elif kind == "parquet":
        table = _read_parquet(raw, name, report)
    else:
        table, decimal_comma = _read_text(raw, name, report)
    if kind != "text" and Path(name).suffix.lower() not in (".xlsx", ".xlsm", ".parquet", ".pq"):
        report.add("info", f"{name} is {'an Excel workbook' if kind == 'excel' else 'a Parquet file'} "
                           "despite its name; read it as one.")
    table.columns = _unique_names([str(c).strip() for c in table.columns])
    if len(table.columns) > MAX_COLUMNS:
        raise _too_many_columns(len(table.columns))
    if len(table) == 0:
        raise DataError(f"{name} has column names ({_preview(table.columns)}) but no rows of data. "
                        "Add the data rows below the header and load it again.")
    return table, decimal_comma


def _file_kind(raw: bytes, name: str) -> str:
    """"text", "excel" or "parquet", from the first bytes rather than the name."""
    suffix = Path(name).suffix.lower()
    if raw.startswith(b"PK\x03\x04"):
        if _is_workbook(raw, name):
            return "excel"
        raise DataError(f"{name} is a ZIP archive, not a table. Unzip it and load the CSV, "
                        "Excel or Parquet file inside.")
    if raw.startswith(b"PAR1"):
        return "parquet"
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataError(f"{name} is an old Excel 97-2003 workbook (.xls), which RNN Lab cannot read. "
                        "Open it in Excel and save it as .xlsx or as CSV.")
    if raw.startswith(b"\x1f\x8b"):
        raise DataError(f"{name} is compressed with gzip. Decompress it and load the file inside.")
    if suffix in (".xlsx", ".xlsm", ".parquet", ".pq") and raw.strip():
        raise DataError(f"{name} is named like a {suffix} file but its content is not. Save it "
                        "again from the program that made it, or rename it to .csv if it is text.")
    return "text"


def _is_workbook(raw: bytes, name: str) -> bool:
    """A ZIP archive that holds an Excel workbook (.xlsx); DataError if it unpacks to too much."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        return False
    if "xl/workbook.xml" not in archive.namelist():
        return False
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > MAX_UNPACKED_BYTES:   # a small upload must not expand into gigabytes
        raise DataError(f"{name} is an Excel workbook that unpacks to {_megabytes(unpacked)}; RNN Lab "
                        f"reads workbooks up to {_megabytes(MAX_UNPACKED_BYTES)} unpacked. Save the "
                        "sheet as CSV or Parquet and load that file.")
    return True


def _read_excel(raw: bytes, name: str, report: CleaningReport) -> pd.DataFrame:
    """The first non-empty sheet of an .xlsx workbook; the other sheets are named in the report."""
    try:
        book = pd.ExcelFile(io.BytesIO(raw), engine="openpyxl")
        sheets, used, table = book.sheet_names, "", pd.DataFrame()
        empty, wordy = [], {}     # sheets passed over: empty ones, and text-only ones -> their table
        for sheet in sheets:
            found = pd.read_excel(book, sheet_name=sheet, keep_default_na=False, na_values=[])
            if not (len(found.columns) or len(found)):
                empty.append(sheet)
            elif _has_numbers(found):
                used, table = sheet, found
                break
            else:
                wordy[sheet] = found
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        raise DataError(f"{name} could not be read as an Excel workbook ({exc}). Open it in Excel "
                        "and save it again as .xlsx, or save the sheet as CSV.") from None
    if not used and not wordy:
        raise DataError(f"Every sheet of the workbook {name} is empty ({_preview(map(repr, sheets))}). "
                        "Put the data on the first sheet, with the column names in the first row.")
    if not used:                  # no sheet holds numbers: read the first one that is not empty
        used, table = next(iter(wordy.items()))
        wordy = {}
    report.add("info", f"Read {_shape(table)} from the sheet {used!r} of the workbook {name}.")
    _report_other_sheets(sheets, used, empty, list(wordy), report)
    return table


def _has_numbers(table: pd.DataFrame) -> bool:
    """A sheet with a column holding at least two numbers (a cover or notes page has none)."""
    for col in table.columns:
        column = table[col]
        if pd.api.types.is_bool_dtype(column):
            continue
        if pd.api.types.is_numeric_dtype(column):
            if column.notna().sum() >= 2:
                return True
            continue
        if _is_text(column):
            found = _numbers_from_text(column, str(col), False)
            if found is not None and found.values.notna().sum() >= 2:
                return True
    return False


def _report_other_sheets(sheets: list[str], used: str, empty: list[str], wordy: list[str],
                         report: CleaningReport) -> None:
    """Name the sheets passed over before the one used (empty, or text without numbers) and the
    sheets after it that were ignored."""
    ignored = sheets[sheets.index(used) + 1:]
    skipped = [s for s in sheets[:sheets.index(used)] if s in empty or s in wordy]
    if empty:
        are = "are" if len(empty) > 1 else "is"
        report.add("info", f"The sheet{'s' if len(empty) > 1 else ''} {', '.join(map(repr, empty))} "
                           f"{are} empty; used the sheet {used!r}.")
    if wordy:
        hold = "hold" if len(wordy) > 1 else "holds"
        report.add("info", f"The sheet{'s' if len(wordy) > 1 else ''} {', '.join(map(repr, wordy))} "
                           f"{hold} text but no column of numbers (a cover or notes page?); read the "
                           f"data from the sheet {used!r}, the first with numbers.")
    if ignored:
        first = "" if skipped else "the first, "
        where = f"the sheet {used!r}" if skipped else "the first sheet"
        report.add("warning", f"The workbook has {len(sheets)} sheets; used only {first}{used!r}, and "
                              f"ignored {', '.join(map(repr, ignored))}. Move the data to {where} to "
                              "use it.")


def _read_parquet(raw: bytes, name: str, report: CleaningReport) -> pd.DataFrame:
    """A Parquet file, read by pyarrow (no pickle); a named index (often the dates) becomes a column."""
    try:
        parquet = pq.ParquetFile(pa.BufferReader(raw))
        _check_parquet_size(parquet.metadata, name)
        arrow, binary = _text_from_bytes(parquet.read())
        table = arrow.to_pandas()
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises many kinds on damaged files
        raise DataError(f"{name} could not be read as a Parquet file ({exc}). "
                        "Write it again, or save the table as CSV.") from None
    if not isinstance(table.index, pd.RangeIndex):
        table = table.reset_index()
    report.add("info", f"Read {_shape(table)} from the Parquet file {name}.")
    for col in binary:
        report.add("warning", f"Column {col} holds raw bytes that are not text (not UTF-8); "
                              "left it out. Store it as text (a string column) in the Parquet file "
                              "to use it.")
    table.attrs["dropped"] = {col: "it holds raw bytes, not text or numbers" for col in binary}
    return table


def _text_from_bytes(table: pa.Table) -> tuple[pa.Table, list[str]]:
    """Binary columns holding UTF-8 become text; the others are dropped (their names returned)."""
    dropped = []
    for i in reversed(range(table.num_columns)):
        kind = table.schema.field(i).type
        if not (pa.types.is_binary(kind) or pa.types.is_large_binary(kind)
                or pa.types.is_fixed_size_binary(kind)):
            continue
        try:
            text = pc.cast(table.column(i), pa.binary()).cast(pa.string())   # checks the UTF-8
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            dropped.append(table.column_names[i])
            table = table.remove_column(i)
            continue
        table = table.set_column(i, table.schema.field(i).with_type(pa.string()), text)
    return table, dropped[::-1]


def _check_parquet_size(meta, name: str) -> None:
    """Refuse, before reading, a Parquet file too wide or that unpacks to too much."""
    if meta.num_columns > MAX_COLUMNS:
        raise _too_many_columns(meta.num_columns)
    unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if unpacked > MAX_UNPACKED_BYTES:
        raise DataError(f"{name} unpacks to {_megabytes(unpacked)}; RNN Lab reads Parquet files up to "
                        f"{_megabytes(MAX_UNPACKED_BYTES)} unpacked. Keep fewer rows or columns.")


@dataclass
class _Layout:
    """Where the table starts in a text file and how its cells are written."""

    sep: str                   # the delimiter
    decimal: str               # "." or ","
    skip: int                  # physical lines above the header row
    hash_header: bool = False  # the header row is a comment line: '# date,value'


def _read_text(raw: bytes, name: str, report: CleaningReport) -> tuple[pd.DataFrame, bool]:
    """A delimited text table: decode, find the header row and delimiter, parse with pandas' C parser."""
    encoding, text = _decode(raw, name, report)
    start = len(text) - len(text.lstrip())            # blank lines before the first text
    head = text[start:start + HEAD_CHARS]
    if not head:
        raise DataError(f"{name} is empty. Choose a file with a header row and rows of data "
                        "below it.")
    _refuse_documents(head, name)
    layout = _layout(head, report)
    layout.skip += len(LINE_BREAK.findall(text, 0, start))
    fields = _header_fields(_nth_line(text, layout.skip), layout.sep, name)
    if len(fields) > MAX_COLUMNS:
        raise _too_many_columns(len(fields))
    table = _parse_csv(raw, name, layout, encoding, 0, report, fields)
    if layout.hash_header:
        table.columns = [str(table.columns[0]).lstrip("#").strip(), *table.columns[1:]]
    if all(_looks_numeric(str(c)) for c in table.columns):
        table = _parse_csv(raw, name, layout, encoding, None, report)
        table.columns = [f"column_{i + 1}" for i in range(len(table.columns))]
        report.add("action", "The first row holds numbers, not column names; read it as data and "
                             f"named the columns {_preview(table.columns)}.")
    else:
        _report_repeated_names(fields, report)
    how = f"{DELIMITERS[layout.sep]}-separated"
    if layout.decimal == ",":
        how += ", decimal commas like 3,14"
    report.add("info", f"Read {_shape(table)} from {name} ({how}).")
    return table, layout.decimal == ","


def _parse_csv(raw: bytes, name: str, layout: _Layout, encoding: str, header: int | None,
               report: CleaningReport, names: list[str] | None = None) -> pd.DataFrame:
    """pandas' C parser; every cell that is not a plain number stays text for the cleaner."""
    options = dict(sep=layout.sep, decimal=layout.decimal, encoding=encoding, header=header,
                   skiprows=layout.skip, keep_default_na=False, na_values=[], engine="c",
                   skipinitialspace=True, low_memory=False, index_col=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        table = _read_csv(raw, name, layout, options)
    if names and any("Length of header" in str(w.message) for w in caught):
        table = _without_trailing_fields(raw, name, layout, options, names, report)
    return table


def _read_csv(raw: bytes, name: str, layout: _Layout, options: dict) -> pd.DataFrame:
    """pd.read_csv with its errors turned into DataError."""
    try:
        return pd.read_csv(io.BytesIO(raw), **options)
    except pd.errors.EmptyDataError:
        raise DataError(f"{name} is empty. Choose a file with a header row and rows of data "
                        "below it.") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{name} could not be read as a {DELIMITERS[layout.sep]}-separated table: "
                        f"{str(exc).strip()}. Every row needs as many fields as the header; "
                        "fix that row or save the file again as CSV.") from None


def _without_trailing_fields(raw: bytes, name: str, layout: _Layout, options: dict,
                             names: list[str], report: CleaningReport) -> pd.DataFrame:
    """Rows longer than the header: fine if the extra fields are empty (a delimiter at line end)."""
    rows = _read_csv(raw, name, layout, {**options, "header": None, "skiprows": layout.skip + 1})
    width = len(names)
    extra = rows.iloc[:, width:].astype("str").apply(lambda col: col.str.strip())
    if not extra.isin(["", "nan", "<NA>", "None"]).all().all():
        raise DataError(f"{name} has rows with more fields than the header has column names "
                        f"({width} names, {len(rows.columns)} fields in a row). Name every column "
                        "in the header row, or remove the extra fields.")
    report.add("action", "Rows end with a delimiter after the last column; ignored the empty field "
                         "at the end of each row.")
    table = rows.iloc[:, :width]
    table.columns = names
    return table


def _decode(raw: bytes, name: str, report: CleaningReport) -> tuple[str, str]:
    """(encoding for pandas, the whole file as text); refuses binary data."""
    encoding = _encoding(raw, name, report)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        if encoding.startswith("utf-16"):
            raise DataError(f"{name} starts like UTF-16 text but cannot be decoded. "
                            "Save it again as CSV (UTF-8).") from None
        encoding, text = _western(raw)
        report.add("warning", f"{name} is not UTF-8 text; read it as Latin-1 (Western European). "
                              "If accented letters look wrong, save the file as CSV (UTF-8).")
    head = text[:HEAD_CHARS]
    controls = sum(1 for ch in head if ord(ch) < 32 and ch not in "\t\n\r")
    if controls > 0.01 * max(len(head), 1):
        raise _binary(name)
    return encoding, text


def _encoding(raw: bytes, name: str, report: CleaningReport) -> str:
    """UTF-8 (with or without a byte-order mark) or UTF-16 (by its mark or by its zero bytes)."""
    if raw.startswith(codecs.BOM_UTF8):
        report.add("info", f"{name} starts with a byte-order mark (BOM), as Excel writes CSV (UTF-8); "
                           "ignored it.")
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        report.add("info", f"{name} is UTF-16 text (as Excel saves 'Unicode Text'); read it as such.")
        return "utf-16"
    if b"\x00" not in raw[:HEAD_CHARS]:
        return "utf-8"
    sample = raw[:4096 - 4096 % 2] if len(raw) >= 4096 else raw[:len(raw) - len(raw) % 2]
    even, odd = sample[0::2], sample[1::2]
    for order, zeros, other in (("le", odd, even), ("be", even, odd)):
        if zeros and zeros.count(0) >= 0.7 * len(zeros) and other.count(0) <= 0.05 * len(other):
            report.add("info", f"{name} is UTF-16 text without a byte-order mark; read it as UTF-16 "
                               f"({'little' if order == 'le' else 'big'}-endian).")
            return f"utf-16-{order}"
    raise _binary(name)


def _western(raw: bytes) -> tuple[str, str]:
    """Windows-1252 (Excel's Western European text, with € and curly quotes), else Latin-1."""
    try:
        return "cp1252", raw.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1", raw.decode("latin-1")


def _binary(name: str) -> DataError:
    return DataError(f"{name} is not a text table: it contains binary data. Save your data as CSV "
                     "(UTF-8), Excel (.xlsx) or Parquet and load that file.")


def _too_many_columns(n: int) -> DataError:
    return DataError(f"The file has {n:,} columns; RNN Lab reads at most {MAX_COLUMNS:,}. "
                     "Keep only the date and the columns you want to forecast from, then load it "
                     "again.")


def _refuse_documents(head: str, name: str) -> None:
    """DataError for a web page, an XML document or JSON saved under a table's name."""
    start = head.lstrip().lower()
    if start.startswith(("<!doctype html", "<html", "<head", "<body")):
        raise DataError(f"{name} is a web page (HTML), not a table; a download link probably "
                        "returned a page instead of the file. Download the data file itself (CSV, "
                        "Excel or Parquet) and load that.")
    if start.startswith("<?xml"):
        raise DataError(f"{name} is an XML document, not a table. Save the data as CSV (UTF-8), "
                        "Excel (.xlsx) or Parquet and load that file.")
    if JSON_START.match(head):
        raise DataError(f"{name} holds JSON, not a table. Save the data as CSV, with one row per "
                        "time step and one column per series, and load that file.")


def _unquote(line: str) -> str:
    """The line without its double-quoted parts, so delimiters inside quotes are not counted."""
    return re.sub(r'"[^"]*"', '""', line)


def _layout(head: str, report: CleaningReport) -> _Layout:
    """The delimiter, decimal mark and header row of a text table, from its first lines."""
    lines = LINE_BREAK.split(head)
    if len(head) == HEAD_CHARS and len(lines) > 1:
        lines = lines[:-1]                        # the last line may be cut short
    rows = [(i, line) for i, line in enumerate(lines) if line.strip()][:MAX_PREAMBLE_LINES + 60]
    sep, top = _leading_lines(rows, report)
    sep, start = _sniff([_unquote(line) for _, line in rows[top:]], sep)
    header = top + start
    comments = top if top and rows[top - 1][1].lstrip().startswith("#") else 0
    hash_header = comments > 0 and start == 0 and _is_header_comment(rows, comments, sep)
    if hash_header:
        header -= 1
    skipped = [line for _, line in rows[:header] if not SEP_LINE.match(line)]
    _report_preamble(skipped, report)
    if hash_header:
        report.add("info", f"Read the column names from the comment line {rows[header][1].strip()!r}.")
    decimal = _decimal_mark([line for _, line in rows[header + 1:header + 41]], sep)
    return _Layout(sep, decimal, rows[header][0], hash_header)


def _leading_lines(rows: list[tuple[int, str]], report: CleaningReport) -> tuple[str | None, int]:
    """(the delimiter an Excel 'sep=;' line names, or None; comment and sep lines at the top)."""
    sep, top = None, 0
    while top < min(MAX_PREAMBLE_LINES, len(rows) - 1):
        line = rows[top][1]
        hint = SEP_LINE.match(line)
        if hint and hint.group(1) in DELIMITERS and sep is None:
            sep = hint.group(1)
            report.add("info", f"The line {line.strip()!r} at the top names the delimiter, as Excel "
                               "writes it; used it and skipped the line.")
        elif not line.lstrip().startswith("#"):
            break
        top += 1
    return sep, top


def _sniff(rows: list[str], sep: str | None) -> tuple[str, int]:
    """(delimiter, title lines above the header): the delimiter that splits the table's rows alike.

    Among the delimiters that do, the one with the fewest title lines above the header wins,
    then the first of DELIMITERS.
    """
    found = []
    for candidate in [sep] if sep else list(DELIMITERS):
        start = _title_lines(rows, candidate)
        counts = [line.count(candidate) for line in rows[start:start + 40]]
        if counts and counts[0] >= 1 and sum(c == counts[0] for c in counts) >= 0.9 * len(counts):
            found.append((start, candidate))
    if not found:
        return sep or ",", 0
    start, candidate = min(found, key=lambda f: f[0])      # stable: ties keep DELIMITERS order
    return candidate, start


def _title_lines(rows: list[str], sep: str) -> int:
    """Title lines above the header: lines without `sep`, or with one filled field ('Title;;;').

    A line with one filled field right above a row of numbers is a header with one name, not
    a title.
    """
    for i, line in enumerate(rows[:MAX_PREAMBLE_LINES + 1]):
        filled = [f for f in (x.strip() for x in line.split(sep)) if f]
        if sep in line and len(filled) >= 2:
            if i and sep in rows[i - 1] and any(_looks_numeric(f) for f in filled):
                return i - 1
            return i
    return 0


def _is_header_comment(rows: list[tuple[int, str]], comments: int, sep: str) -> bool:
    """'# date,value' right above the first row of numbers: the column names, written as a comment."""
    comment, first = _unquote(rows[comments - 1][1]), _unquote(rows[comments][1])
    fields = [f.strip() for f in first.split(sep)]
    return (first.count(sep) >= 1 and comment.count(sep) == first.count(sep)
            and any(_looks_numeric(f) for f in fields))


def _report_preamble(lines: list[str], report: CleaningReport) -> None:
    """Name the title and comment lines skipped above the header."""
    if lines:
        shown = _preview([repr(_shorten(line.strip())) for line in lines], 3)
        report.add("action", f"Skipped {_count(len(lines), 'line')} above the column names that "
                             f"{'is' if len(lines) == 1 else 'are'} not part of the table ({shown}).")


def _shorten(text: str, limit: int = 40) -> str:
    """The text, cut to `limit` characters with an ellipsis (report lines stay readable)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _nth_line(text: str, n: int) -> str:
    """Physical line `n` (0-based) of `text`, however long it is."""
    pos = 0
    for _ in range(n):
        found = LINE_BREAK.search(text, pos)
        if found is None:
            return ""
        pos = found.end()
    found = LINE_BREAK.search(text, pos)
    return text[pos:found.start() if found else len(text)]


def _header_fields(line: str, sep: str, name: str = "The file") -> list[str]:
    """The column names as written in the header row; DataError for a name too long to be one."""
    if not line.strip():
        return []
    try:
        fields = [f.strip() for f in next(csv.reader([line], delimiter=sep, skipinitialspace=True))]
    except csv.Error:        # a field over the csv module's limit (131,072 characters)
        fields = [f.strip() for f in line.split(sep)]
    longest = max(fields, key=len)
    if len(longest) > MAX_NAME_CHARS:
        raise DataError(f"{name} has a column name of {len(longest):,} characters in its header row "
                        f"(it starts {_shorten(longest)!r}); RNN Lab reads names of up to "
                        f"{MAX_NAME_CHARS:,} characters. A name this long usually means a quote "
                        "that is never closed or line breaks that were lost. Make the first row "
                        "hold only the column names, separated by commas (or semicolons or tabs), "
                        "and load it again.")
    return fields


def _report_repeated_names(fields: list[str], report: CleaningReport) -> None:
    """Column names written more than once: pandas numbers the copies ('value.1'); say so."""
    repeated = [(n, k) for n, k in Counter(f for f in fields if f).items() if k > 1]
    if repeated:
        listing = _preview([f"{n!r} ×{k}" for n, k in repeated], 4)
        report.add("warning", f"Some column names appear more than once ({listing}); kept every "
                              f"column and numbered the copies, like {repeated[0][0]}.1. Rename "
                              "them in the file to tell them apart.")


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


def _looks_numeric(text: str) -> bool:
    return bool(re.fullmatch(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*", text))


def _unique_names(names: list[str]) -> list[str]:
    """Column names made unique ("x", "x.1") and never empty."""
    seen: dict[str, int] = {}
    out = []
    for i, n in enumerate(names):
        n = n or f"Unnamed: {i}"
        if n in seen:
            seen[n] += 1
            n = f"{n}.{seen[n]}"
        seen.setdefault(n, 0)
        out.append(n)
    return out


def _shape(table: pd.DataFrame) -> str:
    """'1,258 rows × 6 columns'."""
    return f"{_count(len(table), 'row')} × {_count(len(table.columns), 'column')}"


def _count(n: int, word: str, plural: str | None = None) -> str:
    """'1 day', '2 days', '1,234 entries'."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def _preview(items, limit: int = 6) -> str:
    """'a, b, c' or 'a, b, c, … (12 in all)'."""
    items = [str(x) for x in items]
    text = ", ".join(items[:limit])
    return text if len(items) <= limit else f"{text}, … ({len(items)} in all)"


# --------------------------------------------------------------------------- dates

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


def _arrow_text(column: pd.Series) -> pa.ChunkedArray | pa.Array:
    """The column as Arrow strings without surrounding blanks; missing cells are null."""
    return pc.utf8_trim_whitespace(pa.Array.from_pandas(column.astype("str")))


def _mask(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """An Arrow boolean array as a numpy bool array, null counted as False."""
    return np.asarray(pc.fill_null(values, False), dtype=bool)          # (n,)


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


def _is_text(column: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(column) or pd.api.types.is_object_dtype(column)


# --------------------------------------------------------------------------- frequency and gaps

_MONTH_CODES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAY_CODES = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


@dataclass
class _Frequency:
    """A regular grid the timestamps sit on."""

    alias: str                 # pandas offset alias
    unit: str                  # "day", "business day", "month", ...
    grid: pd.DatetimeIndex     # every period from the first to the last timestamp


def _infer_frequency(index: pd.DatetimeIndex) -> _Frequency | None:
    """The coarsest regular grid holding every timestamp and at least half filled, or None."""
    if len(index) < 3:
        return None
    for finder in (_calendar_frequency, _business_frequency, _fixed_frequency):
        found = finder(index)
        if found is not None:
            return found if len(index) >= MIN_COVERAGE * len(found.grid) else None
    return None


def _calendar_frequency(index: pd.DatetimeIndex) -> _Frequency | None:
    """Month, quarter or year starts (or ends): the steps are whole months."""
    if not (index == index.normalize()).all():
        return None
    if (index.day == 1).all():
        end = False
    elif index.is_month_end.all():
        end = True
    else:
        return None
    months = np.asarray(index.year * 12 + index.month - 1, dtype=np.int64)   # (n,)
    step = int(np.gcd.reduce(np.diff(months)))
    if step < 1 or (months[-1] - months[0]) // step + 1 > 20 * len(index):
        return None
    alias, unit = _month_alias(step, int(index[0].month), end)
    return _Frequency(alias, unit, pd.date_range(index[0], index[-1], freq=alias))


def _month_alias(step: int, first_month: int, end: bool) -> tuple[str, str]:
    """An offset alias for a step of `step` months: MS/ME, QS/QE(-anchor), YS/YE(-anchor)."""
    tail = "E" if end else "S"
    if step == 3:
        anchor = _MONTH_CODES[(first_month - 1) % 3 + (9 if end else 0)]
        default = "DEC" if end else "JAN"
        return (f"Q{tail}" if anchor == default else f"Q{tail}-{anchor}"), "quarter"
    if step == 12:
        anchor = _MONTH_CODES[first_month - 1]
        default = "DEC" if end else "JAN"
        return (f"Y{tail}" if anchor == default else f"Y{tail}-{anchor}"), "year"
    if step == 1:
        return f"M{tail}", "month"
    return f"{step}M{tail}", f"{step}-month step"


def _business_frequency(index: pd.DatetimeIndex) -> _Frequency | None:
    """Weekdays only, stepping by a day (e.g. trading days)."""
    if not (index == index.normalize()).all() or (index.day_of_week >= 5).any():
        return None
    if (index[-1] - index[0]).days < 7 or np.diff(index.values).min() != np.timedelta64(1, "D"):
        return None
    return _Frequency("B", "business day", pd.bdate_range(index[0], index[-1]))


def _fixed_frequency(index: pd.DatetimeIndex) -> _Frequency | None:
    """A fixed step (days, hours, minutes, ...) that divides every gap."""
    deltas = np.diff(index.values)                                  # (n - 1,) timedelta64
    step = deltas.min()
    if step <= np.timedelta64(0) or (deltas % step != np.timedelta64(0)).any():
        return None
    step = pd.Timedelta(step)
    if (index[-1] - index[0]) // step + 1 > 20 * len(index):
        return None
    alias, unit = _fixed_alias(step, index[0])
    return _Frequency(alias, unit, pd.date_range(index[0], index[-1], freq=step))


def _fixed_alias(step: pd.Timedelta, first: pd.Timestamp) -> tuple[str, str]:
    """'D', 'W-MON', '3D', 'h', '15min', ... for a fixed step."""
    day = pd.Timedelta(days=1)
    if step % day == pd.Timedelta(0):
        days = step // day
        if days == 7:
            return f"W-{_DAY_CODES[first.day_of_week]}", "week"
        return ("D", "day") if days == 1 else (f"{days}D", f"{days}-day step")
    alias = pd.tseries.frequencies.to_offset(step).freqstr
    units = {"h": "hour", "min": "minute", "s": "second"}
    return alias, units.get(alias, f"{alias} step")


def _period_label(stamp: pd.Timestamp, unit: str) -> str:
    """How to name one period in a report: '1984-12-31', '1960-03', '1970 Q2', '2020-01-01 10:00'."""
    if unit == "quarter":
        return f"{stamp.year} Q{stamp.quarter}"
    if unit == "year":
        return f"{stamp.year}"
    if "month" in unit:
        return stamp.strftime("%Y-%m")
    if stamp == stamp.normalize():
        return stamp.strftime("%Y-%m-%d")
    return stamp.strftime("%Y-%m-%d %H:%M:%S" if stamp.second else "%Y-%m-%d %H:%M")


def _describe_missing(missing: pd.DatetimeIndex, grid: pd.DatetimeIndex, unit: str,
                      limit: int = 8) -> str:
    """'1984-12-31, 1988-12-31' or '2001-03-01 to 2001-03-07, …' (runs of consecutive periods)."""
    positions = grid.get_indexer(missing)                           # (n_missing,)
    breaks = np.flatnonzero(np.diff(positions) != 1) + 1
    runs = np.split(positions, breaks)
    texts = []
    for run in runs[:limit]:
        first, last = _period_label(grid[run[0]], unit), _period_label(grid[run[-1]], unit)
        texts.append(first if len(run) == 1 else f"{first} to {last}")
    more = f", and {len(runs) - limit} more gaps" if len(runs) > limit else ""
    return ", ".join(texts) + more


# --------------------------------------------------------------------------- numbers

@dataclass
class _Column:
    """A column turned into numbers, with what was done to it."""

    values: pd.Series           # float64
    notes: list[str]


NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


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


def _categories_text(n_kinds: int, listing: str) -> str:
    """'5 categories: drizzle, fog, rain, snow, sun'."""
    return f"{_count(n_kinds, 'category', 'categories')}: {listing}"


def _token_counts(tokens: pd.Series, limit: int = 4) -> str:
    """"'n/a' ×7, '-' ×3, empty ×2"."""
    labels = tokens.fillna("").map(lambda t: "empty" if t == "" else repr(_shorten(t)))
    counts = labels.value_counts()
    parts = [f"{label} ×{n:,}" for label, n in counts.head(limit).items()]
    if len(counts) > limit:
        parts.append(f"{len(counts) - limit} other kinds")
    return ", ".join(parts)


def _stray_rows(index: pd.DatetimeIndex) -> np.ndarray:
    """Rows at either end cut off from the rest by a gap of over a year and STRAY_GAP_STEPS steps."""
    n = len(index)
    stray = np.zeros(n, dtype=bool)                                        # (n,)
    if n < 10:
        return stray
    seconds = index.to_numpy().astype("datetime64[s]").astype(np.int64)    # (n,)
    steps = np.diff(seconds)                                               # (n - 1,)
    typical = max(float(np.median(steps)), 1.0)
    wide = np.flatnonzero((steps > STRAY_GAP_STEPS * typical) & (steps > 366 * 86400))
    limit = max(1, min(MAX_STRAY_ROWS, n // 100))
    after, before = wide[wide >= n - 1 - limit], wide[wide < limit]
    if after.size:
        stray[after.min() + 1:] = True
    if before.size:
        stray[:before.max() + 1] = True
    return stray


def _is_counter(values: np.ndarray) -> bool:
    """Whole numbers that only go up (0, 1, 2, …, maybe with rows filtered out): a saved index."""
    return (len(values) > 1 and not np.isnan(values).any() and np.all(values == np.round(values))
            and bool(np.all(np.diff(values) > 0)))


ID_NAME = re.compile(r"(^|[_\s.])(id|idx|index|key|code|no|nr|number|year|yr|month|day|hour|"
                     r"week|quarter)$|^unnamed", re.IGNORECASE)


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


# --------------------------------------------------------------------------- the cleaner

class _Cleaner:
    """Turns a raw table into LoadedData, one step per method, each writing to the report."""

    def __init__(self, table: pd.DataFrame, report: CleaningReport, *, fill: str, categorical: str,
                 decimal_comma: bool = False):
        self.table, self.report, self.fill, self.categorical = table, report, fill, categorical
        self.decimal_comma = decimal_comma
        self.dropped: dict[str, str] = dict(table.attrs.get("dropped", {}))
        self.onehot_names: list[str] = []

    def run(self, date_column: str | None) -> LoadedData:
        """All cleaning steps in order."""
        self._drop_row_counters()
        dates = _find_dates(self.table, date_column)
        if dates is not None:
            self.report.add("info", f"Dates: column {dates.name}, {dates.how}.")
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
                          dropped_columns=self.dropped)

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
            return self._within_range(self._rescaled(column.astype("float64"), name), column, name)
        found = _numbers_from_text(column, name, self.decimal_comma)
        if found is None:
            return None
        for note in found.notes:
            self.report.add("action", note)
        return self._within_range(self._rescaled(found.values, name), column, name)

    def _rescaled(self, values: pd.Series, name: str) -> pd.Series:
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
        self.report.add("action", f"Column {name} holds numbers around {typical:.1e}, too "
                                  f"{'small' if typical < MIN_TYPICAL else 'large'} to train a network "
                                  "on and to measure its errors with (RNN Lab works with numbers "
                                  "between about 1e-30 and 1e30); multiplied "
                                  f"it by 1e{-power} so they read around {now:.3g}. Forecasts, errors "
                                  f"and charts of {name} are in these units: multiply them by "
                                  f"1e{power} to get the file's units back.")
        return scaled

    def _within_range(self, values: pd.Series, column: pd.Series, name: str) -> pd.Series:
        """Infinite values and values too large to compute with become missing, reported."""
        bad = np.abs(values.to_numpy()) > MAX_ABS_VALUE                    # (n,) NaN -> False
        if not bad.any():
            return values
        tokens = column[bad].astype("str").str.strip()
        one = bad.sum() == 1
        self.report.add("action", f"Column {name} had {_count(int(bad.sum()), 'value')} that "
                                  f"{'is' if one else 'are'} infinite or too large to compute with "
                                  f"({_token_counts(tokens)}; RNN Lab keeps numbers within "
                                  f"±{MAX_ABS_VALUE:.1e}); treated {'it' if one else 'them'} as "
                                  "missing.")
        return values.mask(bad)

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
        if counts.empty:
            return frame
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

    def _default_target(self, numeric: pd.DataFrame) -> str:
        """The first numeric column that is not a row counter or a year (judged before filling)."""
        for col in numeric.columns:
            if not _id_or_year_like(col, numeric[col].to_numpy()):
                return col
        return numeric.columns[0]


# --------------------------------------------------------------------------- scaling

class Scaler:
    """Per-column scaling fitted on the training rows only: minmax (to [0, 1]), standard or none."""

    KINDS = ("minmax", "standard", "none")

    def __init__(self, kind: str = "minmax"):
        _check_choice("scaling", kind, self.KINDS)
        self.kind = kind
        self.offset: np.ndarray | None = None    # (F,) subtracted: min or mean
        self.scale: np.ndarray | None = None     # (F,) divided by: max - min or std; 1 if constant
        self.constant: np.ndarray | None = None  # (F,) bool: the column did not vary

    def fit(self, arr: np.ndarray) -> "Scaler":
        """Learn offset and scale per column from `arr` (n, F)."""
        arr = _as_table(arr)                     # (n, F)
        if len(arr) == 0:
            raise DataError("There are no training rows to fit the scaling on. Use a longer "
                            "series or smaller validation and test parts.")
        if self.kind == "minmax":
            offset, spread = np.nanmin(arr, axis=0), np.nanmax(arr, axis=0) - np.nanmin(arr, axis=0)
        elif self.kind == "standard":
            offset, spread = np.nanmean(arr, axis=0), np.nanstd(arr, axis=0)
        else:
            offset, spread = np.zeros(arr.shape[1]), np.ones(arr.shape[1])
        self.constant = np.ptp(arr, axis=0) == 0  # (F,)
        self.offset = offset.astype("float64")
        self.scale = np.where(spread > 0, spread, 1.0).astype("float64")
        return self

    def _fitted(self) -> tuple[np.ndarray, np.ndarray]:
        if self.offset is None or self.scale is None:
            raise RuntimeError("Scaler.fit must be called before transform")
        return self.offset, self.scale

    def transform(self, arr: np.ndarray) -> np.ndarray:
        """Original units -> scaled units, column by column; (n, F) -> (n, F)."""
        offset, scale = self._fitted()
        return (np.asarray(arr, dtype="float64") - offset) / scale

    def inverse_transform(self, arr: np.ndarray) -> np.ndarray:
        """Scaled units -> original units; (n, F) -> (n, F)."""
        offset, scale = self._fitted()
        return np.asarray(arr, dtype="float64") * scale + offset

    def inverse_target(self, arr: np.ndarray) -> np.ndarray:
        """Scaled target values (any shape, e.g. (n, H)) -> original units of the target (column 0)."""
        offset, scale = self._fitted()
        return np.asarray(arr, dtype="float64") * scale[0] + offset[0]

    def to_dict(self) -> dict:
        """JSON-ready: kind, offset and scale per column."""
        offset, scale = self._fitted()
        return {"kind": self.kind, "offset": offset.tolist(), "scale": scale.tolist(),
                "constant": [bool(c) for c in self.constant]}

    @classmethod
    def from_dict(cls, raw: dict) -> "Scaler":
        """Rebuild a fitted scaler from `to_dict()`."""
        scaler = cls(raw["kind"])
        scaler.offset = np.asarray(raw["offset"], dtype="float64")
        scaler.scale = np.asarray(raw["scale"], dtype="float64")
        scaler.constant = np.asarray(raw.get("constant", [False] * len(scaler.offset)), dtype=bool)
        return scaler


def _as_table(arr: np.ndarray) -> np.ndarray:
    arr = np.asarray(arr, dtype="float64")
    return arr[:, None] if arr.ndim == 1 else arr     # (n, F)


# --------------------------------------------------------------------------- prepare

@dataclass
class Prepared:
    """Scaled series and train / validation / test windows, ready for a model."""

    loaded: LoadedData
    target: str
    inputs: list[str]                  # inputs[0] == target
    index: pd.Index                    # timestamps (or positions) of every row of `values`
    values: np.ndarray                 # (T, F) raw values, train + val + test
    scaled: np.ndarray                 # (T, F) target transformed, then scaled (fitted on train rows)
    scaler: Scaler
    n_train: int
    n_val: int
    n_test: int
    lookback: int
    horizon: int
    X_train: np.ndarray                # (n, lookback, F) scaled
    y_train: np.ndarray                # (n, horizon) scaled
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    t_train: np.ndarray                # (n,) row of the first predicted step of each window
    t_val: np.ndarray
    t_test: np.ndarray
    season: int | None
    data_sha256: str
    test_loaded: LoadedData | None = None   # the separate test file, when there is one
    notes: list[str] = field(default_factory=list)
    transform: TargetTransform = field(default_factory=TargetTransform)   # what the network learns


def prepare(data_cfg, lookback: int, horizon: int) -> Prepared:
    """Load, pick columns, split chronologically, transform the target, scale on train rows only,
    cut windows (see `rnnlab.transforms` for the transforms and their three spaces)."""
    lookback = check_positive_int("lookback", lookback)
    horizon = check_positive_int("horizon", horizon)
    options = dict(date_column=data_cfg.date_column, fill=data_cfg.fill,
                   categorical=data_cfg.categorical)
    loaded = load(resolve_source(data_cfg.source), **options)
    target = _choose_target(loaded, data_cfg.target)
    inputs = [target] + _choose_features(loaded, data_cfg.features, target)
    test_loaded = load(resolve_source(data_cfg.test_source), **options) if data_cfg.test_source else None
    values, index = _rows(loaded, test_loaded, inputs)               # (T, F), (T,)
    season = data_cfg.season
    if season is None and loaded.sample is not None:
        season = loaded.sample.season
    transform = TargetTransform(getattr(data_cfg, "transform", "none"), data_cfg.season)
    n_train, n_val, n_test = _part_sizes(data_cfg, len(loaded.frame), len(values))
    _check_parts_with(transform, n_train, n_val, n_test, lookback, horizon, data_cfg, len(values),
                      len(loaded.frame))
    notes = _constant_inputs(values[:n_train], inputs)
    transform.check(values[:, 0], target)
    scaler, scaled = _scale(values, n_train, data_cfg.scaling, transform)   # (T, F)
    parts = _split_windows(scaled, lookback, horizon, n_train, n_val, transform)
    return Prepared(loaded=loaded, target=target, inputs=inputs, index=index, values=values,
                    scaled=scaled, scaler=scaler, n_train=n_train, n_val=n_val, n_test=n_test,
                    lookback=lookback, horizon=horizon, **parts, season=season,
                    data_sha256=_data_hash(loaded, test_loaded), test_loaded=test_loaded, notes=notes,
                    transform=transform)


def _scale(values: np.ndarray, n_train: int, kind: str,
           transform: TargetTransform) -> tuple[Scaler, np.ndarray]:
    """Transform the target, fit the scaler on the transformed training rows, scale every row.

    Rows before `transform.lag` have no transformed value; they are never read by a window and
    are set to 0. For the relative transform the target is scaled by one step's typical size.
    """
    series = values.copy()                                           # (T, F)
    series[:, 0] = transform.forward(values[:, 0])
    lag = transform.lag
    scaler = Scaler(kind).fit(series[lag:n_train])
    if transform.relative:
        scaler.scale[0] = step_scale(series[:n_train, 0])
    scaled = scaler.transform(series)                                # (T, F)
    scaled[:lag] = 0.0
    return scaler, scaled


def _check_parts_with(transform: TargetTransform, n_train: int, n_val: int, n_test: int,
                      lookback: int, horizon: int, data_cfg, n_rows: int, n_file: int) -> None:
    """`_check_parts`, counting the rows a difference uses up as part of the lookback."""
    try:
        _check_parts(n_train, n_val, n_test, lookback + transform.lag, horizon, data_cfg, n_rows,
                     n_file)
    except DataError as exc:
        if not transform.lag:
            raise
        raise DataError(f"{exc} (The {transform.kind.replace('_', ' ')} transform uses up the "
                        f"first {transform.lag} row(s), so the lookback counts as "
                        f"{lookback + transform.lag} here.)") from None


def _rows(loaded: LoadedData, test: LoadedData | None, inputs: list[str]) -> tuple[np.ndarray, pd.Index]:
    """The input columns of the file, with the separate test file's rows appended after them."""
    values = loaded.frame[inputs].to_numpy(dtype="float64")          # (N, F)
    if test is None:
        return values, loaded.frame.index
    test_values = _test_values(test, inputs)                         # (N_test, F)
    return np.concatenate([values, test_values]), _joined_index(loaded, test)   # (T, F)


def _part_sizes(data_cfg, n_file: int, n_rows: int) -> tuple[int, int, int]:
    """(n_train, n_val, n_test): fractions of the file, or the test file's rows when there is one."""
    if data_cfg.test_source:
        n_val = _part_size(n_file, data_cfg.val_fraction)
        return n_file - n_val, n_val, n_rows - n_file
    n_test = _part_size(n_rows, data_cfg.test_fraction)
    n_val = _part_size(n_rows, data_cfg.val_fraction)
    return n_rows - n_val - n_test, n_val, n_test


def _choose_target(loaded: LoadedData, wanted: str | None) -> str:
    """The configured target, or the loader's default; DataError naming the numeric columns."""
    if wanted is None:
        return loaded.default_target
    if wanted in loaded.numeric_columns:
        return wanted
    raise DataError(_column_problem(loaded, wanted, "target"))


def _choose_features(loaded: LoadedData, wanted: tuple[str, ...], target: str) -> list[str]:
    """Extra input columns; a text column name stands for all its one-hot columns."""
    chosen: list[str] = []
    for name in wanted:
        expanded = [c for c in loaded.onehot_columns if c.startswith(f"{name}=")]
        if name in loaded.numeric_columns or name in loaded.onehot_columns:
            expanded = [name]
        if not expanded:
            raise DataError(_column_problem(loaded, name, "input"))
        chosen += [c for c in expanded if c != target and c not in chosen]
    return chosen


def _column_problem(loaded: LoadedData, name: str, role: str) -> str:
    """Why column `name` cannot be the target / an input, and which columns can."""
    available = ", ".join(loaded.numeric_columns + (loaded.onehot_columns if role == "input" else []))
    pick = f"Pick one of the numeric columns: {available}."
    if name == loaded.date_column:
        return f"The {role} {name!r} is the date column. {pick}"
    if name in loaded.categorical_columns:
        hint = " or choose one-hot encoding to use its categories as inputs" if role == "input" else ""
        return f"The {role} {name!r} holds text, not numbers. {pick[:-1]}{hint}."
    if name in loaded.dropped_columns:
        return f"The {role} {name!r} cannot be used: {loaded.dropped_columns[name]}. {pick}"
    return f"There is no column {name!r} in {loaded.source_name}. {pick}"


def _test_values(test: LoadedData, inputs: list[str]) -> np.ndarray:
    """The test file's columns in the order of `inputs`; one-hot columns it lacks are all 0."""
    frame = test.frame
    missing = [c for c in inputs if c not in frame.columns and "=" not in c]
    if missing:
        raise DataError(f"The test file {test.source_name} has no column {missing[0]!r}. It needs the "
                        f"same columns as the training file ({', '.join(inputs)}).")
    return frame.reindex(columns=inputs, fill_value=0.0).to_numpy(dtype="float64")   # (N_test, F)


def _joined_index(train: LoadedData, test: LoadedData) -> pd.Index:
    """Train dates followed by test dates (which must come later), or plain positions."""
    a, b = train.frame.index, test.frame.index
    if not (isinstance(a, pd.DatetimeIndex) and isinstance(b, pd.DatetimeIndex)):
        return pd.RangeIndex(len(a) + len(b))
    if b[0] <= a[-1]:
        raise DataError(f"The test file {test.source_name} starts on {b[0].date()}, which is not after "
                        f"the training file ends ({a[-1].date()}). The test rows must come after the "
                        "training rows in time.")
    return a.append(b)


def _part_size(n_rows: int, fraction: float) -> int:
    """Rows for a part: the fraction rounded, and at least one row when the fraction is not 0."""
    if fraction <= 0:
        return 0
    return max(1, int(round(n_rows * fraction)))


def _check_parts(n_train: int, n_val: int, n_test: int, lookback: int, horizon: int, data_cfg,
                 n_rows: int, n_file: int) -> None:
    """DataError with the numbers when a part is too short for one window."""
    if n_file < lookback + horizon or n_train < 1:
        raise DataError(_too_short(n_file, lookback, horizon, data_cfg))
    if n_train < lookback + horizon:
        raise DataError(f"The training part has {n_train:,} rows but lookback {lookback} + horizon "
                        f"{horizon} needs at least {lookback + horizon}. Lower the lookback, use "
                        "smaller validation/test parts, or use a longer series "
                        f"({n_rows:,} rows in all).")
    if data_cfg.val_fraction > 0 and n_val < horizon:
        raise DataError(f"The validation part has {n_val:,} rows but horizon {horizon} needs at least "
                        f"{horizon}. Raise val_fraction, lower the horizon, or set val_fraction to 0.")
    if n_test < horizon:
        fix = "use a longer test file" if data_cfg.test_source else "raise test_fraction"
        raise DataError(f"The test part has {n_test:,} rows but horizon {horizon} needs at least "
                        f"{horizon}. Lower the horizon or {fix}.")


def _too_short(n_file: int, lookback: int, horizon: int, data_cfg) -> str:
    """The data file cannot hold one window per part: say how many rows it would need."""
    need = _rows_needed(lookback, horizon, data_cfg)
    n_train, n_val, n_test = _part_sizes(data_cfg, n_file, n_file + (horizon if data_cfg.test_source else 0))
    fit = lookback - (lookback + horizon - n_train)          # the lookback these rows allow
    parts_ok = ((data_cfg.val_fraction == 0 or n_val >= horizon)
                and (data_cfg.test_source or n_test >= horizon))
    fix = f"lower the lookback to {fit} or less" if fit >= 1 and parts_ok else "use a longer series"
    return (f"The data has {_count(n_file, 'row')}, too few for lookback {lookback} + horizon "
            f"{horizon}: with {_parts_text(data_cfg)} it needs at least {need:,} rows. "
            f"{fix[0].upper()}{fix[1:]}{', or use a longer series' if fix.startswith('lower') else ''}.")


def _parts_text(data_cfg) -> str:
    """'10% of the rows for validation and 10% for testing'."""
    val, test = data_cfg.val_fraction, data_cfg.test_fraction
    pieces = [f"{val * 100:g}% of the rows for validation"] if val > 0 else []
    if not data_cfg.test_source:
        pieces.append(f"{test * 100:g}% {'of the rows ' if not pieces else ''}for testing")
    return " and ".join(pieces) or "no validation part"


def _rows_needed(lookback: int, horizon: int, data_cfg) -> int:
    """The fewest rows in the data file that give every part at least one window."""
    val = data_cfg.val_fraction
    test = 0.0 if data_cfg.test_source else data_cfg.test_fraction
    n = max(lookback + horizon, math.ceil((lookback + horizon) / (1 - val - test)))
    for fraction in (val, test):
        if fraction > 0:
            n = max(n, math.ceil((horizon - 0.5) / fraction))
    while True:
        n_train, n_val, n_test = _part_sizes(data_cfg, n, n + (horizon if data_cfg.test_source else 0))
        if n_train >= lookback + horizon and (val == 0 or n_val >= horizon) and n_test >= horizon:
            return n
        n += 1


def _constant_inputs(train: np.ndarray, inputs: list[str]) -> list[str]:
    """DataError if the target does not vary over the training rows; notes for constant inputs."""
    spread = np.ptp(train, axis=0)                                   # (F,)
    if spread[0] == 0:
        raise DataError(f"The target {inputs[0]} is constant (= {round(float(train[0, 0]), 6)}) in "
                        "the training part; there is nothing to learn. Pick another column or a "
                        "longer span.")
    return [f"Input {name} is constant (= {round(float(train[0, i]), 6)}) in the training part; it "
            "carries no information for the model." for i, name in enumerate(inputs) if spread[i] == 0]


def _split_windows(scaled: np.ndarray, lookback: int, horizon: int, n_train: int,
                   n_val: int, transform: TargetTransform | None = None) -> dict[str, np.ndarray]:
    """Windows whose predicted rows lie inside each part; inputs may reach back into earlier parts.

    A window's inputs start at or after the transform's first defined row; with the relative
    transform the windows are shifted copies (model space), otherwise views of `scaled`.
    """
    transform = transform or TargetTransform()
    bounds = {"train": (0, n_train), "val": (n_train, n_train + n_val),
              "test": (n_train + n_val, len(scaled))}
    out = {}
    for part, (start, stop) in bounds.items():
        start = max(start, lookback + transform.lag)
        X, y = make_windows(scaled, lookback, horizon, 0, start, stop)   # (n, L, F), (n, H)
        if transform.relative:
            X, y = shift_windows(X, y)
        first, count = window_range(len(scaled), lookback, horizon, start, stop)
        out[f"X_{part}"], out[f"y_{part}"] = X, y
        out[f"t_{part}"] = np.arange(first, first + count)               # (n,)
    return out


def _data_hash(train: LoadedData, test: LoadedData | None) -> str:
    """The data file's sha256; with a separate test file, the sha256 of both hashes joined."""
    if test is None:
        return train.sha256
    return hashlib.sha256(f"{train.sha256}+{test.sha256}".encode()).hexdigest()
