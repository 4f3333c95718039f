"""How the pages look in a real browser: light and dark themes follow the browser, the charts
included; at 390 px (a phone) no page scrolls sideways; axe-core finds no critical problem.

Screenshots of every page in light, dark and at 390 px go to test-artifacts/looks-*.png.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from test_dashboard import key, wait_settled

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))            # tests/: fake_run
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))    # tests/app: apphelpers

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

# url path -> the page's heading
PAGES = {"data": "Data", "model": "Model", "train": "Train", "bring": re.compile(r"^Bring"),
         "results": "Results", "gradients": "Gradients", "compare": re.compile(r"^Compare"),
         "learn": "Learn"}
PHONE = {"width": 390, "height": 844}
SCREEN = {"width": 1440, "height": 1000}


@pytest.fixture(scope="module")
def runs(server):
    """Two finished runs in the server's store, so Results, Gradients and Compare draw charts."""
    from apphelpers import add_finished_run
    from fake_run import make_run
    from rnnlab.store import Store

    store = Store(server.home)
    return {"tutorial": make_run(store, epochs=30, name="tutorial"),
            "lstm": add_finished_run(store, "tiny LSTM")}


@pytest.fixture(scope="module")
def lesson_runs(server, runs):
    """The vanishing-gradient lesson's three runs, finished."""
    from apphelpers import add_lesson_run
    from rnnlab.lessons import load_lessons
    from rnnlab.store import Store

    lesson = load_lessons()["vanishing"]
    return {label: add_lesson_run(Store(server.home), lesson, label) for label, _ in lesson.runs}


@pytest.fixture
def tab(browser, request):
    """A tab in a browser context made by `request.param`: (colour scheme, viewport)."""
    scheme, viewport = request.param
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def open_settled(page, url: str, path: str, min_charts: int = 0) -> None:
    """Open a page by its URL and wait until its script has finished and its charts (at least
    `min_charts` of them, for a page known to draw some) are drawn."""
    page.goto(f"{url}/{path}")
    expect(page.locator("h1").first).to_have_text(PAGES[path])
    wait_settled(page)
    # elements still loading show as grey placeholders; charts are drawn once Plotly laid them out
    page.wait_for_function(
        """n => !document.querySelector('[data-testid^=stSkeleton]')
                 && document.querySelectorAll('.js-plotly-plot').length >= n
                 && [...document.querySelectorAll('.js-plotly-plot')].every(p => p._fullLayout)
                 && [...document.querySelectorAll('[data-testid=stPlotlyChart]')].every(
                        c => c.querySelector('.js-plotly-plot'))""",
        arg=min_charts, polling=100)


def full_screenshot(page, path: Path) -> None:
    """The whole page (Streamlit scrolls inside its main block: grow the viewport first)."""
    page.mouse.move(0, 0)
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 9000)})
    page.screenshot(path=str(path))
    page.set_viewport_size(size)


def luminance(css: str) -> float:
    """Relative luminance (0 black .. 1 white) of a CSS colour 'rgb(r, g, b)' or '#rrggbb'."""
    if css.startswith("#"):
        rgb = [int(css[i:i + 2], 16) for i in (1, 3, 5)]
    else:
        rgb = [int(float(v)) for v in re.findall(r"[\d.]+", css)[:3]]
    lin = [(c / 255 / 12.92) if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two CSS colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)))
    return (lb + 0.05) / (la + 0.05)


def colours(page) -> dict:
    """The page's background, and each Plotly chart's paper and plot background and text colour
    as Plotly drew them."""
    return page.evaluate("""() => ({
        page: getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor,
        charts: [...document.querySelectorAll('.js-plotly-plot')].map(p => ({
            paper: p._fullLayout.paper_bgcolor, plot: p._fullLayout.plot_bgcolor,
            font: p._fullLayout.font.color}))})""")


@pytest.mark.parametrize("tab", [("dark", SCREEN)], indirect=True)
def test_a_dark_browser_gets_dark_pages_and_dark_charts(server, runs, tab, artifacts):
    for path in ("data", "results", "gradients"):
        open_settled(tab, server.url, path, min_charts=1)
        seen = colours(tab)
        assert luminance(seen["page"]) < 0.05, (path, seen["page"])
        assert seen["charts"], path
        for chart in seen["charts"]:
            assert luminance(chart["paper"]) < 0.05, (path, chart)
            assert luminance(chart["plot"]) < 0.05, (path, chart)
            assert luminance(chart["font"]) > luminance(chart["paper"]), (path, chart)
            assert contrast(chart["font"], chart["paper"]) >= 3, (path, chart)


@pytest.mark.parametrize("tab", [("light", SCREEN)], indirect=True)
def test_a_light_browser_gets_light_pages_and_light_charts(server, runs, tab):
    open_settled(tab, server.url, "results")
    seen = colours(tab)
    assert luminance(seen["page"]) > 0.9
    assert seen["charts"]
    for chart in seen["charts"]:
        assert luminance(chart["paper"]) > 0.9, chart
        assert contrast(chart["font"], chart["paper"]) >= 3, chart


@pytest.mark.parametrize("tab", [("light", PHONE)], indirect=True)
def test_no_page_scrolls_sideways_on_a_phone(server, runs, tab):
    wide = {}
    for path in PAGES:
        open_settled(tab, server.url, path)
        sizes = tab.evaluate("""() => ({page: document.documentElement.scrollWidth,
            main: document.querySelector('[data-testid=stMain]').scrollWidth,
            window: window.innerWidth})""")
        if max(sizes["page"], sizes["main"]) > sizes["window"]:
            wide[path] = sizes
    assert not wide


@pytest.mark.parametrize("tab", [("light", PHONE)], indirect=True)
def test_the_mode_bar_never_covers_a_title(server, runs, tab):
    """The chart's tool bar (zoom, download, ...) is hidden until the pointer is on the chart,
    and even then, on a phone, it stays clear of the chart's title."""
    open_settled(tab, server.url, "results")
    chart = tab.locator(".js-plotly-plot").first
    chart.scroll_into_view_if_needed()
    tools = chart.locator(".modebar-group").first
    expect(tools).to_have_css("opacity", "0")
    chart.hover()
    expect(tools).to_have_css("opacity", "1")
    bar = chart.locator(".modebar").bounding_box()
    title = chart.locator(".g-gtitle text").first.bounding_box()
    overlap = not (bar["x"] >= title["x"] + title["width"] or title["x"] >= bar["x"] + bar["width"]
                   or bar["y"] >= title["y"] + title["height"]
                   or title["y"] >= bar["y"] + bar["height"])
    assert not overlap, (bar, title)


@pytest.mark.parametrize("tab", [("light", SCREEN)], indirect=True)
def test_no_critical_accessibility_problem_on_any_page(server, runs, tab, artifacts):
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    axe = axe_module.Axe()
    found = {}
    report = []
    for path in PAGES:
        open_settled(tab, server.url, path)
        results = axe.run(tab).response
        for violation in results["violations"]:
            report.append(f"{path}: {violation['impact']} {violation['id']} "
                          f"({len(violation['nodes'])}) {violation['help']}")
            report.extend(f"    {node['target']} {node.get('failureSummary', '')[:160]!r}"
                          for node in violation["nodes"][:4])
            if violation["impact"] == "critical":
                found.setdefault(path, []).append(
                    (violation["id"], [n["target"] for n in violation["nodes"]][:5]))
    (artifacts / "looks-axe.txt").write_text("\n".join(report) + "\n")
    assert not found


@pytest.mark.parametrize("tab", [("light", SCREEN), ("dark", SCREEN), ("light", PHONE)],
                         ids=["light", "dark", "phone"], indirect=True)
def test_screenshots_of_every_page(server, runs, tab, artifacts, request):
    look = request.node.callspec.id
    for path in PAGES:
        open_settled(tab, server.url, path)
        full_screenshot(tab, artifacts / f"looks-{look}-{path}.png")


@pytest.mark.parametrize("tab", [("light", SCREEN), ("dark", SCREEN)], ids=["light", "dark"],
                         indirect=True)
def test_the_lessons_heatmaps_relative_to_one_step_back(server, lesson_runs, tab, artifacts,
                                                        request):
    look = request.node.callspec.id
    tab.goto(f"{server.url}/learn?lesson=vanishing")
    expect(tab.locator(key("learn_time_2"))).to_be_visible()
    tab.locator(f"{key('learn_time_scale')} label").filter(
        has_text="each epoch relative to 1 step back").click()
    wait_settled(tab)
    expect(tab.locator(key("learn_time_0"))).to_contain_text("× the gradient 1 step back")
    tab.locator(key("learn_time_0")).scroll_into_view_if_needed()
    tab.locator("[data-testid=stMain]").screenshot(
        path=str(artifacts / f"looks-{look}-lesson-relative.png"))
