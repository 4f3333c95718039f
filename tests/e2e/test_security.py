"""The password gate on a real server: `streamlit run serve.py` (what `make run` starts) with
RNNLAB_PASSWORD set, attacked as a client that never signed in, then used by one that did.

A low lockout threshold (3) keeps the brute-force test to a few seconds; guesses come from their
own loopback addresses (127.0.0.2, ...) so the lockout does not touch the other tests' client.
"""

from __future__ import annotations

import http.client
import importlib.util
import re
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest


def _e2e_helpers():
    """tests/e2e/conftest.py's helpers, by path: `from conftest import` may find another
    conftest when the whole suite is collected."""
    spec = importlib.util.spec_from_file_location("rnnlab_e2e_conftest",
                                                  Path(__file__).with_name("conftest.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


from test_dashboard import key  # noqa: E402

_helpers = _e2e_helpers()
ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT = (_helpers.ARTIFACTS, _helpers.CHROMIUM,
                                            _helpers.CHROMIUM_ARGS, _helpers.ROOT)
streamlit_server = _helpers.streamlit_server

pytestmark = pytest.mark.e2e
PASSWORD = "tea-time-42"
ATTEMPTS = 3
SESSION_MB = 1
TOTAL_MB = 2
UPLOAD_MB = 150
SESSION_TTL_S = 2  # how long Streamlit keeps a closed tab's session (and its uploads)


@pytest.fixture(scope="module")
def gated(tmp_path_factory):
    """The dashboard behind its gate, with a password; yields .url, .port, .pid, .home."""
    env = {"RNNLAB_PASSWORD": PASSWORD, "RNNLAB_LOGIN_ATTEMPTS": str(ATTEMPTS),
           "RNNLAB_LOGIN_LOCKOUT_MINUTES": "5", "RNNLAB_UPLOAD_SESSION_MB": str(SESSION_MB),
           "RNNLAB_UPLOAD_TOTAL_MB": str(TOTAL_MB)}
    with streamlit_server(tmp_path_factory.mktemp("rnnlab-gated"), "serve.py", env,
                          ("--server.disconnectedSessionTTL", str(SESSION_TTL_S))) as running:
        yield running


def request(server, method, path, *, body=None, headers=None, source="127.0.0.1"):
    """One HTTP request from a chosen loopback address: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30,
                                      source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def login(server, password, *, source="127.0.0.1"):
    form = urllib.parse.urlencode({"password": password, "next": "/"})
    return request(server, "POST", "/rnnlab/login", body=form, source=source,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})


def xsrf_cookie(server) -> str:
    """What any client gets from the open health check: Streamlit's XSRF cookie."""
    status, headers, _ = request(server, "GET", "/_stcore/health")
    assert status == 200
    match = re.search(r"_streamlit_xsrf=([^;]+)", headers.get("set-cookie", ""))
    return match.group(1) if match else ""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def open_session(server, cookie: str = ""):
    """A script session over the websocket, as the browser opens one: (websocket, session id)
    once the script has run, or None when the websocket is refused."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    headers = {"Origin": server.url, **({"Cookie": cookie} if cookie else {})}
    try:
        ws = connect(f"ws://127.0.0.1:{server.port}/_stcore/stream", additional_headers=headers,
                     subprotocols=["streamlit"], open_timeout=10)
    except InvalidStatus:
        return None
    rerun = BackMsg()
    rerun.rerun_script.query_string = ""
    ws.send(rerun.SerializeToString())
    session, deadline = None, time.monotonic() + 60
    while time.monotonic() < deadline:  # until the script has run once
        message = ForwardMsg()
        message.ParseFromString(ws.recv(timeout=60))
        kind = message.WhichOneof("type")
        if kind == "new_session":
            session = message.new_session.initialize.session_id
        elif kind == "script_finished" and session:
            return ws, session
    ws.close()
    raise AssertionError("the script did not run")


def big_upload(server, token: str, size_mb: float, *, session: str = "a" * 8 + "-session",
               cookie: str = "") -> int | str:
    """PUT size_mb at the upload endpoint as the reviewer's client did; the status, or the
    connection error when the server stops reading."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    boundary = "rnnlabboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"big.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    chunk = b"0" * (64 * 1024)
    chunks = int(size_mb * 16)
    try:
        conn.putrequest("PUT", f"/_stcore/upload_file/{session}/{uuid.uuid4()}")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(len(head) + chunks * len(chunk) + len(tail)))
        conn.putheader("X-Xsrftoken", token)
        conn.putheader("Cookie", f"_streamlit_xsrf={token}" + (f"; {cookie}" if cookie else ""))
        conn.endheaders()
        conn.send(head)
        for _ in range(chunks):
            conn.send(chunk)
        conn.send(tail)
        return conn.getresponse().status
    except (BrokenPipeError, ConnectionResetError, http.client.HTTPException) as exc:
        return type(exc).__name__
    finally:
        conn.close()


def websocket_refused(server, cookie: str = "") -> bool:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    headers = {"Origin": server.url, **({"Cookie": cookie} if cookie else {})}
    try:
        with connect(f"ws://127.0.0.1:{server.port}/_stcore/stream",
                     additional_headers=headers, subprotocols=["streamlit"], open_timeout=10):
            return False
    except InvalidStatus as exc:
        return exc.response.status_code in (401, 403)


# -- a client that never signed in ---------------------------------------------------------------
def test_nothing_but_the_login_page_is_served_before_the_password(gated):
    status, headers, _ = request(gated, "GET", "/?lesson=vanishing", headers={"Accept": "text/html"})
    assert status == 303 and headers["location"].startswith("/rnnlab/login?next=")
    status, _, body = request(gated, "GET", headers["location"])
    assert status == 200 and b"ask your teacher for the password" in body
    token = xsrf_cookie(gated)
    auth = {"X-Xsrftoken": token, "Cookie": f"_streamlit_xsrf={token}"}
    for method, path in (("PUT", "/_stcore/upload_file/s/f"), ("DELETE", "/_stcore/upload_file/s/f"),
                         ("GET", "/media/0123456789abcdef.png"), ("GET", "/_stcore/host-config"),
                         ("GET", "/_stcore/metrics"), ("GET", "/static/index.html"),
                         ("GET", "/component/x/index.html")):
        status, _, _ = request(gated, method, path, body=b"x" if method == "PUT" else None,
                               headers=auth)
        assert status in (401, 403), (method, path, status)
    assert websocket_refused(gated), "the websocket (script runs) must be refused"
    forged = f"rnnlab_auth=v1.{int(time.time())}.{'0' * 64}"
    assert websocket_refused(gated, forged), "a forged cookie must be refused"


def test_large_uploads_without_the_password_leave_the_server_memory_alone(gated):
    token = xsrf_cookie(gated)
    opened = open_session(gated)  # without the gate this works, and gives a real session id
    assert opened is None, "the websocket must be refused before the password"
    before = rss_mb(gated.pid)
    outcomes = [big_upload(gated, token, UPLOAD_MB) for _ in range(6)]
    time.sleep(0.5)
    after = rss_mb(gated.pid)
    print(f"RSS before {before:.0f} MB, after 6 x {UPLOAD_MB} MB uploads {after:.0f} MB; {outcomes}")
    assert all(o in (401, 403) or isinstance(o, str) for o in outcomes), outcomes
    assert after - before < 50, f"RSS grew from {before:.0f} MB to {after:.0f} MB"


def test_fifty_wrong_passwords_get_locked_out(gated):
    start, statuses, source = time.monotonic(), [], "127.0.0.2"
    for attempt in range(50):  # an attacker who waits exactly as long as told
        status, headers, body = login(gated, f"guess-{attempt}", source=source)
        statuses.append(status)
        if status == 429 and b"Too many wrong passwords" in body:
            break
        if status == 429:
            time.sleep(float(headers["retry-after"]))
    elapsed = time.monotonic() - start
    checked = statuses.count(401)
    print(f"{len(statuses)} attempts, {checked} checked, locked out after {elapsed:.1f} s")
    assert checked <= ATTEMPTS and statuses[-1] == 429
    status, headers, body = login(gated, PASSWORD, source=source)
    assert status == 429, "locked out: even the right password is refused"
    assert int(headers["retry-after"]) > 250
    assert b"Too many wrong passwords from this computer; try again in 5 minutes, or ask your teacher" in body
    # fifty guesses fired without waiting: only the first is checked
    fired = [login(gated, f"fast-{i}", source="127.0.0.3")[0] for i in range(50)]
    assert fired.count(401) == 1 and fired.count(429) == 49
    assert login(gated, PASSWORD, source="127.0.0.4")[0] == 303, "other computers can still sign in"


# -- a client that signed in ---------------------------------------------------------------------
def signed_in_cookie(server, source="127.0.0.5") -> str:
    status, headers, _ = login(server, PASSWORD, source=source)
    assert status == 303, status
    return headers["set-cookie"].split(";")[0]


def test_uploads_count_against_a_session_and_a_server_budget(gated):
    cookie, token = signed_in_cookie(gated), xsrf_cookie(gated)
    first = open_session(gated, cookie)
    assert first is not None, "signed in: the websocket opens, the script runs"
    ws_a, session_a = first
    before = rss_mb(gated.pid)
    over = [big_upload(gated, token, UPLOAD_MB, session=session_a, cookie=cookie) for _ in range(6)]
    assert over == [413] * 6, over
    after = rss_mb(gated.pid)
    print(f"signed in, 6 x {UPLOAD_MB} MB uploads to a real session: {over}; "
          f"RSS {before:.0f} -> {after:.0f} MB")
    assert after - before < 50
    assert big_upload(gated, token, 0.9, session=session_a, cookie=cookie) == 204
    assert big_upload(gated, token, 0.2, session=session_a, cookie=cookie) == 413, "1 MB a session"
    ws_b, session_b = open_session(gated, cookie)
    assert big_upload(gated, token, 0.9, session=session_b, cookie=cookie) == 204
    ws_c, session_c = open_session(gated, cookie)
    assert big_upload(gated, token, 0.5, session=session_c, cookie=cookie) == 413, "2 MB in all"
    ws_a.close()  # the tab is closed: its session, and its upload, go after the session TTL
    time.sleep(SESSION_TTL_S + 1)
    assert big_upload(gated, token, 0.5, session=session_c, cookie=cookie) == 204
    for ws in (ws_b, ws_c):
        ws.close()


def test_the_right_password_opens_the_app_and_uploads_have_a_budget(gated, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")

    expect = sync_api.expect
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{gated.url}/?lesson=vanishing")
            expect(page.locator("h1")).to_have_text("RNN Lab")
            expect(page.get_by_text("This server is shared: ask your teacher for the password."))\
                .to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "00-login.png"))
            page.get_by_label("Password").fill("not it")
            page.get_by_role("button", name="Open RNN Lab").click()
            expect(page.get_by_role("alert")).to_contain_text("not right")
            page.screenshot(path=str(ARTIFACTS / "00-login-wrong.png"))
            time.sleep(1.1)  # the wait after one wrong password
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Open RNN Lab").click()
            expect(page).to_have_url(re.compile(r"lesson=vanishing"))
            # the websocket connected and the script ran: the lesson link opened the Learn page
            expect(page.locator("[data-testid=stSidebarNav]")).to_be_visible(timeout=60_000)
            expect(page.locator("[data-testid=stException]")).to_have_count(0)
            cookies = {c["name"]: c for c in page.context.cookies()}
            assert cookies["rnnlab_auth"]["httpOnly"] and cookies["rnnlab_auth"]["sameSite"] == "Strict"
            assert not websocket_refused(gated, f"rnnlab_auth={cookies['rnnlab_auth']['value']}")

            # a shared link followed from another site (localhost is another site than
            # 127.0.0.1): the SameSite=Strict cookie is not sent with that first request, yet
            # the student signed in already is not asked again
            page.goto(f"http://localhost:{gated.port}/rnnlab/login")
            page.evaluate("""url => { const a = document.createElement('a'); a.href = url;
                             a.id = 'shared'; a.textContent = 'lesson'; document.body.append(a); }""",
                          f"{gated.url}/?lesson=vanishing")
            page.click("#shared")
            expect(page).to_have_url(re.compile(r"127\.0\.0\.1:\d+/\?lesson=vanishing"))
            expect(page.locator("[data-testid=stSidebarNav]")).to_be_visible(timeout=60_000)

            # an upload over the session's budget is refused; the app keeps working
            page.goto(gated.url)  # the Data page
            page.locator(f"{key('data_kind')} label").filter(has_text="My own file").click()
            uploader = page.locator(f"{key('data_upload')} input[type=file]")
            rows = "".join(f"2020-01-{1 + i % 28:02d},{i}\n" for i in range(120_000))
            big = ("date,value\n" + rows).encode()
            assert len(big) > SESSION_MB * 1024 * 1024
            before = rss_mb(gated.pid)
            uploader.set_input_files(files=[{"name": "big.csv", "mimeType": "text/csv",
                                             "buffer": big}])
            expect(page.locator(key("data_upload"))).to_contain_text("413")
            page.screenshot(path=str(ARTIFACTS / "00-upload-over-budget.png"))
            assert rss_mb(gated.pid) - before < 50
            small = "date,value\n" + "".join(f"2020-{1 + i // 28:02d}-{1 + i % 28:02d},{i % 7}\n"
                                             for i in range(300))
            uploader.set_input_files(files=[{"name": "small.csv", "mimeType": "text/csv",
                                             "buffer": small.encode()}])
            expect(page.get_by_text("Your data: small.csv")).to_be_visible()
            expect(page.locator("[data-testid=stException]")).to_have_count(0)
        finally:
            browser.close()
