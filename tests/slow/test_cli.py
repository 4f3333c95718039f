"""`rnnlab` end to end in real processes: train in the foreground, inspect, export, queue and run."""

import os
import py_compile
import re
import subprocess
import sys
from pathlib import Path

import pytest


pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TINY = ["--lookback", "5", "--layers", "1", "--units", "4", "--batch-size", "32", "--seed", "2"]


def rnnlab(*args, timeout=300):
    """Run the console command; (exit status, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "rnnlab.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO, env=os.environ.copy())
    return proc.returncode, proc.stdout, proc.stderr


def _run_id(text: str) -> str:
    return re.search(r"r\d{8}-\d{6}-[0-9a-f]{6}", text).group(0)


def test_train_in_the_foreground_then_list_show_and_export(tmp_path):
    code, out, err = rnnlab("train", "sample_data/noisy_sine.csv", "--target", "value",
                            "--epochs", "3", *TINY)
    assert code == 0, err
    assert "Traceback" not in err
    progress = [line for line in err.splitlines() if line.startswith("epoch ")]
    assert progress and progress[-1].startswith("epoch 3/3 [") and "100%" in progress[-1]
    assert "model " in out and "naive (last value)" in out and "SKILL VS NAIVE" in out
    assert "seasonal naive" in out and "mean of training" in out
    assert "naive forecast" in out  # the plain sentence
    run_id = _run_id(out)

    code, out, _ = rnnlab("list")
    assert code == 0 and run_id in out and "done" in out and "3/3" in out

    code, out, _ = rnnlab("show", run_id)
    assert code == 0 and "status    done, epoch 3/3" in out
    assert '"lookback": 5' in out and "last epochs" in out and "RMSE" in out

    files = {"--script": tmp_path / "x.py", "--model": tmp_path / "x.keras",
             "--predictions": tmp_path / "x.csv"}
    code, out, err = rnnlab("export", run_id, *[str(v) for pair in files.items() for v in pair])
    assert code == 0, err
    assert all(path.is_file() and path.stat().st_size > 0 for path in files.values())
    py_compile.compile(str(files["--script"]), doraise=True)
    assert files["--predictions"].read_text().startswith("split,kind,timestamp,step,actual,model")


def test_a_bad_column_is_one_error_line_and_no_run():
    code, out, err = rnnlab("train", "sample_data/noisy_sine.csv", "--target", "nope",
                            "--epochs", "1", *TINY)
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("error: ") and "nope" in err
    assert "Traceback" not in err
    code, out, _ = rnnlab("list")
    assert "No runs" in out


def test_submit_then_run_the_queue_in_the_foreground():
    code, out, err = rnnlab("submit", "noisy_sine.csv", "--target", "value", "--epochs", "2",
                            "--name", "queued from the CLI", *TINY)
    assert code == 0, err
    run_id = out.strip()
    code, out, _ = rnnlab("list")
    assert run_id in out and "queued" in out
    code, out, err = rnnlab("runner", "--concurrency", "1", "--until-idle")
    assert code == 0, err
    assert f"{run_id}  running -> done" in out or f"{run_id}  queued -> done" in out, out
    code, out, _ = rnnlab("show", run_id)
    assert "status    done, epoch 2/2" in out
    code, out, _ = rnnlab("rm", run_id)
    assert code == 0 and "deleted" in out
