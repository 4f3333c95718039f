"""Once per web process: the run store, the job runner, the warm-up and the password gate.

Nothing here imports TensorFlow: the training side (model, train, gradients, worker) runs in
worker processes that the runner starts.
"""

from __future__ import annotations

import functools
import gc
import logging
import os

import streamlit as st

from rnnlab import figures, jobs
from rnnlab.errors import RnnlabError
from rnnlab.store import Store, default_home

PASSWORD_ENV = "RNNLAB_PASSWORD"


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


def concurrency() -> int:
    """How many runs train at a time (the runner's limit)."""
    from rnnlab import ui   # through the package, where tests put a stand-in runner

    running = ui.runner()
    value = getattr(running, "concurrency", None)
    if isinstance(value, int) and value >= 1:
        return value
    try:
        return jobs.default_concurrency()
    except RnnlabError:
        return 1


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


SESSIONS_AT_BASE = 5   # up to this many open pages, live views refresh at their own pace


def open_sessions() -> int:
    """Browser tabs connected to this server now (1 outside a running server)."""
    try:
        from streamlit.runtime import Runtime

        if Runtime.exists():
            return max(1, int(Runtime.instance()._session_mgr.num_active_sessions()))
    except Exception:      # a Streamlit without this count: behave as for one tab
        pass
    return 1


def poll_every(base: float) -> float:
    """Seconds between refreshes of a live view: `base` while a few pages are open, slower in
    proportion beyond SESSIONS_AT_BASE (30 open pages: 6 times), so that a class's refreshes
    cost the one web process what five people's do and the training runs keep their pace
    (bench/load.py)."""
    return base * max(1.0, open_sessions() / SESSIONS_AT_BASE)
