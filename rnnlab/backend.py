"""Which Keras backend trains the runs, chosen before Keras is first imported.

Keras runs on JAX or on TensorFlow. On a CPU the tutorial's stacked LSTM trains faster on JAX
(on one core where TensorFlow takes two), and a new run shows its first loss sooner: the
figures are in bench/RESULTS.md ("Training speed", "Time to first loss point";
bench/train_speed.py, bench/first_loss.py). JAX is used when it is installed;
`RNNLAB_BACKEND=tensorflow` (or `jax`) chooses. Both paths are tested: the training step, the
gradient meter and the gradient-through-time probe have a version for each.

`use()` must run before the first `import keras` of the process; the engine's entry points
call it. Once Keras is loaded the choice is fixed, and `use()` reports what Keras runs on.
Nothing here imports Keras, TensorFlow or JAX (the web process calls none of it).
"""

from __future__ import annotations

import importlib.util
import os
import sys

from rnnlab.errors import ConfigError

BACKENDS = ("jax", "tensorflow")
JAX_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
COMPILE_CACHE_BYTES = 200 * 2 ** 20


def wanted() -> str:
    """RNNLAB_BACKEND if set, else jax when installed, else tensorflow."""
    raw = os.environ.get("RNNLAB_BACKEND", "").strip().lower()
    if raw:
        if raw not in BACKENDS:
            raise ConfigError(f"RNNLAB_BACKEND must be one of {', '.join(BACKENDS)}. "
                              f"Received: {raw!r}")
        return raw
    return "jax" if importlib.util.find_spec("jax") is not None else "tensorflow"


def threads() -> int:
    """Compute threads per worker: RNNLAB_THREADS (or RNNLAB_TF_THREADS), else 1; 0 = default."""
    raw = os.environ.get("RNNLAB_THREADS") or os.environ.get("RNNLAB_TF_THREADS") or "1"
    try:
        return max(0, int(raw))
    except ValueError:
        raise ConfigError(f"RNNLAB_THREADS must be a whole number >= 0. Received: {raw!r}") \
            from None


def use() -> str:
    """Point Keras at the wanted backend (if Keras is not loaded yet); the backend in use."""
    if "keras" in sys.modules:
        return active()
    name = wanted()
    os.environ["KERAS_BACKEND"] = name
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # TensorFlow's start-up chatter
    share_gpu()
    if name == "jax" and threads() == 1 and "jax" not in sys.modules:
        # one thread per job: a second barely speeds up a small recurrent model, and it
        # leaves the other core to the epoch writer, the web server or a second job
        flags = os.environ.get("XLA_FLAGS", "")
        if "multi_thread_eigen" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} {JAX_ONE_THREAD}".strip()
    return name


GPU_MEMORY_ENV = "RNNLAB_GPU_MEMORY_FRACTION"


def share_gpu() -> None:
    """On a GPU, each worker takes the memory it uses, not the whole card (before JAX or
    TensorFlow loads), so several small runs share one GPU and a waiting spare worker holds
    nothing. RNNLAB_GPU_MEMORY_FRACTION (e.g. 0.25) caps each JAX worker at that share of the
    card instead; settings already in the environment win. Harmless without a GPU.
    """
    fraction = os.environ.get(GPU_MEMORY_ENV, "").strip()
    if fraction:
        try:
            ok = 0.0 < float(fraction) <= 1.0
        except ValueError:
            ok = False
        if not ok:
            raise ConfigError(f"{GPU_MEMORY_ENV} must be a share of the card above 0 and at most "
                              f"1, such as 0.25. Received: {fraction!r}")
        os.environ.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", fraction)
    else:
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")   # JAX: grow as needed
    os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")            # TensorFlow: the same


def cache_compiled(folder) -> None:
    """Keep JAX's compiled training steps in `folder`, before JAX loads.

    A run shaped like an earlier one (a lesson run again, thirty students starting the same
    preset) then loads its compiled steps instead of compiling them, and shows its first loss
    sooner (bench/first_loss.py: "the same config again in that store"). Even the small
    compiles count: the weight initialisers of a 2-layer LSTM alone are many. The oldest
    entries go once the folder passes COMPILE_CACHE_BYTES (a few hundred KB per model shape).
    """
    if wanted() != "jax" or "jax" in sys.modules:
        return
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(folder))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(COMPILE_CACHE_BYTES))


def active() -> str:
    """The backend Keras runs on (imports Keras)."""
    import keras

    name = keras.backend.backend()
    if name not in BACKENDS:
        raise ConfigError(f"Keras is running on {name!r}; RNN Lab trains on "
                          f"{' or '.join(BACKENDS)}. Unset KERAS_BACKEND or set "
                          "RNNLAB_BACKEND=jax before starting.")
    if name == "jax":
        _keep_tensorflow_out()
        from rnnlab.nn import kernels

        kernels.install()
    return name


def keras():
    """Keras, on the chosen backend with rnnlab's loops plugged in: the one way the engine
    imports it, so whichever engine function a script calls first, the choice is made first."""
    use()
    active()
    import keras as loaded

    return loaded


_TF_KEPT_OUT = False


def _keep_tensorflow_out() -> None:
    """Stop Keras on JAX from importing TensorFlow just to ask whether it is installed.

    Keras seeds TensorFlow and checks for TensorFlow types (when seeding, cloning and saving)
    whenever TensorFlow is installed. A JAX worker would pay seconds and hundreds of MB for a
    library it never uses. Once TensorFlow is loaded anyway, Keras is left as it is.
    """
    global _TF_KEPT_OUT
    if _TF_KEPT_OUT or "tensorflow" in sys.modules:
        return
    try:
        from keras.src.utils import module_utils

        if module_utils.tensorflow._available is None:
            module_utils.tensorflow._available = False
    except (ImportError, AttributeError):  # another Keras layout: it may import TensorFlow
        pass
    _TF_KEPT_OUT = True

