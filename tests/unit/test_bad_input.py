"""The bad-input corpus at the engine: every file gives exactly the outcome in EXPECTED.json.

A file either loads into a clean frame with a named line in the report, or raises the named
RnnlabError subclass with a message saying what is wrong and what to do. The big cases (50 MB,
200,000 columns) are written into tmp by a fixture, never committed.
"""

import pickle
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow
import pytest

import rnnlab.errors as errors
from badcorpus import BAD_DIR, BIG_CASES, Case, corpus_files, load_manifest, write_big_cases
from rnnlab.config import DataConfig
from rnnlab.data import MAX_UPLOAD_BYTES, LoadedData, load, prepare

ROOT = Path(__file__).resolve().parents[2]
CASES = load_manifest()


def assert_clean(loaded: LoadedData) -> None:
    """The frame a model may use: float64, finite, an ordered index, a report, a real target."""
    frame = loaded.frame
    assert len(frame) >= 1 and len(frame.columns) >= 1
    assert all(dtype == np.float64 for dtype in frame.dtypes)
    assert np.isfinite(frame.to_numpy()).all()
    if loaded.date_column is not None:
        assert isinstance(frame.index, pd.DatetimeIndex) and frame.index.name == loaded.date_column
        assert frame.index.is_monotonic_increasing and frame.index.is_unique
    else:
        assert isinstance(frame.index, pd.RangeIndex)
    assert loaded.report.lines()
    assert set(loaded.numeric_columns) <= set(frame.columns)
    assert loaded.default_target in loaded.numeric_columns


def check_load(case: Case, source, **kwargs) -> list[str]:
    """Load `source` as the case says it should; the report lines or the error message."""
    if not case.ok:
        with pytest.raises(errors.RnnlabError) as err:
            load(source, **kwargs)
        assert type(err.value) is getattr(errors, case.error), str(err.value)
        assert case.message in str(err.value)
        return [str(err.value)]
    loaded = load(source, **kwargs)
    assert_clean(loaded)
    lines = loaded.report.lines()
    assert any(case.report in line for line in lines), "\n".join(lines)
    assert loaded.default_target == case.target
    if case.columns is not None:
        assert loaded.numeric_columns == case.columns
    if case.rows is not None:
        assert len(loaded.frame) == case.rows
    if case.date_column is not None:
        assert loaded.date_column == case.date_column
    for column, value in case.first.items():
        assert loaded.frame[column].iloc[0] == pytest.approx(value)
    return lines


def check_prepare(case: Case) -> None:
    """prepare fails as the case says, or (by default) works on a lookback of 3."""
    spec = dict(case.prepare or {"lookback": 3, "horizon": 1})
    cfg = DataConfig(source=str(case.path), target=spec.get("target"))
    if "error" not in spec:
        p = prepare(cfg, spec["lookback"], spec["horizon"])
        assert len(p.X_train) and np.isfinite(p.scaled).all()
        return
    with pytest.raises(errors.RnnlabError) as err:
        prepare(cfg, spec["lookback"], spec["horizon"])
    assert type(err.value) is getattr(errors, spec["error"]), str(err.value)
    assert spec["message"] in str(err.value)


# --------------------------------------------------------------------------- the corpus

def test_corpus_has_forty_files_each_in_the_manifest_and_stays_small():
    assert len(CASES) >= 40
    assert sorted(c.file for c in CASES) == corpus_files()
    assert sum((BAD_DIR / name).stat().st_size for name in corpus_files()) < 1024 * 1024
    assert sum(not c.ok for c in CASES) >= 15 and sum(c.ok for c in CASES) >= 15
    for case in CASES:
        assert case.fault and case.expected_text
        assert case.ok == (case.error is None)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.file)
def test_corpus_file_as_path_and_as_upload(case):
    from_path = check_load(case, case.path)
    from_upload = check_load(case, case.path.read_bytes(), filename=case.file)
    assert from_upload == from_path
    if case.ok:
        check_prepare(case)


def test_html_and_markdown_names_are_kept_verbatim_everywhere():
    case = next(c for c in CASES if c.file == "html_and_markdown_names.csv")
    loaded = load(case.path)
    assert list(loaded.frame.columns) == case.columns
    p = prepare(DataConfig(source=str(case.path), target="**bold**", features=("<b>x</b> & y",)), 3, 1)
    assert p.inputs == ["**bold**", "<b>x</b> & y"]


def test_no_unpickling_while_loading_any_corpus_file(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the loader unpickled something")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    for case in CASES:
        if case.ok:
            load(case.path)


def test_loader_source_never_uses_pickle():
    pattern = re.compile(r"read_pickle|import pickle|pickle\.load|allow_pickle\s*=\s*True|joblib|dill")
    offenders = [p.name for p in (ROOT / "rnnlab").rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
    # pyarrow before 14.0.1 could run code from a crafted Parquet file (CVE-2023-47248)
    version = tuple(int(x) for x in re.findall(r"\d+", pyarrow.__version__)[:3])
    assert version >= (14, 0, 1)


# --------------------------------------------------------------------------- big generated files

@pytest.fixture(scope="module")
def big_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("big")


@pytest.mark.parametrize("name", list(BIG_CASES))
def test_big_generated_case(big_dir, name):
    (case,) = write_big_cases(big_dir, [name])
    try:
        check_load(case, Path(case.file))
        if name == "fifty_megabytes.csv":     # under the default limit, over a lower one
            with pytest.raises(errors.DataError) as err:
                load(Path(case.file), max_bytes=10 * 1000 * 1000)
            size = Path(case.file).stat().st_size
            assert str(err.value).startswith(f"fifty_megabytes.csv is {size / 1e6:.1f} MB; the "
                                             "limit is 10.0 MB.")
    finally:
        Path(case.file).unlink()


# --------------------------------------------------------------------------- the upload limit

def test_upload_limit_matches_the_streamlit_setting():
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert MAX_UPLOAD_BYTES == settings["server"]["maxUploadSize"] * 1000 * 1000 == 200_000_000


def test_upload_limit_is_checked_before_reading_a_path_or_preparing(tmp_path):
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as f:                 # sparse: 201 MB on paper, nothing on disk
        f.truncate(MAX_UPLOAD_BYTES + 1000 * 1000)
    message = ("huge.csv is 201.0 MB; the limit is 200 MB (200,000,000 bytes), as in the "
               "dashboard. Use a shorter time span or fewer columns, or save it as Parquet, "
               "which is smaller.")
    with pytest.raises(errors.DataError) as err:
        load(huge)
    assert str(err.value) == message
    with pytest.raises(errors.DataError) as err:   # the CLI and the job queue go through prepare
        prepare(DataConfig(source=str(huge)), 3, 1)
    assert str(err.value) == message


def test_upload_limit_for_bytes():
    raw = b"date,value\n" + b"2021-03-01,1\n" * 100
    with pytest.raises(errors.DataError) as err:
        load(raw, filename="up.csv", max_bytes=1000)
    assert str(err.value).startswith("up.csv is 1.3 kB; the limit is 1.0 kB.")
