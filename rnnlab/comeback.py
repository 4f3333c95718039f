"""Models come back: a model downloaded from RNN Lab, uploaded again to evaluate or to train on.

A run's "Model for new data (.zip)" download (`rnnlab.bundle`) holds the network and everything
between the data and it: the input columns, lookback, horizon, the target transform, the scaler
fitted on the training rows, and the run's settings. Uploaded again, it starts a new run that

- evaluates it: scores the model on a file with the same columns against the baselines, as a
  trained run is scored (the same predictions.csv, forecast.csv and summary), without training;
- continues it: trains the model's settings on a file, starting from the uploaded weights
  (`start_from`, called where `rnnlab.train` builds the network; the optimizer starts afresh).

Either way the file goes through the model's own preprocessing (`prepare_with`): the scaler is
never fitted again, because the network learned in those units. The rows are split as in the
model's own run (its validation and test shares, or the shares given): the model is scored on the
last part, and the rows before it fit the baselines that need fitting (linear autoregression, the
mean). The same file as the model's run therefore gives the same test predictions.

Safety: `inspect_upload` looks at a file before anything reads it as a model. The size first (at
most MAX_MODEL_MB, before reading when the size is known), then that it is a zip as RNN Lab makes
them: no member name that leaves its folder, no member that unpacks past the size limit,
preprocessing.json of a known format, and either a model.keras that is itself a Keras zip
without code layers or a model.npz of plain arrays (read with allow_pickle=False). Nothing is
ever unpickled, and Keras loads with safe_mode=True, so no code in a model file runs. A refusal
is a `ModelRefused` saying what the file is and which file to upload instead.

The web process imports this module: Keras is imported inside the worker-side functions only
(`evaluation`, `start_from`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
import re
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.config import MAX_HORIZON, MAX_LOOKBACK, SCALINGS, TRANSFORMS, DataConfig, \
    ModelConfig, RunConfig
from rnnlab.errors import ConfigError, DataError, RnnlabError
from rnnlab.store import RunStatus, Store

MODEL_FILE, ESN_FILE = "model.keras", "model.npz"   # as rnnlab.train names them
SETTINGS_FILE = "preprocessing.json"
FORMAT = 1                        # rnnlab.bundle.FORMAT: the one preprocessing.json this reads
MAX_MODEL_MB = 100
MAX_MODEL_BYTES = MAX_MODEL_MB * 1000 * 1000    # the upload, and any one file inside it unpacked
MAX_UNPACKED_BYTES = 2 * MAX_MODEL_BYTES       # every file inside it, unpacked
MAX_MEMBERS = 50
MAX_SETTINGS_BYTES = 5 * 1000 * 1000
MODELS_DIR = "models"             # in the store's folder: kept uploads, <sha256>.zip
WHERE = 'Results → Downloads → "Model for new data (.zip)"'
DOWNLOAD_FIX = (f"Download the model from {WHERE} (the page of the run that trained it) and "
                "upload that file as it is, without unzipping it.")
CODE_LAYERS = ("Lambda", "TFOpLambda")   # layers that hold Python code: never loaded


class ModelRefused(RnnlabError):
    """An uploaded file that RNN Lab will not load as a model; the message says why and what
    to upload instead."""


def _not_ours(what: str) -> ModelRefused:
    return ModelRefused(f"This is not a model downloaded from RNN Lab: {what}. {DOWNLOAD_FIX}")


def _megabytes(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 100_000 else f"{n_bytes / 1e3:.1f} kB"


# -- what an upload is --------------------------------------------------------------------------

@dataclass(frozen=True)
class Brought:
    """An uploaded model that passed every check: its settings and what it needs."""

    name: str                        # the uploaded file's name
    sha256: str                      # of its bytes: where it is kept, and the runs that use it
    size: int
    settings: dict                   # preprocessing.json
    run_config: RunConfig | None     # the settings of the run that trained it (newer zips)

    @property
    def inputs(self) -> list[str]:
        return list(self.settings["inputs"])

    @property
    def target(self) -> str:
        return self.settings["target"]

    @property
    def lookback(self) -> int:
        return int(self.settings["lookback"])

    @property
    def horizon(self) -> int:
        return int(self.settings["horizon"])

    @property
    def transform(self) -> str:
        return self.settings["transform"]

    @property
    def model_file(self) -> str:
        return self.settings["model_file"]

    @property
    def cell(self) -> str:
        if self.run_config is not None:
            return self.run_config.model.cell
        return "esn" if self.model_file == ESN_FILE else str(
            (self.settings.get("trained_on") or {}).get("cell") or "lstm")

    @property
    def run_name(self) -> str:
        return str((self.settings.get("trained_on") or {}).get("run_name") or "")

    @property
    def can_continue(self) -> str | None:
        """None when the model can be trained further; else why not, in plain words."""
        if self.cell == "esn":
            return ("An echo state network is fitted in one pass, so there is no training to "
                    "continue. Evaluate it on new data, or train a new one on the Train page.")
        if self.run_config is None:
            return ("This zip was downloaded from an older RNN Lab that did not keep the run's "
                    "settings in it, so its network cannot be rebuilt to train further (it can "
                    "still be evaluated). Download the model again from "
                    f"{WHERE} to continue training it.")
        return None

    def describe(self) -> list[str]:
        """The model in a few plain lines (plain text: names are quoted, not marked up)."""
        from rnnlab.config import CELL_LABELS, TRANSFORM_LABELS

        trained_on = self.settings.get("trained_on") or {}
        source = Path(str(trained_on["source"])).name if trained_on.get("source") else ""
        columns = ", ".join(f'"{c}"' for c in self.inputs)
        date = self.settings.get("date_column")
        return [
            f'Trained in the run "{self.run_name or "(unnamed)"}"'
            + (f" on {source}" if source else "") + ".",
            f"Network: {CELL_LABELS.get(self.cell, self.cell)}.",
            f'Forecasts "{self.target}", {self.horizon} step(s) at once, from the last '
            f"{self.lookback} rows.",
            f"Reads the column(s) {columns}" + (f' and the date column "{date}"' if date else "")
            + "; a new file needs the same columns.",
            f"Target transform: {TRANSFORM_LABELS.get(self.transform, self.transform)}.",
        ]


# -- checking an upload -------------------------------------------------------------------------

def check_model_size(n_bytes: int, name: str) -> None:
    """ModelRefused when a file of n_bytes is over the limit (said before reading it)."""
    if n_bytes > MAX_MODEL_BYTES:
        raise ModelRefused(
            f"{name} is {_megabytes(n_bytes)}; RNN Lab takes models of at most {MAX_MODEL_MB} MB. "
            "A model downloaded from RNN Lab is much smaller (a few MB even for a large "
            f"network), so this is most likely another file. {DOWNLOAD_FIX}")


def inspect_file(path: str | Path) -> tuple[Brought, bytes]:
    """inspect_upload for a file on disk, its size checked before it is read; (model, bytes)."""
    path = Path(path).expanduser()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ModelRefused(f"Cannot read the model file {path}: {exc.strerror}. Check the path."
                           ) from None
    if not path.is_file():
        raise ModelRefused(f"{path} is not a file. Give the path of the downloaded model zip.")
    check_model_size(size, path.name)
    raw = path.read_bytes()
    return inspect_upload(path.name, raw), raw


def inspect_upload(name: str, data: Any) -> Brought:
    """Check an uploaded file (bytes, or an object with `size` and `getvalue`, such as
    Streamlit's UploadedFile, whose size is checked before it is read); ModelRefused unless it
    is a model downloaded from RNN Lab."""
    name = Path(str(name or "upload")).name
    size = getattr(data, "size", None)
    if size is not None and not isinstance(data, (bytes, bytearray, memoryview)):
        check_model_size(int(size), name)
        data = data.getvalue()
    raw = bytes(data)
    check_model_size(len(raw), name)
    if not raw.startswith(b"PK\x03\x04"):
        raise _not_ours(_what_it_is(raw, name))
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ModelRefused(f"{name} is a damaged zip file (it cannot be opened), perhaps cut "
                           f"short by the download. {DOWNLOAD_FIX}") from None
    with archive:
        names = _check_members(archive, name)
        if SETTINGS_FILE not in names:
            raise _not_ours(_which_zip(names))
        settings = _read_settings(archive, name)
        run_config = _check_settings(settings, names, name)
        model_bytes = _read(archive, settings["model_file"], MAX_MODEL_BYTES, name)
    if settings["model_file"] == ESN_FILE:
        _check_npz(model_bytes, settings, name)
    else:
        _check_keras(model_bytes, settings, name)
    return Brought(name=name, sha256=hashlib.sha256(raw).hexdigest(), size=len(raw),
                   settings=settings, run_config=run_config)


def _what_it_is(raw: bytes, name: str) -> str:
    """What a file that is not a zip looks like, from its first bytes."""
    head = raw[:4096]
    renamed = f", whatever its name ({name}) says" if name.lower().endswith(".zip") else ""
    if not raw:
        return "the file is empty"
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return ("it is a Python pickle file, which RNN Lab never opens: loading a pickle can "
                "run any program hidden in it")
    if head.startswith(b"\x89HDF"):
        return "it is an HDF5 file (such as an older Keras .h5 model), which RNN Lab does not load"
    if head.startswith(b"\x93NUMPY"):
        return "it is a single NumPy array file"
    if head.startswith((b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"BZh")):
        return "it is a compressed file of another kind (gzip, 7z, rar or bzip2), not a zip"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            return f"it is a text file{renamed}"
        except UnicodeDecodeError:
            if head[:-4].isascii():
                return f"it is a text file{renamed}"
    return f"it is not a zip file{renamed}"


def _check_members(archive: zipfile.ZipFile, name: str) -> set[str]:
    """The member names; ModelRefused for a name that leaves its folder or a zip bomb."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _not_ours(f"the zip holds {len(infos):,} files, where a model from RNN Lab holds 4")
    total = 0
    for info in infos:
        member = info.filename
        if (member.startswith(("/", "\\")) or "\\" in member or re.match(r"^[A-Za-z]:", member)
                or ".." in member.split("/")):
            raise ModelRefused(
                f"{name} holds a file named {member!r} that would land outside the folder it is "
                "unpacked in, a trick used by harmful zips; RNN Lab refuses such files. "
                f"{DOWNLOAD_FIX}")
        if info.file_size > MAX_MODEL_BYTES:
            raise ModelRefused(
                f"{name} holds {member!r}, which unpacks to {_megabytes(info.file_size)}, over "
                f"the limit of {MAX_MODEL_MB} MB; a model from RNN Lab is much smaller. "
                f"{DOWNLOAD_FIX}")
        total += info.file_size
    if total > MAX_UNPACKED_BYTES:
        raise ModelRefused(f"{name} unpacks to {_megabytes(total)}, over the limit of "
                           f"{MAX_UNPACKED_BYTES // 1_000_000} MB. {DOWNLOAD_FIX}")
    return {info.filename for info in infos}


def _which_zip(names: set[str]) -> str:
    """Why a zip without preprocessing.json is not ours, as precisely as its names tell."""
    if {"config.json", "model.weights.h5"} <= names:
        return ("it is a Keras model file (.keras) on its own, without the settings the model "
                "needs (its columns, scaling and transform)")
    nested = sorted(n for n in names if n.endswith("/" + SETTINGS_FILE))
    if nested:
        return (f"the zip holds {nested[0]} inside a folder, so it was unzipped and zipped "
                "again")
    shown = ", ".join(sorted(names)[:6]) + (" ..." if len(names) > 6 else "")
    return f"the zip holds no {SETTINGS_FILE} (it holds {shown or 'nothing'})"


def _read(archive: zipfile.ZipFile, member: str, limit: int, name: str) -> bytes:
    """A member's bytes, reading at most limit + 1 of them whatever its header says."""
    try:
        with archive.open(member) as f:
            data = f.read(limit + 1)
    except KeyError:
        raise _not_ours(f"the zip holds no {member}") from None
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError,
            ValueError) as exc:
        raise ModelRefused(f"{name} is damaged: {member} inside it cannot be read ({exc}). "
                           f"{DOWNLOAD_FIX}") from None
    if len(data) > limit:
        raise ModelRefused(f"{member} inside {name} unpacks to more than "
                           f"{_megabytes(limit)}. {DOWNLOAD_FIX}")
    return data


def _read_settings(archive: zipfile.ZipFile, name: str) -> dict:
    text = _read(archive, SETTINGS_FILE, MAX_SETTINGS_BYTES, name)
    try:
        settings = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _damaged(name, f"{SETTINGS_FILE} is not valid JSON") from None
    if not isinstance(settings, dict):
        raise _damaged(name, f"{SETTINGS_FILE} is not a JSON object")
    return settings


def _damaged(name: str, why: str) -> ModelRefused:
    return ModelRefused(f"{name} looks like a model from RNN Lab, but {why}: it was damaged or "
                        f"edited. {DOWNLOAD_FIX}")


def _check_settings(s: dict, names: set[str], name: str) -> RunConfig | None:
    """ModelRefused unless preprocessing.json is one RNN Lab wrote; the run's settings if any."""
    fmt = s.get("format")
    if isinstance(fmt, int) and not isinstance(fmt, bool) and fmt > FORMAT:
        raise ModelRefused(f"{name} was made by a newer RNN Lab (format {fmt}; this one reads "
                           f"format {FORMAT}). Update RNN Lab, or download the model from this "
                           "RNN Lab.")
    if fmt != FORMAT:
        raise _damaged(name, f"its {SETTINGS_FILE} has no known format (format {fmt!r})")
    try:
        inputs, lookback, horizon = s["inputs"], s["lookback"], s["horizon"]
        ok = (isinstance(inputs, list) and inputs and all(isinstance(c, str) and c for c in inputs)
              and s["target"] == inputs[0] and len(set(inputs)) == len(inputs))
        if not ok:
            raise _damaged(name, "its list of input columns is not valid")
        for key, value, top in (("lookback", lookback, MAX_LOOKBACK),
                                ("horizon", horizon, MAX_HORIZON)):
            if not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= top):
                raise _damaged(name, f"its {key} ({value!r}) is not a whole number from 1 to {top}")
        from rnnlab.transforms import TargetTransform

        if s["transform"] not in TRANSFORMS:
            raise _damaged(name, f"its transform {s['transform']!r} is unknown")
        season = s.get("season")
        if season is not None and not (isinstance(season, int) and season >= 2):
            raise _damaged(name, f"its season ({season!r}) is not valid")
        transform = TargetTransform(s["transform"], season)
        if s.get("lag", 0) != transform.lag:
            raise _damaged(name, "its lag does not match its transform")
        scaler = s["scaler"]
        if scaler["kind"] not in SCALINGS:
            raise _damaged(name, f"its scaling {scaler['kind']!r} is unknown")
        for key in ("offset", "scale"):
            vals = scaler[key]
            if not (isinstance(vals, list) and len(vals) == len(inputs)
                    and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                            and math.isfinite(v) for v in vals)):
                raise _damaged(name, f"its scaler's {key} does not hold one number per column")
        if any(v <= 0 for v in scaler["scale"]):
            raise _damaged(name, "its scaler divides by 0 or less")
        if s["model_file"] not in (MODEL_FILE, ESN_FILE):
            raise _damaged(name, f"it names an unknown model file {s['model_file']!r}")
        if s["model_file"] not in names:
            raise _damaged(name, f"the zip holds no {s['model_file']}, the model it names")
        date = s.get("date_column")
        if date is not None and not isinstance(date, str):
            raise _damaged(name, "its date column is not a name")
    except ModelRefused:
        raise
    except (KeyError, TypeError, AttributeError, ConfigError) as exc:
        raise _damaged(name, f"its {SETTINGS_FILE} misses or garbles {exc}") from None
    raw_cfg = s.get("run_settings")
    if raw_cfg is None:
        return None
    try:
        run_cfg = RunConfig.from_dict(raw_cfg)
    except (ConfigError, TypeError, ValueError) as exc:
        raise _damaged(name, f"its run settings are not valid ({exc})") from None
    m = run_cfg.model
    if (m.lookback, m.horizon) != (lookback, horizon) or \
            (m.cell == "esn") != (s["model_file"] == ESN_FILE):
        raise _damaged(name, "its run settings do not match its model")
    return run_cfg.replace(from_model=None) if run_cfg.from_model is not None else run_cfg


def _check_keras(blob: bytes, s: dict, name: str) -> None:
    """model.keras must be a Keras zip (config.json, model.weights.h5) without code layers, its
    input (lookback, columns) and output (horizon) those of preprocessing.json."""
    bad = ModelRefused(f"{name} holds a {MODEL_FILE} that is not a Keras model file. "
                       f"{DOWNLOAD_FIX}")
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as inner:
            names = set(inner.namelist())
            if not {"config.json", "model.weights.h5"} <= names:
                raise bad
            info = inner.getinfo("config.json")
            if info.file_size > MAX_SETTINGS_BYTES:
                raise bad
            config = json.loads(inner.read("config.json").decode("utf-8"))
    except ModelRefused:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError, EOFError):
        raise bad from None
    classes = set(_values_of(config, "class_name"))
    code = sorted(classes & set(CODE_LAYERS))
    if code:
        raise ModelRefused(f"{name} holds a network with a {code[0]} layer, which is Python code "
                           "inside the model file; RNN Lab never runs code from an uploaded file, "
                           f"and its own models have no such layer. {DOWNLOAD_FIX}")
    shapes = [v for v in _values_of(config, "batch_shape") if isinstance(v, list) and len(v) == 3]
    if shapes and shapes[0][1:] != [s["lookback"], len(s["inputs"])]:
        raise _damaged(name, f"its network reads windows of {shapes[0][1]} rows × "
                             f"{shapes[0][2]} columns, not the {s['lookback']} × "
                             f"{len(s['inputs'])} of its settings")


def _values_of(tree: Any, key: str):
    """Every value under `key` anywhere in a JSON tree."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if k == key:
                    yield v
                stack.append(v)
        elif isinstance(node, list):
            stack.extend(node)


def _check_npz(blob: bytes, s: dict, name: str) -> None:
    """model.npz must hold the echo state network's plain arrays (never pickled objects)."""
    needed = ("w", "w_in", "b", "w_out", "leak_rate")
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as f:
            missing = [k for k in needed if k not in f.files]
            if missing:
                raise _damaged(name, f"its {ESN_FILE} has no {missing[0]!r}")
            arrays = {k: f[k] for k in needed}
    except ModelRefused:
        raise
    except ValueError as exc:
        if "pickle" in str(exc):
            raise ModelRefused(f"{name} holds a {ESN_FILE} with pickled Python objects, which "
                               "RNN Lab never loads (they can run any program hidden in them). "
                               f"{DOWNLOAD_FIX}") from None
        raise _damaged(name, f"its {ESN_FILE} cannot be read ({exc})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise _damaged(name, f"its {ESN_FILE} cannot be read ({exc})") from None
    w_in, w_out = arrays["w_in"], arrays["w_out"]
    if w_in.ndim != 2 or w_in.shape[0] != len(s["inputs"]) or w_out.ndim != 2 \
            or w_out.shape[1] != s["horizon"]:
        raise _damaged(name, f"its {ESN_FILE} does not match its columns and horizon")


# -- keeping an upload, and the runs that use it ------------------------------------------------

def kept_path(store: Store, sha256: str) -> Path:
    """Where an uploaded model is kept: <store>/models/<sha256>.zip."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        raise ConfigError(f"Not a kept model's SHA-256: {sha256!r}")
    return store.home / MODELS_DIR / f"{sha256}.zip"


def keep(store: Store, brought: Brought, raw: bytes) -> Path:
    """Write the upload into the store's models folder (atomically; once per content)."""
    store.check_writable()
    path = kept_path(store, brought.sha256)
    if path.is_file() and path.stat().st_size == len(raw):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        tmp.write_bytes(raw)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        from rnnlab.store import storage_error

        raise (storage_error(exc, store.home) or exc) from None
    return path


def load_kept(store: Store, sha256: str) -> tuple[Brought, bytes]:
    """A kept upload, checked again as it is read (the file on disk could have changed)."""
    path = kept_path(store, sha256)
    if not path.is_file():
        raise ModelRefused(f"The uploaded model this run uses is no longer on the server "
                           f"({path} is missing). Upload it again on the Bring a model page.")
    brought, raw = inspect_file(path)
    if brought.sha256 != sha256:
        raise ModelRefused(f"The kept model {path} changed since it was uploaded. Upload it "
                           "again on the Bring a model page.")
    return dataclasses.replace(brought, name="the uploaded model"), raw


def model_bytes(raw: bytes, brought: Brought) -> bytes:
    """The model file inside a (checked) upload."""
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return _read(archive, brought.model_file, MAX_MODEL_BYTES, brought.name)


def base_config(brought: Brought) -> RunConfig:
    """The settings of the run that trained the model; for an older zip, what its
    preprocessing.json tells (enough to evaluate it, not to rebuild its network)."""
    if brought.run_config is not None:
        return brought.run_config
    s = brought.settings
    features = []
    for column in brought.inputs[1:]:
        base = column.split("=", 1)[0] if "=" in column else column
        if base not in features:
            features.append(base)
    data = DataConfig(source=str((s.get("trained_on") or {}).get("source") or "model"),
                      target=brought.target, features=tuple(features),
                      date_column=s.get("date_column"), scaling=s["scaler"]["kind"],
                      categorical="onehot" if any("=" in c for c in brought.inputs) else "exclude",
                      transform=brought.transform, season=s.get("season"))
    model = ModelConfig(cell=brought.cell, lookback=brought.lookback, horizon=brought.horizon)
    return RunConfig(data=data, model=model, name=brought.run_name)


def default_test_fraction(brought: Brought) -> float:
    """The test share of the model's own run (0.2 when it had a separate test file)."""
    data = base_config(brought).data
    return 0.2 if data.test_source else float(data.test_fraction)


def _data_for(brought: Brought, source: str, test_fraction: float | None) -> dict:
    data = base_config(brought).data
    fraction = default_test_fraction(brought) if test_fraction is None else float(test_fraction)
    return {"source": str(source), "test_source": None, "test_fraction": fraction,
            "val_fraction": data.val_fraction}


def _short_name(source: str) -> str:
    """A file's name without its folder (uploads are kept under a folder named by a hash)."""
    return Path(str(source)).name or str(source)


def evaluate_config(brought: Brought, source: str, *, test_fraction: float | None = None,
                    name: str = "") -> RunConfig:
    """A run that scores the model on `source` (its last test_fraction of rows), untrained."""
    label = brought.run_name or "uploaded model"
    return base_config(brought).replace(
        data=_data_for(brought, source, test_fraction),
        name=(name or f"{label} evaluated on {_short_name(source)}")[:200],
        from_model={"bundle": brought.sha256, "action": "evaluate"})


def continue_config(brought: Brought, source: str, *, epochs: int,
                    learning_rate: float | None = None, test_fraction: float | None = None,
                    name: str = "") -> RunConfig:
    """A run with the model's settings on `source` that starts from its trained weights."""
    why_not = brought.can_continue
    if why_not:
        raise ModelRefused(why_not)
    train = {"epochs": int(epochs)}
    if learning_rate is not None:
        train["learning_rate"] = float(learning_rate)
    label = brought.run_name or "uploaded model"
    return base_config(brought).replace(
        data=_data_for(brought, source, test_fraction), train=train,
        name=(name or f"{label} continued on {_short_name(source)}")[:200],
        from_model={"bundle": brought.sha256, "action": "continue"})


def register(store: Store, brought: Brought, raw: bytes, run_cfg: RunConfig, *,
             foreground: bool = False):
    """Check the data against the model, keep the upload and add the run: queued for a runner,
    or running (foreground, for `rnnlab evaluate` and `rnnlab continue`); (run id, Prepared)."""
    from rnnlab import jobs, lifecycle

    if run_cfg.from_model is None or run_cfg.from_model.bundle != brought.sha256:
        raise ConfigError("The run's settings do not name this uploaded model.")
    store.check_writable()
    run_cfg = jobs.absolute_sources(run_cfg)
    prepared = prepare_with(brought, run_cfg.data)
    keep(store, brought, raw)
    evaluating = run_cfg.from_model.action == "evaluate"
    values = dict(data_sha256=prepared.data_sha256, name=run_cfg.name,
                  epochs_total=0 if evaluating else run_cfg.train.epochs)
    what = "evaluate" if evaluating else "continue training"
    source = Path(run_cfg.data.source).name
    if foreground:
        run_id = lifecycle.create_running(store, run_cfg.to_dict(), **values)
        now = time.time()
        store.update_run(run_id, pid=os.getpid(), started_at=now, heartbeat_at=now)
    else:
        run_id = store.create_run(run_cfg.to_dict(), **values)
    store.add_event(run_id, "queued", f"Queued to {what} the uploaded model {brought.name} "
                                      f"(run {brought.run_name or 'unnamed'}) on {source}.")
    if not foreground:
        jobs._wake_runners(store)
    return run_id, prepared


# -- the new file through the model's own preprocessing -----------------------------------------

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


# -- the worker's side (Keras inside the functions) ---------------------------------------------

def evaluation(store: Store, run_id: str, run_cfg: RunConfig):
    """The kept model, copied into the run's folder and loaded, as a finished TrainOutcome (no
    epochs) whose predict function the worker scores as it scores a trained run."""
    from rnnlab.train import TrainOutcome, predict_function

    brought, raw = load_kept(store, run_cfg.from_model.bundle)
    path = store.artefact(run_id, brought.model_file)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_bytes(model_bytes(raw, brought))
    os.replace(tmp, path)
    if brought.model_file == ESN_FILE:
        from rnnlab.esn import EchoStateNetwork

        network = EchoStateNetwork.load(path)
        predict = network.predict
    else:
        network = load_network(path, brought)
        predict = predict_function(network)
    message = (f"Evaluated the uploaded model of the run {brought.run_name or '(unnamed)'} on "
               f"{Path(run_cfg.data.source).name}; it was not trained here.")
    store.add_event(run_id, "evaluated", message)
    return TrainOutcome(RunStatus.DONE, 0, message, model=network, predict=predict)


def param_count(network) -> int | None:
    """Trainable parameters of a loaded network (the readout of an echo state network)."""
    if hasattr(network, "count_params"):
        return int(network.count_params())
    w_out = getattr(network, "w_out", None)
    return int(np.size(w_out)) if w_out is not None else None


def load_network(path: Path, brought: Brought):
    """keras.saving.load_model with safe_mode (no code from the file runs), checked against the
    settings; ModelRefused in plain words when Keras cannot load it."""
    from rnnlab import backend

    keras = backend.keras()
    try:
        network = keras.saving.load_model(Path(path), safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises ValueError, TypeError, OSError... for a bad file
        if "safe_mode" in str(exc) or "unsafe" in str(exc).lower():
            raise ModelRefused(f"{brought.name} holds Python code inside its model, which RNN Lab "
                               f"never runs from an uploaded file. {DOWNLOAD_FIX}") from None
        raise ModelRefused(f"The network in {brought.name} cannot be loaded "
                           f"({type(exc).__name__}: {str(exc)[:300]}). {DOWNLOAD_FIX}") from None
    shape = tuple(network.inputs[0].shape)[1:]
    out = network.outputs[0].shape[-1]
    if shape != (brought.lookback, len(brought.inputs)) or out != brought.horizon:
        raise ModelRefused(f"The network in {brought.name} reads {shape} and forecasts {out} "
                           f"step(s), but its settings say ({brought.lookback}, "
                           f"{len(brought.inputs)}) and {brought.horizon}: the zip was edited. "
                           f"{DOWNLOAD_FIX}")
    return network


def start_from(model, store: Store, run_id: str, run_cfg: RunConfig) -> None:
    """Set a freshly built network's weights to the kept model's, layer by layer (by name);
    ModelRefused when the two do not have the same layers and shapes."""
    brought, raw = load_kept(store, run_cfg.from_model.bundle)
    with tempfile.TemporaryDirectory(prefix="rnnlab-model-") as folder:
        path = Path(folder) / MODEL_FILE
        path.write_bytes(model_bytes(raw, brought))
        loaded = load_network(path, brought)
    copied = 0
    for layer in loaded.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        try:
            target = model.get_layer(layer.name)
        except ValueError:
            target = None
        mine = target.get_weights() if target is not None else []
        if target is None or [w.shape for w in mine] != [w.shape for w in weights]:
            raise ModelRefused(f"The network in {brought.name} does not fit the settings of this "
                               f"run (its layer {layer.name!r} differs), so training cannot start "
                               "from it. Start the run from the Bring a model page again, "
                               "without changing the model's settings.")
        target.set_weights(weights)
        copied += 1
    if not copied:
        raise ModelRefused(f"The network in {brought.name} holds no trained weights. "
                           f"{DOWNLOAD_FIX}")
    store.add_event(run_id, "from model", f"Started from the trained weights of the uploaded "
                                          f"model of the run {brought.run_name or '(unnamed)'}; "
                                          "the optimizer starts afresh.")
