"""One SMTP conversation, advanced one stage at a time.

A `Session` knows what a sending MTA would do next (`next_stage()`), and does any single stage on
request (`connect()`, `ehlo()`, `rcpt()`, `raw("VRFY bob")`, ...), so a person can follow the
standard path with one key or step off it on purpose. Each step reports as it happens: every line
sent and received as a `TranscriptLine`, and a `StepResult` when it finishes, through the
`on_event` callback. Nothing a server does raises out of a step: a refused connection, a timeout,
a dropped line or a broken reply is a `StepResult` with an `outcome` or a `failure`.

The wire work is aiosmtplib's protocol (see protocol.py for the one part replaced, reading);
this module owns the order of things, the transcript, and two safety rules: the end-of-data dot
goes to a host that is not a lab host only with ``confirm_send=True``, and AUTH secrets never
reach the transcript.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from mxtui.model import (
    Credentials,
    DataProgress,
    Envelope,
    Limits,
    Outcome,
    Reply,
    SessionEvent,
    Stage,
    StepFailure,
    StepResult,
    Timeouts,
    TLSInfo,
    TLSMode,
    TranscriptLine,
)
from mxtui.smtp import auth as sasl
from mxtui.smtp.dialer import Dialer, RealDialer, Route
from mxtui.smtp.message import END_OF_DATA, bdat_message, default_message, wire_body, xtext
from mxtui.smtp.protocol import (
    MalformedReply,
    ReplyTooLong,
    SMTPResponse,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPTimeoutError,
    TracingProtocol,
)
from mxtui.smtp.replies import parse_extensions, parse_reply
from mxtui.smtp.state import Phase, Transaction, TxStep
from mxtui.smtp.transcript import MASK, Transcript, secret_forms
from mxtui.text import printable, printable_bytes

if TYPE_CHECKING:
    from cryptography import x509

    from mxtui.smtp.tlsconf import TLSClientOptions

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
BDAT_CHUNK = 1024 * 1024
"""Bytes per BDAT chunk: a 20 MB message goes in 20 chunks, each with its own reply."""
Protocol = Literal["smtp", "esmtp", "lmtp"]
"""smtp: HELO, no extensions; esmtp: EHLO (the default); lmtp: LHLO and one reply per
recipient after the message (RFC 2033)."""
EventSink = Callable[[SessionEvent], None]


_BDAT_LAST = re.compile(r"BDAT\s+\d+\s+LAST\s*$", re.IGNORECASE)


def completes_message(line: str) -> bool:
    """True for a line that ends a message a server then takes responsibility for: a lone "."
    (the end of DATA, RFC 5321 §4.1.1.4) or ``BDAT n LAST`` (RFC 3030 §2)."""
    text = line.strip()
    return text == "." or _BDAT_LAST.match(text) is not None


class _StepError(Exception):
    """A step ended without a usable reply; carries what the StepResult should say."""

    def __init__(
        self,
        error: str,
        *,
        outcome: Outcome | None = None,
        failure: StepFailure | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.outcome = outcome
        self.failure = failure


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class Session:
    """A conversation with one server address, through a `Dialer`.

    `tls_name` is the host name the certificate should match (the MX host name); it defaults to
    the address. `trust_pem` adds certificates to trust besides the system's (the lab's).
    """

    def __init__(
        self,
        address: str,
        envelope: Envelope,
        *,
        dialer: Dialer | None = None,
        port: int | None = None,
        tls: TLSMode = "optional",
        tls_verify: bool = False,
        tls_name: str | None = None,
        trust_pem: bytes | None = None,
        timeouts: Timeouts | None = None,
        limits: Limits | None = None,
        on_event: EventSink | None = None,
        clock: Callable[[], float] = time.perf_counter,
        protocol: Protocol = "esmtp",
        pipelining: bool = False,
        chunking: bool = False,
        chunk_size: int = BDAT_CHUNK,
        xclient: tuple[tuple[str, str], ...] = (),
        tls_options: TLSClientOptions | None = None,
    ) -> None:
        self.address = address
        self.port = port
        self.dialer: Dialer = dialer or RealDialer()
        self.tls_mode: TLSMode = tls
        self.tls_verify = tls_verify
        self.tls_name = tls_name or address
        self._trust_pem = trust_pem
        if trust_pem:
            from mxtui.smtp.tlsinfo import load_trust

            load_trust(trust_pem)  # unusable PEM is a ValueError now, not at the handshake
        self.protocol: Protocol = protocol
        self.pipelining = pipelining
        self.pipeline_through: Stage = Stage.DATA
        """The last command a PIPELINING burst carries (MAIL, RCPT or DATA: --quit-after)."""
        self.chunking = chunking
        self.chunk_size = chunk_size
        self.xclient = xclient
        self.tls_options = tls_options
        self.timeouts = timeouts or Timeouts()
        self.limits = limits or Limits()
        self._on_event = on_event
        self._clock = clock
        self._t0 = clock()
        self.transcript = Transcript(listener=self._line_added)
        self.steps: list[StepResult] = []
        self.lab = self.dialer.is_lab(address, port)
        self.route: Route | None = None
        self.tls_info: TLSInfo | None = None
        self.tls_chain: tuple[x509.Certificate, ...] = ()
        """The certificates the server presented at STARTTLS, leaf first."""
        self.extensions: dict[str, str] = {}
        self._protocol: TracingProtocol | None = None
        self._stage: Stage | None = None
        self._rcpt_to = ""  # the address of the RCPT in progress (its StepResult names it)
        self._wire_cache: tuple[bytes, tuple[bytes, int]] | None = None
        self._bdat_cache: tuple[bytes, bytes] | None = None
        self._raw_reply: Reply | None = None
        self._envelope = envelope
        self.envelope = envelope
        self._reset_state()

    # -- state ---------------------------------------------------------------------------------

    def _reset_state(self) -> None:
        self.phase = Phase.IDLE
        self.greeting_reply: Reply | None = None
        self.tried: set[Stage] = set()
        """Optional stages already tried on this connection (STARTTLS, AUTH): never twice."""
        self._resume = Phase.READY
        self.stop_reason = ""
        self.transaction = Transaction()

    def _end_path(self) -> None:
        """A refusal ended the standard path: QUIT is all that is left (unless RSET forgets
        the refused transaction: then the path resumes where it stopped)."""
        if self.phase not in (Phase.CLOSED, Phase.ENDING):
            self._resume = self.phase
            self.phase = Phase.ENDING

    @property
    def greeting_ok(self) -> bool:
        return self.greeting_reply is not None and self.greeting_reply.klass == 2

    # Read-only views of the state, for the walk and the probe.

    @property
    def greeted(self) -> bool:
        """A greeting (of any code) was read on this connection."""
        return self.greeting_reply is not None

    @property
    def hello_done(self) -> bool:
        return self.phase is Phase.READY

    @property
    def ehlo_refused(self) -> bool:
        return self.phase is Phase.HELO

    @property
    def quit_sent(self) -> bool:
        return Stage.QUIT in self.tried

    @property
    def accepted(self) -> list[str]:
        """Recipients of the current transaction that RCPT accepted."""
        return self.transaction.accepted

    @property
    def rcpt_index(self) -> int:
        """How many of the envelope's recipients RCPT has been sent for."""
        return self.transaction.recipients_sent

    def retry_hello(self) -> None:
        """Start over with HELO after an EHLO the profile retries (RFC 5321 §3.2), even where
        the EHLO reply ended the standard path (a 4xx)."""
        if self.phase in (Phase.ENDING, Phase.HELLO):
            self.phase = Phase.HELO

    @property
    def envelope(self) -> Envelope:
        return self._envelope

    @envelope.setter
    def envelope(self, value: Envelope) -> None:
        """The envelope may change between steps (the app's editor); secrets are re-registered."""
        self._envelope = value
        self._default_message: bytes | None = None
        if value.credentials is not None:
            self.transcript.add_secrets(secret_forms(value.credentials))

    @property
    def connected(self) -> bool:
        return (
            self._protocol is not None
            and self._protocol.is_connected
            and self.phase is not Phase.CLOSED
        )

    @property
    def closed(self) -> bool:
        """The connection is over (or never came): nothing more can be said on it."""
        return self.phase is Phase.CLOSED

    @property
    def encrypted(self) -> bool:
        return self._protocol is not None and self._protocol.encrypted

    def _wants_tls(self) -> bool:
        if self.tls_mode == "required":
            return True
        return self.tls_mode == "optional" and "STARTTLS" in self.extensions

    def next_stage(self) -> Stage | None:
        """What a sending MTA would do next, or None when the conversation is over."""
        phase = self.phase
        if phase is Phase.IDLE:
            return Stage.CONNECT
        if phase is Phase.CLOSED:
            return None
        if phase is Phase.GREETING:
            return Stage.GREETING
        if phase is Phase.ENDING:
            return Stage.QUIT
        if phase is Phase.HELLO:
            return Stage.HELO if self.protocol == "smtp" else Stage.EHLO
        if phase is Phase.HELO:
            return Stage.HELO
        if not self.encrypted and Stage.STARTTLS not in self.tried and self._wants_tls():
            return Stage.STARTTLS
        if self.xclient and Stage.XCLIENT not in self.tried:
            return Stage.XCLIENT
        if self.envelope.credentials is not None and Stage.AUTH not in self.tried:
            return Stage.AUTH
        return self.transaction.next_stage(
            self.envelope.recipients, skip_data=self._uses_chunking()
        )

    async def step(self, *, confirm_send: bool = False) -> StepResult | None:
        """Do the next stage of the standard path; None when the conversation is over."""
        stage = self.next_stage()
        if stage is None:
            return None
        return await self.run_stage(stage, confirm_send=confirm_send)

    async def run_stage(self, stage: Stage, *, confirm_send: bool = False) -> StepResult:
        """Do one named stage (RCPT sends the next recipient not yet sent)."""
        actions: dict[Stage, Callable[[], Awaitable[StepResult]]] = {
            Stage.CONNECT: self.connect,
            Stage.GREETING: self.greeting,
            Stage.EHLO: self.ehlo,
            Stage.HELO: self.helo,
            Stage.STARTTLS: self.starttls,
            Stage.AUTH: self.auth,
            Stage.MAIL: self.mail,
            Stage.RCPT: self.rcpt,
            Stage.DATA: self.data,
            Stage.QUIT: self.quit,
            Stage.RSET: self.rset,
            Stage.NOOP: self.noop,
            Stage.XCLIENT: self.send_xclient,
        }
        if stage is Stage.DOT:
            return await self.send_message(confirm_send=confirm_send)
        action = actions.get(stage)
        if action is None:
            raise ValueError(f"{stage} is not a session step")
        return await action()

    # -- events --------------------------------------------------------------------------------

    def _now_ms(self) -> float:
        return (self._clock() - self._t0) * 1000.0

    def _line_added(self, line: TranscriptLine) -> None:
        if self._on_event is not None:
            self._on_event(line)

    def _emit(self, event: SessionEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)

    def note(self, text: str, *, tls: bool = False) -> None:
        """A line of the session's own (`=== ` in the text export)."""
        self.transcript.add("tls" if tls else "info", text, self._now_ms(), stage=self._stage)

    def _sent(self, text: str) -> None:
        self.transcript.add(
            "sent", text, self._now_ms(), encrypted=self.encrypted, stage=self._stage
        )

    def _received(self, text: str) -> None:
        self.transcript.add(
            "recv", text, self._now_ms(), encrypted=self.encrypted, stage=self._stage
        )

    def _finish(self, result: StepResult) -> StepResult:
        recipients = result.recipients or self._concerned(result.stage)
        result = replace(result, sender=self.envelope.mail_from, recipients=recipients)
        self.steps.append(result)
        self._emit(result)
        return result

    def _concerned(self, stage: Stage) -> tuple[str, ...]:
        """The recipients a step of `stage` is about (see `StepResult.recipients`); an RCPT
        names its own address (`_after_rcpt`; one that got no reply, the address in progress)."""
        if stage is Stage.RCPT:
            return (self._rcpt_to,) if self._rcpt_to else ()
        if stage in (Stage.DATA, Stage.DOT):
            return tuple(self.transaction.accepted)
        return self.envelope.recipients

    # -- the connection ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection now (no QUIT). Safe to call at any time."""
        protocol = self._protocol
        if protocol is not None and protocol.transport is not None:
            protocol.transport.close()
        if self.phase not in (Phase.IDLE, Phase.CLOSED):
            self.phase = Phase.CLOSED
            self.note("connection closed")

    async def aclose(self) -> None:
        self.close()
        await asyncio.sleep(0)

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _tls_context(self) -> ssl.SSLContext:
        from mxtui.smtp.tlsconf import client_context  # only when TLS is to start

        return client_context(self.tls_options)

    def _server_name(self) -> str | None:
        """The SNI name: as asked (`tls_options.sni`, "" for none), else the certificate name
        when it is a host name (RFC 6066 §3 allows no address)."""
        if self.tls_options is not None and self.tls_options.sni is not None:
            return self.tls_options.sni or None
        return None if _is_ip(self.tls_name) else self.tls_name

    async def connect(self) -> StepResult:
        """Open TCP (and TLS, in on-connect mode); the greeting is the next step."""
        self._stage = Stage.CONNECT
        if self.phase not in (Phase.IDLE, Phase.CLOSED):
            return self._refuse(Stage.CONNECT, "already connected")
        self._reset_state()
        self._protocol = None
        self.tls_info = None
        self.tls_chain = ()
        self.extensions = {}
        self.phase = Phase.GREETING
        start = self._clock()
        try:
            self.route = self.dialer.route(self.address, self.port)
        except ConnectionRefusedError as exc:
            self.route = None
            return self._connect_failed(start, Outcome.REFUSED, printable(str(exc)))
        where = f"{self.route.host} port {self.route.port}"
        lab = f" (lab host at {where})" if self.route.lab else ""
        shown_port = self.route.port if not self.route.lab else (self.port or 25)
        self.note(f"Trying {printable(self.address)} port {shown_port}{lab}...")
        tls_on_connect = self.tls_mode == "on-connect"
        try:
            _, protocol = await asyncio.wait_for(
                self.dialer.connect(
                    self.address,
                    self.port,
                    self._new_protocol,
                    ssl_context=self._tls_context() if tls_on_connect else None,
                    server_hostname=self._server_name(),
                ),
                self.timeouts.connect,
            )
        except TimeoutError:
            return self._connect_failed(
                start, Outcome.TIMEOUT, f"no connection within {self.timeouts.connect:g} s"
            )
        except ConnectionRefusedError as exc:
            return self._connect_failed(
                start, Outcome.REFUSED, f"connection refused ({printable(str(exc))})"
            )
        except ssl.SSLError as exc:
            return self._connect_failed(
                start, None, f"TLS handshake failed: {printable(str(exc))}", "tls-failed"
            )
        except ConnectionError as exc:
            return self._connect_failed(
                start, Outcome.DROPPED, f"connection lost: {printable(str(exc))}"
            )
        except OSError as exc:
            return self._connect_failed(
                start, Outcome.REFUSED, f"cannot connect: {printable(str(exc))}"
            )
        assert isinstance(protocol, TracingProtocol)
        self._protocol = protocol
        ms = (self._clock() - start) * 1000.0
        info = None
        failure: StepFailure | None = None
        error = ""
        if tls_on_connect and self.tls_info is not None:
            info = self.tls_info
            if self.tls_verify and not info.verified:
                failure, error = "tls-unverified", f"certificate rejected: {info.verify_error}"
                self.note(f"stopping: {error}")
                self.close()
        return self._finish(
            StepResult(Stage.CONNECT, (), None, ms, failure=failure, error=error, tls=info)
        )

    def _new_protocol(self) -> TracingProtocol:
        # Known to the session at once, so lines arriving during connect() are placed right.
        self._protocol = TracingProtocol(
            asyncio.get_running_loop(),
            limits=self.limits,
            on_line=self._received,
            on_connected=self._connected_note,
        )
        return self._protocol

    def _connected_note(self, transport: asyncio.BaseTransport) -> None:
        self.note(f"Connected to {printable(self.address)}.")
        sslobj = transport.get_extra_info("ssl_object")
        if sslobj is not None:
            self._tls_established(sslobj)
        self._stage = Stage.GREETING  # whatever arrives now is the greeting

    def _connect_failed(
        self,
        start: float,
        outcome: Outcome | None,
        error: str,
        failure: StepFailure | None = None,
    ) -> StepResult:
        self.phase = Phase.CLOSED
        self.note(error)
        ms = (self._clock() - start) * 1000.0
        return self._finish(
            StepResult(Stage.CONNECT, (), None, ms, outcome=outcome, failure=failure, error=error)
        )

    def _tls_established(self, sslobj: object = None) -> TLSInfo:
        if sslobj is None:
            assert self._protocol is not None and self._protocol.transport is not None
            sslobj = self._protocol.transport.get_extra_info("ssl_object")
        from mxtui.smtp.tlsinfo import (  # cryptography: only once TLS is up
            describe,
            load_trust,
            presented_chain,
        )

        trust = load_trust(self._trust_pem) if self._trust_pem else ()
        self.tls_chain = tuple(presented_chain(sslobj))
        info = describe(sslobj, self.tls_name, trust, list(self.tls_chain))
        self.tls_info = info
        for line in info.lines():
            self.note(line, tls=True)
        return info

    def _held(self, stage: Stage, confirm_send: bool, end: str) -> StepResult | None:
        """The one gate before anything that completes a message (the dot step, BDAT … LAST,
        or a raw "." or BDAT … LAST): to a host that is not a lab host it passes only with
        ``confirm_send=True``; otherwise the step is held (None: go on)."""
        if self.lab or confirm_send:
            return None
        why = f"the message and its {end} go to a host that is not a lab host; confirm to send them"
        self.note(f"held: {why}")
        return self._finish(StepResult(stage, (), None, 0.0, failure="held", error=why))

    def _refuse(self, stage: Stage, why: str) -> StepResult:
        """A step the session will not attempt (nothing is sent)."""
        self.note(f"not sent: {why}")
        return self._finish(StepResult(stage, (), None, 0.0, failure="not-sent", error=why))

    # -- the generic exchange ------------------------------------------------------------------

    async def _exchange(
        self,
        stage: Stage,
        shown: tuple[str, ...],
        action: Callable[[TracingProtocol], Awaitable[SMTPResponse]],
        *,
        more: list[str] | None = None,
        echo: bool = True,
    ) -> StepResult:
        """Show `shown` as sent (unless already shown: `echo=False`), run `action`, and turn
        whatever happens into a StepResult.

        `more` holds lines the action showed itself as it sent them (the end-of-data dot, once
        the message is written): they count as sent only if the action got that far.
        """
        self._stage = stage
        shown = tuple(self.transcript.scrub(text, stage) for text in shown)
        protocol = self._protocol
        start = self._clock()
        # A step that only reads (the greeting) may still read a reply that came before the
        # server hung up: Postfix's "421 4.3.2" at connect arrives, then the close.
        readable = protocol is not None and (not shown or not echo) and protocol.reply_waiting
        if protocol is not None and not self.closed and not protocol.is_connected and not readable:
            # The server hung up between steps: that is what this step meets, a dropped line.
            return self._failed(
                stage, (), start,
                _StepError("the server had closed the connection", outcome=Outcome.DROPPED),
            )  # fmt: skip
        if protocol is None or not (self.connected or (readable and not self.closed)):
            return self._refuse(stage, "not connected")
        for text in shown if echo else ():
            self._sent(text)
        extra = more if more is not None else []
        try:
            response = await action(protocol)
            reply = self._reply(response.code, protocol.last_lines, stage)
        except _StepError as exc:
            return self._failed(stage, shown + tuple(extra), start, exc)
        except MalformedReply:
            return self._failed(
                stage, shown + tuple(extra), start, _StepError(
                    "the server sent a line that is not an SMTP reply", failure="malformed-reply"
                )
            )  # fmt: skip
        except ReplyTooLong as exc:
            return self._failed(
                stage,
                shown + tuple(extra),
                start,
                _StepError(exc.message, failure="reply-too-long"),
            )
        except SMTPResponseException as exc:  # STARTTLS answered with something other than 220
            reply = self._reply(exc.code, protocol.last_lines, stage)
        except SMTPTimeoutError:
            return self._failed(
                stage, shown + tuple(extra), start, _StepError(
                    f"no reply within {self.timeouts.reply:g} s", outcome=Outcome.TIMEOUT
                )
            )  # fmt: skip
        except (SMTPServerDisconnected, ConnectionError):
            return self._failed(
                stage, shown + tuple(extra), start, _StepError(
                    "the server closed the connection", outcome=Outcome.DROPPED
                )
            )  # fmt: skip
        ms = (self._clock() - start) * 1000.0
        result = StepResult(stage, shown + tuple(extra), reply, ms, replies=(reply,))
        if reply.code == 421:
            self.note("421: the server is closing the connection")
            self.close()
        return result

    def _reply(self, code: int, lines: tuple[str, ...], stage: Stage) -> Reply:
        """The reply as the protocol code reads it (kept as `_raw_reply`: EHLO keywords, AUTH
        challenges), and returned as it is shown and saved: secrets masked, codes unchanged."""
        raw = parse_reply(code, lines)
        self._raw_reply = raw
        shown = tuple(self.transcript.scrub(line, stage) for line in lines)
        if shown == lines:
            return raw
        return replace(parse_reply(code, shown), enhanced=raw.enhanced)

    def _failed(
        self, stage: Stage, shown: tuple[str, ...], start: float, exc: _StepError
    ) -> StepResult:
        ms = (self._clock() - start) * 1000.0
        self.note(exc.error)
        self.stop_reason = exc.error
        self.close()
        return self._finish(
            StepResult(
                stage, shown, None, ms, outcome=exc.outcome, failure=exc.failure, error=exc.error
            )
        )

    async def _command(self, stage: Stage, line: str, *, shown: str | None = None) -> StepResult:
        """Send one command line and read its reply."""
        if _CONTROL.search(line):
            self._stage = stage
            return self._refuse(stage, "the command contains control characters")
        data = line.encode("utf-8")
        timeout = self.timeouts.reply
        return await self._exchange(
            stage,
            (shown if shown is not None else printable(line),),
            lambda p: p.execute_command(data, timeout=timeout),
        )

    # -- the stages ----------------------------------------------------------------------------

    async def greeting(self) -> StepResult:
        """Wait for the server's greeting (220, or a refusal such as 421/554)."""
        timeout = self.timeouts.reply
        result = await self._exchange(
            Stage.GREETING, (), lambda p: p.read_response(timeout=timeout)
        )
        self.greeting_reply = result.reply
        if self.phase is Phase.GREETING:
            ok = result.reply is not None and result.reply.klass == 2
            self.phase = Phase.HELLO if ok else Phase.ENDING
        return self._finish(result) if result.reply is not None else result

    async def ehlo(self, name: str | None = None) -> StepResult:
        """EHLO; a 5xx makes HELO the next stage (RFC 5321 §3.2)."""
        verb = "LHLO" if self.protocol == "lmtp" else "EHLO"  # RFC 2033 §4.1
        result = await self._command(Stage.EHLO, f"{verb} {name or self.envelope.ehlo_name}")
        if result.reply is not None:
            if result.reply.klass == 2:
                self.phase = Phase.READY
                raw = self._raw_reply if self._raw_reply is not None else result.reply
                self.extensions = parse_extensions(raw)
            elif result.reply.klass == 5:
                self.phase = Phase.HELO
            else:
                self._end_path()
            return self._finish(result)
        return result

    async def helo(self, name: str | None = None) -> StepResult:
        result = await self._command(Stage.HELO, f"HELO {name or self.envelope.ehlo_name}")
        if result.reply is not None:
            if result.reply.klass == 2:
                self.phase = Phase.READY
                self.extensions = {}
            else:
                self._end_path()
            return self._finish(result)
        return result

    async def starttls(self) -> StepResult:
        """STARTTLS, the handshake, and the certificate facts; EHLO is due again after it."""
        self.tried.add(Stage.STARTTLS)
        if self.encrypted:
            self._stage = Stage.STARTTLS
            return self._refuse(Stage.STARTTLS, "the connection is already encrypted")
        context = self._tls_context()
        timeout = self.timeouts.reply
        handshake = self.timeouts.connect
        server_name = self._server_name()

        async def upgrade(p: TracingProtocol) -> SMTPResponse:
            # aiosmtplib's start_tls reads the reply and runs the handshake with one timeout;
            # its handshake errors are told apart here.
            try:
                return await p.start_tls(
                    context, server_hostname=server_name, timeout=min(timeout, handshake)
                )
            except ssl.SSLError as exc:
                raise _StepError(
                    f"TLS handshake failed: {printable(str(exc))}", failure="tls-failed"
                ) from None

        result = await self._exchange(Stage.STARTTLS, ("STARTTLS",), upgrade)
        if result.reply is None:
            return result
        if result.reply.code != 220:
            if self.tls_mode == "required":
                self._end_path()
                self.note("STARTTLS was required and the server did not start it")
            return self._finish(result)
        info = self._tls_established()
        self.extensions = {}
        self.phase = Phase.HELLO  # RFC 3207 §4.2: forget what was learnt before TLS
        if self.tls_verify and not info.verified:
            error = f"certificate rejected: {info.verify_error}"
            self.note(f"stopping: {error}")
            self.close()
            return self._finish(
                StepResult(
                    Stage.STARTTLS, result.sent, result.reply, result.ms,
                    failure="tls-unverified", error=error, replies=result.replies, tls=info,
                )
            )  # fmt: skip
        return self._finish(
            StepResult(
                Stage.STARTTLS, result.sent, result.reply, result.ms,
                replies=result.replies, tls=info,
            )
        )  # fmt: skip

    async def send_xclient(self) -> StepResult:
        """XCLIENT (Postfix): tell the server who the real client is (ADDR=, NAME=, HELO=…),
        as a proxy or a test of client restrictions does. The server greets anew with 220, so
        EHLO is due again; sent only when the server offers XCLIENT."""
        self.tried.add(Stage.XCLIENT)
        self._stage = Stage.XCLIENT
        if "XCLIENT" not in self.extensions:
            result = self._refuse(Stage.XCLIENT, "Host did not advertise XCLIENT")
            self._end_path()
            return result
        offered = {a.upper() for a in self.extensions["XCLIENT"].split()}
        unknown = [name for name, _ in self.xclient if name.upper() not in offered]
        if unknown:
            self.note(f"XCLIENT: the server does not list {', '.join(unknown)}")
        attrs = " ".join(f"{name.upper()}={xtext(value)}" for name, value in self.xclient)
        result = await self._command(Stage.XCLIENT, f"XCLIENT {attrs}")
        if result.reply is None:
            return result
        if result.reply.code == 220:
            self.phase = Phase.HELLO  # a new greeting: hello again, extensions anew
            self.extensions = {}
        else:
            self._end_path()
        return self._finish(replace(result, uses=("XCLIENT",)))

    async def auth(self, mechanism: str | None = None) -> StepResult:
        """AUTH with the envelope's credentials (RFC 4954), only where it is safe and offered.

        Not sent when the server did not advertise AUTH, nor on an unencrypted connection to a
        host that is not a lab host unless the credentials allow cleartext: both end the
        conversation, or are skipped with a note when the credentials are optional. Each
        mechanism in common is tried in order until one succeeds (as swaks does).
        """
        self.tried.add(Stage.AUTH)
        self._stage = Stage.AUTH
        creds = self.envelope.credentials
        if creds is None:
            return self._refuse(Stage.AUTH, "no AUTH account was given")
        advertised = sasl.offered(self.extensions)
        wanted = (mechanism,) if mechanism else creds.mechanisms
        unusable = [m for m in wanted if m.upper() not in sasl.MECHANISMS]
        mechanisms: list[str] = []
        if unusable:
            why = f"AUTH mechanism {printable(unusable[0])} is not supported by mxtui"
        elif advertised is None:
            why = "Host did not advertise authentication"
        elif not self.encrypted and not self.lab and not creds.cleartext:
            why = (
                "the connection is not encrypted, so the password would cross the network "
                "readable: start TLS first, or allow AUTH in the clear (--auth-cleartext)"
            )
        else:
            mechanisms = sasl.choose(wanted, advertised)
            why = "" if mechanisms else self._no_common_mechanism(wanted, advertised)
        if why:
            if creds.optional:
                self.note(f"AUTH skipped: {why} (optional)")
                return self._finish(
                    StepResult(Stage.AUTH, (), None, 0.0, failure="skipped", error=why)
                )
            result = self._refuse(Stage.AUTH, why)
            self._end_path()
            return result
        start = self._clock()
        sent: list[str] = []
        replies: list[Reply] = []
        for mech in mechanisms:
            result = await self._auth_with(mech, creds)
            sent.extend(result.sent)
            replies.extend(result.replies)
            if result.reply is None:  # no usable reply: the step already says why
                return result
            if result.reply.code == 235 or result.reply.klass != 5 or not self.connected:
                break
        ms = (self._clock() - start) * 1000.0
        final = StepResult(Stage.AUTH, tuple(sent), replies[-1], ms, replies=tuple(replies))
        if replies[-1].code != 235:
            if creds.optional and self.connected:
                self.note("AUTH failed; going on without it (optional)")
            else:
                self._end_path()
        return self._finish(final)

    @staticmethod
    def _no_common_mechanism(wanted: tuple[str, ...], advertised: tuple[str, ...]) -> str:
        ours = ", ".join(w.upper() for w in wanted) or ", ".join(sasl.DEFAULT_ORDER)
        theirs = printable(" ".join(advertised)) or "none"
        return f"no AUTH mechanism in common: the server offers {theirs}; mxtui would use {ours}"

    async def _auth_with(self, mech: str, creds: Credentials) -> StepResult:
        """One mechanism's exchange: the AUTH command, then a response to each 334 challenge.
        Every line that carries a secret is shown as ``****``."""
        timeout = self.timeouts.reply
        start = self._clock()
        steps: list[tuple[str, Callable[[str], bytes]]]
        if mech == "PLAIN":
            first = (f"AUTH PLAIN {MASK}", b"AUTH PLAIN " + sasl.plain_response(creds))
            steps = []
        elif mech == "XOAUTH2":
            first = (f"AUTH XOAUTH2 {MASK}", b"AUTH XOAUTH2 " + sasl.xoauth2_response(creds))
            steps = [("", lambda _challenge: b"")]  # RFC 7628 §3.2.3: a 334 error asks for this
        elif mech == "LOGIN":
            user, password = sasl.login_responses(creds)
            first = ("AUTH LOGIN", b"AUTH LOGIN")
            steps = [(MASK, lambda _c: user), (MASK, lambda _c: password)]
        else:  # CRAM-MD5
            first = ("AUTH CRAM-MD5", b"AUTH CRAM-MD5")
            steps = [(MASK, lambda challenge: sasl.cram_md5_response(creds, challenge))]
        replies: list[Reply] = []
        sent = [first[0]]
        line = first[1]
        result = await self._exchange(
            Stage.AUTH, (first[0],), lambda p: p.execute_command(line, timeout=timeout)
        )
        for shown, answer in steps:
            if result.reply is None:
                return result
            replies.append(result.reply)
            if result.reply.code != 334:
                break
            challenge = self._raw_reply.text if self._raw_reply is not None else ""
            try:
                data = answer(challenge)
            except ValueError as exc:
                self.note(f"AUTH {mech}: {exc}; cancelling with '*' (RFC 4954 §4)")
                data, shown = b"*", "*"
            sent.append(shown)
            result = await self._exchange(
                Stage.AUTH, (shown,), lambda p, d=data: p.execute_command(d, timeout=timeout)
            )
        else:
            if result.reply is None:
                return result
            replies.append(result.reply)
        ms = (self._clock() - start) * 1000.0
        return StepResult(Stage.AUTH, tuple(sent), replies[-1], ms, replies=tuple(replies))

    def _message(self) -> bytes:
        """The envelope's message, or a test message made once (so SIZE matches what is sent)."""
        if self.envelope.message:
            return self.envelope.message
        if self._default_message is None:
            self._default_message = default_message(self.envelope)
        return self._default_message

    def _wire(self, message: bytes) -> tuple[bytes, int]:
        """`wire_body` (the message as sent before its dot, and its line count), remembered for
        the last message: MAIL needs its size, DOT its bytes."""
        cached = self._wire_cache
        if cached is None or cached[0] is not message:
            cached = self._wire_cache = (message, wire_body(message))
        return cached[1]

    def _addresses_ascii(self) -> bool:
        return all(a.isascii() for a in (self.envelope.mail_from, *self.envelope.recipients))

    def _uses_chunking(self) -> bool:
        """BDAT instead of DATA: asked for, and offered (RFC 3030)."""
        return self.chunking and "CHUNKING" in self.extensions

    def _pipelines(self) -> bool:
        return self.pipelining and "PIPELINING" in self.extensions

    def _message_size(self) -> int:
        """The size SIZE declares: the message as it goes on the wire, without the dot."""
        if self._uses_chunking():
            return len(self._chunk_payload())
        return len(self._wire(self._message())[0])

    def _chunk_payload(self) -> bytes:
        """The message as BDAT sends it: CRLF line ends, no dot-stuffing, no end dot."""
        return self._wire_cache_bdat(self._message())

    def _wire_cache_bdat(self, message: bytes) -> bytes:
        cached = self._bdat_cache
        if cached is None or cached[0] is not message:
            cached = self._bdat_cache = (message, bdat_message(message))
        return cached[1]

    def mail_parameters(self) -> list[str]:
        """ESMTP MAIL parameters the server advertised and this message needs or the sender
        asked for: SIZE (RFC 1870), BODY=8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), RET= and
        ENVID= (DSN, RFC 3461), REQUIRETLS (RFC 8689)."""
        params, _ = self._mail_parameters()
        return params

    def _mail_parameters(self) -> tuple[list[str], list[str]]:
        params: list[str] = []
        uses: list[str] = []
        ext = self.extensions
        message = self._message()
        if "SIZE" in ext:
            params.append(f"SIZE={self._message_size()}")
            uses.append("SIZE")
        if "8BITMIME" in ext and not message.isascii():
            params.append("BODY=8BITMIME")
            uses.append("8BITMIME")
        if "SMTPUTF8" in ext and not self._addresses_ascii():
            params.append("SMTPUTF8")
            uses.append("SMTPUTF8")
        dsn = self.envelope.dsn
        if dsn is not None and "DSN" in ext:
            if dsn.ret:
                params.append(f"RET={dsn.ret.upper()}")
            if dsn.envid:
                params.append(f"ENVID={xtext(dsn.envid)}")
            if dsn.ret or dsn.envid:
                uses.append("DSN")
        if self.envelope.requiretls and "REQUIRETLS" in ext:
            params.append("REQUIRETLS")
            uses.append("REQUIRETLS")
        return params, uses

    def rcpt_parameters(self, recipient: str) -> tuple[list[str], list[str]]:
        """NOTIFY= and ORCPT= (DSN, RFC 3461 §4) where the server offers DSN."""
        dsn = self.envelope.dsn
        if dsn is None or "DSN" not in self.extensions or not (dsn.notify or dsn.orcpt):
            return [], []
        params = []
        if dsn.notify:
            params.append(f"NOTIFY={','.join(n.upper() for n in dsn.notify)}")
        if dsn.orcpt:
            params.append(f"ORCPT=rfc822;{xtext(recipient)}")
        return params, ["DSN"]

    def _mail_refusal(self) -> str:
        """Why MAIL must not be sent at all here, or ""."""
        ext = self.extensions
        if not self._addresses_ascii() and "SMTPUTF8" not in ext:
            return (
                "an address is not ASCII and the server does not offer SMTPUTF8 "
                "(RFC 6531 §3.2: such an address is not sent to it)"
            )
        if self.envelope.requiretls:
            if not self.encrypted:
                return "REQUIRETLS was asked for and the connection is not encrypted (RFC 8689)"
            if "REQUIRETLS" not in ext:
                return (
                    "REQUIRETLS was asked for and the server does not offer it: RFC 8689 §4.1 "
                    "says the message is not sent to it (a sender bounces it instead)"
                )
        return ""

    def _mail_notes(self) -> None:
        """Say what the server's extensions change before MAIL goes out."""
        ext = self.extensions
        dsn = self.envelope.dsn
        if dsn is not None and "DSN" not in ext:
            self.note(
                "the server does not offer DSN: NOTIFY, RET, ENVID and ORCPT are not sent, "
                "so its own defaults decide which notifications you get (RFC 3461)"
            )
        limit = ext.get("SIZE", "").strip()
        if limit.isdigit() and int(limit) > 0 and self._message_size() > int(limit):
            self.note(
                f"the message ({self._message_size()} bytes) is over the server's declared "
                f"SIZE limit ({int(limit)} bytes): expect 552 5.3.4 (RFC 1870 §6)"
            )
        if self.chunking and "CHUNKING" not in ext:
            self.note("the server does not offer CHUNKING: the message goes with DATA")
        if self.pipelining and "PIPELINING" not in ext:
            self.note("the server does not offer PIPELINING: one command at a time")

    async def mail(self) -> StepResult:
        """MAIL FROM with the parameters the server offers and the message needs; with
        PIPELINING asked for and offered, MAIL, every RCPT and DATA go as one burst."""
        refusal = self._mail_refusal()
        if refusal:
            self._stage = Stage.MAIL
            result = self._refuse(Stage.MAIL, refusal)
            self._end_path()
            return result
        self._mail_notes()
        params, uses = self._mail_parameters()
        line = " ".join([f"MAIL FROM:<{self.envelope.mail_from}>", *params])
        if self._pipelines():
            return await self._pipeline(line, uses)
        result = await self._command(Stage.MAIL, line)
        return self._after_mail(result, uses)

    def _after_mail(self, result: StepResult, uses: list[str], *, fresh: bool = True) -> StepResult:
        """MAIL's reply starts a new transaction (`fresh`; a pipelined burst started it before
        its RCPTs were counted)."""
        if result.reply is None:
            return result
        if fresh:
            self.transaction = Transaction()
        if result.reply.klass == 2:
            self.transaction.step = TxStep.RCPT
        else:
            self._end_path()
        return self._finish(self._used(result, uses))

    def _used(self, result: StepResult, uses: list[str]) -> StepResult:
        """The step with the extensions it used, also said in the transcript."""
        if not uses:
            return result
        self.note(f"{result.stage.upper()} used: {', '.join(uses)}")
        return replace(result, uses=tuple(uses))

    def _next_recipient(self) -> str | None:
        tx = self.transaction
        if tx.recipients_sent >= len(self.envelope.recipients):
            return None
        tx.recipients_sent += 1
        return self.envelope.recipients[tx.recipients_sent - 1]

    async def rcpt(self, recipient: str | None = None) -> StepResult:
        """RCPT TO for `recipient`, or for the next envelope recipient not yet sent."""
        if recipient is None:
            recipient = self._next_recipient()
            if recipient is None:
                self._stage = Stage.RCPT
                self._rcpt_to = ""
                return self._refuse(Stage.RCPT, "every recipient has been sent")
        params, uses = self.rcpt_parameters(recipient)
        self._rcpt_to = recipient
        result = await self._command(Stage.RCPT, " ".join([f"RCPT TO:<{recipient}>", *params]))
        return self._after_rcpt(result, recipient, uses)

    def _after_rcpt(self, result: StepResult, recipient: str, uses: list[str]) -> StepResult:
        if result.reply is None:
            return result
        if result.reply.klass == 2:
            self.transaction.accepted.append(recipient)
        return self._finish(replace(self._used(result, uses), recipients=(recipient,)))

    async def data(self) -> StepResult:
        """DATA; a 354 makes the message (and its dot) the next step."""
        return self._after_data(await self._command(Stage.DATA, "DATA"), [])

    def _after_data(self, result: StepResult, uses: list[str]) -> StepResult:
        if result.reply is None:
            return result
        if result.reply.code == 354:
            self.transaction.step = TxStep.MESSAGE
        else:
            self._end_path()
        return self._finish(self._used(result, uses))

    async def _pipeline(self, mail_line: str, mail_uses: list[str]) -> StepResult:
        """RFC 2920: MAIL, the RCPTs and DATA written at once, then the replies read in order;
        each reply pairs with the command at the same place in the burst."""
        self.transaction = Transaction()
        commands: list[tuple[Stage, str, str | None, list[str]]] = [
            (Stage.MAIL, mail_line, None, [*mail_uses, "PIPELINING"])
        ]
        if self.pipeline_through is not Stage.MAIL:
            while (recipient := self._next_recipient()) is not None:
                params, uses = self.rcpt_parameters(recipient)
                line = " ".join([f"RCPT TO:<{recipient}>", *params])
                commands.append((Stage.RCPT, line, recipient, [*uses, "PIPELINING"]))
            if self.pipeline_through not in (Stage.MAIL, Stage.RCPT) and not (
                self._uses_chunking()
            ):
                commands.append((Stage.DATA, "DATA", None, ["PIPELINING"]))
        for _, line, _, _ in commands:
            if _CONTROL.search(line):
                self._stage = Stage.MAIL
                result = self._refuse(Stage.MAIL, "the command contains control characters")
                self._end_path()
                return result
        protocol = self._protocol
        if protocol is None or not self.connected:
            self._stage = Stage.MAIL
            return self._refuse(Stage.MAIL, "not connected")
        self._stage = Stage.MAIL
        self.note(f"PIPELINING: {len(commands)} commands in one write (RFC 2920)")
        for stage, line, _, _ in commands:
            self._stage = stage
            self._sent(printable(line))
        protocol.write(b"".join(line.encode("utf-8") + b"\r\n" for _, line, _, _ in commands))
        timeout = self.timeouts.reply
        first: StepResult | None = None
        pairs: list[str] = []
        for stage, line, recipient, uses in commands:
            result = await self._exchange(
                stage, (printable(line),), lambda p: p.read_response(timeout=timeout), echo=False
            )
            if stage is Stage.MAIL:
                result = self._after_mail(result, uses, fresh=False)
            elif stage is Stage.RCPT:
                assert recipient is not None
                result = self._after_rcpt(result, recipient, uses)
            else:
                result = self._after_data(result, uses)
            first = first or result
            code = result.reply.code if result.reply else "no reply"
            pairs.append(f"{line.split(':', 1)[0].split(' ', 1)[0]} → {code}")
            if result.reply is None:
                break
        self._stage = Stage.MAIL
        self.note(f"replies paired in order: {'; '.join(pairs)}")
        assert first is not None
        return first

    async def send_message(self, *, confirm_send: bool = False) -> StepResult:
        """Write the message and its end (the dot, or BDAT … LAST), and read the reply.

        To a host that is not a lab host this happens only with ``confirm_send=True``: the end of
        the message is what makes a real server take responsibility for delivering it. Over LMTP
        one reply comes per accepted recipient (RFC 2033 §4.2).
        """
        self._stage = Stage.DOT
        chunked = self._uses_chunking()
        held = self._held(Stage.DOT, confirm_send, "BDAT … LAST" if chunked else "end-of-data dot")
        if held is not None:
            return held
        if chunked:
            result = await self._send_chunks()
            uses = ["CHUNKING"]
        else:
            result = await self._send_dotted()
            uses = []
        self.transaction.step = TxStep.DONE
        if result.reply is None:
            return result
        if self.protocol == "lmtp" and len(self.transaction.accepted) > 1 and self.connected:
            result = await self._lmtp_replies(result)
        if any(r.klass != 2 for r in (result.replies or (result.reply,))):
            self._end_path()
        return self._finish(self._used(result, uses))

    async def _send_dotted(self) -> StepResult:
        payload, lines = self._wire(self._message())
        body = self._show_message(payload, len(payload), lines)
        dot = "."
        timeout = self.timeouts.reply
        total = len(payload) + len(END_OF_DATA)
        written: list[str] = []  # the dot, once every byte of the message has been written

        def progress(sent: int, of: int) -> None:
            self._emit(DataProgress(sent, of))
            if sent == of and not written:
                written.append(dot)
                self._sent(dot)

        async def write(p: TracingProtocol) -> SMTPResponse:
            try:
                return await p.write_message(
                    payload, end=END_OF_DATA, timeout=timeout, progress=progress
                )
            except SMTPServerDisconnected:
                if not written:
                    raise _StepError(
                        "the server closed the connection before the whole message was written "
                        f"({total} bytes): the end-of-data dot was not sent",
                        outcome=Outcome.DROPPED,
                    ) from None
                raise _StepError(
                    "the server closed the connection without answering the dot: the message "
                    "was not taken (a sender tries again later)",
                    outcome=Outcome.DROPPED,
                ) from None

        self._emit(DataProgress(0, total))
        return await self._exchange(Stage.DOT, tuple(body), write, more=written)

    async def _send_chunks(self) -> StepResult:
        """RFC 3030: the message in BDAT chunks of `chunk_size` bytes, the last one LAST; each
        chunk gets its own reply."""
        data = self._chunk_payload()
        total = len(data)
        size = max(1, self.chunk_size)
        timeout = self.timeouts.reply
        start = self._clock()
        sent: list[str] = []
        replies: list[Reply] = []
        offsets = list(range(0, total, size)) or [0]
        self._emit(DataProgress(0, total))
        result: StepResult | None = None
        for i, offset in enumerate(offsets):
            chunk = data[offset : offset + size]
            last = i == len(offsets) - 1
            header = f"BDAT {len(chunk)}{' LAST' if last else ''}"
            shown = (header, *self._show_message(chunk, len(chunk))) if i == 0 else (header,)
            payload = header.encode() + b"\r\n" + chunk
            done = offset + len(chunk)

            def progress(_sent: int, _of: int, done: int = done) -> None:
                self._emit(DataProgress(done, total))

            result = await self._exchange(
                Stage.DOT,
                shown,
                lambda p, b=payload: p.write_message(b, timeout=timeout, progress=progress),
            )
            sent.extend(shown)
            if result.reply is None:
                return result
            replies.append(result.reply)
            if result.reply.klass != 2:
                break
        assert result is not None and result.reply is not None
        ms = (self._clock() - start) * 1000.0
        return StepResult(Stage.DOT, tuple(sent), replies[-1], ms, replies=tuple(replies))

    async def _lmtp_replies(self, first: StepResult) -> StepResult:
        """After the message, LMTP answers once per accepted recipient, in RCPT order."""
        assert first.reply is not None
        accepted = self.transaction.accepted
        replies = [first.reply]
        timeout = self.timeouts.reply
        for _ in accepted[1:]:
            more = await self._exchange(
                Stage.DOT, (), lambda p: p.read_response(timeout=timeout), echo=False
            )
            if more.reply is None:
                break
            replies.append(more.reply)
        for recipient, reply in zip(accepted, replies, strict=False):
            verdict = {2: "delivered", 4: "deferred (try again later)", 5: "bounced"}.get(
                reply.klass, "unclear"
            )
            self.note(f"LMTP: <{printable(recipient)}> {reply.code}: {verdict}")
        worst = max(replies, key=lambda r: r.klass)
        return replace(first, reply=worst, replies=tuple(replies))

    def _show_message(
        self, payload: bytes, body_end: int, lines_in_all: int | None = None
    ) -> tuple[str, ...]:
        """The first lines of `payload[:body_end]` for the transcript, and a count of the rest
        (from `lines_in_all`, the number of CRLF-ended lines up to `body_end`, when known)."""
        limit = self.limits.shown_message_lines
        lines: list[str] = []
        pos = 0
        while pos < body_end and len(lines) < limit:
            end = payload.find(b"\r\n", pos, body_end)
            end = body_end - 2 if end < 0 else end
            lines.append(printable_bytes(payload[pos:end], limit=self.limits.line_bytes))
            pos = end + 2
        if pos < body_end:
            rest = (
                lines_in_all - len(lines)
                if lines_in_all is not None
                else payload.count(b"\n", pos, body_end)  # all CRLF by now
            )
            lines.append(
                f"[... {rest} more lines, {body_end - pos} bytes, not shown; "
                f"message {body_end} bytes in all ...]"
            )
        return tuple(lines)

    async def quit(self) -> StepResult:
        """QUIT, then close. In the middle of DATA a QUIT would be message text, so the
        connection is closed instead and the server discards the unfinished message."""
        self.tried.add(Stage.QUIT)
        if self.transaction.step is TxStep.MESSAGE and self.connected:
            self._stage = Stage.QUIT
            self.note("in DATA, QUIT would be message text: closing the connection instead")
            self.close()
            return self._finish(StepResult(Stage.QUIT, (), None, 0.0))
        result = await self._command(Stage.QUIT, "QUIT")
        if self.phase is not Phase.CLOSED and not self.connected:
            self.phase = Phase.CLOSED  # QUIT could not be sent: nothing is left to say
        if result.reply is not None:
            self.close()
            return self._finish(result)
        return result

    async def rset(self) -> StepResult:
        """RSET: abandon the transaction (RFC 5321 §4.1.1.5); MAIL is next again."""
        result = await self._command(Stage.RSET, "RSET")
        if result.reply is not None:
            if result.reply.klass == 2:
                self.transaction = Transaction()
                if self.phase is Phase.ENDING and self.greeting_ok:
                    self.phase = self._resume  # the refused transaction is forgotten
            return self._finish(result)
        return result

    async def noop(self) -> StepResult:
        result = await self._command(Stage.NOOP, "NOOP")
        return self._finish(result) if result.reply is not None else result

    async def raw(self, line: str, *, confirm_send: bool = False) -> StepResult:
        """Send any line as typed (VRFY, EXPN, HELP, commands out of order); the standard path's
        state is not changed, so the session's next step is what it was. A line that completes
        a message (a lone ".", BDAT … LAST) is held like the dot step (see `_held`)."""
        line = line.rstrip("\r\n")
        if not line.strip():
            self._stage = Stage.RAW
            return self._refuse(Stage.RAW, "empty command")
        if completes_message(line):
            self._stage = Stage.RAW
            held = self._held(Stage.RAW, confirm_send, "end (" + printable(line.strip()) + ")")
            if held is not None:
                return held
        result = await self._command(Stage.RAW, line)
        return self._finish(result) if result.reply is not None else result
