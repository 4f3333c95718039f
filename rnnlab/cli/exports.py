"""A run taken out of the store: `rnnlab export` (script, model, predictions, forecast, report,
TensorBoard, MLflow) and `rnnlab report` (one self-contained HTML file)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TextIO

from rnnlab import artefacts
from rnnlab.config import RunConfig
from rnnlab.errors import ConfigError, RnnlabError
from rnnlab.store import RunRecord, Store


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
    for flag, names in (("model", artefacts.MODEL_FILES), ("predictions", (artefacts.PREDICTIONS,)),
                        ("forecast", (artefacts.FORECAST,))):
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
