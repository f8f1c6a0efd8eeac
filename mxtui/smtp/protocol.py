"""aiosmtplib's protocol with mxtui's reading rules: every line reported, nothing unbounded.

aiosmtplib's ``SMTPProtocol`` hands back a whole reply as one string, fails the whole reply on a
line over 8 KiB, and shows nothing of a reply until it is complete. A teaching tool needs the
opposite: each line the moment it arrives, a long line cut (with a marker) rather than fatal, and
a firm stop for a reply that never ends. So this subclass replaces only the reply parsing
(``data_received``); writing, the command lock, the STARTTLS upgrade and the waiter protocol stay
aiosmtplib's. It also adds a streamed message write with progress, which aiosmtplib's one-shot
``execute_data_command`` cannot give.

This is the one module that touches aiosmtplib's private attributes (``_buffer``,
``_response_waiter``, ``_response_pending``, ``_command_lock``, ``_over_ssl``,
``_drain_helper``, ``_set_response_exception``); everything else uses the properties here.
pyproject.toml bounds aiosmtplib to the versions these were tested with.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any, cast


def _protocol_layer_only() -> None:
    """Let ``aiosmtplib.protocol`` load without the package's ``__init__``.

    ``import aiosmtplib.protocol`` first runs ``aiosmtplib/__init__.py``, which imports the
    high-level client (``SMTP``, ``send``) and with it the email package, hmac and the auth
    helpers: about 10 ms that a session, which uses only the protocol, its errors and its
    response type, never needs (``mxtui smtp`` should start about as fast as swaks). So when
    nobody has imported aiosmtplib yet, the package goes into ``sys.modules`` as it would be
    before its ``__init__`` runs, and its ``__init__`` runs on the first attribute asked of the
    package itself (PEP 562): ``aiosmtplib.SMTP`` or ``from aiosmtplib import send`` still work
    for any other code, the classes being the very ones the protocol raises and returns.
    """
    if "aiosmtplib" in sys.modules:
        return
    import importlib.util

    spec = importlib.util.find_spec("aiosmtplib")
    if spec is None or spec.loader is None:
        return  # not installed as a package: the normal import below says so
    package = importlib.util.module_from_spec(spec)

    def complete(name: str) -> Any:
        del package.__dict__["__getattr__"]  # the real __init__ defines the rest
        assert spec.loader is not None
        spec.loader.exec_module(package)
        return getattr(package, name)

    package.__dict__["__getattr__"] = complete
    sys.modules["aiosmtplib"] = package


_protocol_layer_only()

from aiosmtplib.errors import (  # noqa: E402  (after the stand-in above)
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)
from aiosmtplib.protocol import SMTPProtocol, normalize_message_line_endings  # noqa: E402
from aiosmtplib.response import SMTPResponse  # noqa: E402

from mxtui.model import Limits  # noqa: E402
from mxtui.smtp.replies import REPLY_CODE  # noqa: E402
from mxtui.text import CUT_MARKER, printable_bytes  # noqa: E402

__all__ = [
    "MalformedReply",
    "ReplyTooLong",
    "SMTPResponse",
    "SMTPResponseException",
    "SMTPServerDisconnected",
    "SMTPTimeoutError",
    "TracingProtocol",
    "normalize_message_line_endings",
]

WRITE_CHUNK = 256 * 1024


class MalformedReply(SMTPResponseException):
    """A received line that does not start with a three-digit reply code."""

    def __init__(self) -> None:
        super().__init__(-1, "a reply line without a reply code")


class ReplyTooLong(SMTPResponseException):
    """A reply that went past the line or byte limit without ending."""

    def __init__(self, what: str) -> None:
        super().__init__(-1, f"the reply went past {what} without ending")


LineSink = Callable[[str], None]
"""Receives each received line, printable and cut, as it arrives."""


class TracingProtocol(SMTPProtocol):
    """An ``SMTPProtocol`` that reports every received line and bounds what it keeps.

    ``last_lines`` holds the printable lines of the reply most recently completed, so the session
    can build a `Reply` whose lines are exactly what was shown.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        limits: Limits,
        on_line: LineSink,
        on_connected: Callable[[asyncio.BaseTransport], None] | None = None,
    ) -> None:
        super().__init__(loop=loop)
        self._on_connected = on_connected
        self._limits = limits
        self._on_line = on_line
        self._cut_bytes = 0  # bytes dropped from the line now being received
        self._lines: list[str] = []  # printable lines of the reply being received
        self._reply_bytes = 0
        self._failed = False  # a limit was hit: ignore everything until the connection closes
        self.last_lines: tuple[str, ...] = ()
        self._stray = bytearray()  # unsolicited bytes not yet a whole line
        self._stray_bytes = 0
        self._unreported: tuple[int, Callable[[int, int], None] | None] | None = None

    # -- reading -------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self._report_written()  # a reply to the dot comes after the dot
        waiter = self._response_waiter
        if waiter is None or self._failed:
            return
        if not self._response_pending or waiter.done():
            self._unsolicited(data)  # shown, but as in aiosmtplib never paired with a reply
            return
        self._buffer.extend(data)
        self._reply_bytes += len(data)
        try:
            self._consume(waiter)
        except SMTPResponseException as exc:
            self._fail(waiter, exc)

    def _consume(self, waiter: asyncio.Future[SMTPResponse]) -> None:
        limit = self._limits.line_bytes
        while not waiter.done():
            end = self._buffer.find(b"\n")
            if end < 0:
                # Keep only what can be shown of an unfinished line; count the rest.
                if len(self._buffer) > limit:
                    self._cut_bytes += len(self._buffer) - limit
                    del self._buffer[limit:]
                if self._reply_bytes > self._limits.reply_bytes:
                    self._flush_partial("reply went past its byte limit before the line ended")
                    raise ReplyTooLong(f"{self._limits.reply_bytes} bytes")
                return
            raw = bytes(self._buffer[: end + 1])
            del self._buffer[: end + 1]
            self._line_done(raw, waiter)
            if self._reply_bytes > self._limits.reply_bytes:
                raise ReplyTooLong(f"{self._limits.reply_bytes} bytes")

    def _line_done(self, raw: bytes, waiter: asyncio.Future[SMTPResponse]) -> None:
        body = raw.rstrip(b"\r\n")
        text = self._show(body)
        self._on_line(text)
        self._lines.append(text)
        if not REPLY_CODE.match(body[:4].decode("latin-1")):
            raise MalformedReply()
        if len(self._lines) > self._limits.reply_lines and body[3:4] == b"-":
            raise ReplyTooLong(f"{self._limits.reply_lines} lines")
        if body[3:4] == b"-":
            return
        code = int(body[:3])
        message = "\n".join(_message_part(line) for line in self._lines)
        self.last_lines = tuple(self._lines)
        self._lines = []
        self._reply_bytes = len(self._buffer)
        waiter.set_result(SMTPResponse(code, message))

    def _show(self, body: bytes) -> str:
        """The printable form of a line, with the marker counting every byte that was cut."""
        limit = self._limits.line_bytes
        dropped = self._cut_bytes + max(0, len(body) - limit)
        self._cut_bytes = 0
        text = printable_bytes(body[:limit], limit=limit)
        return text + CUT_MARKER.format(n=dropped) if dropped else text

    def _unsolicited(self, data: bytes) -> None:
        """Show lines nobody asked for (a 421 before an idle close, a server talking ahead).

        They are shown once and dropped; a stream of them is shown up to the reply byte limit.
        """
        if self._stray_bytes > self._limits.reply_bytes:
            return
        self._stray_bytes += len(data)
        self._stray.extend(data)
        limit = self._limits.line_bytes
        while (end := self._stray.find(b"\n")) >= 0:
            line = bytes(self._stray[:end]).rstrip(b"\r")
            del self._stray[: end + 1]
            text = printable_bytes(line[:limit], limit=limit)
            if len(line) > limit:
                text += CUT_MARKER.format(n=len(line) - limit)
            self._on_line(f"{text} [unsolicited: not a reply to anything sent]")
        del self._stray[limit:]

    def _fail(self, waiter: asyncio.Future[SMTPResponse], exc: BaseException) -> None:
        self._failed = True
        del self._buffer[:]
        self.last_lines = tuple(self._lines)
        self._lines = []
        if not waiter.done():
            self._set_response_exception(waiter, exc)

    def _flush_partial(self, why: str = "connection closed before the line ended") -> None:
        """Show what arrived of an unfinished line when the line can no longer end."""
        if self._buffer and not self._failed:
            text = self._show(bytes(self._buffer).rstrip(b"\r"))
            self._on_line(f"{text} [{why}]")
            self._lines.append(text)
            self.last_lines = tuple(self._lines)
            del self._buffer[:]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self._on_connected is not None:
            callback, self._on_connected = self._on_connected, None
            callback(transport)  # before any data_received, so the greeting follows the note

    def eof_received(self) -> bool:
        self._flush_partial()
        return super().eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._flush_partial()
        super().connection_lost(exc)

    @property
    def encrypted(self) -> bool:
        """The connection runs inside TLS (on connect, or since STARTTLS)."""
        return bool(self._over_ssl)

    @property
    def reply_waiting(self) -> bool:
        """A whole reply arrived before anyone asked for it (a 421 then a close, say): it can
        still be read after the connection is gone."""
        waiter = self._response_waiter
        return (
            waiter is not None
            and waiter.done()
            and not waiter.cancelled()
            and waiter.exception() is None
        )

    async def read_response(self, timeout: float | None = None) -> SMTPResponse:
        waiter = self._response_waiter
        if waiter is not None and waiter.done():
            return await super().read_response(timeout=timeout)  # it came before we asked
        if not self._lines:
            # what came before the read counts, the part of an unfinished line cut away too
            self._reply_bytes = len(self._buffer) + self._cut_bytes
            self.last_lines = ()
        # A reply may already sit complete in the buffer (a server that talked ahead).
        if self._buffer and waiter is not None and not waiter.done():
            self._response_pending = True
            try:
                self._consume(waiter)
            except SMTPResponseException as exc:
                self._fail(waiter, exc)
        return await super().read_response(timeout=timeout)

    # -- writing the message -------------------------------------------------------------------

    async def write_message(
        self,
        payload: bytes,
        *,
        timeout: float,
        end: bytes = b"",
        progress: Callable[[int, int], None] | None = None,
    ) -> SMTPResponse:
        """Write an already dot-stuffed message and then `end` (the message is expected to end
        in ``CRLF.CRLF`` once `end` is written), and read the reply.

        Written in chunks with flow control, so progress can be reported and a server that stops
        reading trips `timeout` (per chunk) instead of hanging the session. The chunks are views
        of `payload`, not copies, and `end` goes out after the last one: a message of many
        megabytes is never copied whole on its way to the socket.
        """
        if self._command_lock is None:
            raise SMTPServerDisconnected("Server not connected")
        size = len(payload)
        total = size + len(end)
        view = memoryview(payload)
        async with self._command_lock:
            self._response_pending = True
            try:
                start = 0
                for stop in [*range(WRITE_CHUNK, size, WRITE_CHUNK), size]:
                    self.write(view[start:stop])  # type: ignore[arg-type]  # bytes-like
                    done = stop
                    if stop == size:
                        if end:
                            self.write(end)
                        done = total
                        self._unreported = (total, progress)
                        self._report_written()  # the kernel may have taken it all at once
                    try:
                        await asyncio.wait_for(self._drain_helper(), timeout)
                    except TimeoutError:
                        raise SMTPTimeoutError("the server stopped reading the message") from None
                    except ConnectionError as exc:
                        raise SMTPServerDisconnected("Connection lost") from exc
                    if done < total and progress is not None:
                        progress(done, total)
                    start = stop
                self._report_written()
                return await self.read_response(timeout=timeout)
            except SMTPServerDisconnected:
                # A server that answers in the middle of the message and hangs up (a 421 as it
                # shuts down) has said something: its reply, not the broken write, is the news.
                if self.reply_waiting:
                    return await self.read_response(timeout=timeout)
                raise
            finally:
                self._unreported = None

    def _report_written(self) -> None:
        """Report the whole message written once the transport holds none of it any more.

        Checked when the last chunk is queued, after the final drain, and when a reply arrives
        (the server cannot answer the dot before every byte has left the transport's buffer, and
        the dot is then shown before the answer to it).
        """
        pending = self._unreported
        if pending is None or self.transport is None:
            return
        if cast(asyncio.WriteTransport, self.transport).get_write_buffer_size():
            return
        self._unreported = None
        total, progress = pending
        if progress is not None:
            progress(total, total)


def _message_part(line: str) -> str:
    return line[4:].strip() if len(line) > 3 else ""
