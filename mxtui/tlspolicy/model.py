"""What the TLS-policy lookups found, as plain frozen objects with their JSON forms.

Kept apart from `mxtui.model`: the MX plan stays what it was, and the TLS policy is a second
result beside it (``mxtui mx --json`` merges the two: ``"mta_sts"``, ``"tls_rpt"``,
``"mx_dnssec"`` at the top, ``"tlsa"`` and ``"mta_sts"`` on each host).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from mxtui.tlspolicy.dnssec import Security
from mxtui.tlspolicy.records import StsPolicy, policy_match
from mxtui.tlspolicy.tlsa import TlsaRecord

StsState = Literal["absent", "ok", "invalid-record", "dns-error", "fetch-failed", "invalid-policy"]
TlsaState = Literal["present", "absent", "error", "not-asked"]


@dataclass(frozen=True)
class MtaSts:
    """The domain's MTA-STS: its TXT record and the policy fetched over HTTPS (RFC 8461 §3)."""

    state: StsState
    record: str | None = None
    id: str | None = None
    url: str | None = None
    policy: StsPolicy | None = None
    detail: str = ""
    dnssec: Security = Security.INSECURE
    """Of the TXT answer; MTA-STS itself does not need DNSSEC (RFC 8461 §10.1)."""

    @property
    def mode(self) -> str | None:
        return self.policy.mode if self.policy is not None else None

    def match(self, host: str) -> str | None:
        """The policy's mx pattern `host` matches (RFC 8461 §4.1), or None."""
        return policy_match(self.policy, host) if self.policy is not None else None

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "record": self.record,
            "id": self.id,
            "url": self.url,
            "policy": self.policy.to_json() if self.policy is not None else None,
            "detail": self.detail,
            "dnssec": str(self.dnssec),
        }


@dataclass(frozen=True)
class TlsRpt:
    """Where the domain wants TLS failure reports (RFC 8460 §3)."""

    state: Literal["absent", "ok", "invalid", "dns-error"]
    record: str | None = None
    rua: tuple[str, ...] = ()
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "record": self.record,
            "rua": list(self.rua),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class HostTls:
    """One MX host's TLSA records (RFC 7672 §2.2) and what makes them usable or not."""

    host: str
    name: str
    """The TLSA owner name asked: ``_25._tcp.HOST`` (HOST after a CNAME when that is secure)."""
    state: TlsaState
    records: tuple[TlsaRecord, ...] = ()
    dnssec: Security = Security.INSECURE
    """Of the TLSA answer (or of its absence)."""
    address_dnssec: Security = Security.INSECURE
    """Of the host's A/AAAA answers: RFC 7672 §2.2.2 looks for TLSA only for secure hosts."""
    detail: str = ""

    @property
    def validated(self) -> bool:
        return self.dnssec is Security.SECURE

    @property
    def usable(self) -> bool:
        """DANE applies to this host: secure addresses, secure TLSA records, one usable."""
        return (
            self.state == "present"
            and self.validated
            and self.address_dnssec is Security.SECURE
            and any(r.usable for r in self.records)
        )

    @property
    def summary(self) -> str:
        """A few words for a tree node: ``TLSA ✓ validated, usable``…"""
        if self.state == "not-asked":
            return "TLSA not looked up"
        if self.state == "error":
            return f"TLSA lookup failed ({self.dnssec})"
        if self.state == "absent":
            return "no TLSA" + (" (proven)" if self.validated else "")
        words = [f"TLSA ×{len(self.records)}", "validated" if self.validated else str(self.dnssec)]
        words.append("usable" if self.usable else "not usable")
        return ", ".join(words)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "records": [r.to_json() for r in self.records],
            "dnssec": str(self.dnssec),
            "address_dnssec": str(self.address_dnssec),
            "validated": self.validated,
            "usable": self.usable,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class TlsPolicy:
    """Everything found about the TLS policy of one mail domain."""

    domain: str
    mx_dnssec: Security
    """Of the MX RRset: RFC 7672 §2.2.1 applies DANE to MX hosts of a secure MX RRset."""
    mta_sts: MtaSts
    tls_rpt: TlsRpt
    hosts: dict[str, HostTls] = field(default_factory=dict)
    """By MX host name (as in the plan)."""
    queries: int = 0
    anchors: str = "root"
    """Which trust anchors validated it: ``root`` (IANA's keys) or ``lab``."""

    def host(self, name: str) -> HostTls | None:
        return self.hosts.get(name)

    def host_json(self, name: str) -> dict[str, Any]:
        """The keys added to a host of ``mxtui mx --json``."""
        found = self.hosts.get(name)
        pattern = self.mta_sts.match(name)
        return {
            "tlsa": found.to_json() if found is not None else None,
            "mta_sts": (
                None
                if self.mta_sts.policy is None
                else {"in_policy": pattern is not None, "pattern": pattern}
            ),
        }

    def to_json(self) -> dict[str, Any]:
        """The keys added to the top of ``mxtui mx --json``."""
        return {
            "mta_sts": self.mta_sts.to_json(),
            "tls_rpt": self.tls_rpt.to_json(),
            "mx_dnssec": str(self.mx_dnssec),
            "trust_anchors": self.anchors,
        }
