"""Every page works without a mouse: Tab reaches every control, and the controls work with keys.

On every page of the page table (with finished runs in the store, so Results, Gradients and
Compare draw their controls, and with every expander opened), focus starts at the top of the
document and Tab is pressed until it comes back there; each stop is recorded. Every visible,
enabled control in the main area and in the sidebar must be among the stops, and focus must come
back to the top (no control keeps it). The figures go to test-artifacts/keyboard-reach.txt.

What counts as a control: inputs, selects, text areas, buttons, links, expander summaries,
elements with a role a user acts on (slider, tab, combobox, checkbox, radio, switch, button,
link) and anything else placed in the Tab order (tabindex 0 or more: a chart's data grid, a code
block). Controls that share one Tab stop by design count once: the options of a radio group,
the tabs of a tab list and the chips of a multiselect each have a single stop, and arrow keys
move within them. Left out, because Streamlit takes them out of the Tab order on purpose and
the keyboard has another way to do the same (checked below):

- a number input's − and + buttons: ArrowUp and ArrowDown in the field do the same;
- a selectbox's or multiselect's open arrow: ArrowDown in the box opens the list;
- a multiselect chip's ✕: Delete (or Backspace) on the focused chip removes it.

Disabled controls and hidden ones (no size, display none, visibility hidden) are not counted: a
browser never focuses them, and nobody can use them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from test_dashboard import key, wait_settled

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))            # tests/: fake_run
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))    # tests/app: apphelpers

from rnnlab.ui import PAGE_TABLE  # noqa: E402

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

# url path -> the page's heading, for every page of the page table
TITLES = {"data": "Data", "model": "Model", "train": "Train", "results": "Results",
          "gradients": "Gradients", "compare": "Compare runs", "learn": "Learn",
          "bring": "Bring a model", "board": "Class board"}
MAX_TABS = 1500
AREAS = {"main": "[data-testid=stMain]", "sidebar": "[data-testid=stSidebar]"}
SKIP_LINK = "[data-testid=stSkipToContent]"   # Streamlit's first link: the top of the document

# Defines window.kbd in the page: the controls of an area, and a name for any element that is
# the same from one Tab press to the next (a key-less element is named by its position among
# the elements of the same name, so a redraw of the page does not rename it).
KBD_JS = r"""(areas) => {
  const CONTROL = ['input:not([type=hidden])', 'select', 'textarea', 'button', 'a[href]',
    'summary', '[role=slider]', '[role=tab]', '[role=combobox]', '[role=checkbox]',
    '[role=radio]', '[role=switch]', '[role=button]', '[role=link]',
    '[tabindex]:not([tabindex="-1"])'].join(',');
  // taken out of the Tab order by Streamlit, with a key that does the same (module docstring)
  const LEFT_OUT = ['[data-testid=stNumberInputStepUp]', '[data-testid=stNumberInputStepDown]',
    '[data-testid=stSelectbox] button[aria-label=Open]',
    '[data-testid=stMultiSelect] button[aria-label=Open]', '[data-tag] button'].join(',');
  const areaOf = (el) => Object.keys(areas).find(a => el.closest(areas[a])) || 'outside';
  const streamlitKey = (el) => {
    const keyed = el.closest('[class*="st-key-"]');
    return keyed ? [...keyed.classList].find(c => c.startsWith('st-key-')).slice(7) : '';
  };
  // an element's own text names it only where that text is its label (a canvas's text is
  // its data grid's cells, which change as the grid takes focus)
  const NAMED_BY_TEXT = 'button, a, summary, [role=tab], [role=button], [role=link], [data-tag]';
  const label = (el) => {
    const own = el.getAttribute('aria-label') || (el.labels && el.labels[0]
      && el.labels[0].textContent) || (el.matches(NAMED_BY_TEXT) && el.textContent) || '';
    const widget = el.closest('[data-testid=stElementContainer]');
    const title = widget && widget.querySelector('[data-testid=stWidgetLabel]');
    return ((title ? title.textContent + ': ' : '') + own).trim().replace(/\s+/g, ' ')
      .slice(0, 60);
  };
  const base = (el) => [areaOf(el), streamlitKey(el), el.getAttribute('data-testid') || '',
    el.tagName.toLowerCase(),
    el.getAttribute('type') || '', el.getAttribute('role') || '', label(el)].join('|');
  const usable = (el) => !el.disabled && el.getAttribute('aria-disabled') !== 'true'
    && !el.closest('[inert]') && el.checkVisibility({visibilityProperty: true})
    && el.getBoundingClientRect().width > 0 && el.getBoundingClientRect().height > 0;
  const group = (el) => {              // controls that share one Tab stop
    if (el.matches('input[type=radio]')) return 'radio group ' + el.name;
    const list = el.closest('[role=tablist]');
    if (el.matches('[role=tab]') && list) return 'tab list ' + name(list);
    const chips = el.closest('[role=group][aria-label="Selected values"]');
    if (el.matches('[data-tag]') && chips) return 'chips of ' + streamlitKey(el);
    return null;
  };
  const all = (area) => [...document.querySelectorAll(areas[area] + ' :is(' + CONTROL + ')')];
  const name = (el) => {
    const b = base(el);
    const same = Object.keys(areas).flatMap(all).filter(e => base(e) === b);
    return b + '#' + Math.max(0, same.indexOf(el));
  };
  window.kbd = {
    name,
    active: () => { const el = document.activeElement;
                    return !el || el === document.body ? 'body' : name(el); },
    controls: (area) => all(area).filter(el => usable(el) && !el.matches(LEFT_OUT))
      .map(el => ({name: name(el), group: group(el) || name(el)})),
  };
}"""


@pytest.fixture(scope="module")
def runs(server):
    """Finished runs in the server's store: three on the same data (Compare opens with all
    three as chips) and the seed tutorial's."""
    from apphelpers import add_finished_run
    from fake_run import make_run
    from rnnlab.store import Store

    store = Store(server.home)
    return {"tutorial": make_run(store, epochs=30, name="tutorial"),
            **{f"lstm {n}": add_finished_run(store, f"tiny LSTM {n}", units=8 + n)
               for n in range(3)}}


@pytest.fixture(scope="module")
def reach_report(artifacts):
    """Per page: (controls in the main area, reached, controls in the sidebar, reached, Tab
    presses); written to test-artifacts/keyboard-reach.txt at the end."""
    figures: dict[str, tuple[int, int, int, int, int]] = {}
    yield figures
    lines = [f"{path}: main area {main_n} controls, {main_r} reached by Tab; sidebar {side_n} "
             f"controls, {side_r} reached; {presses} Tab presses round the page"
             for path, (main_n, main_r, side_n, side_r, presses) in figures.items()]
    (artifacts / "keyboard-reach.txt").write_text("\n".join(lines) + "\n")


def open_page(page, url: str, path: str) -> None:
    """Open a page by its URL and wait until its script has finished and everything is drawn."""
    page.goto(f"{url}/{path}")
    expect(page.locator("h1").first).to_have_text(TITLES[path])
    settle(page)


def settle(page) -> None:
    """No script running, no element still loading, every chart laid out."""
    wait_settled(page)
    page.wait_for_function(
        """() => !document.querySelector('[data-testid^=stSkeleton]')
                 && [...document.querySelectorAll('[data-testid=stPlotlyChart]')].every(c => {
                        const plot = c.querySelector('.js-plotly-plot');
                        return plot && plot._fullLayout; })""", polling=100)


def open_expanders(page) -> None:
    """Open every expander of the main area, so the controls inside are visible too."""
    expanders = page.locator("[data-testid=stMain] [data-testid=stExpander] details")
    for i in range(expanders.count()):
        details = expanders.nth(i)
        if details.get_attribute("open") is not None:
            continue
        details.locator("summary").click()
        expect(details).to_have_attribute("open", "")
        page.wait_for_function("e => e.getAnimations({subtree: true}).length === 0",
                               arg=details.element_handle(), polling=50)
    settle(page)


def tab_round(page) -> tuple[list[str], bool]:
    """Focus the top of the document, then press Tab until focus is back there: the names of
    the elements focused on the way, and whether it came back within MAX_TABS presses."""
    page.locator(SKIP_LINK).focus()
    top = page.evaluate("() => kbd.active()")
    stops = [top]
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        now = page.evaluate("() => kbd.active()")
        if now == top:
            return stops, True
        stops.append(now)
    return stops, False


@pytest.mark.parametrize("path", list(TITLES))
def test_tab_reaches_every_control(server, runs, page, path, reach_report):
    assert set(TITLES) == {spec.url_path for spec in PAGE_TABLE}, "a page is missing here"
    open_page(page, server.url, path)
    open_expanders(page)
    page.evaluate(KBD_JS, AREAS)
    controls = {area: page.evaluate("area => kbd.controls(area)", area) for area in AREAS}
    assert controls["main"], f"{path}: no control found in the main area"
    stops, came_back = tab_round(page)
    reached = set(stops)
    missed = {}
    for area, found in controls.items():
        groups: dict[str, list[str]] = {}
        for control in found:
            groups.setdefault(control["group"], []).append(control["name"])
        missed[area] = [group for group, names in groups.items() if reached.isdisjoint(names)]
        controls[area] = groups
    reach_report[path] = (len(controls["main"]), len(controls["main"]) - len(missed["main"]),
                          len(controls["sidebar"]),
                          len(controls["sidebar"]) - len(missed["sidebar"]), len(stops))
    assert came_back, f"{path}: focus did not come back to the top after {MAX_TABS} Tabs " \
                      f"(stuck at {stops[-1]})"
    assert not missed["main"] and not missed["sidebar"], \
        f"{path}: Tab never reaches {missed}"


def code_text(page):
    """The Model page's Keras script (its expander opened with the keyboard)."""
    expander = page.locator("[data-testid=stExpander]").filter(
        has=page.locator("summary", has_text="Show the code"))
    expander.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(expander.locator("details")).to_have_attribute("open", "")
    return expander.locator("[data-testid=stCode]")


def highlighted(page) -> str | None:
    """The option an open list has highlighted (its keyboard focus), by its text."""
    return page.evaluate("""() => document.querySelector(
        '[role=listbox] [role=option][data-focused=true]')?.textContent ?? null""")


def test_the_model_page_works_from_the_keyboard(server, page):
    open_page(page, server.url, "model")
    code = code_text(page)
    expect(code).to_contain_text("CELL = 'LSTM'")

    # a slider: ArrowRight moves it one step
    slider = page.locator(f"{key('model_dropout')} input[type=range]")
    before = float(slider.input_value())
    slider.focus()
    page.keyboard.press("ArrowRight")
    after = round(before + 0.05, 2)
    expect(page.locator(f"{key('model_dropout')} [data-testid=stSliderThumbValue]")
           ).to_have_text(f"{after:.2f}")
    settle(page)
    expect(code).to_contain_text(re.compile(rf"DROPOUT = \[{after!r}[,\]]"))  # the server has it

    # a selectbox: ArrowDown opens the list, arrows move in it, Enter chooses
    cell = page.locator(f"{key('model_cell')} input")
    cell.focus()
    page.keyboard.press("ArrowDown")
    options = page.get_by_role("listbox")
    expect(options).to_be_visible()
    for _ in range(options.get_by_role("option").count()):
        if highlighted(page) == "GRU":
            break
        page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    expect(options).to_have_count(0)
    expect(cell).to_have_value("GRU")
    settle(page)
    expect(code).to_contain_text("CELL = 'GRU'")

    # a number input: ArrowUp adds one (its + button is not in the Tab order)
    units = page.locator(f"{key('model_units')} input")
    count = page.locator("[data-testid=stMetricValue]").first
    before_units, before_count = int(units.input_value()), count.text_content()
    units.focus()
    page.keyboard.press("ArrowUp")
    expect(units).to_have_value(str(before_units + 1))
    settle(page)
    expect(count).not_to_have_text(before_count)
    expect(code).to_contain_text(re.compile(rf"UNITS = \[{before_units + 1}[,\]]"))


def test_a_chip_is_removed_from_the_keyboard(server, runs, page):
    """On Compare: Tab to the chips, ArrowRight to the second, Delete removes it for good."""
    open_page(page, server.url, "compare")
    chips = page.locator(f"{key('compare_runs')} [data-tag]")
    expect(chips).to_have_count(3)
    ids = [chips.nth(i).get_attribute("aria-label").rsplit(" · ", 1)[-1] for i in range(3)]
    chips.first.focus()
    page.keyboard.press("ArrowRight")
    expect(chips.nth(1)).to_be_focused()
    page.keyboard.press("Delete")
    left = [ids[0], ids[2]]
    expect(page).to_have_url(re.compile(rf"[?&]runs={ids[0]}(,|%2C){ids[2]}(&|$)"))
    settle(page)
    expect(chips).to_have_count(2)
    assert [chips.nth(i).get_attribute("aria-label").rsplit(" · ", 1)[-1]
            for i in range(2)] == left
