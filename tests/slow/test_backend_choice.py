"""The backend is chosen before Keras loads, whichever engine function a script calls first."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

FIRST_CALLS = {
    "the recorder class": "from rnnlab.nn.callbacks import RunRecorder",
    "the loss of a model": ("from rnnlab.nn import gradients\n"
                            "try:\n    gradients.loss_function(None)\nexcept Exception:\n    pass"),
    "a model": ("from rnnlab.config import ModelConfig, TrainConfig\n"
                "from rnnlab.nn.model import build_model\n"
                "build_model(ModelConfig(n_layers=1, units=2, lookback=3), TrainConfig(), 1)"),
}


@pytest.mark.parametrize("first", list(FIRST_CALLS))
def test_whichever_function_comes_first_the_run_trains_on_jax_with_rnnlabs_loops(first):
    code = (FIRST_CALLS[first] + "\nimport keras\nfrom rnnlab.nn import kernels\n"
            "print('BACKEND', keras.backend.backend(), 'LOOPS', bool(kernels.KERAS_OWN))")
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "RNNLAB_BACKEND")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "BACKEND jax LOOPS True" in proc.stdout, proc.stdout + proc.stderr[-1000:]
