"""The built wheel installed into a fresh virtual environment, outside the checkout, is a
working rnnlab: `rnnlab train --preset seed-tutorial --epochs 1` trains and reports.

The fresh environment installs only the wheel (`--no-deps`); its dependencies (Keras, JAX,
pandas, ...) come from the test environment's site-packages through a plain path line, which
adds the folder but not its .pth files, so the checkout's editable install is not seen. The
command runs in an empty folder with no PYTHONPATH: it can only find the installed package.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from wheels import build_wheel

pytestmark = pytest.mark.slow


def test_the_wheel_alone_in_a_fresh_venv_trains_the_seed_tutorial(tmp_path):
    wheel = build_wheel(tmp_path)

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "_deps_from_tests.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install",
                                "--no-deps", "--no-index", "-q", str(wheel)],
                               capture_output=True, text=True, timeout=300)
    if installed.returncode != 0 and "no such option: --python" in installed.stderr:
        installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps",
                                    "--no-index", "-q", "--target", str(site), str(wheel)],
                                   capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-3000:]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": f"{env_dir / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path),
           "RNNLAB_HOME": str(tmp_path / "home"), "RNNLAB_CLASSICAL": "0"}
    where = subprocess.run([str(py), "-c", "import rnnlab; print(rnnlab.__file__)"], cwd=elsewhere,
                           env=env, capture_output=True, text=True, timeout=120)
    assert where.returncode == 0, where.stderr[-2000:]
    assert Path(where.stdout.strip()).is_relative_to(site), where.stdout  # not the checkout
    done = subprocess.run([str(env_dir / "bin" / "rnnlab"), "train", "--preset", "seed-tutorial",
                           "--epochs", "1"], cwd=elsewhere, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-3000:])
    print(done.stdout[-1500:])
    assert "naive" in done.stdout.lower() and "rmse" in done.stdout.lower(), done.stdout[-2000:]
    assert list((tmp_path / "home").rglob("predictions.csv")), "no predictions were written"
