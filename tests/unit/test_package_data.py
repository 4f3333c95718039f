"""The wheel alone is a working rnnlab: its samples and lessons travel inside the package.

The wheel is built from this checkout (pip, no dependencies) and unpacked into a folder that
has nothing else of the repository; a fresh interpreter with only that folder on its path (and
the test environment's packages) loads every sample and every lesson from there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from rnnlab import lessons, samples
from wheels import build_wheel

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import json, sys
from rnnlab import data, lessons, samples
found = {name: len(data.load(name).frame) for name in samples.SAMPLES}
print(json.dumps({"sample_dir": str(samples.SAMPLE_DIR), "rows": found,
                  "lessons": sorted(lessons.load_lessons())}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def test_the_wheel_holds_every_sample_and_lesson(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for sample in samples.SAMPLES.values():
        assert f"rnnlab/sample_data/{sample.file}" in names
    for doc in ("PROVENANCE.md", "GENERATED.md"):
        assert f"rnnlab/sample_data/{doc}" in names          # the attributions travel too
    shipped = {p.name for p in lessons.BUILTIN_DIR.glob("*.json")}
    assert len(shipped) >= 9
    assert {f"rnnlab/lessons/{n}" for n in shipped} <= names


def test_the_wheel_holds_every_module_of_the_package(wheel):
    """Every .py file under rnnlab/ in the checkout is in the wheel: a new subpackage cannot be
    left out of the install."""
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "rnnlab").rglob("*.py")
               if "__pycache__" not in p.parts}
    assert len(modules) > 40
    assert modules <= names, sorted(modules - names)


def test_an_unpacked_wheel_alone_reads_its_samples_and_lessons(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "RNNLAB_HOME": str(tmp_path / "h")}
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(result["sample_dir"]) == site / "rnnlab" / "sample_data"
    assert set(result["rows"]) == set(samples.SAMPLES) and min(result["rows"].values()) > 10
    assert result["lessons"] == sorted(lessons.load_lessons())
