"""A reload keeps the working setup: the link carries it (?setup=ID), so the page comes back
with the user's settings, not the sample's defaults."""

from __future__ import annotations

import re

import pytest

from test_dashboard import go, key, set_number, wait_settled

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect


def test_a_reload_keeps_the_settings(server, page):
    page.goto(server.url)
    wait_settled(page)
    go(page, "2 · Model", "Model")
    expect(page).to_have_url(re.compile(r"/model\?setup=[0-9a-f]{16}$"))
    before = page.url
    set_number(page, "model_units", 23)
    wait_settled(page)
    expect(page).not_to_have_url(before)     # the link now holds the setup with 23 units
    expect(page).to_have_url(re.compile(r"/model\?setup=[0-9a-f]{16}$"))
    page.reload()
    wait_settled(page)
    expect(page.locator("h1").first).to_have_text("Model")
    expect(page.locator(f"{key('model_units')} input")).to_have_value("23")
    go(page, "3 · Train", "Train")             # and the run it would train is that one
    expect(page.get_by_text(re.compile(r"23")).first).to_be_visible()
