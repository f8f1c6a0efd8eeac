"""Each profile's address-ordering rule, against the source that defines it and what the real
senders did (reference §0): duplicates, address families, shuffles."""

from __future__ import annotations

import random
from collections import Counter

from mxtui.delivery import try_order
from mxtui.model import Address, HostState, MXGroup, MXHost, MXPlan, PlanStatus, TryTarget


def _host(name: str, pref: int, *addresses: str) -> MXHost:
    return MXHost(name, pref, tuple(Address(a, 6 if ":" in a else 4) for a in addresses),
                  state=HostState.RESOLVED)  # fmt: skip


def _plan(*groups: tuple[int, tuple[MXHost, ...]]) -> MXPlan:
    return MXPlan("example.com", PlanStatus.MX, groups=tuple(MXGroup(p, h) for p, h in groups))


def _orders(plan: MXPlan, profile: str, runs: int = 40, **params: object) -> list:
    return [try_order(plan, profile, random.Random(seed), params or None) for seed in range(runs)]


# One refusing address under five MX names (the errata's Postfix case).
FIVE_NAMES = _plan((10, tuple(_host(f"mx{i}", 10, "192.0.2.9") for i in range(1, 6))))


def test_postfix_dials_an_address_once_per_mx_name_pointing_at_it():
    """smtp_addr.c:263-305 appends every name's addresses, dns_rr_append merges nothing; tested
    with Postfix 3.7.11: five names on one refusing address use up smtp_mx_address_limit=5."""
    order = try_order(FIVE_NAMES, "postfix", random.Random(1))
    assert [t.address for t in order] == ["192.0.2.9"] * 5
    assert {t.host for t in order} == {f"mx{i}" for i in range(1, 6)}


def test_exim_and_opensmtpd_dial_a_duplicate_address_once():
    for profile in ("exim", "opensmtpd", "rfc"):
        assert len(try_order(FIVE_NAMES, profile, random.Random(1))) == 1, profile


def test_qmail_postfix_2_0_and_sendmail_do_not_merge_duplicates_either():
    """Sendmail keeps every MX name (domain.c getmxrr); Sendmail 8.17.1.9 dialled one address
    under five names five times (conformance case one-address-five-names-then-backup)."""
    for profile in ("qmail", "postfix-2.0", "sendmail"):
        assert len(try_order(FIVE_NAMES, profile, random.Random(1))) == 5, profile


DUAL = _plan(
    (10, (_host("a", 10, "192.0.2.1", "2001:db8::1"), _host("b", 10, "192.0.2.2", "2001:db8::2"))),
    (20, (_host("d", 20, "2001:db8::4", "192.0.2.4"),)),
)  # fmt: skip


def test_exim_puts_ipv6_first_within_each_preference_in_every_run():
    """host.c:2326-2329, 2435, 2460 (a host's AAAA sort before its A), 3105-3138 (one pass
    moving IPv6 ahead within a preference); tested with Exim 4.96 (reference §0)."""
    for order in _orders(DUAL, "exim"):
        families = [(t.preference, t.family) for t in order]
        assert families == [(10, 6), (10, 6), (10, 4), (10, 4), (20, 6), (20, 4)], order
    assert len({o[:2] for o in _orders(DUAL, "exim")}) == 2  # the two hosts shuffled


def test_exim_s_single_pass_does_not_sort_every_ipv6_address_first():
    """host.c:3105-3138 swaps an IPv4 address with the IPv6 one right after it in one pass, so
    "IPv6 first" holds for two dual-stack hosts (the reference's runs) but not always: an
    IPv4-only host drawn first keeps its place, and a third dual-stack host's IPv6 address
    stays behind an IPv4 one."""
    plan = _plan((10, (_host("v4a", 10, "192.0.2.1"), _host("v4b", 10, "192.0.2.2"),
                       _host("v6", 10, "2001:db8::3"))))  # fmt: skip
    seen = {tuple(t.family for t in o) for o in _orders(plan, "exim", 60)}
    assert (4, 6, 4) in seen
    three = _plan((10, tuple(_host(h, 10, f"192.0.2.{i}", f"2001:db8::{i}")
                             for i, h in enumerate("abc", start=1))))  # fmt: skip
    for order in _orders(three, "exim"):
        assert [t.family for t in order] == [6, 6, 4, 6, 4, 4]


def test_qmail_shuffles_hosts_keeps_each_host_s_addresses_together_and_skips_ipv6():
    """notqmail dns.c:355-384 picks a random host of the lowest preference and appends its
    addresses (A records only, dns.c:273-287)."""
    plan = _plan((10, tuple(_host(h, 10, f"192.0.2.{i}1", f"192.0.2.{i}2", f"2001:db8::{i}")
                            for i, h in enumerate("abcd", start=1))))  # fmt: skip
    firsts = Counter()
    for order in _orders(plan, "qmail"):
        assert all(t.family == 4 for t in order)
        hosts = [t.host for t in order]
        assert all(hosts[i] == hosts[i + 1] for i in range(0, 8, 2)), hosts
        firsts[hosts[0]] += 1
    assert len(firsts) > 1


def test_qmail_and_postfix_2_0_have_nothing_to_dial_on_an_ipv6_only_mx():
    plan = _plan((10, (_host("six", 10, "2001:db8::6"),)))
    for profile in ("qmail", "postfix-2.0"):
        assert try_order(plan, profile, random.Random(1)) == ()
    assert len(try_order(plan, "postfix", random.Random(1))) == 1


def test_opensmtpd_always_tries_the_first_mx_of_a_preference_level_first():
    """mta.c:258-276 keeps the MX list in DNS order, mta_find_route (1521-1666) takes the first
    route of the lowest level; tested with OpenSMTPD 6.8.0p2 (reference §0)."""
    plan = _plan((10, (_host("first", 10, "192.0.2.1"), _host("second", 10, "192.0.2.2"))),
                 (5, (_host("best", 5, "192.0.2.5"),)))  # fmt: skip
    orders = {tuple(t.host for t in o) for o in _orders(plan, "opensmtpd")}
    assert orders == {("best", "first", "second")}


def test_opensmtpd_dials_a_hosts_ipv6_address_before_its_ipv4_one():
    """libasr asks for AAAA before A (asr.c:491-493); OpenSMTPD 6.8.0p2 dialled ::1 first in 14
    of 14 runs (conformance case dual-stack-host-order)."""
    plan = _plan((10, (_host("dual", 10, "192.0.2.1", "2001:db8::1"),
                       _host("v4", 10, "192.0.2.2"))))  # fmt: skip
    orders = {tuple(t.address for t in o) for o in _orders(plan, "opensmtpd")}
    assert orders == {("2001:db8::1", "192.0.2.1", "192.0.2.2")}


def test_sendmail_shuffles_hosts_and_dials_each_hosts_ipv6_address_first():
    """daemon.c looks hosts up in InetMode, AF_INET6 when it can (conf.c:403-409); mxrand's
    seed comes from the clock (domain.c:1119-1145). Sendmail 8.17.1.9 dialled ::1 first in 14
    of 14 runs (dual-stack-host-order) and varied the first of four hosts."""
    plan = _plan((10, (_host("dual", 10, "192.0.2.1", "2001:db8::1"),
                       _host("v4", 10, "192.0.2.2"))))  # fmt: skip
    orders = {tuple(t.address for t in o) for o in _orders(plan, "sendmail")}
    assert orders == {("2001:db8::1", "192.0.2.1", "192.0.2.2"),
                      ("192.0.2.2", "2001:db8::1", "192.0.2.1")}  # fmt: skip


def test_postfix_keeps_both_families_within_its_address_limit():
    """smtp_addr.c:378-495 (smtp_balance_inet_protocols=yes): with more addresses than
    smtp_mx_address_limit and both families, each family keeps a share."""
    plan = _plan((10, tuple(_host(f"v4-{i}", 10, f"192.0.2.{i}") for i in range(6))),
                 (20, (_host("v6", 20, "2001:db8::1"),)))  # fmt: skip
    for order in _orders(plan, "postfix"):
        assert len(order) == 5
        assert order[-1] == TryTarget("v6", 20, "2001:db8::1", 6)
    off = _orders(plan, "postfix", smtp_balance_inet_protocols="no")
    assert all(len(o) == 7 and o[-1].family == 6 for o in off)
    small = _plan((10, (_host("a", 10, "192.0.2.1", "2001:db8::1"),)))
    assert len(try_order(small, "postfix", random.Random(1))) == 2  # under the limit: untouched
