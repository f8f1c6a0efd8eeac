"""A lab zone signed at start-up, and the records that prove an absence in it.

DANE needs DNSSEC: a TLSA record counts only when its signature chain leads to a trust anchor.
The lab signs its zones when it starts, with a key made then and kept in memory only (the trust
anchor a validator needs is printed by ``mxtui lab --serve`` and handed to mxtui's own
validator), using dnspython's ``dns.dnssec.sign_zone``: ECDSA P-256 (algorithm 13, RFC 6605),
one key as both KSK and ZSK, NSEC by default or NSEC3 (RFC 5155) on request.

The server's side of RFC 4035 §3.1: with the DO bit set, every answer RRset goes out with its
RRSIG, and a negative answer with the NSEC/NSEC3 records (and their signatures) that prove it:
the record at the name for NODATA, the span covering the name and the wildcard for NXDOMAIN
(RFC 4035 §3.1.3, RFC 5155 §7.2).
"""

from __future__ import annotations

import bisect
import datetime
from dataclasses import dataclass, field

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DS
import dns.rdtypes.ANY.NSEC3PARAM
import dns.rrset
import dns.zone
from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE_LIFETIME = datetime.timedelta(days=30)
NSEC3_ITERATIONS = 0  # RFC 9276 §3.1: no extra iterations, no salt
_B32HEX = "0123456789ABCDEFGHIJKLMNOPQRSTUV"


@dataclass
class SignedZone:
    """A zone signed in memory, its trust anchor, and its denial records in canonical order."""

    zone: dns.zone.Zone
    ds: dns.rdtypes.ANY.DS.DS
    """The DS (SHA-256) of its key: the trust anchor a validator is given for the lab."""
    dnskey: dns.rdata.Rdata
    nsec3: dns.rdata.Rdata | None = None
    """The NSEC3PARAM when signed with NSEC3."""
    _owners: list[dns.name.Name] = field(default_factory=list)
    _hashes: list[str] = field(default_factory=list)
    _by_hash: dict[str, dns.name.Name] = field(default_factory=dict)

    @property
    def origin(self) -> dns.name.Name:
        assert self.zone.origin is not None
        return self.zone.origin

    @property
    def anchor_text(self) -> str:
        """The anchor as a zone file line, the form unbound's ``trust-anchor:`` takes."""
        return f"{self.origin.to_text()} IN DS {self.ds.to_text()}"

    def signatures(self, name: dns.name.Name, rdtype: int) -> dns.rrset.RRset | None:
        rdataset = self.zone.get_rdataset(name, dns.rdatatype.RRSIG, covers=rdtype)
        if rdataset is None:
            return None
        return dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset))

    def _with_signature(self, name: dns.name.Name, rdtype: int) -> list[dns.rrset.RRset]:
        rdataset = self.zone.get_rdataset(name, rdtype)
        if rdataset is None:
            return []
        out = [dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset))]
        signatures = self.signatures(name, rdtype)
        if signatures is not None:
            out.append(signatures)
        return out

    # ------------------------------------------------------------------ denial

    def denial(self, qname: dns.name.Name, *, exists: bool) -> list[dns.rrset.RRset]:
        """The proof for NODATA at `qname` (`exists`) or for NXDOMAIN."""
        if self.nsec3 is not None:
            return self._nsec3_denial(qname, exists=exists)
        if exists:
            here = self._with_signature(qname, dns.rdatatype.NSEC)
            if here:
                return here
            return self._nsec_covering(qname)  # an empty non-terminal
        proof = self._nsec_covering(qname)
        encloser = self._closest_encloser(qname)
        wildcard = dns.name.from_text("*", encloser)
        for rrset in self._nsec_covering(wildcard):
            if rrset not in proof:
                proof.append(rrset)
        return proof

    def _nsec_covering(self, name: dns.name.Name) -> list[dns.rrset.RRset]:
        index = bisect.bisect_right(self._owners, name) - 1
        owner = self._owners[index]  # index -1 wraps to the last name: it covers past the end
        return self._with_signature(owner, dns.rdatatype.NSEC)

    def _closest_encloser(self, qname: dns.name.Name) -> dns.name.Name:
        name = qname
        while name != self.origin:
            name = name.parent()
            if self.zone.get_node(name) is not None or any(
                o.is_subdomain(name) for o in self._owners
            ):
                return name
        return self.origin

    def _hash(self, name: dns.name.Name) -> str:
        assert self.nsec3 is not None
        return dns.dnssec.nsec3_hash(name, self.nsec3.salt, self.nsec3.iterations, 1).upper()

    def _nsec3_at(self, digest: str) -> list[dns.rrset.RRset]:
        owner = self._by_hash[digest]
        return self._with_signature(owner, dns.rdatatype.NSEC3)

    def _nsec3_covering(self, name: dns.name.Name) -> list[dns.rrset.RRset]:
        digest = self._hash(name)
        if digest in self._by_hash:
            return self._nsec3_at(digest)
        index = bisect.bisect_right(self._hashes, digest) - 1
        return self._nsec3_at(self._hashes[index])

    def _nsec3_denial(self, qname: dns.name.Name, *, exists: bool) -> list[dns.rrset.RRset]:
        digest = self._hash(qname)
        if exists and digest in self._by_hash:
            return self._nsec3_at(digest)
        encloser = qname
        while encloser != self.origin:
            encloser = encloser.parent()
            if self._hash(encloser) in self._by_hash:
                break
        next_closer = dns.name.Name(qname.labels[-(len(encloser) + 1) :])
        proof = self._nsec3_at(self._hash(encloser))
        for rrset in self._nsec3_covering(next_closer) + self._nsec3_covering(
            dns.name.from_text("*", encloser)
        ):
            if rrset not in proof:
                proof.append(rrset)
        return proof


def sign(zone: dns.zone.Zone, *, nsec3: bool = False) -> SignedZone:
    """Sign `zone` in place with a new P-256 key (made now, never written anywhere)."""
    key = ec.generate_private_key(ec.SECP256R1())
    dnskey = dns.dnssec.make_dnskey(key.public_key(), dns.dnssec.Algorithm.ECDSAP256SHA256, 257)
    params = None
    if nsec3:
        params = dns.rdata.from_text("IN", "NSEC3PARAM", f"1 0 {NSEC3_ITERATIONS} -")
        assert isinstance(params, dns.rdtypes.ANY.NSEC3PARAM.NSEC3PARAM)
    now = datetime.datetime.now(datetime.UTC)
    inception, expiration = now - datetime.timedelta(hours=1), now + SIGNATURE_LIFETIME
    if params is None:
        dns.dnssec.sign_zone(zone, keys=[(key, dnskey)], inception=inception, expiration=expiration)
    else:
        _sign_nsec3(zone, key, dnskey, params, inception, expiration)
    assert zone.origin is not None
    signed = SignedZone(zone, dns.dnssec.make_ds(zone.origin, dnskey, "SHA256"), dnskey, params)
    for name, rdataset in zone.iterate_rdatasets():
        if rdataset.rdtype == dns.rdatatype.NSEC:
            signed._owners.append(name)
        elif rdataset.rdtype == dns.rdatatype.NSEC3:
            digest = name.labels[0].decode("ascii").upper()
            signed._by_hash[digest] = name
    signed._owners.sort()
    signed._hashes = sorted(signed._by_hash)
    return signed


def _sign_nsec3(
    zone: dns.zone.Zone,
    key: ec.EllipticCurvePrivateKey,
    dnskey: dns.rdata.Rdata,
    params: dns.rdtypes.ANY.NSEC3PARAM.NSEC3PARAM,
    inception: datetime.datetime,
    expiration: datetime.datetime,
) -> None:
    """NSEC3 signing, which dnspython's `sign_zone` does not do yet: the hashed chain of RFC 5155
    §7.1 is built here (hashes by `dns.dnssec.nsec3_hash`), every RRset is signed by dnspython's
    own `default_rrset_signer`."""
    origin = zone.origin
    assert origin is not None
    soa = zone.get_rdataset(origin, dns.rdatatype.SOA)
    assert soa is not None
    negative_ttl = min(soa.ttl, soa[0].minimum)
    with zone.writer() as txn:
        txn.add(origin, soa.ttl, dnskey)
        txn.add(origin, 0, params)
        types: dict[dns.name.Name, set[int]] = {}
        for name, rdataset in txn.iterate_rdatasets():
            types.setdefault(name, set()).add(rdataset.rdtype)
            parent = name
            while parent != origin and parent.is_subdomain(origin):
                parent = parent.parent()
                types.setdefault(parent, set())  # an empty non-terminal gets an NSEC3 too
        hashed = sorted(
            (dns.dnssec.nsec3_hash(n, params.salt, params.iterations, 1).upper(), n) for n in types
        )
        for index, (digest, name) in enumerate(hashed):
            following = hashed[(index + 1) % len(hashed)][0]
            bitmap = types[name] | ({dns.rdatatype.RRSIG} if types[name] else set())
            words = " ".join(sorted(dns.rdatatype.to_text(t) for t in bitmap))
            rdata = dns.rdata.from_text(
                "IN", "NSEC3", f"1 0 {params.iterations} - {following} {words}".rstrip()
            )
            txn.add(dns.name.from_text(digest, origin), negative_ttl, rdata)
        for name, rdataset in list(txn.iterate_rdatasets()):
            if rdataset.rdtype == dns.rdatatype.RRSIG:
                continue
            dns.dnssec.default_rrset_signer(
                txn,
                dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset)),
                signer=origin,
                ksks=[(key, dnskey)],
                zsks=[(key, dnskey)],
                inception=inception,
                expiration=expiration,
            )
