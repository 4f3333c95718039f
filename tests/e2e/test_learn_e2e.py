"""The Learn page in a real browser: a lesson link, the lesson's runs and charts, classroom mode
and the gradient calculator. Lesson runs are written straight into the server's store (no
training). Screenshots go to test-artifacts/.

Everything waits on elements or text, never on fixed sleeps.
"""

from __future__ import annotations

import re
import sys

import pytest

from conftest import ROOT
from test_dashboard import key, screenshot, wait_settled

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect


def seed(home, lesson_id: str, statuses: dict[str, str] | None = None) -> None:
    """Finished runs of one lesson in the server's store (statuses: label -> status)."""
    sys.path.insert(0, str(ROOT / "tests" / "app"))
    from apphelpers import add_lesson_run
    from rnnlab.lessons import load_lessons
    from rnnlab.store import RunStatus, Store

    lesson = load_lessons()[lesson_id]
    for label, _ in lesson.runs:
        status = RunStatus((statuses or {}).get(label, "done"))
        add_lesson_run(Store(home), lesson, label, status)


def button(page, name: str):
    """The visible button with key `name` (Streamlit also keeps a hidden copy to measure it)."""
    return page.locator(key(name)).get_by_role("button")


def chart(page, name: str):
    """The Plotly chart with key `name`."""
    return page.locator(f"{key(name)} .js-plotly-plot")


def slide_to(page, name: str, value: str, most: int = 200) -> None:
    """Move the slider with key `name` to `value` with the arrow keys, as a keyboard user would.

    Each press may start a rerun that draws the slider anew (and takes the focus away), so the
    value is read back and the slider focused again before every press.
    """
    slider = page.locator(f"{key(name)} input[type=range]")
    for _ in range(most):
        now = slider.input_value()
        if float(now) == float(value):
            return
        slider.focus()
        slider.press("ArrowRight" if float(now) < float(value) else "ArrowLeft")
    raise AssertionError(f"the slider {name} did not reach {value} in {most} key presses")


def test_a_lesson_link_opens_the_lesson_and_the_calculator(server, page, artifacts):
    page.goto(f"{server.url}/?lesson=vanishing")
    expect(page.locator("h1").first).to_have_text("Learn")
    expect(page.get_by_role("heading", name="Vanishing gradients", level=2)).to_be_visible()
    expect(button(page, "learn_run_vanishing")).to_have_text(
        re.compile("Run this lesson"))
    expect(page).to_have_url(re.compile(r"/learn\?lesson=vanishing(&setup=[0-9a-f]{16})?$"))
    calc = chart(page, "learn_calc_chart")
    calc.scroll_into_view_if_needed()
    expect(calc).to_be_visible()
    expect(page.locator(key("learn_calc_chart"))).to_contain_text("vanishing")
    expect(page.locator(key("learn_calc_text"))).to_contain_text("vanishes")
    wait_settled(page)
    screenshot(page, artifacts, "learn-01-vanishing-link")

    page.locator(f"{key('learn_calc_activation')} label").filter(has_text="linear").click()
    slide_to(page, "learn_calc_w", "1.5")  # from 0.9, one 0.05 step per key press
    # the sentence of the last value, so that no rerun of an earlier key press is still to come
    expect(page.locator(key("learn_calc_text"))).to_contain_text("|w|·f′ = 1.5 × 1")
    expect(page.locator(key("learn_calc_text"))).to_contain_text("explodes")
    expect(page.locator(key("learn_calc_chart"))).to_contain_text("exploding")
    wait_settled(page)
    calc.screenshot(path=str(artifacts / "learn-02-calculator-exploding.png"))
    expect(page.locator("[data-testid=stException]")).to_have_count(0)


def test_an_unknown_lesson_lists_the_valid_ones(server, page, artifacts):
    page.goto(f"{server.url}/learn?lesson=nope")
    error = page.locator("[data-testid=stAlertContentError]")
    expect(error).to_contain_text("There is no lesson nope")
    expect(error).to_contain_text("vanishing")
    expect(page.get_by_role("heading", name="Lessons", exact=True)).to_be_visible()
    screenshot(page, artifacts, "learn-03-unknown-lesson")


def test_the_exploding_lesson_shows_its_runs_and_the_clip_line(server, page, artifacts):
    seed(server.home, "exploding", {"no clipping": "diverged"})
    page.goto(f"{server.url}/learn?lesson=exploding")
    expect(page.get_by_role("heading", name="Exploding gradients, and clipping", level=2)).to_be_visible()
    expect(page.get_by_text("Diverged after 3 of 3 epochs")).to_be_visible()
    for name in ("learn_time_0", "learn_time_1", "learn_steps_0", "learn_steps_1"):
        expect(chart(page, name)).to_be_attached()
    expect(page.locator(key("learn_steps_1"))).to_contain_text("clip threshold")
    expect(button(page, "learn_run_exploding")).to_have_text(
        re.compile("Run again"))
    screenshot(page, artifacts, "learn-04-exploding")


def test_the_types_lesson_in_classroom_mode(server, page, artifacts):
    seed(server.home, "types")
    page.goto(f"{server.url}/learn?lesson=types&classroom=1")
    expect(page.get_by_role("heading", name=re.compile("RNN types"), level=2)).to_be_visible()
    for name in ("learn_types_one_step", "learn_types_free", "learn_types_many"):
        expect(chart(page, name)).to_be_attached()
    expect(page.locator("[data-testid=stDataFrame]").first).to_be_visible()
    size = page.locator(f"{key('learn_text')} p").first.evaluate(
        "p => parseFloat(getComputedStyle(p).fontSize)")
    assert size >= 22, f"classroom text is {size}px"
    expect(page.locator("[data-testid=stSidebar]").get_by_text("Classroom mode")).to_be_visible()
    wait_settled(page)
    screenshot(page, artifacts, "learn-05-types-classroom")

    page.locator("[data-testid=stSidebarNav] a").filter(has_text="2 · Model").click()
    expect(page.locator("h1").first).to_have_text("Model")
    expect(page.get_by_text("Classroom mode: advanced settings are hidden")).to_be_visible()
    expect(page.get_by_role("heading", name="Training")).to_be_visible()
    expect(page.locator(key("train_clipnorm_on"))).to_be_visible()
    expect(page.locator(key("model_diagram"))).to_contain_text("unrolled")
    expect(page.locator(key("train_clipvalue_on"))).to_have_count(0)
    expect(page.locator(f"{key('model_units')} input")).to_be_visible()  # widgets loaded
    expect(page.locator(f"{key('train_epochs')} input")).to_be_visible()
    expect(page.locator(key("model_bidirectional"))).to_have_count(0)
    expect(page.locator(key("train_seed"))).to_have_count(0)
    screenshot(page, artifacts, "learn-06-model-classroom")


def test_the_overview_shows_every_lesson(server, page, artifacts):
    seed(server.home, "stock")
    page.goto(f"{server.url}/learn")
    expect(page.get_by_role("heading", name="Lessons", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Open", exact=True)).to_have_count(9)
    expect(page.get_by_text("Vanishing gradients")).to_be_visible()
    screenshot(page, artifacts, "learn-07-overview")
    button(page, "learn_open_stock").click()
    # level 2: the lesson's title, not the overview's card (h4) still on screen while it redraws
    expect(page.get_by_role("heading", name="The classic stock model, read honestly", level=2)
           ).to_be_visible()
    expect(chart(page, "learn_lag_corr_0")).to_be_attached()
    expect(page).to_have_url(re.compile(r"lesson=stock"))
    screenshot(page, artifacts, "learn-08-stock")
