"""`rnnlab`: train, queue and inspect runs from a terminal.

    rnnlab train FILE --target COL [--cell lstm --layers 2 --units 32 ... ]   train here, now
    rnnlab train --preset seed-tutorial
    rnnlab submit FILE --target COL [...]      queue a run and return (a runner trains it)
    rnnlab train|submit ... --seeds 5          the same setup with 5 seeds, as one group
    rnnlab train|submit ... --sweep units=8,32,128 --sweep dropout=0,0.2 [--seeds 2]
                                               a grid of settings, as one group
    rnnlab train|submit ... --backtest 4       4 origins rolling forward, as one group
    rnnlab runner [--concurrency N]            run the queue in the foreground
    rnnlab list | show RUN|GROUP | cancel RUN | resume RUN [--here] | rm RUN
    rnnlab export RUN --script x.py --model x.keras --predictions x.csv
    rnnlab export RUN --report x.html --tensorboard DIR --mlflow [URI]
    rnnlab report RUN -o x.html                one self-contained HTML file of the run
    rnnlab evaluate MODEL.zip FILE [--test 0.2]       score a downloaded model on a new file
    rnnlab continue MODEL.zip FILE --epochs 10 [--lr X]  train a downloaded model further
    rnnlab serve                               the dashboard (streamlit run app.py)

Every command reads and writes the run store in `--home DIR` (default: `RNNLAB_HOME`, else
`./.rnnlab`). A mistake prints one line, `error: ...`, and exits with status 2. TensorFlow is only
imported by `train`, when training starts. Every command first marks interrupted the runs whose
process is gone (a killed `rnnlab train`), so they can be resumed. Output into a pipe that
closes early (`rnnlab show RUN | head`) ends quietly, with status 141 as a shell reports it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, TextIO

from rnnlab import jobs, lifecycle
from rnnlab.config import (CATEGORICAL, CELLS, INITIALIZERS, LOSSES, OPTIMIZERS, SCALINGS,
                           TRANSFORMS, RunConfig, preset)
from rnnlab.errors import ConfigError, RnnlabError
from rnnlab.evaluate import PREDICTORS
from rnnlab.store import GROUP_ID_RE, RunRecord, RunStatus, Store, format_duration

EXIT_ERROR = 2          # the user's mistake (RnnlabError), as for a bad option
EXIT_RUN_FAILED = 1     # the run failed or diverged
EXIT_INTERRUPTED = 130  # Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of our output went away
BAR_WIDTH = 24
# the dashboard behind its gate (rnnlab.gate: the password and the upload budget)
APP_FILE = Path(__file__).resolve().parent.parent / "serve.py"


class Parser(argparse.ArgumentParser):
    """argparse, but a bad option prints one `error:` line (with a pointer to --help)."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse's hook
        self.exit(EXIT_ERROR, f"error: {message}. See `{self.prog} --help`.\n")


# -- run options ---------------------------------------------------------------------------------
def _int_list(text: str) -> int | tuple[int, ...]:
    """'50' -> 50, '64,32' -> (64, 32)."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or a list like 64,32, got {text!r}")
    return values[0] if len(values) == 1 else values


def _float_list(text: str) -> float | tuple[float, ...]:
    """'0.2' -> 0.2, '0.2,0.1' -> (0.2, 0.1)."""
    try:
        values = tuple(float(p) for p in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or a list like 0.2,0.1, got {text!r}")
    return values[0] if len(values) == 1 else values


# (flag, section, field, argparse keywords)
RUN_OPTIONS: list[tuple[str, str, str, dict]] = [
    ("--target", "data", "target", {"help": "the column to forecast (default: the file's first numeric column)"}),
    ("--date-column", "data", "date_column", {"help": "the date column (default: detected)"}),
    ("--features", "data", "features", {"type": lambda s: tuple(x.strip() for x in s.split(",") if x.strip()),
                                        "help": "extra input columns, comma separated"}),
    ("--test-file", "data", "test_source", {"help": "a separate file of later rows to test on"}),
    ("--val", "data", "val_fraction", {"type": float, "help": "share of rows for validation (0.1)"}),
    ("--test", "data", "test_fraction", {"type": float, "help": "share of rows for testing (0.1)"}),
    ("--end-row", "data", "end_row", {"type": int,
                                      "help": "use only the file's first rows (a backtest fold)"}),
    ("--scaling", "data", "scaling", {"choices": SCALINGS, "help": "fitted on the training rows only"}),
    ("--fill", "data", "fill", {"choices": ("interpolate", "ffill", "drop"), "help": "missing values"}),
    ("--categorical", "data", "categorical", {"choices": CATEGORICAL,
                                              "help": "text columns: exclude, or onehot (one 0/1 column per label)"}),
    ("--season", "data", "season", {"type": int, "help": "seasonal period in rows (seasonal naive baseline)"}),
    ("--transform", "data", "transform", {"choices": TRANSFORMS,
                                          "help": "what the network learns (default: chosen from the data)"}),
    ("--cell", "model", "cell", {"choices": CELLS, "help": "recurrent cell"}),
    ("--layers", "model", "n_layers", {"type": int, "help": "stacked recurrent layers"}),
    ("--units", "model", "units", {"type": _int_list, "help": "units per layer: 50, or 64,32"}),
    ("--dropout", "model", "dropout", {"type": _float_list, "help": "dropout after each layer"}),
    ("--recurrent-dropout", "model", "recurrent_dropout", {"type": _float_list}),
    ("--bidirectional", "model", "bidirectional", {"action": "store_const", "const": True}),
    ("--linear-skip", "model", "linear_skip", {"action": argparse.BooleanOptionalAction,
                                               "help": "a linear path beside the network "
                                                       "(default: chosen from the data)"}),
    ("--lookback", "model", "lookback", {"type": int, "help": "past steps the network sees"}),
    ("--horizon", "model", "horizon", {"type": int, "help": "steps predicted at once"}),
    ("--kernel-init", "model", "kernel_initializer", {"choices": INITIALIZERS}),
    ("--recurrent-init", "model", "recurrent_initializer", {"choices": INITIALIZERS}),
    ("--init-scale", "model", "init_scale", {"type": float}),
    ("--l1", "model", "l1", {"type": float}),
    ("--l2", "model", "l2", {"type": float}),
    ("--reservoir-size", "model", "reservoir_size", {"type": int, "help": "echo state network only"}),
    ("--spectral-radius", "model", "spectral_radius", {"type": float, "help": "echo state network only"}),
    ("--leak-rate", "model", "leak_rate", {"type": float, "help": "echo state network only"}),
    ("--input-scaling", "model", "input_scaling", {"type": float, "help": "echo state network only"}),
    ("--ridge", "model", "ridge", {"type": float, "help": "echo state network only: readout penalty"}),
    ("--epochs", "train", "epochs", {"type": int}),
    ("--batch-size", "train", "batch_size", {"type": int}),
    ("--optimizer", "train", "optimizer", {"choices": OPTIMIZERS}),
    ("--lr", "train", "learning_rate", {"type": float, "help": "learning rate"}),
    ("--loss", "train", "loss", {"choices": LOSSES}),
    ("--clipnorm", "train", "clipnorm", {"type": float, "help": "clip the gradient's norm"}),
    ("--clipvalue", "train", "clipvalue", {"type": float, "help": "clip each gradient value"}),
    ("--patience", "train", "early_stopping_patience", {"type": int, "help": "early stopping (0: off)"}),
    ("--seed", "train", "seed", {"type": int}),
    ("--no-gradients", "train", "track_gradients", {"action": "store_const", "const": False,
                                                    "help": "skip the gradient traces"}),
]


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", help="a CSV/Excel/Parquet file or a sample name")
    parser.add_argument("--preset", help="start from a preset, e.g. seed-tutorial")
    parser.add_argument("--config", help="start from a run config JSON file")
    parser.add_argument("--name", help="a name for the run")
    parser.add_argument("--no-advice", action="store_true",
                        help="use the engine's fixed defaults instead of settings chosen from the data")
    parser.add_argument("--seeds", type=int, default=1, metavar="N",
                        help="train the same setup N times (2 to 10), with the seeds SEED, "
                             "SEED+1, ..., as one group that shows the spread (default: 1 run)")
    parser.add_argument("--sweep", action="append", default=[], metavar="SETTING=V1,V2,...",
                        help="vary a setting over a few values (once or twice: a grid), times "
                             "--seeds, as one group; settings: units, n_layers, dropout, "
                             "lookback, cell, l2, learning_rate, batch_size, epochs")
    parser.add_argument("--backtest", type=int, default=None, metavar="K",
                        help="train the setup at K origins (2 to 10) rolling forward through "
                             "the data, each testing on the next rows, as one group")
    parser.add_argument("--no-reuse", action="store_true",
                        help="train even when a finished run has the same settings, data and "
                             "seed (otherwise its results are shown at once)")
    for flag, _, dest, kwargs in RUN_OPTIONS:
        if "type" in kwargs:
            kwargs = {"metavar": flag.lstrip("-").upper().replace("-", "_"), **kwargs}
        parser.add_argument(flag, dest=f"opt_{dest}", default=None, **kwargs)


def build_config(args: argparse.Namespace, reasons: dict | None = None) -> RunConfig:
    """The RunConfig the options describe: preset or config file or defaults, then the options.

    A data file without a preset or config starts from settings chosen from the data
    (`rnnlab.advise`) unless --no-advice; their reasons go into `reasons` when given.
    """
    if args.config:
        base = RunConfig.from_json(_read_text(args.config))
    elif args.preset:
        base = preset(args.preset)
    elif args.file:
        base = RunConfig()
    else:
        raise ConfigError("Give a data file (rnnlab train data.csv --target COL) or a preset "
                          "(rnnlab train --preset seed-tutorial).")
    parts: dict[str, dict[str, Any]] = {"data": {}, "model": {}, "train": {}}
    if args.file:
        parts["data"]["source"] = args.file
    for _, section, field, _ in RUN_OPTIONS:
        value = getattr(args, f"opt_{field}")
        if value is not None:
            parts[section][field] = value
    if args.file and not (args.config or args.preset or getattr(args, "no_advice", False)):
        base = _advised(base, parts, reasons)
    changes: dict[str, Any] = {k: v for k, v in parts.items() if v}
    if args.name is not None:
        changes["name"] = args.name
    return jobs.absolute_sources(base.replace(**changes) if changes else base)


def _advised(base: RunConfig, given: dict, reasons: dict | None) -> RunConfig:
    """The base with the settings advised for the data, except those given as options."""
    from rnnlab import advise

    try:
        settings, why = advise.advise_config(base.replace(data=given["data"]).data)
    except RnnlabError:
        return base                   # the data's own problem is reported when the run is checked
    for section, values in settings.items():
        for name in [n for n in values if n in given[section]]:
            del values[name]
    if "season" in given["data"] and "transform" in settings["data"]:
        settings["data"].pop("transform")  # a season of the user's own: advise nothing about it
    if reasons is not None:
        names = {"transform": ("data", "transform"), "season": ("data", "season"),
                 "lookback": ("model", "lookback"), "epochs": ("train", "epochs"),
                 "linear_skip": ("model", "linear_skip")}
        reasons.update({k: v for k, v in why.items() if names[k][1] in settings[names[k][0]]})
    return base.replace(**settings)


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"Cannot read the config file {path}: {exc.strerror}. Check the path.") from None


# -- commands ------------------------------------------------------------------------------------
def cmd_train(args, store: Store, out: TextIO, err: TextIO) -> int:
    """Train one run here, with a progress bar, then print the result table."""
    from rnnlab import worker

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's info lines would bury the bar
    store.check_writable()
    reasons: dict = {}
    cfg = build_config(args, reasons)
    print_advice(cfg, reasons, err)
    if args.backtest:
        print(f"Preparing {cfg.data.source} ...", file=err, flush=True)
        group_id, run_ids = jobs.submit_backtest(store, cfg, args.backtest)
        return _train_group(group_id, run_ids, store, out, err)
    axes = _sweep(args)
    if axes:
        print(f"Preparing {cfg.data.source} ...", file=err, flush=True)
        group_id, run_ids = jobs.submit_sweep(store, cfg, axes, _seeds(args))
        return _train_group(group_id, run_ids, store, out, err)
    if _seeds(args) > 1:
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
    with Progress(store, run_id, err):
        status = worker.execute(store, run_id, prepared=prepared)
    run = store.get_run(run_id)
    print_result(run, out)
    return _exit_for(run, err)


def _seeds(args) -> int:
    """--seeds, checked: 1 (one run) or 2 to 10 (a group)."""
    if args.seeds != 1:
        from rnnlab import groups

        groups.check_seeds(args.seeds)
    return args.seeds


def _sweep(args) -> dict[str, list]:
    """--sweep SETTING=V1,V2 (once or twice) as the grid's axes; {} without it."""
    from rnnlab import groups

    axes: dict[str, list] = {}
    for item in args.sweep or []:
        name, sep, values = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep:
            raise ConfigError(f"--sweep takes SETTING=V1,V2,... (e.g. --sweep units=8,32,128). "
                              f"Received: {item!r}")
        axes[name] = groups.parse_values(name, values)
    if axes:
        groups.check_sweep(axes, _seeds(args))
    return axes


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
    from rnnlab import worker

    seeds = len(run_ids)
    for k, run_id in enumerate(run_ids, 1):
        now = time.time()
        if not lifecycle.start(store, run_id, pid=os.getpid(), started_at=now, heartbeat_at=now):
            print(f"Run {run_id}: a runner took it; `rnnlab list` shows its progress.", file=err)
            continue
        store.add_event(run_id, "foreground", "Trained in the foreground by `rnnlab train`.")
        print(f"Run {run_id} ({k} of {seeds}, {store.get_run(run_id).name}):", file=err,
              flush=True)
        with Progress(store, run_id, err):
            worker.execute(store, run_id)
    print_group(store, group_id, out)
    runs = store.group_runs(group_id)
    return 0 if all(r.status == RunStatus.DONE for r in runs) else EXIT_RUN_FAILED


def print_group(store: Store, group_id: str, out: TextIO) -> None:
    """A group: its name, its sentence, and one line per run (seed, status, test RMSE, skill)."""
    from rnnlab import groups

    runs = store.group_runs(group_id)
    if not runs:
        raise RnnlabError(f"No group {group_id!r} in {store.home}. `rnnlab list` shows the "
                          "groups of runs in its GROUP column.")
    print(f"group     {group_id}  {runs[0].group_label}", file=out)
    if runs[0].group_kind == "backtest":
        print(f"result    {groups.backtest_sentence(runs)}", file=out)
        rows = [["FOLD", "ROWS UP TO", "RUN", "STATUS", "TEST RMSE", "NAIVE RMSE", "SKILL"]]
        for row, run in zip(groups.backtest_rows(runs), runs):
            rows.append([row["fold"], row["rows up to"], run.id, row["status"],
                         _num(row["test RMSE"]), _num(row["naive RMSE"]),
                         _signed(row["skill vs naive"])])
        print(_indent(_table(rows, align="rrlllrr")), file=out)
        return
    if runs[0].group_kind == "sweep":
        print(f"result    {groups.sweep_sentence(runs)}", file=out)
        table = groups.sweep_table(runs)
        keys = list(table[0]) if table else []
        rows = [[k.upper() for k in keys]]
        rows += [[_num(v) if isinstance(v, float) else v for v in row.values()] for row in table]
        print(_indent(_table(rows)), file=out)
        return
    print(f"result    {groups.sentence(runs)}", file=out)
    rows = [["SEED", "RUN", "STATUS", "EPOCHS", "TEST RMSE", "SKILL"]]
    for row, run in zip(groups.spread_rows(runs), runs):
        rows.append([row["seed"], run.id, run.status.value, _progress_text(run),
                     _num(row["test RMSE"]), _signed(row["skill vs naive"])])
    print(_indent(_table(rows, align="rlllrr")), file=out)


def print_advice(cfg: RunConfig, reasons: dict, err: TextIO) -> None:
    """Say which settings were chosen from the data, and why (flags override them)."""
    if not reasons:
        return
    shown = {"transform": f"transform {cfg.data.transform}", "season": f"season {cfg.data.season}",
             "lookback": f"lookback {cfg.model.lookback}",
             "epochs": f"up to {cfg.train.epochs} epochs, patience {cfg.train.early_stopping_patience}",
             "linear_skip": f"linear path {'on' if cfg.model.linear_skip else 'off'}"}
    print("Chosen from the data (give the option to change it; --no-advice for fixed defaults):",
          file=err)
    for name, why in reasons.items():
        print(f"  {shown.get(name, name)}: {why}", file=err)


def _exit_for(run: RunRecord, err: TextIO) -> int:
    if run.status == RunStatus.DONE:
        return 0
    if run.status == RunStatus.FAILED:
        print(f"error: run {run.id} failed: {run.error} (details: `rnnlab show {run.id}`)", file=err)
        return EXIT_RUN_FAILED
    if run.status == RunStatus.CANCELLED:
        return EXIT_INTERRUPTED
    return EXIT_RUN_FAILED


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
    axes = _sweep(args)
    if axes:
        group_id, run_ids = jobs.submit_sweep(store, cfg, axes, _seeds(args))
        print("\n".join(run_ids), file=out)
        print(f"Queued sweep {group_id}: {len(run_ids)} runs. `rnnlab runner` (or the dashboard) "
              f"trains them; `rnnlab show {group_id}` shows the grid.", file=err)
        return 0
    if _seeds(args) > 1:
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


def cmd_runner(args, store: Store, out: TextIO, err: TextIO) -> int:
    """Run the queue in the foreground until Ctrl-C (or until idle); workers outlive it."""
    store.check_writable()
    runner = jobs.Runner(store, concurrency=args.concurrency, executor=jobs.make_executor(args.executor))
    print(f"Runner on {store.home}: up to {runner.concurrency} run(s) at once. Ctrl-C stops the "
          "runner; runs in progress go on.", file=out, flush=True)
    watch = _Watcher(store, runner, out)
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        runner.run_forever(until_idle=args.until_idle, on_tick=watch)
    except KeyboardInterrupt:
        print("Runner stopped.", file=out)
    finally:
        runner.stop()
        signal.signal(signal.SIGTERM, previous)
    return 0


def _raise_keyboard_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


class _Watcher:
    """Prints a line when a run starts or ends, and when the runner waits for another one."""

    def __init__(self, store: Store, runner: jobs.Runner, out: TextIO):
        self.store, self.runner, self.out = store, runner, out
        self.seen: dict[str, RunStatus] = {}
        self.was_active: bool | None = None

    def __call__(self) -> None:
        if self.runner.active != self.was_active:
            self.was_active = self.runner.active
            if not self.runner.active:
                print("Another runner is active on this home; waiting to take over.",
                      file=self.out, flush=True)
        for run in self.store.list_runs(limit=200):
            before = self.seen.get(run.id)
            self.seen[run.id] = run.status
            if before is not None and before != run.status:
                print(f"{run.id}  {before.value} -> {run.status.value}  {run.label}",
                      file=self.out, flush=True)


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
        rows.append([run.id, run.status.value, _progress_text(run), _duration(run.elapsed),
                     _duration(run.eta), _num(_test_metric(run, "rmse")),
                     _signed(run.summary.get("skill_vs_naive")), run.name]
                    + ([run.group_id] if grouped else []))
    print(_table(rows, align="lllrrrrll"[:len(rows[0])]), file=out)
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
             f"status    {run.status.value}, epoch {_progress_text(run)}, elapsed "
             f"{_duration(run.elapsed)}" + (f", ETA {_duration(run.eta)}" if run.eta else "")]
    if run.summary.get("message"):
        lines.append(f"message   {run.summary['message']}")
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
    print("\nconfig\n" + _indent(json.dumps(run.config, indent=2, sort_keys=True)), file=out)
    if run.summary.get("metrics"):
        print("\nresult", file=out)
        print_result(run, out, header=False)
    _print_coach(store, run.id, out)
    _print_epochs(store.epochs(run.id)[-args.epochs:], out)
    if run.traceback:
        tail = run.traceback.strip().splitlines()[-args.traceback_lines:]
        print("\ntraceback (last lines)\n" + _indent("\n".join(tail)), file=out)
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
        print(_indent(lines[0] + "".join("\n   " + line for line in lines[1:])), file=out)


def _print_epochs(rows: list[dict], out: TextIO) -> None:
    if not rows:
        return
    table = [["EPOCH", "TRAIN LOSS", "VAL LOSS", "SECONDS", "GRAD NORM"]]
    table += [[r["epoch"], _num(r["train_loss"]), _num(r["val_loss"]), _num(r["seconds"], 2),
               _num(r["grad_norm_mean"])] for r in rows]
    print("\nlast epochs\n" + _indent(_table(table)), file=out)


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
    from rnnlab import worker

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    now = time.time()
    if not lifecycle.start(store, run_id, pid=os.getpid(), heartbeat_at=now):
        print(f"{run_id}: a runner took it first; `rnnlab list` shows its progress.", file=out)
        return 0
    store.add_event(run_id, "foreground", "Continued in the foreground by `rnnlab resume --here`.")
    print(f"Run {run_id}: continuing {where} (Ctrl-C stops it; `rnnlab resume {run_id}` "
          "continues).", file=err, flush=True)
    resume = bool(store.get_run(run_id).summary.get("resume"))
    with Progress(store, run_id, err):
        worker.execute(store, run_id, resume=resume)
    run = store.get_run(run_id)
    print_result(run, out)
    return _exit_for(run, err)


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
    from rnnlab import comeback, worker

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    store.check_writable()
    print(f"Preparing {cfg.data.source} with the model's columns and scaling ...", file=err,
          flush=True)
    run_id, prepared = comeback.register(store, brought, raw, cfg, foreground=True)
    store.add_event(run_id, "foreground", f"Started in the foreground by `rnnlab "
                                          f"{cfg.from_model.action}`.")
    print(f"Run {run_id}: {doing} the model of run {brought.run_name or '(unnamed)'} on "
          f"{Path(cfg.data.source).name}.", file=err, flush=True)
    with Progress(store, run_id, err):
        worker.execute(store, run_id, prepared=prepared)
    run = store.get_run(run_id)
    print_result(run, out)
    if run.summary.get("from_model"):
        print(run.summary["from_model"], file=out)
    return _exit_for(run, err)


def cmd_rm(args, store: Store, out: TextIO, err: TextIO) -> int:
    """Delete runs: their rows and their folders."""
    for run_id in args.runs:
        jobs.delete(store, run_id)
        print(f"{run_id}: deleted", file=out)
    return 0


def cmd_export(args, store: Store, out: TextIO, err: TextIO) -> int:
    """Write a run's standalone script and copy its model and predictions."""
    if not (args.script or args.model or args.predictions or args.forecast or args.report
            or args.tensorboard or args.mlflow):
        raise ConfigError("Say what to export: --script x.py, --model x.keras, --predictions x.csv, "
                          "--forecast x.csv, --report x.html, --tensorboard DIR and/or "
                          "--mlflow [URI].")
    run = store.get_run(args.run)
    _export_elsewhere(args, store, run, out)
    if args.script:
        from rnnlab import codegen

        text = codegen.export(RunConfig.from_dict(run.config), run_id=run.id,
                              data_sha256=run.data_sha256 or None)
        _write(Path(args.script), text)
        print(f"script       {args.script}", file=out)
    for flag, names in (("model", ("model.keras", "model.npz")),
                        ("predictions", ("predictions.csv",)), ("forecast", ("forecast.csv",))):
        target = getattr(args, flag)
        if target:
            _copy_artefact(store, run, names, Path(target))
            print(f"{flag:<12} {target}", file=out)
    return 0


def _export_elsewhere(args, store: Store, run: RunRecord, out: TextIO) -> None:
    """--report, --tensorboard and --mlflow (rnnlab.report, rnnlab.export)."""
    if args.report:
        from rnnlab import report

        report.write_html(store, run.id, args.report)
        print(f"{'report':<12} {args.report}", file=out)
    if args.tensorboard:
        from rnnlab import export

        folder = export.to_tensorboard(store, run.id, args.tensorboard)
        print(f"{'tensorboard':<12} {folder}  (tensorboard --logdir {folder})", file=out)
    if args.mlflow:
        from rnnlab import export

        uri, ml_id = export.to_mlflow(store, run.id, args.mlflow)
        print(f"{'mlflow':<12} {uri}  run {ml_id}", file=out)


def cmd_report(args, store: Store, out: TextIO, err: TextIO) -> int:
    """Write one self-contained HTML report of a run (charts work offline)."""
    from rnnlab import report

    run = store.get_run(args.run)
    path = report.write_html(store, run.id, args.output or f"{run.id}-report.html")
    print(path, file=out)
    size = path.stat().st_size / 1024 / 1024
    print(f"Report of run {run.id} written ({size:.1f} MB); open it in any browser.", file=err)
    return 0


def _copy_artefact(store: Store, run: RunRecord, names: tuple[str, ...], target: Path) -> None:
    for name in names:
        source = store.artefact(run.id, name)
        if source.is_file():
            try:
                shutil.copyfile(source, target)
            except OSError as exc:
                raise RnnlabError(f"Cannot write {target}: {exc.strerror}. Check the folder.") from None
            return
    raise RnnlabError(f"Run {run.id} has no {names[0]} (it is {run.status.value}); only a run that "
                      "finished training has one.")


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as exc:
        raise RnnlabError(f"Cannot write {path}: {exc.strerror}. Check the folder.") from None


def cmd_serve(args, store: Store, out: TextIO, err: TextIO) -> int:
    """Start the dashboard: `streamlit run serve.py` (app.py behind its gate) from the project folder."""
    if not APP_FILE.is_file():
        raise RnnlabError(f"The dashboard's {APP_FILE.name} is not at {APP_FILE}. `rnnlab serve` needs the "
                          "project's source folder (git clone, then `make run`).")
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP_FILE)]
    if args.port:
        cmd += ["--server.port", str(args.port)]
    env = {**os.environ, "RNNLAB_HOME": str(store.home.resolve())}
    try:
        return subprocess.call(cmd + args.streamlit_args, cwd=APP_FILE.parent, env=env)
    except KeyboardInterrupt:
        return 0


# -- progress ------------------------------------------------------------------------------------
class Progress:
    """A progress bar with ETA on a text stream: redrawn on a terminal, a line per 10% otherwise."""

    def __init__(self, store: Store, run_id: str, stream: TextIO, every: float = 0.5):
        self.store, self.run_id, self.stream, self.every = store, run_id, stream, every
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="rnnlab-progress")
        self._last_decile = -1
        self._last_done = -1

    def __enter__(self) -> "Progress":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.draw()
        if self.tty:
            print(file=self.stream, flush=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.draw()
            except RnnlabError:  # a busy store: skip this frame
                pass

    def draw(self) -> None:
        """Draw the current state once."""
        run = self.store.get_run(self.run_id)
        if run.epochs_done == self._last_done and not self.tty:
            return
        decile = int(10 * run.progress)
        if not self.tty and decile <= self._last_decile:
            return
        self._last_done, self._last_decile = run.epochs_done, decile
        line = progress_line(run, self._last_loss(run))
        if self.tty:
            print("\r" + line.ljust(100)[:max(100, len(line))], end="", file=self.stream, flush=True)
        else:
            print(line, file=self.stream, flush=True)

    def _last_loss(self, run: RunRecord) -> float | None:
        rows = self.store.epochs(run.id)[-1:] if run.epochs_done else []
        return rows[0]["train_loss"] if rows else None


def progress_line(run: RunRecord, loss: float | None = None) -> str:
    """`epoch 7/20 [#######-----] 35%  elapsed 3 s  ETA 6 s  loss 0.0123`."""
    filled = int(round(BAR_WIDTH * run.progress))
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    text = (f"epoch {run.epochs_done}/{run.epochs_total} [{bar}] {100 * run.progress:3.0f}%  "
            f"elapsed {_duration(run.elapsed)}")
    if run.eta is not None:
        text += f"  ETA {_duration(run.eta)}"
    if loss is not None:
        text += f"  loss {loss:.4g}"
    return text


# -- result table --------------------------------------------------------------------------------
BASELINE_LABELS = {**PREDICTORS, "model": "model"}


def print_result(run: RunRecord, out: TextIO, *, header: bool = True) -> None:
    """The run's test scores, model vs baselines, and the sentence that says what they mean."""
    summary = run.summary
    if header:
        extra = []
        if summary.get("seconds_per_epoch"):
            extra.append(f"{summary['seconds_per_epoch']:.2f} s/epoch")
        if summary.get("params"):
            extra.append(f"{summary['params']:,} parameters")
        print(f"\nRun {run.id} {run.status.value}: {run.epochs_done}/{run.epochs_total} epochs"
              + (f", {', '.join(extra)}" if extra else "") + ".", file=out)
    test = summary.get("metrics", {}).get("test")
    if not test:
        if summary.get("message"):
            print(summary["message"], file=out)
        return
    print(_indent(result_table(test)), file=out)
    from rnnlab.intervals import coverage_sentence

    for line in (summary.get("headline"), summary.get("sentence"), coverage_sentence(summary)):
        if line:
            print(line, file=out)
    for note in summary.get("notes") or []:
        print(note, file=out)


def result_table(test: dict) -> str:
    """Rows model and baselines; columns RMSE, MAE, MAPE, skill vs naive (1 - RMSE/RMSE_naive)."""
    naive = (test.get("naive") or {}).get("rmse")
    rows = [["TEST (" + str((test.get("model") or {}).get("n", "?")) + " values)", "RMSE", "MAE",
             "MAPE", "SKILL VS NAIVE"]]
    for key, label in BASELINE_LABELS.items():
        scores = test.get(key)
        if not scores:
            continue
        skill = 1.0 - scores["rmse"] / naive if naive else None
        mape = f"{scores['mape']:.1f}%" if scores.get("mape") is not None else "-"
        rows.append([label, _num(scores["rmse"]), _num(scores["mae"]), mape, _signed(skill)])
    return _table(rows)


# -- small formatting helpers --------------------------------------------------------------------
def _table(rows: list[list[Any]], align: str = "") -> str:
    """Columns two spaces apart; `align` has one l/r per column (default: first left, rest right)."""
    text = [[("" if c is None else str(c)) for c in row] for row in rows]
    n = len(text[0])
    align = align or "l" + "r" * (n - 1)
    widths = [max(len(r[i]) for r in text) for i in range(n)]
    lines = ["  ".join(c.ljust(w) if a == "l" else c.rjust(w)
                       for c, w, a in zip(row, widths, align)).rstrip() for row in text]
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _num(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}g}" if abs(value) < 1e5 else f"{value:,.0f}"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2f}"


def _duration(seconds: float | None) -> str:
    """42 s, 3 min 05 s, 1 h 02 min; '-' when unknown."""
    return format_duration(seconds, missing="-")


def _progress_text(run: RunRecord) -> str:
    return f"{run.epochs_done}/{run.epochs_total}"


def _test_metric(run: RunRecord, key: str) -> float | None:
    return ((run.summary.get("metrics") or {}).get("test") or {}).get("model", {}).get(key)


# -- the parser ----------------------------------------------------------------------------------
COMMANDS: dict[str, Callable] = {}


def build_parser() -> Parser:
    """The `rnnlab` command line."""
    home = Parser(add_help=False)
    home.add_argument("--home", default=argparse.SUPPRESS,
                      help="the run store's folder (default: RNNLAB_HOME, else ./.rnnlab)")
    parser = Parser(prog="rnnlab", description="Explore recurrent neural networks on time series.",
                    parents=[home])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    def add(name: str, func: Callable, help_text: str) -> argparse.ArgumentParser:
        COMMANDS[name] = func
        return sub.add_parser(name, help=help_text, description=help_text, parents=[home])

    _add_run_options(add("train", cmd_train, "train a run here and now, with a progress bar"))
    _add_run_options(add("submit", cmd_submit, "queue a run and return its id"))
    p = add("runner", cmd_runner, "run the queue in the foreground (Ctrl-C stops it)")
    p.add_argument("--concurrency", type=int, default=None,
                   help="runs at once (default: RNNLAB_CONCURRENCY, else one per two cores)")
    p.add_argument("--executor", default=None,
                   help=f"{' or '.join(jobs.EXECUTORS)} (default RNNLAB_EXECUTOR), or "
                        "package.module:Class")
    p.add_argument("--until-idle", action="store_true", help="exit once nothing is queued or running")
    p = add("list", cmd_list, "list runs with status and progress")
    p.add_argument("--status", action="append", choices=[s.value for s in RunStatus])
    p.add_argument("--limit", type=int, default=50)
    p = add("show", cmd_show, "show one run (status, config, metrics, last epochs, error) "
                              "or a group of runs (its sentence and its runs)")
    p.add_argument("run", metavar="RUN|GROUP")
    p.add_argument("--epochs", type=int, default=5, help="how many of the last epochs to show")
    p.add_argument("--traceback-lines", type=int, default=15)
    for name, func, text in (("cancel", cmd_cancel, "cancel queued or running runs"),
                             ("resume", cmd_resume, "continue interrupted or cancelled runs"),
                             ("rm", cmd_rm, "delete runs (rows and folders)")):
        p = add(name, func, text)
        p.add_argument("runs", nargs="+", metavar="RUN")
        if name == "resume":
            p.add_argument("--here", action="store_true",
                           help="continue the run in this process, with a progress bar, "
                                "instead of queueing it for a runner")
    p = add("export", cmd_export, "export a run as a script, a model and predictions")
    p.add_argument("run")
    p.add_argument("--script", help="write a standalone Keras script here")
    p.add_argument("--model", help="copy the trained model here (.keras)")
    p.add_argument("--predictions", help="copy predictions.csv here")
    p.add_argument("--forecast", help="copy forecast.csv here")
    p.add_argument("--report", help="write the run's HTML report here (as `rnnlab report`)")
    p.add_argument("--tensorboard", metavar="DIR",
                   help="write TensorBoard event files into DIR (needs rnnlab[tensorboard])")
    p.add_argument("--mlflow", nargs="?", const="mlruns", default=None, metavar="URI",
                   help="log the run to MLflow at URI (default: ./mlruns; needs rnnlab[mlflow])")
    p = add("report", cmd_report, "write one self-contained HTML report of a run")
    p.add_argument("run")
    p.add_argument("-o", "--output", help="the HTML file (default: RUN-report.html)")
    p = add("evaluate", cmd_evaluate, "score a model downloaded from RNN Lab (its "
                                      "\"Model for new data\" zip) on a file with the same "
                                      "columns, as a new run, against the baselines")
    p.add_argument("model", metavar="MODEL.zip")
    p.add_argument("file", help="a CSV/Excel/Parquet file with the model's columns, or a sample")
    p.add_argument("--test", type=float, default=None,
                   help="share of the file's last rows to score (default: as in the model's run)")
    p.add_argument("--name", help="the new run's name")
    p = add("continue", cmd_continue, "train a model downloaded from RNN Lab further on a file, "
                                      "starting from its trained weights, as a new run")
    p.add_argument("model", metavar="MODEL.zip")
    p.add_argument("file", help="a CSV/Excel/Parquet file with the model's columns, or a sample")
    p.add_argument("--epochs", type=int, default=10, help="epochs to train (default 10)")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default: as in the model's run)")
    p.add_argument("--test", type=float, default=None,
                   help="share of the file's last rows to test on (default: as in the model's "
                        "run)")
    p.add_argument("--name", help="the new run's name")
    p = add("serve", cmd_serve, "start the dashboard (streamlit run app.py)")
    p.add_argument("--port", type=int, default=None)
    p.add_argument("streamlit_args", nargs=argparse.REMAINDER, help="passed on to streamlit")
    return parser


def main(argv: list[str] | None = None, *, out: TextIO | None = None,
         err: TextIO | None = None) -> int:
    """Run one command; return the exit status (0 ok, 1 run failed, 2 user error, 130 Ctrl-C,
    141 the output's reader went away)."""
    out, err = out or sys.stdout, err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        try:
            home = getattr(args, "home", None)
            if home:
                os.environ["RNNLAB_HOME"] = str(Path(home).expanduser())
            store = Store(home)
            _recover(store)
            code = COMMANDS[args.command](args, store, out, err)
            out.flush()                 # a closed pipe shows here, not at the interpreter's exit
            return code
        except RnnlabError as exc:
            print(f"error: {exc}", file=err)
            return EXIT_ERROR
        except KeyboardInterrupt:
            print("Stopped.", file=err)
            return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence(out)
        return EXIT_BROKEN_PIPE


def _recover(store: Store) -> None:
    """Mark interrupted the runs whose process is gone; a busy store is left for next time."""
    try:
        jobs.recover(store)
    except RnnlabError:
        pass


def _silence(stream: TextIO) -> None:
    """Point a stream whose reader went away at /dev/null, so that flushing what is left of its
    buffer at exit raises nothing more."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # a StringIO: nothing to redirect
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
