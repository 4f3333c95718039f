"""The checks an uploaded model passes before anything reads it as a model (see `rnnlab.comeback`):
its size, then a zip as RNN Lab makes them, with no member that leaves its folder or unpacks past
the limits, a preprocessing.json of a known format, and a model.keras without code layers or a
model.npz of plain arrays. Nothing is unpickled; a refusal says what the file is."""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab import cells
from rnnlab.comeback.model import (CODE_LAYERS, DOWNLOAD_FIX, ESN_FILE, FORMAT, MAX_MEMBERS,
                                   MAX_MODEL_BYTES, MAX_MODEL_MB, MAX_SETTINGS_BYTES,
                                   MAX_UNPACKED_BYTES, MODEL_FILE, SETTINGS_FILE, Brought,
                                   ModelRefused, damaged, megabytes, not_ours)
from rnnlab.config import MAX_HORIZON, MAX_LOOKBACK, SCALINGS, TRANSFORMS, RunConfig
from rnnlab.errors import ConfigError


def check_model_size(n_bytes: int, name: str) -> None:
    """ModelRefused when a file of n_bytes is over the limit (said before reading it)."""
    if n_bytes > MAX_MODEL_BYTES:
        raise ModelRefused(
            f"{name} is {megabytes(n_bytes)}; RNN Lab takes models of at most {MAX_MODEL_MB} MB. "
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
        raise not_ours(_what_it_is(raw, name))
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ModelRefused(f"{name} is a damaged zip file (it cannot be opened), perhaps cut "
                           f"short by the download. {DOWNLOAD_FIX}") from None
    with archive:
        names = _check_members(archive, name)
        if SETTINGS_FILE not in names:
            raise not_ours(_which_zip(names))
        settings = _read_settings(archive, name)
        run_config = _check_settings(settings, names, name)
        model_bytes = read_member(archive, settings["model_file"], MAX_MODEL_BYTES, name)
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
        raise not_ours(f"the zip holds {len(infos):,} files, where a model from RNN Lab holds 4")
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
                f"{name} holds {member!r}, which unpacks to {megabytes(info.file_size)}, over "
                f"the limit of {MAX_MODEL_MB} MB; a model from RNN Lab is much smaller. "
                f"{DOWNLOAD_FIX}")
        total += info.file_size
    if total > MAX_UNPACKED_BYTES:
        raise ModelRefused(f"{name} unpacks to {megabytes(total)}, over the limit of "
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


def read_member(archive: zipfile.ZipFile, member: str, limit: int, name: str) -> bytes:
    """A member's bytes, reading at most limit + 1 of them whatever its header says."""
    try:
        with archive.open(member) as f:
            data = f.read(limit + 1)
    except KeyError:
        raise not_ours(f"the zip holds no {member}") from None
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError,
            ValueError) as exc:
        raise ModelRefused(f"{name} is damaged: {member} inside it cannot be read ({exc}). "
                           f"{DOWNLOAD_FIX}") from None
    if len(data) > limit:
        raise ModelRefused(f"{member} inside {name} unpacks to more than "
                           f"{megabytes(limit)}. {DOWNLOAD_FIX}")
    return data


def _read_settings(archive: zipfile.ZipFile, name: str) -> dict:
    text = read_member(archive, SETTINGS_FILE, MAX_SETTINGS_BYTES, name)
    try:
        settings = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise damaged(name, f"{SETTINGS_FILE} is not valid JSON") from None
    if not isinstance(settings, dict):
        raise damaged(name, f"{SETTINGS_FILE} is not a JSON object")
    return settings


def _check_settings(s: dict, names: set[str], name: str) -> RunConfig | None:
    """ModelRefused unless preprocessing.json is one RNN Lab wrote; the run's settings if any."""
    fmt = s.get("format")
    if isinstance(fmt, int) and not isinstance(fmt, bool) and fmt > FORMAT:
        raise ModelRefused(f"{name} was made by a newer RNN Lab (format {fmt}; this one reads "
                           f"format {FORMAT}). Update RNN Lab, or download the model from this "
                           "RNN Lab.")
    if fmt != FORMAT:
        raise damaged(name, f"its {SETTINGS_FILE} has no known format (format {fmt!r})")
    try:
        inputs, lookback, horizon = s["inputs"], s["lookback"], s["horizon"]
        ok = (isinstance(inputs, list) and inputs and all(isinstance(c, str) and c for c in inputs)
              and s["target"] == inputs[0] and len(set(inputs)) == len(inputs))
        if not ok:
            raise damaged(name, "its list of input columns is not valid")
        for key, value, top in (("lookback", lookback, MAX_LOOKBACK),
                                ("horizon", horizon, MAX_HORIZON)):
            if not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= top):
                raise damaged(name, f"its {key} ({value!r}) is not a whole number from 1 to {top}")
        from rnnlab.transforms import TargetTransform

        if s["transform"] not in TRANSFORMS:
            raise damaged(name, f"its transform {s['transform']!r} is unknown")
        season = s.get("season")
        if season is not None and not (isinstance(season, int) and season >= 2):
            raise damaged(name, f"its season ({season!r}) is not valid")
        transform = TargetTransform(s["transform"], season)
        if s.get("lag", 0) != transform.lag:
            raise damaged(name, "its lag does not match its transform")
        scaler = s["scaler"]
        if scaler["kind"] not in SCALINGS:
            raise damaged(name, f"its scaling {scaler['kind']!r} is unknown")
        for key in ("offset", "scale"):
            vals = scaler[key]
            if not (isinstance(vals, list) and len(vals) == len(inputs)
                    and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                            and math.isfinite(v) for v in vals)):
                raise damaged(name, f"its scaler's {key} does not hold one number per column")
        if any(v <= 0 for v in scaler["scale"]):
            raise damaged(name, "its scaler divides by 0 or less")
        if s["model_file"] not in (MODEL_FILE, ESN_FILE):
            raise damaged(name, f"it names an unknown model file {s['model_file']!r}")
        if s["model_file"] not in names:
            raise damaged(name, f"the zip holds no {s['model_file']}, the model it names")
        date = s.get("date_column")
        if date is not None and not isinstance(date, str):
            raise damaged(name, "its date column is not a name")
    except ModelRefused:
        raise
    except (KeyError, TypeError, AttributeError, ConfigError) as exc:
        raise damaged(name, f"its {SETTINGS_FILE} misses or garbles {exc}") from None
    raw_cfg = s.get("run_settings")
    if raw_cfg is None:
        return None
    try:
        run_cfg = RunConfig.from_dict(raw_cfg)
    except (ConfigError, TypeError, ValueError) as exc:
        raise damaged(name, f"its run settings are not valid ({exc})") from None
    m = run_cfg.model
    if (m.lookback, m.horizon) != (lookback, horizon) or \
            cells.get(m.cell).model_file != s["model_file"]:
        raise damaged(name, "its run settings do not match its model")
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
        raise damaged(name, f"its network reads windows of {shapes[0][1]} rows × "
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
                raise damaged(name, f"its {ESN_FILE} has no {missing[0]!r}")
            arrays = {k: f[k] for k in needed}
    except ModelRefused:
        raise
    except ValueError as exc:
        if "pickle" in str(exc):
            raise ModelRefused(f"{name} holds a {ESN_FILE} with pickled Python objects, which "
                               "RNN Lab never loads (they can run any program hidden in them). "
                               f"{DOWNLOAD_FIX}") from None
        raise damaged(name, f"its {ESN_FILE} cannot be read ({exc})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise damaged(name, f"its {ESN_FILE} cannot be read ({exc})") from None
    w_in, w_out = arrays["w_in"], arrays["w_out"]
    if w_in.ndim != 2 or w_in.shape[0] != len(s["inputs"]) or w_out.ndim != 2 \
            or w_out.shape[1] != s["horizon"]:
        raise damaged(name, f"its {ESN_FILE} does not match its columns and horizon")
