"""Read a delimited text table (comma, semicolon, tab or pipe separated) into raw text cells.

`_read_text` finds the encoding (UTF-8 with or without a byte-order mark, UTF-16 by its mark or
its zero bytes, else Windows-1252 / Latin-1), refuses binary data, web pages, XML and JSON,
skips title and comment lines above the header (and Excel's 'sep=;' line), finds the delimiter
and the decimal mark, reads a header written as a comment ('# date,value') and a first row of
numbers as data, and parses with pandas' C parser: every cell that is not a plain number stays
text for the cleaner. Rows longer than the header are fine when their extra fields are empty.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
from collections import Counter
from dataclasses import dataclass

import pandas as pd

from rnnlab.data.findings import CleaningReport, _count, _preview, _shape, _shorten
from rnnlab.data.numbers import _decimal_mark, _looks_numeric
from rnnlab.data.source import MAX_COLUMNS, _too_many_columns
from rnnlab.errors import DataError

DELIMITERS = {"\t": "tab", ";": "semicolon", "|": "pipe", ",": "comma"}
MAX_NAME_CHARS = 1000        # a longer "column name" is a broken header (an unclosed quote)
HEAD_CHARS = 65536           # the start of a text file that is looked at to find its layout
MAX_PREAMBLE_LINES = 20      # title and comment lines above the header that are skipped
SEP_LINE = re.compile(r'^\s*"?sep=(.)"?[,;\t|]*\s*$', re.IGNORECASE)      # Excel's 'sep=;' line
LINE_BREAK = re.compile(r"\r\n|\r|\n")                            # as pandas' C parser splits
JSON_START = re.compile(r'\s*(\{\s*("|\}|$)|\[\s*(\{|\[|"|\]|$))')


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
