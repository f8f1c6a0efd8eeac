"""The aiosmtpd protocol of a lab host: aiosmtpd's `SMTP` with the behaviours layered on,
one instance per connection, and the handler hooks that depend on the envelope."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, Session, syntax

from mxtui.lab.certs import host_context
from mxtui.lab.hosts.behaviour import ReceivedMessage
from mxtui.lab.hosts.codes import with_enhanced_code, without_enhanced_code

if TYPE_CHECKING:
    from mxtui.lab.hosts.host import LabSMTPHost

DEFAULT_SIZE = 64 * 1024 * 1024
"""SIZE advertised by hosts that are not `size-limit` (room for a 20 MB benchmark message)."""
IDLE_TIMEOUT_S = 300.0
"""Close a connection idle this long (RFC 5321 §4.5.3.2.7's server timeout)."""
SILENT_CLOSE_S = 330.0
"""A `silent` host holds a connection this long: past the RFC's 5-minute greeting timeout, so the
client gives up first, yet finite so nothing leaks."""
QUIT_WAIT_COMMANDS = 50
"""After a 554 greeting, answer at most this many commands with 503 before closing."""
_log = logging.getLogger("mail.log")


def quiet_aiosmtpd() -> None:
    """Keep aiosmtpd's logger off stderr (it would scribble over the TUI and the test output).

    Without a handler and with propagation off, logging's last-resort handler would still print
    warnings, hence the NullHandler.
    """
    _log.propagate = False
    if not any(isinstance(h, logging.NullHandler) for h in _log.handlers):
        _log.addHandler(logging.NullHandler())


quiet_aiosmtpd()


class _LabSMTP(SMTP):
    """aiosmtpd's SMTP with the lab behaviours layered on, one instance per connection."""

    def __init__(self, host: LabSMTPHost) -> None:
        b = host.behaviour
        self._host = host
        self._behaviour = b
        self._verb: str | None = None
        self._mid_reply = False
        self._requiretls = False
        self._said = host._transcript()
        super().__init__(
            _LabHandler(host),
            data_size_limit=b.max_size if b.kind == "size-limit" else DEFAULT_SIZE,
            enable_SMTPUTF8=True,
            hostname=b.hostname,
            ident="ESMTP mxtui lab",
            tls_context=host_context(b.hostname, b.certificate) if b.starttls else None,
            timeout=SILENT_CLOSE_S if b.kind == "silent" else IDLE_TIMEOUT_S,
            auth_require_tls=False,
            auth_exclude_mechanism=None if b.auth else ("PLAIN", "LOGIN"),
            authenticator=self._check_login if b.auth else None,
        )
        # Wrap every command so replies know which command they answer and a drop host can cut
        # the line as the command arrives.  functools.wraps keeps the @syntax data HELP reads.
        self._smtp_methods = {
            name: self._tracked(name, method) for name, method in self._smtp_methods.items()
        }

    def _tracked(
        self, verb: str, method: Callable[[str | None], Awaitable[None]]
    ) -> Callable[[str | None], Awaitable[None]]:
        stage = {"EHLO": "ehlo", "HELO": "ehlo", "MAIL": "mail", "RCPT": "rcpt", "DATA": "data"}
        b = self._behaviour

        @functools.wraps(method)
        async def run(arg: str | None) -> None:
            self._verb = verb
            self._said.append([verb, ""])
            if b.kind == "drop" and b.drop_at == stage.get(verb):
                await self.drop_now()
            await method(arg)

        return run

    def _check_login(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        assert self._behaviour.auth is not None
        user, password = self._behaviour.auth
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login == user.encode() and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self._original_transport is None and self.transport is None
        super().connection_made(transport)
        if first:
            self._host._opened(self)

    def connection_lost(self, error: Exception | None) -> None:
        self._host._closed(self)
        super().connection_lost(error)

    async def push(self, status: str | bytes) -> None:
        if isinstance(status, str) and not self._behaviour.enhanced_codes:
            status = without_enhanced_code(status)
        elif isinstance(status, str) and self._verb not in (None, "EHLO", "HELO", "LHLO"):
            status = with_enhanced_code(status, self._verb)
        line = status if isinstance(status, bytes) else status.encode("utf-8", "surrogateescape")
        if self._behaviour.delay_s and not self._mid_reply:
            await asyncio.sleep(self._behaviour.delay_s)
        if not self._mid_reply:
            self._heard(line.decode("utf-8", "replace"))
        self._mid_reply = line[3:4] == b"-"
        await super().push(status)

    def _heard(self, line: str) -> None:
        """Note the reply in the connection's transcript, beside the command it answers (the
        greeting, and the end-of-data dot after a 354, get entries of their own)."""
        said = self._said
        if not said or (said[-1][0] == "DATA" and said[-1][1].startswith("354")):
            said.append(["greeting" if not said else "DOT", ""])
        if not said[-1][1]:
            said[-1][1] = line

    async def drop_now(self) -> None:
        """Cut the connection (RST, no reply) and end this connection's handler task."""
        raw = self._original_transport or self.transport
        if raw is not None:
            reset_connection(raw)
        # connection_lost cancels the handler task this runs in, at the next loop turn.
        await asyncio.sleep(IDLE_TIMEOUT_S)

    async def _handle_client(self) -> None:
        b = self._behaviour
        if b.kind == "silent":
            await self._hold_silent()
        elif b.kind in ("greet-421", "greet-521"):
            await self._greet_and_close(b.kind)
        elif b.kind == "greet-554":
            await self._greet_554()
        elif b.kind == "drop" and b.drop_at == "greeting":
            await self.drop_now()
        else:
            await super()._handle_client()

    async def _hold_silent(self) -> None:
        """Never greet; swallow whatever comes until the client leaves or the timeout closes."""
        try:
            while await self._reader.read(4096):
                pass
        finally:
            if self.transport is not None:
                self.transport.close()

    async def _greet_and_close(self, kind: str) -> None:
        text = {
            "greet-421": f"421 4.3.2 {self.hostname} Service not available, closing channel",
            "greet-521": f"521 5.3.2 {self.hostname} does not accept mail (RFC 7504)",
        }[kind]
        await self.push(text)
        if self.transport is not None:
            self.transport.close()

    async def _greet_554(self) -> None:
        """RFC 5321 §3.1: after a 554 greeting, wait for QUIT and answer 503 meanwhile."""
        await self.push(f"554 5.3.2 {self.hostname} No SMTP service here")
        try:
            for _ in range(QUIT_WAIT_COMMANDS):
                line = await self._reader.readline()
                if not line:
                    break
                self._reset_timeout()
                if line.strip().upper() == b"QUIT":
                    await self.push("221 2.0.0 Bye")
                    break
                await self.push("503 5.5.1 Bad sequence of commands: only QUIT is accepted")
        except ValueError:  # a line over the reader's limit: not worth a reply
            pass
        finally:
            if self.transport is not None:
                self.transport.close()

    # LMTP and REQUIRETLS ----------------------------------------------------------------------

    async def smtp_LHLO(self, arg: str | None) -> None:
        """RFC 2033 §4.1: LMTP's hello, answered like EHLO by an LMTP host only."""
        if not self._behaviour.lmtp:
            await self.push('500 Error: command "LHLO" not recognized')
            return
        await super().smtp_EHLO(arg)

    async def smtp_EHLO(self, arg: str | None) -> None:
        if self._behaviour.lmtp:
            await self.push("500 5.5.1 This is an LMTP server: say LHLO (RFC 2033)")
            return
        await super().smtp_EHLO(arg)

    async def smtp_HELO(self, arg: str | None) -> None:
        if self._behaviour.lmtp:
            await self.push("500 5.5.1 This is an LMTP server: say LHLO (RFC 2033)")
            return
        await super().smtp_HELO(arg)

    @syntax("MAIL FROM: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_MAIL(self, arg: str | None) -> None:
        """REQUIRETLS (RFC 8689) is taken off before aiosmtpd, which knows no such parameter."""
        if self._behaviour.requiretls and arg:
            words = arg.split(" ")
            kept = [w for w in words if w.upper() != "REQUIRETLS"]
            if len(kept) != len(words):
                self._requiretls = True
                arg = " ".join(kept)
        await super().smtp_MAIL(arg)

    # DATA, read in bulk --------------------------------------------------------------------
    #
    # aiosmtpd reads a message one line at a time through a 1 kB-limited stream, which caps it
    # near 50 MB/s on loopback; the throughput benchmark would then measure the lab, not the
    # client.  This reads large chunks and finds the end with one search per chunk, keeping
    # aiosmtpd's rules: dot-unstuffing, 500 for a line over 1001 bytes, 552 over the size limit,
    # replies only after the whole message (RFC 5321 §4.2.5).

    @syntax("DATA")
    async def smtp_DATA(self, arg: str | None) -> None:
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        if (reply := self._behaviour.reply_at("data")) is not None:
            await self.push(reply)
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        body, problem = await self._read_message()
        if problem is not None:
            self._set_post_data_state()
            await self.push(problem)
            return
        content = bytes(body.replace(b"\r\n.", b"\r\n")[2:])
        self.envelope.content = content
        self.envelope.original_content = content
        recipients = list(self.envelope.rcpt_tos)
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        status = "250 OK" if status is MISSING else status
        if not self._behaviour.lmtp:
            await self.push(status)
            return
        for recipient in recipients:  # RFC 2033 §4.2: one reply per accepted recipient
            scripted = self._behaviour.lmtp_reply(recipient)
            await self.push(scripted or status)

    async def _read_message(self) -> tuple[bytearray, str | None]:
        """Read up to the lone dot; return the stuffed body behind a CRLF, or a reply to give.

        The body starts with a virtual CRLF so a first line of "." ends the message like any
        other; bytes that came after the dot (a pipelining client) go back to the reader.
        """
        limit = self.data_size_limit or 0
        buf = bytearray(b"\r\n")
        searched, dropped = 0, 0
        too_much = False
        while True:
            end = buf.find(_END_OF_DATA, max(searched - len(_END_OF_DATA) + 1, 0))
            if end >= 0:
                break
            searched = len(buf)
            if limit and dropped + len(buf) - 2 > limit:
                too_much = True  # keep reading to the dot, but stop keeping the bytes
                keep = len(_END_OF_DATA) - 1
                dropped += len(buf) - keep
                del buf[:-keep]
                searched = len(buf)
            chunk = await self._reader.read(_READ_ALL)
            if not chunk:  # EOF: aiosmtpd's eof_received cancels this task at once
                await asyncio.sleep(IDLE_TIMEOUT_S)
            buf += chunk
        leftover = bytes(buf[end + len(_END_OF_DATA) :])
        if leftover:
            self._reader.feed_data(leftover)  # the reader's buffer was emptied by read()
        del buf[end + 2 :]
        if too_much or (limit and len(buf) - 2 > limit):
            return buf, "552 5.3.4 Error: Too much mail data"
        if len(buf) > self.line_length_limit and max(map(len, buf.split(b"\r\n"))) + 2 > (
            self.line_length_limit
        ):
            return buf, "500 5.5.2 Line too long (see RFC5321 4.5.3.1.6)"
        return buf, None


_END_OF_DATA = b"\r\n.\r\n"
_READ_ALL = 1 << 26
"""More than a stream reader ever buffers, so one read() empties it."""


class _LabHandler:
    """aiosmtpd handler hooks: the parts of each behaviour that depend on the envelope."""

    def __init__(self, host: LabSMTPHost) -> None:
        self.host = host
        self.behaviour = host.behaviour

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list
    ) -> list[str]:
        session.host_name = hostname
        dropped = {"HELP"} if self.behaviour.auth else {"HELP", "AUTH"}
        out = [r for r in responses if r[4:].split(" ", 1)[0].upper() not in dropped]
        last = out.pop()
        out.append(last[:3] + "-" + last[4:])
        if self.behaviour.enhanced_codes:
            out.append("250-ENHANCEDSTATUSCODES")
        if self.behaviour.requiretls:
            out.append("250-REQUIRETLS")
        return [*out, "250 HELP"]

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        b = self.behaviour
        scripted = b.rcpt_reply(address)
        if scripted is not None and scripted != "accept" and not scripted.startswith("2"):
            return scripted
        if scripted is not None:  # accepted whatever the kind would have said
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
            return "250 2.1.5 Recipient OK" if scripted == "accept" else scripted
        if (reply := b.reply_at("rcpt")) is not None:
            return reply
        if b.kind == "known-users" and not _known(address, b.users):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if b.kind == "rcpt-limit" and len(envelope.rcpt_tos) >= b.max_recipients:
            return "452 4.5.3 Error: too many recipients"
        if b.kind == "greylist":
            ip = session.peer[0] if session.peer else ""
            triplet = (ip, (envelope.mail_from or "").lower(), address.lower())
            if not self.host._greylist_passes(triplet):
                return (
                    f"450 4.2.0 <{address}>: Recipient address rejected: Greylisted, "
                    f"try again in {b.greylist_delay_s:g} seconds"
                )
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Recipient OK"

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if (reply := self.behaviour.reply_at("mail")) is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Sender OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.behaviour.kind == "drop" and self.behaviour.drop_at == "dot":
            assert isinstance(server, _LabSMTP)
            await server.drop_now()
        if (reply := self.behaviour.reply_at("dot")) is not None:
            return reply
        login = session.login_data
        queue_id = f"{self.host.name}-{len(self.host.messages) + 1}"
        self.host.messages.append(
            ReceivedMessage(
                mail_from=envelope.mail_from or "",
                recipients=tuple(envelope.rcpt_tos),
                data=bytes(envelope.original_content or b""),
                peer=tuple(session.peer[:2]) if session.peer else ("", 0),
                helo=session.host_name or None,
                tls=session.ssl is not None,
                auth_user=login.decode("utf-8", "replace") if isinstance(login, bytes) else None,
                queue_id=queue_id,
            )
        )
        return f"250 2.0.0 Ok: queued as {queue_id}"


def _known(address: str, users: tuple[str, ...]) -> bool:
    addr = address.lower()
    local = addr.rpartition("@")[0] if "@" in addr else addr
    for user in users:
        u = user.lower()
        if ("@" in u and u == addr) or ("@" not in u and u == local):
            return True
    return False


def reset_connection(transport: asyncio.BaseTransport) -> None:
    """Close with a TCP RST rather than a FIN: the abrupt end a crashed or cut-off peer gives.

    ``transport.abort()`` alone still sends a FIN when nothing is left unread; a zero linger
    time makes the kernel reset the connection instead.
    """
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
