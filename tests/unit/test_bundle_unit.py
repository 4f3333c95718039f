"""The bundle's predict.py against the engine, with a stand-in network (no Keras, seconds).

Oracle: predict.py's numpy steps (transform, scale, window, invert) must give the windows of
`rnnlab.data.prepare` and the values of `rnnlab.transforms.to_original` for the same outputs.
"""

import importlib.util
import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

from rnnlab import bundle, data, transforms
from rnnlab.config import TRANSFORMS, DataConfig, ModelConfig, RunConfig
from rnnlab.errors import RnnlabError
from rnnlab.samples import resolve_source

LOOKBACK = 7


def run_config(kind: str, horizon: int = 1, cell: str = "lstm") -> RunConfig:
    """The airline series (rising, yearly cycle) under one transform; season 12."""
    return RunConfig(name="bundle test", data=DataConfig(source="airline_passengers.csv",
                                                         transform=kind, season=12),
                     model=ModelConfig(cell=cell, n_layers=1, units=4, lookback=LOOKBACK,
                                       horizon=horizon))


class StandIn:
    """A fixed non-linear function of the windows in place of a trained network."""

    def __init__(self, horizon: int):
        self.horizon = horizon

    def predict(self, X, verbose=0):
        X = np.asarray(X, dtype="float64")                            # (n, L, F)
        base = np.tanh(X[:, -1, :1] - 0.5 * X[:, 0, :1])              # (n, 1)
        return base + 0.1 * np.arange(self.horizon)[None, :]          # (n, H)


def unpack(blob: bytes, folder) -> dict:
    """Extract the zip into folder; {name: bytes}."""
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        archive.extractall(folder)
        return {name: archive.read(name) for name in archive.namelist()}


def load_predict(folder, name: str):
    """predict.py of an unpacked bundle, as a module of its own."""
    spec = importlib.util.spec_from_file_location(name, folder / "predict.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bundled(tmp_path, cfg: RunConfig, model_bytes: bytes = b"not a real model"):
    """(prepared data, predict.py module) of a bundle made from a run folder with a model file."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    name = "model.npz" if cfg.model.cell == "esn" else "model.keras"
    (run_dir / name).write_bytes(model_bytes)
    prepared = data.prepare(cfg.data, cfg.model.lookback, cfg.model.horizon)
    unpack(bundle.make_bundle(run_dir, cfg, prepared), tmp_path / "unzipped")
    label = f"predict_{cfg.data.transform}_{cfg.model.horizon}_{tmp_path.name}"
    return prepared, load_predict(tmp_path / "unzipped", label)


@pytest.mark.parametrize("horizon", [1, 13])   # 13 > season: seasonal inverse reads forecasts
@pytest.mark.parametrize("kind", TRANSFORMS)
def test_predict_py_gives_the_engines_windows_and_values(tmp_path, kind, horizon):
    prepared, module = bundled(tmp_path, run_config(kind, horizon))
    module._network = StandIn(horizon)
    values = np.asarray(prepared.values)                              # (T, F)
    for part in ("train", "val", "test"):
        t = getattr(prepared, f"t_{part}")
        assert np.array_equal(module.model_windows(values, t), getattr(prepared, f"X_{part}"))
    t = prepared.t_test
    engine = transforms.to_original(prepared, StandIn(horizon).predict(
        np.asarray(prepared.X_test, dtype="float32")), t)            # (n, H)
    assert np.allclose(module.forecast(values, t), engine, rtol=1e-12)
    for i, row in enumerate(t):   # predict() reads only the rows before the forecast
        assert np.allclose(module.predict(values[:row]), engine[i], rtol=1e-12)


@pytest.mark.parametrize("kind", ["difference", "seasonal_difference", "relative", "log"])
def test_predict_table_gives_one_step_ahead_for_every_row_with_a_full_window(tmp_path, kind):
    prepared, module = bundled(tmp_path, run_config(kind))
    module._network = StandIn(1)
    frame = pd.DataFrame(prepared.values, columns=prepared.inputs, index=prepared.index)
    table = module.predict_table(frame)
    first = LOOKBACK + prepared.transform.lag
    assert list(table.index) == list(prepared.index[first:])
    assert np.array_equal(table["actual"], prepared.values[first:, 0])
    X_test = np.asarray(prepared.X_test, dtype="float32")            # as a Keras network reads it
    engine = transforms.to_original(prepared, StandIn(1).predict(X_test), prepared.t_test)
    assert np.allclose(table.loc[prepared.index[prepared.t_test], "prediction"], engine[:, 0],
                       rtol=1e-12)


def test_the_echo_state_network_in_predict_py_is_rnnlabs(tmp_path):
    from rnnlab.nn.esn import EchoStateNetwork

    cfg = run_config("difference", horizon=2, cell="esn").replace(model={"reservoir_size": 30})
    prepared = data.prepare(cfg.data, LOOKBACK, 2)
    esn = EchoStateNetwork(cfg.model, 1, seed=3).fit(prepared.X_train, prepared.y_train)
    esn.save(tmp_path / "esn.npz")
    _, module = bundled(tmp_path, cfg, (tmp_path / "esn.npz").read_bytes())
    X = np.asarray(prepared.X_test)
    assert np.allclose(module.network().predict(X), esn.predict(X), rtol=1e-12)
    assert type(module.network()).__name__ == "EchoState"            # numpy only, no Keras
    readme = (tmp_path / "unzipped" / "README.txt").read_text()
    assert "needs Python 3 with numpy and pandas." in readme


def test_the_zip_holds_the_model_the_settings_the_script_and_a_short_readme(tmp_path):
    cfg = run_config("seasonal_difference", horizon=3)
    (tmp_path / "model.keras").write_bytes(b"keras bytes")
    prepared = data.prepare(cfg.data, LOOKBACK, 3)
    path = bundle.write_bundle(tmp_path, cfg, prepared)
    assert path == tmp_path / "bundle.zip"
    files = unpack(path.read_bytes(), tmp_path / "out")
    assert sorted(files) == ["README.txt", "model.keras", "predict.py", "preprocessing.json"]
    assert files["model.keras"] == b"keras bytes"
    settings = json.loads(files["preprocessing.json"])
    assert settings["inputs"] == ["Passengers"] and settings["target"] == "Passengers"
    assert (settings["lookback"], settings["horizon"]) == (LOOKBACK, 3)
    assert (settings["transform"], settings["season"], settings["lag"]) == \
        ("seasonal_difference", 12, 12)
    assert settings["scaler"]["offset"] == prepared.scaler.offset.tolist()
    assert settings["scaler"]["scale"] == prepared.scaler.scale.tolist()
    assert (settings["date_column"], settings["frequency"]) == ("Date", "MS")
    readme = files["README.txt"].decode()
    assert len(readme.strip().splitlines()) == 3 and "python predict.py data.csv" in readme
    assert 'columns "Passengers" and the date column "Date"' in readme
    assert "at least 19 rows" in readme
    assert "keras" in readme
    assert bundle.make_bundle(tmp_path, cfg, prepared) == path.read_bytes()   # same run, same bytes
    assert not list(tmp_path.glob(".*partial"))


def test_the_relative_scale_is_the_step_size_the_engine_fitted(tmp_path):
    cfg = run_config("relative")
    (tmp_path / "model.keras").write_bytes(b"x")
    prepared = data.prepare(cfg.data, LOOKBACK, 1)
    files = unpack(bundle.make_bundle(tmp_path, cfg, prepared), tmp_path / "out")
    scale = json.loads(files["preprocessing.json"])["scaler"]["scale"][0]
    train = prepared.values[:prepared.n_train, 0]
    assert scale == pytest.approx(np.std(np.diff(train)), rel=1e-12)


def test_a_run_without_a_model_says_so(tmp_path):
    cfg = run_config("none")
    prepared = data.prepare(cfg.data, LOOKBACK, 1)
    with pytest.raises(RnnlabError, match=r"has no model.keras: only a run that finished training"):
        bundle.make_bundle(tmp_path, cfg, prepared)


def test_predict_py_names_the_problem_with_its_input(tmp_path):
    prepared, module = bundled(tmp_path, run_config("difference"))
    module._network = StandIn(1)
    with pytest.raises(ValueError, match=r"at least 8 rows \(lookback 7 \+ 1 for the difference\)"
                                         r"\. Received: 7 rows"):
        module.predict(prepared.values[:7])
    with pytest.raises(ValueError, match=r"need shape \(rows, 1\), the columns \['Passengers'\]"):
        module.predict(np.ones((20, 2)))
    with pytest.raises(ValueError, match=r"no column\(s\) \['Passengers'\]"):
        module.predict_table(pd.DataFrame({"other": np.ones(20)}))


def test_predict_py_leaves_out_rows_past_the_targets_last_value(tmp_path, capsys):
    """A new file that plans ahead (dates with the target empty) is read as the app reads it:
    those rows are not the series, so the next value is forecast from the last real ones."""
    prepared, module = bundled(tmp_path, run_config("difference"))
    module._network = StandIn(1)
    raw = pd.read_csv(resolve_source("airline_passengers.csv"))
    month = raw.columns[0]
    ahead = pd.DataFrame({month: ["1961-01", "1961-02", "1961-03"], "Passengers": [None] * 3})
    path = tmp_path / "ahead.csv"
    pd.concat([raw, ahead]).to_csv(path, index=False)
    frame = module.read_table(path)
    assert len(frame) == len(raw)
    assert "The last 3 row(s) have no Passengers: left out." in capsys.readouterr().out
    assert module.predict(frame[module.INPUTS].to_numpy()) == pytest.approx(
        module.predict(raw[["Passengers"]].to_numpy(dtype=float)))


def test_a_log_model_refuses_values_at_or_below_zero(tmp_path):
    prepared, module = bundled(tmp_path, run_config("log"))
    module._network = StandIn(1)
    values = prepared.values[:20].copy()
    values[3, 0] = 0.0
    with pytest.raises(ValueError, match=r"log\(Passengers\): every value must be above 0"):
        module.predict(values)


def test_the_bundle_module_keeps_keras_out_of_the_web_process():
    code = ("import sys, rnnlab.bundle; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr[-500:]
