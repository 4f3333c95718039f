"""The bad-input corpus through the Data page: every file gets its message, never a traceback.

One AppTest session uploads the corpus files one after another, as a stubborn analyst would.
User text (file names, column names) must be shown as text: the page escapes it for Markdown,
so the expected text is compared in its escaped form, and no element may allow raw HTML but the
app's own stylesheet.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from apphelpers import APP
from badcorpus import load_manifest
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
            assert md(case.report) in shown, (case.file, case.report)
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
