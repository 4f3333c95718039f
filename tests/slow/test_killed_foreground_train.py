"""A foreground `rnnlab train` killed with SIGKILL: the next CLI start marks its run interrupted,
and it continues from its checkpoint without a runner (`rnnlab resume RUN --here`)."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rnnlab.store import RunStatus, Store

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TINY = ["--lookback", "5", "--layers", "1", "--units", "4", "--batch-size", "32", "--seed", "2",
        "--patience", "0", "--no-advice"]
EPOCHS = 60


def rnnlab(*args, timeout=300):
    proc = subprocess.run([sys.executable, "-m", "rnnlab.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO, env=os.environ.copy())
    return proc.returncode, proc.stdout, proc.stderr


def _wait_for_first_epoch(store: Store, proc: subprocess.Popen, timeout: float = 240) -> str:
    """The run's id once it has an epoch row and the checkpoint of that epoch."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        runs = store.list_runs()
        if runs and runs[0].epochs_done >= 1:
            meta = store.artefact(runs[0].id, "checkpoint.json")
            try:
                if json.loads(meta.read_text())["epoch"] >= 1:
                    return runs[0].id
            except (OSError, ValueError, KeyError):
                pass
        time.sleep(0.05)
    raise AssertionError("no epoch row within the time limit")


def test_a_killed_foreground_train_is_found_interrupted_and_resumes_without_a_runner(tmp_path):
    home = Path(os.environ["RNNLAB_HOME"])
    store = Store(home)
    proc = subprocess.Popen([sys.executable, "-m", "rnnlab.cli", "train",
                             "sample_data/noisy_sine.csv", "--target", "value",
                             "--epochs", str(EPOCHS), *TINY],
                            cwd=REPO, env=os.environ.copy(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        run_id = _wait_for_first_epoch(store, proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    killed = store.get_run(run_id)
    assert killed.status == RunStatus.RUNNING and killed.pid == proc.pid  # as the kill left it
    assert 1 <= killed.epochs_done < EPOCHS

    code, out, err = rnnlab("list")           # the next CLI start, no runner anywhere
    assert code == 0, err
    assert "Traceback" not in err
    line = next(line for line in out.splitlines() if line.startswith(run_id))
    assert "interrupted" in line.split()
    run = store.get_run(run_id)
    assert run.status == RunStatus.INTERRUPTED and run.eta is None
    assert f"pid {proc.pid}" in run.summary["message"]
    assert any(e["kind"] == "interrupted" for e in store.events(run_id))

    code, out, err = rnnlab("resume", run_id, "--here", timeout=600)
    assert code == 0, err[-3000:]
    assert "Traceback" not in err
    assert re.search(rf"Run {run_id}: continuing from epoch [1-9]", err), err[-2000:]
    done = store.get_run(run_id)
    assert done.status == RunStatus.DONE and done.epochs_done == EPOCHS
    assert [e["epoch"] for e in store.epochs(run_id)] == list(range(1, EPOCHS + 1))
    assert "SKILL VS NAIVE" in out
