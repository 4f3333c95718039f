"""A shared link (/results?run=ID) as the very first request to a freshly started server still
gets the whole app: navigation, sidebar, the run preselected, and working buttons."""

from __future__ import annotations

import re
import sys

import pytest

from conftest import ROOT
from test_dashboard import key, open_expander, wait_settled

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect


def test_a_shared_run_link_opens_the_whole_app(server, page, artifacts):
    sys.path.insert(0, str(ROOT / "tests" / "app"))
    from apphelpers import add_finished_run
    from rnnlab.store import Store

    run_id = add_finished_run(Store(server.home), "shared run")
    page.goto(f"{server.url}/results?run={run_id}")  # the server's first page view
    expect(page.locator(f"{key('results_pred_chart')} .js-plotly-plot")).to_be_visible()
    wait_settled(page)
    expect(page.locator("[data-testid=stSidebarNav] a")).to_have_count(8)
    expect(page.locator("[data-testid=stSidebar]")).to_contain_text("Active dataset")
    expect(page.get_by_role("combobox", name="Run")).to_have_value(re.compile(run_id))
    expect(page.get_by_text("Link to share")).to_contain_text(f"run={run_id}")
    settings = open_expander(page, "Settings of this run")
    settings.locator(f"{key('results_use_config')} button").first.click()
    expect(settings.get_by_text("Settings copied from the run")).to_be_visible()
    expect(settings.get_by_role("link", name="Go to Model")).to_be_visible()
    expect(page.locator("[data-testid=stException]")).to_have_count(0)
