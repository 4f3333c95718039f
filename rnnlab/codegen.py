"""A run -> a standalone Python script that reproduces it with keras, numpy and pandas only.

The script reads top to bottom: a header naming the run, a block of plain constants a student
can edit (EPOCHS = ...), then the data steps (read, clean, split, transform the target, scale on
the training rows only, windows), the model, the fit, and the test scores, back in the data's
own units, next to the naive baseline. It never imports rnnlab. The target transform
(TRANSFORM, SEASON) is the same as `rnnlab.transforms`, and so is its inverse. An echo state
network (cell "esn") is exported as numpy code instead of Keras.

User text (run name, paths, column names) only ever enters the script as a Python literal
(`repr`) or as JSON inside a comment, so no name can break or inject code.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from rnnlab import cells
from rnnlab.config import CELL_LABELS, TRANSFORM_LABELS, RunConfig
from rnnlab.codegen_esn import ESN_CODE as _ESN_CODE, ESN_MAIN as _ESN_MAIN
from rnnlab.samples import SAMPLE_DIR, SAMPLES

COMMENT_COLUMN = 28  # settings comments line up here


def export(run_config: RunConfig, data_path_hint: str | None = None, *,
           run_id: str | None = None, data_sha256: str | None = None) -> str:
    """The script's text. data_path_hint replaces the data file's path (the test file sits beside it)."""
    data_file, test_file = _data_paths(run_config, data_path_hint)
    esn = cells.get(run_config.model.cell).keras_class is None   # numpy code, no Keras
    parts = [
        _header(run_config, data_file, test_file, run_id, data_sha256),
        _IMPORTS if esn else _IMPORTS + "import keras\n",
        _SETTINGS_TITLE + "\n" + _settings_block(_data_settings(run_config, data_file, test_file)),
        _settings_block(_esn_settings(run_config) if esn else _keras_settings(run_config)),
        _DATA_CODE,
        _ESN_CODE if esn else _KERAS_CODE,
        _SCORE_CODE,
        _ESN_MAIN if esn else _KERAS_MAIN,
        'if __name__ == "__main__":\n    main()',
    ]
    return "\n\n\n".join(part.strip("\n") for part in parts) + "\n"


# ---------------------------------------------------------------- header and settings

def _data_paths(cfg: RunConfig, hint: str | None) -> tuple[str, str | None]:
    """Where the script reads its data: the hint, else the sample file, else the source as given."""
    test = cfg.data.test_source
    if hint:
        beside = str(Path(hint).parent / Path(test).name) if test else None
        return str(hint), beside
    return _resolve(cfg.data.source), (_resolve(test) if test else None)


def _resolve(source: str) -> str:
    """A sample name becomes the absolute path of the sample file; anything else stays as given."""
    candidate = SAMPLE_DIR / source
    if "/" not in source and "\\" not in source and candidate.is_file():
        return str(candidate)
    return source


def _header(cfg: RunConfig, data_file: str, test_file: str | None, run_id: str | None,
            data_sha256: str | None) -> str:
    """Comment lines naming the run, its data and its full config (user text JSON-escaped)."""
    cell = CELL_LABELS[cfg.model.cell]
    lines = [
        "# Reproduces an RNN Lab run as a standalone script (keras, numpy and pandas only).",
        f"# Run: {_safe(cfg.name or '(unnamed)')}" + (f"  id {_safe(run_id)}" if run_id else ""),
        f"# Model: {cell}, {cfg.model.n_layers} layer(s), lookback {cfg.model.lookback}, "
        f"horizon {cfg.model.horizon}",
        f"# Data: {_safe(data_file)}" + (f"  test file: {_safe(test_file)}" if test_file else ""),
    ]
    if data_sha256:
        lines.append(f"# Data sha256: {_safe(data_sha256)}")
    lines += ["#", "# Run it:  python this_script.py    (edit the settings below and run again)",
              "# It runs on any Keras backend. RNN Lab trains on JAX when it is installed; to",
              "# come closer to it:  KERAS_BACKEND=jax python this_script.py",
              "# Results differ from the app's run even with the same seed: RNN Lab draws its",
              "# own dropout masks, and the backend and library versions change the last",
              "# digits.", "#",
              "# The run's full config:"]
    for section, values in cfg.to_dict().items():
        text = f"{section}: {json.dumps(values, sort_keys=True, ensure_ascii=False)}"
        lines += ["#   " + line for line in textwrap.wrap(text, 95, subsequent_indent="    ")]
    return "\n".join(lines)


def _safe(text: Any) -> str:
    """Text for a comment: one line, quoted (JSON escapes every line break and control character)."""
    return json.dumps(str(text), ensure_ascii=False)


def _settings_block(rows: list[tuple[str, Any, str]]) -> str:
    """`NAME = value   # comment` lines; values are Python literals."""
    out = []
    for name, value, comment in rows:
        line = f"{name} = {value!r}"
        out.append(f"{line.ljust(COMMENT_COLUMN)}  # {comment}" if comment else line)
    return "\n".join(out)


def _data_settings(cfg: RunConfig, data_file: str, test_file: str | None) -> list[tuple]:
    """Settings for reading, cleaning, splitting and scaling the data."""
    d, m = cfg.data, cfg.model
    sample = SAMPLES.get(d.source)  # its target and date column, where the config leaves them open
    return [
        ("DATA_FILE", data_file, "CSV with a date column and numeric columns"),
        ("TEST_FILE", test_file, "later rows to test on; None: the last TEST_FRACTION of DATA_FILE"),
        ("DATE_COLUMN", d.date_column or (sample.date_column if sample else None),
         "None: the first column that reads as dates"),
        ("TARGET", d.target or (sample.target if sample else None),
         "the column to forecast; None: the first numeric one"),
        ("FEATURES", list(d.features), "extra input columns; the target is always the first input"),
        ("ONE_HOT", d.categorical == "onehot", "turn text columns into 0/1 columns (weather=rain, ...)"),
        ("FILL", d.fill, "missing values: 'interpolate', 'ffill' or 'drop'"),
        ("VAL_FRACTION", d.val_fraction, "share of the rows kept for validation (after training rows)"),
        ("TEST_FRACTION", d.test_fraction, "share of the rows kept for testing (the last ones)"),
        ("END_ROW", d.end_row, "use only the first END_ROW rows (a backtest fold); None: all"),
        ("SCALING", d.scaling, "'minmax', 'standard' or 'none'; fitted on training rows only"),
        ("TRANSFORM", d.transform, _transform_comment(d.transform)),
        ("SEASON", d.season, "rows in one cycle (12 for monthly data), for 'seasonal_difference'"),
        ("LOOKBACK", m.lookback, "past steps the network sees: the unrolled length"),
        ("HORIZON", m.horizon, "values predicted at once"),
        ("SAVE_MODEL_TO", None, f"e.g. {'model.keras' if _keras(m.cell) else 'esn.npz'!r} "
                                "to keep the trained model"),
    ]


def _transform_comment(kind: str) -> str:
    """What the chosen transform makes the network learn, and where the choices are listed."""
    label = TRANSFORM_LABELS[kind].split(": ", 1)[-1]
    return f"the network learns {label} (choices: 'The target transform' below)"


def _keras_settings(cfg: RunConfig) -> list[tuple]:
    """Settings for the Keras model and its training."""
    m = cfg.model
    return [
        ("CELL", _keras(m.cell), _CELL_CHOICES),
        ("UNITS", list(m.units_per_layer), "one entry per recurrent layer, bottom to top"),
        ("DROPOUT", list(m.dropout_per_layer), "Dropout layer after each recurrent layer"),
        ("RECURRENT_DROPOUT", list(m.recurrent_dropout_per_layer), "dropout on the recurrent state"),
        *_named(m, BIDIRECTIONAL="read each window forwards and backwards",
                LINEAR_SKIP="add a linear path (least squares on the window) that the network "
                            "corrects",
                KERNEL_INITIALIZER="'glorot_uniform', 'orthogonal', 'identity' or 'random_normal'",
                RECURRENT_INITIALIZER="same choices",
                INIT_SCALE="gain for orthogonal/identity, stddev for random_normal",
                L1="penalty on the kernel and recurrent kernel",
                L2="penalty on the kernel and recurrent kernel"),
        *_named(cfg.train, OPTIMIZER="'adam', 'sgd' or 'rmsprop'", LEARNING_RATE="",
                CLIPNORM="clip each gradient's norm; None: off",
                CLIPVALUE="clip each gradient value; None: off", LOSS="'mse', 'mae' or 'huber'",
                EPOCHS="", BATCH_SIZE="", EARLY_STOPPING_PATIENCE="0: off",
                SEED="same seed, same starting weights"),
    ]


def _esn_settings(cfg: RunConfig) -> list[tuple]:
    """Settings for the echo state network."""
    return [
        *_named(cfg.model, RESERVOIR_SIZE="neurons in the fixed random reservoir",
                SPECTRAL_RADIUS="largest |eigenvalue| of the reservoir; < 1 fades memory",
                LEAK_RATE="1: no leak; smaller: slower, smoother state",
                INPUT_SCALING="range of the input weights",
                RIDGE="penalty of the ridge-regression readout"),
        ("SEED", cfg.train.seed, "same seed, same reservoir"),
    ]


def _keras(cell: str) -> str | None:
    """The keras.layers class of the cell; None when it is not a Keras layer."""
    return cells.get(cell).keras_class


def _named(section, **comments: str) -> list[tuple]:
    """(NAME, value, comment) rows, each value the field of `section` (a ModelConfig or a
    TrainConfig) that NAME names in lower case."""
    return [(name, getattr(section, name.lower()), comment) for name, comment in comments.items()]


# ---------------------------------------------------------------- the script's code

_SETTINGS_TITLE = "# ---------------------------------------------------------------- settings: edit these"

_IMPORTS = """
import numpy as np
import pandas as pd
"""

# The inverse of the target transform, the body of a script's `to_original`: the network's
# outputs (n, HORIZON) of the windows predicting rows t + h -> the data's units, from the target
# y (T,) and its column's scale and offset. The exported script and the bundle's predict.py
# (`rnnlab.bundle`) each carry this text, as neither imports anything of rnnlab.
UNDO_TRANSFORM = """
    if TRANSFORM == "relative":  # the change from the window's last value, in steps
        return y[t - 1][:, None] + outputs * scale
    z = outputs * scale + offset  # (n, HORIZON) unscaled, still transformed
    if TRANSFORM == "log":
        return np.exp(z)
    if TRANSFORM == "difference":  # add the predicted changes to the last value seen
        return y[t - 1][:, None] + np.cumsum(z, axis=1)
    if TRANSFORM == "seasonal_difference":  # add each change to the value one season earlier
        out = np.empty_like(z)
        for h in range(z.shape[1]):  # from h = SEASON on, that value is itself a forecast
            out[:, h] = (y[t + h - SEASON] if h < SEASON else out[:, h - SEASON]) + z[:, h]
        return out
    return z
"""

_DATA_CODE = '''
# ---------------------------------------------------------------- data


def find_date_column(frame):
    """The first text column whose values read as dates, or None."""
    for name in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[name]):
            continue
        parsed = pd.to_datetime(frame[name], errors="coerce", format="mixed")
        if parsed.notna().mean() > 0.9:
            return name
    return None


def numeric_table(frame):
    """Numbers as floats: text that mostly reads as numbers becomes numbers, other text becomes
    0/1 columns ("weather=rain") when ONE_HOT is on, and is left out otherwise."""
    for name in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[name]):
            numbers = pd.to_numeric(frame[name], errors="coerce")
            if numbers.notna().sum() >= 0.9 * frame[name].notna().sum():
                frame[name] = numbers
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if ONE_HOT and text:
        return pd.get_dummies(frame, columns=text, prefix_sep="=", dtype=float)
    return frame.drop(columns=text).astype(float)


def add_missing_dates(frame):
    """A missing day (or hour, week, ...) becomes a row to fill, when at most 10 % are missing."""
    steps = frame.index.to_series().diff().dropna()
    if FILL == "drop" or steps.empty or (frame.index.dayofweek < 5).all():
        return frame  # weekday-only data (trading days) keeps its rows as they are
    grid = pd.date_range(frame.index[0], frame.index[-1], freq=steps.min())
    if not frame.index.isin(grid).all() or len(grid) - len(frame) > 0.1 * len(grid):
        return frame
    return frame.reindex(grid.rename(frame.index.name))


def read_clean(path, last=True):
    """Read a CSV: dates parsed and sorted, numbers numeric ("1,008.64" too), gaps filled. In
    the last file, rows past the target's last value are the future: left out, not filled in."""
    frame = pd.read_csv(path, thousands=",")
    date_column = DATE_COLUMN or find_date_column(frame)
    if date_column is not None:
        frame[date_column] = pd.to_datetime(frame[date_column], errors="coerce")
        frame = frame.dropna(subset=[date_column]).set_index(date_column)
    frame = numeric_table(frame)
    if date_column is not None:
        frame = frame.groupby(level=0).mean()  # sorted by date; rows of a repeated date averaged
        frame = add_missing_dates(frame)
    target = TARGET or frame.columns[0]
    if last and target in frame and frame[target].notna().any():
        frame = frame.iloc[:frame.index.get_loc(frame[target].last_valid_index()) + 1]
    if FILL == "interpolate":
        return frame.interpolate(limit_direction="both")
    if FILL == "ffill":
        return frame.ffill().bfill()
    return frame.dropna()


def input_columns(frame):
    """The target first, then FEATURES; a text column's name stands for all its 0/1 columns."""
    target = TARGET or frame.columns[0]
    columns = [target]
    for name in FEATURES:
        expanded = [name] if name in frame.columns else [
            c for c in frame.columns if c.startswith(f"{name}=")]
        if not expanded:
            raise SystemExit(f"No column {name!r} in {DATA_FILE}; columns: {list(frame.columns)}")
        columns += [c for c in expanded if c not in columns]
    return columns


def part_size(n_rows, fraction):
    """Rows for a part: the fraction rounded, at least one row unless the fraction is 0."""
    return 0 if fraction <= 0 else max(1, round(n_rows * fraction))


def load_values():
    """All rows (training file, then test file) and how many are train, validation, test."""
    frame = read_clean(DATA_FILE, last=not TEST_FILE)
    frame = frame[input_columns(frame)]
    if TEST_FILE:
        test = read_clean(TEST_FILE).reindex(columns=frame.columns, fill_value=0.0)
        n_test, n_val = len(test), part_size(len(frame), VAL_FRACTION)
        frame = pd.concat([frame, test])
    else:
        frame = frame.iloc[:END_ROW] if END_ROW else frame
        n_test, n_val = part_size(len(frame), TEST_FRACTION), part_size(len(frame), VAL_FRACTION)
    print(f"{len(frame)} rows; inputs {list(frame.columns)}; target {frame.columns[0]!r}")
    return frame.to_numpy(), len(frame) - n_val - n_test, n_val, n_test


def fit_scaler(train):
    """Per-column offset and span from the training rows only (no peeking at the future)."""
    if SCALING == "minmax":
        offset, span = train.min(axis=0), train.max(axis=0) - train.min(axis=0)
    elif SCALING == "standard":
        offset, span = train.mean(axis=0), train.std(axis=0)
    else:
        offset, span = np.zeros(train.shape[1]), np.ones(train.shape[1])
    return offset, np.where(span > 0, span, 1.0)


# The target transform (TRANSFORM): what the network learns in place of the target's values.
#   'none'                 the values as they are
#   'difference'           y[t] - y[t-1], the change from one step to the next
#   'seasonal_difference'  y[t] - y[t-SEASON], the change from one season earlier
#   'log'                  log y[t], for positive series that grow by a percentage
#   'relative'             every window minus its last target value, in units of a typical step
# A difference has no value in its first rows (lag), so the first window starts LOOKBACK + lag
# rows in. to_original() undoes the transform, so the scores are in the data's own units.


def lag():
    """Rows at the start with no transformed value: 1 for a difference, SEASON for a seasonal."""
    if TRANSFORM == "seasonal_difference" and not (SEASON and SEASON >= 2):
        raise SystemExit("TRANSFORM 'seasonal_difference' needs SEASON: the rows in one cycle.")
    return {"difference": 1, "seasonal_difference": SEASON}.get(TRANSFORM, 0)


def transform_target(target):
    """The target (T,) as the network learns it; NaN in the first lag() rows."""
    if TRANSFORM == "log":
        if not (target > 0).all():
            raise SystemExit("TRANSFORM 'log' needs a target above 0 in every row; "
                             "use 'difference' instead.")
        return np.log(target)
    z = np.array(target, dtype=float)  # (T,)
    if lag():
        z[lag():] = target[lag():] - target[:-lag()]
        z[:lag()] = np.nan
    return z


def step_size(z_train):
    """The typical size of one step of the training rows (std of the changes), 1 if none."""
    steps = np.diff(z_train)
    steps = steps[np.isfinite(steps)]
    spread = float(steps.std()) if len(steps) else 0.0
    return spread if spread > 0 else 1.0


def to_original(outputs, t, values, offset, span):
    """The network's outputs (n, HORIZON) for windows predicting rows t + h -> data units."""
    y, scale, offset = values[:, 0], span[0], offset[0]  # the target (T,) and its scaling''' \
    + UNDO_TRANSFORM + '''

def make_windows(series, start, stop):
    """Windows predicting rows [t, t + HORIZON) from rows [t - LOOKBACK, t), for every t with
    start <= t and t + HORIZON <= stop (and t >= LOOKBACK + lag(): no undefined row is read).

    A window may read its inputs from an earlier part (the first test windows read the last
    training rows), but every value it predicts lies in [start, stop). With TRANSFORM
    'relative' each window is shifted so that its last target value is 0.
    """
    starts = np.arange(max(start, LOOKBACK + lag()), stop - HORIZON + 1)  # (n,)
    X = np.array([series[t - LOOKBACK:t] for t in starts])
    y = np.array([series[t:t + HORIZON, 0] for t in starts])
    X = X.reshape(len(starts), LOOKBACK, series.shape[1])  # (n, LOOKBACK, n_features)
    y = y.reshape(len(starts), HORIZON)  # (n, HORIZON)
    if TRANSFORM == "relative":
        last = X[:, -1, 0].copy()  # (n,)
        X[:, :, 0] -= last[:, None]
        y -= last[:, None]
    return X.astype("float32"), y.astype("float32"), starts


def prepare():
    """Raw values, scaling, and the train / validation / test windows."""
    values, n_train, n_val, n_test = load_values()  # values: (T, n_features)
    series = values.copy()
    series[:, 0] = transform_target(values[:, 0])  # the target as the network learns it
    offset, span = fit_scaler(series[lag():n_train])
    if TRANSFORM == "relative":
        span[0] = step_size(series[:n_train, 0])  # one typical step becomes 1
    scaled = scale(values, offset, span)  # (T, n_features)
    windows = {
        "train": make_windows(scaled, 0, n_train),
        "val": make_windows(scaled, n_train, n_train + n_val),
        "test": make_windows(scaled, n_train + n_val, len(values)),
    }
    for part in ("train", "test"):
        if len(windows[part][0]) == 0:
            raise SystemExit(f"The {part} part has no windows: lower LOOKBACK or HORIZON, "
                             "or give that part more rows.")
    print({part: len(w[0]) for part, w in windows.items()}, "windows")
    return values, offset, span, windows


def scale(values, offset, span):
    """Every row as the network reads it (T, n_features): the target transformed, then each
    column scaled; rows with no transformed value are 0 (no window reads them)."""
    series = values.copy()
    series[:, 0] = transform_target(values[:, 0])
    scaled = (series - offset) / span
    scaled[:lag()] = 0.0
    return scaled
'''

_KERAS_CODE = '''
# ---------------------------------------------------------------- model

CELLS = {@CELLS@}
OPTIMIZERS = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD,
              "rmsprop": keras.optimizers.RMSprop}


def initializer(name):
    """A weight initialiser; INIT_SCALE is the gain (orthogonal, identity) or stddev (random_normal)."""
    if name == "orthogonal":
        return keras.initializers.Orthogonal(gain=INIT_SCALE)
    if name == "identity":
        return keras.initializers.Identity(gain=INIT_SCALE)
    if name == "random_normal":
        return keras.initializers.RandomNormal(stddev=INIT_SCALE)
    return keras.initializers.GlorotUniform()


def penalty():
    """L1/L2 penalty on a weight matrix, or None."""
    return keras.regularizers.L1L2(l1=L1, l2=L2) if (L1 or L2) else None


def recurrent_layer(i):
    """Layer i of the stack; all but the last pass their whole sequence upwards."""
    layer = CELLS[CELL](
        UNITS[i],
        return_sequences=i < len(UNITS) - 1,
        recurrent_dropout=RECURRENT_DROPOUT[i],
        kernel_initializer=initializer(KERNEL_INITIALIZER),
        recurrent_initializer=initializer(RECURRENT_INITIALIZER),
        kernel_regularizer=penalty(),
        recurrent_regularizer=penalty(),
    )
    return keras.layers.Bidirectional(layer) if BIDIRECTIONAL else layer


def make_optimizer():
    """The optimiser with its learning rate and gradient clipping (each tensor on its own)."""
    base = OPTIMIZERS[OPTIMIZER]
    if not (CLIPNORM and CLIPVALUE):
        clip = {"clipnorm": CLIPNORM} if CLIPNORM else {"clipvalue": CLIPVALUE} if CLIPVALUE else {}
        return base(learning_rate=LEARNING_RATE, **clip)

    class ClipValueThenNorm(base):
        """Keras takes only one of clipnorm and clipvalue: clip values here, then Keras clips norms."""

        def apply(self, grads, trainable_variables=None):
            grads = [None if g is None else keras.ops.clip(g, -CLIPVALUE, CLIPVALUE) for g in grads]
            return super().apply(grads, trainable_variables)

    return ClipValueThenNorm(learning_rate=LEARNING_RATE, clipnorm=CLIPNORM)


def build_model(n_features):
    """Stacked recurrent layers, Dropout after each, then Dense(HORIZON); with LINEAR_SKIP, plus
    a linear path from the flattened window (its Dense starts at zero on the recurrent side)."""
    if not len(UNITS) == len(DROPOUT) == len(RECURRENT_DROPOUT):
        raise SystemExit("UNITS, DROPOUT and RECURRENT_DROPOUT need one entry per layer.")
    inputs = keras.Input(shape=(LOOKBACK, n_features))  # (batch, LOOKBACK, n_features)
    h = inputs
    for i in range(len(UNITS)):
        h = recurrent_layer(i)(h)
        if DROPOUT[i] > 0:
            h = keras.layers.Dropout(DROPOUT[i])(h)
    if LINEAR_SKIP:
        head = keras.layers.Dense(HORIZON, kernel_initializer="zeros")(h)  # (batch, HORIZON)
        flat = keras.layers.Flatten(name="window_flat")(inputs)  # (batch, LOOKBACK * n_features)
        linear = keras.layers.Dense(HORIZON, name="linear_skip")(flat)  # (batch, HORIZON)
        outputs = keras.layers.Add()([head, linear])
    else:
        outputs = keras.layers.Dense(HORIZON)(h)  # (batch, HORIZON)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=make_optimizer(), loss=LOSS)
    return model


def start_linear_skip(model, windows):
    """Start the linear path at the least-squares fit of the training targets on the windows."""
    X_train, y_train, _ = windows["train"]
    design = np.column_stack([X_train.reshape(len(X_train), -1), np.ones(len(X_train))])
    coef, *_ = np.linalg.lstsq(design, y_train, rcond=None)  # (LOOKBACK * n_features + 1, HORIZON)
    model.get_layer("linear_skip").set_weights([coef[:-1], coef[-1]])


class EarlyStoppingFromStart(keras.callbacks.EarlyStopping):
    """Early stopping that also counts the weights training starts from (the linear path's
    least-squares fit): if no epoch beats their validation loss, they are kept."""

    def __init__(self, start_loss, **kwargs):
        super().__init__(**kwargs)
        self.start_loss = start_loss

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.best, self.best_epoch, self.best_weights = self.start_loss, -1, self.model.get_weights()


def fit(model, windows):
    """Train on the training windows, watching the validation windows if there are any."""
    X_train, y_train, _ = windows["train"]
    X_val, y_val, _ = windows["val"]
    has_val = len(X_val) > 0
    callbacks = []
    if EARLY_STOPPING_PATIENCE > 0:
        settings = dict(monitor="val_loss" if has_val else "loss",
                        patience=EARLY_STOPPING_PATIENCE, restore_best_weights=True)
        if LINEAR_SKIP and has_val:  # the straight line is kept unless an epoch beats it
            start = model.evaluate(X_val, y_val, batch_size=BATCH_SIZE, verbose=0, return_dict=True)
            callbacks.append(EarlyStoppingFromStart(start["loss"], **settings))
        else:
            callbacks.append(keras.callbacks.EarlyStopping(**settings))
    model.fit(X_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE, callbacks=callbacks,
              validation_data=(X_val, y_val) if has_val else None, verbose=2)
    return callbacks[0] if callbacks else None


def run_forward(model, values, offset, span, origins, steps):
    """Forecasts fed on their own outputs, in the data's units (n, steps): from each origin r,
    rows r .. r + steps - 1, read from the real rows before r and the forecasts since. The
    inputs other than the target are unknown ahead, so they are held at their last real value."""
    scaled = scale(values, offset, span)  # (T, n_features)
    window = np.stack([scaled[r - LOOKBACK:r] for r in origins])  # (n, LOOKBACK, n_features)
    held = window[:, -1:, 1:]  # (n, 1, n_features - 1)
    path = np.empty((len(origins), 0))
    while path.shape[1] < steps:
        last = window[:, -1:, 0] if TRANSFORM == "relative" else np.zeros((len(origins), 1))
        inputs = window.copy()
        inputs[:, :, 0] -= last
        outputs = np.asarray(model.predict(inputs.astype("float32"), verbose=0)) + last
        k = min(HORIZON, steps - path.shape[1])
        new = np.concatenate([outputs[:, :k, None], np.repeat(held, k, axis=1)], axis=2)
        window = np.concatenate([window, new], axis=1)[:, -LOOKBACK:]
        path = np.concatenate([path, outputs[:, :k]], axis=1)  # (n, steps so far)
    if TRANSFORM == "relative":  # to_original reads changes from the value before each origin
        path = path - scaled[origins - 1, 0][:, None]
    return to_original(path, origins, values, offset, span)


def free_running_error(model, values, offset, span, windows):
    """RMSE of forecasts fed on their own outputs across the validation rows: from every
    validation row with half the part ahead of it, half the part's rows (at least HORIZON)."""
    starts = windows["val"][2]
    first, n_val = int(starts[0]), int(starts[-1]) + HORIZON - int(starts[0])
    steps = max(HORIZON, n_val // 2)
    origins = np.arange(first, first + n_val - steps + 1)  # (n,)
    path = run_forward(model, values, offset, span, origins, steps)  # (n, steps)
    actual = values[origins[:, None] + np.arange(steps), 0]
    return float(np.sqrt(np.mean((path - actual) ** 2)))


def keep_start_if_it_runs_better(model, start, values, offset, span, windows):
    """Run the trained model and its starting weights (the linear path's least-squares fit)
    forward over the validation rows; if the start errs less, keep it."""
    trained = model.get_weights()
    trained_error = free_running_error(model, values, offset, span, windows)
    model.set_weights(start)
    start_error = free_running_error(model, values, offset, span, windows)
    if np.isfinite(start_error) and (start_error < trained_error or not np.isfinite(trained_error)):
        print(f"Run forward on its own forecasts, the starting weights erred {start_error:.4g} "
              f"on the validation rows against {trained_error:.4g}: keeping the start.")
    else:
        model.set_weights(trained)
'''

KERAS_CELLS = tuple(dict.fromkeys(cells.keras_classes().values()))   # from rnnlab.cells
_KERAS_CODE = _KERAS_CODE.replace("@CELLS@", ", ".join(f'"{c}": keras.layers.{c}'
                                                       for c in KERAS_CELLS))
_CELL_CHOICES = " or ".join(", ".join(map(repr, KERAS_CELLS)).rsplit(", ", 1))  # 'A', 'B' or 'C'

_SCORE_CODE = '''
# ---------------------------------------------------------------- scores


def report(model, values, offset, span, windows):
    """Test RMSE and MAE in the data's own units, beside the naive forecast (repeat the last value)."""
    X_test, _, starts = windows["test"]
    outputs = model.predict(X_test, verbose=0)  # (n, HORIZON), scaled and transformed
    predicted = to_original(outputs, starts, values, offset, span)  # the data's own units
    rows = starts[:, None] + np.arange(HORIZON)  # (n, HORIZON)
    actual = values[rows, 0]
    naive = np.repeat(values[starts - 1, 0][:, None], HORIZON, axis=1)  # (n, HORIZON)
    rmse = float(np.sqrt(np.mean((predicted - actual) ** 2)))
    mae = float(np.mean(np.abs(predicted - actual)))
    naive_rmse = float(np.sqrt(np.mean((naive - actual) ** 2)))
    print(f"Test RMSE: {rmse:.4f}   MAE: {mae:.4f}   (original units, {len(starts)} windows)")
    print(f"Naive RMSE: {naive_rmse:.4f}   (the next value equals the last)")
    if naive_rmse > 0:
        skill = 1 - rmse / naive_rmse
        print(f"Skill vs naive: {skill:+.3f}   (1 - RMSE / naive RMSE; above 0 beats naive)")
'''

_KERAS_MAIN = '''
def main():
    keras.utils.set_random_seed(SEED)
    values, offset, span, windows = prepare()
    model = build_model(n_features=values.shape[1])
    if LINEAR_SKIP:
        start_linear_skip(model, windows)
    model.summary()
    start = model.get_weights()
    early = fit(model, windows)
    if isinstance(early, EarlyStoppingFromStart) and early.best_epoch >= 0 \
            and values.shape[1] == 1:  # other inputs would be held at their last value
        keep_start_if_it_runs_better(model, start, values, offset, span, windows)
    report(model, values, offset, span, windows)
    if SAVE_MODEL_TO:
        model.save(SAVE_MODEL_TO)
'''
