"""The TensorFlow path of the engine: the same oracle tests, run with RNNLAB_BACKEND=tensorflow.

The suite trains on the default backend (JAX when installed). Keras picks its backend once per
process, so the TensorFlow training step, meter and probe are checked in a child pytest.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
CHECKS = [
    f"{HERE / 'test_gradients.py'}",
    f"{HERE / 'test_train.py'}::test_every_epoch_is_recorded_with_its_traces_and_files",
    f"{HERE / 'test_train.py'}::test_exploding_gradients_stop_the_run_with_advice",
    f"{HERE / 'test_train.py'}::test_cancel_stops_and_resume_continues_to_the_end",
    f"{HERE / 'test_train.py'}::test_cancel_between_batches_drops_the_partial_epoch",
    f"{HERE / 'test_train.py'}::test_early_stopping_keeps_the_best_weights",
]


def test_gradient_and_training_oracles_hold_on_tensorflow(tmp_path):
    env = {**os.environ, "RNNLAB_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("KERAS_BACKEND", None)
    probe = "from rnnlab import backend; backend.use(); print(backend.active())"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "tensorflow", out.stderr[-2000:]
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "--basetemp", str(tmp_path / "t"), *CHECKS],
                            env=env, capture_output=True, text=True, timeout=600,
                            cwd=HERE.parents[1])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
