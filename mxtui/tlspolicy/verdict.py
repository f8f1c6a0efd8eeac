"""What a server's STARTTLS showed, measured against the domain's TLS policy.

After the handshake the probe (and the walk) holds the chain the server presented and whether it
verified by PKIX for the MX name. This module says what DANE (RFC 7672 §3) and MTA-STS (RFC 8461
§4) make of it: DANE matches the chain against the host's TLSA records when they are usable;
MTA-STS requires the host to be listed in the policy and its certificate to verify for its name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from cryptography import x509

from mxtui.model import TLSInfo
from mxtui.tlspolicy.model import HostTls, MtaSts, TlsPolicy
from mxtui.tlspolicy.tlsa import DaneResult, check_chain

if TYPE_CHECKING:
    from mxtui.model import Outcome
    from mxtui.policy.profiles.tls import TlsDemand

DaneOutcome = Literal["match", "no-match", "no-tls", "unusable", "none", "bogus", "error"]
StsOutcome = Literal["ok", "not-listed", "no-tls", "not-verified", "none"]


@dataclass(frozen=True)
class DaneCheck:
    """DANE for one address: does it apply, and did the presented chain satisfy it."""

    applies: bool
    """Usable TLSA records (secure, DANE-TA/DANE-EE): a DANE client must authenticate."""
    outcome: DaneOutcome
    detail: str = ""
    result: DaneResult | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "applies": self.applies,
            "outcome": self.outcome,
            "detail": self.detail,
            "record": (
                self.result.record.to_json()
                if self.result is not None and self.result.record is not None
                else None
            ),
        }


@dataclass(frozen=True)
class StsCheck:
    """MTA-STS for one address: listed in the policy, and a certificate valid for the name."""

    mode: str | None
    outcome: StsOutcome
    pattern: str | None = None
    verifies: bool | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "outcome": self.outcome,
            "pattern": self.pattern,
            "certificate_verifies": self.verifies,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class PolicyCheck:
    dane: DaneCheck
    sts: StsCheck

    @property
    def summary(self) -> str:
        """The probe matrix's POLICY cell: a few words, failures first."""
        parts = []
        if self.dane.applies or self.dane.outcome in ("bogus", "error"):
            parts.append(
                {
                    "match": "DANE ok",
                    "no-match": "DANE FAIL",
                    "no-tls": "DANE FAIL (no TLS)",
                    "bogus": "DANE bogus",
                    "error": "DANE ?",
                }.get(self.dane.outcome, f"DANE {self.dane.outcome}")
            )
        if self.sts.mode in ("enforce", "testing"):
            word = "STS" if self.sts.mode == "enforce" else "STS(testing)"
            parts.append(
                {
                    "ok": f"{word} ok",
                    "not-listed": f"{word} FAIL (not listed)",
                    "no-tls": f"{word} FAIL (no TLS)",
                    "not-verified": f"{word} FAIL (cert)",
                }.get(self.sts.outcome, word)
            )
        return ", ".join(parts) or "-"

    def to_json(self) -> dict[str, Any]:
        return {"dane": self.dane.to_json(), "mta_sts": self.sts.to_json(), "summary": self.summary}


def check_dane(
    host: HostTls | None, tls: TLSInfo | None, chain: Sequence[x509.Certificate]
) -> DaneCheck:
    if host is None or host.state in ("absent", "not-asked"):
        return DaneCheck(False, "none", "no TLSA records")
    if host.state == "error":
        return DaneCheck(False, "error", host.detail)
    if host.dnssec.value == "bogus":
        return DaneCheck(False, "bogus", f"the TLSA records are bogus: {host.detail}")
    if not host.usable:
        why = (
            "not validated by DNSSEC"
            if not host.validated
            else "the host's addresses are not secure"
            if host.address_dnssec.value != "secure"
            else "no DANE-TA or DANE-EE record"
        )
        return DaneCheck(False, "unusable", f"TLSA records present but unusable: {why}")
    if tls is None:
        return DaneCheck(True, "no-tls", "DANE requires TLS, and TLS did not start")
    names = tuple(dict.fromkeys((host.name.removeprefix("_25._tcp."), host.host)))
    result = check_chain(host.records, list(chain), names)
    return DaneCheck(
        True, "match" if result.outcome == "match" else "no-match", result.detail, result
    )


def check_sts(sts: MtaSts | None, host: str, tls: TLSInfo | None) -> StsCheck:
    if sts is None or sts.policy is None or sts.policy.mode == "none":
        return StsCheck(sts.mode if sts is not None else None, "none")
    mode = sts.policy.mode
    pattern = sts.match(host)
    if pattern is None:
        return StsCheck(mode, "not-listed", detail=f"{host} matches no mx line of the policy")
    if tls is None:
        return StsCheck(mode, "no-tls", pattern, detail="MTA-STS requires TLS")
    if not tls.verified:
        return StsCheck(mode, "not-verified", pattern, False, tls.verify_error)
    return StsCheck(mode, "ok", pattern, True)


def check_policy(
    policy: TlsPolicy, host: str, tls: TLSInfo | None, chain: Sequence[x509.Certificate]
) -> PolicyCheck:
    return PolicyCheck(
        check_dane(policy.host(host), tls, chain), check_sts(policy.mta_sts, host, tls)
    )


def check_demand(
    demand: TlsDemand,
    host: str,
    tls: TLSInfo | None,
    chain: Sequence[x509.Certificate],
    trust: tuple[x509.Certificate, ...] = (),
) -> tuple[Outcome | None, str]:
    """Did a finished STARTTLS satisfy what the sender demanded of this host? (None, detail)
    when it did; else the situation it falls into (``dane-fail``, ``sts-fail``) and why."""
    from mxtui.model import Outcome
    from mxtui.smtp.tlsinfo import verify

    if demand.level == "dane":
        base = host
        result = check_chain(demand.tlsa, list(chain), (base,))
        if result.outcome == "match":
            return None, result.detail
        return Outcome.DANE_FAIL, result.detail
    if demand.level == "verify":
        if tls is None or not chain:
            return Outcome.STS_FAIL, "no certificate"
        last = ""
        for name in demand.names:
            candidates = [name]
            if name.startswith((".", "*.")):
                suffix = name.lstrip("*")
                candidates = [
                    san.removeprefix("DNS:")
                    for san in tls.sans
                    if san.startswith("DNS:") and san.lower().endswith(suffix.lower())
                ]
            for candidate in candidates:
                ok, why = verify(list(chain), candidate, trust)
                if ok:
                    return None, f"the certificate verifies for {candidate}"
                last = why
        names = ", ".join(demand.names)
        return Outcome.STS_FAIL, f"the certificate does not verify for {names}: {last}"
    return None, ""
