"""Browser tests: `streamlit run` on a free port, Debian's Chromium driven by Playwright.

The server gets its own RNNLAB_HOME in a temporary folder. Readiness is waited on through
/_stcore/health and on page elements, never with fixed sleeps.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import types
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# the page tests' helpers fill a server's store with finished runs: importable on their own too
sys.path.insert(0, str(ROOT / "tests" / "app"))
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
START_TIMEOUT = 90.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = START_TIMEOUT) -> None:
    """Poll /_stcore/health until it answers 'ok'; fail early if the server died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200 and resp.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        try:
            proc.wait(timeout=0.25)  # wakes at once if the server dies
        except subprocess.TimeoutExpired:
            pass
    raise TimeoutError(f"streamlit did not become healthy within {timeout:.0f} s")


@contextlib.contextmanager
def streamlit_server(home: Path, script: str = "app.py", env: dict | None = None,
                     args: tuple = ()):
    """`streamlit run SCRIPT` (app.py, or serve.py: app.py behind its gate, what `make run`
    starts) on a free port, with RNNLAB_HOME at `home` and `env` on top; yields .url, .port,
    .pid and .home, and stops the server afterwards."""
    port = free_port()
    full_env = {**os.environ, "RNNLAB_HOME": str(home), "RNNLAB_EXECUTOR": "process",
                "RNNLAB_CONCURRENCY": "1", **(env or {})}
    log = open(home / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / script),
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false", *args],
        cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield types.SimpleNamespace(url=url, port=port, pid=proc.pid, home=home)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The dashboard served by `streamlit run app.py` with a fresh run store (one server per
    test module); yields .url and .home."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with streamlit_server(tmp_path_factory.mktemp("rnnlab-home")) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium (Playwright cannot download browsers here)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_api.expect.set_options(timeout=30_000)  # a shared 2-core machine: be patient, not flaky
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh tab at a projector-friendly size."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/ (gitignored): screenshots of every page."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
