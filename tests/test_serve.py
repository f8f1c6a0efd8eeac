"""`mxtui serve`: the app reaches a browser over loopback, and bad input stops it in one line."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from mxtui.cli import command_parser
from mxtui.commands import serve

START_WAIT = 30.0  # seconds a loaded 2-core machine may take to start the server
STOP_WAIT = 10.0  # stopping with a tab open takes well under 1 s; aiohttp alone took about 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def mxtui(*argv: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mxtui", *argv], capture_output=True, text=True, timeout=60, **kwargs
    )


def wait_for_page(url: str, server: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + START_WAIT
    while time.monotonic() < deadline:
        assert server.poll() is None, f"server exited early: {server.communicate()}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.status == 200
                return response.read().decode("utf-8")
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer within {START_WAIT} s")


async def read_until(ws: aiohttp.ClientWebSocketResponse, wanted: bytes) -> bytes:
    """What the app in a browser tab sends until `wanted` appears (the tab's own mxtui process)."""
    seen = b""
    while wanted not in seen:
        message = await asyncio.wait_for(ws.receive(), START_WAIT)
        assert message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT), message
        if message.type == aiohttp.WSMsgType.BINARY:
            seen += message.data
    return seen


def descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *descendants(int(child))]
    return found


def running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # an exited child nobody has reaped yet is not running


@pytest.fixture
def served():
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mxtui", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield port, server
    finally:
        if server.poll() is None:
            server.kill()
        server.communicate(timeout=30)


def announced_url(server: subprocess.Popen[str]) -> str:
    """The URL (with its token) from the server's first line, which says where it listens."""
    assert server.stdout is not None
    line = server.stdout.readline()
    match = re.search(r"open (http://\S+) in a browser \(loopback only\)", line)
    assert match, line
    return match.group(1)


async def test_serve_gives_browsers_the_app_page_and_runs_the_demo_per_tab(served):
    port, server = served
    url = await asyncio.to_thread(announced_url, server)
    token = url.split("?token=", 1)[1]
    assert url == f"http://127.0.0.1:{port}/?token={token}" and len(token) >= 32
    page = await asyncio.to_thread(wait_for_page, url, server)
    assert "<html" in page.lower()
    assert "<div>mxtui</div>" in page
    assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws/{token}"' in page

    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(
            f"ws://127.0.0.1:{port}/ws/{token}?width=120&height=35",
            headers={"Origin": f"http://127.0.0.1:{port}"},
        ) as ws,
    ):
        screen = await read_until(ws, "10 · 2 hosts".encode())
        assert b"\x1b[" in screen  # a terminal screen drawn by the app, not an error page
        tab_processes = descendants(server.pid)
        assert tab_processes

        # Ctrl-C (SIGTERM here) with a tab still open: the tab is closed and its app ends.
        server.terminate()
        while (await asyncio.wait_for(ws.receive(), STOP_WAIT)).type not in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
        ):
            pass
        _, err = await asyncio.to_thread(server.communicate, timeout=STOP_WAIT)
    assert server.returncode == 0, err
    assert not [pid for pid in tab_processes if running(pid)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "0"], "port must be a number from 1 to 65535"),
        (["--port", "http"], "port must be a number from 1 to 65535"),
        (["--host", "192.0.2.1"], "192.0.2.1 is not an address of this machine"),
        (["--host", "no-such-host.invalid"], "cannot find its address"),
    ],
)
def test_bad_host_or_port_is_one_line_and_exit_2(argv, message):
    done = mxtui("serve", *argv)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_port_in_use_is_one_line_and_exit_1():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = mxtui("serve", "--port", str(port))
    assert done.returncode == 1
    assert done.stderr.strip() == f"mxtui serve: cannot listen on 127.0.0.1 port {port}: in use"


def test_args_after_double_dash_reach_each_tabs_mxtui_through_this_interpreter():
    _, parser = command_parser("serve")
    args = parser.parse_args(["--port", "9000", "--", "--nameserver", "127.0.0.1:53", "a b.test"])
    command = serve.app_command(serve._args_for_app(args))
    assert command.split()[:3] == [sys.executable, "-m", "mxtui"]
    assert command.endswith("--nameserver 127.0.0.1:53 'a b.test'")
    assert args.host == "127.0.0.1"


def test_public_url_brackets_ipv6_and_names_the_machine_for_a_wildcard():
    assert serve.public_url("::1", 8000) == "http://[::1]:8000"
    assert serve.public_url("127.0.0.1", 80) == "http://127.0.0.1:80"
    assert serve.public_url("0.0.0.0", 8000) == f"http://{socket.gethostname()}:8000"


def test_serve_help_names_loopback_default_and_does_not_import_the_server():
    code = (
        "import contextlib, io, sys\n"
        "from mxtui.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(out):\n"
        "    main(['serve', '--help'])\n"
        "print(out.getvalue())\n"
        "print('textual_serve' in sys.modules or 'aiohttp' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "127.0.0.1: loopback" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "False"
