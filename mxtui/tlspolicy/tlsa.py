"""TLSA records for SMTP (RFC 6698, RFC 7218 names, RFC 7672 rules) and matching them against the
certificate chain a server presented.

Only what RFC 7672 §3.1 allows for SMTP is usable: DANE-TA(2) and DANE-EE(3), with selector
Cert(0) or SPKI(1) and matching type Full(0), SHA2-256(1) or SHA2-512(2). PKIX-TA(0) and
PKIX-EE(1) records are shown but unusable for SMTP. The crypto (hashing, chain verification) is
`hashlib` and `cryptography`'s RFC 5280 verifier; nothing here signs or checks signatures itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.verification import DNSName, PolicyBuilder, Store

USAGES = {0: "PKIX-TA", 1: "PKIX-EE", 2: "DANE-TA", 3: "DANE-EE"}
SELECTORS = {0: "Cert", 1: "SPKI"}
MTYPES = {0: "Full", 1: "SHA2-256", 2: "SHA2-512"}
MAX_RECORDS = 32
"""TLSA records kept per name at most (a host publishes one to four)."""

Match = Literal["match", "no-match", "unusable", "none"]


@dataclass(frozen=True)
class TlsaRecord:
    usage: int
    selector: int
    mtype: int
    data: bytes

    @property
    def usable(self) -> bool:
        """RFC 7672 §3.1: DANE-TA or DANE-EE, a known selector and a known matching type.
        (A full-data record's length is not checked here: it simply never matches.)"""
        return self.usage in (2, 3) and self.selector in SELECTORS and self.mtype in MTYPES

    @property
    def names(self) -> str:
        """``DANE-EE SPKI SHA2-256`` (RFC 7218 mnemonics; numbers when unknown)."""
        return " ".join(
            table.get(value, str(value))
            for table, value in (
                (USAGES, self.usage),
                (SELECTORS, self.selector),
                (MTYPES, self.mtype),
            )
        )

    @property
    def text(self) -> str:
        """The record as a zone file writes it (the data cut after 64 hex digits)."""
        hexdata = self.data.hex()
        shown = hexdata if len(hexdata) <= 64 else hexdata[:64] + "…"
        return f"{self.usage} {self.selector} {self.mtype} {shown}"

    def to_json(self) -> dict[str, object]:
        return {
            "usage": self.usage,
            "selector": self.selector,
            "mtype": self.mtype,
            "data": self.data.hex()[:1024],
            "names": self.names,
            "usable": self.usable,
        }


def association(cert: x509.Certificate, selector: int, mtype: int) -> bytes:
    """The certificate association data a TLSA record with this selector and type would hold."""
    if selector == 0:
        material = cert.public_bytes(serialization.Encoding.DER)
    else:
        material = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    if mtype == 1:
        return hashlib.sha256(material).digest()
    if mtype == 2:
        return hashlib.sha512(material).digest()
    return material


def _matches(record: TlsaRecord, cert: x509.Certificate) -> bool:
    return association(cert, record.selector, record.mtype) == record.data


@dataclass(frozen=True)
class DaneResult:
    """What the presented chain made of the TLSA records (RFC 7672 §3)."""

    outcome: Match
    """``match`` (authenticated), ``no-match``, ``unusable`` (records exist, none usable) or
    ``none`` (no records to check)."""
    record: TlsaRecord | None = None
    """The record that matched."""
    detail: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "record": self.record.to_json() if self.record is not None else None,
            "detail": self.detail,
        }


def check_chain(
    records: tuple[TlsaRecord, ...], chain: list[x509.Certificate], names: tuple[str, ...]
) -> DaneResult:
    """Match a server's chain (leaf first) against TLSA records, as RFC 7672 §3 says.

    DANE-EE(3) matches the leaf alone: no name, issuer or date check (§3.1.1). DANE-TA(2)
    matches an issuer certificate the server sent; the chain from the leaf up to it must verify,
    and the leaf must name one of `names` (the TLSA base domain and the MX name, §3.2.2).
    """
    if not records:
        return DaneResult("none", detail="no TLSA records")
    usable = [r for r in records if r.usable]
    if not usable:
        return DaneResult("unusable", detail="no record is DANE-TA or DANE-EE (RFC 7672 §3.1)")
    if not chain:
        return DaneResult("no-match", detail="the server presented no certificate")
    for record in usable:
        if record.usage == 3 and _matches(record, chain[0]):
            return DaneResult("match", record, f"the server's certificate matches {record.names}")
    why = "no record matches the server's certificate"
    for record in usable:
        if record.usage != 2:
            continue
        for depth in range(1, len(chain)):
            if not _matches(record, chain[depth]):
                continue
            ok, reason = _verify_to(chain[: depth + 1], names)
            if ok:
                return DaneResult(
                    "match", record, f"the chain leads to the trust anchor of {record.names}"
                )
            why = f"the {record.names} trust anchor is in the chain, but {reason}"
    return DaneResult("no-match", detail=why)


def _verify_to(chain: list[x509.Certificate], names: tuple[str, ...]) -> tuple[bool, str]:
    """Does the leaf chain up to the last certificate (taken as the trust anchor) for a name?"""
    anchor = chain[-1]
    last = "no name to check"
    for name in names:
        try:
            subject = DNSName(name.rstrip("."))
        except ValueError:
            continue
        try:
            verifier = PolicyBuilder().store(Store([anchor])).build_server_verifier(subject)
            verifier.verify(chain[0], chain[1:-1])
        except Exception as exc:  # cryptography's VerificationError and ValueError variants
            last = str(exc).split(" (encountered")[0][:160]
            continue
        return True, ""
    return False, last
