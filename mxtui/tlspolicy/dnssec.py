"""Is a DNS answer DNSSEC-secure? A chain of trust from a trust anchor, checked with dnspython.

DANE (RFC 7672) trusts TLSA records only when they are "secure" (RFC 4033 §5, RFC 4035 §4.3): a
chain of signatures leads from a trust anchor (the root's key for real domains, the lab's key for
the lab) to the answer. mxtui does not take a resolver's word for it (the AD bit): it asks with
CD set and checks the chain itself, so it can show *why* an answer is bogus.

The signatures are checked by `dns.dnssec` (dnspython, on `cryptography`); what this module adds
is the walk: from an RRset to the DNSKEY of the zone that signed it, from that DNSKEY to the DS
in the parent zone, and so up to an anchor; for a missing record, the NSEC or NSEC3 proof that
it does not exist (RFC 4035 §5.4, RFC 5155 §8); for unsigned data, the proof that its zone is
unsigned (a delegation without DS, RFC 4035 §5.2). Every step moves strictly towards the root,
so a hostile answer cannot make it loop, and every question goes through the lookup's bounded
`SecureQuerier`.

Outcomes, as RFC 4033 §5 names them: ``secure``, ``insecure`` (provably unsigned, or under no
trust anchor), ``bogus`` (signatures that should be there and verify are not), ``indeterminate``
(the data could not be had: timeouts, SERVFAIL).
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import dns.dnssec
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DS
import dns.rrset

from mxtui.text import printable
from mxtui.tlspolicy.dnsclient import SecureQuerier

MAX_CHAIN = 8
"""CNAMEs followed in one answer (as `mxtui.dns.query` does)."""
MAX_SIGNATURES = 8
"""RRSIGs tried per RRset; more is a hostile answer."""
MAX_NSEC3_ITERATIONS = 150
"""RFC 9276 §3.2 lets validators treat more iterations as insecure; so does mxtui."""

ROOT_ANCHORS_TEXT = (
    # IANA's root KSKs, as Debian's dns-root-data ships them (/usr/share/dns/root.ds).
    ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
    ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
)


_CHAIN: contextvars.ContextVar[tuple[dns.name.Name, ...]] = contextvars.ContextVar(
    "mxtui_dnssec_chain", default=()
)
"""The zones whose keys the current chain of questions is working out: a zone asked for again
within its own chain is a loop (a hostile or broken answer), cut as indeterminate."""


class Security(StrEnum):
    SECURE = "secure"
    INSECURE = "insecure"
    BOGUS = "bogus"
    INDETERMINATE = "indeterminate"


_RANK = {Security.SECURE: 0, Security.INSECURE: 1, Security.INDETERMINATE: 2, Security.BOGUS: 3}


def weakest(*states: Security) -> Security:
    """A chain is as strong as its weakest link: any bogus link makes it bogus, and so on."""
    return max(states, key=_RANK.__getitem__, default=Security.SECURE)


Anchors = Mapping[dns.name.Name, tuple[dns.rdtypes.ANY.DS.DS, ...]]


def root_anchors() -> dict[dns.name.Name, tuple[dns.rdtypes.ANY.DS.DS, ...]]:
    return {dns.name.root: tuple(_ds_from_text(line) for line in ROOT_ANCHORS_TEXT)}


def _ds_from_text(line: str) -> dns.rdtypes.ANY.DS.DS:
    rdata = dns.rdata.from_text("IN", "DS", line.split(" DS ", 1)[1])
    assert isinstance(rdata, dns.rdtypes.ANY.DS.DS)
    return rdata


@dataclass(frozen=True)
class Verdict:
    security: Security
    why: str = ""
    delegation: bool | None = None
    """For a proof that a DS does not exist: whether the name is a delegation (NS bit set, or
    an NSEC3 opt-out span covers it). A DS denial proves an unsigned zone only then."""


@dataclass(frozen=True)
class Lookup:
    """A validated answer: the records (if any), how secure they are, and why."""

    name: str
    rdtype: str
    rcode: str
    rrset: dns.rrset.RRset | None
    security: Security
    why: str = ""
    chain: tuple[str, ...] = ()

    @property
    def records(self) -> list[dns.rdata.Rdata]:
        return list(self.rrset) if self.rrset is not None else []


@dataclass(frozen=True)
class _Keys:
    security: Security
    dnskeys: dns.rrset.RRset | None = None
    why: str = ""


def _find(
    section: list[dns.rrset.RRset], name: dns.name.Name, rdtype: int, covers: int = 0
) -> dns.rrset.RRset | None:
    for rrset in section:
        if rrset.name == name and rrset.rdtype == rdtype and rrset.covers == covers:
            return rrset
    return None


def _text(name: dns.name.Name) -> str:
    return printable(name.to_text(omit_final_dot=True)) or "."


class Validator:
    """Validates answers for one lookup, remembering every zone's keys along the way."""

    def __init__(self, querier: SecureQuerier, anchors: Anchors, *, now: float | None = None):
        self.querier = querier
        self.anchors = dict(anchors)
        self.now = now
        self._keys: dict[dns.name.Name, asyncio.Task[_Keys]] = {}
        self._zones: dict[dns.name.Name, asyncio.Task[dns.name.Name | None]] = {}

    # ------------------------------------------------------------------ answers

    async def lookup(self, name: str | dns.name.Name, rdtype: str) -> Lookup:
        """Ask for `rdtype` at `name`, follow CNAMEs, and say how secure the outcome is."""
        qname = dns.name.from_text(name) if isinstance(name, str) else name
        qtype = dns.rdatatype.from_text(rdtype)
        shown = _text(qname)
        chain: list[str] = []
        states: list[Security] = []
        whys: list[str] = []

        def done(rcode: str, rrset: dns.rrset.RRset | None, verdict: Verdict) -> Lookup:
            states.append(verdict.security)
            whys.append(verdict.why)
            security = weakest(*states)
            why = next((w for st, w in zip(states, whys, strict=True) if st is security), "")
            return Lookup(shown, rdtype, rcode, rrset, security, why, tuple(chain))

        current = qname
        seen = {qname}
        for _ in range(MAX_CHAIN):  # each round asks about the name the chain has reached
            reply = await self.querier.ask(current, qtype)
            if reply.message is None:
                return Lookup(shown, rdtype, reply.rcode, None, Security.INDETERMINATE, reply.error)
            message = reply.message
            rcode = dns.rcode.to_text(message.rcode())
            if rcode not in ("NOERROR", "NXDOMAIN"):
                return Lookup(
                    shown, rdtype, rcode, None, Security.INDETERMINATE, f"the answer was {rcode}"
                )
            name = current
            for _ in range(MAX_CHAIN):  # the CNAME chain inside this answer
                found = _find(message.answer, name, qtype)
                if found is not None:
                    return done(rcode, found, await self._rrset(message.answer, found))
                cname = _find(message.answer, name, dns.rdatatype.CNAME)
                if cname is None:
                    break
                verdict = await self._rrset(message.answer, cname)
                states.append(verdict.security)
                whys.append(verdict.why)
                name = cname[0].target
                chain.append(_text(name))
                if name in seen:
                    return done("CNAME_LOOP", None, Verdict(Security.SECURE))
                seen.add(name)
            has_soa = any(r.rdtype == dns.rdatatype.SOA for r in message.authority)
            if name != current and rcode == "NOERROR" and not has_soa:
                current = name  # the server stopped at the alias: ask for its target
                continue
            return done(rcode, None, await self._negative(message, name, qtype))
        return done("CNAME_LOOP", None, Verdict(Security.SECURE))

    async def _rrset(
        self,
        section: list[dns.rrset.RRset],
        rrset: dns.rrset.RRset,
        signer_must_be: dns.name.Name | None = None,
    ) -> Verdict:
        """How secure one RRset is, from the RRSIGs beside it in `section` (signed by
        `signer_must_be` when given: the zone a denial record must come from)."""
        sigs = _find(section, rrset.name, dns.rdatatype.RRSIG, rrset.rdtype)
        if sigs is None:
            return await self._unsigned(rrset.name, f"{_text(rrset.name)} has no signature")
        last = Verdict(Security.BOGUS, f"no signature of {_text(rrset.name)} verifies")
        for rrsig in list(sigs)[:MAX_SIGNATURES]:
            signer: dns.name.Name = rrsig.signer
            if not rrset.name.is_subdomain(signer):
                last = Verdict(Security.BOGUS, f"signed by {_text(signer)}, not a parent zone")
                continue
            if signer_must_be is not None and signer != signer_must_be:
                last = Verdict(Security.BOGUS, f"signed by {_text(signer)}, not its zone")
                continue
            keys = await self._zone_keys(signer)
            if keys.security is not Security.SECURE:
                return Verdict(keys.security, keys.why)
            assert keys.dnskeys is not None
            try:
                dns.dnssec.validate_rrsig(rrset, rrsig, {signer: keys.dnskeys}, now=self._now())
            except dns.dnssec.ValidationFailure as exc:
                last = Verdict(Security.BOGUS, f"the signature of {_text(rrset.name)}: {exc}")
                continue
            return Verdict(Security.SECURE, f"signed by {_text(signer)}")
        return last

    def _now(self) -> float:
        return self.now if self.now is not None else time.time()

    # ------------------------------------------------------------------ zones

    def _anchor_above(self, name: dns.name.Name) -> dns.name.Name | None:
        best = None
        for anchor in self.anchors:
            if name.is_subdomain(anchor) and (best is None or len(anchor) > len(best)):
                best = anchor
        return best

    async def _zone_keys(self, zone: dns.name.Name) -> _Keys:
        chain = _CHAIN.get()
        if zone in chain:
            return _Keys(Security.INDETERMINATE, why=f"the chain of trust loops at {_text(zone)}")
        task = self._keys.get(zone)
        if task is None:
            context = contextvars.copy_context()
            context.run(_CHAIN.set, (*chain, zone))
            task = self._keys[zone] = asyncio.get_running_loop().create_task(
                self._find_keys(zone), context=context
            )
        return await asyncio.shield(task)

    async def _find_keys(self, zone: dns.name.Name) -> _Keys:
        """The zone's DNSKEY RRset and whether it is secure (anchored, or by a secure DS)."""
        if self._anchor_above(zone) is None:
            return _Keys(Security.INSECURE, why=f"no trust anchor covers {_text(zone)}")
        if zone in self.anchors:
            return await self._keys_matching(zone, self.anchors[zone], "the trust anchor")
        reply = await self.querier.ask(zone, dns.rdatatype.DS)
        if reply.message is None:
            return _Keys(Security.INDETERMINATE, why=f"DS of {_text(zone)}: {reply.error}")
        message = reply.message
        rcode = message.rcode()
        if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            return _Keys(
                Security.INDETERMINATE,
                why=f"DS of {_text(zone)}: the answer was {dns.rcode.to_text(rcode)}",
            )
        ds = _find(message.answer, zone, dns.rdatatype.DS)
        if ds is None:
            verdict = await self._negative(message, zone, dns.rdatatype.DS)
            if verdict.security is Security.SECURE:
                if verdict.delegation is False:
                    return _Keys(
                        Security.BOGUS, why=f"{_text(zone)} signs records but is not a zone"
                    )
                return _Keys(Security.INSECURE, why=f"{_text(zone)} is delegated without DS")
            return _Keys(verdict.security, why=verdict.why)
        sigs = _find(message.answer, zone, dns.rdatatype.RRSIG, dns.rdatatype.DS)
        if sigs is not None and any(s.signer == zone for s in sigs):
            return _Keys(Security.BOGUS, why=f"the DS of {_text(zone)} is signed by itself")
        if sigs is None:
            parent = await self._zone_of(zone.parent()) if zone != dns.name.root else None
            if parent is None:
                return _Keys(Security.INDETERMINATE, why=f"no zone above {_text(zone)}")
            keys = await self._zone_keys(parent)
            if keys.security is Security.SECURE:
                return _Keys(Security.BOGUS, why=f"the DS of {_text(zone)} has no signature")
            return _Keys(keys.security, why=keys.why)
        verdict = await self._rrset(message.answer, ds)
        if verdict.security is not Security.SECURE:
            return _Keys(verdict.security, why=verdict.why)
        return await self._keys_matching(zone, tuple(ds), "its DS")  # type: ignore[arg-type]

    async def _keys_matching(
        self, zone: dns.name.Name, ds_set: tuple[dns.rdtypes.ANY.DS.DS, ...], what: str
    ) -> _Keys:
        reply = await self.querier.ask(zone, dns.rdatatype.DNSKEY)
        if reply.message is None:
            return _Keys(Security.INDETERMINATE, why=f"DNSKEY of {_text(zone)}: {reply.error}")
        dnskeys = _find(reply.message.answer, zone, dns.rdatatype.DNSKEY)
        sigs = _find(reply.message.answer, zone, dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY)
        if dnskeys is None or sigs is None:
            return _Keys(Security.BOGUS, why=f"{_text(zone)} has no signed DNSKEY set")
        trusted = []
        for key in list(dnskeys)[: MAX_SIGNATURES * 2]:
            for ds in ds_set:
                try:
                    if dns.dnssec.make_ds(zone, key, ds.digest_type) == ds:
                        trusted.append(key)
                        break
                except (dns.dnssec.UnsupportedAlgorithm, ValueError):
                    continue
        if not trusted:
            return _Keys(Security.BOGUS, why=f"no DNSKEY of {_text(zone)} matches {what}")
        anchor_keys = dns.rrset.from_rdata_list(zone, dnskeys.ttl, trusted)
        for rrsig in list(sigs)[:MAX_SIGNATURES]:
            try:
                dns.dnssec.validate_rrsig(dnskeys, rrsig, {zone: anchor_keys}, now=self._now())
            except dns.dnssec.ValidationFailure:
                continue
            return _Keys(Security.SECURE, dnskeys)
        return _Keys(Security.BOGUS, why=f"the DNSKEY set of {_text(zone)} does not verify")

    async def _zone_of(self, name: dns.name.Name) -> dns.name.Name | None:
        """The apex of the zone holding `name` (from its SOA, or the SOA of a negative answer)."""
        task = self._zones.get(name)
        if task is None:
            task = self._zones[name] = asyncio.ensure_future(self._ask_zone(name))
        return await asyncio.shield(task)

    async def _ask_zone(self, name: dns.name.Name) -> dns.name.Name | None:
        reply = await self.querier.ask(name, dns.rdatatype.SOA)
        if reply.message is None:
            return None
        for section in (reply.message.answer, reply.message.authority):
            for rrset in section:
                if rrset.rdtype == dns.rdatatype.SOA and name.is_subdomain(rrset.name):
                    return rrset.name
        return None

    async def _unsigned(self, owner: dns.name.Name, why: str) -> Verdict:
        """Data without signatures: insecure if its zone is provably unsigned, else bogus."""
        if self._anchor_above(owner) is None:
            return Verdict(Security.INSECURE, f"no trust anchor covers {_text(owner)}")
        zone = await self._zone_of(owner)
        if zone is None:
            return Verdict(Security.INDETERMINATE, f"the zone of {_text(owner)} is unknown")
        keys = await self._zone_keys(zone)
        if keys.security is Security.SECURE:
            return Verdict(Security.BOGUS, f"{why}, though {_text(zone)} is signed")
        return Verdict(keys.security, keys.why)

    # ------------------------------------------------------------------ denial

    async def _negative(
        self, message: dns.message.Message, qname: dns.name.Name, qtype: int
    ) -> Verdict:
        """How secure the answer "no such record" (NODATA) or "no such name" (NXDOMAIN) is."""
        nxdomain = message.rcode() == dns.rcode.NXDOMAIN
        soa = next((r for r in message.authority if r.rdtype == dns.rdatatype.SOA), None)
        if soa is None or not qname.is_subdomain(soa.name):
            start = qname.parent() if qtype == dns.rdatatype.DS and qname.labels else qname
            return await self._unsigned(start, f"the denial for {_text(qname)} names no zone")
        zone = soa.name
        if qtype == dns.rdatatype.DS and zone == qname:
            return Verdict(
                Security.INDETERMINATE, f"the zone {_text(zone)} itself answered for its DS"
            )
        nsecs = [r for r in message.authority if r.rdtype == dns.rdatatype.NSEC]
        nsec3s = [r for r in message.authority if r.rdtype == dns.rdatatype.NSEC3]
        if not nsecs and not nsec3s:
            # Unsigned: secure only if the zone is provably unsigned. For a DS the zone that
            # matters is the parent's (the name's own keys are what is being worked out).
            start = qname.parent() if qtype == dns.rdatatype.DS and qname != zone else qname
            return await self._unsigned(start, f"the denial for {_text(qname)} has no proof")
        for rrset in (soa, *nsecs, *nsec3s):
            if not rrset.name.is_subdomain(zone):
                return Verdict(Security.BOGUS, f"a proof record lies outside {_text(zone)}")
            verdict = await self._rrset(message.authority, rrset, signer_must_be=zone)
            if verdict.security is not Security.SECURE:
                return verdict
        if nsecs:
            return _nsec_proof(nsecs, qname, qtype, zone, nxdomain)
        return _nsec3_proof(nsec3s, qname, qtype, zone, nxdomain)


# ---------------------------------------------------------------------- NSEC (RFC 4035 §5.4)


def _covers(owner: dns.name.Name, nxt: dns.name.Name, name: dns.name.Name) -> bool:
    """Canonical order (RFC 4034 §6.1): owner < name < next, or past the last name."""
    if owner < nxt:
        return owner < name < nxt
    return name > owner or name < nxt  # the last NSEC points back to the apex


def _types(rdata: dns.rdata.Rdata) -> set[int]:
    out: set[int] = set()
    for window, bitmap in rdata.windows:
        for i, byte in enumerate(bitmap):
            for bit in range(8):
                if byte & (0x80 >> bit):
                    out.add(window * 256 + i * 8 + bit)
    return out


def _nsec_proof(
    nsecs: list[dns.rrset.RRset],
    qname: dns.name.Name,
    qtype: int,
    zone: dns.name.Name,
    nxdomain: bool,
) -> Verdict:
    for rrset in nsecs:
        rdata = rrset[0]
        if rrset.name == qname and not nxdomain:
            types = _types(rdata)
            if qtype in types or dns.rdatatype.CNAME in types:
                return Verdict(Security.BOGUS, f"the NSEC of {_text(qname)} lists the type")
            return Verdict(
                Security.SECURE,
                f"NSEC proves {_text(qname)} has no such record",
                delegation=dns.rdatatype.NS in types and dns.rdatatype.SOA not in types,
            )
    for rrset in nsecs:
        nxt = rrset[0].next
        if _covers(rrset.name, nxt, qname):
            if not nxdomain and nxt.is_subdomain(qname):
                return Verdict(
                    Security.SECURE, f"NSEC proves {_text(qname)} is an empty name", False
                )
            if nxdomain:
                encloser = _closest_encloser(qname, rrset.name, nxt, zone)
                wildcard = dns.name.from_text("*", encloser)
                if (
                    any(_covers(r.name, r[0].next, wildcard) or r.name == wildcard for r in nsecs)
                    or wildcard == qname
                ):
                    return Verdict(Security.SECURE, f"NSEC proves {_text(qname)} does not exist")
                return Verdict(Security.BOGUS, "no NSEC rules out a wildcard")
    return Verdict(Security.BOGUS, f"no NSEC covers {_text(qname)}")


def _closest_encloser(
    qname: dns.name.Name, owner: dns.name.Name, nxt: dns.name.Name, zone: dns.name.Name
) -> dns.name.Name:
    best = zone
    for other in (owner, nxt):
        common = qname.fullcompare(other)[2]
        if common > len(best):
            best = dns.name.Name(qname.labels[-common:])
    return best


# ---------------------------------------------------------------------- NSEC3 (RFC 5155 §8)

_B32HEX = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789ABCDEFGHIJKLMNOPQRSTUV")


def _nsec3_hash(name: dns.name.Name, rdata: dns.rdata.Rdata) -> str:
    return dns.dnssec.nsec3_hash(name, rdata.salt, rdata.iterations, rdata.algorithm).upper()


def _next_hashed(rdata: dns.rdata.Rdata) -> str:
    return base64.b32encode(rdata.next).decode().translate(_B32HEX).rstrip("=").upper()


def _nsec3_proof(
    nsec3s: list[dns.rrset.RRset],
    qname: dns.name.Name,
    qtype: int,
    zone: dns.name.Name,
    nxdomain: bool,
) -> Verdict:
    first = nsec3s[0][0]
    if first.algorithm != 1:
        return Verdict(Security.INSECURE, "unknown NSEC3 hash algorithm")
    if first.iterations > MAX_NSEC3_ITERATIONS:
        return Verdict(Security.INSECURE, f"NSEC3 with {first.iterations} iterations")
    spans = []
    for rrset in nsec3s:
        rdata = rrset[0]
        owner = rrset.name.labels[0].decode("ascii", "replace").upper()
        spans.append((owner, _next_hashed(rdata), rdata))

    def matching(name: dns.name.Name) -> dns.rdata.Rdata | None:
        digest = _nsec3_hash(name, first)
        return next((r for o, _, r in spans if o == digest), None)

    def covering(name: dns.name.Name) -> dns.rdata.Rdata | None:
        digest = _nsec3_hash(name, first)
        for owner, nxt, rdata in spans:
            inside = owner < digest < nxt if owner < nxt else (digest > owner or digest < nxt)
            if inside:
                return rdata
        return None

    if not nxdomain:
        found = matching(qname)
        if found is not None:
            types = _types(found)
            if qtype in types or dns.rdatatype.CNAME in types:
                return Verdict(Security.BOGUS, f"the NSEC3 of {_text(qname)} lists the type")
            return Verdict(
                Security.SECURE,
                f"NSEC3 proves {_text(qname)} has no such record",
                delegation=dns.rdatatype.NS in types and dns.rdatatype.SOA not in types,
            )
    # Closest encloser proof (RFC 5155 §7.2.1, §8.3): an ancestor that exists, the next name
    # below it towards qname covered, (for NXDOMAIN) the wildcard at the encloser covered.
    encloser = qname
    while encloser != zone:
        encloser = encloser.parent()
        if matching(encloser) is not None:
            break
    else:
        if matching(zone) is None:
            return Verdict(Security.BOGUS, "no NSEC3 matches a closest encloser")
    next_closer = dns.name.Name(qname.labels[-(len(encloser) + 1) :])
    cover = covering(next_closer)
    if cover is None:
        return Verdict(Security.BOGUS, f"no NSEC3 covers {_text(next_closer)}")
    opt_out = bool(cover.flags & 1)
    if not nxdomain:
        if qtype == dns.rdatatype.DS and opt_out:
            return Verdict(
                Security.SECURE, "an NSEC3 opt-out span covers the delegation", delegation=True
            )
        return Verdict(Security.BOGUS, f"no NSEC3 matches {_text(qname)}")
    if covering(dns.name.from_text("*", encloser)) is None:
        return Verdict(Security.BOGUS, "no NSEC3 rules out a wildcard")
    if opt_out:
        return Verdict(Security.INSECURE, "an NSEC3 opt-out span covers the name")
    return Verdict(Security.SECURE, f"NSEC3 proves {_text(qname)} does not exist")
