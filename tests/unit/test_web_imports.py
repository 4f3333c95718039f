"""The web process never imports TensorFlow: each web-side module, in a fresh interpreter."""

import importlib.util
import subprocess
import sys

import pytest

WEB_SIDE = ["rnnlab.config", "rnnlab.store", "rnnlab.errors", "rnnlab.data", "rnnlab.samples",
            "rnnlab.windows", "rnnlab.figures", "rnnlab.evaluate", "rnnlab.jobs", "rnnlab.codegen",
            "rnnlab.lessons", "rnnlab.model_info", "rnnlab.cli", "rnnlab.ui", "rnnlab.validate",
            "rnnlab.cells"]


@pytest.mark.parametrize("module", WEB_SIDE)
def test_module_does_not_pull_in_tensorflow(module):
    assert importlib.util.find_spec(module) is not None, f"{module} is missing"
    code = (f"import sys, {module}; "
            "bad = sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules); "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"{module} imported {proc.stdout.strip()} {proc.stderr[-500:]}"
