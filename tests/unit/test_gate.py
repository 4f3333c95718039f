"""The password gate (rnnlab.gate): cookie signing, the wrong-password limiter, the upload budget,
and the middleware itself driven as plain ASGI (no server; tests/e2e/test_security.py starts one).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from rnnlab import gate

ROOT = Path(__file__).resolve().parents[2]
SECRET = b"k" * 32


@pytest.fixture(autouse=True)
def _gate_not_active(monkeypatch):
    """A Gate built here must not mark this test process as served through the gate."""
    monkeypatch.setattr(gate, "_active", False)


# -- cookie -------------------------------------------------------------------------------------
def test_a_signed_cookie_verifies_until_it_expires():
    value = gate.sign(1_000_000, secret=SECRET)
    assert value.startswith("v1.1000000.")
    assert gate.verify(value, now=1_000_000, secret=SECRET)
    assert gate.verify(value, now=1_000_000 + gate.SESSION_HOURS * 3600, secret=SECRET)
    assert not gate.verify(value, now=1_000_001 + gate.SESSION_HOURS * 3600, secret=SECRET)
    assert not gate.verify(value, now=1_000_000 - 3600, secret=SECRET), "issued in the future"


def test_a_cookie_from_another_secret_or_tampered_is_refused():
    value = gate.sign(1_000_000, secret=SECRET)
    assert not gate.verify(value, now=1_000_000, secret=b"x" * 32)
    assert not gate.verify(gate.sign(1_000_000), now=1_000_000, secret=SECRET)
    body, mac = value.rsplit(".", 1)
    flipped = mac[:-1] + ("0" if mac[-1] != "0" else "1")
    assert not gate.verify(f"{body}.{flipped}", now=1_000_000, secret=SECRET)
    later = value.replace("v1.1000000.", "v1.1000500.")  # a newer issue time, the old MAC
    assert not gate.verify(later, now=1_000_600, secret=SECRET)
    for bad in (None, "", "v1", "v1.x.y", "v2.1000000." + mac, "v1.-5." + mac, value + ".x",
                "v1.1000000." + "a" * 300):
        assert not gate.verify(bad, now=1_000_000, secret=SECRET), bad


def test_the_servers_own_secret_signs_and_verifies():
    assert gate.verify(gate.sign())
    assert not gate.verify(gate.sign(secret=SECRET))


def test_password_comparison():
    assert gate.password_matches("tea-time", "tea-time")
    assert not gate.password_matches("tea-tim", "tea-time")
    assert not gate.password_matches("", "")  # no password set: nothing matches
    assert not gate.password_matches("\udcff", "tea-time")  # odd input does not crash


# -- limiter ------------------------------------------------------------------------------------
class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_each_wrong_password_doubles_the_wait_before_the_next_is_checked():
    clock = FakeClock()
    limiter = gate.Limiter(attempts=5, lockout=300, clock=clock)
    assert limiter.check("a").allowed
    waits = []
    for _ in range(4):
        verdict = limiter.failed("a")
        assert verdict.reason == "wait"
        waits.append(verdict.retry_after)
        clock.now += verdict.retry_after - 0.01
        early = limiter.check("a")
        assert not early.allowed and early.reason == "wait", "too soon: not even checked"
        clock.now += 0.01
        assert limiter.check("a").allowed
    assert waits == [1.0, 2.0, 4.0, 8.0]


def test_the_nth_wrong_password_locks_the_client_out_then_it_starts_afresh():
    clock = FakeClock()
    limiter = gate.Limiter(attempts=3, lockout=300, clock=clock)
    limiter.failed("a")
    clock.now += 1
    limiter.failed("a")
    clock.now += 2
    verdict = limiter.failed("a")
    assert verdict.reason == "locked" and verdict.retry_after == 300
    assert "try again in 5 minutes, or ask your teacher" in gate.refusal_text(verdict)
    assert gate.refusal_text(verdict).startswith("Too many wrong passwords from this computer")
    clock.now += 299
    locked = limiter.check("a")
    assert not locked.allowed and locked.reason == "locked" and locked.retry_after == pytest.approx(1)
    assert limiter.check("b").allowed, "another computer is not affected"
    clock.now += 1
    assert limiter.check("a").allowed
    assert limiter.failed("a").reason == "wait", "after the lockout the count starts again"


def test_fifty_guesses_as_fast_as_possible_get_one_checked():
    clock = FakeClock()
    limiter = gate.Limiter(attempts=10, lockout=300, clock=clock)
    checked = 0
    for _ in range(50):
        clock.now += 0.05
        if limiter.check("a").allowed:
            checked += 1
            limiter.failed("a")
    assert checked == 2  # at t=0 and once the 1 s wait had passed; the rest were refused unchecked


def test_fifty_guesses_that_wait_as_told_are_locked_out():
    clock = FakeClock()
    limiter = gate.Limiter(attempts=10, lockout=300, clock=clock)
    start, checked, locked = clock.now, 0, False
    for _ in range(50):
        verdict = limiter.check("a")
        if not verdict.allowed:
            if verdict.reason == "locked":
                locked = True
                break
            clock.now += verdict.retry_after
        checked += 1
        limiter.failed("a")
    assert locked and checked == 10
    assert clock.now - start >= 25


def test_a_right_password_or_a_quiet_spell_forgets_the_failures():
    clock = FakeClock()
    limiter = gate.Limiter(attempts=3, lockout=300, clock=clock)
    limiter.failed("a")
    limiter.succeeded("a")
    assert limiter.check("a").allowed and limiter.failed("a").retry_after == 1.0
    clock.now += 300
    assert limiter.check("a").allowed
    assert limiter.failed("a").retry_after == 1.0, "forgotten after the lockout time"


def test_the_limiter_keeps_a_bounded_number_of_clients():
    clock = FakeClock()
    limiter = gate.Limiter(attempts=3, lockout=300, clock=clock, max_clients=100)
    for i in range(1000):
        limiter.failed(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter._clients) <= 100


def test_limiter_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(gate.ATTEMPTS_ENV, "4")
    monkeypatch.setenv(gate.LOCKOUT_ENV, "0.5")
    limiter = gate.Limiter.from_env()
    assert (limiter.attempts, limiter.lockout) == (4, 30)
    monkeypatch.setenv(gate.ATTEMPTS_ENV, "many")
    monkeypatch.setenv(gate.LOCKOUT_ENV, "-3")
    limiter = gate.Limiter.from_env()
    assert (limiter.attempts, limiter.lockout) == (gate.DEFAULT_ATTEMPTS,
                                                   gate.DEFAULT_LOCKOUT_MINUTES * 60)


# -- upload budget -----------------------------------------------------------------------------
def test_the_budget_counts_held_and_in_flight_bytes():
    budget = gate.UploadBudget(session_bytes=100, total_bytes=250)
    assert budget.reserve("s1", 60, held_session=0, held_total=0) is None
    assert "this browser tab" in budget.reserve("s1", 50, held_session=0, held_total=0)
    assert budget.reserve("s1", 40, held_session=0, held_total=0) is None
    assert "this browser tab" in budget.reserve("s1", 1, held_session=0, held_total=0)
    budget.release("s1", 60)
    assert budget.reserve("s1", 50, held_session=10, held_total=10) is None
    assert budget.reserve("s2", 100, held_session=0, held_total=10) is None
    refusal = budget.reserve("s3", 60, held_session=0, held_total=10)
    assert "server's" in refusal  # 10 held + 190 in flight + 60 > 250
    for session, size in (("s1", 40), ("s1", 50), ("s2", 100)):
        budget.release(session, size)
    assert budget._in_flight == {}


def test_budget_sizes_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(gate.SESSION_BUDGET_ENV, "3")
    monkeypatch.setenv(gate.TOTAL_BUDGET_ENV, "10")
    budget = gate.UploadBudget.from_env()
    assert (budget.session_bytes, budget.total_bytes) == (3 * gate.MB, 10 * gate.MB)


class FakeUploads:
    """Stands in for Streamlit's upload manager and session list."""

    def __init__(self, files=None, sessions=()):
        self.files = files or {}          # session -> {file id: size}
        self.sessions = set(sessions)

    def held(self, session):
        return (sum(self.files.get(session, {}).values()),
                sum(sum(f.values()) for f in self.files.values()))

    def reap(self):
        gone = [s for s in self.files if s not in self.sessions]
        for s in gone:
            del self.files[s]
        return len(gone)


def test_streamlit_uploads_are_released_when_their_session_is_gone():
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.uploaded_file_manager import UploadedFileRec

    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    for sid in ("alive", "gone"):
        manager.add_file(sid, UploadedFileRec(file_id="f", name="a.csv", type="text/csv",
                                              data=b"x" * 1000))
    uploads = gate.StreamlitUploads()
    uploads._manager = lambda: manager
    uploads.session_exists = lambda sid: sid == "alive"
    assert uploads.held("alive") == (1000, 2000)
    assert uploads.reap() == 1
    assert uploads.held("gone") == (0, 1000)
    assert list(manager.file_storage) == ["alive"]


# -- the middleware as plain ASGI ----------------------------------------------------------------
class Downstream:
    """The app behind the gate: records what reached it; reads upload bodies in full."""

    def __init__(self):
        self.calls = []

    async def __call__(self, scope, receive, send):
        self.calls.append((scope["type"], scope["path"]))
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept"})
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def call(app, path, *, method="GET", kind="http", headers=(), body=b"", client="10.0.0.1"):
    """Drive an ASGI app once; returns (status or websocket event, headers dict, body)."""
    path, _, query = path.partition("?")
    scope = {"type": kind, "path": path, "query_string": query.encode(), "method": method,
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
             "client": (client, 5000), "scheme": "http"}
    sent = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def run():
        await app(scope, receive, send)
        app_gate = app if isinstance(app, gate.Gate) else None
        if app_gate and app_gate._reaper:
            app_gate._reaper.cancel()

    asyncio.run(run())
    if kind == "websocket":
        return sent[0]["type"], sent[0].get("code"), b""
    start = next(m for m in sent if m["type"] == "http.response.start")
    out = {k.decode(): v.decode() for k, v in start["headers"]}
    data = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], out, data


def make_gate(password="tea-time", **kwargs):
    downstream = Downstream()
    kwargs.setdefault("uploads", FakeUploads(sessions={"s1"}))
    kwargs.setdefault("budget", gate.UploadBudget(1000, 3000))
    kwargs.setdefault("limiter", gate.Limiter(attempts=3, lockout=300))
    return gate.Gate(downstream, password=password, base_path="", **kwargs), downstream


def sign_in(app, client="10.0.0.1", next_path="/"):
    status, headers, _ = call(app, "/rnnlab/login", method="POST", client=client,
                              body=f"password=tea-time&next={next_path}".encode())
    assert status == 303, headers
    return headers


def test_without_the_cookie_only_the_login_page_and_health_pass():
    app, downstream = make_gate()
    assert call(app, "/_stcore/health")[0] == 204
    status, headers, body = call(app, "/rnnlab/login?next=/learn")
    assert status == 200 and b"ask your teacher for the password" in body
    assert 'name="next" value="/learn"' in body.decode()
    for path, method in (("/_stcore/upload_file/s1/f1", "PUT"), ("/media/abc.png", "GET"),
                         ("/static/js/main.js", "GET"), ("/_stcore/host-config", "GET"),
                         ("/_stcore/metrics", "GET"), ("/component/x/index.html", "GET"),
                         ("/_stcore/upload_file/s1/f1", "DELETE"), ("/", "POST")):
        assert call(app, path, method=method, body=b"x" * 100)[0] == 401, path
    assert call(app, "/_stcore/stream", kind="websocket")[:2] == ("websocket.close", 1008)
    assert downstream.calls == [("http", "/_stcore/health")]


def test_a_page_redirects_to_the_login_page_keeping_the_link():
    app, _ = make_gate()
    status, headers, _ = call(app, "/learn?lesson=vanishing&classroom=1",
                              headers=[("Accept", "text/html")])
    assert status == 303
    assert headers["location"] == "/rnnlab/login?next=%2Flearn%3Flesson%3Dvanishing%26classroom%3D1"
    status, _, body = call(app, "/", headers=[("Accept", "text/html"),
                                              ("Sec-Fetch-Site", "cross-site")])
    assert status == 200 and b'http-equiv="refresh"' in body  # a same-site reload sends the cookie


def test_the_right_password_sets_a_signed_httponly_strict_cookie():
    app, downstream = make_gate()
    headers = sign_in(app, next_path="%2Flearn%3Flesson%3Dvanishing")
    assert headers["location"] == "/learn?lesson=vanishing"
    cookie = headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert gate.verify(value)
    with_cookie = [("Cookie", f"other=1; {gate.COOKIE}={value}")]
    assert call(app, "/media/abc.png", headers=with_cookie)[0] == 204
    assert call(app, "/_stcore/stream", kind="websocket", headers=with_cookie)[0] == "websocket.accept"
    status, headers, _ = call(app, "/rnnlab/login?next=/data", headers=with_cookie)
    assert status == 303 and headers["location"] == "/data", "signed in: straight on"
    forged = [("Cookie", f"{gate.COOKIE}={gate.sign(secret=SECRET)}")]
    assert call(app, "/media/abc.png", headers=forged)[0] == 401
    assert ("http", "/media/abc.png") in downstream.calls


def test_login_never_redirects_to_another_site():
    app, _ = make_gate()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        assert sign_in(app, next_path=target.replace("/", "%2F"))["location"] == "/"


def test_wrong_passwords_are_slowed_then_locked_out_per_client():
    clock = FakeClock()
    app, _ = make_gate(limiter=gate.Limiter(attempts=3, lockout=300, clock=clock))
    wrong = b"password=guess&next=/"
    status, _, body = call(app, "/rnnlab/login", method="POST", body=wrong)
    assert status == 401 and b"not right" in body
    status, headers, body = call(app, "/rnnlab/login", method="POST", body=b"password=tea-time")
    assert status == 429 and headers["retry-after"] == "1" and b"Please wait 1 second" in body
    clock.now += 1
    assert call(app, "/rnnlab/login", method="POST", body=wrong)[0] == 401
    clock.now += 2
    status, headers, body = call(app, "/rnnlab/login", method="POST", body=wrong)
    assert status == 429 and headers["retry-after"] == "300"
    assert b"Too many wrong passwords from this computer; try again in 5 minutes" in body
    clock.now += 60
    assert call(app, "/rnnlab/login", method="POST", body=b"password=tea-time")[0] == 429
    sign_in(app, client="10.0.0.2")  # another computer is not locked out


def test_an_oversized_login_form_is_refused():
    app, _ = make_gate()
    assert call(app, "/rnnlab/login", method="POST", body=b"password=" + b"x" * 5000)[0] == 413


def test_uploads_over_the_budget_are_refused_before_streamlit_reads_them():
    uploads = FakeUploads(files={"s1": {"a": 900}, "old": {"b": 1500}}, sessions={"s1", "s2"})
    app, downstream = make_gate(password="", uploads=uploads)  # the budget applies without a password
    put = "/_stcore/upload_file/s1/f2"
    status, _, body = call(app, put, method="PUT", headers=[("Content-Length", "200")],
                           body=b"x" * 200)
    assert status == 413 and b"this browser tab" in body
    assert "old" not in uploads.files, "files of a session that is gone were released"
    assert call(app, put, method="PUT", headers=[("Content-Length", "100")], body=b"x" * 100)[0] == 204
    assert app.budget._in_flight == {}, "the reservation ends with the request"
    assert call(app, put, method="PUT", body=b"x")[0] == 411
    assert downstream.calls == [("http", put)]


def test_the_server_wide_budget():
    uploads = FakeUploads(files={"s1": {"a": 900}, "s2": {"b": 900}, "s3": {"c": 900}},
                          sessions={"s1", "s2", "s3", "s4"})
    app, _ = make_gate(password="", uploads=uploads)
    status, _, body = call(app, "/_stcore/upload_file/s4/f", method="PUT",
                           headers=[("Content-Length", "500")], body=b"x" * 500)
    assert status == 413 and b"server's" in body


def test_without_a_password_everything_passes():
    app, downstream = make_gate(password="")
    assert call(app, "/media/abc.png")[0] == 204
    assert call(app, "/_stcore/stream", kind="websocket")[0] == "websocket.accept"
    assert len(downstream.calls) == 2


def test_the_login_page_is_self_contained():
    page = gate.login_page("/x", "A <b>message</b>")
    assert "<title>RNN Lab" in page and "<h1>RNN Lab</h1>" in page
    assert "This server is shared: ask your teacher for the password." in page
    assert "A &lt;b&gt;message&lt;/b&gt;" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page


# -- imports ------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["import rnnlab.gate", "import serve"])
def test_the_gate_and_launcher_do_not_pull_in_tensorflow(code):
    check = (f"import sys; sys.path.insert(0, '.'); {code}; "
             "bad = sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules); "
             "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-800:]


def test_the_launcher_is_an_st_app_streamlit_run_recognises():
    from streamlit.web.server.app_discovery import discover_asgi_app

    result = discover_asgi_app(ROOT / "serve.py")
    assert result.is_asgi_app and result.import_string == "serve:app"
    assert "Middleware(Gate)" in (ROOT / "serve.py").read_text()
