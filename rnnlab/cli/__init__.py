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

The parser, `main` and `serve` are here; the other commands are in this package's modules:
`train` (train, submit), `runner`, `runs` (list, show, cancel, resume, rm), `exports` (export,
report) and `models` (evaluate, continue), with `options` (the run options and the RunConfig
they make), `progress`, `results` and `tables` for what they print.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, TextIO

from rnnlab import jobs
from rnnlab.cli.exits import EXIT_BROKEN_PIPE, EXIT_ERROR, EXIT_INTERRUPTED
from rnnlab.cli.exports import cmd_export, cmd_report
from rnnlab.cli.models import cmd_continue, cmd_evaluate
from rnnlab.cli.options import RUN_OPTIONS, Parser, add_run_options, build_config
from rnnlab.cli.progress import Progress
from rnnlab.cli.results import result_table
from rnnlab.cli.runner import cmd_runner
from rnnlab.cli.runs import cmd_cancel, cmd_list, cmd_resume, cmd_rm, cmd_show
from rnnlab.cli.tables import duration as _duration  # noqa: F401
from rnnlab.cli.train import cmd_submit, cmd_train
from rnnlab.errors import RnnlabError
from rnnlab.store import RunStatus, Store

__all__ = ["APP_FILE", "EXIT_BROKEN_PIPE", "EXIT_ERROR", "RUN_OPTIONS", "Progress", "build_config",
           "build_parser", "main", "result_table"]

# the dashboard behind its gate (rnnlab.gate: the password and the upload budget)
APP_FILE = Path(__file__).resolve().parents[2] / "serve.py"


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

    add_run_options(add("train", cmd_train, "train a run here and now, with a progress bar"))
    add_run_options(add("submit", cmd_submit, "queue a run and return its id"))
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
