"""A setting changed just before leaving its page is the one that is used.

A user types a value and at once clicks "3 · Train" in the sidebar. The click's rerun
interrupts the run that the new value started, and the Train page does not draw the settings
widgets (so Streamlit forgets their values): the Train page must still show, and train, the
new value.
"""

from __future__ import annotations

import re

import pytest

from test_dashboard import key, wait_settled

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

TRIES = 8
SETUP = re.compile(r"× LSTM\((\d+)(?:, \d+)*\) · lookback (\d+), horizon \d+ · "
                   r"(\d+) epochs of batch")
SHOWN_AS = {"model_units": 0, "model_lookback": 1, "train_epochs": 2}  # group in SETUP


def nav(page, link: str):
    return page.locator("[data-testid=stSidebarNav] a").filter(has_text=link)


def heading(page):
    return page.locator("h1").first


def trained_value(page, name: str) -> int:
    """The value of a Model-page setting as the Train page's setup line shows it."""
    line = page.get_by_text(SETUP)
    expect(line).to_be_visible()
    return int(SETUP.search(line.inner_text()).group(SHOWN_AS[name] + 1))


def back_to_model(page) -> None:
    nav(page, "2 · Model").click()
    expect(heading(page)).to_have_text("Model")
    wait_settled(page)


def values_to_try():
    """(widget key, a value it does not have yet), TRIES times, over three settings."""
    names = list(SHOWN_AS)
    for attempt in range(TRIES):
        name = names[attempt % len(names)]
        yield name, (5 if name == "train_epochs" else 40) + attempt


def test_a_value_entered_just_before_leaving_the_model_page_is_trained(server, page):
    """Type, press Enter and click "3 · Train" as soon as the browser has sent the value (a
    mouse click where the link is: Playwright's own click would first wait for the page to
    be still, and a quick user does not)."""
    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket))
    page.goto(f"{server.url}/model")
    expect(heading(page)).to_have_text("Model")
    wait_settled(page)
    lost = []
    for attempt, (name, value) in enumerate(values_to_try(), 1):
        box = page.locator(f"{key(name)} input")
        link = nav(page, "3 · Train").bounding_box()
        box.fill(str(value))
        with sockets[-1].expect_event("framesent"):  # the rerun that carries the value
            box.press("Enter")
        page.mouse.click(link["x"] + link["width"] / 2, link["y"] + link["height"] / 2)
        expect(heading(page)).to_have_text("Train")
        wait_settled(page)
        shown = trained_value(page, name)
        if shown != value:
            lost.append(f"try {attempt}: {name} = {value}, Train shows {shown}")
        back_to_model(page)
        expect(page.locator(f"{key(name)} input")).to_have_value(str(shown))
    assert not lost, f"{len(lost)} of {TRIES} values were lost: " + "; ".join(lost)
