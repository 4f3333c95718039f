"""The password gate in front of the whole web server, and the upload memory budget.

`serve.py` (what `make run` starts) serves `app.py` through `st.App` with `Gate` as its outermost
ASGI middleware, so every request passes here before Streamlit sees it:

- With RNNLAB_PASSWORD set, nothing but the login page (`/rnnlab/login`) and the health check
  (`/_stcore/health`, which only answers "ok") is served to a client without a valid sign-in
  cookie: pages redirect to the login page, the websocket (script runs), uploads, media,
  components and static files are refused with 401/403. The cookie is an HMAC of its issue time
  under a random secret made when the server starts (a restart signs everyone out); HttpOnly,
  SameSite=Strict, valid for `SESSION_HOURS`.
- Wrong passwords are limited per client address (`Limiter`): each failure makes the client wait
  longer before the next attempt is even checked (1 s, 2 s, 4 s, ...), and `RNNLAB_LOGIN_ATTEMPTS`
  failures lock the address out for `RNNLAB_LOGIN_LOCKOUT_MINUTES`.
- Uploads (with or without a password) count against a per-session and a per-server budget
  (`RNNLAB_UPLOAD_SESSION_MB`, `RNNLAB_UPLOAD_TOTAL_MB`): what Streamlit already holds in memory
  plus the uploads in flight. Files left by sessions that no longer exist (a closed tab whose
  session expired: Streamlit drops such sessions without freeing their files) are released.

Standard library only at import time (the web process never imports TensorFlow); Starlette and
Streamlit are imported where used.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import math
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qs, quote, urlsplit

PASSWORD_ENV = "RNNLAB_PASSWORD"
ATTEMPTS_ENV = "RNNLAB_LOGIN_ATTEMPTS"
LOCKOUT_ENV = "RNNLAB_LOGIN_LOCKOUT_MINUTES"
SESSION_BUDGET_ENV = "RNNLAB_UPLOAD_SESSION_MB"
TOTAL_BUDGET_ENV = "RNNLAB_UPLOAD_TOTAL_MB"
DEFAULT_ATTEMPTS = 10
DEFAULT_LOCKOUT_MINUTES = 5.0
DEFAULT_SESSION_MB = 250
DEFAULT_TOTAL_MB = 750
MB = 1024 * 1024

COOKIE = "rnnlab_auth"
SESSION_HOURS = 12                     # a school day; then the password is asked again
LOGIN_PATH = "/rnnlab/login"
OPEN_PATHS = frozenset({LOGIN_PATH, "/_stcore/health"})
UPLOAD_PATH = re.compile(r"^/_stcore/upload_file/([^/]+)/([^/]+)$")
MAX_FORM_BYTES = 4096                  # the login form: a password and a path
FIRST_DELAY_S = 1.0                    # the wait after the first wrong password, doubled after each
MAX_DELAY_S = 60.0
REAP_EVERY_S = 30.0

_SECRET = secrets.token_bytes(32)      # per server process: cookies die with the server
_active = False                        # set once a Gate wraps the server in this process


def active() -> bool:
    """True in a server started through the gate (`serve.py`), False under `streamlit run app.py`."""
    return _active


def _env_number(name: str, default: float, minimum: float) -> float:
    try:
        value = float(os.environ.get(name, "") or default)
    except ValueError:
        return default
    return value if math.isfinite(value) and value >= minimum else default


# -- the sign-in cookie -------------------------------------------------------------------------
def sign(issued: float | None = None, *, secret: bytes | None = None) -> str:
    """A cookie value: 'v1.<issue time>.<HMAC-SHA256 of the rest under the server's secret>'."""
    body = f"v1.{int(time.time() if issued is None else issued)}"
    mac = hmac.new(secret or _SECRET, body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def verify(value: str | None, *, now: float | None = None, secret: bytes | None = None,
           max_age: float = SESSION_HOURS * 3600) -> bool:
    """True for a cookie this server signed that is not older than max_age (nor from the future)."""
    if not value or len(value) > 200:
        return False
    parts = value.split(".")
    if len(parts) != 3 or parts[0] != "v1" or not parts[1].isdigit():
        return False
    body = f"{parts[0]}.{parts[1]}"
    expected = hmac.new(secret or _SECRET, body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts[2]):
        return False
    age = (time.time() if now is None else now) - int(parts[1])
    return -60 <= age <= max_age


def password_matches(given: str, expected: str) -> bool:
    """Constant-time comparison (of digests, so the lengths leak nothing either)."""
    digest = lambda s: hashlib.sha256(s.encode("utf-8", "surrogatepass")).digest()  # noqa: E731
    return bool(expected) and hmac.compare_digest(digest(given), digest(expected))


# -- wrong passwords ----------------------------------------------------------------------------
@dataclass
class _Client:
    failures: int = 0
    last_failure: float = 0.0
    next_try: float = 0.0
    locked_until: float = 0.0


@dataclass(frozen=True)
class Verdict:
    """May this client's password be checked now? If not: why, and for how many seconds."""
    allowed: bool
    reason: str = ""       # "locked" or "wait"
    retry_after: float = 0.0


class Limiter:
    """Wrong passwords per client address: after the n-th failure the client must wait
    first_delay * 2**(n-1) seconds (at most max_delay) before its next attempt is checked
    (attempts sooner are refused unchecked, so parallel guesses gain nothing); the attempts-th
    failure locks it out for lockout seconds. Failures are forgotten after lockout seconds
    without one, and on a right password."""

    def __init__(self, attempts: int = DEFAULT_ATTEMPTS, lockout: float = DEFAULT_LOCKOUT_MINUTES * 60,
                 *, first_delay: float = FIRST_DELAY_S, max_delay: float = MAX_DELAY_S,
                 clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000):
        self.attempts, self.lockout = max(1, int(attempts)), float(lockout)
        self.first_delay, self.max_delay = first_delay, max_delay
        self.clock, self.max_clients = clock, max_clients
        self._clients: dict[str, _Client] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> "Limiter":
        return cls(int(_env_number(ATTEMPTS_ENV, DEFAULT_ATTEMPTS, 1)),
                   _env_number(LOCKOUT_ENV, DEFAULT_LOCKOUT_MINUTES, 0) * 60)

    def check(self, client: str) -> Verdict:
        with self._lock:
            now = self.clock()
            state = self._clients.get(client)
            if state is None:
                return Verdict(True)
            if now < state.locked_until:
                return Verdict(False, "locked", state.locked_until - now)
            if now < state.next_try:
                return Verdict(False, "wait", state.next_try - now)
            if state.locked_until or now - state.last_failure >= self.lockout:
                del self._clients[client]  # served its lockout, or quiet long enough: a new start
            return Verdict(True)

    def failed(self, client: str) -> Verdict:
        """Record a wrong password; return what the client now has to wait for."""
        with self._lock:
            now = self.clock()
            if len(self._clients) >= self.max_clients:
                self._prune(now)
            state = self._clients.setdefault(client, _Client())
            state.failures += 1
            state.last_failure = now
            if state.failures >= self.attempts:
                state.locked_until = now + self.lockout
                return Verdict(False, "locked", self.lockout)
            delay = min(self.first_delay * 2 ** (state.failures - 1), self.max_delay)
            state.next_try = now + delay
            return Verdict(False, "wait", delay)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._clients.pop(client, None)

    def _prune(self, now: float) -> None:
        stale = [k for k, s in self._clients.items()
                 if now >= s.locked_until and now - s.last_failure >= self.lockout]
        for key in stale:
            del self._clients[key]
        while len(self._clients) >= self.max_clients:  # still full: forget the oldest
            del self._clients[next(iter(self._clients))]


def refusal_text(verdict: Verdict) -> str:
    """The sentence shown for a refused attempt."""
    if verdict.reason == "locked":
        minutes = max(1, math.ceil(verdict.retry_after / 60))
        return (f"Too many wrong passwords from this computer; try again in {minutes} "
                f"minute{'s' if minutes != 1 else ''}, or ask your teacher.")
    seconds = max(1, math.ceil(verdict.retry_after))
    return f"Please wait {seconds} second{'s' if seconds != 1 else ''} before trying again."


# -- upload budget ------------------------------------------------------------------------------
class UploadBudget:
    """Bytes of uploads a session and the whole server may hold: what the upload manager holds
    plus what is being received now (each upload's Content-Length, reserved until it is stored)."""

    def __init__(self, session_bytes: int, total_bytes: int):
        self.session_bytes, self.total_bytes = session_bytes, total_bytes
        self._in_flight: dict[str, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> "UploadBudget":
        return cls(int(_env_number(SESSION_BUDGET_ENV, DEFAULT_SESSION_MB, 0) * MB),
                   int(_env_number(TOTAL_BUDGET_ENV, DEFAULT_TOTAL_MB, 0) * MB))

    def reserve(self, session: str, size: int, held_session: int, held_total: int) -> str | None:
        """Reserve size bytes for an upload; None when it fits, else why not (a sentence)."""
        with self._lock:
            flying_session = self._in_flight.get(session, 0)
            flying_total = sum(self._in_flight.values())
            if held_session + flying_session + size > self.session_bytes:
                return (f"Upload refused: this browser tab may hold {self.session_bytes / MB:.0f} MB "
                        "of uploads at a time. Remove a file first, or use a smaller one.")
            if held_total + flying_total + size > self.total_bytes:
                return (f"Upload refused: the server's {self.total_bytes / MB:.0f} MB for uploads "
                        "is in use by other students. Try again in a few minutes.")
            self._in_flight[session] = flying_session + size
            return None

    def release(self, session: str, size: int) -> None:
        with self._lock:
            left = self._in_flight.get(session, 0) - size
            if left > 0:
                self._in_flight[session] = left
            else:
                self._in_flight.pop(session, None)


class StreamlitUploads:
    """What the budget needs from Streamlit's runtime: bytes held per session and in all, and
    which sessions still exist (active, or disconnected but still resumable)."""

    @staticmethod
    def _runtime():
        from streamlit.runtime import Runtime

        return Runtime.instance() if Runtime.exists() else None

    def _manager(self):
        runtime = self._runtime()
        manager = getattr(runtime, "uploaded_file_mgr", None) if runtime else None
        return manager if hasattr(manager, "file_storage") else None

    def held(self, session: str) -> tuple[int, int]:
        manager = self._manager()
        if manager is None:
            return 0, 0
        with manager._lock:
            files = manager.file_storage.get(session) or {}
            return sum(len(f.data) for f in files.values()), int(manager._total_bytes)

    def session_exists(self, session: str) -> bool:
        runtime = self._runtime()
        if runtime is None:
            return False
        sessions = getattr(runtime, "_session_mgr", None)
        if sessions is not None and hasattr(sessions, "get_session_info"):
            return sessions.get_session_info(session) is not None
        return runtime.is_active_session(session)

    def reap(self) -> int:
        """Release the files of sessions that no longer exist; return how many sessions."""
        manager = self._manager()
        if manager is None:
            return 0
        with manager._lock:
            owners = list(manager.file_storage.keys())
        gone = [sid for sid in owners if not self.session_exists(sid)]
        for sid in gone:
            manager.remove_session_files(sid)
        return len(gone)


# -- the login page -----------------------------------------------------------------------------
LOGIN_CSS = """
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
 background:#f6f7fb;color:#1f2330;font-family:"Source Sans Pro","Segoe UI",Roboto,
 "Helvetica Neue",Arial,sans-serif}
main{background:#fff;border:1px solid #e3e6ee;border-radius:12px;padding:2.2rem 2.4rem;
 width:min(92vw,380px);box-shadow:0 4px 18px rgba(31,35,48,.06)}
h1{margin:0 0 .4rem;font-size:1.9rem;font-weight:700}
p{margin:0 0 1.3rem;color:#4a5065;line-height:1.45}
label{display:block;font-size:.95rem;margin-bottom:.35rem}
input[type=password]{width:100%;padding:.6rem .7rem;font-size:1rem;border:1px solid #c9cedb;
 border-radius:8px;background:#fbfcfe}
input[type=password]:focus{outline:2px solid #2f6fde;outline-offset:1px;border-color:#2f6fde}
button{margin-top:1rem;width:100%;padding:.65rem;font-size:1rem;font-weight:600;color:#fff;
 background:#2f6fde;border:0;border-radius:8px;cursor:pointer}
button:hover{background:#2459b8}
.error{margin:0 0 1rem;padding:.6rem .75rem;border-radius:8px;background:#fdecec;color:#8a1f1f;
 font-size:.95rem}
"""


def login_page(next_path: str = "/", message: str = "") -> str:
    """The login page: self-contained (inline CSS, no scripts, no external resources)."""
    error = f'<div class="error" role="alert">{html.escape(message)}</div>' if message else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>RNN Lab · sign in</title><style>{LOGIN_CSS}</style></head>
<body><main>
<h1>RNN Lab</h1>
<p>This server is shared: ask your teacher for the password.</p>
{error}<form method="post" action="{html.escape(LOGIN_PATH)}">
<input type="hidden" name="next" value="{html.escape(next_path)}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password"
 autofocus required>
<button type="submit">Open RNN Lab</button>
</form></main></body></html>"""


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this server, never another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(c) < 32 for c in value) or urlsplit(value).netloc:
        return "/"
    return value


# -- the middleware -----------------------------------------------------------------------------
SECURITY_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy",
     b"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"),
]


class Gate:
    """Pure ASGI middleware (HTTP and websocket): the password gate and the upload budget."""

    def __init__(self, app: Any, *, password: str | None = None, limiter: Limiter | None = None,
                 budget: UploadBudget | None = None, uploads: Any = None,
                 base_path: str | None = None):
        global _active
        self.app = app
        self.password = os.environ.get(PASSWORD_ENV, "") if password is None else password
        self.limiter = limiter or Limiter.from_env()
        self.budget = budget or UploadBudget.from_env()
        self.uploads = uploads or StreamlitUploads()
        self._base = base_path
        self._reaper: asyncio.Task | None = None
        _active = True

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def base(self) -> str:
        if self._base is None:
            try:
                from streamlit import config

                self._base = "/" + (config.get_option("server.baseUrlPath") or "").strip("/")
            except Exception:  # noqa: BLE001 - outside a Streamlit server: no prefix
                self._base = "/"
            self._base = self._base.rstrip("/")
        return self._base

    def _route(self, scope: dict) -> str | None:
        """The request's path without the base URL path (None: outside it)."""
        path = scope.get("path", "/")
        if not self.base:
            return path
        if path == self.base or path.startswith(self.base + "/"):
            return path[len(self.base):] or "/"
        return None

    @staticmethod
    def _cookies(scope: dict) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    key, _, val = part.strip().partition("=")
                    out.setdefault(key, val)
        return out

    @staticmethod
    def _header(scope: dict, name: bytes) -> str:
        for key, value in scope.get("headers", []):
            if key == name:
                return value.decode("latin-1")
        return ""

    def signed_in(self, scope: dict) -> bool:
        return not self.password or verify(self._cookies(scope).get(COOKIE))

    @staticmethod
    async def _send(send, status: int, body: str, *, content_type: str = "text/plain",
                    headers: list[tuple[bytes, bytes]] | None = None) -> None:
        data = body.encode("utf-8")
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", f"{content_type}; charset=utf-8".encode()),
            (b"content-length", str(len(data)).encode()), *SECURITY_HEADERS, *(headers or [])]})
        await send({"type": "http.response.body", "body": data})

    # -- ASGI -------------------------------------------------------------------------------
    async def __call__(self, scope: dict, receive, send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        self._start_reaper()
        route = self._route(scope)
        if self.password and route == LOGIN_PATH and kind == "http":
            await self._login(scope, receive, send)
            return
        if not self.signed_in(scope) and route not in OPEN_PATHS:
            await self._refuse(scope, receive, send, route)
            return
        match = UPLOAD_PATH.match(route or "") if kind == "http" else None
        if match and scope.get("method") == "PUT":
            await self._upload(scope, receive, send, match.group(1))
            return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: dict, receive, send, route: str | None) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
            return
        method = scope.get("method")
        accept = self._header(scope, b"accept")
        is_page = method in ("GET", "HEAD") and "text/html" in accept and not (
            route or "").startswith(("/_stcore/", "/media/", "/component/", "/static/"))
        if is_page and self._header(scope, b"sec-fetch-site") == "cross-site":
            # a link followed from another site: a SameSite=Strict cookie was not sent with this
            # request; a reload from this page is same-site and carries it, if the browser has one
            await self._send(send, 200, '<!doctype html><meta http-equiv="refresh" content="0">',
                             content_type="text/html")
            return
        if is_page:
            target = route or "/"
            query = scope.get("query_string", b"").decode("latin-1")
            wanted = target + (f"?{query}" if query else "")
            location = f"{self.base}{LOGIN_PATH}?next={quote(wanted, safe='')}"
            await self._send(send, 303, "Sign in first.",
                             headers=[(b"location", location.encode("latin-1"))])
            return
        await self._send(send, 401, "Sign in first: this server asks for a password.")

    async def _login(self, scope: dict, receive, send) -> None:
        method = scope.get("method")
        if method in ("GET", "HEAD"):
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            nxt = safe_next((query.get("next") or ["/"])[0])
            if verify(self._cookies(scope).get(COOKIE)):
                await self._send(send, 303, "Signed in.",
                                 headers=[(b"location", (self.base + nxt).encode("latin-1"))])
                return
            await self._send(send, 200, login_page(nxt), content_type="text/html")
            return
        if method != "POST":
            await self._send(send, 405, "Method not allowed.", headers=[(b"allow", b"GET, POST")])
            return
        body = await self._read_small_body(receive)
        if body is None:
            await self._send(send, 413, "Too large for a password.")
            return
        form = parse_qs(body.decode("utf-8", "replace"))
        nxt = safe_next((form.get("next") or ["/"])[0])
        client = (scope.get("client") or ("unknown", 0))[0]
        verdict = self.limiter.check(client)
        if not verdict.allowed:
            await self._login_refused(send, nxt, verdict)
            return
        if password_matches((form.get("password") or [""])[0], self.password):
            self.limiter.succeeded(client)
            secure = "; Secure" if scope.get("scheme") == "https" else ""
            cookie = (f"{COOKIE}={sign()}; Path={self.base or '/'}; Max-Age={SESSION_HOURS * 3600}; "
                      f"HttpOnly; SameSite=Strict{secure}")
            await self._send(send, 303, "Signed in.", headers=[
                (b"location", (self.base + nxt).encode("latin-1")),
                (b"set-cookie", cookie.encode("latin-1"))])
            return
        verdict = self.limiter.failed(client)
        if verdict.reason == "locked":
            await self._login_refused(send, nxt, verdict)
            return
        await self._send(send, 401, login_page(
            nxt, "That password is not right. Check it with your teacher and try again."),
            content_type="text/html")

    async def _login_refused(self, send, nxt: str, verdict: Verdict) -> None:
        await self._send(send, 429, login_page(nxt, refusal_text(verdict)), content_type="text/html",
                         headers=[(b"retry-after", str(math.ceil(verdict.retry_after)).encode())])

    @staticmethod
    async def _read_small_body(receive) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_FORM_BYTES:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _upload(self, scope: dict, receive, send, session: str) -> None:
        length = self._header(scope, b"content-length")
        if not length.isdigit():
            await self._send(send, 411, "Upload refused: it must say its size (Content-Length).")
            return
        size = int(length)
        self.uploads.reap()
        held_session, held_total = self.uploads.held(session)
        refusal = self.budget.reserve(session, size, held_session, held_total)
        if refusal:
            await self._send(send, 413, refusal)
            return
        received = 0

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > size:  # more than it announced: cut it off
                    return {"type": "http.disconnect"}
            return message

        try:
            await self.app(scope, counted_receive, send)
        finally:
            self.budget.release(session, size)

    def _start_reaper(self) -> None:
        if self._reaper is not None:
            return

        async def reap_forever() -> None:
            while True:
                await asyncio.sleep(REAP_EVERY_S)
                try:
                    self.uploads.reap()
                except Exception:  # noqa: BLE001 - never let the reaper die
                    pass

        self._reaper = asyncio.get_running_loop().create_task(reap_forever())
