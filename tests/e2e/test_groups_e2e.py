"""Run groups in a real browser: a seeds group trained end to end from the Train page, and the
Compare page that ranks no runs across two datasets."""

from __future__ import annotations

import re

import pytest

from test_dashboard import TRAIN_TIMEOUT, go, key, set_number, wait_settled

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect


def test_a_seeds_group_trains_and_shows_its_spread(server, page, artifacts):
    page.goto(server.url)
    expect(page.get_by_text("Your data: Noisy sine wave")).to_be_visible()
    go(page, "2 · Model", "Model")
    set_number(page, "model_layers", 1)
    set_number(page, "model_units", 4)
    set_number(page, "model_lookback", 10)
    set_number(page, "train_epochs", 2)
    wait_settled(page)
    go(page, "3 · Train", "Train")
    page.locator(f"{key('runs_seeds')}").click()
    page.get_by_role("option", name="× 3 seeds").click()
    wait_settled(page)
    page.locator(f"{key('runs_submit')} button").first.click()
    # the whole group finished: the sentence ends without "still queued or training"
    sentence = page.get_by_text(re.compile(r"\d of 3 seeds beat the naive forecast; median "
                                           r"skill [+−]\d\.\d\d \([+−]\d\.\d\d … "
                                           r"[+−]\d\.\d\d\)\.$"))
    expect(sentence.first).to_be_visible(timeout=3 * TRAIN_TIMEOUT)
    wait_settled(page)
    page.screenshot(path=str(artifacts / "groups-seeds-train.png"), full_page=True)


def test_compare_ranks_no_runs_across_two_datasets(server, page, artifacts):
    from apphelpers import add_finished_run
    from groupfake import add_seed_group, group_config
    from rnnlab.store import Store

    store = Store(server.home)
    a = add_finished_run(store, "sine", rmse=0.1)
    _, (b, _) = add_seed_group(store, [0.05, 0.05],
                               cfg=group_config("co2", source="co2.csv", target="co2"))
    page.goto(f"{server.url}/compare?runs={a},{b}")
    expect(page.get_by_text(re.compile("No best run")).first).to_be_visible()
    expect(page.get_by_text(re.compile("cannot be ranked")).first).to_be_visible()
    expect(page.get_by_text(re.compile("^Best run:"))).to_have_count(0)
    wait_settled(page)
    page.screenshot(path=str(artifacts / "groups-compare-two-datasets.png"), full_page=True)
