"""The downloaded model works on new data: a real run's bundle, used in a fresh process.

Each test trains a tiny run through the real worker in this process (on the backend the workers
use, JAX when it is installed), builds bundle.zip from its run folder, and then, in a fresh
interpreter on Keras' default backend (TensorFlow) that never imports rnnlab, unzips it and
predicts. The predictions must be the app's own, in the data's units.
"""

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnlab import bundle, data, worker
from rnnlab.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from rnnlab.store import RunStatus

pytestmark = pytest.mark.slow

AIRLINE = Path(__file__).resolve().parents[2] / "sample_data" / "airline_passengers.csv"
RTOL = 1e-4        # of the series' range: a float32 network on another backend

# In the fresh process: the bundle's own functions on the raw sample file, and the command line.
CHILD = """
import json, sys
sys.path.insert(0, ".")
import predict

frame = predict.read_table(sys.argv[1])
table = predict.predict_table(frame)
future = predict.predict(frame[predict.INPUTS].to_numpy())
code = predict.main([sys.argv[1], "out.csv"])
print(json.dumps({"timestamps": [t.isoformat() for t in table.index],
                  "prediction": table["prediction"].tolist(), "future": future.tolist(),
                  "code": code, "rnnlab": "rnnlab" in sys.modules,
                  "keras": "keras" in sys.modules,
                  "backend": sys.modules["keras"].backend.backend() if "keras" in sys.modules
                             else None}))
"""


def tiny(transform: str, horizon: int = 1, cell: str = "lstm") -> RunConfig:
    """A two-epoch run on the monthly airline series with one target transform."""
    return RunConfig(name=f"bundle {transform}",
                     data=DataConfig(source="airline_passengers.csv", transform=transform,
                                     season=12),
                     model=ModelConfig(cell=cell, n_layers=1, units=4, lookback=12,
                                       horizon=horizon, reservoir_size=30),
                     train=TrainConfig(epochs=2, batch_size=16, seed=5, track_gradients=False))


def trained_bundle(store, cfg: RunConfig) -> tuple[Path, object]:
    """(run folder with bundle.zip written, prepared data) of a run trained by the worker."""
    run_id = store.create_run(cfg.to_dict())
    assert worker.execute(store, run_id) == RunStatus.DONE, store.get_run(run_id).error
    prepared = data.prepare(cfg.data, cfg.model.lookback, cfg.model.horizon)
    run_dir = store.run_dir(run_id)
    bundle.write_bundle(run_dir, cfg, prepared)
    return run_dir, prepared


def use_elsewhere(zip_path: Path, folder: Path) -> tuple[dict, str]:
    """Unzip into folder and run CHILD there in a fresh interpreter: (its JSON, its stdout)."""
    with zipfile.ZipFile(io.BytesIO(zip_path.read_bytes())) as archive:
        archive.extractall(folder)
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "PYTHONPATH")}
    done = subprocess.run([sys.executable, "-c", CHILD, str(AIRLINE)], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stdout


def app_predictions(run_dir: Path) -> pd.DataFrame:
    """The app's one-step-ahead test predictions, step 1 of each window, by timestamp."""
    frame = pd.read_csv(run_dir / "predictions.csv")
    keep = (frame["split"] == "test") & (frame["kind"] == "one-step-ahead") & (frame["step"] == 1)
    return frame[keep].set_index("timestamp")


CASES = {
    "difference": tiny("difference"),
    "seasonal_difference, horizon 3": tiny("seasonal_difference", horizon=3),
    "relative": tiny("relative"),
    "log, horizon 2": tiny("log", horizon=2),
    "echo state network": tiny("difference", horizon=2, cell="esn"),
    "relative with a linear path, horizon 2": tiny("relative", horizon=2).replace(
        model={"linear_skip": True}),
}


@pytest.mark.parametrize("label", list(CASES))
def test_the_bundle_predicts_the_apps_values_in_a_fresh_process(store, tmp_path, label):
    cfg = CASES[label]
    run_dir, prepared = trained_bundle(store, cfg)
    child, stdout = use_elsewhere(run_dir / bundle.BUNDLE_FILE, tmp_path / "unzipped")
    assert child["rnnlab"] is False and child["code"] == 0
    if cfg.model.cell == "esn":
        assert child["keras"] is False                  # numpy alone
    else:
        assert child["backend"] == "tensorflow"         # trained on JAX here, loaded on TF there
    target = prepared.values[:, 0]
    atol = RTOL * float(target.max() - target.min())
    ours = pd.Series(child["prediction"], index=child["timestamps"])
    app = app_predictions(run_dir)
    assert len(app) == prepared.n_test - cfg.model.horizon + 1
    assert np.allclose(ours.loc[app.index], app["model"], rtol=0, atol=atol)
    assert not np.allclose(app["model"], app["naive"], atol=atol)   # the network did something
    # predict(all rows) is the first model call of the app's forecast past the end
    forecast = pd.read_csv(run_dir / "forecast.csv")["forecast"].to_numpy()
    assert np.allclose(child["future"], forecast[:cfg.model.horizon], rtol=0, atol=atol)
    written = pd.read_csv(tmp_path / "unzipped" / "out.csv", index_col=0)
    assert list(written.columns) == ["actual", "prediction"] and len(written) == len(ours)
    assert "The next" in stdout and "1961-01-01" in stdout       # the next month, named


def test_the_command_line_of_the_bundle(store, tmp_path):
    cfg = tiny("difference")
    run_dir, prepared = trained_bundle(store, cfg)
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(run_dir / bundle.BUNDLE_FILE) as archive:
        archive.extractall(folder)
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    done = subprocess.run([sys.executable, "predict.py", str(AIRLINE)], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    written = pd.read_csv(folder / "airline_passengers_predictions.csv", index_col=0)
    assert len(written) == len(prepared.values) - 12 - 1           # lookback + the difference
    assert written.index[0].startswith("1950-02-01")
    assert "The next 1 value(s) of Passengers:" in done.stdout
    assert "written to airline_passengers_predictions.csv" in done.stdout
