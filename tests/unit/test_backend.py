"""Choosing the Keras backend before Keras loads (rnnlab.backend), without importing it."""

import json
import subprocess
import sys

import pytest

from rnnlab import backend
from rnnlab.errors import ConfigError


def test_the_backend_named_in_the_environment_wins(monkeypatch):
    monkeypatch.setenv("RNNLAB_BACKEND", " TensorFlow ")
    assert backend.wanted() == "tensorflow"
    monkeypatch.setenv("RNNLAB_BACKEND", "jax")
    assert backend.wanted() == "jax"


def test_without_a_choice_jax_is_used_when_installed(monkeypatch):
    monkeypatch.delenv("RNNLAB_BACKEND", raising=False)
    monkeypatch.setattr(backend.importlib.util, "find_spec", lambda name: object())
    assert backend.wanted() == "jax"
    monkeypatch.setattr(backend.importlib.util, "find_spec", lambda name: None)
    assert backend.wanted() == "tensorflow"


def test_an_unknown_backend_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv("RNNLAB_BACKEND", "torch")
    with pytest.raises(ConfigError, match=r"RNNLAB_BACKEND must be one of jax, tensorflow\. "
                                          r"Received: 'torch'"):
        backend.wanted()


@pytest.mark.parametrize("env, expected", [({}, 1), ({"RNNLAB_THREADS": "0"}, 0),
                                           ({"RNNLAB_TF_THREADS": "2"}, 2),
                                           ({"RNNLAB_THREADS": "3", "RNNLAB_TF_THREADS": "2"}, 3)])
def test_threads(monkeypatch, env, expected):
    monkeypatch.delenv("RNNLAB_THREADS", raising=False)
    monkeypatch.delenv("RNNLAB_TF_THREADS", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert backend.threads() == expected


def test_threads_not_a_number(monkeypatch):
    monkeypatch.setenv("RNNLAB_THREADS", "many")
    with pytest.raises(ConfigError, match="RNNLAB_THREADS must be a whole number >= 0"):
        backend.threads()


def _use_in_child(env: dict) -> dict:
    code = ("import json, os, sys; from rnnlab import backend; name = backend.use(); "
            "print(json.dumps({'name': name, 'keras_backend': os.environ['KERAS_BACKEND'], "
            "'xla': os.environ.get('XLA_FLAGS', ''), "
            "'loaded': sorted(m for m in ('keras', 'jax', 'tensorflow') if m in sys.modules)}))")
    clean = {k: v for k, v in __import__("os").environ.items()
             if k not in ("KERAS_BACKEND", "XLA_FLAGS", "RNNLAB_BACKEND", "RNNLAB_THREADS",
                          "RNNLAB_TF_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True,
                         text=True, timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_use_points_keras_at_the_backend_without_loading_anything():
    jax = _use_in_child({"RNNLAB_BACKEND": "jax"})
    assert jax == {"name": "jax", "keras_backend": "jax", "xla": backend.JAX_ONE_THREAD,
                   "loaded": []}
    tf = _use_in_child({"RNNLAB_BACKEND": "tensorflow"})
    assert (tf["name"], tf["keras_backend"], tf["xla"], tf["loaded"]) == (
        "tensorflow", "tensorflow", "", [])
    all_threads = _use_in_child({"RNNLAB_BACKEND": "jax", "RNNLAB_THREADS": "0"})
    assert all_threads["xla"] == ""


def test_compiled_steps_are_cached_in_the_given_folder_on_jax_only(monkeypatch, tmp_path):
    for var in ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
                "JAX_COMPILATION_CACHE_MAX_SIZE"):
        monkeypatch.setenv(var, "")   # recorded, so that what cache_compiled sets is undone
        monkeypatch.delenv(var)
    monkeypatch.delitem(sys.modules, "jax", raising=False)   # JAX not loaded yet
    monkeypatch.setenv("RNNLAB_BACKEND", "tensorflow")
    backend.cache_compiled(tmp_path)
    assert "JAX_COMPILATION_CACHE_DIR" not in __import__("os").environ
    monkeypatch.setenv("RNNLAB_BACKEND", "jax")
    backend.cache_compiled(tmp_path)
    env = __import__("os").environ
    assert env["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path)
    assert float(env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]) == 0   # small ones too
    assert int(env["JAX_COMPILATION_CACHE_MAX_SIZE"]) == backend.COMPILE_CACHE_BYTES > 0


GPU_KEYS = ("XLA_PYTHON_CLIENT_PREALLOCATE", "XLA_PYTHON_CLIENT_MEM_FRACTION",
            "TF_FORCE_GPU_ALLOW_GROWTH", backend.GPU_MEMORY_ENV)


@pytest.mark.parametrize("given, expected", [
    ({}, {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", "TF_FORCE_GPU_ALLOW_GROWTH": "true"}),
    ({backend.GPU_MEMORY_ENV: "0.25"},
     {"XLA_PYTHON_CLIENT_MEM_FRACTION": "0.25", "TF_FORCE_GPU_ALLOW_GROWTH": "true"}),
    ({"XLA_PYTHON_CLIENT_PREALLOCATE": "true"},      # the environment's own choice wins
     {"XLA_PYTHON_CLIENT_PREALLOCATE": "true", "TF_FORCE_GPU_ALLOW_GROWTH": "true"}),
])
def test_a_worker_never_takes_the_whole_gpu(monkeypatch, given, expected):
    import os

    for key in GPU_KEYS:
        monkeypatch.delenv(key, raising=False)
    for key, value in given.items():
        monkeypatch.setenv(key, value)
    backend.share_gpu()
    assert {k: os.environ[k] for k in GPU_KEYS[:3] if k in os.environ} == expected


@pytest.mark.parametrize("bad", ["0", "1.5", "half"])
def test_a_gpu_share_that_is_not_a_share_is_refused(monkeypatch, bad):
    monkeypatch.setenv(backend.GPU_MEMORY_ENV, bad)
    with pytest.raises(ConfigError, match="must be a share of the card above 0 and at most 1"):
        backend.share_gpu()
