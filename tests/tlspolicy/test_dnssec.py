"""The DNSSEC validator against lab zones signed at start-up (NSEC and NSEC3), over real sockets:
secure answers and proofs of absence, a chain of trust through DS records from a root anchor,
insecure delegations, and the bogus cases a DANE client must refuse."""

from __future__ import annotations

import time

import pytest

from mxtui.lab.dns_server import Fault, LabDNSServer
from mxtui.tlspolicy.dnsclient import SecureQuerier
from mxtui.tlspolicy.dnssec import Security, Validator, root_anchors

ZONE = """\
$ORIGIN dane.test.
$TTL 300
@ SOA ns hm 1 60 60 60 60
@ NS ns
ns A 192.0.2.1
@ MX 10 mx1
@ MX 20 alias
mx1 A 192.0.2.10
alias CNAME mx1
_25._tcp.mx1 TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
stripped TXT "served without its signature"
"""


@pytest.fixture(params=["nsec", "nsec3"])
async def signed(request):
    faults = {"stripped.dane.test": Fault(unsigned=True)}
    async with LabDNSServer(
        ZONE, sign=True, nsec3=request.param == "nsec3", faults=faults
    ) as server:
        yield server


async def check(server, name, rdtype, anchors=None, **kw):
    querier = SecureQuerier([server.address], timeout=2)
    try:
        validator = Validator(
            querier, anchors if anchors is not None else server.trust_anchors, **kw
        )
        return await validator.lookup(name, rdtype)
    finally:
        querier.close()


@pytest.mark.parametrize(
    ("name", "rdtype", "rcode", "count"),
    [
        ("dane.test", "MX", "NOERROR", 2),
        ("_25._tcp.mx1.dane.test", "TLSA", "NOERROR", 1),
        ("alias.dane.test", "A", "NOERROR", 1),
        ("mx1.dane.test", "AAAA", "NOERROR", 0),  # NODATA
        ("_tcp.mx1.dane.test", "TLSA", "NOERROR", 0),  # an empty non-terminal
        ("_25._tcp.nowhere.dane.test", "TLSA", "NXDOMAIN", 0),
    ],
)
async def test_answers_and_absences_in_a_signed_zone_are_secure(signed, name, rdtype, rcode, count):
    lookup = await check(signed, name, rdtype)
    assert (lookup.rcode, len(lookup.records)) == (rcode, count)
    assert lookup.security is Security.SECURE, lookup.why


async def test_an_answer_without_its_signature_in_a_signed_zone_is_bogus(signed):
    lookup = await check(signed, "stripped.dane.test", "TXT")
    assert lookup.security is Security.BOGUS
    assert "no signature" in lookup.why


async def test_keys_that_do_not_match_the_trust_anchor_make_everything_bogus(signed):
    # Another lab signs the same zone with its own key: its anchor does not fit these answers.
    async with LabDNSServer(ZONE, sign=True) as other:
        lookup = await check(signed, "_25._tcp.mx1.dane.test", "TLSA", other.trust_anchors)
    assert lookup.security is Security.BOGUS
    assert "trust anchor" in lookup.why


async def test_expired_signatures_are_bogus(signed):
    later = time.time() + 60 * 86400  # the lab signs for 30 days
    lookup = await check(signed, "dane.test", "MX", now=later)
    assert lookup.security is Security.BOGUS


async def test_without_a_trust_anchor_the_answer_is_insecure(signed):
    lookup = await check(signed, "dane.test", "MX", anchors={})
    assert lookup.security is Security.INSECURE


async def test_an_unanswered_question_is_indeterminate():
    import socket

    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        querier = SecureQuerier([silent.getsockname()], timeout=0.3)
        lookup = await Validator(querier, root_anchors()).lookup("dane.test", "MX")
    finally:
        silent.close()
    assert lookup.security is Security.INDETERMINATE and lookup.rcode == "TIMEOUT"


ROOT = """\
$ORIGIN .
$TTL 300
@ SOA a.root hm 1 60 60 60 60
@ NS a.root
a.root A 192.0.2.53
test NS ns.test
"""
TLD = """\
$ORIGIN test.
$TTL 300
@ SOA ns hm 1 60 60 60 60
@ NS ns
ns A 192.0.2.54
dane NS ns.dane
plain NS ns.plain
"""
PLAIN = """\
$ORIGIN plain.test.
$TTL 300
@ SOA ns hm 1 60 60 60 60
@ NS ns
ns A 192.0.2.55
_25._tcp.mx TLSA 3 1 0 00
"""


@pytest.mark.parametrize("nsec3", [False, True], ids=["nsec", "nsec3"])
async def test_a_chain_of_trust_from_the_root_key_through_ds_records(nsec3):
    zones = [ROOT, TLD, ZONE, PLAIN]
    async with LabDNSServer(zones, sign=[".", "test", "dane.test"], nsec3=nsec3) as server:
        root_only = {k: v for k, v in server.trust_anchors.items() if k.to_text() == "."}
        secure = await check(server, "_25._tcp.mx1.dane.test", "TLSA", root_only)
        # plain.test is delegated without DS: its records are provably unsigned.
        plain = await check(server, "_25._tcp.mx.plain.test", "TLSA", root_only)
    assert secure.security is Security.SECURE, secure.why
    assert plain.security is Security.INSECURE, plain.why
    assert "without DS" in plain.why
