"""The files of a run's folder: their names, the predictions table's schema, and their readers
and writers.

    config.json        the run's settings (`RunConfig.to_dict`), written when it starts
    checkpoint.keras   the weights and optimizer state of the last finished epoch
    checkpoint.json    {"epoch": k, "iterations": optimizer steps so far}, written just after it
    model.keras        the trained Keras model (model.npz for an echo state network)
    predictions.csv    every scored prediction, PREDICTION_COLUMNS (see below)
    forecast.csv       the next steps past the end of the data: timestamp, forecast, the
                       intervals' lower_/upper_ columns when there are any, and `classical`
                       (the classical anchor fitted on every row) when it could be made
    bundle.zip         the model for new data (`rnnlab.bundle`)
    log.txt            the worker's output

predictions.csv holds one row per predicted value: its part (`split`), its `kind` (ONE_STEP:
teacher forced, every window reads the real past; FREE_RUN: the model's own predictions fed
back), the `timestamp` predicted, the horizon `step` (or the step along a free-running
trajectory), the `actual` value, the model's and each baseline's prediction (`rnnlab.predictors`),
the `origin` (the last observed time), and the intervals' bounds. Timestamps are ISO text, or
row positions when the data has no dates.

Numpy and pandas only, imported where they are used: the web side reads this module too.
"""

from __future__ import annotations

import json
from pathlib import Path

CONFIG = "config.json"
CHECKPOINT = "checkpoint.keras"
CHECKPOINT_META = "checkpoint.json"
MODEL_FILE = "model.keras"
ESN_FILE = "model.npz"
PREDICTIONS = "predictions.csv"
FORECAST = "forecast.csv"
BUNDLE_FILE = "bundle.zip"
LOG = "log.txt"
MODEL_FILES = (MODEL_FILE, ESN_FILE)     # a run has one of them, by its cell
# What an export copies out of a run's folder, when it is there.
EXPORTED = (PREDICTIONS, FORECAST, MODEL_FILE, ESN_FILE, BUNDLE_FILE)

# The kinds of rows in predictions.csv.
ONE_STEP, FREE_RUN = "one-step-ahead", "free-running"
KINDS = (ONE_STEP, FREE_RUN)
PREDICTION_COLUMNS = ["split", "kind", "timestamp", "step", "actual", "model", "naive",
                      "seasonal_naive", "mean", "origin", "linear_ar", "anchor",
                      "lower_80", "upper_80", "lower_95", "upper_95"]
FORECAST_COLUMNS = ["timestamp", "forecast"]     # then lower_/upper_ columns, if any
CLASSICAL = "classical"                          # ... and the classical forecast, if any


# -- predictions.csv and forecast.csv ------------------------------------------------------------

def write_predictions(path: Path, frames: list) -> None:
    """Write the prediction rows in the documented column order, timestamps as ISO text."""
    import pandas as pd

    frame = pd.concat(frames, ignore_index=True)
    for col in PREDICTION_COLUMNS:
        if col not in frame:
            frame[col] = None
    for col in ("timestamp", "origin"):
        frame[col] = [when(v) for v in frame[col]]
    frame[PREDICTION_COLUMNS].to_csv(path, index=False)


def read_predictions(path: Path):
    """predictions.csv as a frame (raises what pandas raises on a missing or damaged file)."""
    import pandas as pd

    return pd.read_csv(path)


def forecast_frame(index, values, bands: dict | None = None, classical=None):
    """forecast.csv's rows: timestamps as ISO text, the forecast, each interval's bounds
    (`bands`: column suffix -> half-widths, NaN where there is none), and the classical
    anchor's forecast of the same steps when there is one."""
    import pandas as pd

    frame = pd.DataFrame({"timestamp": [when(v) for v in index], "forecast": values})
    for suffix, width in (bands or {}).items():
        frame[f"lower_{suffix}"] = values - width
        frame[f"upper_{suffix}"] = values + width
    if classical is not None:
        frame[CLASSICAL] = classical
    return frame


def write_forecast(path: Path, frame) -> None:
    """Write forecast.csv (a `forecast_frame`)."""
    frame.to_csv(path, index=False)


def read_forecast(path: Path):
    """forecast.csv as a frame (raises what pandas raises on a missing or damaged file)."""
    import pandas as pd

    return pd.read_csv(path)


def read_csv(path: Path):
    """A CSV artefact as a frame, or None when it is missing or cannot be read."""
    import pandas as pd

    if not Path(path).is_file():
        return None
    try:
        return pd.read_csv(path)
    except (OSError, ValueError):
        return None


def when(value) -> str | int:
    """A timestamp as ISO text, a position as an int."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    try:
        import numpy as np

        if isinstance(value, np.datetime64):
            import pandas as pd

            return pd.Timestamp(value).isoformat()
        return int(value)
    except (TypeError, ValueError):
        return str(value)


# -- checkpoint.json -----------------------------------------------------------------------------

def write_checkpoint_meta(run_dir: Path, epoch: int, iterations: int) -> None:
    """checkpoint.json, written to a temporary name and renamed into place."""
    import os

    path = Path(run_dir) / CHECKPOINT_META
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps({"epoch": int(epoch), "iterations": int(iterations)}))
    os.replace(tmp, path)


def read_checkpoint_meta(run_dir: Path) -> dict:
    """checkpoint.json as {"epoch": int, "iterations": int}. Raises FileNotFoundError when it is
    missing and ValueError when it is damaged (not JSON, or without a whole epoch and step count)."""
    path = Path(run_dir) / CHECKPOINT_META
    if not path.is_file():
        raise FileNotFoundError(path)
    try:
        meta = json.loads(path.read_text())
        return {**meta, "epoch": int(meta["epoch"]), "iterations": int(meta["iterations"])}
    except (KeyError, TypeError) as exc:
        raise ValueError(exc) from None


def checkpoint_epoch(run_dir: Path) -> int | None:
    """The epoch of the folder's last checkpoint, or None when there is no usable one (no
    weights file, or a record that is missing, damaged or not a whole epoch >= 0)."""
    run_dir = Path(run_dir)
    meta = run_dir / CHECKPOINT_META
    if not meta.is_file() or not (run_dir / CHECKPOINT).is_file():
        return None
    try:
        epoch = json.loads(meta.read_text())["epoch"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return int(epoch) if isinstance(epoch, int) and epoch >= 0 else None
