"""Hostile servers over real loopback sockets: they send what they promise, and they stop."""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest

from mxtui.lab.hostile import (
    CLOSE_STAGES,
    HOSTILE_KINDS,
    MARKUP_PAYLOADS,
    MARKUP_RAW_C1,
    MARKUP_TEXT,
    HostileHost,
)
from mxtui.text import printable_bytes


class Raw:
    """A byte-level client: nothing is parsed, so the tests see exactly what was sent."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: HostileHost) -> Raw:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(*host.address, limit=4 * 1024 * 1024), 5
        )
        return cls(reader, writer)

    async def line(self, timeout: float = 5) -> bytes:
        return await asyncio.wait_for(self.reader.readuntil(b"\r\n"), timeout)

    async def reply(self) -> list[bytes]:
        lines = []
        while True:
            line = await self.line()
            lines.append(line)
            if line[3:4] != b"-":
                return lines

    async def cmd(self, text: str) -> list[bytes]:
        self.send(text)
        return await self.reply()

    def send(self, text: str) -> None:
        self.writer.write(text.encode() + b"\r\n")

    async def exactly(self, n: int, timeout: float = 10) -> bytes:
        return await asyncio.wait_for(self.reader.readexactly(n), timeout)

    async def until_eof(self, timeout: float = 10, keep: int = 1 << 20) -> tuple[int, bytes]:
        """Read to the end; returns the byte count and the first `keep` bytes."""
        total, head = 0, bytearray()
        async with asyncio.timeout(timeout):
            while chunk := await self.reader.read(65536):
                total += len(chunk)
                if len(head) < keep:
                    head += chunk[: keep - len(head)]
        return total, bytes(head)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


async def ended(host: HostileHost) -> bool:
    """The host has no connection task left (give the loop a moment to finish one)."""
    for _ in range(100):
        if not host._tasks:
            return True
        await asyncio.sleep(0.02)
    return False


# --------------------------------------------------------------------------------------------
# markup and escapes
# --------------------------------------------------------------------------------------------


async def test_markup_host_puts_markup_and_escapes_in_greeting_ehlo_and_every_reply():
    async with HostileHost("markup") as host:
        c = await Raw.open(host)
        greeting = b"".join(await c.reply())
        for payload in MARKUP_PAYLOADS:
            assert payload.encode() in greeting, payload
        assert MARKUP_RAW_C1 in greeting
        ehlo = b"".join(await c.cmd("EHLO client.test"))
        assert b"250-SIZE [bold red]" in ehlo
        assert b"[@click=app.quit]x[/]" in ehlo and b"\x1b]0;PWNED\x07" in ehlo
        replies = [
            await c.cmd("MAIL FROM:<a@example.org>"),
            await c.cmd("RCPT TO:<b@example.net>"),
            await c.cmd("DATA"),
            await c.cmd("Subject: x\r\n\r\nbody\r\n."),
            await c.cmd("QUIT"),
        ]
        assert [r[0][:3] for r in replies] == [b"250", b"250", b"354", b"250", b"221"]
        for [line] in replies:
            assert line.rstrip(b"\r\n").endswith(MARKUP_TEXT.encode())
        assert await c.until_eof() == (0, b"")
        await c.close()
    assert await ended(host)


async def test_markup_greeting_made_printable_has_no_control_characters_left():
    async with HostileHost("markup") as host:
        c = await Raw.open(host)
        lines = await c.reply()
        await c.close()
    for line in lines:
        shown = printable_bytes(line.rstrip(b"\r\n"))
        assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in shown), shown
        assert "\u202e" not in shown and "\x1b" not in shown


# --------------------------------------------------------------------------------------------
# a line with no end, a reply with no end, noise
# --------------------------------------------------------------------------------------------


async def test_long_line_greeting_is_a_megabyte_with_no_crlf():
    async with HostileHost("long-line") as host:
        c = await Raw.open(host)
        data = await c.exactly(4 + 1_000_000)
        assert data.startswith(b"220 AAAA") and b"\r\n" not in data and b"\n" not in data
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(c.reader.read(1), 0.3)  # and then nothing, still open
        await c.close()
    assert await ended(host)


async def test_long_line_in_the_ehlo_reply():
    async with HostileHost("long-line", stage="ehlo", size=300_000) as host:
        c = await Raw.open(host)
        assert (await c.reply())[0].startswith(b"220 hostile.lab.test")
        c.send("EHLO client.test")
        data = await c.exactly(4 + 300_000)
        assert data.startswith(b"250-AAA") and b"\n" not in data
        await c.close()


@pytest.mark.parametrize(("stage", "code"), [("ehlo", b"250-"), ("greeting", b"220-")])
async def test_endless_reply_keeps_continuing_and_stops_at_its_byte_budget(stage, code):
    async with HostileHost("endless", stage=stage, max_bytes=2_000_000) as host:
        c = await Raw.open(host)
        if stage == "ehlo":
            await c.reply()
            c.send("EHLO client.test")
        total, head = await c.until_eof(keep=100_000)
        await c.close()
    assert 2_000_000 <= total < 2_100_000
    lines = head.split(b"\r\n")[:-1]
    assert len(lines) > 1000 and all(line.startswith(code) for line in lines)


async def test_random_host_sends_seeded_noise_in_bursts_then_closes():
    async with HostileHost("random", seed=7, size=500, bursts=3) as host:
        c = await Raw.open(host)
        expected = random.Random(7)
        assert await c.exactly(500) == expected.randbytes(500)
        c.send("EHLO client.test")
        assert await c.exactly(500) == expected.randbytes(500)
        c.send("QUIT")
        assert await c.exactly(500) == expected.randbytes(500)
        c.send("anything")
        assert await c.until_eof() == (0, b"")
        await c.close()


# --------------------------------------------------------------------------------------------
# closing at each stage
# --------------------------------------------------------------------------------------------

CONVERSATION = [
    ("after-ehlo", "EHLO client.test", b"250"),
    ("after-mail", "MAIL FROM:<a@example.org>", b"250"),
    ("after-rcpt", "RCPT TO:<b@example.net>", b"250"),
    ("after-data", "DATA", b"354"),
    ("after-dot", "Subject: x\r\n\r\nbody\r\n.", b"250"),
]


@pytest.mark.parametrize("stage", CLOSE_STAGES)
async def test_close_at_answers_up_to_its_stage_then_closes(stage):
    async with HostileHost("close-at", stage=stage) as host:
        c = await Raw.open(host)
        if stage != "before-greeting":
            assert (await c.reply())[0].startswith(b"220 ")
            for name, line, code in CONVERSATION:
                if stage == "after-greeting":
                    break
                assert (await c.cmd(line))[-1].startswith(code)
                if name == stage:
                    break
        c.send("NOOP")
        assert await c.until_eof() == (0, b""), "nothing after the stage, then the close"
        await c.close()
    assert await ended(host)


async def test_close_at_with_reset_sends_a_tcp_reset():
    async with HostileHost("close-at", stage="after-greeting", reset=True) as host:
        c = await Raw.open(host)
        await c.reply()
        with pytest.raises(ConnectionResetError):
            await c.until_eof()
        await c.close()


# --------------------------------------------------------------------------------------------
# a greeting one byte at a time
# --------------------------------------------------------------------------------------------


async def test_trickle_sends_the_greeting_one_byte_at_a_time_then_speaks_smtp():
    greeting = "220 slow.lab.test hi"
    async with HostileHost("trickle", interval_s=0.02, greeting=greeting) as host:
        c = await Raw.open(host)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        chunks = []
        while not b"".join(chunks).endswith(b"\r\n"):
            chunks.append(await asyncio.wait_for(c.reader.read(100), 5))
        elapsed = loop.time() - t0
        assert b"".join(chunks) == greeting.encode() + b"\r\n"
        assert len(chunks) > 5, "the greeting arrives in many small pieces"
        assert elapsed >= 0.02 * (len(greeting) - 1)
        assert (await c.cmd("EHLO client.test"))[-1].startswith(b"250 ")
        assert (await c.cmd("QUIT"))[0].startswith(b"221 ")
        await c.close()


async def test_trickle_default_is_one_byte_a_second():
    async with HostileHost("trickle") as host:
        c = await Raw.open(host)
        first = await asyncio.wait_for(c.reader.read(100), 5)
        assert first == b"2"
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(c.reader.read(100), 0.5)
        await c.close()


# --------------------------------------------------------------------------------------------
# bounded: every kind ends by itself, and stop() ends it at once
# --------------------------------------------------------------------------------------------

KIND_PARAMS = {
    "markup": {},
    "long-line": {},
    "endless": {"stage": "greeting"},
    "random": {},
    "close-at": {"stage": "after-ehlo"},
    "trickle": {},
}


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
async def test_every_hostile_kind_hangs_up_by_itself_on_an_idle_client(kind):
    async with HostileHost(kind, max_seconds=0.5, **KIND_PARAMS[kind]) as host:
        c = await Raw.open(host)
        await c.until_eof(timeout=15)
        await c.close()
        assert await ended(host)
    assert host.connections == 1


async def test_stop_ends_live_connections_promptly():
    host = HostileHost("endless", stage="greeting")
    await host.start()
    clients = [await Raw.open(host) for _ in range(3)]  # none of them reads: writes block
    await asyncio.sleep(0.1)
    assert len(host._tasks) == 3
    await asyncio.wait_for(host.stop(), 5)
    assert not host._tasks
    for c in clients:
        with contextlib.suppress(ConnectionError):
            await c.until_eof()
        await c.close()


def test_bad_settings_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="unknown hostile kind 'nice'"):
        HostileHost("nice")
    with pytest.raises(ValueError, match=r"unknown setting.*colour"):
        HostileHost("markup", colour="red")
    with pytest.raises(ValueError, match="close-at needs stage"):
        HostileHost("close-at")
    with pytest.raises(ValueError, match="stage must be"):
        HostileHost("long-line", stage="rcpt")
    with pytest.raises(ValueError, match="loopback only"):
        HostileHost("markup", host="192.0.2.1")
