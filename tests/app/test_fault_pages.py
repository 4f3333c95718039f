"""Faults under the dashboard: a damaged or read-only run store, a full disk during an upload, a
damaged predictions file, a bug in a page. Each shows a message; none an exception element."""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from apphelpers import APP, add_finished_run
from rnnlab import ui
from rnnlab.store import Store

CSV = "date,value\n" + "".join(f"2024-01-{d:02d},{d * 1.5}\n" for d in range(1, 29))


def open_page(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def shown(at: AppTest) -> str:
    parts = [e.value for e in (*at.error, *at.warning, *at.info, *at.markdown, *at.caption,
                               *at.title, *at.success)]
    return "\n".join(str(p) for p in parts)


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture(autouse=True)
def _no_debug(home, monkeypatch):
    """The shipped behaviour: the `home` fixture lets tracebacks through for the other tests."""
    monkeypatch.delenv("RNNLAB_DEBUG", raising=False)


# -- a damaged store ------------------------------------------------------------------------------
def test_a_corrupt_store_is_named_on_every_page(home, store):
    add_finished_run(store)
    store.close()
    with open(home / "rnnlab.sqlite", "r+b") as handle:
        handle.write(os.urandom(8192))
    for extra in ("rnnlab.sqlite-wal", "rnnlab.sqlite-shm"):
        (home / extra).unlink(missing_ok=True)
    try:
        at = open_page()
        for page in (None, "views/results.py", "views/train.py"):
            if page:
                at.switch_page(page).run()
            no_exception(at)
            assert at.title[0].value == "The run store cannot be opened"
            message = at.error[0].value
            assert "damaged" in message and ui.md(home / "rnnlab.sqlite") in message
            assert "Move it aside" in message and "kept" in message
            assert "writable" not in message
    finally:  # the fixture's teardown opens the store: as after moving the file aside
        for path in home.glob("rnnlab.sqlite*"):
            path.unlink()


# -- a read-only store ----------------------------------------------------------------------------
@pytest.fixture
def read_only(home, store, monkeypatch):
    """Finished runs in a store the server may not write (simulated: root ignores chmod)."""
    ids = [add_finished_run(store, "tiny LSTM"), add_finished_run(store, "second", rmse=0.2)]

    def refuse(self):
        raise sqlite3.OperationalError("attempt to write a readonly database")
    monkeypatch.setattr(Store, "_prepare", refuse)
    return ids


def test_a_read_only_store_still_shows_its_runs(read_only):
    at = open_page("views/results.py")
    no_exception(at)
    assert not at.error
    assert at.dataframe, "the metrics table of the run"
    assert any("read-only" in w.value for w in at.sidebar.warning)
    at.switch_page("views/compare.py").run()
    no_exception(at)


def test_the_train_page_explains_why_training_cannot_start(read_only, home):
    at = open_page("views/train.py")
    no_exception(at)
    warning = next(w.value for w in at.warning if "Training cannot start" in w.value)
    assert ui.md("read-only") in warning and ui.md(home) in warning and "writable" in warning
    keys = {b.key for b in at.button}
    assert "runs_submit" not in keys
    assert not any(k and k.startswith(("runs_delete_", "runs_resume_")) for k in keys)
    assert "tiny LSTM" in shown(at)                    # the runs are listed


# -- a full disk during an upload ----------------------------------------------------------------
def _fail_upload_writes(monkeypatch, after: int = 10) -> None:
    """Writes to a file under uploads/ fail with ENOSPC after `after` bytes (a full disk)."""
    real = os.write

    def write(fd, data):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            target = ""
        if "/uploads/" in target:
            written = os.fstat(fd).st_size
            if written + len(data) > after:
                real(fd, bytes(data[:max(0, after - written)]))
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)
    monkeypatch.setattr(os, "write", write)


def _uploaded_files(home: Path) -> list[Path]:
    return sorted(p for p in (home / "uploads").rglob("*") if p.is_file()) \
        if (home / "uploads").exists() else []


def test_a_full_disk_during_an_upload_says_so_and_leaves_nothing(home, monkeypatch):
    at = open_page()
    at.radio(key="data_kind").set_value("My own file").run()
    _fail_upload_writes(monkeypatch)
    at.file_uploader(key="data_upload").set_value(("mine.csv", CSV.encode(), "text/csv")).run()
    no_exception(at)
    assert ui.md(ui.UPLOAD_DISK_FULL) in [e.value for e in at.error]
    assert _uploaded_files(home) == []                 # no empty, short or temporary file

    monkeypatch.undo()                                  # space freed: the same file is fine now
    monkeypatch.delenv("RNNLAB_DEBUG", raising=False)
    monkeypatch.setenv("RNNLAB_HOME", str(home))
    monkeypatch.setenv("RNNLAB_EXECUTOR", "inprocess")
    at.run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    files = _uploaded_files(home)
    assert [f.name for f in files] == ["mine.csv"] and files[0].read_bytes() == CSV.encode()
    assert at.session_state["run_config"]["data"]["source"] == str(files[0])


def test_a_short_file_left_by_an_old_failure_is_written_again(home, store):
    import hashlib

    folder = home / "uploads" / hashlib.sha256(CSV.encode()).hexdigest()[:16]
    folder.mkdir(parents=True)
    (folder / "mine.csv").write_bytes(b"")             # what a full disk used to leave
    at = open_page()
    at.radio(key="data_kind").set_value("My own file").run()
    at.file_uploader(key="data_upload").set_value(("mine.csv", CSV.encode(), "text/csv")).run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert (folder / "mine.csv").read_bytes() == CSV.encode()


def test_save_upload_is_atomic_and_cleans_up(home, monkeypatch):
    _fail_upload_writes(monkeypatch, after=5)
    with pytest.raises(ui.RnnlabError, match="disk is full"):
        ui.save_upload(CSV.encode(), "a b.csv")
    assert _uploaded_files(home) == []
    monkeypatch.undo()
    monkeypatch.setenv("RNNLAB_HOME", str(home))
    path = ui.save_upload(CSV.encode(), "a b.csv")
    assert path.name == "a_b.csv" and path.read_bytes() == CSV.encode()
    path.write_bytes(CSV.encode()[:-3] + b"xyz")        # same size, other content: damaged
    assert ui.save_upload(CSV.encode(), "a b.csv").read_bytes() == CSV.encode()
    assert _uploaded_files(home) == [path]


# -- a damaged predictions file -------------------------------------------------------------------
@pytest.mark.parametrize("content", [
    b"\x00\xff\xfe garbage \"unclosed\n" + os.urandom(2000),
    b"",
    b"a,b\n1,2\n",
    b"split,kind,timestamp,step,actual,model,naive\ntest,one-step-ahead,not a date,1,x,y,z\n",
], ids=["garbage", "empty", "other-columns", "bad-values"])
def test_a_damaged_predictions_file_is_named_and_the_rest_of_the_page_shows(home, store, content):
    run_id = add_finished_run(store)
    store.artefact(run_id, "predictions.csv").write_bytes(content)
    at = open_page("views/results.py")
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    warning = next(w.value for w in at.warning if "predictions.csv" in w.value)
    assert "damaged" in warning and ui.md(store.run_dir(run_id)) in warning
    assert at.dataframe, "the scores (from the store) are still shown"
    keys = {b.key for b in at.get("download_button")}
    assert "results_dl_config" in keys                  # the downloads further down too


# -- the last-resort handler -----------------------------------------------------------------------
class _Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def test_a_bug_in_a_page_is_a_short_message_and_a_logged_traceback(home, store, monkeypatch):
    add_finished_run(store)
    from rnnlab import figures

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")
    monkeypatch.setattr(figures, "loss_figure", broken)
    records = _Records()
    logger = logging.getLogger("rnnlab.app")
    logger.addHandler(records)
    try:
        at = open_page("views/results.py")
    finally:
        logger.removeHandler(records)
    no_exception(at)
    message = at.error[-1].value
    assert "RuntimeError" in message and "the details are in the server log" in message
    assert "secret internal detail" not in shown(at)
    assert any(r.exc_info and "secret internal detail" in str(r.exc_info[1])
               for r in records.records)
    assert at.sidebar.markdown, "the sidebar is still drawn"


def test_stop_and_switch_page_pass_through_the_handler(home):
    at = open_page("views/results.py")               # no runs: the page calls st.stop()
    no_exception(at)
    assert not at.error
    assert any("No runs yet" in i.value for i in at.info)


def test_rnnlab_debug_lets_the_traceback_through(home, store, monkeypatch):
    add_finished_run(store)
    from rnnlab import figures

    monkeypatch.setattr(figures, "loss_figure", lambda *a, **k: 1 / 0)
    monkeypatch.setenv("RNNLAB_DEBUG", "1")
    at = open_page("views/results.py")
    assert at.exception     # Streamlit's own element (its text redacted by showErrorDetails)
    assert not any("server log" in e.value for e in at.error)
