"""The dashboard's pages in one table: app.py builds its navigation from it, links between pages
name a page by it, and the tests read it.

The table's order is the pages' order within their section of the navigation; its first page is
the one the app opens at "/" (through app.py's hidden start page, which forwards to it).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import streamlit as st

from .identity import teacher_view

ALWAYS, TEACHER = "always", "teacher"     # visibility rules


@dataclass(frozen=True)
class Page:
    """One page: `name` is how links name it, `file` its script (relative to app.py)."""
    name: str
    file: str
    title: str
    icon: str
    url_path: str
    section: str
    # ALWAYS: in the navigation. TEACHER: in the navigation in classroom mode or with
    # ?room=CODE&teacher=1; otherwise hidden, still reachable by its address.
    visibility: str = ALWAYS

    def visible(self) -> bool:
        """True when the navigation lists the page in this session."""
        return self.visibility == ALWAYS or (self.visibility == TEACHER and teacher_view())


SECTIONS = ("Learn", "Build", "Inspect")     # the navigation's sections, in order
PAGE_TABLE = (
    Page("data", "views/data.py", "1 · Data", ":material/table_chart:", "data", "Build"),
    Page("model", "views/model.py", "2 · Model", ":material/account_tree:", "model", "Build"),
    Page("train", "views/train.py", "3 · Train", ":material/play_circle:", "train", "Build"),
    Page("results", "views/results.py", "4 · Results", ":material/query_stats:", "results",
         "Inspect"),
    Page("gradients", "views/gradients.py", "5 · Gradients", ":material/gradient:",
         "gradients", "Inspect"),
    Page("compare", "views/compare.py", "6 · Compare", ":material/compare_arrows:", "compare",
         "Inspect"),
    Page("learn", "views/learn.py", "Learn", ":material/school:", "learn", "Learn"),
    Page("bring", "views/bring.py", "Bring a model", ":material/upload_file:", "bring",
         "Build"),
    # the teacher's board
    Page("board", "views/board.py", "Class board", ":material/groups:", "board", "Learn",
         visibility=TEACHER),
)
PAGES = {page.name: page.file for page in PAGE_TABLE}   # page name -> its file


def page_link(name: str, label: str, icon: str | None = None, **query: str) -> None:
    """A link to another page of the app, carrying query parameters (e.g. run=ID)."""
    st.page_link(PAGES[name], label=label, icon=icon, query_params=query or None)


def share_caption(**query: str) -> None:
    """A link to this page with the given query (e.g. run=ID), for a teacher to hand out."""
    url = getattr(st.context, "url", None)
    if not url:
        return
    # plain text, not a caption: a link in a caption is drawn too faint to read (axe: contrast
    # 2.75:1 against the 4.5:1 text needs)
    st.markdown(f":material/link: Link to share: {url.split('?')[0]}?{urlencode(query)}")
