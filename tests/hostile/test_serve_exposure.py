"""`mxtui serve` against hostile browsers and clients (issue 11 item 5), over real HTTP and
websockets on loopback.

Before: any page open in the trainer's browser could open 60 apps (2.9 GB), press `w` (files in
the server's working directory) or confirm a real send. Now every request needs the printed
token, the websocket an Origin of this server, at most --max-apps apps run, and exports go to
their own folder.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import hostile_support as hs
import pytest

START_WAIT = 30.0


class Served:
    """A `mxtui serve` process (bounded like every hostile run) and the URL it printed."""

    def __init__(self, tmp: Path, *extra: str, host: str = "127.0.0.1") -> None:
        self.port = hs.free_port()
        self.cwd = tmp / "cwd"
        self.cwd.mkdir()
        self.exports = tmp / "exports"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mxtui", "serve", "--host", host, "--port", str(self.port),
             "--exports", str(self.exports), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.cwd,
            env=hs.child_env(), preexec_fn=hs._limits(hs.DEFAULT_MEMORY_MB, 16, 600),
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.line = self.proc.stdout.readline()
        match = re.search(r"open (http://\S+/\?token=(\S+)) in a browser", self.line)
        assert match, (self.line, self.proc.stderr.read() if self.proc.poll() is not None else "")
        self.url, self.token = match.group(1), match.group(2)
        self.base = f"http://127.0.0.1:{self.port}"
        self.origin = self.base

    def ws_url(self, token: str | None = None) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/{token or self.token}?width=100&height=30"

    def stop(self) -> tuple[str, str]:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.communicate(timeout=10)

    def apps(self) -> list[int]:
        """The app processes running under the server (its children that run mxtui)."""
        found = []
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                try:
                    state = Path(f"/proc/{child}/status").read_text()
                except FileNotFoundError:
                    continue
                if "\nState:\tZ" not in state:
                    found.append(int(child))
        return found


@pytest.fixture
def served(tmp_path) -> Iterator[Served]:
    server = Served(tmp_path, "--max-apps", "2")
    try:
        yield server
    finally:
        server.stop()


async def status_of(session: aiohttp.ClientSession, url: str, **kw) -> int:
    async with session.get(url, allow_redirects=False, **kw) as response:
        await response.read()
        return response.status


async def app_screen(ws: aiohttp.ClientWebSocketResponse, wanted: bytes) -> bytes:
    seen = b""
    deadline = time.monotonic() + START_WAIT
    while wanted not in seen:
        message = await asyncio.wait_for(ws.receive(), max(0.1, deadline - time.monotonic()))
        assert message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT), message
        if message.type == aiohttp.WSMsgType.BINARY:
            seen += message.data
    return seen


async def test_every_request_needs_the_token(served) -> None:
    wrong = served.token[:-1] + ("A" if served.token[-1] != "A" else "B")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as s:
        for path in ("/", "/?token=", f"/?token={wrong}", "/static/css/xterm.css",
                     "/static/js/textual.js", "/download/anything", "/ws", f"/ws/{wrong}",
                     "/nope", f"/?token={served.token[:8]}", "/?token[]=x"):  # fmt: skip
            hs.tried("serve request", 1)
            assert await status_of(s, served.base + path) == 403, path
        assert await status_of(s, f"{served.base}/?token={served.token}") == 200
        assert await status_of(s, f"{served.base}/static/css/xterm.css?token={served.token}") == 200
    # A browser: the page sets a cookie for the rest (aiohttp keeps cookies of an IP address
    # only when told to; browsers do).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        async with s.get(served.url) as page:
            text = await page.text()
            assert page.headers["Cache-Control"] == "no-store"
            assert "HttpOnly" in page.headers["Set-Cookie"]
            assert "SameSite=Strict" in page.headers["Set-Cookie"]
        assert f'/ws/{served.token}"' in text
        assert await status_of(s, served.base + "/static/css/xterm.css") == 200
    assert served.apps() == []


@pytest.mark.parametrize(
    "origin",
    [None, "null", "http://evil.example", "http://127.0.0.1.evil.example:{port}",
     "http://127.0.0.1:{other}", "https://evil.example:{port}", "file://"],
    ids=["none", "null", "other-site", "lookalike", "other-port", "https-other", "file"],
)  # fmt: skip
async def test_a_websocket_from_another_origin_is_refused(served, origin) -> None:
    hs.tried("serve origin", 1)
    headers = {}
    if origin is not None:
        headers["Origin"] = origin.format(port=served.port, other=served.port + 1)
    async with aiohttp.ClientSession() as s:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await s.ws_connect(served.ws_url(), headers=headers)
    assert refused.value.status == 403
    assert served.apps() == []


async def test_sixty_tabs_from_a_hostile_page_start_nothing(served) -> None:
    """The page of another site, open in the trainer's browser, opening tab after tab."""
    async with aiohttp.ClientSession() as s:
        for _ in range(60):
            hs.tried("serve origin", 1)
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await s.ws_connect(served.ws_url(), headers={"Origin": "http://evil.example"})
    assert served.apps() == []


async def test_at_most_max_apps_run_and_a_closed_tab_frees_its_place(served) -> None:
    hs.tried("serve cap", 1)
    headers = {"Origin": served.origin}
    async with aiohttp.ClientSession() as s:
        first = await s.ws_connect(served.ws_url(), headers=headers)
        second = await s.ws_connect(served.ws_url(), headers=headers)
        await app_screen(first, b"example.com")
        await app_screen(second, b"example.com")
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await s.ws_connect(served.ws_url(), headers=headers)
        assert refused.value.status == 503
        assert len(served.apps()) == 2
        await first.close()
        deadline = time.monotonic() + 20
        while len(served.apps()) > 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        third = await s.ws_connect(served.ws_url(), headers=headers)
        await app_screen(third, b"example.com")
        await third.close()
        await second.close()
    _, err = served.stop()
    assert "refused a tab: 2 apps already run" in err


async def test_exports_go_to_the_tabs_folder_not_the_working_directory(served) -> None:
    hs.tried("serve export", 1)
    async with (
        aiohttp.ClientSession() as s,
        s.ws_connect(served.ws_url(), headers={"Origin": served.origin}) as ws,
    ):
        await app_screen(ws, b"example.com")
        deadline = time.monotonic() + 30
        exported: list[Path] = []
        while not exported and time.monotonic() < deadline:
            await ws.send_json(["stdin", "n"])  # a step: the transcript has something to save
            await asyncio.sleep(1.0)
            await ws.send_json(["stdin", "w"])
            await asyncio.sleep(1.0)
            exported = sorted(served.exports.glob("tab-*/mxtui-transcript-*.txt"))
    assert exported, "no export written"
    assert exported[0].parent.name == "tab-1"
    assert list(served.cwd.iterdir()) == []


def test_an_empty_host_is_refused_in_one_line() -> None:
    hs.tried("serve host", 1)
    run = hs.run_mxtui("serve", "--host", "", timeout=30)
    assert run.returncode == 2 and run.stderr.count(b"\n") == 1, run.describe()
    assert b"every interface" in run.stderr


def test_listening_beyond_loopback_says_so_loudly(tmp_path) -> None:
    hs.tried("serve host", 1)
    server = Served(tmp_path, host="0.0.0.0")
    try:
        assert "listening on 0.0.0.0" in server.line
    finally:
        _, err = server.stop()
    assert err.startswith("mxtui serve: WARNING: listening on 0.0.0.0, not loopback")
    assert "send real mail" in err.splitlines()[0]


def _rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0.0
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


async def test_a_giant_terminal_is_clamped_and_the_app_stays_small(served) -> None:
    """A tab asking for 20000 x 20000 cells made its app grow past 800 MB in 15 s."""
    hs.tried("serve size", 2)
    url = served.ws_url().replace("width=100&height=30", "width=20000&height=20000")
    async with (
        aiohttp.ClientSession() as s,
        s.ws_connect(url, headers={"Origin": served.origin}) as ws,
    ):
        await app_screen(ws, b"example.com")
        await ws.send_json(["resize", {"width": 10**9, "height": "9" * 5000}])
        peak = 0.0
        for _ in range(10):
            await asyncio.sleep(0.5)
            peak = max([peak, *(_rss_mb(pid) for pid in served.apps())])
    assert 0 < peak < 300, peak


@pytest.mark.parametrize(
    "message",
    ['"just a string"', "[]", "not json", '["stdin", 42]', '["resize", [1, 2]]', "{}"],
)
async def test_a_malformed_message_ends_its_tab_only(served, message) -> None:
    hs.tried("serve message", 1)
    headers = {"Origin": served.origin}
    async with aiohttp.ClientSession() as s:
        good = await s.ws_connect(served.ws_url(), headers=headers)
        bad = await s.ws_connect(served.ws_url(), headers=headers)
        await app_screen(bad, b"example.com")
        await bad.send_str(message)
        closed = False
        deadline = time.monotonic() + START_WAIT
        while not closed and time.monotonic() < deadline:
            got = await asyncio.wait_for(bad.receive(), START_WAIT)
            closed = got.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert closed, "the tab that sent a malformed message is still open"
        assert await app_screen(good, b"example.com")  # the other tab still runs
        await good.close()
        await bad.close()
    assert served.proc.poll() is None
