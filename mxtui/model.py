"""The vocabulary of mxtui: plain frozen dataclasses shared by every part.

The DNS core, the SMTP session, the decision engine and the lab all speak in these types; the UI
and the headless CLI only render them. Nothing here does I/O, and nothing here imports textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

# --------------------------------------------------------------------------------------------
# DNS: the MX plan
# --------------------------------------------------------------------------------------------


class PlanStatus(StrEnum):
    """What the MX lookup found for the domain (the `status` key of `mxtui mx --json`)."""

    MX = "mx"
    IMPLICIT_MX = "implicit-mx"
    NULL_MX = "null-mx"
    NXDOMAIN = "nxdomain"
    NO_MAIL_RECORDS = "no-mail-records"
    SERVFAIL = "servfail"
    TIMEOUT = "timeout"
    ERROR = "error"


Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Problem:
    """Something a trainee should notice, attached to the node it concerns.

    `code` is a stable machine name (`cname-target`, `no-address`, ...); `message` is a sentence in
    plain words; `reference` names the RFC section behind it.
    """

    code: str
    message: str
    reference: str = ""
    severity: Severity = "warning"

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "reference": self.reference,
            "severity": self.severity,
        }


@dataclass(frozen=True)
class Address:
    address: str
    family: Literal[4, 6]
    ttl: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"address": self.address, "family": self.family, "ttl": self.ttl}


class HostState(StrEnum):
    """How far the address lookups of one MX target have come."""

    PENDING = "pending"
    RESOLVED = "resolved"
    FAILED = "failed"


@dataclass(frozen=True)
class MXHost:
    """One MX target with its addresses.

    `cname_chain` lists the names a CNAME target leads through (empty when the target is a proper
    host name). `ip_literal` is set when the MX target was written as an address.
    """

    name: str
    preference: int
    addresses: tuple[Address, ...] = ()
    problems: tuple[Problem, ...] = ()
    state: HostState = HostState.PENDING
    cname_chain: tuple[str, ...] = ()
    ip_literal: bool = False

    @property
    def usable(self) -> bool:
        return bool(self.addresses)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "addresses": [a.to_json() for a in self.addresses],
            "problems": [p.to_json() for p in self.problems],
            "cname_chain": list(self.cname_chain),
            "ip_literal": self.ip_literal,
        }


@dataclass(frozen=True)
class MXGroup:
    """The hosts sharing one preference value, in the order the answer gave them."""

    preference: int
    hosts: tuple[MXHost, ...]

    def to_json(self) -> dict[str, Any]:
        return {"preference": self.preference, "hosts": [h.to_json() for h in self.hosts]}


@dataclass(frozen=True)
class MXPlan:
    """Where mail for a domain goes, per RFC 5321 §5.1 and RFC 7505."""

    domain: str
    """The domain in A-labels (what goes on the wire)."""
    status: PlanStatus
    groups: tuple[MXGroup, ...] = ()
    ttl: int | None = None
    problems: tuple[Problem, ...] = ()
    queries: int = 0
    elapsed_ms: float = 0.0
    display_domain: str = ""
    """The domain as the user typed it (U-labels), for display."""
    nameservers: tuple[str, ...] = ()

    @property
    def hosts(self) -> tuple[MXHost, ...]:
        return tuple(h for g in self.groups for h in g.hosts)

    @property
    def usable(self) -> bool:
        """True when at least one address can be dialled."""
        return self.status in (PlanStatus.MX, PlanStatus.IMPLICIT_MX) and any(
            h.usable for h in self.hosts
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "display_domain": self.display_domain or self.domain,
            "status": str(self.status),
            "ttl": self.ttl,
            "groups": [g.to_json() for g in self.groups],
            "problems": [p.to_json() for p in self.problems],
            "queries": self.queries,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "nameservers": list(self.nameservers),
            "usable": self.usable,
        }


# Progress events of a resolution: the UI fills the tree as they arrive.


@dataclass(frozen=True)
class MXAnswered:
    """The MX question is answered; hosts are known, their addresses are still being looked up."""

    plan: MXPlan


@dataclass(frozen=True)
class HostResolved:
    """One MX target's address lookups have finished (successfully or not)."""

    host: MXHost


@dataclass(frozen=True)
class PlanResolved:
    """The whole plan is final."""

    plan: MXPlan


ResolveEvent = MXAnswered | HostResolved | PlanResolved


# --------------------------------------------------------------------------------------------
# SMTP: stages, replies, non-reply outcomes
# --------------------------------------------------------------------------------------------


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
class Reply:
    """A complete SMTP reply: RFC 5321 §4.2 code, RFC 3463 enhanced code, and its text.

    `lines` are the reply lines exactly as received (already made printable), code included;
    `text` is the message with the code and enhanced code taken off, lines joined by newlines.
    """

    code: int
    text: str = ""
    enhanced: str | None = None
    lines: tuple[str, ...] = field(default_factory=tuple)

    @property
    def klass(self) -> int:
        return self.code // 100

    def first_line(self) -> str:
        """The reply in one line, as a person reads it: code, enhanced code and the first line
        of the text ("421 4.3.2 busy"); a summary that drops the enhanced code drops the part
        that says what went wrong (RFC 3463)."""
        first = self.text.splitlines()[0] if self.text else ""
        return " ".join(part for part in (str(self.code), self.enhanced or "", first) if part)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "enhanced": self.enhanced, "lines": list(self.lines)}


# --------------------------------------------------------------------------------------------
# smtp session (issue 3): add session types below this line
# --------------------------------------------------------------------------------------------

LineDir = Literal["sent", "recv", "info", "tls"]
"""Who a transcript line comes from: us, the server, the session's own note, or a TLS fact."""

TLSMode = Literal["none", "optional", "required", "on-connect"]
"""none: never STARTTLS; optional: STARTTLS when offered (what MTAs do); required: STARTTLS even
when not offered, and stop if it fails; on-connect: TLS from the first byte (port 465)."""


@dataclass(frozen=True)
class TranscriptLine:
    """One line of a conversation, already printable and with secrets masked.

    `t_ms` counts from the session's start; `encrypted` is true for lines that travelled inside
    TLS (shown with `~>`/`<~` markers); `stage` is the step the line belongs to.
    """

    dir: LineDir
    text: str
    t_ms: float
    encrypted: bool = False
    stage: Stage | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "dir": self.dir,
            "text": self.text,
            "t_ms": round(self.t_ms, 3),
            "encrypted": self.encrypted,
            "stage": str(self.stage) if self.stage else None,
        }


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
class TLSInfo:
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

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "cipher": self.cipher,
            "bits": self.bits,
            "subject": self.subject,
            "sans": list(self.sans),
            "issuer": self.issuer,
            "not_before": self.not_before,
            "not_after": self.not_after,
            "hostname": self.hostname,
            "verified": self.verified,
            "verify_error": self.verify_error,
        }


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
class StepResult:
    """One finished step: what was sent (masked), the reply, how long it took.

    `reply` is None when the step got no reply: then `outcome` (refused, timeout, dropped) or
    `failure` says why, and `error` says it in words. `replies` holds every reply of a step that
    has several (AUTH LOGIN's 334 challenges); `reply` is the last.
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

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.json_stage,
            "command": str(self.stage),
            "sent": list(self.sent),
            "reply": self.reply.to_json() if self.reply else None,
            "ms": round(self.ms, 3),
            "outcome": str(self.outcome) if self.outcome else None,
            "failure": self.failure,
            "error": self.error,
            "tls": self.tls.to_json() if self.tls else None,
            "uses": list(self.uses),
        }


@dataclass(frozen=True)
class DataProgress:
    """Bytes of the message written so far during the dot step (for a progress bar)."""

    sent: int
    total: int


SessionEvent = TranscriptLine | StepResult | DataProgress
"""What a session reports as it goes: each line as sent or received, each finished step, and
progress while the message is written."""


# --------------------------------------------------------------------------------------------
# policy (issue 4): add decision types below this line
# --------------------------------------------------------------------------------------------


class Action(StrEnum):
    """What a sending MTA does next (the `action` key of `mxtui explain --json`)."""

    CONTINUE = "continue"
    NEXT_ADDRESS = "next-address"
    NEXT_MX = "next-mx"
    REQUEUE = "requeue"
    NDR = "ndr"
    RETRY_HELO = "retry-helo"


class Scope(StrEnum):
    """Whether an action concerns the whole message or only the recipient just answered."""

    MESSAGE = "message"
    RECIPIENT = "recipient"


class Evidence(StrEnum):
    """How sure we are of a rule: tested against the real program, read in a source, recalled,
    inferred, or unknown. `T` beats `V`: the real program beats the text (DESIGN.md)."""

    TESTED = "T"
    VERIFIED = "V"
    RECALLED = "M"
    INFERRED = "I"
    UNKNOWN = "?"


@dataclass(frozen=True)
class Proof:
    """How one rule is known: its kind, where it was read (file:line or document section), and,
    for `T`, the real program and version it was tested against plus the cases that showed it.

    A conformance run fills `tested_with` and `cases` (see `mxtui.policy.cells.Cell.confirmed`).
    """

    kind: Evidence
    source: str
    tested_with: str = ""
    cases: tuple[str, ...] = ()

    def words(self) -> str:
        """How it is known, in plain words, without the source: "tested against Postfix
        3.7.11", "read in the source", "recalled, not checked"…"""
        if self.kind is Evidence.TESTED and self.tested_with:
            return f"tested against {self.tested_with}"
        return {
            Evidence.TESTED: "tested",
            Evidence.VERIFIED: "read in the source",
            Evidence.RECALLED: "recalled, not checked",
            Evidence.INFERRED: "inferred, not documented",
            Evidence.UNKNOWN: "no source: the likeliest reading",
        }[self.kind]

    def plain(self) -> str:
        """The whole proof in one line: "tested against Postfix 3.7.11; read in
        smtp_proto.c:1234", "read in smtp_proto.c:1234", "recalled, not checked (source)"."""
        if self.kind is Evidence.VERIFIED:
            return f"read in {self.source}" if self.source else self.words()
        if self.kind is Evidence.TESTED:
            return f"{self.words()}; read in {self.source}" if self.source else self.words()
        return f"{self.words()} ({self.source})" if self.source else self.words()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "source": self.source,
            "tested_with": self.tested_with or None,
            "cases": list(self.cases),
        }


@dataclass(frozen=True)
class CodeMeaning:
    """A basic reply code read digit by digit (RFC 5321 §4.2.1), plus its usual text (§4.2.3)."""

    code: int
    klass: int
    class_meaning: str
    subject: int
    subject_meaning: str
    usual_text: str = ""
    reference: str = "RFC 5321 §4.2.1"

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "class": self.klass,
            "class_meaning": self.class_meaning,
            "subject": self.subject,
            "subject_meaning": self.subject_meaning,
            "usual_text": self.usual_text,
            "reference": self.reference,
        }


@dataclass(frozen=True)
class EnhancedMeaning:
    """An RFC 3463 enhanced status code (class.subject.detail) with the meaning of each part.

    `from_text` is True when the code was found at the start of the reply text rather than
    parsed by the session; `matches_reply` is False when its class disagrees with the reply code.
    """

    code: str
    class_meaning: str
    subject_meaning: str
    detail_meaning: str
    reference: str
    from_text: bool = False
    matches_reply: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "class_meaning": self.class_meaning,
            "subject_meaning": self.subject_meaning,
            "detail_meaning": self.detail_meaning,
            "reference": self.reference,
            "from_text": self.from_text,
            "matches_reply": self.matches_reply,
        }


@dataclass(frozen=True)
class DecisionContext:
    """Where in the delivery attempt a reply came, as far as it changes the decision.

    `last_address` says no address is left in the try list at all. `addresses_tried` counts the
    addresses dialled in this attempt including the current one (Postfix smtp_mx_address_limit,
    Exim hosts_max_try); `sessions_used` the sessions that got through EHLO/TLS, including the
    current one if it did (Postfix smtp_mx_session_limit). `next_is_higher_preference` says the
    next address in the list belongs to a worse MX preference (Exim still tries it past its
    limit). `tls_required` says the sender's policy demands TLS for this destination.
    """

    last_address: bool = False
    addresses_tried: int = 1
    sessions_used: int = 0
    next_is_higher_preference: bool = False
    tls_required: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "last_address": self.last_address,
            "addresses_tried": self.addresses_tried,
            "sessions_used": self.sessions_used,
            "next_is_higher_preference": self.next_is_higher_preference,
            "tls_required": self.tls_required,
        }


@dataclass(frozen=True)
class Decision:
    """What one MTA profile does with one reply or outcome at one stage, and why.

    `headline` is the action in a few capital words for the side panel ("TRY NEXT MX"); `rule`
    names the row of the decision table used (checkable against the reference); `evidence` is
    that cell's mark and `proof` the whole of it (source, tested version). `applicable` is
    False when the profile never reaches this stage (qmail sends no EHLO), in which case `why`
    says so and the action is only what would follow.
    `final` is True when the context made this the last address the profile would try.
    """

    action: Action
    scope: Scope
    stage: Stage
    profile: str
    outcome: str
    code: CodeMeaning | None
    enhanced: EnhancedMeaning | None
    why: str
    reference: str
    evidence: Evidence
    headline: str
    rule: str
    status: str
    applicable: bool = True
    final: bool = False
    delivered: bool = False
    proof: Proof | None = None
    """How the rule used is known; None means "`evidence`, read in `reference`"."""

    @property
    def evidence_detail(self) -> Proof:
        return self.proof or Proof(self.evidence, self.reference)

    def to_json(self) -> dict[str, Any]:
        return {
            "action": str(self.action),
            "scope": str(self.scope),
            "stage": str(self.stage),
            "profile": self.profile,
            "outcome": self.outcome,
            "code": self.code.to_json() if self.code else None,
            "enhanced": self.enhanced.to_json() if self.enhanced else None,
            "why": self.why,
            "reference": self.reference,
            "evidence": self.evidence_detail.to_json(),
            "evidence_mark": str(self.evidence),
            "headline": self.headline,
            "rule": self.rule,
            "status": self.status,
            "applicable": self.applicable,
            "final": self.final,
            "delivered": self.delivered,
        }


@dataclass(frozen=True)
class RetryTimeline:
    """When a profile tries again after failures, warns the sender, and gives up.

    Times are seconds after the first attempt, assuming every attempt fails and the queue
    runner is ideal. `attempts_s` starts at 0 and ends with the last attempt made before or at
    give-up; `delay_dsn_s` is None when the profile sends no delay notice.
    """

    profile: str
    attempts_s: tuple[int, ...]
    delay_dsn_s: int | None
    give_up_s: int
    formula: str
    reference: str
    evidence: Evidence = Evidence.VERIFIED
    tested_with: str = ""
    """For `T` evidence: the real program and version whose retries were measured."""
    windows_s: tuple[tuple[int, int], ...] = ()
    """(earliest, latest) of each attempt: where the real program's attempt can land. Postfix
    retries at its next queue scan, whose phase is arbitrary, so each retry has a window as
    wide as queue_run_delay; for the others each window is the attempt's own time."""
    give_up_window_s: tuple[int, int] | None = None

    def window(self, index: int) -> tuple[int, int]:
        """The window of attempt `index` (its own time when no window is known)."""
        if index < len(self.windows_s):
            return self.windows_s[index]
        return (self.attempts_s[index], self.attempts_s[index])

    def to_json(self) -> dict[str, Any]:
        give_up_window = self.give_up_window_s or (self.give_up_s, self.give_up_s)
        return {
            "attempts_s": list(self.attempts_s),
            "delay_dsn_s": self.delay_dsn_s,
            "give_up_s": self.give_up_s,
            "formula": self.formula,
            "reference": self.reference,
            "evidence": str(self.evidence),
            "tested_with": self.tested_with or None,
            "attempt_windows_s": [list(self.window(i)) for i in range(len(self.attempts_s))],
            "give_up_window_s": list(give_up_window),
        }


# --------------------------------------------------------------------------------------------
# delivery (issue 5): add walk types below this line
# --------------------------------------------------------------------------------------------


class RecipientStatus(StrEnum):
    """Where one recipient stands in a delivery walk.

    `carried` is transient: a 4xx at RCPT that the profile retries on the next MX in the same
    attempt. `held` means accepted at RCPT, but the dot was not sent (a host outside the lab,
    without confirmation), so no server has taken the message.
    """

    PENDING = "pending"
    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    CARRIED = "carried"
    DEFERRED = "deferred"
    BOUNCED = "bounced"
    HELD = "held"


WalkOutcome = Literal["delivered", "partial", "deferred", "bounced", "held"]
"""`held`: the walk stopped before the end-of-data dot (a host outside the lab, no confirmation),
so no server took the message, whatever RCPT said; the recipients show who was accepted."""


@dataclass(frozen=True)
class TryTarget:
    """One entry of the try list: an address of an MX host, in the order the profile dials."""

    host: str
    preference: int
    address: str
    family: Literal[4, 6]

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "preference": self.preference,
            "address": self.address,
            "family": self.family,
        }


@dataclass(frozen=True)
class AttemptRecord:
    """One address tried: where the conversation ended, the last reply, what the profile did."""

    target: TryTarget
    stage: Stage
    reply: Reply | None
    action: str
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.target.host,
            "address": self.target.address,
            "stage": str(self.stage),
            "reply": " / ".join(self.reply.lines) if self.reply and self.reply.lines
            else (f"{self.reply.code} {self.reply.text}".strip() if self.reply else None),
            "action": self.action,
            "error": self.error or None,
        }  # fmt: skip


@dataclass(frozen=True)
class RecipientResult:
    """A recipient's state and the reply (or failure, in words) that put it there."""

    state: RecipientStatus
    reply: Reply | None = None
    detail: str = ""

    def reply_text(self) -> str | None:
        if self.reply is None:
            return self.detail or None
        if self.reply.lines:
            return " / ".join(self.reply.lines)
        return f"{self.reply.code} {self.reply.text}".strip()

    def to_json(self) -> dict[str, Any]:
        return {"state": str(self.state), "reply": self.reply_text()}


@dataclass(frozen=True)
class WalkResult:
    """How one delivery attempt (or the whole walk, after fast-forwards) ended.

    `attempt` counts delivery attempts from 0; `clock_s` is the simulated time of this one.
    `retry` is set when something is still queued; `next_retry_s` is then the simulated time
    of the next attempt, or None when the message is past give-up. `ndrs` holds one notice per
    bounced recipient (`ndr` is the first, the JSON's one text).
    """

    outcome: WalkOutcome
    order: tuple[TryTarget, ...]
    attempts: tuple[AttemptRecord, ...]
    recipients: dict[str, RecipientResult]
    retry: RetryTimeline | None
    ndrs: dict[str, str]
    seed: int
    profile: str
    attempt: int = 0
    clock_s: float = 0.0
    next_retry_s: int | None = None
    held: bool = False
    hops: tuple[HopResult, ...] = ()
    """Onward deliveries by relays that took the message (a backup MX's second hop), latest
    attempt of each; empty unless the walk was given `relays`."""
    next_retry_window_s: tuple[int, int] | None = None
    """When the real program's next attempt can come (simulated seconds): `next_retry_s` is
    one instant in it (Postfix retries at its next queue scan, whose phase is arbitrary)."""

    @property
    def ndr(self) -> str | None:
        return next(iter(self.ndrs.values()), None)

    @property
    def next_retry_any_s(self) -> int | None:
        """The next simulated time anything is retried: this sender's queue or a relay's (what
        `Walk.fast_forward_to_next_retry` goes to); None when nothing is queued anywhere."""
        times = [self.next_retry_s] + [h.result.next_retry_any_s for h in self.hops]
        pending = [t for t in times if t is not None]
        return min(pending) if pending else None

    def to_json(self) -> dict[str, Any]:
        retry = None
        if self.retry is not None:
            window = self.next_retry_window_s
            retry = {**self.retry.to_json(), "attempt": self.attempt,
                     "clock_s": self.clock_s, "next_attempt_s": self.next_retry_s,
                     "next_attempt_window_s": list(window) if window else None}  # fmt: skip
        return {
            "outcome": self.outcome,
            "order": [t.address for t in self.order],
            "attempts": [a.to_json() for a in self.attempts],
            "recipients": {r: v.to_json() for r, v in self.recipients.items()},
            "retry": retry,
            "ndr": self.ndr,
            "seed": self.seed,
            "profile": self.profile,
            "held": self.held,
            "hops": [h.to_json() for h in self.hops],
        }


# Walk events: one per thing that happened, in order, for the app to animate.


@dataclass(frozen=True)
class WalkStarted:
    """A delivery attempt begins: the try list as shuffled with `seed`, at simulated `clock_s`."""

    domain: str
    profile: str
    seed: int
    order: tuple[TryTarget, ...]
    attempt: int
    clock_s: float


@dataclass(frozen=True)
class AttemptStarted:
    """The walk dials the `index`th entry of the try list."""

    index: int
    target: TryTarget
    hop: int = 1
    """1: the sender's own delivery; 2: a relay's onward delivery (see `HopStarted`)."""


@dataclass(frozen=True)
class StepDone:
    """One step finished and the profile decided; `step` is None for a DNS-stage decision and
    `decision` is None for a step with nothing to decide (a connection that opened)."""

    target: TryTarget | None
    stage: Stage
    step: StepResult | None
    decision: Decision | None
    context: DecisionContext | None = None
    """Where in the try list the decision was taken (so the app explains it the same way)."""
    hop: int = 1


@dataclass(frozen=True)
class AttemptEnded:
    """The conversation with `target` is over; `action` is what the profile did next."""

    record: AttemptRecord
    hop: int = 1


@dataclass(frozen=True)
class RecipientState:
    """A recipient changed state (accepted, delivered, carried, deferred, bounced, held)."""

    recipient: str
    result: RecipientResult
    target: TryTarget | None
    hop: int = 1
    """Above 1: the recipient's state in a relay's queue, not the sender's."""


@dataclass(frozen=True)
class WalkEnded:
    result: WalkResult


@dataclass(frozen=True)
class HopResult:
    """How a relay's onward delivery stands: which relay, and its latest attempt's result
    (under the relay's profile, its own retries and NDRs)."""

    hop: int
    relay: TryTarget
    result: WalkResult

    def to_json(self) -> dict[str, Any]:
        return {"hop": self.hop, "from": self.relay.host, "from_address": self.relay.address,
                **self.result.to_json()}  # fmt: skip


@dataclass(frozen=True)
class HopStarted:
    """A relay that accepted the message (a backup MX) makes a delivery attempt of its own.

    The events up to the matching `HopEnded` carry `hop`; `order` is the relay's try list (only
    MX records of lower preference number than its own, RFC 5321 §5.1), `attempt` counts the
    relay's attempts from 0, at simulated `clock_s`.
    """

    hop: int
    from_host: str
    from_address: str
    profile: str
    order: tuple[TryTarget, ...]
    attempt: int
    clock_s: float
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class HopEnded:
    """The relay's attempt is over: its result (the sender's outcome does not change)."""

    hop: int
    result: WalkResult


WalkEvent = (
    WalkStarted | AttemptStarted | StepDone | AttemptEnded | RecipientState | WalkEnded
    | HopStarted | HopEnded
)  # fmt: skip
