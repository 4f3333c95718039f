"""The page table (rnnlab.ui.pages) names every page file and only files that exist; pages are
importable modules that draw nothing on import."""

from __future__ import annotations

import os
import subprocess
import sys

from apphelpers import PAGES, ROOT
from rnnlab import ui


def test_every_view_is_in_the_page_table_and_every_row_has_its_file():
    on_disk = {f"views/{p.name}" for p in (ROOT / "views").glob("*.py") if p.name != "__init__.py"}
    in_table = {page.file for page in ui.PAGE_TABLE}
    assert on_disk - in_table == set(), "a page file the table does not name"
    assert in_table - on_disk == set(), "a row of the table without its file"


def test_the_page_table_is_consistent():
    names = [page.name for page in ui.PAGE_TABLE]
    assert len(set(names)) == len(names)
    assert len({page.url_path for page in ui.PAGE_TABLE}) == len(names)
    assert len({page.title for page in ui.PAGE_TABLE}) == len(names)
    assert all(page.section in ui.SECTIONS for page in ui.PAGE_TABLE)
    assert all(page.visibility in ("always", "teacher") for page in ui.PAGE_TABLE)
    assert ui.PAGES == {page.name: page.file for page in ui.PAGE_TABLE}
    assert PAGES[0] == ui.PAGE_TABLE[0].file            # the page the app opens first
    assert set(PAGES) <= {page.file for page in ui.PAGE_TABLE}


def test_importing_the_pages_draws_nothing():
    modules = sorted(f"views.{p.stem}" for p in (ROOT / "views").glob("*.py")
                     if p.name != "__init__.py")
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n"
            "    module = importlib.import_module(name)\n"
            "    assert callable(module.main), name\n"
            "print('IMPORTED')\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "IMPORTED"
    # a Streamlit call outside `streamlit run` warns that the app must be run with it
    assert "ScriptRunContext" not in proc.stderr and "streamlit run" not in proc.stderr, \
        proc.stderr[-3000:]


def test_every_lesson_view_a_lesson_may_name_has_a_renderer_on_the_learn_page():
    """The lesson files' `view` names (checked by rnnlab.lessons) and the Learn page's renderers
    are the same set, and every built-in lesson names one of them."""
    from rnnlab import lessons
    from views import learn

    assert set(lessons.VIEWS) == set(learn.VIEWS)
    assert all(callable(render) for render in learn.VIEWS.values())
    found = lessons.load_lessons()
    assert len(found) >= 9
    assert {lesson.view for lesson in found.values()} <= set(learn.VIEWS)
