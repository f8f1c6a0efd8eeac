"""The delivery walk against lab hosts: what each profile does, end to end, and `mxtui walk`."""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any

import pytest

from mxtui.cli import main
from mxtui.delivery import Move, SimClock, Walk, try_order
from mxtui.dns import resolve_mx
from mxtui.gate import StepGate
from mxtui.lab.dns_server import LabDNSServer
from mxtui.lab.hosts import HostBehaviour, LabSMTPHost, relay_profiles
from mxtui.lab.runtime import Lab
from mxtui.model import (
    Action,
    Address,
    AttemptEnded,
    AttemptStarted,
    Envelope,
    HopEnded,
    HopStarted,
    HostState,
    MXGroup,
    MXHost,
    MXPlan,
    PlanStatus,
    RecipientState,
    RecipientStatus,
    Stage,
    StepDone,
    Timeouts,
    WalkEnded,
    WalkStarted,
)
from mxtui.smtp.dialer import LabDialer

SENDER = "sender@example.org"
FAST = Timeouts.all(3)

# A zone of our own for the cases the demo zone does not isolate: a greylisting primary with an
# accepting backup, and two MX hosts that both refuse connections.
TEST_ZONE = """\
$ORIGIN lab.test.
$TTL 300
@            SOA  ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
@            NS   ns.lab.test.
ns           A    192.0.2.53
grey         MX   10 primary.grey.lab.test.
grey         MX   20 backup.grey.lab.test.
primary.grey A    192.0.2.111
backup.grey  A    192.0.2.120
down         MX   10 a.down.lab.test.
down         MX   20 b.down.lab.test.
a.down       A    192.0.2.201
b.down       A    192.0.2.202
three        MX   10 g1.three.lab.test.
three        MX   20 g2.three.lab.test.
three        MX   30 g3.three.lab.test.
g1.three     A    192.0.2.131
g2.three     A    192.0.2.132
g3.three     A    192.0.2.133
six          MX   10 r.six.lab.test.
r.six        A    192.0.2.211
r.six        A    192.0.2.212
r.six        A    192.0.2.213
r.six        A    192.0.2.214
r.six        A    192.0.2.215
r.six        A    192.0.2.216
spread       MX   10 r.six.lab.test.
spread       MX   20 b.down.lab.test.
dup          MX   10 n1.dup.lab.test.
dup          MX   10 n2.dup.lab.test.
dup          MX   20 n3.dup.lab.test.
n1.dup       A    192.0.2.221
n2.dup       A    192.0.2.221
n3.dup       A    192.0.2.221
v6only       MX   10 h.v6only.lab.test.
h.v6only     AAAA 2001:db8::230
"""
TEST_HOSTS = {
    "192.0.2.111": HostBehaviour("greylist", greylist_delay_s=60, hostname="primary.lab.test"),
    "192.0.2.120": HostBehaviour("accept", hostname="backup.lab.test"),
    "192.0.2.201": HostBehaviour("refuse", hostname="a.lab.test"),
    "192.0.2.202": HostBehaviour("refuse", hostname="b.lab.test"),
    **{f"192.0.2.13{i}": HostBehaviour("greylist", hostname=f"g{i}.lab.test") for i in (1, 2, 3)},
    **{f"192.0.2.21{i}": HostBehaviour("refuse", hostname="r.lab.test") for i in range(1, 7)},
    "192.0.2.221": HostBehaviour("refuse", hostname="dup.lab.test"),
    "2001:db8::230": HostBehaviour("accept", hostname="v6only.lab.test"),
}


@pytest.fixture
async def demo() -> AsyncIterator[tuple[Lab, SimClock]]:
    async with Lab() as lab:
        clock = SimClock()
        lab.attach(clock)
        yield lab, clock


@pytest.fixture
async def testlab() -> AsyncIterator[tuple[Lab, SimClock]]:
    async with Lab(TEST_ZONE, domain="lab.test", faults={}, hosts=TEST_HOSTS) as lab:
        clock = SimClock()
        lab.attach(clock)
        yield lab, clock


async def _walk(
    lab_clock: tuple[Lab, SimClock], domain: str, *recipients: str, **options: object
) -> Walk:
    lab, clock = lab_clock
    plan = await resolve_mx(domain, nameservers=lab.nameservers, timeout=2)
    options.setdefault("seed", 7)
    return Walk(
        plan, Envelope(SENDER, recipients), dialer=lab.dialer, clock=clock, timeouts=FAST,
        **options,  # type: ignore[arg-type]
    )  # fmt: skip


def _hosts_dialled(lab: Lab) -> int:
    return sum(h.connections for h in lab.smtp.hosts.values())


# -- the try list -------------------------------------------------------------------------------


def _plan(*groups: tuple[int, tuple[str, ...]]) -> MXPlan:
    return MXPlan(
        "example.com",
        PlanStatus.MX,
        groups=tuple(
            MXGroup(pref, tuple(
                MXHost(name, pref, (Address(f"192.0.2.{i}", 4), Address(f"2001:db8::{i}", 6)),
                       state=HostState.RESOLVED)
                for i, name in enumerate(names, start=pref)
            ))
            for pref, names in groups
        ),
    )  # fmt: skip


def test_try_list_keeps_preference_order_and_shuffles_only_equal_preferences() -> None:
    plan = _plan((10, ("a", "b", "c")), (20, ("backup",)))
    orders = {try_order(plan, "rfc", random.Random(seed)) for seed in range(30)}
    assert len(orders) > 1  # the shuffle does shuffle
    for order in orders:
        assert [t.preference for t in order] == [10] * 6 + [20] * 2
        assert {t.host for t in order[6:]} == {"backup"}


def test_same_seed_gives_the_same_try_list() -> None:
    plan = _plan((10, ("a", "b", "c", "d")))
    first = try_order(plan, "postfix", random.Random(42))
    assert first == try_order(plan, "postfix", random.Random(42))


def test_host_by_host_profile_keeps_a_hosts_addresses_together() -> None:
    plan = _plan((10, ("a", "b", "c", "d")))
    for seed in range(20):
        hosts = [t.host for t in try_order(plan, "sendmail", random.Random(seed))]
        assert all(hosts[i] == hosts[i + 1] for i in range(0, len(hosts), 2))


async def test_postfix_dials_an_address_once_per_mx_name_exim_once(
    testlab: tuple[Lab, SimClock],
) -> None:
    """Reference §0 [T: Postfix 3.7.11]: an address under several MX names counts against
    smtp_mx_address_limit once per name; Exim merges duplicates (host.c:3149)."""
    postfix = await (await _walk(testlab, "dup.lab.test", "a@dup.lab.test")).run()
    assert [a.target.address for a in postfix.attempts] == ["192.0.2.221"] * 3
    assert {a.target.host for a in postfix.attempts} == {f"n{i}.dup.lab.test" for i in (1, 2, 3)}
    assert postfix.outcome == "deferred"
    exim = await (await _walk(testlab, "dup.lab.test", "a@dup.lab.test", profile="exim")).run()
    assert [a.target.address for a in exim.attempts] == ["192.0.2.221"]


@pytest.mark.parametrize(
    ("profile", "outcome"),
    [("postfix", "delivered"), ("opensmtpd", "delivered"), ("qmail", "bounced"),
     ("postfix-2.0", "deferred")],
)  # fmt: skip
async def test_an_ipv6_only_mx_is_nowhere_to_dial_for_senders_without_ipv6(
    testlab: tuple[Lab, SimClock], profile: str, outcome: str
) -> None:
    """notqmail dns.c and Postfix 2.0 smtp_addr.c look up A records only: an MX host with only
    AAAA records leaves them no address (qmail bounces 5.4.4, Postfix 2.0 defers)."""
    walk = await _walk(testlab, "v6only.lab.test", "a@v6only.lab.test", profile=profile)
    events: list[object] = []
    walk.on_event = events.append
    result = await walk.run()
    assert result.outcome == outcome
    if outcome != "delivered":
        assert result.order == () and result.attempts == ()
        [step] = [e for e in events if isinstance(e, StepDone)]
        assert step.stage is Stage.DNS and step.decision.outcome == "no-address"


# -- DNS outcomes: decided without a connection -------------------------------------------------


async def test_null_mx_bounces_without_any_connection(demo: tuple[Lab, SimClock]) -> None:
    walk = await _walk(demo, "null.example.com", "a@null.example.com")
    result = await walk.run()
    assert result.outcome == "bounced"
    assert result.attempts == () and result.order == ()
    assert _hosts_dialled(demo[0]) == 0
    assert result.ndr is not None and "null MX" in result.ndr


async def test_nxdomain_bounces_and_dns_tempfail_defers(demo: tuple[Lab, SimClock]) -> None:
    missing = await (await _walk(demo, "missing.example.com", "a@missing.example.com")).run()
    assert missing.outcome == "bounced" and "5.4.4" in (missing.ndr or "")
    broken = await (await _walk(demo, "broken.example.com", "a@broken.example.com")).run()
    assert broken.outcome == "deferred" and broken.ndr is None
    assert broken.retry is not None and broken.next_retry_s == broken.retry.attempts_s[1]
    assert _hosts_dialled(demo[0]) == 0


# -- per profile, end to end --------------------------------------------------------------------


async def test_greylisting_primary_postfix_delivers_via_backup(
    testlab: tuple[Lab, SimClock],
) -> None:
    walk = await _walk(testlab, "grey.lab.test", "user@grey.lab.test", profile="postfix")
    result = await walk.run()
    assert result.outcome == "delivered"
    assert [(a.target.host, a.action) for a in result.attempts] == [
        ("primary.grey.lab.test", "next-address"),
        ("backup.grey.lab.test", "delivered"),
    ]
    assert result.attempts[0].reply is not None and result.attempts[0].reply.code == 450
    assert len(testlab[0].smtp.hosts["192.0.2.120"].messages) == 1


async def test_greylisting_primary_qmail_defers_then_delivers_on_retry(
    testlab: tuple[Lab, SimClock],
) -> None:
    walk = await _walk(testlab, "grey.lab.test", "user@grey.lab.test", profile="qmail")
    first = await walk.run()
    assert first.outcome == "deferred"
    assert [a.target.host for a in first.attempts] == ["primary.grey.lab.test"]
    assert first.recipients["user@grey.lab.test"].state is RecipientStatus.DEFERRED
    assert first.next_retry_s == 400  # qmail: (sqrt(0) + 20)^2 s after birth
    second = await walk.fast_forward_to_next_retry()
    assert second.outcome == "delivered" and second.clock_s == 400
    assert [a.target.host for a in second.attempts] == ["primary.grey.lab.test"]
    assert len(testlab[0].smtp.hosts["192.0.2.111"].messages) == 1
    assert len(testlab[0].smtp.hosts["192.0.2.120"].messages) == 0


async def test_unknown_user_is_bounced_with_ndr(demo: tuple[Lab, SimClock]) -> None:
    for profile in ("postfix", "qmail"):
        walk = await _walk(demo, "example.com", "carol@example.com", profile=profile)
        result = await walk.run()
        assert result.outcome == "bounced", profile
        state = result.recipients["carol@example.com"]
        assert state.state is RecipientStatus.BOUNCED and state.reply is not None
        assert state.reply.code == 550
        assert result.ndr is not None and "5.1.1" in result.ndr
        assert "carol@example.com" in result.ndr


async def test_mixed_recipients_end_partial(demo: tuple[Lab, SimClock]) -> None:
    walk = await _walk(demo, "example.com", "alice@example.com", "carol@example.com")
    result = await walk.run()
    assert result.outcome == "partial"
    assert result.recipients["alice@example.com"].state is RecipientStatus.DELIVERED
    assert result.recipients["carol@example.com"].state is RecipientStatus.BOUNCED
    assert set(result.ndrs) == {"carol@example.com"}


@pytest.mark.parametrize(
    ("profile", "params"), [("postfix", {"maximal_queue_lifetime": "1h"}),
                            ("qmail", {"queuelifetime": "1h"})],
)  # fmt: skip
async def test_all_hosts_down_defers_then_ndr_after_fast_forward(
    testlab: tuple[Lab, SimClock], profile: str, params: dict[str, str]
) -> None:
    walk = await _walk(testlab, "down.lab.test", "user@down.lab.test", profile=profile,
                       params=params)  # fmt: skip
    first = await walk.run()
    assert first.outcome == "deferred" and first.ndr is None
    assert [a.action for a in first.attempts] == ["next-address", "requeue"]
    assert first.retry is not None
    give_up = first.retry.give_up_s
    result = first
    for _ in range(50):
        if result.outcome != "deferred":
            break
        result = await walk.fast_forward_to_next_retry()
    assert result.outcome == "bounced"
    assert result.clock_s == give_up
    assert result.ndr is not None and "user@down.lab.test" in result.ndr
    assert len(walk.results) == len(first.retry.attempts_s)


async def test_expiry_without_a_last_attempt_still_sends_the_ndr(
    testlab: tuple[Lab, SimClock],
) -> None:
    # OpenSMTPD expires at ctime + ttl, not at an attempt.
    walk = await _walk(testlab, "down.lab.test", "user@down.lab.test", profile="opensmtpd",
                       params={"queue_ttl": "1h"})  # fmt: skip
    result = await walk.run()
    while result.outcome == "deferred":
        result = await walk.fast_forward_to_next_retry()
    assert result.outcome == "bounced" and result.clock_s == 3600 and result.attempts == ()
    assert result.ndr is not None


@pytest.mark.parametrize(("params", "tried"), [({}, 2), ({"smtp_mx_session_limit": 3}, 3)])
async def test_postfix_session_limit_ends_the_attempt(
    testlab: tuple[Lab, SimClock], params: dict[str, int], tried: int
) -> None:
    walk = await _walk(testlab, "three.lab.test", "u@three.lab.test", params=params)
    result = await walk.run()
    assert result.outcome == "deferred"
    assert len(result.attempts) == tried
    assert result.attempts[-1].action == "requeue"


@pytest.mark.parametrize(("profile", "tried"), [("postfix", 5), ("qmail", 6)])
async def test_address_limit_postfix_stops_at_five_qmail_tries_all(
    testlab: tuple[Lab, SimClock], profile: str, tried: int
) -> None:
    walk = await _walk(testlab, "six.lab.test", "u@six.lab.test", profile=profile)
    result = await walk.run()
    assert result.outcome == "deferred"
    assert len(result.order) == 6 and len(result.attempts) == tried
    assert all(a.stage is Stage.CONNECT for a in result.attempts)


@pytest.mark.parametrize(("profile", "tried"), [("postfix", 5), ("exim", 6)])
async def test_exim_past_its_limit_still_tries_a_worse_preference(
    testlab: tuple[Lab, SimClock], profile: str, tried: int
) -> None:
    walk = await _walk(testlab, "spread.lab.test", "u@spread.lab.test", profile=profile)
    result = await walk.run()
    assert result.outcome == "deferred" and len(result.order) == 7
    assert len(result.attempts) == tried
    assert [a.target.preference for a in result.attempts][-1] == (20 if profile == "exim" else 10)


async def test_quit_after_rcpt_counts_accepted_as_delivered_and_sends_no_message(
    demo: tuple[Lab, SimClock],
) -> None:
    walk = await _walk(demo, "example.com", "alice@example.com", quit_after="rcpt")
    result = await walk.run()
    assert result.outcome == "delivered"
    assert result.attempts[-1].stage is Stage.RCPT
    assert all(not h.messages for h in demo[0].smtp.hosts.values())


async def test_dot_is_not_sent_to_a_host_outside_the_lab(demo: tuple[Lab, SimClock]) -> None:
    lab, clock = demo

    class NotLab:
        """The lab's routes, but claiming to be real hosts (as RealDialer would)."""

        def route(self, address: str, port: int | None = None):  # type: ignore[no-untyped-def]
            return lab.dialer.route(address, port)

        def is_lab(self, address: str, port: int | None = None) -> bool:
            return False

        async def connect(self, *a, **k):  # type: ignore[no-untyped-def]
            return await lab.dialer.connect(*a, **k)

    plan = await resolve_mx("example.com", nameservers=lab.nameservers, timeout=2)
    walk = Walk(plan, Envelope(SENDER, ("alice@example.com",)), dialer=NotLab(), seed=7,
                clock=clock, timeouts=FAST)  # fmt: skip
    result = await walk.run()
    assert result.held
    assert result.recipients["alice@example.com"].state is RecipientStatus.HELD
    assert all(not h.messages for h in lab.smtp.hosts.values())


def _one_scripted_host(port: int) -> tuple[MXPlan, LabDialer]:
    """A plan with one MX address (192.0.2.99) that leads to the scripted server on `port`."""
    host = MXHost("mx.example.com", 10, (Address("192.0.2.99", 4),), state=HostState.RESOLVED)
    plan = MXPlan("example.com", PlanStatus.MX, groups=(MXGroup(10, (host,)),))
    return plan, LabDialer({"192.0.2.99": ("127.0.0.1", port)})


async def _scripted_server(replies: dict[str, str]) -> asyncio.Server:
    """A tiny SMTP server answering each command verb from `replies` (the rest with 250)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 scripted.lab.test ESMTP\r\n")
        in_data = False
        while line := await reader.readline():
            text = line.decode().rstrip("\r\n")
            if in_data:
                if text == ".":
                    in_data = False
                    writer.write(b"250 2.0.0 queued\r\n")
                continue
            verb = text.split(" ", 1)[0].upper()
            if verb == "DATA":
                in_data = True
                writer.write(b"354 go ahead\r\n")
                continue
            writer.write((replies.get(verb, "250 2.0.0 ok") + "\r\n").encode())
            if verb == "QUIT":
                break
            if verb == "STARTTLS":  # then break the handshake
                writer.write(b"this is not TLS\r\n")
                break
        writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0)


async def test_ehlo_4xx_is_retried_with_helo_and_delivers() -> None:
    server = await _scripted_server({"EHLO": "451 4.3.0 try HELO"})
    async with server:
        port = server.sockets[0].getsockname()[1]
        plan, dialer = _one_scripted_host(port)
        seen: list[object] = []
        walk = Walk(
            plan,
            Envelope(SENDER, ("u@example.com",)),
            dialer=dialer,
            seed=1,
            timeouts=FAST,
            on_event=seen.append,
        )
        result = await walk.run()
    stages = [
        (e.stage, e.decision.action if e.decision else None)
        for e in seen
        if isinstance(e, StepDone)
    ]
    assert (Stage.EHLO, Action.RETRY_HELO) in stages
    assert (Stage.HELO, Action.CONTINUE) in stages
    assert result.outcome == "delivered"


async def test_failed_tls_handshake_reconnects_in_plaintext_under_postfix() -> None:
    ehlo = "250-scripted.lab.test\r\n250 STARTTLS"
    server = await _scripted_server({"EHLO": ehlo, "STARTTLS": "220 2.0.0 ready"})
    async with server:
        port = server.sockets[0].getsockname()[1]
        plan, dialer = _one_scripted_host(port)
        walk = Walk(
            plan, Envelope(SENDER, ("u@example.com",)), dialer=dialer, seed=1, timeouts=FAST
        )
        result = await walk.run()
    assert [(a.target.address, a.stage) for a in result.attempts] == [
        ("192.0.2.99", Stage.STARTTLS),
        ("192.0.2.99", Stage.DOT),
    ]
    assert result.outcome == "delivered"


# -- events, pause and single step --------------------------------------------------------------


async def test_events_tell_the_walk_in_order(testlab: tuple[Lab, SimClock]) -> None:
    walk = await _walk(testlab, "grey.lab.test", "user@grey.lab.test", profile="postfix")
    events = [event async for event in walk.events()]
    assert isinstance(events[0], WalkStarted) and isinstance(events[-1], WalkEnded)
    assert [type(e) for e in events].count(AttemptStarted) == 2
    assert [type(e) for e in events].count(AttemptEnded) == 2
    rcpt = [e for e in events if isinstance(e, StepDone) and e.stage is Stage.RCPT]
    assert rcpt[0].decision is not None and rcpt[0].decision.action is Action.NEXT_ADDRESS
    states = [e.result.state for e in events if isinstance(e, RecipientState)]
    assert states == [RecipientStatus.CARRIED, RecipientStatus.PENDING,
                      RecipientStatus.ACCEPTED, RecipientStatus.DELIVERED]  # fmt: skip


async def test_events_of_a_fast_forward_end_with_the_retry_result(
    testlab: tuple[Lab, SimClock],
) -> None:
    walk = await _walk(testlab, "grey.lab.test", "user@grey.lab.test", profile="qmail")
    first = [e async for e in walk.events()]
    retry = [e async for e in walk.events(next_retry=True)]
    assert isinstance(first[-1], WalkEnded) and first[-1].result.outcome == "deferred"
    assert isinstance(retry[0], WalkStarted) and retry[0].attempt == 1 and retry[0].clock_s == 400
    assert isinstance(retry[-1], WalkEnded) and retry[-1].result.outcome == "delivered"


async def test_pause_holds_the_walk_and_step_once_lets_one_step_through(
    testlab: tuple[Lab, SimClock],
) -> None:
    seen: list[object] = []
    walk = await _walk(testlab, "grey.lab.test", "user@grey.lab.test", on_event=seen.append)
    walk.pause()
    task = asyncio.create_task(walk.run())
    await asyncio.sleep(0.2)
    assert not [e for e in seen if isinstance(e, StepDone)]
    walk.step_once()
    for _ in range(100):
        if [e for e in seen if isinstance(e, StepDone)]:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    steps = [e for e in seen if isinstance(e, StepDone)]
    assert len(steps) == 1 and steps[0].stage is Stage.CONNECT
    assert not task.done()
    walk.resume()
    result = await asyncio.wait_for(task, 10)
    assert result.outcome == "delivered"


async def test_a_walk_has_a_gate_rather_than_being_one_and_a_given_gate_paces_it(
    testlab: tuple[Lab, SimClock],
) -> None:
    """Issue 12 item 6: the step gate by composition. A driver can hand the walk its own gate;
    the walk's pause/step_once/on_wait are that gate's."""
    gate = StepGate()
    walk = await _walk(testlab, "grey.lab.test", "user@grey.lab.test", gate=gate)
    assert not isinstance(walk, StepGate) and walk.gate is gate
    waits: list[int] = []
    walk.on_wait = lambda: waits.append(1)
    assert gate.on_wait is walk.on_wait
    walk.pause()
    assert gate.paused and walk.paused
    task = asyncio.create_task(walk.run())
    await asyncio.sleep(0.2)
    assert waits and not task.done()
    gate.resume()
    result = await asyncio.wait_for(task, 10)
    assert result.outcome == "delivered"


def test_a_move_says_whether_the_session_ends_and_where_a_carried_recipient_goes() -> None:
    assert Move.NEXT_MX.leaves and Move.STOP.leaves and Move.AGAIN_PLAIN.leaves
    assert not Move.CONTINUE.leaves and not Move.CARRY_NEXT_MX.leaves
    assert Move.CARRY_NEXT_MX.carried is Move.NEXT_MX
    assert Move.CARRY_NEXT_ADDRESS.carried is Move.NEXT_ADDRESS
    assert Move.DELIVERED.carried is None


# -- relays: the second hop -------------------------------------------------------------------

HOP_ZONE = """\
$ORIGIN hop.test.
$TTL 300
@            SOA  ns.hop.test. hostmaster.hop.test. 1 3600 600 86400 300
@            NS   ns.hop.test.
ns           A    192.0.2.53
late         MX   10 primary.late.hop.test.
late         MX   20 backup.late.hop.test.
primary.late A    192.0.2.10
backup.late  A    192.0.2.20
grey         MX   10 primary.grey.hop.test.
grey         MX   20 backup.grey.hop.test.
primary.grey A    192.0.2.30
backup.grey  A    192.0.2.40
solo         MX   10 relay.solo.hop.test.
relay.solo   A    192.0.2.50
"""
HOP_HOSTS = {
    # late: the primary is back at 1000 s; the backup relays, but defers bob at RCPT itself.
    "192.0.2.10": HostBehaviour("accept", up_after_s=1000, hostname="primary.late.hop.test"),
    "192.0.2.20": HostBehaviour("accept", relay=True, hostname="backup.late.hop.test",
                                rcpt_replies=(("bob", "450 4.2.1 try later"),)),
    # grey: the backup greylists, so it takes the message only at the sender's retry.
    "192.0.2.30": HostBehaviour("accept", up_after_s=2000, hostname="primary.grey.hop.test"),
    "192.0.2.40": HostBehaviour("greylist", greylist_delay_s=60, relay=True,
                                relay_profile="qmail", hostname="backup.grey.hop.test"),
    # solo: a relay that is itself the best MX has nowhere to send (RFC 5321 §5.1).
    "192.0.2.50": HostBehaviour("accept", relay=True, hostname="relay.solo.hop.test"),
}  # fmt: skip


@pytest.fixture
async def hoplab() -> AsyncIterator[tuple[Lab, SimClock]]:
    async with Lab(HOP_ZONE, domain="hop.test", faults={}, hosts=HOP_HOSTS) as lab:
        clock = SimClock()
        lab.attach(clock)
        yield lab, clock


async def test_a_relay_s_hop_comes_between_the_sender_s_attempt_and_walk_ended(
    hoplab: tuple[Lab, SimClock],
) -> None:
    walk = await _walk(hoplab, "late.hop.test", "alice@late.hop.test", profile="qmail",
                       relays=relay_profiles(HOP_HOSTS))  # fmt: skip
    events = [e async for e in walk.events()]
    kinds = [type(e) for e in events]
    assert kinds[0] is WalkStarted and kinds[-1] is WalkEnded
    start, end = kinds.index(HopStarted), kinds.index(HopEnded)
    assert start < end == len(events) - 2
    assert all(getattr(e, "hop", 1) == 1 for e in events[:start])
    inside = events[start + 1 : end]
    assert inside and all(e.hop == 2 for e in inside)  # type: ignore[union-attr]
    hop_start = events[start]
    assert isinstance(hop_start, HopStarted)
    assert (hop_start.from_address, hop_start.profile, hop_start.attempt) == (
        "192.0.2.20",
        "postfix",
        0,
    )
    assert [t.address for t in hop_start.order] == ["192.0.2.10"]  # only preference < 20
    assert hop_start.recipients == ("alice@late.hop.test",)
    hop_attempts = [e for e in inside if isinstance(e, AttemptStarted)]
    assert [hop_start.order[e.index] for e in hop_attempts] == [e.target for e in hop_attempts]
    result = events[-1].result  # type: ignore[union-attr]
    assert result.outcome == "delivered" and result.next_retry_s is None
    # The backup (postfix) retries mx1 at its next queue scan: 450 s at the scan phase 150 s.
    assert result.next_retry_any_s == 450
    assert result.to_json()["hops"][0]["outcome"] == "deferred"


async def test_fast_forward_runs_the_sender_s_and_the_relay_s_retries_on_one_clock(
    hoplab: tuple[Lab, SimClock],
) -> None:
    lab, clock = hoplab
    walk = await _walk(hoplab, "late.hop.test", "alice@late.hop.test", "bob@late.hop.test",
                       profile="postfix", relays=relay_profiles(HOP_HOSTS))  # fmt: skip
    first = await walk.run()
    assert first.outcome == "partial" and first.next_retry_s == 450  # bob: 450 at the backup
    seen: list[object] = []
    walk.on_event = seen.append
    results = [first]
    while results[-1].next_retry_any_s is not None and clock.now < 2000:
        results.append(await walk.fast_forward_to_next_retry())
    # Both queues (Postfix, scan phase 150 s) ran at 450 and 1050 s; the primary is up from
    # 1000 s.
    sender = [(e.attempt, e.clock_s) for e in seen if isinstance(e, WalkStarted)]
    relay = [(e.attempt, e.clock_s) for e in seen if isinstance(e, HopStarted)]
    assert sender == [(1, 450), (2, 1050)]
    assert relay == [(1, 450), (2, 1050)]
    hop = results[-1].hops[0].result
    assert hop.outcome == "delivered" and hop.recipients.keys() == {"alice@late.hop.test"}
    # At 1050 s the sender's own retry finds the primary up too and gives it bob directly.
    assert results[-1].recipients["bob@late.hop.test"].state is RecipientStatus.DELIVERED
    received = {m.recipients: m.helo for m in lab.smtp.hosts["192.0.2.10"].messages}
    assert received == {
        ("bob@late.hop.test",): "localhost",
        ("alice@late.hop.test",): "backup.late.hop.test",
    }


async def test_a_hop_s_retries_count_from_when_the_relay_took_the_message(
    hoplab: tuple[Lab, SimClock],
) -> None:
    walk = await _walk(hoplab, "grey.hop.test", "alice@grey.hop.test", profile="postfix",
                       relays=relay_profiles(HOP_HOSTS))  # fmt: skip
    first = await walk.run()
    assert first.outcome == "deferred" and first.hops == ()  # greylisted at the backup
    second = await walk.fast_forward_to_next_retry()
    assert second.outcome == "delivered"  # at 450 s
    [hop] = second.hops
    # qmail's first retry is 400 s after it queued the message, at 450 s: so at 850 s.
    assert (hop.relay.address, hop.result.profile, hop.result.outcome) == (
        "192.0.2.40",
        "qmail",
        "deferred",
    )
    assert hop.result.clock_s == 450 and hop.result.next_retry_s == 850
    assert second.next_retry_any_s == 850
    third = await walk.fast_forward_to_next_retry()
    assert third.hops[0].result.attempt == 1 and third.hops[0].result.clock_s == 850
    assert walk.attempt == 1  # the sender did not start again for the relay's retry


async def test_a_relay_that_is_the_best_mx_has_nowhere_to_forward_and_bounces(
    hoplab: tuple[Lab, SimClock],
) -> None:
    walk = await _walk(hoplab, "solo.hop.test", "alice@solo.hop.test", profile="postfix",
                       relays=relay_profiles(HOP_HOSTS))  # fmt: skip
    result = await walk.run()
    assert result.outcome == "delivered"  # the sender's part is done
    [hop] = result.hops
    assert hop.result.order == () and hop.result.outcome == "bounced"
    assert "alice@solo.hop.test" in (hop.result.ndr or "")
    assert result.next_retry_any_s is None


async def test_pausing_the_walk_holds_the_relay_s_hop_too(hoplab: tuple[Lab, SimClock]) -> None:
    seen: list[object] = []
    waits_in_hop: list[bool] = []
    walk = await _walk(hoplab, "late.hop.test", "alice@late.hop.test", profile="postfix",
                       relays=relay_profiles(HOP_HOSTS), on_event=seen.append)  # fmt: skip
    loop = asyncio.get_running_loop()

    def ready() -> None:
        waits_in_hop.append(any(isinstance(e, HopStarted) for e in seen))
        loop.call_soon(walk.step_once)

    walk.on_wait = ready
    walk.pause()
    result = await asyncio.wait_for(walk.run(), 20)
    assert result.hops and True in waits_in_hop  # the hop's steps waited at the walk's gate
    assert all(hop.gate is walk.gate for hop in walk.hops)  # one gate, shared, not copied


# -- mxtui walk ---------------------------------------------------------------------------------


def test_walk_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["walk", "example.com", "--lab", "--from", SENDER, "--to", "alice@example.com",
                   "--to", "carol@example.com", "--seed", "3", "--json"])  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert status == 4
    assert {"outcome", "order", "attempts", "recipients", "retry", "ndr"} <= set(doc)
    assert doc["outcome"] == "partial"
    assert doc["order"][-1] == "192.0.2.20"
    for attempt in doc["attempts"]:
        assert {"host", "address", "stage", "reply", "action"} <= set(attempt)  # add freely
    assert doc["recipients"]["alice@example.com"]["state"] == "delivered"
    assert doc["recipients"]["carol@example.com"]["reply"].startswith("550 5.1.1")
    assert doc["retry"] is None and "carol@example.com" in doc["ndr"]


def test_walk_json_deferred_has_retry(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["walk", "broken.example.com", "--lab", "--from", SENDER, "--to",
                   "a@broken.example.com", "--profile", "qmail", "--json"])  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert status == 3 and doc["outcome"] == "deferred"
    assert doc["retry"]["next_attempt_s"] == 400 and doc["ndr"] is None


def test_walk_json_gives_the_window_of_a_postfix_retry(capsys: pytest.CaptureFixture[str]) -> None:
    """Reference §0: Postfix retries at its next queue scan, 300-600 s after arrival."""
    status = main(["walk", "broken.example.com", "--lab", "--from", SENDER, "--to",
                   "a@broken.example.com", "--profile", "postfix", "--json"])  # fmt: skip
    retry = json.loads(capsys.readouterr().out)["retry"]
    assert status == 3
    assert retry["next_attempt_window_s"] == [300, 600]
    assert retry["next_attempt_s"] == 450 and retry["attempt_windows_s"][1] == [300, 600]


def test_walk_same_seed_same_order(capsys: pytest.CaptureFixture[str]) -> None:
    orders = []
    for _ in range(2):
        main(["walk", "example.com", "--lab", "--to", "alice@example.com", "--seed", "11",
              "--quit-after", "rcpt", "--json"])  # fmt: skip
        orders.append(json.loads(capsys.readouterr().out)["order"])
    assert orders[0] == orders[1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["example.com", "--lab"], "give at least one --to"),
        (["example.com", "--lab", "--to", "a@b", "--profile", "nope"], "unknown profile"),
        (["example.com", "--lab", "--to", "a@b", "--param", "bogus=1"], "no parameter"),
        (["example.com", "--lab", "--to", "a@b", "--timeout", "0"], "--timeout"),
        (["bad..domain", "--lab", "--to", "a@b"], "mxtui walk:"),
    ],
)
def test_walk_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["walk", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


# `mxtui walk` without --lab: the real resolver path and RealDialer, kept on loopback by a zone
# whose MX host is 127.0.0.1 and a host on its own port, both served from a second thread.
REAL_ZONE = """\
$ORIGIN real.test.
$TTL 300
@   SOA ns.real.test. hostmaster.real.test. 1 3600 600 86400 300
@   NS  ns.real.test.
ns  A   127.0.0.1
@   MX  10 mx.real.test.
mx  A   127.0.0.1
"""


@pytest.fixture
def real_like() -> Iterator[tuple[int, int, LabSMTPHost]]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    dns = LabDNSServer(REAL_ZONE, faults={})
    host = LabSMTPHost("mx", HostBehaviour("accept", hostname="mx.real.test"))

    def call(coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, loop).result(10)

    call(dns.start())
    call(host.start())
    try:
        yield dns.address[1], host.address[1], host
    finally:
        call(host.stop())
        call(dns.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


@pytest.mark.parametrize(
    ("extra", "status", "state", "sent"),
    [
        ([], 5, "held", 0),  # no --send: stops after RCPT, held (never "delivered")
        (["--quit-after", "dot"], 5, "held", 0),  # asked for the dot without --send: held
        (["--send"], 0, "delivered", 1),
    ],
)
def test_walk_outside_the_lab_sends_the_dot_only_with_send(
    real_like: tuple[int, int, LabSMTPHost],
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    status: int,
    state: str,
    sent: int,
) -> None:
    dns_port, smtp_port, host = real_like
    argv = ["walk", "real.test", "--nameserver", f"127.0.0.1:{dns_port}", "--port",
            str(smtp_port), "--from", SENDER, "--to", "u@real.test", "--timeout", "3",
            "--json", *extra]  # fmt: skip
    assert main(argv) == status
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert doc["recipients"]["u@real.test"]["state"] == state
    assert len(host.messages) == sent
    if not sent:
        assert "--send" in out.err
