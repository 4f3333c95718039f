"""The bad-input corpus through the Data page: every file gets its message, never a traceback.

One AppTest session uploads the corpus files one after another, as a stubborn analyst would.
User text (file names, column names) must be shown as text: the page escapes it for Markdown,
so the expected text is compared in its escaped form, and no element may allow raw HTML but the
app's own stylesheet.
"""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

import json

from apphelpers import APP
from badcorpus import load_manifest, write_big_cases
from rnnlab.ui import md

CASES = load_manifest()


def _upload_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.radio(key="data_kind").set_value("My own file").run()
    return at


def _shown(at: AppTest) -> str:
    parts = [e.value for e in (*at.error, *at.markdown, *at.caption, *at.info, *at.warning)]
    return "\n".join(str(p) for p in parts)


def _html_elements(at: AppTest) -> list[str]:
    return [e.value for e in at.markdown if e.proto.allow_html]


def test_every_corpus_file_gets_its_message_on_the_page(home):
    at = _upload_page()
    seen = []
    for case in CASES:
        at.file_uploader(key="data_upload").set_value(
            (case.file, case.path.read_bytes(), "application/octet-stream")).run()
        assert not at.exception, (case.file, [e.value for e in at.exception])
        shown = _shown(at)
        if case.ok:
            assert not at.error, (case.file, [e.value for e in at.error])
            # the page leaves out pandas' frequency code ("(frequency MS)"): the words say it
            report = re.sub(r" \(frequency [^)\s]+\)", "", case.report)
            assert md(report) in shown, (case.file, report)
        else:
            assert at.error, f"{case.file}: no error shown"
            assert md(case.message) in at.error[0].value, (case.file, at.error[0].value)
        seen.append(case.file)
    assert len(seen) == len(CASES) >= 40


@pytest.mark.parametrize("column", ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>",
                                    "**x**"])
def test_a_hostile_column_name_is_shown_as_text(home, column):
    at = _upload_page()
    body = f"date,{column}\n" + "".join(f"2024-01-{d:02d},{d * 1.5}\n" for d in range(1, 29))
    at.file_uploader(key="data_upload").set_value(("evil.csv", body.encode(), "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="data_target").value == column, "the name is kept verbatim"
    for page in ("views/model.py", "views/train.py"):
        at.switch_page(page).run()
        assert not at.exception
        shown = _shown(at)
        assert column not in shown, f"{page} shows the raw name where Markdown would render it"
        assert all(column not in html for html in _html_elements(at))


@pytest.mark.parametrize("name", ["header_name_of_140000_characters.csv",
                                  "nine_thousand_nine_hundred_ninety_nine_columns.csv"])
def test_generated_big_cases_get_their_message_on_the_page(home, tmp_path, name):
    (case,) = write_big_cases(tmp_path, [name])
    at = _upload_page()
    raw = open(case.file, "rb").read()
    at.file_uploader(key="data_upload").set_value((name, raw, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    if case.ok:
        assert not at.error, [e.value for e in at.error]
        assert md(case.report) in _shown(at)
    else:
        assert at.error and md(case.message) in at.error[0].value, at.error[0].value


def test_a_wide_file_draws_twelve_columns_and_says_how_to_choose(home, tmp_path):
    (case,) = write_big_cases(tmp_path, ["nine_thousand_nine_hundred_ninety_nine_columns.csv"])
    at = _upload_page()
    raw = open(case.file, "rb").read()
    at.file_uploader(key="data_upload").set_value(("wide.csv", raw, "text/csv")).run()
    assert not at.exception and not at.error
    shown = _shown(at)
    assert "Showing 12 of 9,998 columns; choose the columns to plot in “Columns to plot” above." in shown
    assert "all 60 rows and 50 of 9,998 columns (those plotted first)" in shown
    (chart,) = [e for e in at.get("plotly_chart") if e.key == "data_series_chart"] or \
        [e for e in at.get("plotly_chart")][:1]
    spec = json.loads(chart.proto.spec)
    lines = [t for t in spec["data"] if t.get("type", "scatter") == "scatter" and t.get("name")]
    assert len({t["name"] for t in lines}) <= 12
    assert len(chart.proto.spec) < 1_000_000
    picker = at.multiselect(key="data_plot_columns")
    assert picker.value[:3] == ["c1", "c2", "c3"] and len(picker.value) == 12
    picker.set_value(["c500", "c9998"]).run()
    assert not at.exception
    names = {t.get("name") for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]}
    assert {"c1", "c500", "c9998"} <= names and "c2" not in names
    assert "Showing 3 of 9,998 columns" in _shown(at)


def test_a_text_column_name_is_not_rendered_as_markdown_in_its_label(home):
    at = _upload_page()
    body = "date,value,**bold** _it_\n" + "".join(f"2024-01-{d:02d},{d * 1.5},{'ab'[d % 2]}\n"
                                                  for d in range(1, 29))
    at.file_uploader(key="data_upload").set_value(("cats.csv", body.encode(), "text/csv")).run()
    assert not at.exception and not at.error
    label = at.selectbox(key="data_categorical").label
    assert md("**bold** _it_") in label and "**bold**" not in label
