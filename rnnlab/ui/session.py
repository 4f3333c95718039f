"""The user's choices in session state, and the widgets bound to them.

Session state holds one source of truth for the user's choices: `st.session_state["run_config"]`,
a `RunConfig` dict. Widgets are seeded from it (so a page left and re-entered shows the same
choices) and write back into it.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable

import streamlit as st

from rnnlab import config as cfgmod
from rnnlab import samples
from rnnlab.errors import RnnlabError

CONFIG_KEY = "run_config"
ADVISED_KEY = "_advised_for"     # the data the current settings were advised for (or set by hand)
ADVICE_KEY = "_advice"           # {"settings": partial config, "reasons": {name: sentence}}
ADVISED_WIDGETS = ("data_transform", "data_season", "model_lookback", "model_linear_skip",
                   "train_epochs", "train_patience")


def default_config() -> dict:
    """The starting config: engine defaults, with the default sample's columns and season."""
    raw = cfgmod.RunConfig().to_dict()
    sample = samples.SAMPLES.get(raw["data"]["source"])
    if sample is not None:
        raw["data"].update(target=sample.target, date_column=sample.date_column,
                           season=sample.season)
    return raw


def config_dict() -> dict:
    """The user's current choices as a RunConfig dict (created with defaults on first use)."""
    if CONFIG_KEY not in st.session_state:
        st.session_state[CONFIG_KEY] = default_config()
    return st.session_state[CONFIG_KEY]


def set_config(run_cfg: cfgmod.RunConfig | dict) -> None:
    """Replace the whole config (a preset, a run's config); the settings widgets re-read it."""
    raw = run_cfg.to_dict() if isinstance(run_cfg, cfgmod.RunConfig) else dict(run_cfg)
    st.session_state[CONFIG_KEY] = json.loads(json.dumps(raw))  # a deep, JSON-plain copy
    st.session_state[ADVISED_KEY] = advice_key(raw.get("data", {}))  # its own settings stay
    st.session_state.pop(ADVICE_KEY, None)
    prefixes = ("data_", "model_", "train_")
    for key in [k for k in st.session_state if str(k).startswith(prefixes)]:
        del st.session_state[key]


def advice_key(data: dict) -> str:
    """What advice depends on: the data, the target and the date column."""
    return json.dumps([data.get(k) for k in ("source", "target", "date_column", "test_source")])


def set_value(section: str, name: str, value: Any) -> None:
    """Set one setting of the config dict."""
    config_dict()[section][name] = value


def get_value(section: str, name: str, default: Any = None) -> Any:
    """One setting of the config dict."""
    return config_dict().get(section, {}).get(name, default)


def seed(key: str, value: Any) -> None:
    """Give a widget its starting value from the config, unless the user already set it."""
    if key not in st.session_state:
        st.session_state[key] = value


def bound(key: str, section: str, name: str,
          convert: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """Keyword arguments for a settings widget: its key, and a callback that writes its value
    (through `convert`) into config[section][name] as soon as the user changes it.

    Writing the value after the widget is drawn is not enough. A change followed at once by a
    click on another page (Enter, then "3 · Train") starts a run that the click interrupts,
    often before the page reaches the line after the widget; the next page does not draw the
    widget, so Streamlit drops its value, and the config keeps the old one. Streamlit runs
    on_change callbacks before the run's script, so the config has the value whatever the
    page still gets to draw."""
    return on_value(key, functools.partial(_set_converted, section, name, convert))


def on_value(key: str, apply: Callable[[Any], None]) -> dict[str, Any]:
    """Keyword arguments for a widget: its key, and an on_change callback that calls
    apply(the widget's new value) (see `bound`)."""
    return {"key": key, "on_change": _apply_value, "args": (key, apply)}


def _set_converted(section: str, name: str, convert: Callable[[Any], Any] | None,
                   value: Any) -> None:
    set_value(section, name, value if convert is None else convert(value))


def _apply_value(key: str, apply: Callable[[Any], None]) -> None:
    """Callback: apply a widget's new value, to the end. Streamlit looks for a newer request (a
    click elsewhere) on every use of session state and would stop the callback there; the
    request is passed on once the value is applied."""
    from streamlit.runtime.scriptrunner import RerunException

    pending = None
    for _ in range(3):
        try:
            if key in st.session_state:
                apply(st.session_state[key])
            break
        except RerunException as exc:
            pending = exc
    if pending is not None:
        raise pending


def validated_config() -> tuple[cfgmod.RunConfig | None, str | None]:
    """The config as a validated RunConfig, or None and the error message."""
    try:
        return cfgmod.RunConfig.from_dict(config_dict()), None
    except RnnlabError as exc:
        return None, str(exc)
