"""A class on one server in a real browser: the teacher's board of a room with three named
students, its place in the navigation, and a student's link that keeps their name on reload."""

from __future__ import annotations

import re

import pytest

from test_dashboard import key, screenshot, wait_settled

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

NAV = "[data-testid=stSidebarNav] a"


@pytest.fixture(scope="module")
def room(server):
    """Ada (two runs), Bo and Cy in room bio-2b; Dee in another room."""
    from classfake import add_student_run
    from rnnlab.store import Store

    store = Store(server.home)
    return {"ada": add_student_run(store, "Ada", "bio-2b", 0.12, age=400),
            "ada2": add_student_run(store, "Ada", "bio-2b", 0.09, age=300),
            "bo": add_student_run(store, "Bo", "bio-2b", 0.26, age=200),
            "cy": add_student_run(store, "Cy", "bio-2b", 0.16, age=100),
            "dee": add_student_run(store, "Dee", "other", 0.1)}


def test_the_board_of_a_room_with_three_students(server, room, page, artifacts):
    page.goto(f"{server.url}/board?room=bio-2b&teacher=1")
    expect(page.locator("h1").first).to_have_text("Class board")
    expect(page.get_by_text("3 students, 3 with a finished run")).to_be_visible()
    expect(page.get_by_text("2 beat the naive forecast")).to_be_visible()
    expect(page.locator(f"{key('board_chart')} .js-plotly-plot")).to_be_visible()
    expect(page.locator(f"{key('board_projector_chart')} .js-plotly-plot")).to_be_visible()
    table = page.locator("[data-testid=stDataFrame]").first
    expect(table).to_be_visible()
    wait_settled(page)
    expect(page.locator(NAV).filter(has_text="Class board")).to_have_count(1)
    expect(page.locator("[data-testid=stException]")).to_have_count(0)
    assert "room=bio-2b" in page.url and "teacher=1" in page.url
    screenshot(page, artifacts, "class-board")


def test_the_board_is_hidden_from_students_but_reachable(server, room, page, artifacts):
    page.goto(f"{server.url}/train?room=bio-2b&name=Bo")
    expect(page.locator("h1").first).to_have_text("Train")
    wait_settled(page)
    expect(page.locator(NAV).filter(has_text="Class board")).to_have_count(0)
    expect(page.locator(NAV)).to_have_count(8)
    name = page.get_by_role("textbox", name="Your name (for the class)")
    expect(name).to_have_value("Bo")
    runs = page.locator("[data-testid=stMain]")
    expect(runs).to_contain_text(room["bo"])
    expect(runs).not_to_contain_text(room["ada"])         # only Bo's runs at first
    page.reload()                                         # the link keeps the name
    expect(page.get_by_role("textbox", name="Your name (for the class)")).to_have_value("Bo")
    assert re.search(r"name=Bo", page.url)
    screenshot(page, artifacts, "class-train-student")
    page.goto(f"{server.url}/board?room=bio-2b")          # by its address: still there
    expect(page.locator("h1").first).to_have_text("Class board")
    expect(page.get_by_text("3 students, 3 with a finished run")).to_be_visible()
