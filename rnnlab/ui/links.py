"""What a link carries: the working setup (?setup=ID), a preset, classroom mode and who is who;
and the one-off notices they leave."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import streamlit as st

from rnnlab import config as cfgmod
from rnnlab.errors import RnnlabError

from .identity import apply_classroom_param, apply_identity_params
from .presets import use_preset
from .process import store
from .session import CONFIG_KEY, set_config
from .text import md

SETUP_PARAM = "setup"
_SETUP_ID = re.compile(r"[0-9a-f]{16}")


def _setups_dir() -> Path:
    return store().home / "setups"


def restore_setup() -> None:
    """?setup=ID: the working setup (data, target, model and training settings) saved by
    `remember_setup`, put back in a new session, so a reload, a bookmark or a shared link opens
    where the user was instead of on the sample with the defaults. Once per session."""
    setup_id = st.query_params.get(SETUP_PARAM)
    if not setup_id or CONFIG_KEY in st.session_state or st.session_state.get("_setup_tried"):
        return
    st.session_state["_setup_tried"] = True
    try:
        if not _SETUP_ID.fullmatch(setup_id):
            raise ValueError("not a setup id")
        raw = json.loads((_setups_dir() / f"{setup_id}.json").read_text(encoding="utf-8"))
        cfgmod.RunConfig.from_dict(raw)                       # still a valid config
    except (OSError, ValueError, RnnlabError, TypeError, AttributeError):
        st.session_state["_setup_missing"] = True
        return
    set_config(raw)
    st.session_state["_remembered_setup"] = setup_id
    preset = st.query_params.get("preset")
    if preset:                       # the link's preset was the start; the setup came after it
        st.session_state["_applied_preset"] = preset


def remember_setup() -> None:
    """Save the working setup under the hash of its JSON (a small file in the run store) and put
    its id in the link, after every page run. Nothing is saved while the store is read-only."""
    raw = st.session_state.get(CONFIG_KEY)
    if raw is None:
        return
    text = json.dumps(raw, sort_keys=True)
    setup_id = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    if st.session_state.get("_remembered_setup") != setup_id:
        try:
            if not store().writable():
                return
            folder = _setups_dir()
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{setup_id}.json"
            if not path.exists():
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, path)
        except (OSError, RnnlabError):
            return                   # a full disk: the link just keeps its older setup
        st.session_state["_remembered_setup"] = setup_id
    if st.query_params.get(SETUP_PARAM) != setup_id:
        st.query_params[SETUP_PARAM] = setup_id


def apply_query_params() -> None:
    """Settings carried by a link: ?setup=ID (the setup the user was working on), ?classroom=1
    (classroom mode), ?room=CODE, ?name=NAME and ?teacher=1 (who is who in a class) and
    ?preset=NAME (a preset, loaded once per session; teachers share these)."""
    restore_setup()
    apply_classroom_param()
    apply_identity_params()
    name = st.query_params.get("preset")
    if not name or st.session_state.get("_applied_preset") == name:
        return
    use_preset(name, " from the link")


def notices() -> None:
    """One-off messages left by a callback or a link (a preset loaded, settings copied)."""
    note = st.session_state.pop("_notice", None)
    if note:
        st.success(note, icon=":material/school:")
    if st.session_state.pop("_setup_missing", False):
        st.warning("The settings saved in this link are not on this server any more (or the "
                   "link was cut short), so you start from the sample data. Your runs are all "
                   "still on the Train and Results pages.", icon=":material/link_off:")
    error = st.session_state.pop("_preset_error", None)
    if error:
        st.error(f"The preset in the link cannot be loaded: {md(error)}", icon=":material/block:")
