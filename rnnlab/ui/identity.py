"""Who is who in a class (a name, a room code, the teacher's view) and classroom mode."""

from __future__ import annotations

from typing import Any, Iterable

import streamlit as st

from rnnlab import classroom as classmod
from rnnlab.errors import RnnlabError
from rnnlab.store import RunRecord

from .session import on_value
from .text import md

CLASSROOM_KEY = "classroom"       # the sidebar toggle's key: kept in session state across pages
TRUE_WORDS = ("1", "true", "yes", "on")


def apply_classroom_param() -> None:
    """?classroom=1 turns classroom mode on (0 turns it off), once per value of the link, so the
    sidebar toggle still works and the mode stays on while the user moves between pages."""
    flag = st.query_params.get("classroom")
    if flag is None or st.session_state.get("_applied_classroom") == flag:
        return
    st.session_state["_applied_classroom"] = flag
    st.session_state[CLASSROOM_KEY] = flag.strip().lower() in TRUE_WORDS


# -- who is who in a class ------------------------------------------------------------------------
# A session can carry a name (typed in the sidebar) and a room code (from a ?room=CODE link);
# the runs it queues record both. Both are kept in the link (?name=, ?room=), so a reload or a
# bookmark keeps them. Names are not accounts and not security: the password gate is the lock.
NAME_PARAM, ROOM_PARAM, TEACHER_PARAM = "name", "room", "teacher"
NAME_WIDGET = "class_name"        # the sidebar's name box
NAME_BOXES = (NAME_WIDGET, "name_prompt")   # every box a name can be typed in
_NAME, _ROOM, _TEACHER = "_class_name", "_class_room", "_class_teacher"
NAME_LABEL = "Your name (for the class)"
NAME_HELP = ("Your runs are listed first on the Train, Results and Compare pages, and the "
             "teacher's board shows them under this name. It is not a password: anyone can "
             "type any name, so use a first name or a nickname.")


def apply_identity_params() -> None:
    """?room=CODE, ?name=NAME and ?teacher=1 from the link, once per value (a link without them
    keeps what the session has: moving between pages drops the link's parameters). A bad room
    code or name is said once, as a warning, and not used."""
    room = st.query_params.get(ROOM_PARAM)
    if room is not None and st.session_state.get("_applied_room") != room:
        st.session_state["_applied_room"] = room
        try:
            st.session_state[_ROOM] = classmod.check_room(room)
        except RnnlabError as exc:
            st.session_state[_ROOM] = ""
            st.session_state["_identity_problem"] = str(exc)
    name = st.query_params.get(NAME_PARAM)
    if name is not None and st.session_state.get("_applied_name") != name:
        st.session_state["_applied_name"] = name
        try:
            _set_name(name)
        except RnnlabError as exc:
            st.session_state["_identity_problem"] = (f"The name in the link cannot be used: {exc} "
                                                     "Type your name in the sidebar instead.")
    teacher = st.query_params.get(TEACHER_PARAM)
    if teacher is not None and st.session_state.get("_applied_teacher") != teacher:
        st.session_state["_applied_teacher"] = teacher
        st.session_state[_TEACHER] = teacher.strip().lower() in TRUE_WORDS


def owner() -> str:
    """The session's name ('' when none was typed)."""
    return st.session_state.get(_NAME, "")


def room() -> str:
    """The session's room code, from the link ('' for none)."""
    return st.session_state.get(_ROOM, "")


def teacher_view() -> bool:
    """True when the navigation shows the class board: in classroom mode, or with a link that
    has ?room=CODE&teacher=1."""
    return classroom() or bool(room() and st.session_state.get(_TEACHER))


def name_needed() -> bool:
    """True when runs should not start before a name is typed: in classroom mode or a room."""
    return (classroom() or bool(room())) and not owner()


def _set_name(text: str) -> str:
    """Keep a name for the session (tidied; ConfigError when it cannot be used) and show it in
    the sidebar's box."""
    name = classmod.check_name(text)
    st.session_state[_NAME] = name
    st.session_state[NAME_WIDGET] = name
    return name


def _typed_name(value: Any) -> None:
    """A name box changed: keep the name, or keep the old one and say what to type."""
    try:
        name = _set_name(value or "")
    except RnnlabError as exc:
        st.session_state["_identity_problem"] = str(exc)
        return
    for key in NAME_BOXES:
        if key != NAME_WIDGET:
            st.session_state.pop(key, None)
    st.session_state["_applied_name"] = name


def name_ui() -> None:
    """The sidebar's name box (optional outside classroom mode and rooms), and the room."""
    if NAME_WIDGET not in st.session_state:
        st.session_state[NAME_WIDGET] = owner()
    st.text_input(NAME_LABEL, max_chars=classmod.MAX_NAME, placeholder="e.g. Ada",
                  help=NAME_HELP, **on_value(NAME_WIDGET, _typed_name))
    if room():
        st.caption(f":material/meeting_room: Room **{md(room())}**")


def name_prompt(doing: str) -> None:
    """Ask for the name on the page, in large, before the first run in a class (the Train and
    Run buttons wait for it)."""
    if not name_needed():
        return
    with st.container(border=True, key="name_prompt_box"):
        st.markdown(f"## :material/badge: Type your name before you {doing}")
        st.text_input(NAME_LABEL, max_chars=classmod.MAX_NAME, placeholder="e.g. Ada",
                      help=NAME_HELP, **on_value("name_prompt", _typed_name))
        st.caption("Your runs are then kept under your name, and your teacher sees them on the "
                   "class board. Press Enter when done.")


def identity_notices() -> None:
    """A bad room code or name from the link, or a name that cannot be used."""
    problem = st.session_state.pop("_identity_problem", None)
    if problem:
        st.warning(md(problem), icon=":material/badge:")


def remember_identity() -> None:
    """Put the session's name, room and teacher flag back in the link after every page run
    (moving between pages drops them), so a reload keeps them; drop a refused room code."""
    teacher = "1" if room() and st.session_state.get(_TEACHER) else ""
    for param, value in ((NAME_PARAM, owner()), (ROOM_PARAM, room()), (TEACHER_PARAM, teacher)):
        if value:
            if st.query_params.get(param) != value:
                st.query_params[param] = value
        elif param in st.query_params:
            del st.query_params[param]


EVERYONE_HELP = ("Off: only the runs queued under your name. On: everyone's runs too, yours "
                 "first.")


def mine_first(runs: list[RunRecord], key: str, *, keep: Iterable[str | None] = (),
               where: Any = None, draw: bool = True) -> list[RunRecord]:
    """With a name: the session's own runs (newest first), and everyone else's after them when
    the "Everyone's runs" switch is on (a run in `keep`, e.g. one a link names, always stays).
    Without a name, or before the first run under it: every run, as stored. `draw=False`: the
    switch is drawn elsewhere on the page; its value is read, not drawn again."""
    name = owner()
    if not name:
        return runs
    mine = [r for r in runs if r.owner == name]
    if not mine:
        return runs
    others = [r for r in runs if r.owner != name]
    everyone = ((where or st).toggle("Everyone's runs", key=key, help=EVERYONE_HELP) if draw
                else bool(st.session_state.get(key, False)))
    kept = set(keep)
    return mine + [r for r in others if everyone or r.id in kept]


def classroom() -> bool:
    """True in classroom mode: advanced settings hidden, lesson text large."""
    return bool(st.session_state.get(CLASSROOM_KEY, False))


def classroom_note() -> None:
    """Say that some settings are hidden, and where to show them."""
    if classroom():
        st.caption(":material/school: Classroom mode: advanced settings are hidden and keep "
                   "their values. Turn it off in the sidebar to see them all.")
