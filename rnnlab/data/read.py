"""Read a data file: `load` turns a CSV/TSV, Excel (.xlsx) or Parquet file into `LoadedData`.

`load` takes a path, a sample name or uploaded bytes (at most MAX_UPLOAD_BYTES, checked before
reading; never unpickling anything) and tells the format from the first bytes rather than the
name. A workbook is read from its first sheet that holds numbers (the sheets passed over are
named in the report); Parquet is read by pyarrow (a named index becomes a column, binary
columns become text or are left out); delimited text is left to `rnnlab.data.text`. The column
names are made unique and the table goes to the cleaner (`rnnlab.data.clean`). A file it cannot
use raises DataError saying what is wrong and what to do.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rnnlab.config import CATEGORICAL, FILLS, _check_choice
from rnnlab.data.clean import LoadedData, _Cleaner
from rnnlab.data.findings import CleaningReport, _preview, _shape
from rnnlab.data.numbers import _is_text, _numbers_from_text
from rnnlab.data.source import (MAX_COLUMNS, MAX_UNPACKED_BYTES, MAX_UPLOAD_BYTES, _megabytes,
                                _read_source, _too_many_columns)
from rnnlab.data.text import _read_text
from rnnlab.errors import DataError


def load(source: str | Path | bytes, *, filename: str | None = None, date_column: str | None = None,
         fill: str = "interpolate", categorical: str = "exclude",
         max_bytes: int = MAX_UPLOAD_BYTES) -> LoadedData:
    """Read and clean a CSV/TSV, Excel or Parquet file given as a path, sample name or raw bytes."""
    _check_choice("fill", fill, FILLS)
    _check_choice("categorical", categorical, CATEGORICAL)
    options = {"date_column": date_column, "fill": fill, "categorical": categorical}
    raw, name, sample = _read_source(source, filename, max_bytes)
    report = CleaningReport()
    table, decimal_comma = _read_table(raw, name, report)
    if date_column is None and sample is not None:
        date_column = sample.date_column
    cleaner = _Cleaner(table, report, fill=fill, categorical=categorical, decimal_comma=decimal_comma)
    loaded = cleaner.run(date_column)
    loaded.sha256 = hashlib.sha256(raw).hexdigest()
    loaded.source_name, loaded.sample = name, sample
    if isinstance(source, (str, Path)):
        loaded.read_as = (_where(source), options)
    if sample is not None and sample.target in loaded.numeric_columns:
        loaded.default_target = sample.target
    return loaded


def _where(source: str | Path) -> str:
    """The file a path or sample name stands for, as text (the source itself if unresolvable)."""
    from rnnlab.samples import resolve_source

    try:
        return str(resolve_source(source))
    except DataError:
        return str(source)


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
