"""Lab SMTP hosts: aiosmtpd servers on loopback, each playing one scripted behaviour.

The lab stands in for the MX hosts of a scenario, so a trainee can watch a sender meet a refusal,
a greylist, an unknown user or a dropped connection without touching the network. Each host is an
``aiosmtpd.smtp.SMTP`` subclass served with ``loop.create_server`` in the caller's own event loop
(not aiosmtpd's threaded Controller): the app and the tests run everything in one loop, and a
simulated clock must be able to clear a greylist without real waiting.

Every 2xx/4xx/5xx reply after the greeting and EHLO carries an RFC 3463 enhanced status code,
like a modern MTA's, because the session and the decision engine read them; a host that plays an
MTA without them (Exim: no ENHANCEDSTATUSCODES) sets ``enhanced_codes = false``.

Options that work with any kind (they are what issue 5's scenarios needed beyond one behaviour
per host):

- ``rcpt_replies``: RCPT answered per recipient from a map (local part or full address →
  ``"accept"`` or a reply such as ``"450 4.2.1 ..."`` / ``"550 5.1.1 ..."``); a recipient not in
  the map gets the kind's own answer (accept, for most kinds).
- ``up_after_s``: the host is down (connection refused, like `refuse`) until its clock reaches
  this many seconds, then plays its kind. Its clock is simulated time when a walk's `SimClock`
  is attached, else seconds since the host was made.
- ``relay`` / ``relay_profile``: a store-and-forward host (a backup MX). The host itself only
  accepts; the delivery walk, told about relays (`relay_profiles`), makes the host's own onward
  delivery as a second hop, under `relay_profile`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import re
import socket
import struct
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, Session, syntax

from mxtui.lab.certs import lab_certificate
from mxtui.policy import PROFILES

Kind = Literal[
    "accept",
    "refuse",
    "silent",
    "greet-421",
    "greet-554",
    "greet-521",
    "greylist",
    "known-users",
    "slow",
    "drop",
    "rcpt-limit",
    "size-limit",
]
DropStage = Literal["greeting", "ehlo", "mail", "rcpt", "data", "dot"]

KINDS: tuple[str, ...] = get_args(Kind)
DROP_STAGES: tuple[str, ...] = get_args(DropStage)

DEFAULT_SIZE = 64 * 1024 * 1024
"""SIZE advertised by hosts that are not `size-limit` (room for a 20 MB benchmark message)."""
IDLE_TIMEOUT_S = 300.0
"""Close a connection idle this long (RFC 5321 §4.5.3.2.7's server timeout)."""
SILENT_CLOSE_S = 330.0
"""A `silent` host holds a connection this long: past the RFC's 5-minute greeting timeout, so the
client gives up first, yet finite so nothing leaks."""
QUIT_WAIT_COMMANDS = 50
"""After a 554 greeting, answer at most this many commands with 503 before closing."""
STOP_GRACE_S = 2.0

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


# --------------------------------------------------------------------------------------------
# Behaviour and what a host received
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HostBehaviour:
    """What one lab host does; `kind` picks the behaviour, the other fields tune it."""

    kind: Kind
    users: tuple[str, ...] = ()
    """known-users: accepted local parts (any domain) or full addresses (case-insensitive)."""
    greylist_delay_s: float = 300
    """greylist: the same (client ip, from, to) triplet passes once this much time has gone by."""
    delay_s: float = 0
    """slow: added before every reply, the greeting included."""
    drop_at: DropStage | None = None
    """drop: where the connection is cut without a reply."""
    max_recipients: int = 0
    """rcpt-limit: recipients accepted per transaction; the next gets 452 4.5.3."""
    max_size: int = 0
    """size-limit: advertised as SIZE; a bigger message gets 552 5.3.4."""
    starttls: bool = True
    """Offer STARTTLS with a certificate made at start-up (see certs.py)."""
    auth: tuple[str, str] | None = None
    """(user, password): advertise AUTH PLAIN LOGIN and accept only this account."""
    hostname: str = "mx.lab.test"
    """The name in the greeting, the EHLO reply and the certificate."""
    rcpt_replies: tuple[tuple[str, str], ...] = ()
    """Any kind: (local part or full address, reply) pairs answering RCPT for those recipients;
    the reply is "accept" or one line "CODE text" (2xx, 4xx or 5xx), sent as written apart from
    the enhanced code added when it lacks one. Others get the kind's own answer."""
    enhanced_codes: bool = True
    """False: advertise no ENHANCEDSTATUSCODES and send none (as Exim does)."""
    up_after_s: float = 0
    """Any kind but refuse: refuse connections until the host's clock reaches this time."""
    relay: bool = False
    """A store-and-forward host (backup MX): the walk makes its onward delivery as a next hop."""
    relay_profile: str = "postfix"
    """relay: the MTA profile of that onward delivery."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown host kind {self.kind!r} (one of: {', '.join(KINDS)})")
        if self.kind == "drop" and self.drop_at not in DROP_STAGES:
            raise ValueError(f"kind 'drop' needs drop_at, one of: {', '.join(DROP_STAGES)}")
        if self.drop_at is not None and self.kind != "drop":
            raise ValueError(f"drop_at is only meaningful for kind 'drop', not {self.kind!r}")
        if self.kind == "rcpt-limit" and self.max_recipients < 1:
            raise ValueError("kind 'rcpt-limit' needs max_recipients >= 1")
        if self.kind == "size-limit" and self.max_size < 1:
            raise ValueError("kind 'size-limit' needs max_size >= 1")
        if self.kind == "known-users" and not self.users:
            raise ValueError("kind 'known-users' needs at least one entry in users")
        for name in ("greylist_delay_s", "delay_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.auth is not None and (
            len(self.auth) != 2 or not all(isinstance(x, str) and x for x in self.auth)
        ):
            raise ValueError("auth must be a (user, password) pair of non-empty strings")
        if not self.hostname or any(c.isspace() for c in self.hostname):
            raise ValueError(f"hostname {self.hostname!r} must be one word")
        for who, reply in self.rcpt_replies:
            if not who or any(c.isspace() for c in who):
                raise ValueError(f"rcpt_replies: {who!r} must be a local part or an address")
            if reply != "accept" and not _RCPT_REPLY.match(reply):
                raise ValueError(
                    f'rcpt_replies: {who!r} must map to "accept" or one reply line like '
                    f'"550 5.1.1 text" (2xx, 4xx or 5xx), not {reply!r}'
                )
        if self.up_after_s < 0:
            raise ValueError("up_after_s must not be negative")
        if self.up_after_s and self.kind == "refuse":
            raise ValueError("up_after_s makes no sense for kind 'refuse' (it never comes up)")
        if self.relay_profile not in PROFILES:
            raise ValueError(
                f"relay_profile {self.relay_profile!r} is not one of: {', '.join(PROFILES)}"
            )
        if self.relay and self.kind == "refuse":
            raise ValueError("a refuse host cannot be a relay (it never takes a message)")

    def rcpt_reply(self, address: str) -> str | None:
        """The scripted RCPT reply for `address` ("accept" or a reply line), None if unlisted.

        A full address wins over a local part, as in `known-users`.
        """
        addr = address.lower()
        local = addr.rpartition("@")[0] if "@" in addr else addr
        by_local = None
        for who, reply in self.rcpt_replies:
            who = who.lower()
            if who == addr:
                return reply
            if "@" not in who and who == local and by_local is None:
                by_local = reply
        return by_local


_RCPT_REPLY = re.compile(r"^[245]\d\d(?: [^\r\n]*)?$")


def relay_profiles(hosts: Mapping[str, HostBehaviour]) -> dict[str, str]:
    """The relay hosts among `hosts` (address → the profile of their onward delivery): what
    `Walk(relays=...)` takes to show a backup MX's second hop."""
    return {address: b.relay_profile for address, b in hosts.items() if b.relay}


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "kind": (str,),
    "users": (list, tuple),
    "greylist_delay_s": (int, float),
    "delay_s": (int, float),
    "drop_at": (str,),
    "max_recipients": (int,),
    "max_size": (int,),
    "starttls": (bool,),
    "auth": (list, tuple, dict),
    "hostname": (str,),
    "rcpt_replies": (dict,),
    "enhanced_codes": (bool,),
    "up_after_s": (int, float),
    "relay": (bool,),
    "relay_profile": (str,),
}


def behaviour_from_dict(d: Mapping[str, Any]) -> HostBehaviour:
    """Build a HostBehaviour from a scenario table, with a one-line ValueError for bad input.

    `auth` may be ``["user", "password"]`` or ``{user = "...", password = "..."}``;
    `rcpt_replies` is a table ``{ bob = "450 4.2.1 ...", "carol@x.example" = "accept" }``.
    """
    known = {f.name for f in fields(HostBehaviour)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(
            f"unknown host setting(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(known))}"
        )
    if "kind" not in d:
        raise ValueError("a host needs a 'kind'")
    values: dict[str, Any] = {}
    for key, value in d.items():
        types = _FIELD_TYPES[key]
        is_bool = isinstance(value, bool)
        if not isinstance(value, types) or (is_bool and bool not in types):
            wanted = " or ".join(t.__name__ for t in types)
            raise ValueError(f"host setting {key!r} must be {wanted}, not {value!r}")
        values[key] = value
    if "users" in values:
        if not all(isinstance(u, str) and u for u in values["users"]):
            raise ValueError("host setting 'users' must be a list of non-empty strings")
        values["users"] = tuple(values["users"])
    if "auth" in values:
        auth = values["auth"]
        if isinstance(auth, dict):
            extra = set(auth) - {"user", "password"}
            if extra or not {"user", "password"} <= set(auth):
                raise ValueError("host setting 'auth' needs exactly 'user' and 'password'")
            auth = (auth["user"], auth["password"])
        values["auth"] = tuple(auth)
    if "rcpt_replies" in values:
        table = values["rcpt_replies"]
        if not all(isinstance(v, str) for v in table.values()):
            raise ValueError("host setting 'rcpt_replies' must map recipients to reply strings")
        values["rcpt_replies"] = tuple((str(k).lower(), v) for k, v in table.items())
    return HostBehaviour(**values)


@dataclass(frozen=True)
class ReceivedMessage:
    """A message a lab host accepted at the end of DATA, as the envelope and bytes arrived."""

    mail_from: str
    recipients: tuple[str, ...]
    data: bytes
    """The message after dot-unstuffing, line endings as sent."""
    peer: tuple[str, int]
    helo: str | None = None
    tls: bool = False
    auth_user: str | None = None
    queue_id: str = ""


# --------------------------------------------------------------------------------------------
# Enhanced status codes for aiosmtpd's own replies
# --------------------------------------------------------------------------------------------

_HAS_ENHANCED = re.compile(r"^\d{3}[ -][245]\.\d{1,3}\.\d{1,3}(?: |$)")
_REPLY = re.compile(r"^([245]\d\d)([ -]?)(.*)$", re.DOTALL)

# The enhanced code for a basic code by command (RFC 3463, RFC 5248), most specific first.
_ENHANCED_BY_VERB: dict[tuple[str, int], str] = {
    ("MAIL", 250): "2.1.0",
    ("RCPT", 250): "2.1.5",
    ("RCPT", 550): "5.1.1",
    ("RCPT", 452): "4.5.3",
    ("MAIL", 552): "5.3.4",
    ("DATA", 552): "5.3.4",
    ("AUTH", 235): "2.7.0",
}
_ENHANCED_BY_CODE: dict[int, str] = {
    220: "2.0.0",
    221: "2.0.0",
    235: "2.7.0",
    250: "2.0.0",
    421: "4.3.0",
    450: "4.2.0",
    451: "4.3.0",
    452: "4.3.1",
    454: "4.7.0",
    500: "5.5.2",
    501: "5.5.4",
    502: "5.5.1",
    503: "5.5.1",
    504: "5.5.4",
    530: "5.7.0",
    535: "5.7.8",
    538: "5.7.11",
    550: "5.0.0",
    552: "5.3.4",
    553: "5.1.3",
    554: "5.7.0",
    555: "5.5.4",
}


_ENHANCED_PART = re.compile(r"^(\d{3}[ -])[245]\.\d{1,3}\.\d{1,3}(?: |$)")


def without_enhanced_code(line: str) -> str:
    """Drop the enhanced status code after the basic code (a host playing an MTA without them)."""
    return (
        _ENHANCED_PART.sub(r"\1", line, count=1).rstrip(" ") if _ENHANCED_PART.match(line) else line
    )


def with_enhanced_code(line: str, verb: str | None) -> str:
    """Insert an enhanced status code after the basic code when a reply line lacks one."""
    if _HAS_ENHANCED.match(line):
        return line
    m = _REPLY.match(line)
    if not m:
        return line
    code = int(m.group(1))
    enhanced = _ENHANCED_BY_VERB.get((verb or "", code)) or _ENHANCED_BY_CODE.get(
        code, f"{code // 100}.0.0"
    )
    sep = m.group(2) or " "
    rest = m.group(3)
    return f"{code}{sep}{enhanced}" + (f" {rest}" if rest else "")


# --------------------------------------------------------------------------------------------
# The aiosmtpd protocol
# --------------------------------------------------------------------------------------------


class _LabSMTP(SMTP):
    """aiosmtpd's SMTP with the lab behaviours layered on, one instance per connection."""

    def __init__(self, host: LabSMTPHost) -> None:
        b = host.behaviour
        self._host = host
        self._behaviour = b
        self._verb: str | None = None
        self._mid_reply = False
        super().__init__(
            _LabHandler(host),
            data_size_limit=b.max_size if b.kind == "size-limit" else DEFAULT_SIZE,
            enable_SMTPUTF8=True,
            hostname=b.hostname,
            ident="ESMTP mxtui lab",
            tls_context=lab_certificate(b.hostname).server_context() if b.starttls else None,
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
        elif isinstance(status, str) and self._verb not in (None, "EHLO", "HELO"):
            status = with_enhanced_code(status, self._verb)
        line = status if isinstance(status, bytes) else status.encode("utf-8", "surrogateescape")
        if self._behaviour.delay_s and not self._mid_reply:
            await asyncio.sleep(self._behaviour.delay_s)
        self._mid_reply = line[3:4] == b"-"
        await super().push(status)

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
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        body, problem = await self._read_message()
        if problem is not None:
            self._set_post_data_state()
            await self.push(problem)
            return
        content = bytes(body.replace(b"\r\n.", b"\r\n")[2:])
        self.envelope.content = content
        self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)

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
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Sender OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.behaviour.kind == "drop" and self.behaviour.drop_at == "dot":
            assert isinstance(server, _LabSMTP)
            await server.drop_now()
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


# --------------------------------------------------------------------------------------------
# Hosts and groups of hosts
# --------------------------------------------------------------------------------------------


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


def _since(start: float) -> Callable[[], float]:
    """A clock of seconds since `start` on the monotonic clock (a host's default)."""
    return lambda: time.monotonic() - start


def check_loopback(host: str) -> None:
    """Lab servers never listen beyond the machine: refuse any address that is not loopback."""
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"lab hosts listen on loopback only; {host!r} is not a loopback address")


class LabSMTPHost:
    """One lab SMTP host on a loopback port, served in the running event loop.

    `address` is known after `start()`; `messages` and `connections` show what it received.
    A `refuse` host holds its port bound but not listening, so a connect gets ECONNREFUSED and
    no other process can take the port meanwhile. A host with `up_after_s` does the same while
    its clock is short of that time, and listens on that same port once it is reached
    (`sync_schedule`, called by a `SimClock` as it moves, and by a timer for real time).
    """

    def __init__(
        self,
        name: str,
        behaviour: HostBehaviour,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        check_loopback(host)
        self.name = name
        self.behaviour = behaviour
        self.host = host
        self.port = port
        self._clock: Callable[[], float] = clock or _since(time.monotonic())
        self.messages: list[ReceivedMessage] = []
        self.connections = 0
        """Connections accepted (a `refuse` host cannot count the attempts it turns away)."""
        self.address: tuple[str, int] = ("", 0)
        self._server: asyncio.Server | None = None
        self._reserved: socket.socket | None = None
        self._live: set[_LabSMTP] = set()
        self._greylist: dict[tuple[str, str, str], float] = {}
        self._starting: asyncio.Task[asyncio.Server] | None = None
        self._starting_sock: socket.socket | None = None
        self._timer: asyncio.TimerHandle | None = None

    @property
    def clock(self) -> Callable[[], float]:
        """Seconds as this host sees them (greylist and `up_after_s`); setting it re-checks the
        schedule at once, so a fresh walk's clock at 0 puts a scheduled host down again."""
        return self._clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.sync_schedule()

    @property
    def running(self) -> bool:
        return self._server is not None or self._reserved is not None or self._starting is not None

    @property
    def up(self) -> bool:
        """Whether the host takes connections at its clock's time now."""
        kind = self.behaviour.kind
        return kind != "refuse" and self.clock() >= self.behaviour.up_after_s

    def sync_schedule(self) -> None:
        """Listen or refuse, whichever the clock's time now says (a host with `up_after_s`).

        Synchronous on purpose: a `SimClock` calls it as it jumps, and the very next connect
        must already meet the new state. Going up, the reserved socket starts listening at once
        (the kernel completes connections into the backlog) and the server is attached to it in
        a task; going down, the server closes and the port is held unlistened again.
        """
        if not self.behaviour.up_after_s or not self.running:
            return
        listening = self._reserved is None
        if self.up and not listening:
            sock, self._reserved = self._reserved, None
            assert sock is not None
            # Connections it accepts inherit this, so the port can be held again when the host
            # goes down while they are still open.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.listen(100)
            loop = asyncio.get_running_loop()
            task = loop.create_task(loop.create_server(self._protocol, sock=sock))
            self._starting, self._starting_sock = task, sock
            task.add_done_callback(self._served)
        elif not self.up and listening:
            self._cancel_start()
            if self._server is not None:
                self._server.close()
                self._server = None
            self._reserved = self._bind(again=True)
            self._arm_timer()

    def _served(self, task: asyncio.Task[asyncio.Server]) -> None:
        if self._starting is task:
            self._starting = None
            if not task.cancelled() and task.exception() is None:
                self._server = task.result()

    def _cancel_start(self) -> None:
        task, self._starting = self._starting, None
        if task is None:
            return
        if not task.done():
            task.cancel()
            if self._starting_sock is not None:  # never handed to a server: ours to close
                self._starting_sock.close()
        elif not task.cancelled() and task.exception() is None:
            task.result().close()

    def _bind(self, *, again: bool = False) -> socket.socket:
        """A socket bound to the host's port but not listening: connections to it are refused.

        Without SO_REUSEADDR, so no other program can take the port while it is not listening;
        with it only when the host goes down `again` and the kernel still holds the port for
        connections just closed (TIME_WAIT).
        """
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        where = self.address if self.address[1] else (self.host, self.port)
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            try:
                sock.bind(where)
            except OSError:
                if not again:
                    raise
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(where)
        except OSError:
            sock.close()
            raise
        return sock

    def _arm_timer(self) -> None:
        """In real time nothing moves the clock: wake when the host is due to come up."""
        if self._timer is not None:
            self._timer.cancel()
        wait = self.behaviour.up_after_s - self.clock()
        self._timer = asyncio.get_running_loop().call_later(max(wait, 0) + 0.01, self._wake)

    def _wake(self) -> None:
        self._timer = None
        self.sync_schedule()
        if self._reserved is not None and self.behaviour.up_after_s:
            self._arm_timer()  # still down (a simulated clock behind real time): look again

    async def start(self) -> None:
        if self.running:
            raise RuntimeError(f"lab host {self.name!r} is already running")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        if not self.up:
            self._reserved = sock = self._bind()
            self.address = sock.getsockname()[:2]
            if self.behaviour.up_after_s:
                if self.behaviour.starttls:
                    lab_certificate(self.behaviour.hostname).server_context()
                self._arm_timer()
            return
        if self.behaviour.starttls:
            lab_certificate(self.behaviour.hostname).server_context()  # made now, not per client
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, host=self.host, port=self.port, family=family
        )
        self.address = self._server.sockets[0].getsockname()[:2]

    def _protocol(self) -> _LabSMTP:
        self.connections += 1
        return _LabSMTP(self)

    def _opened(self, proto: _LabSMTP) -> None:
        self._live.add(proto)

    def _closed(self, proto: _LabSMTP) -> None:
        self._live.discard(proto)

    def forget(self) -> None:
        """Forget every client seen and message taken, as if the lab had just started (a walk
        started over must meet a greylisting host that has never seen it)."""
        self._greylist.clear()
        self.messages.clear()

    def _greylist_passes(self, triplet: tuple[str, str, str]) -> bool:
        now = self.clock()
        first = self._greylist.setdefault(triplet, now)
        return now - first >= self.behaviour.greylist_delay_s

    async def stop(self) -> None:
        """Stop listening and cut the connections still open, so no task outlives the host."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._reserved is not None:
            self._reserved.close()
            self._reserved = None
        starting, self._starting = self._starting, None
        if starting is not None:
            with contextlib.suppress(BaseException):
                self._server = self._server or await starting
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = []
        for proto in list(self._live):
            raw = proto._original_transport or proto.transport
            if raw is not None:
                raw.abort()
            if proto._handler_coroutine is not None:
                tasks.append(proto._handler_coroutine)
        self._live.clear()
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_GRACE_S)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), STOP_GRACE_S)

    async def __aenter__(self) -> LabSMTPHost:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class LabSMTP:
    """A group of lab hosts (a scenario's MX hosts) started and stopped together."""

    def __init__(
        self,
        hosts: Mapping[str, HostBehaviour],
        *,
        host: str = "127.0.0.1",
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.hosts: dict[str, LabSMTPHost] = {
            name: LabSMTPHost(name, behaviour, host=host, clock=clock)
            for name, behaviour in hosts.items()
        }

    @property
    def endpoints(self) -> dict[str, tuple[str, int]]:
        return {name: h.address for name, h in self.hosts.items()}

    def forget(self) -> None:
        """Every host forgets what it has seen (see `LabSMTPHost.forget`)."""
        for h in self.hosts.values():
            h.forget()

    async def start(self) -> None:
        try:
            for h in self.hosts.values():
                await h.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        await asyncio.gather(*(h.stop() for h in self.hosts.values()), return_exceptions=True)

    async def __aenter__(self) -> LabSMTP:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
