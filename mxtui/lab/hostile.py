"""Hostile SMTP servers: raw asyncio servers that attack the client's parser and its display.

The lab hosts (mxtui.lab.hosts) behave like real MTAs; these do not. Each kind speaks just enough
SMTP to reach the stage it attacks, then sends what a careless client would choke on: markup and
terminal escapes, a line with no end, a reply with no end, noise, a close at the worst moment, or a
greeting one byte at a time. They exist so tests can prove that nothing a server sends crashes the
session or reaches the terminal, and that every wait is bounded.

Every loop here is bounded (a byte budget, a command budget and a per-connection time limit), so a
hostile host stops by itself even if nobody calls `stop()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from typing import Any, Literal, get_args

from mxtui.lab.hosts import check_loopback, reset_connection

HostileKind = Literal["markup", "long-line", "endless", "random", "close-at", "trickle"]
CloseStage = Literal[
    "before-greeting",
    "after-greeting",
    "after-ehlo",
    "after-mail",
    "after-rcpt",
    "after-data",
    "after-dot",
]
HOSTILE_KINDS: tuple[str, ...] = get_args(HostileKind)
CLOSE_STAGES: tuple[str, ...] = get_args(CloseStage)

# What the `markup` host puts in every reply.  The text parts would restyle or act in a markup
# parser (`[/` even crashes Rich's); the control parts would retitle or recolour a terminal, flip
# text direction, or end a C string.
MARKUP_PAYLOADS: tuple[str, ...] = (
    "[bold red]",
    "[/",
    "[/]",
    "[@click=app.quit]x[/]",
    "\x1b]0;PWNED\x07",
    "\x1b[31m",
    "\u202e",
    "\x00",
    "\x7f",
    "\x85",
    "\x9b",
)
MARKUP_TEXT = " ".join(MARKUP_PAYLOADS)
MARKUP_RAW_C1 = b"\x9b31m"
"""A raw 8-bit CSI (not UTF-8): some terminals treat the byte 0x9B as ESC [."""

MAX_COMMANDS = 100
MAX_DATA_BYTES = 32 * 1024 * 1024
READ_LIMIT = 8192


class _Closed(Exception):
    """The scripted conversation reached the stage where this host hangs up."""


class HostileHost:
    """One hostile server on a loopback port; `kind` picks the attack, keywords tune it.

    Parameters by kind (all optional except close-at's `stage`):
      markup:    —
      long-line: stage="greeting"|"ehlo", size=1_000_000 (bytes, sent without CRLF)
      endless:   stage="greeting"|"ehlo" (default "ehlo"), max_bytes=64 MiB
      random:    seed=None, size=4096 (bytes per burst), bursts=8
      close-at:  stage (one of CLOSE_STAGES), reset=False (RST instead of FIN)
      trickle:   interval_s=1.0 (between greeting bytes), greeting=<text>
    Every kind: hostname="hostile.lab.test", max_seconds=30.0 (per connection), host, port.
    """

    def __init__(
        self,
        kind: HostileKind,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        hostname: str = "hostile.lab.test",
        max_seconds: float = 30.0,
        **params: Any,
    ) -> None:
        if kind not in HOSTILE_KINDS:
            raise ValueError(f"unknown hostile kind {kind!r} (one of: {', '.join(HOSTILE_KINDS)})")
        check_loopback(host)
        allowed = _PARAMS[kind]
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise ValueError(
                f"{kind}: unknown setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(allowed) or 'none'}"
            )
        self.kind: HostileKind = kind
        self.host, self.port, self.hostname = host, port, hostname
        self.max_seconds = max_seconds
        self.params: dict[str, Any] = {**allowed, **params}
        if kind == "close-at" and self.params["stage"] not in CLOSE_STAGES:
            raise ValueError(f"close-at needs stage, one of: {', '.join(CLOSE_STAGES)}")
        if kind in ("long-line", "endless") and self.params["stage"] not in ("greeting", "ehlo"):
            raise ValueError(f"{kind}: stage must be 'greeting' or 'ehlo'")
        self.address: tuple[str, int] = ("", 0)
        self.connections = 0
        self.bytes_sent = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("hostile host already running")
        self._server = await asyncio.start_server(
            self._serve, host=self.host, port=self.port, limit=READ_LIMIT
        )
        self.address = self._server.sockets[0].getsockname()[:2]

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 2.0)

    async def __aenter__(self) -> HostileHost:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- one connection --------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = _Conn(self, reader, writer)
        abort = False
        try:
            async with asyncio.timeout(self.max_seconds):
                await _ATTACKS[self.kind](self, conn)
        except _Closed:
            abort = bool(self.params.get("reset"))
        except (TimeoutError, ConnectionError, OSError, ValueError, asyncio.IncompleteReadError):
            pass  # the client left, sent a monster line, or time ran out: all expected here
        finally:
            self._tasks.discard(task)
            if abort:
                reset_connection(writer.transport)
            else:
                writer.close()

    # The attacks --------------------------------------------------------------------------

    async def _markup(self, conn: _Conn) -> None:
        m = MARKUP_TEXT
        await conn.send(
            f"220-{self.hostname} ESMTP {m}\r\n".encode()
            + b"220-raw C1 " + MARKUP_RAW_C1 + b"\r\n"
            + f"220 {self.hostname} [/] ready\r\n".encode()
        )  # fmt: skip
        ehlo = [
            f"250-{self.hostname} greets {m}",
            f"250-SIZE {m}",
            "250-X-[@click=app.quit]x[/]",
            "250-\x1b]0;PWNED\x07\x1b[31m",
            f"250 HELP \u202e{m}",
        ]
        await self._converse(conn, ehlo=ehlo, decorate=lambda s: f"{s} {m}")

    async def _long_line(self, conn: _Conn) -> None:
        filler = b"A" * int(self.params["size"])
        if self.params["stage"] == "greeting":
            await conn.send(b"220 " + filler)
        else:
            await conn.send(f"220 {self.hostname} ESMTP\r\n".encode())
            await self._converse(conn, until="ehlo-command")
            await conn.send(b"250-" + filler)
        await conn.drain_until_eof()

    async def _endless(self, conn: _Conn) -> None:
        budget = int(self.params["max_bytes"])
        if self.params["stage"] == "greeting":
            code = b"220"
        else:
            await conn.send(f"220 {self.hostname} ESMTP\r\n".encode())
            await self._converse(conn, until="ehlo-command")
            code = b"250"
        n = 0
        while budget > 0:
            batch = b"".join(code + b"-endless line %d\r\n" % (n + i) for i in range(256))
            n += 256
            budget -= len(batch)
            await conn.send(batch)

    async def _random(self, conn: _Conn) -> None:
        rng = random.Random(self.params["seed"])
        size = int(self.params["size"])
        for _ in range(int(self.params["bursts"])):
            await conn.send(rng.randbytes(size))
            if not await conn.reader.read(READ_LIMIT):
                return

    async def _close_at(self, conn: _Conn) -> None:
        stage = self.params["stage"]
        if stage == "before-greeting":
            raise _Closed
        await conn.send(f"220 {self.hostname} ESMTP closes {stage}\r\n".encode())
        if stage == "after-greeting":
            raise _Closed
        await self._converse(conn, until=stage.removeprefix("after-"))
        raise _Closed

    async def _trickle(self, conn: _Conn) -> None:
        greeting = str(self.params["greeting"] or f"220 {self.hostname} ESMTP one byte a second")
        interval = float(self.params["interval_s"])
        for byte in (greeting + "\r\n").encode():
            await conn.send(bytes([byte]))
            await asyncio.sleep(interval)
        await self._converse(conn)

    # Just enough SMTP ----------------------------------------------------------------------

    async def _converse(
        self,
        conn: _Conn,
        *,
        until: str | None = None,
        ehlo: list[str] | None = None,
        decorate: Callable[[str], str] = lambda s: s,
    ) -> None:
        """Answer commands like a plain MTA; return (or close) once `until` has been answered.

        `until` is a stage name (ehlo, mail, rcpt, data, dot) reached after its reply is sent,
        or "ehlo-command": return as soon as EHLO arrives, before any reply.
        """
        for _ in range(MAX_COMMANDS):
            line = await conn.reader.readline()
            if not line:
                return
            verb = line.split(b" ", 1)[0].strip().upper().decode("ascii", "replace")
            stage = verb.lower()
            if verb in ("EHLO", "HELO"):
                stage = "ehlo"
                if until == "ehlo-command":
                    return
                lines = ehlo or [
                    f"250-{self.hostname}",
                    "250-SIZE 10240000",
                    "250-8BITMIME",
                    "250 ENHANCEDSTATUSCODES",
                ]
                if verb == "HELO":
                    lines = [f"250 {lines[0][4:]}"]
                await conn.send("".join(f"{x}\r\n" for x in lines).encode())
            elif verb == "MAIL":
                await conn.reply(decorate("250 2.1.0 Sender OK"))
            elif verb == "RCPT":
                await conn.reply(decorate("250 2.1.5 Recipient OK"))
            elif verb == "DATA":
                await conn.reply(decorate("354 End data with <CR><LF>.<CR><LF>"))
                if until == "data":
                    return
                await conn.read_message()
                stage = "dot"
                await conn.reply(decorate("250 2.0.0 Ok: queued"))
            elif verb == "QUIT":
                await conn.reply(decorate("221 2.0.0 Bye"))
                return
            elif verb in ("RSET", "NOOP"):
                await conn.reply(decorate("250 2.0.0 OK"))
            else:
                await conn.reply(decorate("502 5.5.2 Command not recognized"))
            if until == stage:
                return


_PARAMS: dict[str, dict[str, Any]] = {
    "markup": {},
    "long-line": {"stage": "greeting", "size": 1_000_000},
    "endless": {"stage": "ehlo", "max_bytes": 64 * 1024 * 1024},
    "random": {"seed": None, "size": 4096, "bursts": 8},
    "close-at": {"stage": None, "reset": False},
    "trickle": {"interval_s": 1.0, "greeting": ""},
}

_ATTACKS: dict[str, Callable[[HostileHost, _Conn], Any]] = {
    "markup": HostileHost._markup,
    "long-line": HostileHost._long_line,
    "endless": HostileHost._endless,
    "random": HostileHost._random,
    "close-at": HostileHost._close_at,
    "trickle": HostileHost._trickle,
}


class _Conn:
    """The two streams of one connection, with the few bounded operations the attacks need."""

    def __init__(
        self, host: HostileHost, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.host, self.reader, self.writer = host, reader, writer

    async def send(self, data: bytes) -> None:
        if self.writer.is_closing():
            raise ConnectionResetError("client gone")
        self.writer.write(data)
        self.host.bytes_sent += len(data)
        await self.writer.drain()

    async def reply(self, text: str) -> None:
        await self.send(text.encode("utf-8", "surrogateescape") + b"\r\n")

    async def read_message(self) -> None:
        """Swallow message data up to the lone dot (bounded)."""
        total = 0
        while total < MAX_DATA_BYTES:
            line = await self.reader.readline()
            if not line:
                raise ConnectionResetError("client gone during DATA")
            if line == b".\r\n":
                return
            total += len(line)
        raise ValueError("message too large for a hostile host")

    async def drain_until_eof(self) -> None:
        """Discard what the client sends until it leaves (the time limit ends it otherwise)."""
        while await self.reader.read(READ_LIMIT):
            pass
