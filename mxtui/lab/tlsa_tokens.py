"""TLSA records that name lab certificates: ``lab:HOST``, ``lab:HOST@2``, ``lab:ca`` tokens.

A lab zone cannot hold the digest of a certificate made when the lab starts, so it names the
certificate instead, in the record's data field, and the lab DNS server puts the digest in its
place (for the record's own selector and matching type) before it parses the zone:

    _25._tcp.mx1  TLSA  3 1 1  lab:mx1.example.com      ; the host's lab-CA certificate
    _25._tcp.mx2  TLSA  3 1 1  lab:mx2.example.com@2    ; generation 2 (after a rotation)
    _25._tcp.mx3  TLSA  2 0 1  lab:ca                   ; the lab CA itself (DANE-TA)
"""

from __future__ import annotations

import re

from mxtui.lab.certs import issued_certificate, lab_ca
from mxtui.tlspolicy.tlsa import association

_TOKEN = re.compile(
    r"(?P<head>\bTLSA\s+(?P<usage>\d+)\s+(?P<selector>\d+)\s+(?P<mtype>\d+)\s+)"
    r"lab:(?P<what>[A-Za-z0-9.-]+)(?:@(?P<gen>\d))?",
    re.IGNORECASE,
)


def expand_tlsa(zone: str) -> str:
    """Replace every ``lab:...`` token in a TLSA record by the digest it names."""

    def digest(match: re.Match[str]) -> str:
        selector, mtype = int(match["selector"]), int(match["mtype"])
        what = match["what"].lower().rstrip(".")
        if what == "ca":
            cert = lab_ca().cert
        else:
            cert = issued_certificate(what, int(match["gen"] or 1)).cert
        return match["head"] + association(cert, selector, mtype).hex()

    return _TOKEN.sub(digest, zone)
