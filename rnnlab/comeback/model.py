"""A model downloaded from RNN Lab and uploaded again: the limits an upload must keep, the
refusal that says what to upload instead (ModelRefused), and what a checked upload holds
(Brought)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rnnlab.artefacts import ESN_FILE, MODEL_FILE  # noqa: F401  (as a run's folder names them)
from rnnlab import cells
from rnnlab.config import RunConfig
from rnnlab.errors import RnnlabError
SETTINGS_FILE = "preprocessing.json"
FORMAT = 1                        # rnnlab.bundle.FORMAT: the one preprocessing.json this reads
MAX_MODEL_MB = 100
MAX_MODEL_BYTES = MAX_MODEL_MB * 1000 * 1000    # the upload, and any one file inside it unpacked
MAX_UNPACKED_BYTES = 2 * MAX_MODEL_BYTES       # every file inside it, unpacked
MAX_MEMBERS = 50
MAX_SETTINGS_BYTES = 5 * 1000 * 1000
MODELS_DIR = "models"             # in the store's folder: kept uploads, <sha256>.zip
WHERE = 'Results → Downloads → "Model for new data (.zip)"'
DOWNLOAD_FIX = (f"Download the model from {WHERE} (the page of the run that trained it) and "
                "upload that file as it is, without unzipping it.")
CODE_LAYERS = ("Lambda", "TFOpLambda")   # layers that hold Python code: never loaded


class ModelRefused(RnnlabError):
    """An uploaded file that RNN Lab will not load as a model; the message says why and what
    to upload instead."""


def not_ours(what: str) -> ModelRefused:
    return ModelRefused(f"This is not a model downloaded from RNN Lab: {what}. {DOWNLOAD_FIX}")


def damaged(name: str, why: str) -> ModelRefused:
    return ModelRefused(f"{name} looks like a model from RNN Lab, but {why}: it was damaged or "
                        f"edited. {DOWNLOAD_FIX}")


def megabytes(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 100_000 else f"{n_bytes / 1e3:.1f} kB"


def _setting(key: str, kind: Callable[[Any], Any] | None = None) -> property:
    """A read-only attribute of Brought: one entry of its preprocessing.json (as `kind`)."""
    if kind is None:
        return property(lambda self: self.settings[key])
    return property(lambda self: kind(self.settings[key]))


@dataclass(frozen=True)
class Brought:
    """An uploaded model that passed every check: its settings and what it needs."""

    name: str                        # the uploaded file's name
    sha256: str                      # of its bytes: where it is kept, and the runs that use it
    size: int
    settings: dict                   # preprocessing.json
    run_config: RunConfig | None     # the settings of the run that trained it (newer zips)

    # preprocessing.json's entries: inputs (list[str]), target, lookback and horizon (int),
    # transform and model_file
    inputs = _setting("inputs", list)
    target = _setting("target")
    lookback = _setting("lookback", int)
    horizon = _setting("horizon", int)
    transform = _setting("transform")
    model_file = _setting("model_file")

    @property
    def cell(self) -> str:
        if self.run_config is not None:
            return self.run_config.model.cell
        return cells.saved_in(self.model_file) or str(
            (self.settings.get("trained_on") or {}).get("cell") or cells.DEFAULT)

    @property
    def run_name(self) -> str:
        return str((self.settings.get("trained_on") or {}).get("run_name") or "")

    @property
    def can_continue(self) -> str | None:
        """None when the model can be trained further; else why not, in plain words."""
        if cells.of(self.cell).fitted:
            return ("An echo state network is fitted in one pass, so there is no training to "
                    "continue. Evaluate it on new data, or train a new one on the Train page.")
        if self.run_config is None:
            return ("This zip was downloaded from an older RNN Lab that did not keep the run's "
                    "settings in it, so its network cannot be rebuilt to train further (it can "
                    "still be evaluated). Download the model again from "
                    f"{WHERE} to continue training it.")
        return None

    def describe(self) -> list[str]:
        """The model in a few plain lines (plain text: names are quoted, not marked up)."""
        from rnnlab.config import CELL_LABELS, TRANSFORM_LABELS

        trained_on = self.settings.get("trained_on") or {}
        source = Path(str(trained_on["source"])).name if trained_on.get("source") else ""
        columns = ", ".join(f'"{c}"' for c in self.inputs)
        date = self.settings.get("date_column")
        return [
            f'Trained in the run "{self.run_name or "(unnamed)"}"'
            + (f" on {source}" if source else "") + ".",
            f"Network: {CELL_LABELS.get(self.cell, self.cell)}.",
            f'Forecasts "{self.target}", {self.horizon} step(s) at once, from the last '
            f"{self.lookback} rows.",
            f"Reads the column(s) {columns}" + (f' and the date column "{date}"' if date else "")
            + "; a new file needs the same columns.",
            f"Target transform: {TRANSFORM_LABELS.get(self.transform, self.transform)}.",
        ]
