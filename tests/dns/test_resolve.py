"""The DNS core against the lab DNS server over real sockets: one test per RFC 5321 §5.1 case."""

from __future__ import annotations

import asyncio
import socket

import pytest

from mxtui.dns import DomainError, resolve_mx
from mxtui.lab.demo import many_mx_zone
from mxtui.model import HostResolved, MXAnswered, PlanResolved, PlanStatus


def codes(problems) -> set[str]:
    return {p.code for p in problems}


async def resolve(server, domain: str, **kw):
    return await resolve_mx(
        domain, nameservers=[server.address], timeout=kw.pop("timeout", 2), **kw
    )


async def test_mx_present_groups_in_ascending_preference_with_hosts_in_answer_order(lab_dns):
    plan = await resolve(lab_dns, "example.com")
    assert plan.status is PlanStatus.MX
    assert plan.ttl == 3600
    assert [g.preference for g in plan.groups] == [10, 20]
    assert [h.name for h in plan.groups[0].hosts] == ["mx1.example.com", "mx2.example.com"]
    mx1 = plan.groups[0].hosts[0]
    assert {(a.address, a.family, a.ttl) for a in mx1.addresses} == {
        ("192.0.2.10", 4, 3600),
        ("2001:db8::10", 6, 3600),
    }
    mx2 = plan.groups[0].hosts[1]
    assert {a.ttl for a in mx2.addresses} == {300}
    assert plan.usable
    assert plan.problems == ()


async def test_addresses_of_all_hosts_are_asked_at_once_after_the_mx_answer(dns_server):
    # With 200 ms added to every answer, asking host after host would take 6 round trips or more.
    server = await dns_server(many_mx_zone("wide.test", 6), delay_ms=200)
    loop = asyncio.get_running_loop()
    started = loop.time()
    plan = await resolve(server, "wide.test", timeout=5)
    elapsed = loop.time() - started
    assert len(plan.hosts) == 6 and all(len(h.addresses) == 2 for h in plan.hosts)
    assert plan.queries == 1 + 6 * 2
    assert elapsed < 0.2 * 4  # two round trips plus slack, far below the six of a serial walk


async def test_events_report_the_mx_answer_then_each_host_then_the_final_plan(lab_dns):
    events = []
    await resolve(lab_dns, "example.com", on_event=events.append)
    assert isinstance(events[0], MXAnswered)
    assert all(h.state.value == "pending" for h in events[0].plan.hosts)
    assert sorted(e.host.name for e in events if isinstance(e, HostResolved)) == [
        "backup.example.com",
        "mx1.example.com",
        "mx2.example.com",
    ]
    assert isinstance(events[-1], PlanResolved) and events[-1].plan.usable


async def test_implicit_mx_uses_the_domains_own_addresses_at_preference_0(lab_dns):
    plan = await resolve(lab_dns, "implicit.example.com")
    assert plan.status is PlanStatus.IMPLICIT_MX
    assert [g.preference for g in plan.groups] == [0]
    (host,) = plan.hosts
    assert host.name == "implicit.example.com"
    assert {a.address for a in host.addresses} == {"192.0.2.30", "2001:db8::30"}
    assert "implicit-mx" in codes(plan.problems)
    assert plan.usable


async def test_null_mx_takes_no_mail_and_its_a_record_is_not_used(lab_dns):
    plan = await resolve(lab_dns, "null.example.com")
    assert plan.status is PlanStatus.NULL_MX
    assert "null-mx" in codes(plan.problems)
    assert all(not h.addresses for h in plan.hosts)
    assert not plan.usable
    assert plan.queries == 1  # the domain's A record (192.0.2.31) is never even asked for


async def test_nxdomain(lab_dns):
    plan = await resolve(lab_dns, "missing.example.com")
    assert plan.status is PlanStatus.NXDOMAIN
    assert "nxdomain" in codes(plan.problems)
    assert plan.ttl == 300  # the negative-caching TTL from the SOA (RFC 2308)
    assert not plan.usable


async def test_no_mx_and_no_address_at_all(lab_dns):
    plan = await resolve(lab_dns, "nowhere.example.com")
    assert plan.status is PlanStatus.NO_MAIL_RECORDS
    assert "no-mail-records" in codes(plan.problems)
    assert not plan.usable


async def test_servfail(lab_dns):
    plan = await resolve(lab_dns, "broken.example.com")
    assert plan.status is PlanStatus.SERVFAIL
    assert "servfail" in codes(plan.problems)


async def test_timeout_comes_back_as_a_plan_within_the_limit(lab_dns):
    loop = asyncio.get_running_loop()
    started = loop.time()
    plan = await resolve(lab_dns, "silent.example.com", timeout=0.6)
    assert plan.status is PlanStatus.TIMEOUT
    assert "timeout" in codes(plan.problems)
    assert loop.time() - started < 2.0


async def test_cname_target_is_flagged_and_shows_where_it_leads(lab_dns):
    plan = await resolve(lab_dns, "cname.example.com")
    (host,) = plan.hosts
    assert host.name == "alias.cname.example.com"
    assert host.cname_chain == ("mx1.example.com",)
    assert "cname-target" in codes(host.problems)
    assert {a.address for a in host.addresses} == {"192.0.2.10", "2001:db8::10"}


async def test_targets_without_address_are_flagged_per_host(lab_dns):
    plan = await resolve(lab_dns, "noaddr.example.com")
    ghost, empty, mx1 = plan.hosts
    assert "no-address" in codes(ghost.problems)
    assert "NXDOMAIN" in ghost.problems[0].message
    assert "no-address" in codes(empty.problems)
    assert "NODATA" in empty.problems[0].message
    assert mx1.usable and not mx1.problems
    assert plan.usable


async def test_ip_literal_target_is_a_problem_and_not_dialled(lab_dns):
    plan = await resolve(lab_dns, "literal.example.com")
    (host,) = plan.hosts
    assert host.ip_literal and not host.addresses
    assert "ip-literal-target" in codes(host.problems)
    assert "no-usable-host" in codes(plan.problems)
    assert not plan.usable


async def test_null_mx_mixed_with_others(lab_dns):
    plan = await resolve(lab_dns, "mixed-null.example.com")
    assert plan.status is PlanStatus.MX
    assert "null-mx-mixed" in codes(plan.problems)
    assert plan.usable  # the real MX still works


async def test_a_failed_lookup_shows_on_its_host(lab_dns):
    plan = await resolve(lab_dns, "flaky.example.com", timeout=1)
    flaky = next(h for h in plan.hosts if h.name == "flaky-host.example.com")
    assert [a.address for a in flaky.addresses] == ["192.0.2.40"]
    assert "lookup-failed" in codes(flaky.problems)
    assert plan.usable


async def test_idn_domain_is_asked_in_a_labels(dns_server):
    zone = (
        "$ORIGIN xn--bcher-kva.test.\n$TTL 60\n@ SOA ns hm 1 60 60 60 60\n"
        "@ MX 10 mx\nmx A 192.0.2.9\n"
    )
    server = await dns_server(zone)
    plan = await resolve(server, "Bücher.test")
    assert plan.domain == "xn--bcher-kva.test"
    assert plan.display_domain == "Bücher.test"
    assert plan.usable


async def test_large_mx_set_needs_no_tcp_with_edns(dns_server):
    server = await dns_server(many_mx_zone("many.test", 20))
    plan = await resolve(server, "many.test")
    assert len(plan.hosts) == 20
    assert not any(t == "tcp" for t, _, _ in server.log)


async def test_truncated_answer_falls_back_to_tcp(dns_server):
    server = await dns_server(many_mx_zone("huge.test", 60))
    plan = await resolve(server, "huge.test")
    assert len(plan.hosts) == 60
    assert ("tcp", "huge.test", "MX") in {(t, n.lower().rstrip("."), q) for t, n, q in server.log}


async def test_second_nameserver_is_asked_when_the_first_is_silent(dns_server):
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        server = await dns_server(many_mx_zone("two.test", 1))
        plan = await resolve_mx(
            "two.test",
            nameservers=[silent.getsockname(), server.address],
            timeout=3,
        )
        assert plan.usable
    finally:
        silent.close()


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "exa mple.com",
        "a..b.com",
        ".com",
        "@",
        "user@",
        "a@b@c.com",
        "x" * 64 + ".com",
        ".".join(["abcdefghi"] * 30),
        "under_score!.com",
        "192.0.2.1",
        "[192.0.2.1]",
        "\x1b]0;pwned\x07.com",
    ],
)
async def test_bad_input_is_refused_with_a_clear_message_before_any_query(lab_dns, bad):
    with pytest.raises(DomainError) as info:
        await resolve(lab_dns, bad)
    message = str(info.value)
    assert message and "\x1b" not in message and "Traceback" not in message
    assert lab_dns.queries == 0


async def test_an_email_address_resolves_its_domain_with_a_note(lab_dns):
    plan = await resolve(lab_dns, "alice@example.com")
    assert plan.domain == "example.com"
    assert "input-note" in codes(plan.problems)
