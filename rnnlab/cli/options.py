"""The options that describe a run (`rnnlab train` and `rnnlab submit`), and the RunConfig they
make: a preset, a config file or settings chosen from the data, then the options on top."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rnnlab import jobs
from rnnlab.cli.exits import EXIT_ERROR
from rnnlab.config import (CATEGORICAL, CELLS, INITIALIZERS, LOSSES, OPTIMIZERS, SCALINGS,
                           TRANSFORMS, RunConfig, preset)
from rnnlab.errors import ConfigError, RnnlabError


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


def add_run_options(parser: argparse.ArgumentParser) -> None:
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


def seed_count(args) -> int:
    """--seeds, checked: 1 (one run) or 2 to 10 (a group)."""
    if args.seeds != 1:
        from rnnlab import groups

        groups.check_seeds(args.seeds)
    return args.seeds


def sweep_axes(args) -> dict[str, list]:
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
        groups.check_sweep(axes, seed_count(args))
    return axes
