"""A new file through an uploaded model's own preprocessing: its columns, target transform and
fitted scaler (never fitted again, since the network learned in those units), split by the run's
shares into windows of the model's lookback and horizon."""

from __future__ import annotations

import numpy as np

from rnnlab.comeback.keep import load_kept
from rnnlab.comeback.model import Brought
from rnnlab.config import DataConfig, RunConfig
from rnnlab.errors import DataError
from rnnlab.store import Store


def prepare(store: Store, run_cfg: RunConfig):
    """The run's data through its kept model's preprocessing (the worker's `data.prepare`)."""
    brought, _ = load_kept(store, run_cfg.from_model.bundle)
    return prepare_with(brought, run_cfg.data)


def prepare_with(brought: Brought, data_cfg: DataConfig):
    """`rnnlab.data.prepare` with the model's columns, transform and fitted scaler (never fitted
    again): rows split by data_cfg's shares, windows of the model's lookback and horizon."""
    from rnnlab.data import Scaler, load
    from rnnlab.data.split import (Prepared, _check_parts_with, _data_hash, _joined_index,
                                   _part_sizes, _split_windows)
    from rnnlab.samples import resolve_source
    from rnnlab.transforms import TargetTransform

    s = brought.settings
    inputs, lookback, horizon = brought.inputs, brought.lookback, brought.horizon
    options = dict(date_column=data_cfg.date_column, fill=data_cfg.fill,
                   categorical=data_cfg.categorical)
    loaded = load(resolve_source(data_cfg.source), **options)
    values, index = _model_columns(loaded, brought), loaded.frame.index     # (N, F)
    test_loaded = None
    if data_cfg.test_source:
        test_loaded = load(resolve_source(data_cfg.test_source), **options)
        values = np.concatenate([values, _model_columns(test_loaded, brought)])   # (T, F)
        index = _joined_index(loaded, test_loaded)
    transform = TargetTransform(brought.transform, s.get("season"))
    n_train, n_val, n_test = _part_sizes(data_cfg, len(loaded.frame), len(values))
    try:
        _check_parts_with(transform, n_train, n_val, n_test, lookback, horizon, data_cfg,
                          len(values), len(loaded.frame))
    except DataError as exc:
        raise DataError(f"{exc} The uploaded model's lookback ({lookback}) and horizon "
                        f"({horizon}) are fixed: use a file with more rows, or a larger test "
                        "share.") from None
    transform.check(values[:, 0], brought.target)
    scaler = Scaler.from_dict(s["scaler"])
    series = values.copy()                                               # (T, F)
    series[:, 0] = transform.forward(values[:, 0])
    scaled = scaler.transform(series)                                    # (T, F)
    scaled[:transform.lag] = 0.0
    parts = _split_windows(scaled, lookback, horizon, n_train, n_val, transform)
    season = data_cfg.season
    if season is None and loaded.sample is not None:
        season = loaded.sample.season
    return Prepared(loaded=loaded, target=brought.target, inputs=inputs, index=index,
                    values=values, scaled=scaled, scaler=scaler, n_train=n_train, n_val=n_val,
                    n_test=n_test, lookback=lookback, horizon=horizon, **parts, season=season,
                    data_sha256=_data_hash(loaded, test_loaded), test_loaded=test_loaded,
                    notes=[], transform=transform)


def _model_columns(loaded, brought: Brought) -> np.ndarray:
    """The model's input columns of a loaded file, in its order (N, F); DataError naming a
    column the file lacks. A one-hot column ("weather=sun") the file lacks is all 0."""
    frame = loaded.frame
    for column in brought.inputs:
        if column in frame.columns or "=" in column:
            continue
        needs = ", ".join(f"{c!r}" for c in brought.inputs)
        why = "has no column"
        if column in loaded.categorical_columns:
            why = "holds text, not numbers, in the column"
        elif column in loaded.dropped_columns:
            why = f"cannot use ({loaded.dropped_columns[column]}) the column"
        elif column == loaded.date_column:
            why = "reads as dates the column"
        raise DataError(f"The file {loaded.source_name} {why} {column!r}, which the model reads. "
                        f"The model needs the same columns as the file it was trained on "
                        f"({needs}). Rename the column in your file, or pick a file that has "
                        "these columns.")
    return frame.reindex(columns=brought.inputs, fill_value=0.0).to_numpy(dtype="float64")
