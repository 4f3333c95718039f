"""Bad files in a real browser: a sample of the bad-input corpus uploaded one after another, each
answered on the Data page, and every page drawn afterwards, with no exception box anywhere.

The whole corpus is checked page by page in tests/app/test_bad_input_pages.py (AppTest) and in
the CLI in tests/unit/test_bad_input_cli.py; this is the same through a real upload.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test_dashboard import go, key, wait_settled

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
# accepted with a note (dates read, values rescaled, ...) or refused with a message
SAMPLE = ("unix_milliseconds.csv", "tiny_values_1e-299.csv", "huge_values_1e39.csv",
          "all_rows_one_date.csv", "markdown_text_column_name.csv",
          "excel_cover_page_first.xlsx", "parquet_binary_not_utf8.parquet", "nul_bytes.csv")
PAGES = (("2 · Model", "Model"), ("3 · Train", "Train"), ("4 · Results", "Results"),
         ("5 · Gradients", "Gradients"), ("6 · Compare", "Compare runs"), ("Learn", "Learn"))


def no_exception(page) -> None:
    expect(page.locator("[data-testid=stException]")).to_have_count(0)


def test_a_sample_of_bad_files_never_shows_a_traceback(server, page, artifacts):
    page.goto(server.url)
    page.locator(f"{key('data_kind')} label").filter(has_text="My own file").click()
    answered = []
    for name in SAMPLE:
        uploader = page.locator(f"{key('data_upload')} input[type=file]")
        uploader.set_input_files(files=[{"name": name, "mimeType": "application/octet-stream",
                                         "buffer": (BAD / name).read_bytes()}])
        wait_settled(page)
        refused = page.locator("[data-testid=stAlertContentError]").filter(has_text=name)
        shown = page.get_by_text(f"Your data: {name}")        # this file, not the one before
        expect(refused.or_(shown).first).to_be_visible()
        no_exception(page)
        answered.append(name)
    assert answered == list(SAMPLE)
    page.screenshot(path=str(artifacts / "09-bad-uploads.png"), full_page=True)
    for link, heading in PAGES:        # the last file that loaded is the active dataset
        go(page, link, heading)
        no_exception(page)
