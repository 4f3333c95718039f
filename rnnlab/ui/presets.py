"""Presets by name: the config presets, and one per run of every lesson."""

from __future__ import annotations

import streamlit as st

from rnnlab import config as cfgmod
from rnnlab import lessons
from rnnlab.errors import RnnlabError

from .session import set_config


def use_preset(name: str, where: str) -> bool:
    """Replace every setting with the preset's (once per name and session); False if unknown."""
    st.session_state["_applied_preset"] = name
    try:
        run_cfg = preset_config(name)
    except RnnlabError as exc:
        st.session_state["_preset_error"] = str(exc)
        return False
    set_config(run_cfg)
    st.session_state["_notice"] = f"Loaded the preset “{run_cfg.name or name}”{where}."
    return True


def lesson_presets() -> dict[str, tuple[str, cfgmod.RunConfig]]:
    """'lesson-id:label' -> (title, config) for every run of every lesson (none if unreadable)."""
    try:
        found = lessons.load_lessons()
    except RnnlabError:
        return {}
    return {f"{lesson.id}:{label}": (f"Lesson · {lesson.title} · {label}", run_cfg)
            for lesson in found.values() for label, run_cfg in lesson.runs}


def preset_config(name: str) -> cfgmod.RunConfig:
    """The RunConfig of a preset (or of one run of a lesson) by name; ConfigError if unknown."""
    if name in cfgmod.PRESETS:
        return cfgmod.preset(name)
    lesson = lesson_presets().get(name)
    if lesson is not None:
        return lesson[1]
    return cfgmod.preset(name)  # raises ConfigError naming the known presets
