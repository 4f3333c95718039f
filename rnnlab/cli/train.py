"""`rnnlab train` (here and now, with a progress bar) and `rnnlab submit` (queued for a runner):
one run, or a group of them (--seeds, --sweep, --backtest)."""

from __future__ import annotations

import os
import time
from typing import TextIO

from rnnlab import jobs, lifecycle
from rnnlab.cli.exits import EXIT_RUN_FAILED
from rnnlab.cli.options import build_config, seed_count, sweep_axes
from rnnlab.cli.progress import execute_here
from rnnlab.cli.results import exit_for, print_advice, print_group, print_result
from rnnlab.config import RunConfig
from rnnlab.store import RunStatus, Store


def cmd_train(args, store: Store, out: TextIO, err: TextIO) -> int:
    """Train one run here, with a progress bar, then print the result table."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's info lines would bury the bar
    store.check_writable()
    reasons: dict = {}
    cfg = build_config(args, reasons)
    print_advice(cfg, reasons, err)
    if args.backtest:
        print(f"Preparing {cfg.data.source} ...", file=err, flush=True)
        group_id, run_ids = jobs.submit_backtest(store, cfg, args.backtest)
        return _train_group(group_id, run_ids, store, out, err)
    axes = sweep_axes(args)
    if axes:
        print(f"Preparing {cfg.data.source} ...", file=err, flush=True)
        group_id, run_ids = jobs.submit_sweep(store, cfg, axes, seed_count(args))
        return _train_group(group_id, run_ids, store, out, err)
    if seed_count(args) > 1:
        return _train_seeds(cfg, args.seeds, store, out, err)
    print(f"Preparing {cfg.data.source} ...", file=err, flush=True)
    prepared = jobs.check(cfg)
    run_id = lifecycle.create_running(store, cfg.to_dict(), data_sha256=prepared.data_sha256,
                                      name=cfg.name, epochs_total=cfg.train.epochs)
    now = time.time()
    store.update_run(run_id, pid=os.getpid(), started_at=now, heartbeat_at=now)
    store.add_event(run_id, "foreground", "Trained in the foreground by `rnnlab train`.")
    print(f"Run {run_id}: training {cfg.train.epochs} epochs (Ctrl-C stops it; "
          f"`rnnlab resume {run_id}` continues).", file=err, flush=True)
    run = execute_here(store, run_id, err, prepared=prepared)
    print_result(run, out)
    return exit_for(run, err)


def _train_seeds(cfg: RunConfig, seeds: int, store: Store, out: TextIO, err: TextIO) -> int:
    """Queue the seeds group, then train its runs here (`_train_group`)."""
    print(f"Preparing {cfg.data.source} ...", file=err, flush=True)
    group_id, run_ids = jobs.submit_seeds(store, cfg, seeds)
    print(f"Group {group_id}: {seeds} runs with the seeds {cfg.train.seed}-"
          f"{cfg.train.seed + seeds - 1}, {cfg.train.epochs} epochs each.", file=err, flush=True)
    return _train_group(group_id, run_ids, store, out, err)


def _train_group(group_id: str, run_ids: list[str], store: Store, out: TextIO,
                 err: TextIO) -> int:
    """Train a queued group's runs here one after another (a runner that takes one first
    trains it instead); the group's sentence and runs at the end."""
    seeds = len(run_ids)
    for k, run_id in enumerate(run_ids, 1):
        now = time.time()
        if not lifecycle.start(store, run_id, pid=os.getpid(), started_at=now, heartbeat_at=now):
            print(f"Run {run_id}: a runner took it; `rnnlab list` shows its progress.", file=err)
            continue
        store.add_event(run_id, "foreground", "Trained in the foreground by `rnnlab train`.")
        print(f"Run {run_id} ({k} of {seeds}, {store.get_run(run_id).name}):", file=err,
              flush=True)
        execute_here(store, run_id, err)
    print_group(store, group_id, out)
    runs = store.group_runs(group_id)
    return 0 if all(r.status == RunStatus.DONE for r in runs) else EXIT_RUN_FAILED


def cmd_submit(args, store: Store, out: TextIO, err: TextIO) -> int:
    """Queue a run and return; a runner (`rnnlab runner` or the dashboard) trains it."""
    store.check_writable()
    reasons: dict = {}
    cfg = build_config(args, reasons)
    print_advice(cfg, reasons, err)
    if args.backtest:
        group_id, run_ids = jobs.submit_backtest(store, cfg, args.backtest)
        print("\n".join(run_ids), file=out)
        print(f"Queued backtest {group_id}: {len(run_ids)} folds. `rnnlab runner` (or the "
              f"dashboard) trains them; `rnnlab show {group_id}` shows the folds.", file=err)
        return 0
    axes = sweep_axes(args)
    if axes:
        group_id, run_ids = jobs.submit_sweep(store, cfg, axes, seed_count(args))
        print("\n".join(run_ids), file=out)
        print(f"Queued sweep {group_id}: {len(run_ids)} runs. `rnnlab runner` (or the dashboard) "
              f"trains them; `rnnlab show {group_id}` shows the grid.", file=err)
        return 0
    if seed_count(args) > 1:
        group_id, run_ids = jobs.submit_seeds(store, cfg, args.seeds)
        print("\n".join(run_ids), file=out)
        print(f"Queued group {group_id}: {len(run_ids)} runs with the seeds {cfg.train.seed}-"
              f"{cfg.train.seed + len(run_ids) - 1}. `rnnlab runner` (or the dashboard) trains "
              f"them; `rnnlab show {group_id}` shows the group.", file=err)
        return 0
    run_id = jobs.submit(store, cfg, reuse=not args.no_reuse)
    print(run_id, file=out)
    run = store.get_run(run_id)
    if run.repeat_of:
        print(store.events(run_id)[0]["message"], file=err)
    else:
        print("Queued. `rnnlab runner` (or the dashboard) trains it; `rnnlab list` shows "
              "progress.", file=err)
    return 0
