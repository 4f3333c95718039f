"""The whole flow in a real browser: sample -> tiny LSTM -> Train -> live loss -> results ->
gradients -> compare, and a broken upload. Screenshots of every page go to test-artifacts/.

Everything waits on elements or text, never on fixed sleeps.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

TRAIN_TIMEOUT = 240_000  # ms: a fresh worker imports TensorFlow, then trains 3 tiny epochs


def key(name: str) -> str:
    """CSS selector of the element Streamlit renders for widget/element key `name` (not the
    stale copy it keeps on screen while a rerun redraws it)."""
    return f".st-key-{name}:not([data-stale='true'])"


def go(page, link: str, heading: str) -> None:
    """Open a page from the sidebar navigation and wait for its heading."""
    page.locator("[data-testid=stSidebarNav] a").filter(has_text=link).click()
    expect(page.locator("h1").first).to_have_text(heading)
    wait_settled(page)


def set_number(page, name: str, value: int) -> None:
    """Type a value into a number input and commit it with Enter."""
    box = page.locator(f"{key(name)} input")
    box.fill(str(value))
    box.press("Enter")
    expect(box).to_have_value(str(value))


def wait_settled(page) -> None:
    """Wait until Streamlit says the script is no longer running."""
    expect(page.locator("[data-testid=stStatusWidget]")).to_have_count(0, timeout=60_000)


def open_expander(page, label: str):
    """Open the expander titled `label` and wait until it has stopped growing (a click while
    it still animates can miss the widget it is aimed at); returns the expander."""
    expander = page.locator("[data-testid=stExpander]").filter(
        has=page.locator("summary", has_text=label)).first
    expander.locator("summary").click()
    expander.locator("details[open]").wait_for()
    page.wait_for_function("e => e.getAnimations({subtree: true}).length === 0",
                           arg=expander.element_handle(), polling=50)
    return expander


def plot_traces(page, name: str):
    """The data traces drawn inside the Plotly chart with key `name`."""
    return page.locator(f"{key(name)} .js-plotly-plot g.trace")


def screenshot(page, artifacts, name: str, *, settle: bool = True) -> None:
    """A screenshot of the whole page (Streamlit scrolls inside its main block, so grow the
    viewport to the content's height first); settle=False to catch a run while it trains."""
    if settle:
        wait_settled(page)
    page.mouse.move(0, 0)  # no tooltip left open over the picture (hover or focus)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 8000)})
    page.screenshot(path=str(artifacts / f"{name}.png"))
    page.set_viewport_size(size)


def test_train_a_tiny_lstm_and_inspect_it(server, page, artifacts):
    page.goto(server.url)
    sample = page.locator(f"{key('data_sample')} label").filter(has_text="Noisy sine wave")
    sample.click()
    expect(page.locator(f"{key('data_series_chart')} .js-plotly-plot")).to_be_visible()
    expect(page.get_by_text("Your data: Noisy sine wave")).to_be_visible()
    screenshot(page, artifacts, "01-data")

    go(page, "2 · Model", "Model")
    set_number(page, "model_layers", 1)
    set_number(page, "model_units", 8)
    # 4·8·10 + 9, and the linear path the sample's advice turned on: 50 window values + 1
    expect(page.locator("[data-testid=stMetricValue]").first).to_have_text("380")
    set_number(page, "model_lookback", 10)
    expect(page.locator(key("model_diagram"))).to_contain_text("10-step window")
    set_number(page, "train_epochs", 3)
    wait_settled(page)
    screenshot(page, artifacts, "02-model")

    go(page, "3 · Train", "Train")
    expect(page.get_by_text(re.compile(r"1 × LSTM\(8\) · lookback 10.*3 epochs"))).to_be_visible()
    page.locator(f"{key('runs_submit')} button").first.click()
    expect(plot_traces(page, "runs_loss_chart").first).to_be_attached(timeout=TRAIN_TIMEOUT)
    screenshot(page, artifacts, "03-train-live", settle=False)
    expect(page.get_by_text("finished", exact=True)).to_be_visible(timeout=TRAIN_TIMEOUT)
    expect(page.get_by_text("epoch 3/3")).to_be_visible()
    expect(page.locator("[data-testid=stSidebar]")).to_contain_text("1 finished", timeout=10_000)
    screenshot(page, artifacts, "04-train-done")

    go(page, "4 · Results", "Results")
    expect(plot_traces(page, "results_pred_chart").first).to_be_attached()
    expect(page.locator(key("results_pred_chart"))).to_contain_text("naive (last value)")
    expect(page.get_by_text(re.compile(r"The model (beats|loses to|is as good as) the best "
                                       r"baseline")).first).to_be_visible()
    screenshot(page, artifacts, "05-results")

    go(page, "5 · Gradients", "Gradients")
    for chart in ("grad_tensor_chart_a", "grad_time_chart_a"):
        expect(page.locator(f"{key(chart)} .js-plotly-plot .heatmaplayer image")
               .first).to_be_attached()
    expect(page.locator(key("grad_tensor_chart_a"))).to_contain_text("layer 1 · recurrent weights")
    screenshot(page, artifacts, "06-gradients")

    go(page, "6 · Compare", "Compare runs")
    expect(plot_traces(page, "compare_loss_chart").first).to_be_attached()
    # a 3-epoch run may or may not beat the naive forecast: a verdict either way, never a trophy
    # for a run that loses (tests/app/test_group_pages.py checks which)
    expect(page.get_by_text(re.compile(r"^(Best run|No best run): ")).first).to_be_visible()
    screenshot(page, artifacts, "07-compare")


def test_a_broken_csv_shows_a_readable_error(server, page, artifacts):
    page.goto(server.url)
    page.locator(f"{key('data_kind')} label").filter(has_text="My own file").click()
    uploader = page.locator(f"{key('data_upload')} input[type=file]")
    uploader.set_input_files(files=[{"name": "broken.csv", "mimeType": "text/csv",
                                     "buffer": b"name;comment\nfoo;bar\nbaz;qux\n"}])
    error = page.locator("[data-testid=stAlertContentError]")
    expect(error).to_contain_text("broken.csv cannot be used")
    expect(error).to_contain_text("No column holds numbers")
    expect(page.locator("[data-testid=stException]")).to_have_count(0)
    screenshot(page, artifacts, "08-broken-upload")
