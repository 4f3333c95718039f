"""Uploading a model again (`rnnlab.comeback`), without Keras: what is refused, and why.

The bundles here are made by `rnnlab.bundle.make_bundle` from a run folder whose model.keras is a
small stand-in Keras zip (config.json and a weights file), or a real echo state network.
"""

import io
import json
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnlab import bundle, comeback, data, jobs
from rnnlab.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from rnnlab.errors import DataError
from rnnlab.store import RunStatus

LOOKBACK = 7
FIX = 'Download the model from Results → Downloads → "Model for new data (.zip)"'


def run_config(cell: str = "lstm", transform: str = "difference") -> RunConfig:
    return RunConfig(name="airline model",
                     data=DataConfig(source="airline_passengers.csv", transform=transform,
                                     season=12),
                     model=ModelConfig(cell=cell, n_layers=1, units=4, lookback=LOOKBACK,
                                       reservoir_size=20),
                     train=TrainConfig(epochs=2))


def keras_zip(lookback: int = LOOKBACK, features: int = 1, layer: str = "LSTM") -> bytes:
    """A stand-in .keras file: a zip with a functional model's config and a weights file."""
    config = {"class_name": "Functional", "config": {"layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, lookback, features]}},
        {"class_name": layer, "config": {"units": 4}},
        {"class_name": "Dense", "config": {"units": 1}}]}}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("metadata.json", "{}")
        z.writestr("config.json", json.dumps(config))
        z.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    return buffer.getvalue()


def make(tmp_path, cfg: RunConfig | None = None, model: bytes | None = None) -> bytes:
    """The bundle.zip bytes of a run folder holding `model` (default: a stand-in Keras file)."""
    cfg = cfg or run_config()
    folder = tmp_path / f"run-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    name = "model.npz" if cfg.model.cell == "esn" else "model.keras"
    (folder / name).write_bytes(model if model is not None else keras_zip())
    prepared = data.prepare(cfg.data, cfg.model.lookback, cfg.model.horizon)
    return bundle.make_bundle(folder, cfg, prepared)


def esn_bundle(tmp_path) -> bytes:
    from rnnlab.nn.esn import EchoStateNetwork

    cfg = run_config("esn")
    prepared = data.prepare(cfg.data, LOOKBACK, 1)
    esn = EchoStateNetwork(cfg.model, 1, seed=3).fit(prepared.X_train, prepared.y_train)
    esn.save(tmp_path / "esn.npz")
    return make(tmp_path, cfg, (tmp_path / "esn.npz").read_bytes())


def rezip(blob: bytes, changes: dict[str, bytes | None]) -> bytes:
    """The zip with some members replaced, added (bytes) or left out (None)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            if name not in changes:
                dst.writestr(name, src.read(name))
        for name, content in changes.items():
            if content is not None:
                dst.writestr(name, content)
    return out.getvalue()


def refused(name: str, blob, match: str) -> str:
    with pytest.raises(comeback.ModelRefused, match=match) as info:
        comeback.inspect_upload(name, blob)
    return str(info.value)


# -- a good upload --------------------------------------------------------------------------------

def test_a_downloaded_model_is_described(tmp_path):
    brought = comeback.inspect_upload("r1-model.zip", make(tmp_path))
    assert (brought.inputs, brought.target) == (["Passengers"], "Passengers")
    assert (brought.lookback, brought.horizon, brought.transform) == (LOOKBACK, 1, "difference")
    assert brought.run_config == run_config() and brought.can_continue is None
    text = " ".join(brought.describe())
    assert '"airline model"' in text and '"Passengers"' in text and "last 7 rows" in text
    assert "airline_passengers.csv" in text and "LSTM" in text


def test_the_same_file_through_the_models_preprocessing_gives_the_runs_windows(tmp_path):
    brought = comeback.inspect_upload("m.zip", make(tmp_path))
    cfg = comeback.evaluate_config(brought, "airline_passengers.csv")
    assert cfg.from_model.bundle == brought.sha256 and cfg.from_model.action == "evaluate"
    assert cfg.name == "airline model evaluated on airline_passengers.csv"
    ours = comeback.prepare_with(brought, cfg.data)
    theirs = data.prepare(run_config().data, LOOKBACK, 1)
    for part in ("train", "val", "test"):
        assert np.array_equal(getattr(ours, f"X_{part}"), getattr(theirs, f"X_{part}"))
        assert np.array_equal(getattr(ours, f"t_{part}"), getattr(theirs, f"t_{part}"))
    assert ours.scaler.offset.tolist() == theirs.scaler.offset.tolist()


def test_another_file_keeps_the_models_scaling(tmp_path):
    brought = comeback.inspect_upload("m.zip", make(tmp_path))
    frame = pd.read_csv(Path(__file__).resolve().parents[2] / "sample_data" /
                        "airline_passengers.csv")
    frame["Passengers"] *= 3.0
    path = tmp_path / "bigger.csv"
    frame.to_csv(path, index=False)
    ours = comeback.prepare_with(brought, DataConfig(source=str(path), test_fraction=0.3))
    refit = data.prepare(DataConfig(source=str(path), transform="difference", season=12,
                                    test_fraction=0.3), LOOKBACK, 1)
    assert ours.scaler.offset.tolist() == brought.settings["scaler"]["offset"]
    assert ours.scaler.scale.tolist() != refit.scaler.scale.tolist()   # not fitted again
    assert ours.n_test == round(len(frame) * 0.3)


def test_a_file_without_the_models_column_is_refused_by_name(tmp_path):
    brought = comeback.inspect_upload("m.zip", make(tmp_path))
    path = tmp_path / "sales.csv"
    pd.DataFrame({"Month": pd.date_range("2000-01-01", periods=60, freq="MS"),
                  "Sales": np.arange(60.0)}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"sales.csv has no column 'Passengers', which the model "
                                        r"reads.*Rename the column"):
        comeback.prepare_with(brought, DataConfig(source=str(path)))


def test_a_file_too_short_for_the_models_window_says_so(tmp_path):
    brought = comeback.inspect_upload("m.zip", make(tmp_path))
    path = tmp_path / "short.csv"
    pd.DataFrame({"Month": pd.date_range("2000-01-01", periods=9, freq="MS"),
                  "Passengers": np.arange(9.0) + 100}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"lookback \(7\) and horizon \(1\) are fixed"):
        comeback.prepare_with(brought, DataConfig(source=str(path)))


# -- refusals -------------------------------------------------------------------------------------

def test_a_renamed_text_file_is_refused(tmp_path):
    message = refused("model.zip", b"Month,Passengers\n1949-01,112\n",
                      r"This is not a model downloaded from RNN Lab: it is a text file, "
                      r"whatever its name \(model.zip\) says")
    assert FIX in message


def test_a_pickle_is_refused_and_never_opened(tmp_path):
    marker = tmp_path / "ran.txt"

    class Payload:
        def __reduce__(self):
            return (Path.write_text, (marker, "the pickle ran"))

    blob = pickle.dumps(Payload(), protocol=4)
    message = refused("model.zip", blob, r"it is a Python pickle file, which RNN Lab never "
                                         r"opens")
    assert FIX in message and not marker.exists()
    # a pickle inside a zip that otherwise looks right: the npz of an echo state network
    buf = io.BytesIO()
    np.savez(buf, w=np.array([Payload()], dtype=object), w_in=np.zeros((1, 2)), b=np.zeros(2),
             w_out=np.zeros((4, 1)), leak_rate=1.0)
    blob = make(tmp_path, run_config("esn"), buf.getvalue())
    refused("m.zip", blob, r"pickled Python objects, which RNN Lab never loads")
    assert not marker.exists()


class HugeUpload:
    """An uploaded file as Streamlit hands it over: its size is known before it is read."""

    size = 300 * 1000 * 1000
    name = "huge.zip"

    def getvalue(self):
        raise AssertionError("a file over the limit must not be read")


def test_a_300_mb_file_is_refused_before_it_is_read(tmp_path):
    message = refused("huge.zip", HugeUpload(), r"huge.zip is 300.0 MB; RNN Lab takes models of "
                                                r"at most 100 MB")
    assert FIX in message
    sparse = tmp_path / "huge-model.zip"
    with open(sparse, "wb") as f:
        f.truncate(300 * 1000 * 1000)                  # no disk blocks: a sparse file
    with pytest.raises(comeback.ModelRefused, match=r"huge-model.zip is 300.0 MB"):
        comeback.inspect_file(sparse)


def test_a_zip_without_the_settings_is_refused(tmp_path):
    blob = rezip(make(tmp_path), {"preprocessing.json": None})
    refused("m.zip", blob, r"not a model downloaded from RNN Lab: the zip holds no "
                           r"preprocessing.json \(it holds README.txt, model.keras, predict.py\)")
    refused("m.keras", keras_zip(), r"it is a Keras model file \(.keras\) on its own")
    refused("m.zip", rezip(b"PK\x05\x06" + b"\0" * 18, {"notes/preprocessing.json": b"{}"}),
            r"holds notes/preprocessing.json inside a folder, so it was unzipped and zipped")


def test_a_member_that_leaves_the_folder_is_refused(tmp_path):
    for evil in ("../evil.py", "/etc/cron.d/evil", "a/../../evil", "C:/evil", "a\\..\\evil"):
        blob = rezip(make(tmp_path), {evil: b"print('hi')"})
        refused("m.zip", blob, r"holds a file named .* that would land outside the folder")


def test_a_zip_bomb_is_refused_from_its_sizes(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("model.keras", b"\0" * (comeback.MAX_MODEL_BYTES + 1))
    blob = out.getvalue()
    assert len(blob) < 1_000_000
    refused("bomb.zip", blob, r"holds 'model.keras', which unpacks to 100.0 MB, over the limit")


@pytest.mark.parametrize("change, match", [
    ({"format": 2}, r"made by a newer RNN Lab \(format 2"),
    ({"format": None}, r"has no known format"),
    ({"inputs": []}, r"list of input columns is not valid"),
    ({"lookback": 0}, r"its lookback \(0\) is not a whole number"),
    ({"transform": "sqrt"}, r"transform 'sqrt' is unknown"),
    ({"model_file": "../model.keras"}, r"unknown model file"),
    ({"lookback": 9}, r"run settings do not match its model"),
])
def test_edited_settings_are_refused(tmp_path, change, match):
    blob = make(tmp_path)
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        settings = json.loads(z.read("preprocessing.json"))
    settings.update(change)
    refused("m.zip", rezip(blob, {"preprocessing.json": json.dumps(settings).encode()}), match)


def test_a_network_with_code_or_the_wrong_shape_is_refused(tmp_path):
    refused("m.zip", make(tmp_path, model=keras_zip(layer="Lambda")),
            r"a Lambda layer, which is Python code inside the model file")
    refused("m.zip", make(tmp_path, model=keras_zip(lookback=30)),
            r"reads windows of 30 rows × 1 columns, not the 7 × 1")
    refused("m.zip", make(tmp_path, model=b"not a zip"), r"model.keras that is not a Keras model")


def test_an_echo_state_network_can_be_evaluated_not_continued(tmp_path):
    brought = comeback.inspect_upload("esn.zip", esn_bundle(tmp_path))
    assert brought.cell == "esn" and "fitted in one pass" in brought.can_continue
    with pytest.raises(comeback.ModelRefused, match="nothing to continue|no training to"):
        comeback.continue_config(brought, "airline_passengers.csv", epochs=2)


def test_an_older_zip_without_run_settings_can_be_evaluated_only(tmp_path):
    blob = make(tmp_path)
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        settings = json.loads(z.read("preprocessing.json"))
    del settings["run_settings"]
    brought = comeback.inspect_upload("old.zip", rezip(
        blob, {"preprocessing.json": json.dumps(settings).encode()}))
    assert brought.run_config is None and "older RNN Lab" in brought.can_continue
    cfg = comeback.evaluate_config(brought, "airline_passengers.csv")
    assert (cfg.model.lookback, cfg.data.transform, cfg.data.target) == \
        (LOOKBACK, "difference", "Passengers")
    assert comeback.prepare_with(brought, cfg.data).n_test > 0


# -- the store ------------------------------------------------------------------------------------

def test_a_run_of_an_upload_is_queued_with_the_kept_model(tmp_path, store):
    blob = make(tmp_path)
    brought = comeback.inspect_upload("m.zip", blob)
    cfg = comeback.continue_config(brought, "airline_passengers.csv", epochs=4,
                                   learning_rate=0.01)
    run_id, prepared = comeback.register(store, brought, blob, cfg)
    run = store.get_run(run_id)
    assert run.status == RunStatus.QUEUED and run.epochs_total == 4
    assert run.config["from_model"] == {"bundle": brought.sha256, "action": "continue"}
    assert run.config["train"]["learning_rate"] == 0.01
    kept = comeback.kept_path(store, brought.sha256)
    assert kept.read_bytes() == blob
    again, _ = comeback.load_kept(store, brought.sha256)
    assert again.sha256 == brought.sha256
    kept.write_bytes(blob[:-10])
    with pytest.raises(comeback.ModelRefused, match=r"damaged|changed"):
        comeback.load_kept(store, brought.sha256)
    kept.unlink()
    with pytest.raises(comeback.ModelRefused, match=r"no longer on the server.*Upload it again"):
        comeback.load_kept(store, brought.sha256)


def test_settings_copied_from_such_a_run_train_a_new_network(tmp_path, store):
    brought = comeback.inspect_upload("m.zip", make(tmp_path))
    cfg = comeback.evaluate_config(brought, "airline_passengers.csv")
    run_id = jobs.submit(store, cfg)
    assert store.get_run(run_id).config["from_model"] is None
    assert RunConfig.from_dict(store.get_run(run_id).config).from_model is None


def test_the_module_keeps_keras_out_of_the_web_process():
    code = ("import sys, rnnlab.comeback; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr[-500:]


def test_a_brought_model_run_records_who_queued_it_and_keeps_to_the_cap(tmp_path, store,
                                                                         monkeypatch):
    blob = make(tmp_path)
    brought = comeback.inspect_upload("m.zip", blob)
    cfg = comeback.evaluate_config(brought, "airline_passengers.csv")
    run_id, _ = comeback.register(store, brought, blob, cfg, owner="Ada", room="R7")
    run = store.get_run(run_id)
    assert (run.owner, run.room) == ("Ada", "R7")
    monkeypatch.setenv("RNNLAB_MAX_QUEUED_PER_USER", "1")
    with pytest.raises(jobs.QueueFull, match="Ada"):
        comeback.register(store, brought, blob, cfg, owner="Ada", room="R7")
    other, _ = comeback.register(store, brought, blob, cfg, owner="Grace", room="R7")
    assert store.get_run(other).owner == "Grace"
