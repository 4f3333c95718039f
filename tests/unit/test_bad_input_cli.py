"""The bad-input corpus through the command line: every file ends in a clear line, never a traceback.

`rnnlab submit FILE` reads the file (advice, then the run's data check) and queues a run without
training. A file that cannot be used ends with exit status 2 and `error: <the loader's message>`;
any other exception would escape `cli.main` and fail the test.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from badcorpus import BIG_CASES, Case, load_manifest, write_big_cases
from rnnlab import cli

CASES = load_manifest()
ROOT = Path(__file__).resolve().parents[2]
NEW_BIG = ["header_name_of_140000_characters.csv", "nine_thousand_nine_hundred_ninety_nine_columns.csv"]


def submit(path: Path, home: Path, *options: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `rnnlab submit --home HOME PATH OPTIONS`."""
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["submit", "--home", str(home), str(path), *options], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def check(case: Case, path: Path, home: Path) -> None:
    spec = case.prepare or {}
    options = [f"--{name}={spec[name]}" for name in ("lookback", "horizon", "target") if name in spec]
    code, out, err = submit(path, home, *options)
    assert "Traceback" not in out + err
    last = err.strip().splitlines()[-1] if err.strip() else ""
    if not case.ok:
        assert code == 2, (code, err)
        assert last.startswith("error: ") and case.message in last, err
    elif "error" in spec:                          # loads, but cannot make this run
        assert code == 2, (code, err)
        assert last.startswith("error: ") and spec["message"] in last, err
    else:
        assert code in (0, 2), (code, err)         # 2: e.g. too short for the advised lookback
        assert (code == 0 and out.strip()) or last.startswith("error: "), (code, out, err)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.file)
def test_every_corpus_file_ends_in_a_clear_line(case, tmp_path):
    check(case, case.path, tmp_path / "home")


@pytest.mark.parametrize("name", NEW_BIG)
def test_generated_big_cases_end_in_a_clear_line(name, tmp_path):
    (case,) = write_big_cases(tmp_path, [name])
    check(case, Path(case.file), tmp_path / "home")


def test_the_installed_command_exits_2_on_an_over_long_header_name(tmp_path):
    (case,) = write_big_cases(tmp_path, ["header_name_of_140000_characters.csv"])
    done = subprocess.run([sys.executable, "-m", "rnnlab.cli", "submit", "--home",
                           str(tmp_path / "home"), case.file], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: header_name_of_140000_characters.csv has a column name of "
                                  "140,000 characters in its header row")
    assert BIG_CASES[Path(case.file).name][1]["message"] in done.stderr
