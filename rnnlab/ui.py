"""Shared helpers for the dashboard pages: session state, sidebar, run pickers, formatting.

Pages stay thin: they read widgets (through the `*_ui()` helpers here and in the pages), build
a config, call the engine and draw figures. Nothing here imports TensorFlow: the training side
(model, train, gradients, worker) runs in worker processes.

Session state holds one source of truth for the user's choices: `st.session_state["run_config"]`,
a `RunConfig` dict. Widgets are seeded from it (so a page left and re-entered shows the same
choices) and write back into it.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import logging
import math
import os
import re
import time
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from rnnlab import config as cfgmod
from rnnlab import classroom as classmod
from rnnlab import figures, jobs, lessons, model_info, samples
from rnnlab.errors import ConfigError, RnnlabError
from rnnlab.evaluate import PREDICTORS, format_number
from rnnlab.store import RunRecord, RunStatus, Store, default_home, format_duration

CONFIG_KEY = "run_config"
ADVISED_KEY = "_advised_for"     # the data the current settings were advised for (or set by hand)
ADVICE_KEY = "_advice"           # {"settings": partial config, "reasons": {name: sentence}}
ADVISED_WIDGETS = ("data_transform", "data_season", "model_lookback", "model_linear_skip",
                   "train_epochs", "train_patience")
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)
FINISHED = (RunStatus.DONE, RunStatus.DIVERGED, RunStatus.FAILED, RunStatus.CANCELLED,
            RunStatus.INTERRUPTED)
STATUS_ICONS = {  # Material icons render the same in every browser (no emoji font needed)
    RunStatus.QUEUED: ":material/hourglass_top:", RunStatus.RUNNING: ":material/directions_run:",
    RunStatus.DONE: ":material/check_circle:", RunStatus.FAILED: ":material/error:",
    RunStatus.CANCELLED: ":material/stop_circle:", RunStatus.INTERRUPTED: ":material/warning:",
    RunStatus.DIVERGED: ":material/bolt:",
}
STATUS_WORDS = {
    RunStatus.QUEUED: "waiting for a free worker", RunStatus.RUNNING: "training",
    RunStatus.DONE: "finished", RunStatus.FAILED: "failed", RunStatus.CANCELLED: "cancelled",
    RunStatus.INTERRUPTED: "interrupted (its worker stopped)",
    RunStatus.DIVERGED: "stopped: the loss became NaN",
}
PAGES = {  # page name -> its file; one place so links and tests agree
    "data": "views/data.py", "model": "views/model.py", "train": "views/train.py",
    "results": "views/results.py", "gradients": "views/gradients.py",
    "compare": "views/compare.py", "learn": "views/learn.py", "bring": "views/bring.py",
    "board": "views/board.py",
}
CLASSROOM_KEY = "classroom"       # the sidebar toggle's key: kept in session state across pages
TRUE_WORDS = ("1", "true", "yes", "on")
# On a phone the Data page's facts stack one per line; a span of two dates is still too wide for
# a metric's large figure on one line, so there it may wrap instead of ending in "…".
NARROW_METRICS_CSS = ("<style>@media (max-width: 640px) {[data-testid='stMetricValue'] div, "
                      "[data-testid='stMetricValue'] p {white-space: normal !important; "
                      "overflow: visible !important; text-overflow: clip !important;}}</style>")
# Our own, static CSS (never user text): the lesson text container shown large for a projector.
CLASSROOM_CSS = """<style>
.st-key-learn_text p, .st-key-learn_text li { font-size: 1.5rem; line-height: 1.5; }
.st-key-learn_text h2 { font-size: 2.6rem; }
.st-key-learn_text h3 { font-size: 1.9rem; }
.st-key-learn_calc_text p { font-size: 1.4rem; line-height: 1.45; }
</style>"""
# every piece of HTML a page may send: static, never user text (tests/app/test_learn.py)
STATIC_CSS = (CLASSROOM_CSS, NARROW_METRICS_CSS)


# -- store and runner ---------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def _store_at(home: str) -> Store:
    return Store(home)


def store() -> Store:
    """The run store under RNNLAB_HOME (one per home, shared by every session)."""
    return _store_at(_home())


def _home() -> str:
    """RNNLAB_HOME (else ./.rnnlab) as an absolute, resolved path; resolved once per value
    (pages ask for the store many times per run, and resolving a path costs system calls)."""
    raw = os.environ.get("RNNLAB_HOME") or ""
    expanded = os.path.expanduser(raw)
    return _resolved_home(raw, "" if os.path.isabs(expanded) else os.getcwd())


@functools.lru_cache(maxsize=16)
def _resolved_home(raw: str, cwd: str) -> str:
    """The resolved home; the arguments are the cache key (the variable's value and, when it
    is relative or unset, the working folder it is relative to)."""
    return str(default_home().resolve())


@st.cache_resource(show_spinner=False)
def _runner_at(home: str) -> jobs.Runner:
    return jobs.get_runner(_store_at(home))


def runner() -> jobs.Runner:
    """The job runner that starts workers for queued runs (one per home, started once)."""
    return _runner_at(_home())


# Imported by some pages only on their first visit; imported up front so that they are part of
# the heap frozen below.
LATE_IMPORTS = ("rnnlab.codegen", "rnnlab.data", "rnnlab.evaluate", "pandas.io.formats.style",
                "pyarrow", "plotly.io")


def prepare_process() -> None:
    """Once per web process, on its first page: import what pages import late and build one
    figure of each kind (Plotly makes its validators on first use), then move everything alive
    (Streamlit, pandas, Plotly, the engine's modules) out of the garbage collector's sight.

    Streamlit runs a full collection after every script run (also every fragment refresh); with a
    few hundred thousand long-lived objects that took 60-150 ms of CPU per run, holding the GIL:
    more than most pages themselves. Objects created later are still collected as usual."""
    _prepared_process()


@st.cache_resource(show_spinner=False)
def _prepared_process() -> bool:
    import importlib

    for name in LATE_IMPORTS:
        try:
            importlib.import_module(name)
        except ImportError:  # optional: a page that needs it says so itself
            pass
    try:
        figures.warm_up()
    except Exception:  # only a head start: the pages build their figures anyway
        logging.getLogger(__name__).warning("Warming up the figures failed", exc_info=True)
    gc.collect()
    gc.freeze()
    return True


# -- the config in session state --------------------------------------------------------------
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
    _apply_classroom_param()
    _apply_identity_params()
    name = st.query_params.get("preset")
    if not name or st.session_state.get("_applied_preset") == name:
        return
    _use_preset(name, " from the link")


def _apply_classroom_param() -> None:
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


def _apply_identity_params() -> None:
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
        st.markdown(f"#### :material/badge: Type your name before you {doing}")
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
               where: Any = None) -> list[RunRecord]:
    """With a name: the session's own runs (newest first), and everyone else's after them when
    the "Everyone's runs" switch is on (a run in `keep`, e.g. one a link names, always stays).
    Without a name, or before the first run under it: every run, as stored."""
    name = owner()
    if not name:
        return runs
    mine = [r for r in runs if r.owner == name]
    if not mine:
        return runs
    others = [r for r in runs if r.owner != name]
    everyone = (where or st).toggle("Everyone's runs", key=key, help=EVERYONE_HELP)
    kept = set(keep)
    return mine + [r for r in others if everyone or r.id in kept]


def concurrency() -> int:
    """How many runs train at a time (the runner's limit)."""
    running = runner()
    value = getattr(running, "concurrency", None)
    if isinstance(value, int) and value >= 1:
        return value
    try:
        return jobs.default_concurrency()
    except RnnlabError:
        return 1


def classroom() -> bool:
    """True in classroom mode: advanced settings hidden, lesson text large."""
    return bool(st.session_state.get(CLASSROOM_KEY, False))


def classroom_css() -> None:
    """Make the lesson text large, in classroom mode only (static CSS, no user text)."""
    if classroom():
        st.markdown(CLASSROOM_CSS, unsafe_allow_html=True)


def classroom_note() -> None:
    """Say that some settings are hidden, and where to show them."""
    if classroom():
        st.caption(":material/school: Classroom mode: advanced settings are hidden and keep "
                   "their values. Turn it off in the sidebar to see them all.")


def load_preset(name: str | None) -> None:
    """Button callback: replace every setting with a preset's and put it in the link."""
    if name and _use_preset(name, ""):
        st.query_params["preset"] = name


def _use_preset(name: str, where: str) -> bool:
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


def preset_names() -> dict[str, str]:
    """Preset name -> title: the config presets, then one per run of each lesson."""
    names = {name: factory().name or name for name, factory in cfgmod.PRESETS.items()}
    for name, (title, _) in _lesson_presets().items():
        names.setdefault(name, title)
    return names


def _lesson_presets() -> dict[str, tuple[str, cfgmod.RunConfig]]:
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
    lesson = _lesson_presets().get(name)
    if lesson is not None:
        return lesson[1]
    return cfgmod.preset(name)  # raises ConfigError naming the known presets


# -- data -------------------------------------------------------------------------------------
def uploads_dir() -> Path:
    """Where uploaded files are kept, so worker processes can read them."""
    path = store().home / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


UPLOAD_DISK_FULL = ("The server's disk is full: the file could not be saved. Free some space "
                    "or ask whoever runs the server.")


def save_upload(raw: bytes, filename: str) -> Path:
    """Keep an uploaded file under the store: a folder named by the content's hash, holding the
    file under a safe version of its own name (so reports and exports speak of the user's name,
    and never of a path the user chose).

    Written atomically (a temporary file in the same folder, flushed to disk, then renamed), so
    a full disk or a crash never leaves a short file under the final name; a file already there
    counts only when it has the same size and content (a damaged one is written again). A full
    disk raises StoreFull with UPLOAD_DISK_FULL, another failure to write a StoreError; neither
    leaves a file behind. A file over the size limit is a DataError.
    """
    import errno
    import tempfile

    from rnnlab.store import StoreError, StoreFull

    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(filename).name).strip("._") or "data.csv"
    from rnnlab.data import check_size

    check_size(len(raw), safe)
    digest = hashlib.sha256(raw).hexdigest()
    tmp = None
    try:
        folder = uploads_dir() / digest[:16]
        path = folder / safe
        if _same_content(path, len(raw), digest):
            return path
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{safe}.", suffix=".part")
        try:
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        tmp = None
        _fsync_folder(folder)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)):
            raise StoreFull(UPLOAD_DISK_FULL) from None
        raise StoreError(f"The file could not be saved on the server ({exc.strerror or exc}). "
                         f"Ask whoever runs the server to check that {store().home / 'uploads'} "
                         "is writable.") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return path


def _same_content(path: Path, size: int, digest: str) -> bool:
    """True when `path` is a file of this size whose SHA-256 is `digest`."""
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size != size:
            return False
        hasher = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(block)
    except OSError:
        return False
    return hasher.hexdigest() == digest


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (best effort: not every system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def script_data_hint(source: str) -> str | None:
    """The data path an exported script should read: None for samples (the export knows them),
    the file's own name for an upload (not the server's storage path)."""
    if source in samples.SAMPLES or samples.sample_for(source) is not None:
        return None
    return source_label(source)


PASSWORD_ENV = "RNNLAB_PASSWORD"


def password_gate() -> None:
    """With RNNLAB_PASSWORD set, the whole server must run behind rnnlab.gate (`make run`, i.e.
    `streamlit run serve.py`), which asks for the password before any page, websocket, upload or
    media request. Here a second lock: the session's cookie must carry the gate's signature. A
    server started without the gate (`streamlit run app.py`) stays closed and says how to start
    it, since a gate inside the script alone would leave uploads and media open."""
    if not os.environ.get(PASSWORD_ENV, ""):
        return
    from rnnlab import gate

    if gate.active() and gate.verify(st.context.cookies.get(gate.COOKIE)):
        return
    st.title("RNN Lab")
    if gate.active():
        st.error("Your sign-in has expired: reload the page to enter the password again.",
                 icon=":material/lock:")
    else:
        st.error(f"This server has a password set ({PASSWORD_ENV}) but was started without its "
                 "password gate, so it stays closed. Start it with `make run` or "
                 "`streamlit run serve.py` (same options as `streamlit run app.py`).",
                 icon=":material/lock:")
    st.stop()


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#+\-!|~$:&])")


def md(text: object) -> str:
    """User text (file, column and run names, messages quoting them) made inert for Markdown:
    every character Markdown, HTML or Streamlit's :directives: would act on is escaped, so a
    column named `**x**` or `<img onerror=...>` is shown exactly as written."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def source_label(source: str | None) -> str:
    """A short name for a data source: the sample's title or the uploaded file's name."""
    if not source:
        return "none"
    sample = samples.SAMPLES.get(source)
    if sample is not None:
        return sample.title
    return Path(source).name


# -- runs -------------------------------------------------------------------------------------
def run_label(run: RunRecord, *, icon: bool = False) -> str:
    """How a run is named: name, network, status, id (icon=True for markdown, not for pickers)."""
    model = run.config.get("model", {})
    cell = cfgmod.CELL_LABELS.get(model.get("cell"), model.get("cell", "?"))
    shape = f"{model.get('n_layers', '?')}×{cell}({_units(model)})"
    name = f"{run.name} · " if run.name else ""
    who = f" · by {run.owner}" if run.owner else ""
    if icon:  # markdown: the user's run name is made inert
        return f"{STATUS_ICONS.get(run.status, '')} {md(name)}{shape} · {run.id}{md(who)}"
    return f"{name}{shape} · {run.status.value} · {run.id}{who}"


def _units(model: dict) -> str:
    units = model.get("units", "?")
    if isinstance(units, (list, tuple)):
        return ",".join(str(u) for u in units)
    return str(units)


def run_picker_ui(label: str, key: str, *, help: str, use_query: bool = True,
                  exclude: str | None = None,
                  prefer: Iterable[RunStatus] = (RunStatus.DONE,)) -> str | None:
    """Pick one run; a link's ?run=ID preselects it, and the choice is written back to the URL.

    Without a link or an earlier choice, the newest run whose status is in `prefer` is picked.
    """
    runs = [r for r in store().list_runs() if r.id != exclude]
    if not runs:
        return None
    wanted = st.query_params.get("run") if use_query else None
    if use_query:   # a class: the session's own runs first (a linked run always stays)
        runs = mine_first(runs, f"{key}_everyone", keep=(wanted, st.session_state.get(key)))
    ids = [r.id for r in runs]
    labels = {r.id: run_label(r) for r in runs}
    if wanted in ids and st.session_state.get(f"_{key}_from_url") != wanted:
        st.session_state[key] = wanted  # a shared link wins once
        st.session_state[f"_{key}_from_url"] = wanted
        st.session_state[PICKED_AT_KEY] = time.time()
    elif st.session_state.get(key) not in ids:
        remembered = st.session_state.get("selected_run") if use_query else None
        latest = _latest_event(runs)  # started or finished since the user's last pick: it wins
        if use_query and latest[1] > st.session_state.get(PICKED_AT_KEY, 0.0):
            remembered = latest[0]
        st.session_state[key] = remembered if remembered in ids else _preferred(runs, prefer)
    run_id = st.selectbox(label, ids, format_func=labels.get, key=key, help=help,
                          on_change=_picked if use_query else None)
    if use_query:
        st.session_state["selected_run"] = run_id
        if st.query_params.get("run") != run_id:
            st.query_params["run"] = run_id
        # the ?run= written here is not a link to follow: without this, the next rerun took it
        # for one and undid a pick made right after the page opened
        st.session_state[f"_{key}_from_url"] = run_id
    return run_id


PICKED_AT_KEY = "_run_picked_at"  # when the user last picked a run (a picker or a shared link)


def _picked() -> None:
    """Picker callback: the user chose a run; runs started or finished later still win."""
    st.session_state[PICKED_AT_KEY] = time.time()


def _latest_event(runs: list[RunRecord]) -> tuple[str, float]:
    """The run started (created) or finished most recently, and when."""
    return max(((r.id, max(r.created_at or 0.0, r.finished_at or 0.0)) for r in runs),
               key=lambda pair: pair[1])


def _preferred(runs: list[RunRecord], prefer: Iterable[RunStatus]) -> str:
    """The newest run in one of the preferred statuses, else the newest run."""
    prefer = tuple(prefer)
    return next((r.id for r in runs if r.status in prefer), runs[0].id)


def share_caption(**query: str) -> None:
    """A link to this page with the given query (e.g. run=ID), for a teacher to hand out."""
    url = getattr(st.context, "url", None)
    if not url:
        return
    st.caption(f":material/link: Link to share: {url.split('?')[0]}?{urlencode(query)}")


def status_counts() -> dict[RunStatus, int]:
    """How many runs are in each status."""
    return store().count_by_status()


def sidebar() -> Any:
    """The status line: how many runs are training or waiting, and a slot for the dataset
    (filled by `sidebar_dataset` before the page runs, and again after it, since the page may
    change it: a page that stops early, e.g. on a refused upload, keeps the first filling)."""
    with st.sidebar:
        slot = st.empty()
        _run_status_fragment()
        name_ui()
        st.toggle("Classroom mode", key=CLASSROOM_KEY,
                  help="For a class on a projector: lesson text in large print, and the "
                       "advanced settings hidden (initialisers, penalties, echo state network "
                       "details, clipping by value, seeds, gap filling, scaling, season). "
                       "A link with ?classroom=1 opens the app in this mode.")
    return slot


def sidebar_dataset(slot: Any) -> None:
    """The active dataset and its target, in the sidebar slot (replacing what it showed)."""
    data = config_dict().get("data", {})
    with slot.container():
        st.caption("Active dataset")
        target = f"  \nforecasting {md(data['target'])}" if data.get("target") else ""
        st.markdown(f":material/dataset: **{md(source_label(data.get('source')))}**{target}")


@st.fragment(run_every=3)
def _run_status_fragment() -> None:
    counts = status_counts()
    running, queued = counts.get(RunStatus.RUNNING, 0), counts.get(RunStatus.QUEUED, 0)
    done = sum(counts.get(s, 0) for s in FINISHED)
    st.caption("Runs")
    st.markdown(f":material/directions_run: **{running}** training · "
                f":material/hourglass_top: **{queued}** queued · {done} finished")


# -- formatting -------------------------------------------------------------------------------
def fmt_seconds(seconds: float | None) -> str:
    """Seconds as '42 s', '3 min 05 s', '1 h 02 min'; '—' when unknown."""
    return format_duration(seconds)


_DAYS = {"MON": "Mondays", "TUE": "Tuesdays", "WED": "Wednesdays", "THU": "Thursdays",
         "FRI": "Fridays", "SAT": "Saturdays", "SUN": "Sundays"}
_MONTHS = {"JAN": "January", "FEB": "February", "MAR": "March", "APR": "April", "MAY": "May",
           "JUN": "June", "JUL": "July", "AUG": "August", "SEP": "September", "OCT": "October",
           "NOV": "November", "DEC": "December"}
# pandas offset alias -> (one step, n steps, what an -END suffix means)
_FREQ_UNITS = {
    "D": ("daily", "every {n} days"), "B": ("weekdays (business days)", "every {n} weekdays"),
    "W": ("weekly", "every {n} weeks"), "MS": ("monthly", "every {n} months"),
    "ME": ("monthly (month ends)", "every {n} months (month ends)"),
    "M": ("monthly (month ends)", "every {n} months (month ends)"),
    "QS": ("quarterly", "every {n} quarters"), "QE": ("quarterly (quarter ends)",
                                                     "every {n} quarters (quarter ends)"),
    "Q": ("quarterly (quarter ends)", "every {n} quarters (quarter ends)"),
    "YS": ("yearly", "every {n} years"), "AS": ("yearly", "every {n} years"),
    "YE": ("yearly (year ends)", "every {n} years (year ends)"),
    "Y": ("yearly (year ends)", "every {n} years (year ends)"),
    "A": ("yearly (year ends)", "every {n} years (year ends)"),
    "h": ("hourly", "every {n} hours"), "H": ("hourly", "every {n} hours"),
    "min": ("every minute", "every {n} minutes"), "T": ("every minute", "every {n} minutes"),
    "s": ("every second", "every {n} seconds"), "S": ("every second", "every {n} seconds"),
    "ms": ("every millisecond", "every {n} milliseconds"),
}


def frequency_words(alias: str | None) -> str:
    """A pandas frequency in words: 'W-SAT' -> 'weekly (Saturdays)', 'QS' -> 'quarterly',
    'h' -> 'hourly', '15min' -> 'every 15 minutes', 'QS-OCT' -> 'quarterly (from October)';
    None -> 'irregular / none'; an alias it does not know is returned as it is."""
    if not alias:
        return "irregular / none"
    found = re.fullmatch(r"(\d*)([A-Za-z]+)(?:-([A-Z]{3}))?", str(alias))
    if not found or found.group(2) not in _FREQ_UNITS:
        return str(alias)
    count, unit, anchor = found.groups()
    one, many = _FREQ_UNITS[unit]
    n = int(count) if count else 1
    words = one if n == 1 else many.format(n=n)
    if anchor in _DAYS:
        words += f" ({_DAYS[anchor]})"
    elif anchor in _MONTHS and anchor not in ("JAN", "DEC"):
        words += f" (from {_MONTHS[anchor]})"
    return words


fmt_number = format_number   # a metric for a table: significant digits, '—' when missing


def skill_sentence(summary: dict) -> str | None:
    """The model's error compared with the naive forecast, in words."""
    if summary.get("sentence"):
        return summary["sentence"]
    test = summary.get("metrics", {}).get("test", {})
    model, naive = test.get("model", {}).get("rmse"), test.get("naive", {}).get("rmse")
    if model is None or not naive:
        return None
    ratio = model / naive
    verdict = "worse than" if ratio > 1 else "better than"
    return (f"The model's error is {ratio:.2g}× the naive forecast's: "
            f"it does {verdict} repeating the last value.")


METRIC_COLUMNS = {"rmse": "RMSE", "mae": "MAE", "mape": "MAPE %", "r2": "R²"}


def metrics_table(split_metrics: dict) -> pd.DataFrame:
    """Model vs baselines: one row per predictor, RMSE/MAE/MAPE/R² and skill vs naive."""
    naive = (split_metrics.get("naive") or {}).get("rmse")
    order = [n for n in PREDICTORS if n in split_metrics]
    order += [n for n in split_metrics if n not in order]
    rows = []
    for name in order:
        scores = split_metrics[name]
        if not isinstance(scores, dict):
            continue
        row = {"predictor": PREDICTORS.get(name, name)}
        row.update({label: scores.get(k) for k, label in METRIC_COLUMNS.items()})
        rmse = scores.get("rmse")
        row["skill vs naive"] = (1 - rmse / naive) if (naive and rmse is not None) else None
        rows.append(row)
    return pd.DataFrame(rows)


def flatten(raw: dict, prefix: str = "") -> dict[str, Any]:
    """{'model': {'units': 8}} -> {'model.units': 8}."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = tuple(value) if isinstance(value, list) else value
    return out


def differing_settings(configs: dict[str, dict]) -> pd.DataFrame:
    """Rows = runs, columns = only the settings that are not the same in every run (the run's
    name is not a setting)."""
    flat = {run_id: {k: v for k, v in flatten(c).items() if k != "name"}
            for run_id, c in configs.items()}
    keys = sorted({k for f in flat.values() for k in f})
    differ = [k for k in keys if len({repr(f.get(k)) for f in flat.values()}) > 1]
    frame = pd.DataFrame({k: [_cell(flat[r].get(k)) for r in flat] for k in differ},
                         index=list(flat))
    frame.index.name = "run"
    return frame


def _cell(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) or "—"
    return "—" if value is None else str(value)


def best_run(scores: dict[str, float | None]) -> str | None:
    """The run with the lowest finite score (test RMSE or final validation loss)."""
    finite = {k: v for k, v in scores.items() if v is not None and math.isfinite(v)}
    return min(finite, key=finite.get) if finite else None


def run_score(run: RunRecord, epochs: list[dict]) -> tuple[float | None, str]:
    """A number to rank a run by, and what it is: test RMSE, else the last validation loss.

    Only runs that finished normally are ranked (a failed or diverged run has no score)."""
    if run.status != RunStatus.DONE:
        return None, ""
    test = run.summary.get("metrics", {}).get("test", {}).get("model", {})
    if test.get("rmse") is not None:
        return float(test["rmse"]), "test RMSE"
    losses = [e.get("val_loss") for e in epochs if e.get("val_loss") is not None]
    if losses:
        return float(losses[-1]), "last validation loss"
    return None, ""


def read_csv_artefact(run_id: str, name: str) -> pd.DataFrame | None:
    """A CSV artefact of a run as a frame, or None if the run has not written it."""
    path = store().artefact(run_id, name)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    return _read_csv(str(path), mtime)


@st.cache_data(show_spinner=False, max_entries=64)
def _read_csv(path: str, mtime: float) -> pd.DataFrame:
    return pd.read_csv(path)


def read_bytes(run_id: str, name: str) -> bytes | None:
    """An artefact's bytes, or None if missing."""
    path = store().artefact(run_id, name)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def artefact_reader(run_id: str, name: str) -> Callable[[], bytes] | None:
    """For a download button: a function that reads the artefact when the button is clicked
    (its bytes are not read, hashed and kept in memory on every run of the page), or None if
    the run has not written it."""
    path = store().artefact(run_id, name)
    if not path.is_file():
        return None
    return lambda: path.read_bytes() if path.is_file() else b""


def page_link(name: str, label: str, icon: str | None = None, **query: str) -> None:
    """A link to another page of the app, carrying query parameters (e.g. run=ID)."""
    st.page_link(PAGES[name], label=label, icon=icon, query_params=query or None)


# The chart's tool bar (zoom, download, ...) shows only while the pointer is on the chart, so it
# never covers the title, not on a narrow screen either.
# Only the tools these charts need (no box or lasso selection): a short bar, over less of the
# chart on a phone.
CHART_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": "hover",
                "modeBarButtonsToRemove": ["select2d", "lasso2d", "zoomIn2d", "zoomOut2d",
                                           "autoScale2d"]}


def chart(fig, key: str) -> None:
    """A Plotly figure at full width. Its colours mean the same everywhere (figures.COLORS); its
    background, text and grid follow the app's theme, light or dark (the browser's choice).
    Screen readers get its title as a description, and a switch under it shows the numbers it
    draws as a table (built only when asked for)."""
    st.plotly_chart(fig, key=key, width="stretch", theme="streamlit", config=CHART_CONFIG,
                    alt=figures.describe(fig) or None)
    if not any(t.type in figures.TRACE_TYPES for t in fig.data):
        return                                   # a drawing (the unrolled network): no numbers
    if st.toggle("Show as table", key=f"{key}_table",
                 help="The numbers drawn in the chart above, as a table you can sort, search "
                      "and download."):
        table = figures.figure_table(fig)
        if table is not None:
            st.dataframe(table, key=f"{key}_table_view", hide_index=True)


# The gradient-through-time heatmap's two scales: one for every epoch (sizes), or each epoch
# against its own gradient 1 step back (how far back the gradient reaches, epoch by epoch).
TIME_SCALES = {"shared": "shared across epochs",
               "relative": "each epoch relative to 1 step back"}
TIME_SCALE_HELP = ("Shared: one colour scale for every epoch, so the gradient's size shows, "
                   "but a late epoch can be lost in a range of many powers of ten. Relative: "
                   "each epoch divided by its own gradient 1 step back, so 1× (white) is as "
                   "strong as the most recent step, red is stronger, blue weaker: how far back "
                   "the gradient reaches shows in every epoch.")


def time_scale_ui(key: str, where: Any = None) -> bool:
    """The scale switch of a gradient-through-time heatmap; True for the relative view."""
    choice = (where or st).radio("Scale", list(TIME_SCALES), key=key, horizontal=True,
                                 format_func=TIME_SCALES.get, help=TIME_SCALE_HELP)
    return choice == "relative"


MAX_COLOUR_TICKS = 7


def share_colour_scale(figs: list) -> None:
    """Give the log-colour heatmaps of figures shown side by side one colour range (in log10
    units, as the figures draw them), so equal colours mean equal values in every figure."""
    traces = [t for fig in figs for t in fig.data
              if t.type == "heatmap" and t.zmin is not None and t.zmax is not None]
    if len(traces) < 2:
        return
    lo, hi = min(t.zmin for t in traces), max(t.zmax for t in traces)
    ticks = [k for k in range(math.floor(lo), math.ceil(hi) + 1) if lo <= k <= hi] or [lo, hi]
    step = -(-len(ticks) // MAX_COLOUR_TICKS)             # at most that many, in narrow columns
    labels_end = ""
    if all(t.zmid == 0 for t in traces):   # ratios to 1 step back: 1× in the middle, kept
        ticks = [k for k in ticks if k % step == 0]
        labels_end = "×"
    else:
        ticks = ticks[::step]
    # 1e+08 -> 1e8, 1e-05 -> 1e-5, as the figures write them
    labels = [re.sub(r"e\+?(-?)0*(?=\d)", r"e\1", f"{10.0 ** k:.3g}") + labels_end
              for k in ticks]
    for trace in traces:
        trace.update(zmin=lo, zmax=hi, colorbar=dict(tickvals=ticks, ticktext=labels))


def guarded(fn: Callable[[], Any], what: str) -> Any:
    """Call fn; a user mistake (RnnlabError) becomes st.error with its advice; the page stops."""
    try:
        return fn()
    except RnnlabError as exc:
        st.error(f"{what}: {md(exc)}", icon=":material/block:")
        st.stop()


# -- lessons ------------------------------------------------------------------------------------
LESSON_EPOCHS_ENV = "RNNLAB_LESSON_EPOCHS"
ACTIVATION_WORDS = {"tanh": "the slope of tanh is at most 1",
                    "sigmoid": "the slope of the sigmoid is at most 0.25",
                    "relu": "the slope of ReLU is 1 where it is active, 0 elsewhere",
                    "linear": "a linear unit's slope is always 1"}
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def lesson_epochs() -> int | None:
    """RNNLAB_LESSON_EPOCHS: the most epochs a lesson's run trains (rehearsals, tests); None when
    unset, so lessons train as written."""
    raw = os.environ.get(LESSON_EPOCHS_ENV, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{LESSON_EPOCHS_ENV} must be a whole number >= 1. Received: {raw!r}. "
                          "Unset it to train lessons with their full epochs.")
    return int(raw)


def lesson_plan(lesson: lessons.Lesson, quick_epochs: int | None) -> str:
    """What pressing Run queues, in words: '3 runs of 12 epochs each on Long-memory series'."""
    configs = lesson.configs(quick_epochs)
    epochs = sorted({cfg.train.epochs for _, cfg in configs if cfg.model.cell != "esn"})
    count = f"{len(configs)} run{'s' * (len(configs) != 1)}"
    each = f" of {epochs[0]} epoch{'s' * (epochs[0] != 1)}" if len(epochs) == 1 else ""
    sources = {source_label(cfg.data.source) for _, cfg in configs}
    data = f" on {sources.pop()}" if len(sources) == 1 else ""
    cut = f" (cut by {LESSON_EPOCHS_ENV}={quick_epochs})" if quick_epochs else ""
    return f"{count}{each}{data}{cut}"


def rnn_type(run_cfg: cfgmod.RunConfig) -> str:
    """many-to-one (one value per window) or many-to-many (H values per window)."""
    return "many-to-one" if run_cfg.model.horizon == 1 else "many-to-many"


def shape_text(shape: Iterable) -> str:
    """(None, 50, 1) -> '(batch, 50, 1)'."""
    return "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ")"


def tensor_shapes(runs: Iterable[tuple[str, cfgmod.RunConfig]]) -> pd.DataFrame:
    """The tensors that go in and come out of each run's model, without TensorFlow; a
    many-to-one model also gets a row for its free-running (one-to-many) use."""
    rows = []
    for label, cfg in runs:
        m, n_features = cfg.model, 1 + len(cfg.data.features)
        table = model_info.layer_table(m, n_features)
        layers = " → ".join(f"{r['layer']} {shape_text(r['output_shape'])}" for r in table)
        out = shape_text(table[-1]["output_shape"])
        rows.append({"run": label, "type": rnn_type(cfg),
                     "input": shape_text((None, m.lookback, n_features)), "layers": layers,
                     "output": out, "parameters": sum(r["params"] for r in table)})
        if m.horizon == 1:
            rows.append({"run": label, "type": "one-to-many (free-running)",
                         "input": f"one seed window {shape_text((1, m.lookback, n_features))}",
                         "layers": "the same model, step after step",
                         "output": "(1, 1) per step, fed back",
                         "parameters": rows[-1]["parameters"]})
    return pd.DataFrame(rows)


def power_words(factor: float, steps: int) -> str:
    """factor**steps for people: '0.0052', '640', '6.4 × 10⁸' (also beyond the float range)."""
    if factor == 0:
        return "0"
    exponent = steps * math.log10(factor)
    if -3 <= exponent < 4:
        return f"{10 ** exponent:.2g}"
    whole = math.floor(exponent)
    mantissa = 10 ** (exponent - whole)
    if round(mantissa, 1) >= 10:
        mantissa, whole = 1.0, whole + 1
    return f"{mantissa:.2g} × 10{str(whole).translate(SUPERSCRIPT)}"


def bptt_sentence(w: float, activation: str, steps: int) -> str:
    """The calculator's verdict in one plain sentence: vanishing (|w|·f′ < 1), exploding (> 1)
    or steady (= 1)."""
    slope = figures.ACTIVATION_SLOPE[activation]
    factor = abs(w) * slope
    step = (f"Each step back multiplies the gradient by at most |w|·f′ = {abs(w):.3g} × {slope:g} "
            f"= {factor:.3g} ({ACTIVATION_WORDS[activation]})")
    if factor == 0:
        return f"{step}, so nothing flows back, not even one step."
    total = power_words(factor, steps)
    if factor < 1:
        return (f"{step}, less than 1, so after {steps} steps only {total} of it is left: the "
                "gradient **vanishes** and the far past stops teaching the network.")
    if factor > 1:
        return (f"{step}, more than 1, so after {steps} steps it is {total} times larger: the "
                "gradient **explodes**, and without clipping the loss can become NaN.")
    return (f"{step}, exactly 1, so the gradient keeps its size however far back it travels "
            "(the idea behind the LSTM's cell state).")


def seconds_per_epoch(run: RunRecord, epochs: list[dict]) -> float | None:
    """The run's mean seconds per epoch: from its summary once finished, else from its epochs."""
    if run.summary.get("seconds_per_epoch") is not None:
        return float(run.summary["seconds_per_epoch"])
    seconds = [e["seconds"] for e in epochs if e.get("seconds") is not None]
    return sum(seconds) / len(seconds) if seconds else None


def lesson_table(runs: dict[str, RunRecord], epochs: dict[str, list[dict]]) -> pd.DataFrame:
    """One row per lesson run: status, epochs, seconds per epoch, test RMSE and skill vs naive."""
    rows = []
    for label, run in runs.items():
        test = run.summary.get("metrics", {}).get("test", {}).get("model", {})
        rows.append({"run": label, "status": STATUS_WORDS.get(run.status, run.status.value),
                     "epochs": f"{run.epochs_done}/{run.epochs_total}",
                     "seconds per epoch": seconds_per_epoch(run, epochs.get(run.id, [])),
                     "test RMSE": test.get("rmse"),
                     "skill vs naive": run.summary.get("skill_vs_naive")})
    table = pd.DataFrame(rows, columns=["run", "status", "epochs", "seconds per epoch",
                                        "test RMSE", "skill vs naive"])
    for col in ("seconds per epoch", "test RMSE", "skill vs naive"):
        table[col] = pd.to_numeric(table[col], errors="coerce")  # None -> NaN, shown empty
    return table


def prediction_rows(pred: pd.DataFrame, kind: str = "one-step-ahead",
                    split: str = "test") -> pd.DataFrame:
    """One trajectory of predictions.csv: the first step of each teacher-forced window, or the
    free-running run (its steps renumbered 1 so the figures draw it as one line)."""
    rows = pred[(pred["kind"] == kind) & (pred["split"] == split)]
    if kind == "free-running":
        return rows.assign(step=1)
    return rows[rows["step"].astype(int) == 1]
