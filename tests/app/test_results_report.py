"""The Results page offers the run's HTML report, built only when its button is clicked."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from apphelpers import APP
from rnnlab import report


def open_results(run_id: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["run"] = run_id
    at.run()
    at.switch_page("views/results.py")
    at.run()
    return at


def test_the_report_button_is_deferred_and_the_page_never_builds_it(finished_runs, store,
                                                                    monkeypatch):
    built = []
    real = report.build_html
    monkeypatch.setattr(report, "build_html", lambda *a, **k: built.append(a) or real(*a, **k))
    at = open_results(finished_runs["lstm"])
    assert not at.exception, [e.value for e in at.exception]
    buttons = {b.proto.label: b for b in at.get("download_button")}
    button = buttons["Report (.html)"]
    assert not button.proto.disabled and button.proto.deferred_file_id
    assert built == []                               # nothing built while the page ran
    text = real(store, finished_runs["lstm"])        # what a click would download
    assert 'id="chart-loss"' in text and "tiny LSTM" in text


def test_a_failed_run_has_a_report_too(finished_runs, store):
    at = open_results(finished_runs["failed"])
    assert not at.exception
    assert "Report (.html)" in [b.proto.label for b in at.get("download_button")]
    assert "<h1>broken</h1>" in report.build_html(store, finished_runs["failed"])
