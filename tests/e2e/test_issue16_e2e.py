"""Issue 16 in a real browser: every page opens by its URL (the Data page at /data too), the
toolbar has no Deploy button, and screenshots of the pages this issue changed."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from test_dashboard import key, open_expander, wait_settled

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))            # tests/: fake_run
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))    # tests/app: apphelpers

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

PAGES = {"data": "Data", "model": "Model", "train": "Train", "results": "Results",
         "gradients": "Gradients", "compare": re.compile(r"^Compare"), "learn": "Learn"}


@pytest.fixture(scope="module")
def runs(server):
    """Two finished runs in the server's store: an LSTM (clipping at 1.0) and the 4-layer
    seed-tutorial run (no clipping, its loss falling over decades)."""
    from apphelpers import add_finished_run
    from fake_run import make_run
    from rnnlab.store import Store

    store = Store(server.home)
    return {"tutorial": make_run(store, epochs=30, name="tutorial"),
            "lstm": add_finished_run(store, "tiny LSTM")}


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_opens_by_its_url(server, page, path):
    page.goto(f"{server.url}/{path}")
    expect(page.locator("h1").first).to_have_text(PAGES[path])
    expect(page.get_by_text("Page not found")).to_have_count(0)
    assert page.url.split("?")[0].rstrip("/").endswith(f"/{path}")


def test_the_root_opens_the_data_page_at_its_own_url(server, page):
    page.goto(server.url)
    expect(page.locator("h1").first).to_have_text("Data")
    # the link also carries the working setup (?setup=ID, tests/app/test_setup_link.py)
    expect(page).to_have_url(re.compile(rf"^{re.escape(server.url)}/data(\?setup=[0-9a-f]{{16}})?$"))
    nav = page.locator("[data-testid=stSidebarNav] a").filter(has_text="1 · Data")
    expect(nav).to_have_attribute("aria-current", "page")


def test_no_deploy_button(server, page):
    page.goto(f"{server.url}/data")
    expect(page.locator("h1").first).to_have_text("Data")
    wait_settled(page)
    expect(page.get_by_role("button", name="Deploy")).to_have_count(0)
    expect(page.locator("[data-testid=stAppDeployButton]")).to_have_count(0)


def test_screenshots_of_the_changed_pages(server, page, runs, artifacts):
    page.goto(f"{server.url}/results?run={runs['tutorial']}")
    expect(page.locator("h1").first).to_have_text("Results")
    wait_settled(page)
    open_expander(page, "What these scores mean")
    open_expander(page, "Training curve")
    open_expander(page, "Settings of this run")
    wait_settled(page)
    page.screenshot(path=str(artifacts / "issue16-results.png"), full_page=True)
    page.goto(f"{server.url}/gradients?run={runs['tutorial']}")
    expect(page.locator("h1").first).to_have_text("Gradients")
    wait_settled(page)
    expect(page.locator(f"{key('grad_tensor_chart_a')} .js-plotly-plot")).to_have_count(1)
    page.screenshot(path=str(artifacts / "issue16-gradients.png"), full_page=True)
    page.goto(f"{server.url}/data")
    expect(page.locator("h1").first).to_have_text("Data")
    wait_settled(page)
    page.get_by_text("My own file").click()
    wait_settled(page)
    short = artifacts / "three-rows.csv"
    short.write_text("date,value\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n")
    page.locator("input[type=file]").set_input_files(str(short))
    expect(page.get_by_text("Too short to train")).to_be_visible(timeout=60_000)
    wait_settled(page)
    page.screenshot(path=str(artifacts / "issue16-data-short.png"), full_page=True)
    short.unlink()
