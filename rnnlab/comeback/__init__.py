"""Models come back: a model downloaded from RNN Lab, uploaded again to evaluate or to train on.

A run's "Model for new data (.zip)" download (`rnnlab.bundle`) holds the network and everything
between the data and it: the input columns, lookback, horizon, the target transform, the scaler
fitted on the training rows, and the run's settings. Uploaded again, it starts a new run that

- evaluates it: scores the model on a file with the same columns against the baselines, as a
  trained run is scored (the same predictions.csv, forecast.csv and summary), without training;
- continues it: trains the model's settings on a file, starting from the uploaded weights
  (`start_from`, called where `rnnlab.train` builds the network; the optimizer starts afresh).

Either way the file goes through the model's own preprocessing (`prepare_with`): the scaler is
never fitted again, because the network learned in those units. The rows are split as in the
model's own run (its validation and test shares, or the shares given): the model is scored on the
last part, and the rows before it fit the baselines that need fitting (linear autoregression, the
mean). The same file as the model's run therefore gives the same test predictions.

Safety: `inspect_upload` looks at a file before anything reads it as a model. The size first (at
most MAX_MODEL_MB, before reading when the size is known), then that it is a zip as RNN Lab makes
them: no member name that leaves its folder, no member that unpacks past the size limit,
preprocessing.json of a known format, and either a model.keras that is itself a Keras zip
without code layers or a model.npz of plain arrays (read with allow_pickle=False). Nothing is
ever unpickled, and Keras loads with safe_mode=True, so no code in a model file runs. A refusal
is a `ModelRefused` saying what the file is and which file to upload instead.

The web process imports this module: Keras is imported inside the worker-side functions only
(`evaluation`, `start_from`).

This module makes the new run (its settings, `register`); the pieces: `rnnlab.comeback.model`
(the limits, `ModelRefused`, `Brought`), `rnnlab.comeback.check` (the checks of an upload),
`rnnlab.comeback.keep` (kept uploads), `rnnlab.comeback.prepare` (the model's preprocessing)
and `rnnlab.comeback.keras_side` (the worker's side).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from rnnlab.comeback.check import inspect_file, inspect_upload
from rnnlab.comeback.keep import keep, kept_path, load_kept
from rnnlab.comeback.keras_side import evaluation, param_count, start_from
from rnnlab.comeback.model import MAX_MODEL_BYTES, MAX_MODEL_MB, Brought, ModelRefused
from rnnlab.comeback.prepare import prepare, prepare_with
from rnnlab.config import DataConfig, ModelConfig, RunConfig
from rnnlab.errors import ConfigError
from rnnlab.store import Store

__all__ = ["MAX_MODEL_BYTES", "MAX_MODEL_MB", "Brought", "ModelRefused", "base_config",
           "continue_config", "default_test_fraction", "evaluate_config", "evaluation",
           "inspect_file", "inspect_upload", "kept_path", "load_kept", "param_count", "prepare",
           "prepare_with", "register", "start_from"]


def base_config(brought: Brought) -> RunConfig:
    """The settings of the run that trained the model; for an older zip, what its
    preprocessing.json tells (enough to evaluate it, not to rebuild its network)."""
    if brought.run_config is not None:
        return brought.run_config
    s = brought.settings
    features = []
    for column in brought.inputs[1:]:
        base = column.split("=", 1)[0] if "=" in column else column
        if base not in features:
            features.append(base)
    data = DataConfig(source=str((s.get("trained_on") or {}).get("source") or "model"),
                      target=brought.target, features=tuple(features),
                      date_column=s.get("date_column"), scaling=s["scaler"]["kind"],
                      categorical="onehot" if any("=" in c for c in brought.inputs) else "exclude",
                      transform=brought.transform, season=s.get("season"))
    model = ModelConfig(cell=brought.cell, lookback=brought.lookback, horizon=brought.horizon)
    return RunConfig(data=data, model=model, name=brought.run_name)


def default_test_fraction(brought: Brought) -> float:
    """The test share of the model's own run (0.2 when it had a separate test file)."""
    data = base_config(brought).data
    return 0.2 if data.test_source else float(data.test_fraction)


def _data_for(brought: Brought, source: str, test_fraction: float | None) -> dict:
    data = base_config(brought).data
    fraction = default_test_fraction(brought) if test_fraction is None else float(test_fraction)
    return {"source": str(source), "test_source": None, "test_fraction": fraction,
            "val_fraction": data.val_fraction}


def _short_name(source: str) -> str:
    """A file's name without its folder (uploads are kept under a folder named by a hash)."""
    return Path(str(source)).name or str(source)


def evaluate_config(brought: Brought, source: str, *, test_fraction: float | None = None,
                    name: str = "") -> RunConfig:
    """A run that scores the model on `source` (its last test_fraction of rows), untrained."""
    label = brought.run_name or "uploaded model"
    return base_config(brought).replace(
        data=_data_for(brought, source, test_fraction),
        name=(name or f"{label} evaluated on {_short_name(source)}")[:200],
        from_model={"bundle": brought.sha256, "action": "evaluate"})


def continue_config(brought: Brought, source: str, *, epochs: int,
                    learning_rate: float | None = None, test_fraction: float | None = None,
                    name: str = "") -> RunConfig:
    """A run with the model's settings on `source` that starts from its trained weights."""
    why_not = brought.can_continue
    if why_not:
        raise ModelRefused(why_not)
    train = {"epochs": int(epochs)}
    if learning_rate is not None:
        train["learning_rate"] = float(learning_rate)
    label = brought.run_name or "uploaded model"
    return base_config(brought).replace(
        data=_data_for(brought, source, test_fraction), train=train,
        name=(name or f"{label} continued on {_short_name(source)}")[:200],
        from_model={"bundle": brought.sha256, "action": "continue"})


def register(store: Store, brought: Brought, raw: bytes, run_cfg: RunConfig, *,
             foreground: bool = False, owner: str = "", room: str = ""):
    """Check the data against the model, keep the upload and add the run: queued for a runner,
    or running (foreground, for `rnnlab evaluate` and `rnnlab continue`); (run id, Prepared).
    `owner` and `room` say who queued it, as for a trained run (`jobs.submit`), and the same
    cap on one person's waiting runs applies."""
    from rnnlab import jobs, lifecycle

    if run_cfg.from_model is None or run_cfg.from_model.bundle != brought.sha256:
        raise ConfigError("The run's settings do not name this uploaded model.")
    store.check_writable()
    if not foreground:
        jobs.check_turns(store, owner)
    run_cfg = jobs.absolute_sources(run_cfg)
    prepared = prepare_with(brought, run_cfg.data)
    keep(store, brought, raw)
    evaluating = run_cfg.from_model.action == "evaluate"
    values = dict(data_sha256=prepared.data_sha256, name=run_cfg.name,
                  epochs_total=0 if evaluating else run_cfg.train.epochs)
    what = "evaluate" if evaluating else "continue training"
    source = Path(run_cfg.data.source).name
    if foreground:
        run_id = lifecycle.create_running(store, run_cfg.to_dict(), **values)
        now = time.time()
        store.update_run(run_id, pid=os.getpid(), started_at=now, heartbeat_at=now)
    else:
        run_id = store.create_run(run_cfg.to_dict(), owner=owner, room=room, **values)
    store.add_event(run_id, "queued", f"Queued to {what} the uploaded model {brought.name} "
                                      f"(run {brought.run_name or 'unnamed'}) on {source}.")
    if not foreground:
        jobs._wake_runners(store)
    return run_id, prepared
