"""The run report in a real browser, opened from disk with the network blocked: plotly.js unpacks
from the file itself and every chart is drawn."""

import re

import pytest

from fake_run import make_run
from rnnlab import report

pytestmark = pytest.mark.e2e


def open_offline(browser, path):
    """A tab that refuses every http(s) request; returns (tab, requests tried, page errors)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    tried, errors = [], []
    context.route(re.compile(r"^https?://"), lambda route: (tried.append(route.request.url),
                                                            route.abort()))
    tab = context.new_page()
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    tab.goto(path.as_uri())
    return context, tab, tried, errors


def test_every_chart_renders_offline(browser, store, tmp_path, artifacts):
    run_id = make_run(store)                     # the seed tutorial's shape, 100 epochs
    path = report.write_html(store, run_id, tmp_path / "report.html")
    n_charts = len(re.findall(r'class="rnnlab-chart"', path.read_text()))
    assert n_charts == 14
    context, tab, tried, errors = open_offline(browser, path)
    try:
        tab.wait_for_selector("#chart-status", state="detached", timeout=90_000)
        charts = tab.locator(".rnnlab-chart")
        assert charts.count() == n_charts
        assert tab.locator(".rnnlab-chart.js-plotly-plot").count() == n_charts
        for i in range(n_charts):   # every chart has its own SVG with drawn content
            assert charts.nth(i).locator(".main-svg").count() >= 1
        assert tab.locator(".js-plotly-plot .heatmaplayer image").count() >= 6
        assert tab.locator(".js-plotly-plot .scatterlayer .trace").count() >= 10
        assert tab.title().startswith("RNN Lab report: <script>")   # the text, not markup
        assert tried == [] and errors == []      # no request, no script error, no alert()
        tab.screenshot(path=str(artifacts / "report-offline.png"), full_page=True)
    finally:
        context.close()
