"""The settings advised for the data (transform, season, lookback, epochs), and why."""

from __future__ import annotations

import json

import streamlit as st

from rnnlab import samples
from rnnlab.errors import RnnlabError

from .session import ADVICE_KEY, ADVISED_KEY, ADVISED_WIDGETS, advice_key, config_dict, get_value
from .text import md


def apply_advice(settings: dict, reasons: dict) -> None:
    """Put advised settings into the config and reset their widgets; keep the reasons."""
    raw = config_dict()
    for section, values in settings.items():
        raw[section].update(values)
    st.session_state[ADVICE_KEY] = {"settings": json.loads(json.dumps(settings)),
                                    "reasons": dict(reasons)}
    st.session_state[ADVISED_KEY] = advice_key(raw["data"])
    for key in ADVISED_WIDGETS:
        st.session_state.pop(key, None)


@st.cache_data(show_spinner="Reading the data…", max_entries=16)
def load_data(source: str, date_column: str | None, fill: str, categorical: str):
    """data.load, cached per source and options."""
    from rnnlab import data

    return data.load(source, date_column=date_column, fill=fill, categorical=categorical)


@st.cache_data(show_spinner=False, max_entries=32)
def _advice_for(path: str, data_json: str) -> tuple[dict, dict]:
    """Advised settings and their reasons for a data section (as JSON), cached."""
    from rnnlab import advise

    data = json.loads(data_json)
    loaded = load_data(path, data.get("date_column"), data.get("fill", "interpolate"),
                       data.get("categorical", "exclude"))
    return advise.advise_data(loaded, data)


def ensure_advice() -> None:
    """On a new dataset or target: fill in the advised transform, season, lookback and epochs.

    Every page calls it (app.py), so a link that opens the Model or Train page first gets the
    same settings as one that opens the Data page. A dataset that cannot be read keeps the
    settings as they are: the Data page says what is wrong with it.
    """
    data = config_dict()["data"]
    if st.session_state.get(ADVISED_KEY) == advice_key(data):
        return
    path = str(samples.resolve_source(data["source"])) if data["source"] in samples.SAMPLES \
        else data["source"]
    try:
        settings, reasons = _advice_for(path, json.dumps(data, sort_keys=True))
    except (RnnlabError, ValueError, ArithmeticError, OSError):
        st.session_state.pop(ADVICE_KEY, None)   # no reasons of another dataset's shown here
        return
    apply_advice(settings, reasons)


def advice_caption(container, section: str, name: str, reason_key: str) -> None:
    """Under a control: why its advised value was chosen, or what was advised if it changed."""
    advice = st.session_state.get(ADVICE_KEY)
    if not advice or reason_key not in advice["reasons"]:
        return
    advised = advice["settings"].get(section, {}).get(name)
    if get_value(section, name) == advised:
        container.caption(f":material/auto_awesome: {md(advice['reasons'][reason_key])}")
    else:
        shown = {None: "none", True: "on", False: "off"}.get(advised, advised) \
            if advised is None or isinstance(advised, bool) else advised
        container.caption(f":material/auto_awesome: Suggested for this data: {md(shown)}.")
