"""Runs on a page: their status in words and icons, their names, the run picker, a score to rank
them by, and their artefacts read as tables."""

from __future__ import annotations

import math
import time
from typing import Iterable

import pandas as pd
import streamlit as st

from rnnlab import coach
from rnnlab import config as cfgmod
from rnnlab.store import RunRecord, RunStatus

from .identity import mine_first
from .process import _home, _store_at, store
from .text import md

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


def status_counts() -> dict[RunStatus, int]:
    """How many runs are in each status."""
    return store().count_by_status()


def best_run(scores: dict[str, float | None]) -> str | None:
    """The run with the lowest finite score (test RMSE or final validation loss)."""
    finite = {k: v for k, v in scores.items() if v is not None and math.isfinite(v)}
    return min(finite, key=finite.get) if finite else None


def run_score(run: RunRecord, epochs: list[dict]) -> tuple[float | None, str]:
    """A number to rank a run by, and what it is: test RMSE, else the last validation loss.

    Only runs that finished normally are ranked (a failed or diverged run has no score)."""
    if run.status != RunStatus.DONE:
        return None, ""
    rmse = run.result.test_rmse()
    if rmse is not None:
        return float(rmse), "test RMSE"
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


# -- reads shared by every session ------------------------------------------------------------
# A class watches the same runs: thirty pages refreshing the same run's curves would read and
# compute the same things thirty times. These reads are cached across sessions under the run's
# state. A finished run's state no longer changes: it is read once. A training run moves on
# several epochs a second, faster than any page refreshes, so its reads are shared for
# SHARE_SECONDS (LIVE_COACH_SECONDS for the coach, which looks at the whole run so far): a
# page shows what its own read would have shown at most that long ago.
SHARE_SECONDS = 2.0
LIVE_COACH_SECONDS = 10.0


def run_state(run: RunRecord, seconds: float = SHARE_SECONDS) -> tuple:
    """The cache key of a run's shared reads: its status and, while it trains, the current
    `seconds`-long slice of time; otherwise its epochs, last heartbeat and end."""
    if run.status == RunStatus.RUNNING:
        return run.status.value, int(time.time() // seconds)
    return run.status.value, run.epochs_done, run.heartbeat_at, run.finished_at


def diagnoses(run: RunRecord) -> list:
    """The coach's diagnoses of the run (`rnnlab.coach.diagnose_run`), shared across sessions."""
    return _diagnoses(_home(), run.id, run_state(run, LIVE_COACH_SECONDS))


def loss_curves(run: RunRecord, columns) -> dict[str, list]:
    """The run's per-epoch curves (`Store.curves`), shared across sessions."""
    return _curves(_home(), run.id, tuple(columns), run_state(run))


def step_norms(run: RunRecord) -> dict[int, list[float]]:
    """The run's per-step gradient norms (`Store.step_norms`), shared across sessions."""
    return _step_norms(_home(), run.id, run_state(run))


@st.cache_data(show_spinner=False, max_entries=256)
def _diagnoses(home: str, run_id: str, state: tuple) -> list:
    return coach.diagnose_run(_store_at(home), run_id)


@st.cache_data(show_spinner=False, max_entries=256)
def _curves(home: str, run_id: str, columns: tuple, state: tuple) -> dict[str, list]:
    return _store_at(home).curves(run_id, list(columns))


@st.cache_data(show_spinner=False, max_entries=128)
def _step_norms(home: str, run_id: str, state: tuple) -> dict[int, list[float]]:
    return _store_at(home).step_norms(run_id)
