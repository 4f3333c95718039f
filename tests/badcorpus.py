"""The bad-input corpus: files analysts really upload, and what each one should tell them.

`tests/data/bad/EXPECTED.json` maps every file of that folder to its outcome:

- `{"error": "DataError", "message": "..."}`: `data.load` raises exactly that RnnlabError subclass
  and its message contains the text;
- `{"ok": true, "report": "...", "target": "..."}`: `data.load` succeeds, a line of the cleaning
  report contains `report`, and the default target is `target`; optional `columns` (the numeric
  columns, verbatim), `rows`, `date_column` and `first` ({column: first value}) are checked too.

Either kind may carry `prepare`: {"lookback", "horizon", optional "target", and "error" +
"message"}; `data.prepare` on that file must then raise that error. Every entry has a `fault`,
a few words on what is wrong with the file.

`load_manifest()` is the one entry point for engine tests and page tests alike. The big cases
(a 50 MB file, a 200,000-column row, a 140,000-character column name, 9,999 columns) are not
committed: `write_big_cases(folder)` writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

BAD_DIR = Path(__file__).resolve().parent / "data" / "bad"
MANIFEST = BAD_DIR / "EXPECTED.json"
NOT_CORPUS = {"EXPECTED.json"}


@dataclass(frozen=True)
class Case:
    """One corpus file and the outcome a user should see."""

    file: str
    fault: str
    ok: bool = False
    error: str | None = None          # RnnlabError subclass name when load must fail
    message: str | None = None        # a substring of that error's message
    report: str | None = None         # a substring of one cleaning-report line when load succeeds
    target: str | None = None         # the default target when load succeeds
    columns: list[str] | None = None  # the numeric columns, verbatim
    rows: int | None = None
    date_column: str | None = None
    first: dict[str, float] = field(default_factory=dict)
    prepare: dict | None = None       # {"lookback", "horizon", "target"?, "error", "message"}

    @property
    def path(self) -> Path:
        """Where the file is."""
        return BAD_DIR / self.file

    @property
    def expected_text(self) -> str:
        """What the user must be shown: the error message, or the report line."""
        return (self.message if not self.ok else self.report) or ""


def load_manifest() -> list[Case]:
    """Every corpus entry of EXPECTED.json, in file order."""
    raw = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return [Case(file=name, **entry) for name, entry in raw.items()]


def corpus_files() -> list[str]:
    """The file names in tests/data/bad that are corpus items (everything but the manifest)."""
    return sorted(p.name for p in BAD_DIR.iterdir() if p.is_file() and p.name not in NOT_CORPUS)


# --------------------------------------------------------------------------- generated big cases

def write_big_csv(path: Path, target_bytes: int = 50 * 1024 * 1024) -> int:
    """A plain CSV, one row a minute, of about `target_bytes` (date + 3 numbers); its row count."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    row = len("2000-01-01T00:00:00,-1.2345,-1.2345,-1.2345\n")
    n = target_bytes // row + 1
    minutes = np.datetime64("2000-01-01T00:00") + np.arange(n).astype("timedelta64[m]")   # (n,)
    rng = np.random.default_rng(0)
    columns = {"time": pa.array(np.datetime_as_string(minutes, unit="s"))}
    for name in ("load", "temp", "price"):
        columns[name] = pa.array(rng.normal(size=n).round(4))                           # (n,)
    pacsv.write_csv(pa.table(columns), path, pacsv.WriteOptions(quoting_style="none"))
    return n


def write_wide_header(path: Path, n_columns: int = 200_000) -> None:
    """A header of `n_columns` names and one row of numbers."""
    names = ",".join(f"c{i}" for i in range(n_columns))
    values = ",".join("1" for _ in range(n_columns))
    path.write_text(f"{names}\n{values}\n")


def write_wide_row(path: Path, n_fields: int = 200_000) -> None:
    """A two-column table whose third row has `n_fields` fields."""
    wide = ",".join("7" for _ in range(n_fields))
    path.write_text(f"date,value\n2021-03-01,1\n2021-03-02,2\n{wide}\n2021-03-03,3\n")


def write_long_line(path: Path, n_chars: int = 5_000_000) -> None:
    """A valid table with one 5-million-character text cell (far beyond the sniffed head)."""
    rows = "".join(f"2021-03-{d:02d},{d * 1.5},short\n" for d in range(1, 21))
    path.write_text(f"date,value,note\n2021-02-28,0.5,{'y' * n_chars}\n{rows}")


def write_long_header_name(path: Path, n_chars: int = 140_000) -> None:
    """A header whose first name has `n_chars` characters (over the csv module's 131,072)."""
    rows = "".join(f"2021-03-{d:02d},{d * 1.5}\n" for d in range(1, 21))
    path.write_text(f"{'n' * n_chars},value\n{rows}")


def write_wide_table(path: Path, n_columns: int = 9_999, n_rows: int = 60) -> None:
    """A date column and `n_columns` - 1 numeric columns c1, c2, ... of `n_rows` daily rows."""
    import numpy as np

    rng = np.random.default_rng(1)
    values = rng.normal(size=(n_rows, n_columns - 1)).round(2)              # (rows, columns)
    days = np.datetime64("2022-01-01") + np.arange(n_rows)
    lines = [",".join(["date", *(f"c{i}" for i in range(1, n_columns))])]
    lines += [f"{day}," + ",".join(map(str, row)) for day, row in zip(days, values)]
    path.write_text("\n".join(lines) + "\n")


BIG_CASES = {
    # file name -> (writer, outcome as in EXPECTED.json)
    "fifty_megabytes.csv": (write_big_csv, {"fault": "a 50 MB file (under the 200 MB limit)", "ok": True,
                                            "report": "(frequency min)", "target": "load"}),
    "two_hundred_thousand_columns.csv": (write_wide_header, {
        "fault": "a header of 200,000 column names", "ok": False, "error": "DataError",
        "message": "The file has 200,000 columns; RNN Lab reads at most 10,000. Keep only the date "
                   "and the columns you want to forecast from, then load it again."}),
    "row_of_200000_fields.csv": (write_wide_row, {
        "fault": "one row of 200,000 fields under a two-column header", "ok": False,
        "error": "DataError", "message": "Expected 2 fields in line 4, saw 200000."}),
    "five_million_character_line.csv": (write_long_line, {
        "fault": "one cell of 5 million characters", "ok": True,
        "report": "Column note holds text (2 categories: short, yyyyy", "target": "value"}),
    "header_name_of_140000_characters.csv": (write_long_header_name, {
        "fault": "a header field of 140,000 characters (over the csv module's field limit)",
        "ok": False, "error": "DataError",
        "message": "header_name_of_140000_characters.csv has a column name of 140,000 characters in "
                   "its header row"}),
    "nine_thousand_nine_hundred_ninety_nine_columns.csv": (write_wide_table, {
        "fault": "a table of 9,999 columns (just under the limit)", "ok": True,
        "report": "Read 60 rows × 9,999 columns from nine_thousand_nine_hundred_ninety_nine_columns.csv",
        "target": "c1", "rows": 60}),
}


def write_big_cases(folder: Path, names: list[str] | None = None) -> list[Case]:
    """Write the generated big cases (all, or those named) into `folder`; their Cases there."""
    cases = []
    for name, (writer, outcome) in BIG_CASES.items():
        if names is not None and name not in names:
            continue
        writer(Path(folder) / name)
        cases.append(Case(file=str(Path(folder) / name), **outcome))
    return cases
