"""Report and exports of a really trained tiny run, through the `rnnlab` command."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rnnlab.store import Store

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TINY = ["--lookback", "5", "--layers", "1", "--units", "4", "--batch-size", "32", "--seed", "2",
        "--epochs", "3", "--name", "tiny <b>run</b>"]


def rnnlab(*args, timeout=300):
    proc = subprocess.run([sys.executable, "-m", "rnnlab.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO, env=os.environ.copy())
    return proc.returncode, proc.stdout, proc.stderr


def test_report_and_exports_of_a_trained_run(tmp_path):
    code, out, err = rnnlab("train", "sample_data/noisy_sine.csv", "--target", "value", *TINY)
    assert code == 0, err
    run_id = re.search(r"r\d{8}-\d{6}-[0-9a-f]{6}", out).group(0)
    store = Store(os.environ["RNNLAB_HOME"])
    summary = store.get_run(run_id).summary

    page_path = tmp_path / "tiny.html"
    code, out, err = rnnlab("report", run_id, "-o", str(page_path))
    assert code == 0, err
    page = page_path.read_text()
    keys = re.findall(r'class="rnnlab-chart" id="chart-([^"]+)"', page)
    series = store.through_time(run_id)
    assert "input" in series
    assert set(keys) == {"data", "loss", "pred_one", "resid_one", "pred_free", "forecast",
                         "metrics", "grad_tensor", "grad_steps",
                         *(f"grad_time_{name}" for name in series)}
    rmse = summary["metrics"]["test"]["model"]["rmse"]
    assert f'data-metric="rmse" data-value="{rmse!r}"' in page
    assert "tiny &lt;b&gt;run&lt;/b&gt;" in page and "tiny <b>run</b>" not in page
    assert page_path.stat().st_size < 5_000_000

    args = ["export", run_id]
    if _has("tensorboardX"):
        args += ["--tensorboard", str(tmp_path / "tb")]
    if _has("mlflow"):
        args += ["--mlflow", str(tmp_path / "mlruns")]
    if len(args) > 2:
        code, out, err = rnnlab(*args)
        assert code == 0, err
        if _has("tensorboardX"):
            assert list((tmp_path / "tb").glob("events.out.tfevents.*"))
        if _has("mlflow"):
            assert "mlflow" in out and (tmp_path / "mlruns").is_dir()


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
