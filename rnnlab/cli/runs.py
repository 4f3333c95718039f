"""The runs in the store: `rnnlab list`, `show`, `cancel`, `resume` (queued, or --here with a
progress bar) and `rm`."""

from __future__ import annotations

import json
import os
import time
from typing import TextIO

from rnnlab import jobs, lifecycle
from rnnlab.cli.progress import execute_here
from rnnlab.cli.results import exit_for, print_free_running, print_group, print_result
from rnnlab.cli.tables import duration, indent, model_test_score, num, progress_text, signed, table
from rnnlab.errors import ConfigError
from rnnlab.store import GROUP_ID_RE, RunStatus, Store


def cmd_list(args, store: Store, out: TextIO, err: TextIO) -> int:
    """Runs, newest first, with status and progress."""
    runs = store.list_runs(statuses=tuple(args.status) if args.status else None, limit=args.limit)
    if not runs:
        print(f"No runs in {store.home}. `rnnlab train FILE` or `rnnlab submit FILE` adds one.",
              file=out)
        return 0
    rows = [["RUN", "STATUS", "EPOCHS", "ELAPSED", "ETA", "TEST RMSE", "SKILL", "NAME"]]
    grouped = any(run.group_id for run in runs)
    if grouped:
        rows[0].append("GROUP")
    for run in runs:
        rows.append([run.id, run.status.value, progress_text(run), duration(run.elapsed),
                     duration(run.eta), num(model_test_score(run, "rmse")),
                     signed(run.result.skill_vs_naive), run.name]
                    + ([run.group_id] if grouped else []))
    print(table(rows, align="lllrrrrll"[:len(rows[0])]), file=out)
    if grouped:
        from rnnlab import groups

        print("\ngroups", file=out)
        for group_id in dict.fromkeys(run.group_id for run in runs if run.group_id):
            members = store.group_runs(group_id)
            print(f"  {group_id}  {members[0].group_label}: {groups.sentence(members)}", file=out)
    return 0


def cmd_show(args, store: Store, out: TextIO, err: TextIO) -> int:
    """One run: status, config, metrics, what the coach sees, last epochs, message or error.
    A group's id shows the group: its sentence and its runs."""
    if isinstance(args.run, str) and GROUP_ID_RE.match(args.run):
        print_group(store, args.run, out)
        return 0
    run = store.get_run(args.run)
    lines = [f"run       {run.id}" + (f"  {run.name}" if run.name else ""),
             f"status    {run.status.value}, epoch {progress_text(run)}, elapsed "
             f"{duration(run.elapsed)}" + (f", ETA {duration(run.eta)}" if run.eta else "")]
    if run.result.message:
        lines.append(f"message   {run.result.message}")
    if run.error:
        lines.append(f"error     {run.error}")
    if run.group_id:
        from rnnlab import groups

        members = store.group_runs(run.group_id)
        seed = (run.config.get("train") or {}).get("seed")
        lines.append(f"group     {run.group_id}  {run.group_label} (this run: seed {seed}, "
                     f"{len(members)} runs; `rnnlab show {run.group_id}` lists them)")
        lines.append(f"          {groups.sentence(members)}")
    lines.append(f"folder    {store.run_dir(run.id)}")
    print("\n".join(lines), file=out)
    print("\nconfig\n" + indent(json.dumps(run.config, indent=2, sort_keys=True)), file=out)
    if run.result.metrics:
        print("\nresult", file=out)
        print_result(run, out, header=False)
        print_free_running(store, run.id, out)
    _print_coach(store, run.id, out)
    _print_epochs(store.epochs(run.id)[-args.epochs:], out)
    if run.traceback:
        tail = run.traceback.strip().splitlines()[-args.traceback_lines:]
        print("\ntraceback (last lines)\n" + indent("\n".join(tail)), file=out)
    return 0


def _print_coach(store: Store, run_id: str, out: TextIO) -> None:
    """The coach's diagnoses with their try-this as settings; nothing when it sees none."""
    from rnnlab import coach  # numpy and pandas: only for the commands that need them

    found = coach.diagnose_run(store, run_id)
    if not found:
        return
    print("\nWhat the coach sees", file=out)
    for k, d in enumerate(found, 1):
        lines = [f"{k}. {d.title}", d.evidence, d.advice]
        if d.try_this:
            lines.append(f"Try this: {d.try_label} (settings: {d.settings})")
        print(indent(lines[0] + "".join("\n   " + line for line in lines[1:])), file=out)


def _print_epochs(rows: list[dict], out: TextIO) -> None:
    if not rows:
        return
    lines = [["EPOCH", "TRAIN LOSS", "VAL LOSS", "SECONDS", "GRAD NORM"]]
    lines += [[r["epoch"], num(r["train_loss"]), num(r["val_loss"]), num(r["seconds"], 2),
               num(r["grad_norm_mean"])] for r in rows]
    print("\nlast epochs\n" + indent(table(lines)), file=out)


def cmd_cancel(args, store: Store, out: TextIO, err: TextIO) -> int:
    """Cancel queued runs at once, running ones at their next batch."""
    for run_id in args.runs:
        status = jobs.cancel(store, run_id)
        what = "cancelled" if status == RunStatus.CANCELLED else "asked to stop at its next batch"
        print(f"{run_id}: {what}", file=out)
    return 0


def cmd_resume(args, store: Store, out: TextIO, err: TextIO) -> int:
    """Queue interrupted or cancelled runs to continue from their checkpoints; with --here,
    continue one run in this process, with a progress bar (no runner needed)."""
    if args.here and len(args.runs) != 1:
        raise ConfigError("--here continues one run at a time: give one run id.")
    for run_id in args.runs:
        epoch = jobs.resume(store, run_id)
        where = f"from epoch {epoch}" if epoch else "from the start"
        if args.here:
            return _continue_here(store, run_id, where, out, err)
        print(f"{run_id}: queued to continue {where}", file=out)
    return 0


def _continue_here(store: Store, run_id: str, where: str, out: TextIO, err: TextIO) -> int:
    """Train a run just queued to resume, here and now, as `rnnlab train` does."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    now = time.time()
    if not lifecycle.start(store, run_id, pid=os.getpid(), heartbeat_at=now):
        print(f"{run_id}: a runner took it first; `rnnlab list` shows its progress.", file=out)
        return 0
    store.add_event(run_id, "foreground", "Continued in the foreground by `rnnlab resume --here`.")
    print(f"Run {run_id}: continuing {where} (Ctrl-C stops it; `rnnlab resume {run_id}` "
          "continues).", file=err, flush=True)
    resume = bool(store.get_run(run_id).result.resume)
    run = execute_here(store, run_id, err, resume=resume)
    print_result(run, out)
    return exit_for(run, err)


def cmd_rm(args, store: Store, out: TextIO, err: TextIO) -> int:
    """Delete runs: their rows and their folders."""
    for run_id in args.runs:
        jobs.delete(store, run_id)
        print(f"{run_id}: deleted", file=out)
    return 0
