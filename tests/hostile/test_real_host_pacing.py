"""Real hosts are not hammered: against a host outside the lab a retry waits real time (with a
countdown g cancels), F is refused, and restarts stop at a few sessions per host per minute.

The "real" host is a scripted peer on loopback reached through the real network (RealNetwork,
RealDialer): nothing here is a lab host, so nothing is simulated towards it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import hostile_support as hs

from mxtui.desk.choices import Choices
from mxtui.desk.driver import Notice, scheduler_for_asyncio
from mxtui.desk.walk import WalkDriver
from mxtui.dns import resolve_mx
from mxtui.network import SESSIONS_PER_MINUTE, Pacer, RealNetwork

ZONE = [
    "real.test. 60 IN MX 10 mx.real.test.",
    "mx.real.test. 60 IN A 127.0.0.1",
]
GREYLIST = {"RCPT": "450 4.2.0 Greylisted, try again later"}


async def until(condition: Callable[[], bool], what: str, limit: float = 15.0) -> None:
    for _ in range(int(limit / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def real_driver(peer: hs.ScriptedPeer, dns: hs.HostileDNS) -> tuple[WalkDriver, list]:
    network = RealNetwork([("127.0.0.1", dns.port)], peer.port)
    events: list[object] = []
    choices = Choices.make("real.test", lab=False, profile="postfix")
    driver = WalkDriver(network, choices, events.append, scheduler_for_asyncio())
    driver.delay = 0.0
    driver.set_plan(await resolve_mx("real.test", nameservers=network.nameservers, timeout=2))
    return driver, events


def ended(driver: WalkDriver) -> bool:
    return driver.state is not None and driver.state.ended and not driver.active


async def test_a_retry_to_a_real_host_waits_real_time_and_g_cancels_it(peer, hostile_dns):
    hs.tried("real-host retry", 2)
    server = peer(GREYLIST)
    driver, events = await real_driver(server, hostile_dns(hs.static_zone(ZONE)))
    driver.run()
    await until(lambda: ended(driver), "the first attempt")
    assert driver.state is not None and driver.state.result is not None
    assert driver.state.result.outcome == "deferred"
    assert server.log.connections == 1
    driver.next_retry()  # Postfix retries after 5 minutes: of real time, here
    await asyncio.sleep(0.3)
    assert server.log.connections == 1  # nothing dialled in the meantime
    status = driver.status()
    assert status.mode.startswith("waiting") and "real time" in status.hint
    assert "greylist needs real minutes" in status.hint and "g cancels" in status.hint
    assert 200 < driver.waiting_real_time <= 600  # Postfix: the next queue scan after 5 min
    assert any(isinstance(e, Notice) and "real minutes" in e.text for e in events)
    driver.toggle()  # g cancels the wait
    await asyncio.sleep(0.1)
    assert driver.waiting_real_time == 0 and server.log.connections == 1
    assert driver.status().mode == "ended"
    driver.to_end()  # every retry at once only exists in simulated time
    await asyncio.sleep(0.1)
    assert server.log.connections == 1
    refused = [e for e in events if isinstance(e, Notice) and e.text.startswith("F needs")]
    assert refused and refused[0].severity == "warning"
    driver.stop()


async def test_restarts_stop_at_a_few_sessions_per_host_per_minute(peer, hostile_dns):
    hs.tried("real-host restarts", SESSIONS_PER_MINUTE + 1)
    server = peer(GREYLIST)
    driver, _events = await real_driver(server, hostile_dns(hs.static_zone(ZONE)))
    for walk in range(SESSIONS_PER_MINUTE):
        driver.restart()  # R: a new shuffle, a new session
        await until(lambda: ended(driver), f"walk {walk + 1}")
    assert server.log.connections == SESSIONS_PER_MINUTE
    driver.restart()  # one more within the minute: the pacer holds it
    await until(lambda: driver.status().mode.startswith("waiting"), "the pacing wait")
    await asyncio.sleep(0.3)
    assert server.log.connections == SESSIONS_PER_MINUTE
    assert f"at most {SESSIONS_PER_MINUTE} sessions per host per minute" in driver.status().hint
    driver.toggle()  # g cancels: the walk stays paused before its connection
    await asyncio.sleep(0.1)
    assert server.log.connections == SESSIONS_PER_MINUTE
    driver.stop()


def test_the_pacer_releases_a_host_after_its_minute() -> None:
    hs.tried("pacer window", 1)
    now = [0.0]
    pacer = Pacer(clock=lambda: now[0])
    for _ in range(SESSIONS_PER_MINUTE):
        pacer.note("192.0.2.1")
    assert pacer.delay("192.0.2.1") == 60.0
    now[0] = 60.0
    assert pacer.delay("192.0.2.1") == 0.0
