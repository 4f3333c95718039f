"""Uploaded models kept in the store's folder (<store>/models/<sha256>.zip), for the runs that use
them, and checked again whenever they are read."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import zipfile
from pathlib import Path

from rnnlab.comeback.check import inspect_file, read_member
from rnnlab.comeback.model import MAX_MODEL_BYTES, MODELS_DIR, Brought, ModelRefused
from rnnlab.errors import ConfigError
from rnnlab.store import Store


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
        return read_member(archive, brought.model_file, MAX_MODEL_BYTES, brought.name)
