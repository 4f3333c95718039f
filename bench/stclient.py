"""A minimal Streamlit client: opens the app's websocket and times full script runs of a page.

It speaks Streamlit's own protocol (the protobuf messages shipped with the streamlit package),
the way a browser tab does: connect to /_stcore/stream, ask for a script run of a page, and wait
for `script_finished`. No browser is needed, so dozens of simulated users fit on this machine.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect as ws_connect

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """An unused TCP port on localhost."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`streamlit run app.py` on a free port with its own RNNLAB_HOME; a context manager."""

    def __init__(self, home: Path, env: dict | None = None, app: Path = ROOT / "app.py"):
        self.home, self.port, self.app = Path(home), free_port(), Path(app)
        self.env = {**os.environ, "RNNLAB_HOME": str(home), **(env or {})}
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(self.app),
             "--server.port", str(self.port), "--server.headless", "true",
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("streamlit did not become healthy within 60 s")

    def __exit__(self, *exc) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(20)

    @property
    def url(self) -> str:
        """The server's base address."""
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far, seconds."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        """The server process's current resident memory, MB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


class Session:
    """One browser tab's worth of protocol: connect, then run pages and time them."""

    def __init__(self, server: Server):
        self.server = server
        self.ws = None
        self.fragments: dict[str, float] = {}   # the current page's self-refreshing fragments
        self.page_hash = ""

    async def connect(self) -> None:
        """Open the websocket and wait for the first run (the default page) to finish."""
        url = f"ws://127.0.0.1:{self.server.port}/_stcore/stream"
        self.ws = await ws_connect(url, subprotocols=["streamlit"], max_size=None)
        await self.run_page("")

    async def run_page(self, url_path: str, query: str = "") -> tuple[float, int]:
        """Ask for a script run of a page; (seconds until script_finished, deltas received).
        The page's self-refreshing fragments (`st.fragment(run_every=...)`) are recorded in
        `self.fragments` (fragment id -> seconds between refreshes), as a browser tab keeps
        them, and the page's script hash in `self.page_hash`."""
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = url_path
        self.fragments = {}
        return await self._until_finished(msg)

    async def run_fragment(self, fragment_id: str) -> tuple[float, int]:
        """One automatic refresh of a fragment of the current page, as the browser sends it."""
        msg = BackMsg()
        msg.rerun_script.page_script_hash = self.page_hash
        msg.rerun_script.fragment_id = fragment_id
        msg.rerun_script.is_auto_rerun = True
        return await self._until_finished(msg)

    async def _until_finished(self, msg: BackMsg) -> tuple[float, int]:
        start = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        deltas = 0
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout=60)
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            deltas += kind == "delta"
            if kind == "auto_rerun":
                self.fragments[fwd.auto_rerun.fragment_id] = fwd.auto_rerun.interval
            elif kind == "stop_auto_rerun":
                for fragment_id in fwd.stop_auto_rerun.fragment_ids:
                    self.fragments.pop(fragment_id, None)
            elif kind == "navigation" and fwd.navigation.page_script_hash:
                self.page_hash = fwd.navigation.page_script_hash
            elif kind == "new_session" and fwd.new_session.page_script_hash:
                self.page_hash = fwd.new_session.page_script_hash
            if kind == "script_finished":
                return time.perf_counter() - start, deltas

    async def close(self) -> None:
        """Close the websocket."""
        if self.ws is not None:
            await self.ws.close()
