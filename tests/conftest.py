"""Shared fixtures: a fresh run store per test, and small, quiet backends for worker processes."""

import os

import pytest

from rnnlab import backend
from rnnlab.store import Store

# Tests that train in this process use the backend the workers use (set before Keras loads).
backend.use()

# Workers are separate processes: they inherit these from the test's environment. One thread
# each keeps two workers side by side on a two-core machine from fighting over the cores.
QUIET_SMALL_TF = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "KMP_WARNINGS": "0",
}


@pytest.fixture(autouse=True)
def _rnnlab_env(tmp_path, monkeypatch):
    """Every test gets its own RNNLAB_HOME and thread limits for any worker it starts."""
    monkeypatch.setenv("RNNLAB_HOME", str(tmp_path / "home"))
    for key, value in QUIET_SMALL_TF.items():
        monkeypatch.setenv(key, os.environ.get(key, value))
    monkeypatch.delenv("RNNLAB_EXECUTOR", raising=False)
    monkeypatch.delenv("RNNLAB_CONCURRENCY", raising=False)
    # the classical baseline's fits cost a second or two a run: on only where a test asks for it
    monkeypatch.setenv("RNNLAB_CLASSICAL", "0")


@pytest.fixture
def store(tmp_path):
    """An empty run store in the test's RNNLAB_HOME."""
    return Store(tmp_path / "home")
