"""The delivery walk applies the profile's TLS knobs to the domain's TLS policy: DANE and
MTA-STS refuse hosts (before dialling, or after STARTTLS), the walk moves on, and defers when
no host is left; without a policy nothing changes."""

from __future__ import annotations

from mxtui.delivery import Walk
from mxtui.dns import resolve_mx
from mxtui.lab.certs import lab_ca
from mxtui.lab.dns_server import Fault
from mxtui.lab.hosts import HostBehaviour
from mxtui.lab.runtime import Lab
from mxtui.model import Envelope, StepDone
from mxtui.tlspolicy import lookup_tls_policy

DANE = {"smtp_tls_security_level": "dane", "smtp_dns_support_level": "dnssec"}


async def walk(domain, profile, params=None, *, lab=None, policy=True):
    lab = lab or Lab()
    events = []
    async with lab:
        plan = await resolve_mx(domain, nameservers=lab.nameservers, timeout=2)
        tls = (
            await lookup_tls_policy(plan, lab.nameservers, setup=lab.tls_setup, timeout=2)
            if policy
            else None
        )
        w = Walk(
            plan, Envelope("a@example.org", (f"x@{domain}",)), dialer=lab.dialer,
            profile=profile, params=params, seed=1, tls_policy=tls,
            trust_pem=lab_ca().cert_pem, on_event=events.append,
        )  # fmt: skip
        result = await w.run()
        connections = {a: h.connections for a, h in lab.smtp.hosts.items()}
    steps = [(e.target.host, e.step.stage.value, e.decision.action.value)
             for e in events if isinstance(e, StepDone) and e.decision is not None
             and e.step is not None and e.step.outcome is not None]  # fmt: skip
    return result, steps, connections, events


def ends(result):
    return [(a.target.host, str(a.stage), a.action) for a in result.attempts]


async def test_postfix_dane_skips_the_host_whose_certificate_was_rotated():
    result, _, _, events = await walk("dane.example.com", "postfix", DANE)
    assert ends(result) == [
        ("old.dane.example.com", "starttls", "next-address"),
        ("mx.dane.example.com", "dot", "delivered"),
    ]
    assert "no record matches" in result.attempts[0].error
    decision = next(e.decision for e in events if isinstance(e, StepDone)
                    and e.decision is not None and e.decision.rule.startswith("DANE"))  # fmt: skip
    assert "smtp_proto.c:1125-1129" in decision.reference
    assert "secure, usable TLSA records" in decision.why


async def test_postfix_at_its_default_level_delivers_to_the_rotated_host():
    result, *_ = await walk("dane.example.com", "postfix")
    assert ends(result) == [("old.dane.example.com", "dot", "delivered")]


async def test_without_a_policy_looked_up_the_walk_is_as_before():
    result, *_ = await walk("dane.example.com", "postfix", DANE, policy=False)
    assert ends(result) == [("old.dane.example.com", "dot", "delivered")]


async def test_the_rfc_baseline_never_dials_the_mx_the_policy_does_not_list():
    result, steps, connections, _ = await walk("sts.example.com", "rfc")
    assert steps == [("rogue.sts.example.com", "starttls", "next-address")]
    assert ends(result)[-1] == ("mx.sts.example.com", "dot", "delivered")
    assert connections["192.0.2.61"] == 0  # the rogue MX was not even dialled


async def test_postfix_with_the_resolver_dials_the_rogue_mx_and_its_certificate_fails():
    result, _, connections, _ = await walk(
        "sts.example.com", "postfix", {"mta_sts_resolver": "yes"}
    )
    assert ends(result)[0] == ("rogue.sts.example.com", "starttls", "next-address")
    assert "does not verify for mx.sts.example.com" in result.attempts[0].error
    assert connections["192.0.2.61"] == 1
    assert result.outcome == "delivered"


async def test_exim_ignores_mta_sts_and_delivers_to_the_rogue_mx():
    result, *_ = await walk("sts.example.com", "exim")
    assert ends(result) == [("rogue.sts.example.com", "dot", "delivered")]


ZONE = """\
$ORIGIN t.test.
$TTL 300
@ SOA ns hm 1 60 60 60 60
@ NS ns
ns A 192.0.2.1
@ MX 10 clear
@ MX 20 bogus
clear A 192.0.2.10
bogus A 192.0.2.11
_25._tcp.clear TLSA 3 1 1 lab:clear.t.test
_25._tcp.bogus TLSA 3 1 1 lab:bogus.t.test
"""
HOSTS = {
    "192.0.2.10": HostBehaviour("accept", hostname="clear.t.test", starttls=False),
    "192.0.2.11": HostBehaviour("accept", hostname="bogus.t.test", certificate="lab-ca"),
}


async def test_no_starttls_and_a_bogus_tlsa_answer_leave_nowhere_to_deliver_so_it_defers():
    lab = Lab(ZONE, domain="t.test", hosts=HOSTS, policies={},
              faults={"_25._tcp.bogus.t.test": Fault(unsigned=True)})  # fmt: skip
    result, steps, connections, _ = await walk("t.test", "exim", lab=lab)
    assert steps == [
        ("clear.t.test", "starttls", "next-address"),  # TLS required, STARTTLS not offered
        ("bogus.t.test", "starttls", "requeue"),  # the TLSA answer is bogus: not dialled
    ]
    assert result.outcome == "deferred"
    assert connections == {"192.0.2.10": 1, "192.0.2.11": 0}
    assert "not offered" in result.attempts[0].error


async def test_a_testing_policy_is_reported_but_not_enforced():
    result, steps, *_ = await walk("sts-testing.example.com", "rfc")
    assert steps == []  # nothing refused
    assert ends(result) == [("rogue.sts.example.com", "dot", "delivered")]
    strict_params = {"mta_sts_resolver": "yes", "mta_sts_strict_testing": "yes"}
    strict, *_ = await walk("sts-testing.example.com", "postfix", strict_params)
    assert ends(strict)[0] == ("rogue.sts.example.com", "starttls", "next-address")
