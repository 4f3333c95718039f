"""A model downloaded from RNN Lab, brought back here and now as a new run: `rnnlab evaluate`
scores it on a file, `rnnlab continue` trains it further (rnnlab.comeback)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

from rnnlab.cli.progress import execute_here
from rnnlab.cli.results import exit_for, print_result
from rnnlab.config import RunConfig
from rnnlab.store import Store


def cmd_evaluate(args, store: Store, out: TextIO, err: TextIO) -> int:
    """Score a model downloaded from RNN Lab on a file, here and now, as a new run."""
    from rnnlab import comeback

    brought, raw = comeback.inspect_file(args.model)
    cfg = comeback.evaluate_config(brought, args.file, test_fraction=args.test,
                                   name=args.name or "")
    return _from_model_here(store, brought, raw, cfg, "Evaluating", out, err)


def cmd_continue(args, store: Store, out: TextIO, err: TextIO) -> int:
    """Train a model downloaded from RNN Lab further on a file, here and now, as a new run."""
    from rnnlab import comeback

    brought, raw = comeback.inspect_file(args.model)
    cfg = comeback.continue_config(brought, args.file, epochs=args.epochs,
                                   learning_rate=args.lr, test_fraction=args.test,
                                   name=args.name or "")
    return _from_model_here(store, brought, raw, cfg,
                            f"Training {cfg.train.epochs} more epochs of", out, err)


def _from_model_here(store: Store, brought, raw: bytes, cfg: RunConfig, doing: str,
                     out: TextIO, err: TextIO) -> int:
    from rnnlab import comeback

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    store.check_writable()
    print(f"Preparing {cfg.data.source} with the model's columns and scaling ...", file=err,
          flush=True)
    run_id, prepared = comeback.register(store, brought, raw, cfg, foreground=True)
    store.add_event(run_id, "foreground", f"Started in the foreground by `rnnlab "
                                          f"{cfg.from_model.action}`.")
    print(f"Run {run_id}: {doing} the model of run {brought.run_name or '(unnamed)'} on "
          f"{Path(cfg.data.source).name}.", file=err, flush=True)
    run = execute_here(store, run_id, err, prepared=prepared)
    print_result(run, out)
    if run.result.from_model:
        print(run.result.from_model, file=out)
    return exit_for(run, err)
