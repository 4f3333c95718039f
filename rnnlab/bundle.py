"""A trained model that works on new data: `bundle.zip`, self-contained, in the data's own units.

The zip holds
  model.keras         the trained network (model.npz for an echo state network)
  preprocessing.json  everything between the data and the network: the input columns in order
                      (the target first), lookback, horizon, the target transform with its season
                      and lag, the scaler fitted on the training rows, the date column, frequency;
                      and the run's settings, so the zip can come back (`rnnlab.comeback`)
  predict.py          numpy, pandas and keras only, never rnnlab: `predict(values)` gives the next
                      `horizon` values, `predict_table(frame)` the one-step-ahead prediction of
                      every row, and `python predict.py data.csv` does both for a CSV file
  README.txt          how to use it, in three lines

predict.py repeats `rnnlab.data._scale`, `rnnlab.data._split_windows` and
`rnnlab.transforms.to_original` in plain numpy (tests/unit/test_bundle_unit.py holds it to them).
Nothing here imports Keras: the model file is copied as bytes, so the worker writes the bundle
right after training (`write_bundle`) and the web process may build one for an older run.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pandas as pd

from rnnlab import cells
from rnnlab.codegen import UNDO_TRANSFORM
from rnnlab.config import RunConfig
from rnnlab.errors import RnnlabError
from rnnlab.artefacts import BUNDLE_FILE, MODEL_FILE
FORMAT = 1
ZIP_DATE = (2000, 1, 1, 0, 0, 0)   # fixed, so the same run gives the same bytes


def write_bundle(run_dir: Path, run_config: RunConfig, prepared) -> Path:
    """Write bundle.zip into the run folder (to a temporary name, then renamed); its path."""
    path = Path(run_dir) / BUNDLE_FILE
    tmp = path.with_name(f".{BUNDLE_FILE}.partial")
    tmp.write_bytes(make_bundle(run_dir, run_config, prepared))
    os.replace(tmp, path)
    return path


def make_bundle(run_dir: Path, run_config: RunConfig, prepared) -> bytes:
    """The zip's bytes: the run folder's model file, preprocessing.json, predict.py, README.txt."""
    model_file = _model_file(Path(run_dir), run_config)
    settings = preprocessing(run_config, prepared, model_file.name)
    files = {
        model_file.name: model_file.read_bytes(),
        "preprocessing.json": (json.dumps(settings, indent=2, ensure_ascii=False) + "\n").encode(),
        "predict.py": PREDICT_PY.encode(),
        "README.txt": readme(settings, run_config.name).encode(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            archive.writestr(info, content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _model_file(run_dir: Path, run_config: RunConfig) -> Path:
    """The trained model in the run folder; RnnlabError when the run has none (yet)."""
    path = run_dir / cells.get(run_config.model.cell).model_file
    if not path.is_file():
        raise RnnlabError(f"The run folder {run_dir} has no {path.name}: only a run that "
                          "finished training has a model to download. Wait for it to finish, "
                          "or run it again.")
    return path


def preprocessing(run_config: RunConfig, prepared, model_file: str = MODEL_FILE) -> dict:
    """preprocessing.json: what predict.py needs to go from the data to the network and back."""
    transform, scaler = prepared.transform, prepared.scaler
    return {
        "format": FORMAT,
        "model_file": model_file,
        "inputs": list(prepared.inputs),              # column order of the network's inputs
        "target": prepared.target,                    # == inputs[0]
        "lookback": int(prepared.lookback),
        "horizon": int(prepared.horizon),
        "transform": transform.kind,                  # rnnlab.config.TRANSFORMS
        "season": int(transform.season) if transform.season else None,
        "lag": int(transform.lag),                    # rows a difference uses up
        "scaler": {"kind": scaler.kind,               # per input column, in the order of inputs
                   "offset": [float(v) for v in scaler.offset],
                   "scale": [float(v) for v in scaler.scale]},
        "date_column": getattr(prepared.loaded, "date_column", None),
        "frequency": _frequency(prepared),
        "trained_on": {"run_name": run_config.name, "source": run_config.data.source,
                       "data_sha256": prepared.data_sha256, "cell": run_config.model.cell,
                       "training_rows": int(prepared.n_train)},
        # the run's own settings (as in its Settings download), so that RNN Lab can evaluate
        # the model on new data or continue training it (rnnlab.comeback)
        "run_settings": run_config.replace(from_model=None).to_dict(),
    }


def _frequency(prepared) -> str | None:
    """The data's pandas frequency alias ("MS", "D", ...), or None for irregular or plain rows."""
    freq = getattr(prepared.loaded, "frequency", None)
    index = prepared.index
    if freq is None and isinstance(index, pd.DatetimeIndex) and len(index) >= 3:
        try:
            freq = pd.infer_freq(index)
        except (TypeError, ValueError):
            freq = None
    return None if freq is None else str(getattr(freq, "freqstr", freq))


def readme(settings: dict, run_name: str = "") -> str:
    """README.txt: three lines on how to use the bundle (names JSON-quoted, so they stay on one)."""
    def quoted(text):
        return json.dumps(text, ensure_ascii=False)

    columns = ", ".join(map(quoted, settings["inputs"]))
    date = settings["date_column"]
    date = f" and the date column {quoted(date)}" if date else ""
    rows = settings["lookback"] + settings["lag"]
    needs = "numpy and pandas" if settings["model_file"].endswith(".npz") else \
        "numpy, pandas and keras (with tensorflow or jax)"
    return (
        f"RNN Lab run {quoted(run_name or '(unnamed)')}: forecasts {quoted(settings['target'])} in "
        f"its own units; needs Python 3 with {needs}. Unzip, then in this folder:\n"
        f"python predict.py data.csv   (columns {columns}{date}, clean numbers, at least {rows} "
        f"rows) writes data_predictions.csv and prints the next {settings['horizon']} value(s).\n"
        "In Python: from predict import predict, predict_table; predict(last_rows), the columns "
        "in that order, gives the next values (preprocessing.json holds the settings).\n")


PREDICT_PY = r'''"""Forecast with a model trained in RNN Lab, in the data's own units.

    python predict.py data.csv [out.csv]

data.csv needs the columns listed under "inputs" in preprocessing.json (clean numbers) and may
have the date column; rows after the target's last value (other columns planned ahead) are
left out. The one-step-ahead prediction of every row that has a full window before it goes to
out.csv (default: data_predictions.csv here), and the next HORIZON values are printed.

    from predict import predict, predict_table
    predict(values)       # values (rows, inputs), at least NEEDED rows -> the next HORIZON values
    predict_table(frame)  # a DataFrame with the inputs -> actual and prediction for every row

On the way in, the target (the first input) is transformed (TRANSFORM), every column is scaled
with the offset and scale fitted on the training rows, and the last LOOKBACK rows make one
window; on the way out, the same steps run in reverse. It needs numpy, pandas and keras (on
any backend); an echo state network (model.npz) needs numpy and pandas only.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SETTINGS = json.loads((HERE / "preprocessing.json").read_text(encoding="utf-8"))
INPUTS = SETTINGS["inputs"]                      # the network's input columns, the target first
TARGET = SETTINGS["target"]
LOOKBACK, HORIZON = SETTINGS["lookback"], SETTINGS["horizon"]
TRANSFORM, SEASON, LAG = SETTINGS["transform"], SETTINGS["season"], SETTINGS["lag"]
OFFSET = np.array(SETTINGS["scaler"]["offset"])  # (F,) subtracted from each column
SCALE = np.array(SETTINGS["scaler"]["scale"])    # (F,) then divided by
NEEDED = LOOKBACK + LAG                          # rows one forecast reads

_network = None


def network():
    """The trained network, loaded on first use."""
    global _network
    if _network is None:
        _network = load_network(HERE / SETTINGS["model_file"])
    return _network


def load_network(path):
    """A Keras model, or an echo state network from its .npz file."""
    if path.suffix == ".npz":
        return EchoState(path)
    import keras

    return keras.saving.load_model(path, compile=False)


class EchoState:
    """An echo state network: a fixed leaky tanh reservoir and a linear readout."""

    def __init__(self, path):
        with np.load(path, allow_pickle=False) as f:
            self.w, self.w_in, self.b, self.w_out = f["w"], f["w_in"], f["b"], f["w_out"]
            self.leak = float(f["leak_rate"])

    def predict(self, X, verbose=0):
        """Outputs (n, HORIZON) for windows X (n, LOOKBACK, F)."""
        s = np.zeros((len(X), len(self.w)))  # (n, N)
        for t in range(X.shape[1]):
            s = (1 - self.leak) * s + self.leak * np.tanh(X[:, t] @ self.w_in + s @ self.w + self.b)
        return np.hstack([s, X[:, -1], np.ones((len(X), 1))]) @ self.w_out


def transform_target(y):
    """The target (T,) as the network learned it; NaN in the first LAG rows."""
    if TRANSFORM == "log":
        if not (y > 0).all():
            raise ValueError(f"The model learned log({TARGET}): every value must be above 0.")
        return np.log(y)
    z = y.copy()
    if LAG:  # difference: y[t] - y[t-1]; seasonal_difference: y[t] - y[t-SEASON]
        z[LAG:] = y[LAG:] - y[:-LAG]
        z[:LAG] = np.nan
    return z


def model_windows(values, t):
    """The network's inputs (n, LOOKBACK, F) for the windows predicting rows t (n,)."""
    series = values.copy()
    series[:, 0] = transform_target(values[:, 0])
    scaled = (series - OFFSET) / SCALE  # (T, F)
    X = np.stack([scaled[i - LOOKBACK:i] for i in t])  # (n, LOOKBACK, F)
    if TRANSFORM == "relative":  # each window minus its last target value
        last = X[:, -1, 0].copy()  # (n,)
        X[:, :, 0] -= last[:, None]
    return X


def to_original(outputs, values, t):
    """The network's outputs (n, HORIZON) for windows predicting rows t + h -> the data's units."""
    y, scale, offset = values[:, 0], SCALE[0], OFFSET[0]  # the target (T,) and its scaling''' \
    + UNDO_TRANSFORM + r'''

def forecast(values, t):
    """Forecasts (n, HORIZON), in the data's units, of the windows predicting rows t (n,)."""
    net, X = network(), model_windows(values, t)  # X (n, LOOKBACK, F)
    if not isinstance(net, EchoState):
        X = X.astype("float32")  # a Keras network runs in float32
    outputs = np.asarray(net.predict(X, verbose=0), dtype="float64")
    return to_original(outputs.reshape(len(t), HORIZON), values, t)


def check(values):
    """values as floats (T, F); ValueError saying what is wrong."""
    values = np.array(values, dtype="float64")
    if values.ndim == 1 and len(INPUTS) == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[1] != len(INPUTS):
        raise ValueError(f"values need shape (rows, {len(INPUTS)}), the columns {INPUTS} in this "
                         f"order. Received: shape {values.shape}")
    if len(values) < NEEDED:
        raise ValueError(f"values need at least {NEEDED} rows (lookback {LOOKBACK}"
                         f"{f' + {LAG} for the {TRANSFORM}' if LAG else ''}). "
                         f"Received: {len(values)} rows")
    if not np.isfinite(values).all():
        raise ValueError("values must be numbers in every row: fill or drop the missing ones.")
    return values


def predict(values):
    """The next HORIZON values of the target (HORIZON,), from the last rows (T, F) before them."""
    values = check(values)
    return forecast(values, np.array([len(values)]))[0]


def predict_table(frame):
    """actual and one-step-ahead prediction of every row with NEEDED rows before it."""
    missing = [c for c in INPUTS if c not in frame.columns]
    if missing:
        raise ValueError(f"The table has no column(s) {missing}; it needs {INPUTS}.")
    values = check(frame[INPUTS].to_numpy(dtype="float64"))
    t = np.arange(NEEDED, len(values))  # (n,) rows with a full window before them
    predicted = forecast(values, t)[:, 0] if len(t) else np.zeros(0)
    return pd.DataFrame({"actual": values[t, 0], "prediction": predicted},
                        index=frame.index[t])


def read_table(path):
    """A CSV file; its date column, if it has one, becomes the index. Rows past the target's
    last value (other columns planned ahead, the target left empty) are left out."""
    frame = pd.read_csv(path)
    date = SETTINGS["date_column"]
    if date and date in frame.columns:
        frame = frame.set_index(pd.DatetimeIndex(pd.to_datetime(frame[date]), name=date))
        frame = frame.drop(columns=date)
    if TARGET in frame.columns and frame[TARGET].notna().any():
        last = int(np.flatnonzero(frame[TARGET].notna().to_numpy())[-1])
        if last + 1 < len(frame):
            print(f"The last {len(frame) - last - 1} row(s) have no {TARGET}: left out.")
            frame = frame.iloc[:last + 1]
    return frame


def next_index(frame):
    """Labels of the next HORIZON rows: dates when the frequency is known, else 1, 2, ..."""
    if SETTINGS["frequency"] and isinstance(frame.index, pd.DatetimeIndex):
        try:
            return pd.date_range(frame.index[-1], periods=HORIZON + 1,
                                 freq=SETTINGS["frequency"])[1:]
        except ValueError:
            pass
    return pd.RangeIndex(1, HORIZON + 1, name="step")


def main(argv):
    """python predict.py data.csv [out.csv]"""
    if not argv:
        print(__doc__)
        return 2
    frame = read_table(argv[0])
    out = Path(argv[1] if len(argv) > 1 else Path(argv[0]).stem + "_predictions.csv")
    table = predict_table(frame)
    table.to_csv(out)
    print(f"One-step-ahead predictions of {len(table)} rows written to {out}")
    future = predict(frame[INPUTS].to_numpy(dtype="float64"))
    print(f"The next {HORIZON} value(s) of {TARGET}:")
    print(pd.Series(future, index=next_index(frame), name=TARGET).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''
