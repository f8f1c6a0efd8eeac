"""What a sending MTA demands of one MX host's TLS, given the domain's TLS policy and the MTA's
own knobs (Postfix smtp_tls_security_level, Exim hosts_try_dane, …).

Every profile has `TlsRules`; the default applies neither DANE nor MTA-STS (opportunistic
STARTTLS, as the profile's STARTTLS cells say). A rules object turns (parameters, `TlsPolicy`,
host) into a `TlsDemand`: the TLS level for that host (none, may, encrypt, dane, verify), what
the certificate must match, or that the host is not to be used at all, with the sentence that
says why and the source it rests on. The walk dials with that demand and checks the handshake
against it; a host refused by it goes through the decision table's STARTTLS situations
(``not-offered``, ``dane-fail``, ``sts-fail``, ``sts-not-listed``, ``tlsa-error``), so what
the MTA then does (next MX, defer) is a cell like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from mxtui.model import Evidence, Outcome

if TYPE_CHECKING:
    from mxtui.policy.profiles.base import ProfileParams
    from mxtui.tlspolicy.model import HostTls, MtaSts, TlsPolicy
    from mxtui.tlspolicy.tlsa import TlsaRecord

Level = Literal["none", "may", "encrypt", "dane", "verify"]


@dataclass(frozen=True)
class TlsDemand:
    """What the sender requires of one host's TLS.

    ``none``: no STARTTLS; ``may``: STARTTLS when offered, plaintext otherwise; ``encrypt``:
    TLS required, the certificate not checked; ``dane``: TLS required and the chain must match
    `tlsa` (RFC 7672 §3); ``verify``: TLS required and the certificate must verify (PKIX) for
    one of `names` (MTA-STS, RFC 8461 §4.2). With `skip` set the host is not dialled at all.
    """

    level: Level
    why: str
    source: str = ""
    evidence: Evidence = Evidence.INFERRED
    tlsa: tuple[TlsaRecord, ...] = ()
    names: tuple[str, ...] = ()
    """For ``verify``: the names the certificate must be valid for (a ``*.`` pattern, or a
    leading dot as Postfix's match= writes it, stands for any one name below)."""
    skip: Outcome | None = None

    @property
    def requires_tls(self) -> bool:
        return self.level in ("encrypt", "dane", "verify")

    def to_json(self) -> dict[str, object]:
        return {
            "level": self.level,
            "why": self.why,
            "source": self.source,
            "evidence": str(self.evidence),
            "names": list(self.names),
            "skip": str(self.skip) if self.skip is not None else None,
        }


MAY = TlsDemand("may", "opportunistic STARTTLS: TLS when offered, else plaintext")


class TlsRules:
    """A sender that applies neither DANE nor MTA-STS: opportunistic STARTTLS for every host."""

    knobs: str = ""
    """The configuration that decides it, in the MTA's words (shown by `mxtui explain`)."""
    dane: bool = False
    mta_sts: bool = False
    note: str = "does not apply DANE or MTA-STS"
    source: str = ""
    evidence: Evidence = Evidence.RECALLED

    def demand(self, params: ProfileParams, policy: TlsPolicy | None, host: str) -> TlsDemand:
        return TlsDemand("may", f"this sender {self.note}", self.source, self.evidence)

    def wants_policy(self, params: ProfileParams) -> bool:
        """Whether these settings read the domain's TLS policy at all (so a walk with them
        need not look it up: Postfix at its default level, Exchange Server, qmail…)."""
        return False


# ------------------------------------------------------------------ the standards' reading


def sts_active(sts: MtaSts | None, *, strict_testing: bool = False) -> bool:
    """An MTA-STS policy that binds the sender: enforce (or testing, for a strict reader)."""
    if sts is None or sts.policy is None:
        return False
    return sts.policy.mode == "enforce" or (strict_testing and sts.policy.mode == "testing")


def dane_demand(
    host: HostTls | None,
    mx_secure: bool,
    *,
    source: str,
    evidence: Evidence,
    insecure_mx_applies: bool = True,
) -> TlsDemand | None:
    """RFC 7672 §2.2 for one host: None when DANE does not apply (no TLSA, insecure names);
    otherwise the demand (dane, encrypt for unusable records, or skip on a failed lookup).

    `insecure_mx_applies`: whether TLSA records of hosts named by an insecure MX RRset still
    count (RFC 7672 §2.2.1 lets a client use them; Postfix does, with its half-dane)."""
    if host is None or host.state in ("absent", "not-asked"):
        return None
    if host.state == "error" or host.dnssec.value in ("bogus", "indeterminate"):
        return TlsDemand(
            "may",
            f"the TLSA lookup of {host.host} failed or was bogus ({host.detail})",
            source,
            evidence,
            skip=Outcome.TLSA_ERROR,
        )
    if host.address_dnssec.value != "secure" or not host.validated:
        return None  # TLSA is looked up (and trusted) only for secure names
    if not mx_secure and not insecure_mx_applies:
        return None
    if not any(r.usable for r in host.records):
        return TlsDemand(
            "encrypt",
            f"{host.host} has TLSA records but none usable: TLS is required, the certificate "
            "is not checked",
            source,
            evidence,
        )
    return TlsDemand(
        "dane",
        f"{host.host} has secure, usable TLSA records: TLS is required and the certificate "
        "must match one",
        source,
        evidence,
        tlsa=host.records,
    )


def sts_demand(
    sts: MtaSts, host: str, *, source: str, evidence: Evidence, skip_unlisted: bool = True
) -> TlsDemand:
    """RFC 8461 §4-§5 for one host under a binding policy: not listed → not used; listed →
    TLS required and the certificate must verify for the host's name."""
    pattern = sts.match(host)
    mode = sts.mode
    if pattern is None and skip_unlisted:
        return TlsDemand(
            "may",
            f"the MTA-STS policy ({mode}) lists no mx pattern matching {host}",
            source,
            evidence,
            skip=Outcome.STS_NOT_LISTED,
        )
    return TlsDemand(
        "verify",
        f"the MTA-STS policy ({mode}) lists {host} as {pattern}: TLS is required and the "
        "certificate must verify for the host's name",
        source,
        evidence,
        names=(host,),
    )


class StandardTls(TlsRules):
    """The RFC baseline: DANE (RFC 7672) first, where it applies; else MTA-STS (RFC 8461 §2:
    a sender that does DANE uses it, and MTA-STS for domains without it)."""

    knobs = "dane=yes, mta_sts=yes"

    def wants_policy(self, params: ProfileParams) -> bool:
        return bool(params.get("dane", True) or params.get("mta_sts", True))

    note = "applies DANE (RFC 7672) and MTA-STS (RFC 8461)"
    source = "RFC 7672 §2.2, §3; RFC 8461 §2, §4, §5"
    evidence = Evidence.RECALLED

    def demand(self, params: ProfileParams, policy: TlsPolicy | None, host: str) -> TlsDemand:
        if policy is None:
            return MAY
        if params.get("dane", True):
            found = dane_demand(
                policy.host(host),
                policy.mx_dnssec.value == "secure",
                source="RFC 7672 §2.2, §3",
                evidence=self.evidence,
            )
            if found is not None:
                return found
        if params.get("mta_sts", True) and sts_active(policy.mta_sts):
            return sts_demand(
                policy.mta_sts, host, source="RFC 8461 §4.1, §4.2, §5.1", evidence=self.evidence
            )
        return TlsDemand(
            "may",
            "no DANE or MTA-STS policy applies: opportunistic STARTTLS",
            "RFC 7435; RFC 3207",
            self.evidence,
        )
