"""The sidebar: runs training and queued, the active dataset, the name box, classroom mode."""

from __future__ import annotations

from typing import Any

import streamlit as st

from rnnlab.store import RunStatus

from .identity import CLASSROOM_KEY, name_ui
from .process import poll_every
from .runs import FINISHED, status_counts
from .session import config_dict
from .text import md, source_label

STATUS_POLL = 3.0   # seconds between refreshes of the runs count, with a few pages open


def sidebar() -> Any:
    """The status line: how many runs are training or waiting, and a slot for the dataset
    (filled by `sidebar_dataset` before the page runs, and again after it, since the page may
    change it: a page that stops early, e.g. on a refused upload, keeps the first filling)."""
    with st.sidebar:
        slot = st.empty()
        # a fragment's pace is fixed when it is defined: defined on each page run, it follows
        # how many pages are open now (`poll_every`)
        st.fragment(run_every=poll_every(STATUS_POLL))(_run_status)()
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


def _run_status() -> None:
    counts = status_counts()
    running, queued = counts.get(RunStatus.RUNNING, 0), counts.get(RunStatus.QUEUED, 0)
    done = sum(counts.get(s, 0) for s in FINISHED)
    st.caption("Runs")
    st.markdown(f":material/directions_run: **{running}** training · "
                f":material/hourglass_top: **{queued}** queued · {done} finished")
