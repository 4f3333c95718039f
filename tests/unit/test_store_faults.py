"""Faults of the run store and the CLI: a damaged database, a read-only home, a dead foreground
run, a closed output pipe, the data size limit. Each ends in a message, never a traceback."""

from __future__ import annotations

import errno
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

from rnnlab import cli, jobs, lifecycle
from rnnlab.errors import DataError, StoreError
from rnnlab.store import (RunStatus, Store, StoreCorrupt, StoreReadOnly, storage_error)
from statuses import set_status

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def corrupt(home: Path) -> None:
    """Garbage bytes over the store's database (and no journal beside it)."""
    db = home / "rnnlab.sqlite"
    with open(db, "r+b") as handle:
        handle.write(os.urandom(8192))
    for extra in ("rnnlab.sqlite-wal", "rnnlab.sqlite-shm"):
        (home / extra).unlink(missing_ok=True)


def _store_with_runs(home: Path, n: int = 2) -> tuple[Store, list[str]]:
    store = Store(home)
    ids = [store.create_run({"n": i}, name=f"run {i}", epochs_total=3) for i in range(n)]
    set_status(store, ids[0], RunStatus.DONE)
    return store, ids


# -- a damaged database ---------------------------------------------------------------------------
def test_a_corrupt_store_is_named_corrupt_with_its_path_and_what_to_do(tmp_path):
    home = tmp_path / "home"
    store, ids = _store_with_runs(home)
    store.close()
    corrupt(home)
    with pytest.raises(StoreCorrupt) as caught:
        Store(home)
    message = str(caught.value)
    assert "damaged" in message and str(home / "rnnlab.sqlite") in message
    assert "Move it aside" in message and "kept" in message and str(home / "runs") in message
    assert "writable" not in message and "disk is not full" not in message
    assert (home / "runs" / ids[0]).is_dir()        # nothing is deleted


def test_a_store_damaged_after_it_opened_says_so_on_read(tmp_path):
    home = tmp_path / "home"
    store, _ = _store_with_runs(home)
    store.shrink_journal()
    data = bytearray((home / "rnnlab.sqlite").read_bytes())
    data[4096:] = b"\x55" * (len(data) - 4096)       # a valid header, garbage pages
    (home / "rnnlab.sqlite").write_bytes(bytes(data))
    store.close()                                    # the next read opens the file again
    with pytest.raises(StoreCorrupt, match="damaged"):
        store.list_runs()


def test_moving_the_damaged_file_aside_starts_afresh_and_keeps_the_folders(tmp_path):
    home = tmp_path / "home"
    _, ids = _store_with_runs(home)
    corrupt(home)
    aside = home / "damaged"
    aside.mkdir()
    for path in home.glob("rnnlab.sqlite*"):
        shutil.move(path, aside / path.name)
    store = Store(home)
    assert store.list_runs() == [] and (home / "runs" / ids[0]).is_dir()


def test_the_cli_names_a_corrupt_store_in_one_line(tmp_path):
    home = tmp_path / "home"
    _store_with_runs(home)
    corrupt(home)
    for argv in (["list"], ["show", "r20260101-000000-abcdef"]):
        code, out, err = run_cli("--home", str(home), *argv)
        assert code == cli.EXIT_ERROR and out == ""
        assert err.startswith("error: The run store's database") and "damaged" in err
        assert "Traceback" not in err and err.count("\n") == 1


# -- a read-only home -----------------------------------------------------------------------------
def _refuse_writes(monkeypatch) -> None:
    """Simulate a folder the server may not write (root ignores chmod): every writable open
    fails as SQLite fails on a read-only file."""
    def refuse(self):
        raise sqlite3.OperationalError("attempt to write a readonly database")
    monkeypatch.setattr(Store, "_prepare", refuse)


def test_a_read_only_store_shows_its_runs_and_refuses_writes_with_the_reason(tmp_path, monkeypatch):
    home = tmp_path / "home"
    _, ids = _store_with_runs(home)
    _refuse_writes(monkeypatch)
    store = Store(home)
    assert store.read_only and not store.writable()
    assert {r.id for r in store.list_runs()} == set(ids)
    assert store.get_run(ids[0]).status == RunStatus.DONE
    for write in (lambda: store.create_run({}), lambda: jobs.delete(store, ids[0]),
                  lambda: store.add_event(ids[1], "x", "y"),
                  lambda: lifecycle.cancel(store, ids[1])):
        with pytest.raises(StoreReadOnly, match="read-only") as caught:
            write()
        assert str(home) in str(caught.value) and "writable" in str(caught.value)
    assert (home / "runs" / ids[0]).is_dir()


def test_a_read_only_store_becomes_writable_once_fixed(tmp_path, monkeypatch):
    home = tmp_path / "home"
    _store_with_runs(home)
    _refuse_writes(monkeypatch)
    store = Store(home)
    assert store.read_only
    monkeypatch.undo()
    monkeypatch.setattr("rnnlab.store.db.WRITABLE_RECHECK_SECONDS", 0.0)
    assert store.writable() and not store.read_only
    store.create_run({"after": 1})
    assert len(store.list_runs()) == 3


def test_the_runner_does_nothing_on_a_read_only_store(tmp_path, monkeypatch):
    home = tmp_path / "home"
    store, ids = _store_with_runs(home)
    jobs.submit(store, __import__("rnnlab.config", fromlist=["RunConfig"]).RunConfig(),
                check_data=False)
    _refuse_writes(monkeypatch)
    ro = Store(home)
    runner = jobs.Runner(ro, concurrency=1, executor=jobs.InProcessExecutor())
    assert runner.tick() == [] and not (home / "runner.lock").exists()
    assert ro.count_by_status()[RunStatus.QUEUED] == 2


def test_the_cli_lists_a_read_only_store_and_explains_why_train_cannot_start(tmp_path,
                                                                               monkeypatch):
    home = tmp_path / "home"
    _, ids = _store_with_runs(home)
    _refuse_writes(monkeypatch)
    code, out, err = run_cli("--home", str(home), "list")
    assert code == 0 and ids[0] in out and err == ""
    for argv in (["train", "noisy_sine.csv"], ["submit", "noisy_sine.csv"], ["runner"]):
        code, out, err = run_cli("--home", str(home), *argv)
        assert code == cli.EXIT_ERROR, argv
        assert err.startswith("error: The run store at") and "is read-only" in err
        assert "can be trained" in err and "Traceback" not in err


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_a_really_read_only_home(tmp_path):
    """chmod for real, as a user whom it binds: ourselves, or `nobody` when we are root."""
    as_root = os.geteuid() == 0
    if as_root and shutil.which("setpriv") is None:
        pytest.skip("root ignores chmod and there is no setpriv to drop to another user")
    base = Path(tempfile.mkdtemp(prefix="rnnlab-ro-")) if as_root else tmp_path
    try:
        home = base / "home"
        _, ids = _store_with_runs(home)
        for path in [base, *home.rglob("*"), home]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if as_root \
            else []
        env = {**os.environ, "RNNLAB_HOME": str(home), "PYTHONPATH": str(ROOT)}

        def rnnlab(*argv):
            return subprocess.run([*prefix, sys.executable, "-m", "rnnlab.cli", *argv],
                                  capture_output=True, text=True, timeout=120, cwd=base, env=env)

        listed = rnnlab("list")
        if as_root and listed.returncode != 0 and "ermission denied" in listed.stderr:
            pytest.skip("user nobody cannot run this interpreter")
        assert listed.returncode == 0, listed.stderr
        assert ids[0] in listed.stdout and ids[1] in listed.stdout
        train = rnnlab("train", "noisy_sine.csv", "--target", "value")
        assert train.returncode == cli.EXIT_ERROR
        assert "is read-only" in train.stderr and "Traceback" not in train.stderr
    finally:
        for path in [base, *base.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        if as_root:
            shutil.rmtree(base, ignore_errors=True)


def test_unwritable_errors_are_not_advice_about_a_full_disk(tmp_path):
    readonly = storage_error(sqlite3.OperationalError("attempt to write a readonly database"),
                             tmp_path)
    assert isinstance(readonly, StoreReadOnly) and "not writable" in str(readonly)
    damaged = storage_error(sqlite3.DatabaseError("file is not a database"), tmp_path)
    assert isinstance(damaged, StoreCorrupt) and "disk is not full" not in str(damaged)
    assert isinstance(damaged, StoreError)


# -- a foreground run whose process died ----------------------------------------------------------
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _foreground_run(store: Store, pid: int, epochs_done: int = 2) -> str:
    """A run as a killed `rnnlab train` leaves it: running, its pid, some epochs."""
    run_id = lifecycle.create_running(store, {"model": {"cell": "lstm"}}, epochs_total=10)
    store.update_run(run_id, pid=pid, started_at=1.0, heartbeat_at=1.0)
    for epoch in range(1, epochs_done + 1):
        store.add_epoch(run_id, epoch, train_loss=1.0 / epoch)
    return run_id


def test_the_next_cli_start_marks_a_dead_foreground_run_interrupted(store):
    dead = _foreground_run(store, _dead_pid())
    alive = _foreground_run(store, os.getppid())      # a live process: left alone
    assert store.get_run(dead).eta is not None        # what `rnnlab list` showed before
    code, out, err = run_cli("list")
    assert code == 0, err
    assert store.get_run(dead).status == RunStatus.INTERRUPTED
    assert store.get_run(alive).status == RunStatus.RUNNING
    line = next(line for line in out.splitlines() if line.startswith(dead))
    assert "interrupted" in line and "2/10" in line
    assert "is gone" in store.get_run(dead).summary["message"]


def test_a_dead_foreground_run_can_be_resumed_at_once(store):
    run_id = _foreground_run(store, _dead_pid(), epochs_done=0)
    code, out, err = run_cli("resume", run_id)
    assert code == 0, err
    assert f"{run_id}: queued to continue from the start" in out
    assert store.get_run(run_id).status == RunStatus.QUEUED


def test_resume_here_takes_one_run(store):
    code, _, err = run_cli("resume", "r20260101-000000-abcdef", "r20260101-000000-abcdee",
                           "--here")
    assert code == cli.EXIT_ERROR and "one run at a time" in err


# -- a closed pipe ----------------------------------------------------------------------------------
def test_output_into_a_closed_pipe_ends_quietly(store):
    for i in range(30):
        store.create_run({"n": i}, name=f"run {i}")
    for argv in (["list"], ["show", store.list_runs()[0].id]):
        proc = subprocess.Popen([sys.executable, "-m", "rnnlab.cli", *argv], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.close()                           # the reader is gone before a byte is written
        err = proc.stderr.read().decode()
        proc.wait(timeout=60)
        assert "Traceback" not in err and "BrokenPipe" not in err, err
        assert proc.returncode == cli.EXIT_BROKEN_PIPE


def test_show_into_head_prints_its_first_lines(store):
    run_id = store.create_run({"pad": "x" * 100_000}, name="big")
    proc = subprocess.run(f"{sys.executable} -m rnnlab.cli show {run_id} | head -n 1",
                          shell=True, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.stdout.startswith(f"run       {run_id}")
    assert "Traceback" not in proc.stderr, proc.stderr


# -- the data size limit ----------------------------------------------------------------------------
def test_the_size_limit_is_the_same_figure_in_the_browser_and_the_cli(tmp_path):
    from rnnlab import data

    config = tomllib.loads((ROOT / ".streamlit/config.toml").read_text())
    assert config["server"]["maxUploadSize"] == data.MAX_UPLOAD_MB
    assert data.MAX_UPLOAD_BYTES == data.MAX_UPLOAD_MB * 1_000_000   # Streamlit's browser MB
    big = tmp_path / "big.csv"
    with open(big, "wb") as handle:
        handle.truncate(data.MAX_UPLOAD_BYTES + 1)                # sparse: no disk used
    code, out, err = run_cli("submit", str(big), "--target", "x", "--no-advice")
    assert code == cli.EXIT_ERROR
    assert f"the limit is {data.MAX_UPLOAD_MB} MB" in err and "big.csv is 200.0 MB" in err
    with pytest.raises(DataError, match=f"the limit is {data.MAX_UPLOAD_MB} MB"):
        data.check_size(data.MAX_UPLOAD_BYTES + 1, "x.csv")
    data.check_size(data.MAX_UPLOAD_BYTES, "x.csv")               # the limit itself is allowed


def test_the_browser_hides_tracebacks():
    config = tomllib.loads((ROOT / ".streamlit/config.toml").read_text())
    from streamlit.config import ShowErrorDetailsConfigOptions as Options

    assert config["client"]["showErrorDetails"] == Options.NONE.value
