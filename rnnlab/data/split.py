"""Split a loaded series into train / validation / test windows: `prepare` returns `Prepared`.

`prepare` loads the data file (and the separate test file, when there is one), picks the
target (`choose_target`) and the input columns (a text column's name stands for all its one-hot
columns), splits the rows chronologically into parts (`part_size` rows from each fraction, or
the test file's rows), checks that every part holds a window and otherwise says how many rows
it needs, transforms the target (`rnnlab.transforms`), fits a `Scaler` on the training rows only
and cuts windows with `windows.make_windows`, each predicting rows inside its own part.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rnnlab.data.clean import LoadedData
from rnnlab.data.findings import _count
from rnnlab.data.read import load
from rnnlab.data.scale import Scaler
from rnnlab.errors import DataError
from rnnlab.samples import resolve_source
from rnnlab.transforms import TargetTransform, shift_windows, step_scale
from rnnlab.windows import check_positive_int, make_windows, window_range


@dataclass
class Prepared:
    """Scaled series and train / validation / test windows, ready for a model."""

    loaded: LoadedData
    target: str
    inputs: list[str]                  # inputs[0] == target
    index: pd.Index                    # timestamps (or positions) of every row of `values`
    values: np.ndarray                 # (T, F) raw values, train + val + test
    scaled: np.ndarray                 # (T, F) target transformed, then scaled (fitted on train rows)
    scaler: Scaler
    n_train: int
    n_val: int
    n_test: int
    lookback: int
    horizon: int
    X_train: np.ndarray                # (n, lookback, F) scaled
    y_train: np.ndarray                # (n, horizon) scaled
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    t_train: np.ndarray                # (n,) row of the first predicted step of each window
    t_val: np.ndarray
    t_test: np.ndarray
    season: int | None
    data_sha256: str
    test_loaded: LoadedData | None = None   # the separate test file, when there is one
    notes: list[str] = field(default_factory=list)
    transform: TargetTransform = field(default_factory=TargetTransform)   # what the network learns
    # the other inputs' values in the file's rows past the target's last value (j, F − 1), raw:
    # their known future, which the forecast beyond the data reads; None when there is none
    future_inputs: np.ndarray | None = None


def prepare(data_cfg, lookback: int, horizon: int, *, tables: dict | None = None) -> Prepared:
    """Load, pick columns, split chronologically, transform the target, scale on train rows only,
    cut windows (see `rnnlab.transforms` for the transforms and their three spaces).

    `tables`, when given, keeps each file read (by source and read options) for the next call
    with the same dict: a caller that prepares one file several ways reads it once.
    """
    lookback = check_positive_int("lookback", lookback)
    horizon = check_positive_int("horizon", horizon)
    options = _read_options(data_cfg)
    loaded = _read(data_cfg.source, options, tables)
    target = choose_target(loaded, data_cfg.target)
    inputs = [target] + _choose_features(loaded, data_cfg.features, target)
    test_loaded = _read(data_cfg.test_source, options, tables) if data_cfg.test_source else None
    values, index = _rows(loaded, test_loaded, inputs)               # (T, F), (T,)
    values, index, future, notes = _cut_future(test_loaded or loaded, values, index, inputs)
    end = getattr(data_cfg, "end_row", None)
    if end is not None:                         # a backtest fold: the rows up to its origin
        if end > len(values):
            raise DataError(f"end_row {end} is past the last row of the data ({len(values)} "
                            "rows). Use a smaller end_row.")
        values, index, future = values[:end], index[:end], None
    season = data_cfg.season
    if season is None and loaded.sample is not None:
        season = loaded.sample.season
    transform = TargetTransform(getattr(data_cfg, "transform", "none"), data_cfg.season)
    n_file = min(len(loaded.frame), len(values))
    n_train, n_val, n_test = _part_sizes(data_cfg, n_file, len(values))
    _check_parts_with(transform, n_train, n_val, n_test, lookback, horizon, data_cfg, len(values),
                      n_file)
    notes += _constant_inputs(values[:n_train], inputs)
    transform.check(values[:, 0], target)
    scaler, scaled = _scale(values, n_train, data_cfg.scaling, transform)   # (T, F)
    parts = _split_windows(scaled, lookback, horizon, n_train, n_val, transform)
    return Prepared(loaded=loaded, target=target, inputs=inputs, index=index, values=values,
                    scaled=scaled, scaler=scaler, n_train=n_train, n_val=n_val, n_test=n_test,
                    lookback=lookback, horizon=horizon, **parts, season=season,
                    data_sha256=_data_hash(loaded, test_loaded), test_loaded=test_loaded, notes=notes,
                    transform=transform, future_inputs=future)


def future_rows(last: LoadedData, target: str) -> int:
    """How many of the last rows of the last file read (the test file, when there is one) come
    after the target's last value: rows a run leaves out (`prepare`), 0 when there are none."""
    k = int(getattr(last, "trailing_missing", {}).get(target, 0))
    return k if 0 < k < len(last.frame) else 0


def _cut_future(last: LoadedData, values: np.ndarray, index: pd.Index, inputs: list[str]):
    """(values, index, future inputs or None, notes): the rows past the target's last value
    in the last file read are left out, not filled in (the loader filled them); the other
    inputs' values there, up to the first row where one of them is missing too, are kept as
    their known future."""
    k = future_rows(last, inputs[0])
    if not k or k >= len(values):
        return values, index, None, []
    known = k - max([last.trailing_missing.get(c, 0) for c in inputs[1:]], default=k)
    future = values[len(values) - k:len(values) - k + known, 1:] if known > 0 else None
    if isinstance(index, pd.DatetimeIndex):
        first, final = (str(index[i]).replace(" 00:00:00", "") for i in (len(index) - k, -1))
    else:
        first, final = f"row {len(last.frame) - k + 1}", f"{len(last.frame)}"
    span = first if k == 1 else f"{first} to {final}"
    note = (f"The last {_count(k, 'row')} of the file ({span}) have no {inputs[0]}: they "
            "are left out of training and scoring instead of being filled in.")
    if future is not None:
        note += (f" The forecast beyond the data reads {', '.join(inputs[1:])} from the first "
                 f"{_count(known, 'row')} of them.")
    return values[:-k], index[:-k], future, [note]


def _read(source, options: dict, tables: dict | None) -> LoadedData:
    """The loaded file, read now or found in `tables` (see `prepare`)."""
    if tables is None:
        return load(resolve_source(source), **options)
    key = _table_key(source, options)
    if key not in tables:
        tables[key] = load(resolve_source(source), **options)
    return tables[key]


def _table_key(source, options: dict) -> tuple:
    return str(source), tuple(sorted((k, repr(v)) for k, v in options.items()))


def _read_options(data_cfg) -> dict:
    """The options `prepare` reads a data config's files with."""
    return dict(date_column=data_cfg.date_column, fill=data_cfg.fill,
                categorical=data_cfg.categorical)


def keep_table(tables: dict, data_cfg, loaded: LoadedData) -> None:
    """Put a table already loaded into `tables`, for `prepare(data_cfg, ..., tables=tables)` to
    use instead of reading the file again, when it is that file read with those options."""
    options = _read_options(data_cfg)
    try:
        where = str(resolve_source(data_cfg.source))
    except DataError:
        return
    if loaded.read_as == (where, options):
        tables.setdefault(_table_key(data_cfg.source, options), loaded)


def _scale(values: np.ndarray, n_train: int, kind: str,
           transform: TargetTransform) -> tuple[Scaler, np.ndarray]:
    """Transform the target, fit the scaler on the transformed training rows, scale every row.

    Rows before `transform.lag` have no transformed value; they are never read by a window and
    are set to 0. For the relative transform the target is scaled by one step's typical size.
    """
    series = values.copy()                                           # (T, F)
    series[:, 0] = transform.forward(values[:, 0])
    lag = transform.lag
    scaler = Scaler(kind).fit(series[lag:n_train])
    if transform.relative:
        scaler.scale[0] = step_scale(series[:n_train, 0])
    scaled = scaler.transform(series)                                # (T, F)
    scaled[:lag] = 0.0
    return scaler, scaled


def _check_parts_with(transform: TargetTransform, n_train: int, n_val: int, n_test: int,
                      lookback: int, horizon: int, data_cfg, n_rows: int, n_file: int) -> None:
    """`_check_parts`, counting the rows a difference uses up as part of the lookback."""
    try:
        _check_parts(n_train, n_val, n_test, lookback + transform.lag, horizon, data_cfg, n_rows,
                     n_file)
    except DataError as exc:
        if not transform.lag:
            raise
        raise DataError(f"{exc} (The {transform.kind.replace('_', ' ')} transform uses up the "
                        f"first {transform.lag} row(s), so the lookback counts as "
                        f"{lookback + transform.lag} here.)") from None


def _rows(loaded: LoadedData, test: LoadedData | None, inputs: list[str]) -> tuple[np.ndarray, pd.Index]:
    """The input columns of the file, with the separate test file's rows appended after them."""
    values = loaded.frame[inputs].to_numpy(dtype="float64")          # (N, F)
    if test is None:
        return values, loaded.frame.index
    test_values = _test_values(test, inputs)                         # (N_test, F)
    return np.concatenate([values, test_values]), _joined_index(loaded, test)   # (T, F)


def _part_sizes(data_cfg, n_file: int, n_rows: int) -> tuple[int, int, int]:
    """(n_train, n_val, n_test): fractions of the file, or the test file's rows when there is one."""
    if data_cfg.test_source:
        n_val = part_size(n_file, data_cfg.val_fraction)
        return n_file - n_val, n_val, n_rows - n_file
    n_test = part_size(n_rows, data_cfg.test_fraction)
    n_val = part_size(n_rows, data_cfg.val_fraction)
    return n_rows - n_val - n_test, n_val, n_test


def choose_target(loaded: LoadedData, wanted: str | None) -> str:
    """The configured target, or the loader's default; DataError naming the numeric columns."""
    if wanted is None:
        return loaded.default_target
    if wanted in loaded.numeric_columns:
        return wanted
    raise DataError(_column_problem(loaded, wanted, "target"))


def _choose_features(loaded: LoadedData, wanted: tuple[str, ...], target: str) -> list[str]:
    """Extra input columns; a text column name stands for all its one-hot columns."""
    chosen: list[str] = []
    for name in wanted:
        expanded = [c for c in loaded.onehot_columns if c.startswith(f"{name}=")]
        if name in loaded.numeric_columns or name in loaded.onehot_columns:
            expanded = [name]
        if not expanded:
            raise DataError(_column_problem(loaded, name, "input"))
        chosen += [c for c in expanded if c != target and c not in chosen]
    return chosen


def _column_problem(loaded: LoadedData, name: str, role: str) -> str:
    """Why column `name` cannot be the target / an input, and which columns can."""
    available = ", ".join(loaded.numeric_columns + (loaded.onehot_columns if role == "input" else []))
    pick = f"Pick one of the numeric columns: {available}."
    if name == loaded.date_column:
        return f"The {role} {name!r} is the date column. {pick}"
    if name in loaded.categorical_columns:
        hint = " or choose one-hot encoding to use its categories as inputs" if role == "input" else ""
        return f"The {role} {name!r} holds text, not numbers. {pick[:-1]}{hint}."
    if name in loaded.dropped_columns:
        return f"The {role} {name!r} cannot be used: {loaded.dropped_columns[name]}. {pick}"
    return f"There is no column {name!r} in {loaded.source_name}. {pick}"


def _test_values(test: LoadedData, inputs: list[str]) -> np.ndarray:
    """The test file's columns in the order of `inputs`; one-hot columns it lacks are all 0."""
    frame = test.frame
    missing = [c for c in inputs if c not in frame.columns and "=" not in c]
    if missing:
        raise DataError(f"The test file {test.source_name} has no column {missing[0]!r}. It needs the "
                        f"same columns as the training file ({', '.join(inputs)}).")
    return frame.reindex(columns=inputs, fill_value=0.0).to_numpy(dtype="float64")   # (N_test, F)


def _joined_index(train: LoadedData, test: LoadedData) -> pd.Index:
    """Train dates followed by test dates (which must come later), or plain positions."""
    a, b = train.frame.index, test.frame.index
    if not (isinstance(a, pd.DatetimeIndex) and isinstance(b, pd.DatetimeIndex)):
        return pd.RangeIndex(len(a) + len(b))
    if b[0] <= a[-1]:
        raise DataError(f"The test file {test.source_name} starts on {b[0].date()}, which is not after "
                        f"the training file ends ({a[-1].date()}). The test rows must come after the "
                        "training rows in time.")
    return a.append(b)


def part_size(n_rows: int, fraction: float) -> int:
    """Rows for a part: the fraction rounded, and at least one row when the fraction is not 0."""
    if fraction <= 0:
        return 0
    return max(1, int(round(n_rows * fraction)))


def _check_parts(n_train: int, n_val: int, n_test: int, lookback: int, horizon: int, data_cfg,
                 n_rows: int, n_file: int) -> None:
    """DataError with the numbers when a part is too short for one window."""
    if n_file < lookback + horizon or n_train < 1:
        raise DataError(_too_short(n_file, lookback, horizon, data_cfg))
    if n_train < lookback + horizon:
        raise DataError(f"The training part has {n_train:,} rows but lookback {lookback} + horizon "
                        f"{horizon} needs at least {lookback + horizon}. Lower the lookback, use "
                        "smaller validation/test parts, or use a longer series "
                        f"({n_rows:,} rows in all).")
    if data_cfg.val_fraction > 0 and n_val < horizon:
        raise DataError(f"The validation part has {n_val:,} rows but horizon {horizon} needs at least "
                        f"{horizon}. Raise val_fraction, lower the horizon, or set val_fraction to 0.")
    if n_test < horizon:
        fix = "use a longer test file" if data_cfg.test_source else "raise test_fraction"
        raise DataError(f"The test part has {n_test:,} rows but horizon {horizon} needs at least "
                        f"{horizon}. Lower the horizon or {fix}.")


def _too_short(n_file: int, lookback: int, horizon: int, data_cfg) -> str:
    """The data file cannot hold one window per part: say how many rows it would need."""
    need = _rows_needed(lookback, horizon, data_cfg)
    n_train, n_val, n_test = _part_sizes(data_cfg, n_file, n_file + (horizon if data_cfg.test_source else 0))
    fit = lookback - (lookback + horizon - n_train)          # the lookback these rows allow
    parts_ok = ((data_cfg.val_fraction == 0 or n_val >= horizon)
                and (data_cfg.test_source or n_test >= horizon))
    fix = f"lower the lookback to {fit} or less" if fit >= 1 and parts_ok else "use a longer series"
    return (f"The data has {_count(n_file, 'row')}, too few for lookback {lookback} + horizon "
            f"{horizon}: with {_parts_text(data_cfg)} it needs at least {need:,} rows. "
            f"{fix[0].upper()}{fix[1:]}{', or use a longer series' if fix.startswith('lower') else ''}.")


def _parts_text(data_cfg) -> str:
    """'10% of the rows for validation and 10% for testing'."""
    val, test = data_cfg.val_fraction, data_cfg.test_fraction
    pieces = [f"{val * 100:g}% of the rows for validation"] if val > 0 else []
    if not data_cfg.test_source:
        pieces.append(f"{test * 100:g}% {'of the rows ' if not pieces else ''}for testing")
    return " and ".join(pieces) or "no validation part"


def _rows_needed(lookback: int, horizon: int, data_cfg) -> int:
    """The fewest rows in the data file that give every part at least one window."""
    val = data_cfg.val_fraction
    test = 0.0 if data_cfg.test_source else data_cfg.test_fraction
    n = max(lookback + horizon, math.ceil((lookback + horizon) / (1 - val - test)))
    for fraction in (val, test):
        if fraction > 0:
            n = max(n, math.ceil((horizon - 0.5) / fraction))
    while True:
        n_train, n_val, n_test = _part_sizes(data_cfg, n, n + (horizon if data_cfg.test_source else 0))
        if n_train >= lookback + horizon and (val == 0 or n_val >= horizon) and n_test >= horizon:
            return n
        n += 1


def _constant_inputs(train: np.ndarray, inputs: list[str]) -> list[str]:
    """DataError if the target does not vary over the training rows; notes for constant inputs."""
    spread = np.ptp(train, axis=0)                                   # (F,)
    if spread[0] == 0:
        raise DataError(f"The target {inputs[0]} is constant (= {round(float(train[0, 0]), 6)}) in "
                        "the training part; there is nothing to learn. Pick another column or a "
                        "longer span.")
    return [f"Input {name} is constant (= {round(float(train[0, i]), 6)}) in the training part; it "
            "carries no information for the model." for i, name in enumerate(inputs) if spread[i] == 0]


def _split_windows(scaled: np.ndarray, lookback: int, horizon: int, n_train: int,
                   n_val: int, transform: TargetTransform | None = None) -> dict[str, np.ndarray]:
    """Windows whose predicted rows lie inside each part; inputs may reach back into earlier parts.

    A window's inputs start at or after the transform's first defined row; with the relative
    transform the windows are shifted copies (model space), otherwise views of `scaled`.
    """
    transform = transform or TargetTransform()
    bounds = {"train": (0, n_train), "val": (n_train, n_train + n_val),
              "test": (n_train + n_val, len(scaled))}
    out = {}
    for part, (start, stop) in bounds.items():
        start = max(start, lookback + transform.lag)
        X, y = make_windows(scaled, lookback, horizon, 0, start, stop)   # (n, L, F), (n, H)
        if transform.relative:
            X, y = shift_windows(X, y)
        first, count = window_range(len(scaled), lookback, horizon, start, stop)
        out[f"X_{part}"], out[f"y_{part}"] = X, y
        out[f"t_{part}"] = np.arange(first, first + count)               # (n,)
    return out


def _data_hash(train: LoadedData, test: LoadedData | None) -> str:
    """The data file's sha256; with a separate test file, the sha256 of both hashes joined."""
    if test is None:
        return train.sha256
    return hashlib.sha256(f"{train.sha256}+{test.sha256}".encode()).hexdigest()
