"""A run's record, taken to the tools people already use: TensorBoard and MLflow.

`to_tensorboard(store, run_id, folder)` writes TensorBoard event files from the store alone
(no TensorFlow: `tensorboardX`, the optional extra `rnnlab[tensorboard]`):

* scalars per epoch: `loss/train`, `loss/validation`, `learning_rate`, `seconds_per_epoch`,
  `grad_norm/mean`, `grad_norm/max`, and every weight tensor's gradient norm as
  `grad_tensor/<tensor>/mean` and `.../max`;
* histograms per epoch: `grad_norm/steps` (the global norm of every training step) and
  `through_time/<series>`, the gradient through time, one bucket per step back (bucket k
  holds the mean |gradient| k steps back, so the histogram's shape is the profile);
* an image per series, `through_time_image/<series>` (rows epochs, columns steps back, log scale);
* the settings and the final scores in the HParams view (in the subfolder `hparams`).

`to_mlflow(store, run_id, uri)` logs the settings as params, the epoch curves as metrics with
step = epoch, the final scores as metrics, and the run's files (predictions.csv, forecast.csv,
the model, the report, the script, the settings) as artefacts, through MlflowClient (the
optional extra `rnnlab[mlflow]`, `mlflow-skinny`). The default tracking URI is a local `mlruns/`
folder; MLflow keeps its file store in maintenance mode, so for a local folder
MLFLOW_ALLOW_FILE_STORE is set to true unless it is already set.

Neither imports TensorFlow, Keras or JAX.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from rnnlab import artefacts
from rnnlab.errors import RnnlabError
from rnnlab.store import RunRecord, Store

EPOCH_SCALARS = {"train_loss": "loss/train", "val_loss": "loss/validation",
                 "lr": "learning_rate", "seconds": "seconds_per_epoch",
                 "grad_norm_mean": "grad_norm/mean", "grad_norm_max": "grad_norm/max"}
HPARAMS_FOLDER = "hparams"
DEFAULT_MLFLOW_URI = "mlruns"
MLFLOW_EXPERIMENT = "rnnlab"
ARTEFACTS = artefacts.EXPORTED
MLFLOW_BATCH = 1000                 # MlflowClient.log_batch takes at most 1000 metrics at once
MLFLOW_PARAM_BATCH = 100            # ... and at most 100 params
IMAGE_CELL = 4                      # pixels per epoch and per step back in the through-time image


class MissingExtra(RnnlabError):
    """An optional extra (tensorboardX, mlflow-skinny) is not installed."""


# -- what both read ------------------------------------------------------------------------------
def hparams(run: RunRecord) -> dict[str, Any]:
    """The settings as flat `section.name` keys with values TensorBoard and MLflow accept
    (bool, int, float, str; lists and None as text)."""
    out: dict[str, Any] = {}
    for section, values in sorted(run.config.items()):
        if not isinstance(values, dict):
            out[section] = _plain(values)
            continue
        for name, value in sorted(values.items()):
            out[f"{section}.{name}"] = _plain(value)
    return out


def final_metrics(run: RunRecord) -> dict[str, float]:
    """The run's final scores as flat names: `test/model/rmse`, `test/naive/mae`, ...,
    `skill_vs_naive`, `skill_vs_best`, `epochs_done`, `params`, `seconds_per_epoch`
    (finite numbers only)."""
    s = run.result
    out: dict[str, float] = {}
    for split, predictors in sorted((s.metrics or {}).items()):
        for predictor, scores in sorted((predictors or {}).items()):
            for key, value in sorted((scores or {}).items()):
                if _finite(value):
                    out[f"{split}/{predictor}/{key}"] = float(value)
    for key in ("skill_vs_naive", "skill_vs_best", "seconds_per_epoch", "params"):
        if _finite(getattr(s, key)):
            out[key] = float(getattr(s, key))
    out["epochs_done"] = float(run.epochs_done)
    return out


def _plain(value: Any) -> bool | int | float | str:
    if isinstance(value, (bool, int, float, str)):
        return value
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) if value else "none"
    return json.dumps(value, sort_keys=True)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# -- TensorBoard ---------------------------------------------------------------------------------
def to_tensorboard(store: Store, run_id: str, folder: str | Path) -> Path:
    """Write the run's TensorBoard event files into `folder` (made if missing); returns it.
    `tensorboard --logdir FOLDER` shows them."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise MissingExtra("TensorBoard export needs tensorboardX: pip install 'rnnlab[tensorboard]' "
                           "(or pip install tensorboardX).") from None
    run = store.get_run(run_id)
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RnnlabError(f"Cannot make the folder {folder}: {exc.strerror}.") from None
    walltime = run.started_at or run.created_at
    writer = SummaryWriter(logdir=str(folder), flush_secs=3600)
    try:
        _tb_scalars(writer, store, run, walltime)
        _tb_gradients(writer, store, run, walltime)
        writer.add_text("run", _run_text(run), 0, walltime=walltime)
        writer.add_hparams(hparams(run), {f"hparam/{k}": v for k, v in final_metrics(run).items()},
                           name=HPARAMS_FOLDER, global_step=run.epochs_done)
    finally:
        writer.close()
    return folder


def _tb_scalars(writer, store: Store, run: RunRecord, walltime: float) -> None:
    curves = store.curves(run.id)
    for i, epoch in enumerate(curves["epoch"]):
        for column, tag in EPOCH_SCALARS.items():
            value = curves[column][i]
            if value is not None:
                writer.add_scalar(tag, float(value), epoch, walltime=walltime + epoch)
    for row in store.tensor_norms(run.id):
        for stat in ("mean", "max"):
            if row[stat] is not None:
                writer.add_scalar(f"grad_tensor/{row['tensor']}/{stat}", float(row[stat]),
                                  row["epoch"], walltime=walltime + row["epoch"])


def _tb_gradients(writer, store: Store, run: RunRecord, walltime: float) -> None:
    for epoch, norms in store.step_norms(run.id).items():
        values = np.array([v for v in norms if v is not None and math.isfinite(v)], dtype=float)
        if values.size:
            writer.add_histogram("grad_norm/steps", values, epoch, walltime=walltime + epoch)
    for series, by_epoch in store.through_time(run.id).items():
        for epoch, values in sorted(by_epoch.items()):
            _profile_histogram(writer, f"through_time/{series}", values, epoch, walltime + epoch)
        image = through_time_image(by_epoch)
        if image is not None:
            writer.add_image(f"through_time_image/{series}", image, max(by_epoch), walltime=walltime,
                             dataformats="HW")


def _profile_histogram(writer, tag: str, values: list, epoch: int, walltime: float) -> None:
    """Bucket k (upper edge k, 1 = the most recent input) holds the gradient k steps back."""
    counts = [float(v) if v is not None and math.isfinite(v) else 0.0 for v in values]
    if not counts or not any(counts):
        return
    steps = np.arange(1, len(counts) + 1, dtype=float)
    total = sum(counts)
    writer.add_histogram_raw(tag, min=1.0, max=float(len(counts)), num=total,
                             sum=float(np.dot(steps, counts)),
                             sum_squares=float(np.dot(steps ** 2, counts)),
                             bucket_limits=steps.tolist(), bucket_counts=counts,
                             global_step=epoch, walltime=walltime)


def through_time_image(by_epoch: dict[int, list]) -> np.ndarray | None:
    """The gradient through time as a grey image (rows epochs, columns steps back, brighter =
    larger, log scale), IMAGE_CELL pixels per cell; None when nothing is positive."""
    epochs = sorted(by_epoch)
    if not epochs:
        return None
    width = max(len(by_epoch[e]) for e in epochs)
    grid = np.full((len(epochs), width), np.nan)       # (n_epochs, lookback)
    for row, epoch in enumerate(epochs):
        values = [np.nan if v is None else v for v in by_epoch[epoch]]
        grid[row, :len(values)] = values
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(grid > 0, np.log10(grid), np.nan)
    finite = logs[np.isfinite(logs)]
    if not finite.size:
        return None
    lo, hi = float(finite.min()), float(finite.max())
    scaled = (logs - lo) / (hi - lo) if hi > lo else np.ones_like(logs)
    scaled = np.where(np.isfinite(scaled), scaled, 0.0)
    return np.kron(scaled, np.ones((IMAGE_CELL, IMAGE_CELL))).astype(np.float32)   # (H, W)


def _run_text(run: RunRecord) -> str:
    lines = [f"**{run.label}** ({run.id}), {run.status.value}, "
             f"{run.epochs_done} of {run.epochs_total} epochs."]
    result = run.result
    for line in (result.headline, result.sentence):
        if line:
            lines.append(str(line))
    return "\n\n".join(lines)


# -- MLflow --------------------------------------------------------------------------------------
def mlflow_uri(uri: str | None) -> str:
    """A tracking URI: a plain path (default `mlruns`) becomes an absolute file: URI."""
    uri = uri or DEFAULT_MLFLOW_URI
    if "://" in uri or uri.startswith(("file:", "sqlite:", "databricks", "postgresql:",
                                       "mysql:", "mssql:")):
        return uri
    return Path(uri).expanduser().resolve().as_uri()


def to_mlflow(store: Store, run_id: str, uri: str | None = None, *,
              experiment: str = MLFLOW_EXPERIMENT, report: bool = True) -> tuple[str, str]:
    """Log the run to MLflow; returns (tracking URI, MLflow run id)."""
    uri = mlflow_uri(uri)
    if uri.startswith("file:"):
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    try:
        from mlflow.entities import Metric, Param, RunTag
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise MissingExtra("MLflow export needs MLflow: pip install 'rnnlab[mlflow]' "
                           "(or pip install mlflow-skinny).") from None
    run = store.get_run(run_id)
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else client.create_experiment(experiment)
    tags = {"rnnlab.run_id": run.id, "rnnlab.status": run.status.value,
            "mlflow.runName": run.label[:250]}
    if run.data_sha256:
        tags["rnnlab.data_sha256"] = run.data_sha256
    start = int(1000 * (run.started_at or run.created_at))
    mlrun = client.create_run(experiment_id, start_time=start, tags=tags, run_name=run.label[:250])
    ml_id = mlrun.info.run_id
    try:
        params = [Param(k, str(v)) for k, v in hparams(run).items()]
        for chunk in _chunks(params, MLFLOW_PARAM_BATCH):
            client.log_batch(ml_id, params=chunk)
        metrics = list(_epoch_metrics(store, run, start, Metric))
        stamp = int(1000 * (run.finished_at or run.started_at or run.created_at))
        metrics += [Metric(k.replace("/", "."), v, stamp, run.epochs_done)
                    for k, v in final_metrics(run).items()]
        for chunk in _chunks(metrics, MLFLOW_BATCH):
            client.log_batch(ml_id, metrics=chunk)
        _mlflow_artefacts(client, ml_id, store, run, report)
    except BaseException:
        client.set_terminated(ml_id, status="FAILED")
        raise
    end = int(1000 * run.finished_at) if run.finished_at else None
    client.set_terminated(ml_id, status="FINISHED" if run.status.value == "done" else "KILLED",
                          end_time=end)
    return uri, ml_id


def _epoch_metrics(store: Store, run: RunRecord, start_ms: int, Metric) -> Iterable:
    curves = store.curves(run.id)
    for i, epoch in enumerate(curves["epoch"]):
        for column in EPOCH_SCALARS:
            value = curves[column][i]
            if _finite(value):
                yield Metric(column, float(value), start_ms + 1000 * epoch, epoch)
    for row in store.tensor_norms(run.id):
        for stat in ("mean", "max"):
            if _finite(row[stat]):
                key = "grad_tensor." + _metric_name(row["tensor"]) + f".{stat}"
                yield Metric(key, float(row[stat]), start_ms + 1000 * row["epoch"], row["epoch"])


def _metric_name(text: str) -> str:
    """MLflow names allow letters, digits, _ - . space / : only."""
    return "".join(c if c.isalnum() or c in "_-. /" else "_" for c in text)


def _mlflow_artefacts(client, ml_id: str, store: Store, run: RunRecord, report: bool) -> None:
    for name in ARTEFACTS:
        path = store.artefact(run.id, name)
        if path.is_file():
            client.log_artifact(ml_id, str(path))
    with tempfile.TemporaryDirectory(prefix="rnnlab-mlflow-") as tmp:
        folder = Path(tmp)
        (folder / artefacts.CONFIG).write_text(json.dumps(run.config, indent=2, sort_keys=True))
        client.log_artifact(ml_id, str(folder / artefacts.CONFIG))
        from rnnlab import report as report_mod

        script = report_mod.script_text(run)
        if script:
            (folder / "script.py").write_text(script)
            client.log_artifact(ml_id, str(folder / "script.py"))
        if report:
            report_mod.write_html(store, run.id, folder / "report.html")
            client.log_artifact(ml_id, str(folder / "report.html"))


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
