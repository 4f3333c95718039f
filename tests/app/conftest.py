"""Fixtures for the dashboard tests: a store in a temporary home, finished runs in it."""

from __future__ import annotations

import pytest

from apphelpers import add_finished_run
from rnnlab.store import RunStatus, Store


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty run store in a temporary RNNLAB_HOME; runs never train in a subprocess here."""
    monkeypatch.setenv("RNNLAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RNNLAB_EXECUTOR", "inprocess")
    # a page that crashes shows its exception (app.py's last-resort handler lets it through),
    # so a test that looks for no exception element catches it; tests of the handler unset it
    monkeypatch.setenv("RNNLAB_DEBUG", "1")
    yield tmp_path / "home"
    from rnnlab import jobs

    jobs.get_runner(Store(tmp_path / "home"), start=False).stop()


@pytest.fixture
def store(home):
    """The Store the app will open."""
    return Store(home)


@pytest.fixture
def finished_runs(store):
    """Four finished runs: done (LSTM), done (SimpleRNN), diverged, failed."""
    return {
        "lstm": add_finished_run(store, "tiny LSTM", "lstm", 8, rmse=0.1),
        "simple": add_finished_run(store, "tiny SimpleRNN", "simple_rnn", 8, rmse=0.18),
        "diverged": add_finished_run(store, "exploding", "simple_rnn", 8,
                                     status=RunStatus.DIVERGED, rmse=float("nan")),
        "failed": add_finished_run(store, "broken", "gru", 4, status=RunStatus.FAILED),
    }
