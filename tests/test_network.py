"""The Network seam: the lab and the real network answer the same questions, and real hosts
get at most a few new sessions per minute."""

from __future__ import annotations

from mxtui.delivery import SimClock
from mxtui.endpoint import Endpoint
from mxtui.lab.runtime import Lab
from mxtui.lab.scenarios import load_scenario
from mxtui.network import SESSIONS_PER_MINUTE, Pacer, RealNetwork


def test_the_pacer_allows_a_few_sessions_per_host_per_minute_then_says_how_long_to_wait():
    now = [1000.0]
    pacer = Pacer(limit=3, window=60.0, clock=lambda: now[0])
    for _ in range(3):
        assert pacer.delay("192.0.2.1") == 0
        pacer.note("192.0.2.1")
        now[0] += 5
    assert pacer.delay("192.0.2.1") == 45.0  # the first of the three was 15 s ago
    assert pacer.delay("192.0.2.2") == 0  # another host has its own budget
    now[0] += 45
    assert pacer.delay("192.0.2.1") == 0


def test_the_real_network_names_its_servers_and_is_never_a_lab():
    real = RealNetwork([("2001:db8::53", 5353), ("192.0.2.53", 53)], 2525)
    assert real.nameservers == (Endpoint("2001:db8::53", 5353), Endpoint("192.0.2.53", 53))
    assert real.label == "DNS [2001:db8::53]:5353, 192.0.2.53:53"
    assert RealNetwork().label == "system resolver"
    assert not real.simulated and not real.is_lab_host("192.0.2.1")
    assert real.relays == {} and real.dns_timeout(10) == 10
    assert real.pacer is not None and real.pacer.limit == SESSIONS_PER_MINUTE
    assert real.dialer.route("192.0.2.1").port == 2525


async def test_the_lab_answers_the_same_questions_and_its_hosts_follow_the_clock():
    lab = load_scenario("backup-mx").lab()
    async with lab:
        assert lab.simulated and lab.pacer is None
        [ns] = lab.nameservers
        assert ns.host == "127.0.0.1" and lab.label.startswith("lab · ")
        assert lab.relays  # the backup MX stores and forwards
        relay = next(iter(lab.relays))
        assert lab.is_lab_host(relay) and not lab.is_lab_host("198.18.0.1")
        assert lab.dns_timeout(10) == 2.0
        clock = SimClock(100.0)
        lab.attach(clock)
        assert all(host.clock is clock for host in lab.smtp.hosts.values())


async def test_the_demo_lab_is_a_network_too():
    async with Lab() as lab:
        assert lab.examples and lab.domain == "example.com"
        assert lab.label == "lab · example.com"
