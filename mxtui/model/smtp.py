"""The SMTP conversation: stages, replies, transcript lines, the envelope and each step's result."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Literal

from mxtui.model._json import JsonForm, Key


class Stage(StrEnum):
    """A point in a delivery where something can go right or wrong.

    The first twelve are the stages the decision engine knows (`mxtui explain --stage`); the
    rest are commands a person can send by hand in the session.
    """

    CONNECT = "connect"
    GREETING = "greeting"
    EHLO = "ehlo"
    HELO = "helo"
    STARTTLS = "starttls"
    AUTH = "auth"
    MAIL = "mail"
    RCPT = "rcpt"
    DATA = "data"
    DOT = "dot"
    QUIT = "quit"
    DNS = "dns"
    RSET = "rset"
    NOOP = "noop"
    RAW = "raw"
    XCLIENT = "xclient"


DECISION_STAGES: tuple[Stage, ...] = tuple(Stage)[:12]


class Outcome(StrEnum):
    """Things that happen instead of a reply (`mxtui explain --outcome`)."""

    REFUSED = "refused"
    TIMEOUT = "timeout"
    DROPPED = "dropped"
    NXDOMAIN = "nxdomain"
    NULL_MX = "null-mx"
    DNS_TEMPFAIL = "dns-tempfail"
    NO_ADDRESS = "no-address"
    """The MX hosts (or the domain itself, without MX) have no address the sender can dial."""
    # The sender's TLS policy (DANE, RFC 7672; MTA-STS, RFC 8461) refusing a host:
    TLS_NOT_OFFERED = "tls-not-offered"
    """TLS is required for this host (by policy) and the server does not offer STARTTLS."""
    DANE_FAIL = "dane-fail"
    """The certificate chain matches none of the host's usable TLSA records."""
    STS_FAIL = "sts-fail"
    """MTA-STS: the certificate does not verify for the host (or for the policy's names)."""
    TLSA_ERROR = "tlsa-error"
    """The TLSA lookup failed or was bogus: a DANE sender does not use this host now."""
    STS_NOT_LISTED = "sts-not-listed"
    """MTA-STS enforce: the MX host matches no mx line of the policy."""


@dataclass(frozen=True)
class Reply(JsonForm):
    """A complete SMTP reply: RFC 5321 §4.2 code, RFC 3463 enhanced code, and its text.

    `lines` are the reply lines exactly as received (already made printable), code included;
    `text` is the message with the code and enhanced code taken off, lines joined by newlines.
    """

    code: int
    text: str = ""
    enhanced: str | None = None
    lines: tuple[str, ...] = field(default_factory=tuple)

    JSON = ("code", "enhanced", "lines")

    @property
    def klass(self) -> int:
        return self.code // 100

    def first_line(self) -> str:
        """The reply in one line, as a person reads it: code, enhanced code and the first line
        of the text ("421 4.3.2 busy"); a summary that drops the enhanced code drops the part
        that says what went wrong (RFC 3463)."""
        first = self.text.splitlines()[0] if self.text else ""
        return " ".join(part for part in (str(self.code), self.enhanced or "", first) if part)


LineDir = Literal["sent", "recv", "info", "tls"]
"""Who a transcript line comes from: us, the server, the session's own note, or a TLS fact."""

TLSMode = Literal["none", "optional", "required", "on-connect"]
"""none: never STARTTLS; optional: STARTTLS when offered (what MTAs do); required: STARTTLS even
when not offered, and stop if it fails; on-connect: TLS from the first byte (port 465)."""


@dataclass(frozen=True)
class TranscriptLine(JsonForm):
    """One line of a conversation, already printable and with secrets masked.

    `t_ms` counts from the session's start (`UNTIMED`, negative: a marker that is no event of a
    session, such as a walk's "try 2" line); `encrypted` is true for lines that travelled inside
    TLS (shown with `~>`/`<~` markers); `stage` is the step the line belongs to.
    """

    dir: LineDir
    text: str
    t_ms: float
    encrypted: bool = False
    stage: Stage | None = None

    UNTIMED: ClassVar[float] = -1.0
    """The `t_ms` of a marker line (no event of a session): shown without a time."""

    JSON = ("dir", "text", Key("t_ms", digits=3), "encrypted", "stage")


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait, per kind of wait (RFC 5321 §4.5.3.2 has the much longer MTA values)."""

    connect: float = 10.0
    """TCP connect, and the TLS handshake."""
    reply: float = 30.0
    """Any reply, and any pause while the message is being written."""

    @classmethod
    def all(cls, seconds: float) -> Timeouts:
        return cls(connect=seconds, reply=seconds)


@dataclass(frozen=True)
class Limits:
    """How much a server may send before the session stops listening to it."""

    line_bytes: int = 1000
    """A received line is shown up to this many bytes, then cut with a marker."""
    reply_lines: int = 200
    """A multiline reply longer than this is abandoned (and the connection closed)."""
    reply_bytes: int = 1024 * 1024
    """As reply_lines, in bytes received for one reply (cut parts of long lines count)."""
    shown_message_lines: int = 50
    """Message lines copied into the transcript during DATA; the rest is counted in a note."""


@dataclass(frozen=True)
class Credentials:
    """An AUTH account and how to use it. The password never appears in a repr, a transcript
    or an export.

    `mechanisms`: the AUTH mechanisms to try, in order (empty: the best the server offers;
    PLAIN, LOGIN, CRAM-MD5, XOAUTH2 — for XOAUTH2 the password is the OAuth bearer token).
    `optional`: when the server offers no usable AUTH or refuses the account, go on without it
    (swaks' --auth-optional) instead of ending the conversation. `cleartext`: allow AUTH on a
    connection that is not encrypted (never by default, except to a lab host).
    """

    user: str
    password: str = field(repr=False)
    mechanisms: tuple[str, ...] = ()
    optional: bool = False
    cleartext: bool = False


@dataclass(frozen=True)
class DSNRequest:
    """What the sender asks of delivery status notifications (RFC 3461), sent only to a server
    that offers DSN: `notify` for each recipient (NEVER, or any of SUCCESS, FAILURE, DELAY),
    `ret` (FULL or HDRS: what a bounce returns), `envid` (the sender's id for the message, echoed
    in every DSN), `orcpt` (send each recipient as the original recipient, ORCPT=rfc822;…)."""

    notify: tuple[str, ...] = ()
    ret: str = ""
    envid: str = ""
    orcpt: bool = False


@dataclass(frozen=True)
class Envelope:
    """What the session sends: SMTP envelope, EHLO name, message, and optional AUTH account.

    An empty `message` means "a short test message" (made by the session, like swaks's).
    `dsn` asks for delivery status notifications (RFC 3461); `requiretls` asks that the message
    travel over TLS all the way (RFC 8689), so it is not sent to a server without REQUIRETLS.
    """

    mail_from: str
    recipients: tuple[str, ...]
    ehlo_name: str = "localhost"
    message: bytes = b""
    credentials: Credentials | None = None
    dsn: DSNRequest | None = None
    requiretls: bool = False


@dataclass(frozen=True)
class TLSInfo(JsonForm):
    """What a TLS handshake established, and whether the certificate verifies for `hostname`.

    Verification is done apart from the handshake, so a failure is a fact to show; all text
    comes from the peer's certificate and is printable already.
    """

    version: str
    cipher: str
    bits: int | None
    subject: str
    sans: tuple[str, ...]
    issuer: str
    not_before: str
    not_after: str
    hostname: str
    verified: bool
    verify_error: str = ""

    def lines(self) -> tuple[str, ...]:
        """The facts as transcript lines."""
        verdict = (
            f"certificate verifies for {self.hostname}"
            if self.verified
            else f"certificate does NOT verify for {self.hostname}: {self.verify_error}"
        )
        bits = f" ({self.bits} bits)" if self.bits else ""
        return (
            f"TLS started: {self.version}, cipher {self.cipher}{bits}",
            f"subject: {self.subject}",
            f"SANs: {', '.join(self.sans) or '(none)'}",
            f"issuer: {self.issuer}",
            f"valid: {self.not_before} to {self.not_after}",
            verdict,
        )


StepFailure = Literal[
    "malformed-reply",
    "reply-too-long",
    "tls-failed",
    "tls-unverified",
    "not-sent",
    "held",
    "skipped",
]
"""Why a step ended without a usable reply, beyond the `Outcome`s: the server broke the protocol,
a TLS handshake or required verification failed, the command could not be sent as written
(control characters, no connection), the session held the dot for confirmation, or an optional
step was skipped (AUTH the server does not offer, with `Credentials.optional`)."""


@dataclass(frozen=True)
class StepResult(JsonForm):
    """One finished step: what was sent (masked), the reply, how long it took.

    `reply` is None when the step got no reply: then `outcome` (refused, timeout, dropped) or
    `failure` says why, and `error` says it in words. `replies` holds every reply of a step that
    has several (AUTH LOGIN's 334 challenges); `reply` is the last.

    `sender` and `recipients` are set by the session that took the step: the envelope sender in
    force, and the recipients the step concerns (the one address of an RCPT; the recipients
    accepted so far for DATA and the message; every envelope recipient before RCPT). So a notice
    or an explanation names the right recipient without reading the command text back.
    """

    stage: Stage
    sent: tuple[str, ...]
    reply: Reply | None
    ms: float
    outcome: Outcome | None = None
    failure: StepFailure | None = None
    error: str = ""
    replies: tuple[Reply, ...] = ()
    tls: TLSInfo | None = None
    uses: tuple[str, ...] = ()
    """The ESMTP extensions this step's commands used (SIZE, 8BITMIME, PIPELINING, CHUNKING…)."""
    sender: str = ""
    recipients: tuple[str, ...] = ()

    JSON = (
        Key("stage", "json_stage"), Key("command", "stage"), "sent", "reply",
        Key("ms", digits=3), "outcome", "failure", "error", "tls", "uses", "recipient",
        "recipients", "sender",
    )  # fmt: skip

    @property
    def recipient(self) -> str:
        """The recipient the step is about: an RCPT's address, else the first it concerns
        ("" when it concerns none)."""
        return self.recipients[0] if self.recipients else ""

    @property
    def ok(self) -> bool:
        """The step went the way a sender wants (2xx, or 3xx where one is the next step)."""
        if self.stage is Stage.CONNECT:
            return self.outcome is None and self.failure is None
        return self.reply is not None and self.reply.code < 400 and self.failure is None

    @property
    def json_stage(self) -> str:
        """The stage in `--quit-after` words (STARTTLS is `tls`, HELO is `ehlo`)."""
        return {Stage.STARTTLS: "tls", Stage.HELO: "ehlo"}.get(self.stage, str(self.stage))


@dataclass(frozen=True)
class DataProgress:
    """Bytes of the message written so far during the dot step (for a progress bar)."""

    sent: int
    total: int


SessionEvent = TranscriptLine | StepResult | DataProgress
"""What a session reports as it goes: each line as sent or received, each finished step, and
progress while the message is written."""
