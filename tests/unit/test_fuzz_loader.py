"""Fuzz the loader with 1,000 CSVs built from a grammar of the faults analysts' files have.

Whatever the file, `data.load` (and `data.prepare` on a small lookback) either returns a clean
frame or raises an RnnlabError: never any other exception, never NaN or inf in the frame.

Hypothesis draws a recipe (the grammar's choices: delimiter, decimal mark, number styles, junk,
date faults, encoding, ragged rows, ...) plus a seed; `build_csv` turns it into bytes, taking the
many cell values from the seed so that 1,000 files are quick to make.
"""

import codecs
from collections import Counter

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnlab.config import DataConfig
from rnnlab.data import load, prepare
from rnnlab.errors import RnnlabError

N_EXAMPLES = 1000
DELIMITERS = [",", ";", "\t", "|"]
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y", "%d/%m/%Y", "%Y-%m-%d %H:%M", "%Y%m%d",
                "%Y-%m", "%b %Y", "%Y-%m-%dT%H:%M:%S", "%d %B %Y", "%Y-%m-%dT%H:%M:%S+02:00"]
DATE_STARTS = ["1949-01-01", "2000-02-28", "2020-12-30", "2150-06-01"]
DATE_STEPS = ["D", "h", "MS", "W", "15min", "B", "QS"]
DATE_FAULTS = ["shuffle", "duplicate", "mixed", "future", "bad", "9999", "blank"]
STYLES = ["plain", "plain", "int", "grouped", "sci", "huge", "quoted", "constant"]
JUNK = ["n/a", "-", "1.2.3", "abc", "#DIV/0!", "", " ", "NaN", "nan", "inf", "-inf", "Infinity",
        "1e308", "-1e308", "1e309", "?", "null", "TRUE", "<script>", "**x**", "12 kg", "5%",
        "1,2,3", "--", "0x1F", "１２", "\u00a0", "N/A", "#N/A", "1e-320", "+", ".", '"', "'"]
NAMES = ["date", "value", "Wert", "temp", "<script>alert(1)</script>", "**x**", "", "value",
         "Température", "a;b", "x|y", '"q"', "Umsatz (€)", "1", "2020", "id", "year", "t", "#"]
PREAMBLES = ["# exported", "Station: Oslo", "sep=", "#", "Title line", "# date,value"]
ENCODINGS = ["utf-8", "utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-16-le"]
ENDINGS = ["\n", "\n", "\r\n", "\r"]
FILENAMES = ["data.csv", "export.txt", "x.tsv", "upload", "Book1.csv"]

RECIPES = st.fixed_dictionaries({
    "sep": st.sampled_from(DELIMITERS),
    "decimal_comma": st.booleans(),
    "wide": st.integers(0, 19),                        # 0: a wide table of 60 to 150 columns
    "n_rows": st.integers(0, 40),
    "n_values": st.integers(0, 4),
    "dates": st.integers(0, 3),                        # 0: no date column
    "date_format": st.sampled_from(DATE_FORMATS),
    "date_start": st.sampled_from(DATE_STARTS),
    "date_step": st.sampled_from(DATE_STEPS),
    "date_faults": st.sets(st.sampled_from(DATE_FAULTS), max_size=3),
    "styles": st.lists(st.sampled_from(STYLES), min_size=1, max_size=4),
    "junk_share": st.sampled_from([0.0, 0.0, 0.05, 0.2, 0.6, 1.0]),
    "header": st.integers(0, 9),                       # 0: no header row
    "ragged": st.sampled_from(["none", "none", "none", "short", "long"]),
    "preamble": st.lists(st.sampled_from(PREAMBLES), max_size=3),
    "blank_lines": st.integers(0, 3),
    "trailing_sep": st.integers(0, 9),                 # 0: a delimiter at every line end
    "ending": st.sampled_from(ENDINGS),
    "final_newline": st.booleans(),
    "encoding": st.sampled_from(ENCODINGS),
    "bom": st.integers(0, 9),                          # 0: a UTF-8 byte-order mark
    "name": st.sampled_from(FILENAMES),
    "seed": st.integers(0, 2**32 - 1),
})


def build_csv(recipe: dict) -> tuple[bytes, str]:
    """(raw bytes, file name) of the CSV a recipe describes."""
    rng = np.random.default_rng(recipe["seed"])
    sep, is_wide = recipe["sep"], recipe["wide"] == 0
    n_rows = min(recipe["n_rows"], 4) if is_wide else recipe["n_rows"]
    n_values = int(rng.integers(60, 150)) if is_wide else recipe["n_values"]
    decimal_comma = recipe["decimal_comma"] and sep != ","
    columns = [date_column(recipe, n_rows, rng)] if recipe["dates"] else []
    for i in range(n_values):
        style = recipe["styles"][i % len(recipe["styles"])]
        columns.append(number_column(style, n_rows, decimal_comma, sep, recipe["junk_share"], rng))
    rows = ragged([list(cells) for cells in zip(*columns)] if columns else [[]] * n_rows,
                  recipe["ragged"], rng)
    header = [NAMES[i].replace(sep, "") for i in rng.integers(len(NAMES), size=len(columns))]
    lines = ([sep.join(header)] if recipe["header"] else []) + [sep.join(r) for r in rows]
    lines = [p + sep if p == "sep=" else p for p in recipe["preamble"]] + lines
    for _ in range(recipe["blank_lines"]):
        lines.insert(int(rng.integers(len(lines) + 1)), ["", " ", "\t"][int(rng.integers(3))])
    if not recipe["trailing_sep"]:
        lines = [line + sep for line in lines]
    ending = recipe["ending"]
    text = ending.join(lines) + (ending if recipe["final_newline"] else "")
    raw = text.encode(recipe["encoding"], errors="replace")
    if recipe["encoding"] == "utf-8" and not recipe["bom"]:
        raw = codecs.BOM_UTF8 + raw
    return raw, recipe["name"]


def date_column(recipe: dict, n_rows: int, rng) -> list[str]:
    """Dates with faults: shuffled, duplicated, mixed formats, far future, unreadable, blank."""
    stamps = list(pd.date_range(recipe["date_start"], periods=max(n_rows, 1),
                                freq=recipe["date_step"]))[:n_rows]
    faults = recipe["date_faults"]
    if "duplicate" in faults and n_rows > 2:
        stamps[int(rng.integers(1, n_rows))] = stamps[0]
    if "shuffle" in faults:
        stamps = [stamps[i] for i in rng.permutation(n_rows)]
    formats = ([DATE_FORMATS[i] for i in rng.integers(len(DATE_FORMATS), size=n_rows)]
               if "mixed" in faults else [recipe["date_format"]] * n_rows)
    cells = [s.strftime(f) for s, f in zip(stamps, formats)]
    for fault, token in (("future", "2921-01-01"), ("bad", "2020-13-45"), ("9999", "9999-12-31"),
                         ("blank", "")):
        if fault in faults and n_rows:
            cells[int(rng.integers(n_rows))] = token
    return [f'"{c}"' if "," in c else c for c in cells]


def number_column(style: str, n_rows: int, decimal_comma: bool, sep: str, junk_share: float,
                  rng) -> list[str]:
    """A numeric column written in one style, with a share of its cells replaced by junk."""
    if style == "huge":
        values = np.sign(rng.normal(size=n_rows)) * 10.0 ** rng.uniform(-320, 308.3, n_rows)
    elif style == "constant":
        values = np.full(n_rows, 5.0)
    else:
        values = rng.normal(rng.normal(0, 100), 10.0 ** rng.integers(-2, 6), n_rows)   # (n_rows,)
    cells = [write_number(float(v), style, decimal_comma, sep) for v in values]
    for i in np.flatnonzero(rng.random(n_rows) < junk_share):
        cells[i] = JUNK[int(rng.integers(len(JUNK)))]
    return cells


def write_number(value: float, style: str, decimal_comma: bool, sep: str) -> str:
    """One cell: '1234.500', '1,234.50' (or '1.234,50'), '1.2345e+03', quoted when needed."""
    if style == "int" and abs(value) < 1e18:
        text = str(int(value))
    elif style == "grouped":
        text = f"{value:,.2f}"
        text = text.translate(str.maketrans(",.", ".,")) if decimal_comma else text
    elif style in ("sci", "huge"):
        text = f"{value:.4e}"
    else:
        text = f"{value:.3f}"
    if decimal_comma and style != "grouped":
        text = text.replace(".", ",")
    if style == "quoted" or sep in text:
        text = f'"{text}"'
    return text


def ragged(rows: list[list[str]], how: str, rng) -> list[list[str]]:
    """Some rows lose their last field ("short") or gain an extra one ("long")."""
    if not rows or how == "none":
        return rows
    for i in rng.choice(len(rows), size=max(1, len(rows) // 5), replace=False):
        rows[i] = rows[i][:-1] if how == "short" else rows[i] + ["7"]
    return rows


def assert_clean(loaded) -> None:
    """A frame a model may use."""
    frame = loaded.frame
    assert len(frame) >= 1 and all(dtype == np.float64 for dtype in frame.dtypes)
    assert np.isfinite(frame.to_numpy()).all()
    if loaded.date_column is not None:
        assert isinstance(frame.index, pd.DatetimeIndex)
        assert frame.index.is_monotonic_increasing and frame.index.is_unique
    else:
        assert isinstance(frame.index, pd.RangeIndex)
    assert loaded.report.lines() and loaded.default_target in loaded.numeric_columns


def test_loader_returns_a_clean_frame_or_an_rnnlab_error(tmp_path):
    outcomes = Counter()
    path = tmp_path / "fuzz.csv"

    @settings(max_examples=N_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(RECIPES)
    def run(recipe):
        raw, name = build_csv(recipe)
        outcomes["cases"] += 1
        try:
            loaded = load(raw, filename=name)
        except RnnlabError:
            outcomes["load refused"] += 1
            return
        assert_clean(loaded)
        outcomes["loaded"] += 1
        path.write_bytes(raw)
        try:
            prepared = prepare(DataConfig(source=str(path)), 2, 1)
        except RnnlabError:
            outcomes["prepare refused"] += 1
            return
        assert np.isfinite(prepared.scaled).all() and len(prepared.X_train) >= 1
        outcomes["prepared"] += 1

    run()
    print(f"\nfuzz cases run: {dict(outcomes)}")
    assert outcomes["cases"] >= N_EXAMPLES
    assert outcomes["loaded"] >= 100 and outcomes["load refused"] >= 100
    assert outcomes["prepared"] >= 50


# --------------------------------------------------------------------------- round trip

N_ROUND_TRIPS = 200
CLEAN_DATES = {"D": ["%Y-%m-%d", "%d.%m.%Y", "%Y%m%d", "%Y/%m/%d", "%d %b %Y"],
               "h": ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M"],
               "MS": ["%Y-%m", "%b %Y", "%Y-%m-%d"]}
CLEAN_NAMES = ["value", "flow", "Température", "<b>x</b>", "**y**", "Umsatz (€)"]

CLEAN_RECIPES = st.fixed_dictionaries({
    "sep": st.sampled_from(DELIMITERS),
    "decimal_comma": st.booleans(),
    "n_rows": st.integers(8, 30),
    "n_values": st.integers(1, 3),
    "step": st.sampled_from(list(CLEAN_DATES)),
    "format": st.integers(0, 4),
    "style": st.sampled_from(["plain", "grouped", "quoted"]),
    "preamble": st.lists(st.sampled_from(["# exported", "Station: Oslo", "sep="]), max_size=2,
                         unique=True),
    "trailing_sep": st.integers(0, 4),
    "ending": st.sampled_from(ENDINGS),
    "encoding": st.sampled_from(ENCODINGS),
    "bom": st.integers(0, 4),
    "seed": st.integers(0, 2**32 - 1),
})


def build_clean_csv(recipe: dict) -> tuple[bytes, pd.DatetimeIndex, dict[str, np.ndarray]]:
    """(raw bytes, the dates, {column: values}) of a well-formed CSV in some dialect."""
    rng = np.random.default_rng(recipe["seed"])
    sep, n_rows = recipe["sep"], recipe["n_rows"]
    decimal_comma = recipe["decimal_comma"] and sep != ","
    dates = pd.date_range("2021-01-13", periods=n_rows, freq=recipe["step"])
    formats = CLEAN_DATES[recipe["step"]]
    fmt = formats[recipe["format"] % len(formats)]
    names = [n for n in CLEAN_NAMES if recipe["encoding"] != "latin-1" or "€" not in n]
    names = list(rng.choice(names, size=recipe["n_values"], replace=False))
    truth = {name: np.round(rng.normal(0, 10.0 ** rng.integers(0, 7), n_rows), 2) for name in names}
    style = recipe["style"] if recipe["style"] != "grouped" or not decimal_comma or sep != "." else "plain"
    rows = [[d.strftime(fmt)] + [_clean_number(truth[n][i], style, decimal_comma, sep) for n in names]
            for i, d in enumerate(dates)]
    lines = [sep.join(["date"] + names)] + [sep.join(r) for r in rows]
    top = [p + sep if p == "sep=" else p for p in recipe["preamble"]]
    lines = sorted(top, key=lambda p: not p.startswith("sep=")) + lines
    if not recipe["trailing_sep"]:
        lines = lines[:len(top)] + [line + sep for line in lines[len(top):]]
    raw = recipe["ending"].join(lines).encode(recipe["encoding"])
    if recipe["encoding"] == "utf-8" and not recipe["bom"]:
        raw = codecs.BOM_UTF8 + raw
    return raw, dates, truth


def _clean_number(value: float, style: str, decimal_comma: bool, sep: str) -> str:
    text = f"{value:,.2f}" if style == "grouped" else f"{value:.2f}"
    if decimal_comma:
        text = text.translate(str.maketrans(",.", ".,"))
    return f'"{text}"' if style == "quoted" or sep in text else text


def test_well_formed_files_in_any_dialect_load_back_exactly():
    runs = Counter()

    @settings(max_examples=N_ROUND_TRIPS, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(CLEAN_RECIPES)
    def run(recipe):
        raw, dates, truth = build_clean_csv(recipe)
        loaded = load(raw, filename="clean.csv")
        assert loaded.numeric_columns == list(truth)
        assert loaded.frame.index.equals(pd.DatetimeIndex(dates, name="date"))
        for name, values in truth.items():
            np.testing.assert_array_equal(loaded.frame[name].to_numpy(), values)
        runs["round trips"] += 1

    run()
    print(f"\nround trips run: {runs['round trips']}")
    assert runs["round trips"] >= N_ROUND_TRIPS
