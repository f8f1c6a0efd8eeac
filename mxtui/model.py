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
    """What the MX lookup found for the domain as a whole (the `status` key of `mxtui mx --json`)."""

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


DECISION_STAGES: tuple[Stage, ...] = tuple(Stage)[:12]


class Outcome(StrEnum):
    """Things that happen instead of a reply (`mxtui explain --outcome`)."""

    REFUSED = "refused"
    TIMEOUT = "timeout"
    DROPPED = "dropped"
    NXDOMAIN = "nxdomain"
    NULL_MX = "null-mx"
    DNS_TEMPFAIL = "dns-tempfail"


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

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "enhanced": self.enhanced, "lines": list(self.lines)}


# --------------------------------------------------------------------------------------------
# smtp session (issue 3): add session types below this line
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# policy (issue 4): add decision types below this line
# --------------------------------------------------------------------------------------------
