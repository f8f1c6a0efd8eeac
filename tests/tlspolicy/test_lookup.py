"""The TLS-policy lookups against a running lab: a signed zone, TLSA records naming lab
certificates, and a policy host on loopback that can also misbehave (redirects, errors, the
wrong media type, a huge body, slowness, a certificate that does not verify)."""

from __future__ import annotations

import pytest

from mxtui.dns import resolve_mx
from mxtui.lab.dns_server import Fault
from mxtui.lab.hosts import HostBehaviour
from mxtui.lab.runtime import Lab
from mxtui.lab.tls_policy import PolicySpec
from mxtui.tlspolicy import lookup_tls_policy
from mxtui.tlspolicy.dnssec import Security
from mxtui.tlspolicy.lookup import TlsSetup

DOMAIN = "pol.test"
ZONE = """\
$ORIGIN pol.test.
$TTL 300
@ SOA ns hm 1 60 60 60 60
@ NS ns
ns A 192.0.2.1
@ MX 10 mx1
@ MX 20 mx2
@ MX 30 other.example.net.
mx1 A 192.0.2.10
mx2 A 192.0.2.11
_25._tcp.mx1 TLSA 3 1 1 lab:mx1.pol.test
_25._tcp.mx1 TLSA 1 1 1 lab:mx1.pol.test
_25._tcp.mx2 TLSA 0 0 1 lab:ca
_mta-sts TXT "v=STSv1; id=42"
_smtp._tls TXT "v=TLSRPTv1; rua=mailto:rpt@pol.test"
mta-sts A 192.0.2.80
"""
OTHER = """\
$ORIGIN example.net.
$TTL 300
@ SOA ns hm 1 60 60 60 60
other A 192.0.2.12
"""
GOOD = "version: STSv1\nmode: testing\nmx: mx1.pol.test\nmx: *.pol.test\nmax_age: 604800\n"
HOSTS = {
    "192.0.2.10": HostBehaviour("accept", hostname="mx1.pol.test", certificate="lab-ca"),
    "192.0.2.11": HostBehaviour("accept", hostname="mx2.pol.test", certificate="lab-ca"),
    "192.0.2.12": HostBehaviour("accept", hostname="other.example.net"),
}


async def policy_of(*, spec: PolicySpec | None = None, faults=None, zone=ZONE, sign=True):
    spec = spec or PolicySpec(DOMAIN, GOOD)
    lab = Lab(
        [zone, OTHER],
        domain=DOMAIN,
        hosts=HOSTS,
        faults=faults or {},
        policies={"192.0.2.80": spec},
        sign=sign,
    )
    async with lab:
        plan = await resolve_mx(DOMAIN, nameservers=lab.nameservers, timeout=2)
        policy = await lookup_tls_policy(plan, lab.nameservers, setup=lab.tls_setup, timeout=2)
        return plan, policy, lab


async def test_policy_record_rpt_and_every_host_in_one_lookup():
    plan, policy, lab = await policy_of()
    sts = policy.mta_sts
    assert (sts.state, sts.id, sts.mode) == ("ok", "42", "testing")
    assert sts.policy.mx == ("mx1.pol.test", "*.pol.test")
    assert policy.tls_rpt.rua == ("mailto:rpt@pol.test",)
    assert policy.mx_dnssec is Security.SECURE
    mx1, mx2, other = (policy.host(h.name) for h in plan.hosts)
    assert mx1.state == "present" and mx1.validated and mx1.usable
    assert [r.usable for r in mx1.records] == [True, False]  # DANE-EE yes, PKIX-EE no
    assert mx2.state == "present" and mx2.validated and not mx2.usable  # only PKIX-TA
    # example.net is served unsigned (no NS record to sign under): no trust anchor covers it.
    assert other.state == "absent" and other.dnssec is Security.INSECURE
    assert sts.match("mx1.pol.test") == "mx1.pol.test"
    assert sts.match("mx2.pol.test") == "*.pol.test"
    assert sts.match("other.example.net") is None
    assert lab.policy_host.requests == [("mta-sts.pol.test", "/.well-known/mta-sts.txt")]


@pytest.mark.parametrize(
    ("spec", "state", "detail"),
    [
        (PolicySpec(DOMAIN, redirect="https://evil.example/p"), "fetch-failed", "not followed"),
        (PolicySpec(DOMAIN, GOOD, status=404), "fetch-failed", "status 404"),
        (PolicySpec(DOMAIN, GOOD, content_type="text/html"), "fetch-failed", "text/html"),
        (PolicySpec(DOMAIN, GOOD, repeat_body=5000), "fetch-failed", "larger than"),
        (PolicySpec(DOMAIN, GOOD, certificate="self-signed"), "fetch-failed", "certificate"),
        (PolicySpec(DOMAIN, GOOD, delay_s=30), "fetch-failed", "within"),
        (PolicySpec(DOMAIN, "version: STSv1\nmode: on\nmax_age: 1\n"), "invalid-policy", "'on'"),
        (PolicySpec(DOMAIN, "\x1b]0;title\x07[b]x[/b]\n"), "invalid-policy", "missing"),
    ],
    ids=["redirect", "404", "html", "huge", "self-signed", "slow", "bad-mode", "escapes"],
)
async def test_a_policy_that_cannot_be_had_says_why(spec, state, detail):
    _, policy, _ = await policy_of(spec=spec)
    assert policy.mta_sts.state == state
    assert detail in policy.mta_sts.detail
    assert "\x1b" not in policy.mta_sts.detail and "\x07" not in policy.mta_sts.detail


async def test_an_unsigned_tlsa_answer_in_a_signed_zone_is_bogus_and_not_usable():
    _, policy, _ = await policy_of(faults={"_25._tcp.mx1.pol.test": Fault(unsigned=True)})
    mx1 = policy.host("mx1.pol.test")
    assert mx1.state == "present" and mx1.dnssec is Security.BOGUS and not mx1.usable


async def test_a_failing_tlsa_lookup_is_an_error_not_an_absence():
    _, policy, _ = await policy_of(faults={"_25._tcp.mx1.pol.test": Fault(servfail=True)})
    mx1 = policy.host("mx1.pol.test")
    assert mx1.state == "error" and "SERVFAIL" in mx1.detail


async def test_an_unsigned_zone_has_records_but_nothing_validated():
    _, policy, _ = await policy_of(sign=False)
    mx1 = policy.host("mx1.pol.test")
    assert mx1.state == "present" and mx1.dnssec is Security.INSECURE and not mx1.usable
    assert policy.mx_dnssec is Security.INSECURE


async def test_two_sts_records_mean_no_policy_and_nothing_is_fetched():
    zone = ZONE + '_mta-sts TXT "v=STSv1; id=43"\n'
    _, policy, lab = await policy_of(zone=zone)
    assert policy.mta_sts.state == "invalid-record"
    assert lab.policy_host.requests == []


async def test_the_root_anchor_does_not_vouch_for_the_lab():
    lab = Lab([ZONE, OTHER], domain=DOMAIN, hosts=HOSTS, faults={}, policies={})
    async with lab:
        plan = await resolve_mx(DOMAIN, nameservers=lab.nameservers, timeout=2)
        policy = await lookup_tls_policy(plan, lab.nameservers, setup=TlsSetup(), timeout=2)
    # The lab's answers carry signatures, but no chain leads from the root's keys to them.
    assert policy.host("mx1.pol.test").dnssec is not Security.SECURE
    assert policy.anchors == "root"


async def test_hosts_beyond_the_limit_are_marked_not_asked(monkeypatch):
    import mxtui.tlspolicy.lookup as lookup

    monkeypatch.setattr(lookup, "MAX_HOSTS", 1)
    plan, policy, _ = await policy_of()
    states = [policy.host(h.name).state for h in plan.hosts]
    assert states == ["present", "not-asked", "not-asked"]
