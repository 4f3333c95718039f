"""The worker's side of an uploaded model: loading its network (Keras with safe_mode, imported
inside the functions), scoring it untrained, and starting a new run from its weights."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from rnnlab.comeback.keep import load_kept, model_bytes
from rnnlab.comeback.model import DOWNLOAD_FIX, ESN_FILE, MODEL_FILE, Brought, ModelRefused
from rnnlab.config import RunConfig
from rnnlab.store import RunStatus, Store


def evaluation(store: Store, run_id: str, run_cfg: RunConfig):
    """The kept model, copied into the run's folder and loaded, as a finished TrainOutcome (no
    epochs) whose predict function the worker scores as it scores a trained run."""
    from rnnlab.train import TrainOutcome, predict_function

    brought, raw = load_kept(store, run_cfg.from_model.bundle)
    path = store.artefact(run_id, brought.model_file)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_bytes(model_bytes(raw, brought))
    os.replace(tmp, path)
    if brought.model_file == ESN_FILE:
        from rnnlab.nn.esn import EchoStateNetwork

        network = EchoStateNetwork.load(path)
        predict = network.predict
    else:
        network = load_network(path, brought)
        predict = predict_function(network)
    message = (f"Evaluated the uploaded model of the run {brought.run_name or '(unnamed)'} on "
               f"{Path(run_cfg.data.source).name}; it was not trained here.")
    store.add_event(run_id, "evaluated", message)
    return TrainOutcome(RunStatus.DONE, 0, message, model=network, predict=predict)


def param_count(network) -> int | None:
    """Trainable parameters of a loaded network (the readout of an echo state network)."""
    if hasattr(network, "count_params"):
        return int(network.count_params())
    w_out = getattr(network, "w_out", None)
    return int(np.size(w_out)) if w_out is not None else None


def load_network(path: Path, brought: Brought):
    """keras.saving.load_model with safe_mode (no code from the file runs), checked against the
    settings; ModelRefused in plain words when Keras cannot load it."""
    from rnnlab import backend

    keras = backend.keras()
    try:
        network = keras.saving.load_model(Path(path), safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises ValueError, TypeError, OSError... for a bad file
        if "safe_mode" in str(exc) or "unsafe" in str(exc).lower():
            raise ModelRefused(f"{brought.name} holds Python code inside its model, which RNN Lab "
                               f"never runs from an uploaded file. {DOWNLOAD_FIX}") from None
        raise ModelRefused(f"The network in {brought.name} cannot be loaded "
                           f"({type(exc).__name__}: {str(exc)[:300]}). {DOWNLOAD_FIX}") from None
    shape = tuple(network.inputs[0].shape)[1:]
    out = network.outputs[0].shape[-1]
    if shape != (brought.lookback, len(brought.inputs)) or out != brought.horizon:
        raise ModelRefused(f"The network in {brought.name} reads {shape} and forecasts {out} "
                           f"step(s), but its settings say ({brought.lookback}, "
                           f"{len(brought.inputs)}) and {brought.horizon}: the zip was edited. "
                           f"{DOWNLOAD_FIX}")
    return network


def start_from(model, store: Store, run_id: str, run_cfg: RunConfig) -> None:
    """Set a freshly built network's weights to the kept model's, layer by layer (by name);
    ModelRefused when the two do not have the same layers and shapes."""
    brought, raw = load_kept(store, run_cfg.from_model.bundle)
    with tempfile.TemporaryDirectory(prefix="rnnlab-model-") as folder:
        path = Path(folder) / MODEL_FILE
        path.write_bytes(model_bytes(raw, brought))
        loaded = load_network(path, brought)
    copied = 0
    for layer in loaded.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        try:
            target = model.get_layer(layer.name)
        except ValueError:
            target = None
        mine = target.get_weights() if target is not None else []
        if target is None or [w.shape for w in mine] != [w.shape for w in weights]:
            raise ModelRefused(f"The network in {brought.name} does not fit the settings of this "
                               f"run (its layer {layer.name!r} differs), so training cannot start "
                               "from it. Start the run from the Bring a model page again, "
                               "without changing the model's settings.")
        target.set_weights(weights)
        copied += 1
    if not copied:
        raise ModelRefused(f"The network in {brought.name} holds no trained weights. "
                           f"{DOWNLOAD_FIX}")
    store.add_event(run_id, "from model", f"Started from the trained weights of the uploaded "
                                          f"model of the run {brought.run_name or '(unnamed)'}; "
                                          "the optimizer starts afresh.")
