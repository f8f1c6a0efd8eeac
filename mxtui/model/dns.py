"""The MX plan: what DNS says about where a domain's mail goes, and the events of a lookup."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from mxtui.model._json import JsonForm, Key


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
class Problem(JsonForm):
    """Something a trainee should notice, attached to the node it concerns.

    `code` is a stable machine name (`cname-target`, `no-address`, ...); `message` is a sentence in
    plain words; `reference` names the RFC section behind it.
    """

    code: str
    message: str
    reference: str = ""
    severity: Severity = "warning"


@dataclass(frozen=True)
class Address(JsonForm):
    address: str
    family: Literal[4, 6]
    ttl: int | None = None


class HostState(StrEnum):
    """How far the address lookups of one MX target have come."""

    PENDING = "pending"
    RESOLVED = "resolved"
    FAILED = "failed"


@dataclass(frozen=True)
class TryTarget(JsonForm):
    """An address to dial: an address of an MX host, with the host's name (what TLS verifies)
    and the preference it is tried at. The one such type: an entry of a walk's try list, a row
    of a probe, the address picked in the tree."""

    host: str
    preference: int
    address: str
    family: Literal[4, 6]


@dataclass(frozen=True)
class MXHost(JsonForm):
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

    JSON = ("name", "addresses", "problems", "cname_chain", "ip_literal")

    @property
    def usable(self) -> bool:
        return bool(self.addresses)

    def targets(self, preference: int | None = None) -> tuple[TryTarget, ...]:
        """The host's addresses as places to dial, in resolver order, at `preference` (the
        host's own by default; an MTA's ordering passes the preference it groups by)."""
        at = self.preference if preference is None else preference
        return tuple(TryTarget(self.name, at, a.address, a.family) for a in self.addresses)


@dataclass(frozen=True)
class MXGroup(JsonForm):
    """The hosts sharing one preference value, in the order the answer gave them."""

    preference: int
    hosts: tuple[MXHost, ...]

    @property
    def targets(self) -> tuple[TryTarget, ...]:
        """Every address of the group's hosts, hosts in answer order."""
        return tuple(t for h in self.hosts for t in h.targets(self.preference))


@dataclass(frozen=True)
class MXPlan(JsonForm):
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

    JSON = (
        "domain", Key("display_domain", "shown_domain"), "status", "ttl", "groups", "problems",
        "queries", Key("elapsed_ms", digits=1), "nameservers", "usable",
    )  # fmt: skip

    @property
    def shown_domain(self) -> str:
        """The domain as the user typed it, or as it goes on the wire when that is all there is."""
        return self.display_domain or self.domain

    @property
    def hosts(self) -> tuple[MXHost, ...]:
        return tuple(h for g in self.groups for h in g.hosts)

    @property
    def targets(self) -> tuple[TryTarget, ...]:
        """Every address of every MX host, in the plan's order (preference, then the answer's,
        then the resolver's): the one flattening of a plan, for a probe's rows and the tree's
        "which address is this". A sender's own try list is its profile's (`try_order`)."""
        return tuple(t for g in self.groups for t in g.targets)

    @property
    def usable(self) -> bool:
        """True when at least one address can be dialled."""
        return self.status in (PlanStatus.MX, PlanStatus.IMPLICIT_MX) and any(
            h.usable for h in self.hosts
        )


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
