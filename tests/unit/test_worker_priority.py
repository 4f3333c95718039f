"""A worker process trains below the web pages' CPU priority (RNNLAB_WORKER_NICE)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rnnlab import worker

pytestmark = pytest.mark.skipif(not hasattr(os, "nice"), reason="Unix niceness only")


@pytest.mark.parametrize("raw, expected", [("", 10), ("0", 0), ("19", 19), (" 5 ", 5),
                                           ("20", 10), ("-3", 10), ("high", 10)])
def test_the_setting_is_read_and_a_bad_value_falls_back(monkeypatch, capsys, raw, expected):
    monkeypatch.setenv("RNNLAB_WORKER_NICE", raw)
    assert worker.niceness() == expected
    said = capsys.readouterr().out
    if raw.strip() and str(expected) != raw.strip():
        assert "RNNLAB_WORKER_NICE must be a whole number from 0" in said and repr(raw.strip()) in said
    else:
        assert said == ""


def test_a_worker_process_lowers_its_own_priority():
    """In a real process: the niceness after `yield_cpu` is the parent's plus the setting."""
    code = "import os; from rnnlab import worker; worker.yield_cpu(); print(os.nice(0))"
    for setting in ("7", "0"):
        env = {**os.environ, "RNNLAB_WORKER_NICE": setting}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout
        assert int(out) == min(19, os.nice(0) + int(setting))


def test_the_worker_entry_point_yields_before_it_opens_the_store(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(worker.os, "nice", lambda steps: calls.append(steps) or 0)
    monkeypatch.setenv("RNNLAB_WORKER_NICE", "12")
    code = worker.main(["no-such-run", "--home", str(tmp_path / "home")])
    assert code == 2            # the run does not exist: refused with a message
    assert calls == [12]
