"""Build rnnlab's wheel from a copy of what the package is made of (pyproject, README, the
rnnlab/ folder), so that a build/ folder left in the checkout by an earlier build cannot add
files the package list would leave out."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def build_wheel(work: Path) -> Path:
    """The wheel, built under `work`; skips the test where no package index can give the
    build backend."""
    src, out = work / "src", work / "dist"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "rnnlab", src / "rnnlab",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                           str(out), str(src)], capture_output=True, text=True, timeout=300)
    if done.returncode != 0 and "Could not find a version" in done.stderr:
        pytest.skip("no package index to build the wheel with here")
    assert done.returncode == 0, done.stderr[-3000:]
    (path,) = out.glob("rnnlab-*.whl")
    return path
