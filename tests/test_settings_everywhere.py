"""Every setting reaches every command it means something to, over real loopback sockets.

One case per (command, setting): the settings file holds only that setting (the rest of what the
command needs comes from its own options), and the case looks for the setting's effect where a
user would see it: in what the SMTP server was sent, in the output, or in the wait that ran out.
A loopback world serves them: the lab DNS server (the demo zone, and ``settings.test`` whose MX
is 127.0.0.1), an SMTP server that records every command line, one that accepts and never
speaks (a reply timeout), and one whose accept queue is full (a connect timeout).
"""

from __future__ import annotations

import asyncio
import shlex
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mxtui.cli import main
from mxtui.lab.demo import DEMO_FAULTS, DEMO_ZONE
from mxtui.lab.dns_server import LabDNSServer

SETTINGS_ZONE = """\
$ORIGIN settings.test.
$TTL 3600
@    SOA  ns.settings.test. hostmaster.settings.test. 1 3600 600 86400 300
@    NS   ns.settings.test.
ns   A    127.0.0.1
@    MX   10 mx.settings.test.
mx   A    127.0.0.1
"""

WAIT = 0.3
"""The timeout the file sets: far below every command's default, so its mark is its own."""


@dataclass
class World:
    dns: str = ""
    smtp: int = 0
    """Port of the recording SMTP server."""
    silent: int = 0
    """Port of a server that accepts and never greets."""
    full: int = 0
    """Port whose accept queue is full, so a connect waits."""
    received: list[str] = field(default_factory=list)


async def _recording_server(world: World) -> asyncio.Server:
    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 mx.settings.test ESMTP\r\n")
        data = False
        while line := await reader.readline():
            text = line.decode("ascii", "replace").rstrip("\r\n")
            if data:
                if text == ".":
                    data = False
                    writer.write(b"250 2.0.0 queued\r\n")
                continue
            world.received.append(text)
            verb = text[:4].upper()
            if verb == "EHLO":
                writer.write(b"250-mx.settings.test\r\n250 8BITMIME\r\n")
            elif verb == "DATA":
                data = True
                writer.write(b"354 go on\r\n")
            elif verb == "QUIT":
                writer.write(b"221 2.0.0 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 2.0.0 ok\r\n")
            await writer.drain()
        writer.close()

    return await asyncio.start_server(session, "127.0.0.1", 0)


async def _silent_server() -> asyncio.Server:
    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up
        writer.close()

    return await asyncio.start_server(session, "127.0.0.1", 0)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """The loopback world, in a thread of its own so that the synchronous main() can use it."""
    state = World()
    ready = threading.Event()
    stop: dict[str, object] = {}

    def serve() -> None:
        async def run() -> None:
            zones = [DEMO_ZONE, SETTINGS_ZONE]
            async with LabDNSServer(zones, faults=DEMO_FAULTS) as dns_server:
                smtp, silent = await _recording_server(state), await _silent_server()
                state.dns = "{}:{}".format(*dns_server.address)
                state.smtp = smtp.sockets[0].getsockname()[1]
                state.silent = silent.sockets[0].getsockname()[1]
                stop["event"] = asyncio.Event()
                stop["loop"] = asyncio.get_running_loop()
                ready.set()
                await stop["event"].wait()  # type: ignore[attr-defined]
                smtp.close()
                silent.close()

        asyncio.run(run())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    # A listener that never accepts, with its queue filled: one more connect hangs.
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    state.full = full.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", state.full))
        fillers.append(filler)
    yield state
    for s in [full, *fillers]:
        s.close()
    stop["loop"].call_soon_threadsafe(stop["event"].set)  # type: ignore[attr-defined]
    thread.join(10)


@dataclass(frozen=True)
class Case:
    command: str
    setting: str
    toml: str
    argv: str
    """The command line, formatted with the world (``{dns}``, ``{smtp}``, ...)."""
    seen: Callable[[World, int, str], bool]
    """Whether the setting's effect shows: given the world, the exit status and stdout+stderr."""


def _sent(line: str) -> Callable[[World, int, str], bool]:
    return lambda world, status, out: line in world.received


def _said(text: str) -> Callable[[World, int, str], bool]:
    return lambda world, status, out: text in out


def _reached(world: World, status: int, out: str) -> bool:
    """The recording server got the RCPT (0: smtp stopped after it; 5: walk held before DATA)."""
    return status in (0, 5) and "RCPT TO:<rcpt@settings.test>" in world.received


FROM = '[envelope]\nfrom = "trainer@class.test"\n'
TO = '[envelope]\nto = ["alice@settings.test"]\n'
EHLO = '[envelope]\nehlo = "client.class.test"\n'
CONNECT = f"[timeouts]\nconnect = {WAIT}\n"
REPLY = f"[timeouts]\nreply = {WAIT}\n"
DNS = f"[timeouts]\ndns = {WAIT}\n"
NO_CONNECTION = f"no connection within {WAIT:g} s"
NO_REPLY = f"no reply within {WAIT:g} s"
NO_DNS = f"No DNS answer came within {WAIT:g} s"

SMTP = "smtp --quit-after rcpt --json"
SMTP_ENV = "--from a@class.test --to rcpt@settings.test"
WALK = "walk settings.test --json"
WALK_ENV = "--from a@class.test --to rcpt@settings.test"
PROBE = "probe settings.test --json"

CASES = [
    Case("mx", "nameserver", 'nameserver = ["{dns}"]\n', "mx --json settings.test",
         _said('"name": "mx.settings.test"')),
    Case("mx", "timeouts.dns", DNS, "mx --json --nameserver {dns} silent.example.com",
         _said(NO_DNS)),
    Case("smtp", "envelope.from", FROM, f"{SMTP} -s 127.0.0.1:{{smtp}} --to rcpt@settings.test",
         _sent("MAIL FROM:<trainer@class.test>")),
    Case("smtp", "envelope.to", TO, f"{SMTP} -s 127.0.0.1:{{smtp}} --from a@class.test",
         _sent("RCPT TO:<alice@settings.test>")),
    Case("smtp", "envelope.ehlo", EHLO, f"{SMTP} -s 127.0.0.1:{{smtp}} {SMTP_ENV}",
         _sent("EHLO client.class.test")),
    Case("smtp", "port", "port = {smtp}\n", f"{SMTP} -s 127.0.0.1 {SMTP_ENV}", _reached),
    Case("smtp", "timeouts.connect", CONNECT, f"{SMTP} -s 127.0.0.1:{{full}} {SMTP_ENV}",
         _said(NO_CONNECTION)),
    Case("smtp", "timeouts.reply", REPLY, f"{SMTP} -s 127.0.0.1:{{silent}} {SMTP_ENV}",
         _said(NO_REPLY)),
    Case("walk", "profile", 'profile = "exim"\n', f"{WALK} --nameserver {{dns}} --port {{smtp}} "
         f"{WALK_ENV}", _said('"profile": "exim"')),
    Case("walk", "envelope.from", FROM,
         f"{WALK} --nameserver {{dns}} --port {{smtp}} --to rcpt@settings.test",
         _sent("MAIL FROM:<trainer@class.test>")),
    Case("walk", "envelope.to", TO, f"{WALK} --nameserver {{dns}} --port {{smtp}} --from a@x.test",
         _sent("RCPT TO:<alice@settings.test>")),
    Case("walk", "envelope.ehlo", EHLO, f"{WALK} --nameserver {{dns}} --port {{smtp}} {WALK_ENV}",
         _sent("EHLO client.class.test")),
    Case("walk", "nameserver", 'nameserver = ["{dns}"]\n', f"{WALK} --port {{smtp}} {WALK_ENV}",
         _reached),
    Case("walk", "port", "port = {smtp}\n", f"{WALK} --nameserver {{dns}} {WALK_ENV}", _reached),
    Case("walk", "timeouts.connect", CONNECT,
         f"{WALK} --nameserver {{dns}} --port {{full}} {WALK_ENV}", _said(NO_CONNECTION)),
    Case("walk", "timeouts.reply", REPLY,
         f"{WALK} --nameserver {{dns}} --port {{silent}} {WALK_ENV}", _said(NO_REPLY)),
    Case("walk", "timeouts.dns", DNS,
         "walk silent.example.com --nameserver {dns} --from a@x.test --to b@silent.example.com "
         "--record {tmp}/walk.jsonl", lambda w, s, out: NO_DNS in out),
    Case("probe", "nameserver", 'nameserver = ["{dns}"]\n', f"{PROBE} --port {{smtp}}",
         _said('"reachable": true')),
    Case("probe", "port", "port = {smtp}\n", f"{PROBE} --nameserver {{dns}}",
         _said('"reachable": true')),
    Case("probe", "envelope.ehlo", EHLO, f"{PROBE} --nameserver {{dns}} --port {{smtp}}",
         _sent("EHLO client.class.test")),
    Case("probe", "timeouts.connect", CONNECT, f"{PROBE} --nameserver {{dns}} --port {{full}}",
         _said(NO_CONNECTION)),
    Case("probe", "timeouts.reply", REPLY, f"{PROBE} --nameserver {{dns}} --port {{silent}}",
         _said(NO_REPLY)),
    Case("probe", "timeouts.dns", DNS, "probe silent.example.com --nameserver {dns}",
         _said(NO_DNS)),
    Case("explain", "profile", 'profile = "exim"\n',
         "explain --stage rcpt --reply '450 4.2.0 greylisted' --json", _said('"profile": "exim"')),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[f"{c.command}-{c.setting}" for c in CASES])
def test_the_setting_reaches_the_command(
    case: Case, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = {"dns": world.dns, "smtp": world.smtp, "silent": world.silent, "full": world.full}
    config = tmp_path / "config.toml"
    config.write_text(case.toml.format(**where), encoding="utf-8")
    argv = shlex.split(case.argv.format(tmp=tmp_path, **where))
    world.received.clear()
    status = main(["--config", str(config), *argv])
    captured = capsys.readouterr()
    out = captured.out + captured.err
    if "--record" in argv:
        out += (tmp_path / "walk.jsonl").read_text(encoding="utf-8")
    assert "Traceback" not in out
    assert case.seen(world, status, out), out[-2000:]
    # The same command without the file does not show it: the effect is the setting's.
    world.received.clear()
    if "--record" in argv:
        (tmp_path / "walk.jsonl").unlink()
    if case.setting.startswith(("timeouts.", "nameserver")):
        return  # without the file: the command's default wait, or the system resolver (slow)
    status = main(argv)
    captured = capsys.readouterr()
    assert not case.seen(world, status, captured.out + captured.err)
