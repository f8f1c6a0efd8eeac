"""The delivery walk against real Postfix listeners: what each profile does, on real replies.

A hand-made MX plan of documentation addresses (primary 192.0.2.10 at preference 10, backup
198.51.100.20 at 20) is walked with a `LabDialer` that sends each address to a real local
listener, one per behaviour:
- accepting: the Postfix of `postfix_peer` (takes alice@example.com, discards the message);
- greylisting: a second Postfix with `check_policy_service` to a real postgrey (delay 1 s,
  see `postgrey_peer`), which answers "450 4.2.0 <rcpt>: Recipient address rejected:
  Greylisted, ..." at RCPT for a triplet it has not seen for a second;
- 421 at greeting: a third Postfix with `smtpd_delay_reject = no` and
  `smtpd_client_restrictions = check_client_access cidr:...` mapping 127.0.0.1 to the access(5)
  action "421 4.3.2 ...". With delay_reject off, smtpd evaluates the client restrictions when
  the client connects, before the banner, and a 421 result is sent *instead of* the 220 banner,
  after which smtpd hangs up (swaks sees `<** 421 4.3.2 <unknown[127.0.0.1]>: Client host
  rejected: Service shutting down ...` then "Remote host closed connection"). This is the
  genuine Postfix way to turn a client away at the greeting with a 4xx (postscreen's
  blocklist actions answer 5xx; the anvil connection limits depend on earlier connections);
- refused: loopback ports that were bound, closed, and are listened on by nobody.

Expected outcomes are those of /work/shared/reference/delivery-decisions.md, cited per test.
Postgrey's delay is real time: the tests that retry after greylisting wait just over a second
before `fast_forward_to_next_retry()` (the simulated clock only moves the walk's own queue).
Every greylisting test uses a sender of its own, so each starts from a fresh triplet.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import postfix_peer
import postgrey_peer
import pytest
from postfix_peer import USER, Postfix
from postgrey_peer import Postgrey

from mxtui.delivery import Walk
from mxtui.model import (
    Address,
    AttemptRecord,
    Envelope,
    HostState,
    MXGroup,
    MXHost,
    MXPlan,
    PlanStatus,
    RecipientStatus,
    SessionEvent,
    Stage,
    Timeouts,
    TranscriptLine,
    WalkResult,
)
from mxtui.smtp.dialer import LabDialer

PRIMARY = "192.0.2.10"
BACKUP = "198.51.100.20"
QUICK = Timeouts.all(5)
FAILOVER = ("next-address", "next-mx")
"""What an attempt record says when the profile moved on from that address (a host-by-host
MTA such as Sendmail says next-mx)."""
FIRST_RETRY_S = {"postfix": 450, "qmail": 400}
"""delivery-decisions.md §0/§4: Postfix's first retry lands at its next queue scan, 300-600 s
after arrival (450 s at the profile's default scan phase of 150 s); qmail's at 400 s."""


@dataclass(frozen=True)
class Peers:
    accepting: tuple[str, int]
    greylisting: tuple[str, int]
    greeting_421: tuple[str, int]
    refused: tuple[tuple[str, int], tuple[str, int]]


def _dead_port() -> tuple[str, int]:
    """A loopback port nobody listens on: bound (so it was free), then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return ("127.0.0.1", s.getsockname()[1])


def _missing() -> list[str]:
    missing = []
    if os.geteuid() != 0:
        missing.append("root (Postfix and postgrey are started as root)")
    if not postfix_peer.available():
        missing.append("postfix")
    if not postgrey_peer.available():
        missing.append("postgrey")
    return missing


@pytest.fixture(scope="module")
def peers(request: pytest.FixtureRequest) -> Iterator[Peers]:
    """One real listener per behaviour, started in parallel, all stopped at the end."""
    missing = _missing()
    if missing:
        if os.environ.get("MXTUI_REQUIRE_POSTFIX") == "1":
            pytest.fail(f"MXTUI_REQUIRE_POSTFIX=1 but missing: {', '.join(missing)}")
        pytest.skip(f"missing: {', '.join(missing)}")
    greylist = Postgrey()
    greylisting = Postfix(
        main_cf=f"smtpd_recipient_restrictions = check_policy_service {greylist.policy_service}\n"
    )
    refusing = Postfix(
        main_cf="smtpd_delay_reject = no\n"
        "smtpd_client_restrictions = check_client_access cidr:{conf}/clients\n",
        files={"clients": "127.0.0.1/32 421 4.3.2 Service shutting down (mxtui test peer)\n"},
        greeting=b"421",
    )
    instances: list[Postgrey | Postfix] = [greylist, greylisting, refusing]
    try:
        with ThreadPoolExecutor(len(instances)) as pool:
            started = [pool.submit(i.start) for i in instances]
            # The accepting Postfix is the session's shared one; it starts meanwhile.
            accepting: Postfix = request.getfixturevalue("postfix")
            for future in started:
                future.result()
        yield Peers(accepting.address, greylisting.address, refusing.address,
                    (_dead_port(), _dead_port()))  # fmt: skip
    finally:
        with ThreadPoolExecutor(len(instances)) as pool:
            list(pool.map(lambda i: i.stop(), instances))


def _plan(primary: bool = True, backup: bool = True) -> MXPlan:
    groups = []
    for pref, name, address, wanted in (
        (10, "mx1.example.com", PRIMARY, primary),
        (20, "mx2.example.com", BACKUP, backup),
    ):
        if wanted:
            host = MXHost(name, pref, (Address(address, 4),), state=HostState.RESOLVED)
            groups.append(MXGroup(pref, (host,)))
    return MXPlan("example.com", PlanStatus.MX, groups=tuple(groups))


def _walk(profile: str, sender: str, primary: tuple[str, int],
          backup: tuple[str, int] | None) -> Walk:  # fmt: skip
    mapping = {PRIMARY: primary}
    if backup is not None:
        mapping[BACKUP] = backup
    envelope = Envelope(f"{sender}@example.org", (USER,), ehlo_name="client.example.org")
    return Walk(_plan(backup=backup is not None), envelope, dialer=LabDialer(mapping),
                profile=profile, seed=1, timeouts=QUICK)  # fmt: skip


def _where(result: WalkResult) -> list[tuple[str, str]]:
    """Each address tried in the attempt, with what the profile did there."""
    return [(a.target.address, a.action) for a in result.attempts]


def _state(result: WalkResult) -> RecipientStatus:
    return result.recipients[USER].state


async def _past_greylist_delay() -> None:
    """postgrey counts whole seconds: once `now - first_seen >= delay` a retry passes."""
    await asyncio.sleep(postgrey_peer.DELAY_S + 0.2)


# -- a) primary 421 at greeting, backup accepting -----------------------------------------------


GREETING_421 = "421 4.3.2 <unknown[127.0.0.1]>: Client host rejected: Service shutting down"


def _greeting_421(record: AttemptRecord, transcript: list[SessionEvent]) -> None:
    """The primary's attempt ended at the greeting with Postfix's 421, in the transcript and
    in the attempt record, whether or not its close was noticed before the greeting step ran
    (the single-stepped test below makes the close come first)."""
    assert record.target.address == PRIMARY and record.stage is Stage.GREETING
    received = [e.text for e in transcript if isinstance(e, TranscriptLine) and e.dir == "recv"]
    assert any(line.startswith(GREETING_421) for line in received)
    assert record.reply is not None, record.error  # read even when the close came first
    assert (record.reply.code, record.reply.enhanced) == (421, "4.3.2")
    assert "Service shutting down" in record.reply.text


@pytest.mark.parametrize("profile", ["postfix", "exim", "sendmail", "opensmtpd", "postfix-2.0"])
async def test_421_greeting_on_primary_delivers_via_backup_for_profiles_that_move_on(
    peers: Peers, profile: str
) -> None:
    """§3 row "greeting 421 / 4xx": Postfix, Exim, Sendmail NX (Postfix §2: greeting soft
    failure on a non-final server → next address). §0: OpenSMTPD 6.8 moves to the next MX in
    the same attempt [T], and so does Postfix 2.0 (smtp_skip_4xx_greeting)."""
    walk = _walk(profile, f"a-{profile}", peers.greeting_421, peers.accepting)
    transcript: list[SessionEvent] = []
    walk.on_session_event = transcript.append
    result = await walk.run()
    assert result.outcome == "delivered"
    first, second = result.attempts
    _greeting_421(first, transcript)
    assert first.action in FAILOVER
    assert (second.target.address, second.action) == (BACKUP, "delivered")
    reply = result.recipients[USER].reply
    assert reply is not None and reply.code == 250  # the backup's answer to the dot


@pytest.mark.parametrize("profile", ["qmail"])
async def test_421_greeting_on_primary_requeues_for_profiles_that_move_only_on_connect_failure(
    peers: Peers, profile: str
) -> None:
    """§3 row "greeting 421 / 4xx": qmail RQ (§2 qmail: "moves to the next address only when
    connect fails; once connected there is no failover"). (§2 said OpenSMTPD matches the qmail
    column here; §0 and OpenSMTPD 6.8.0p2 say it moves on: see the test above.)"""
    walk = _walk(profile, f"a-{profile}", peers.greeting_421, peers.accepting)
    transcript: list[SessionEvent] = []
    walk.on_session_event = transcript.append
    result = await walk.run()
    assert result.outcome == "deferred" and _state(result) is RecipientStatus.DEFERRED
    assert _where(result) == [(PRIMARY, "requeue")]  # the backup is never dialled
    _greeting_421(result.attempts[0], transcript)
    assert result.retry is not None and result.next_retry_s is not None
    if profile in FIRST_RETRY_S:
        assert result.next_retry_s == FIRST_RETRY_S[profile]
    # The primary still turns clients away at the retry: queued again, never bounced.
    again = await walk.fast_forward_to_next_retry()
    assert again.outcome == "deferred" and _where(again) == [(PRIMARY, "requeue")]


async def test_single_stepped_walk_keeps_the_421_greeting_as_the_primarys_reply(
    peers: Peers,
) -> None:
    """§1 Session-level rules: a 421 may come unprompted; the client treats it as 4yz. Stepped
    as the app steps a paused walk, the greeting step runs after Postfix has sent its 421 and
    hung up (the order the race in the run-through tests only sometimes gives). The attempt
    record should still carry the server's 421 4.3.2, not a dropped line."""
    walk = _walk("postfix", "a-stepped", peers.greeting_421, peers.accepting)
    ready = asyncio.Event()
    walk.on_wait = ready.set
    walk.pause()
    task = asyncio.create_task(walk.run())
    for _ in range(2):  # the connect step, then (after Postfix has spoken and closed) the greeting
        await asyncio.wait_for(ready.wait(), 10)
        ready.clear()
        await asyncio.sleep(0.3)
        walk.step_once()
    walk.resume()
    result = await asyncio.wait_for(task, 20)
    assert result.outcome == "delivered"
    first = result.attempts[0]
    assert first.stage is Stage.GREETING and first.error == ""
    assert first.reply is not None and (first.reply.code, first.reply.enhanced) == (421, "4.3.2")


# -- b) primary refused, backup accepting -------------------------------------------------------


@pytest.mark.parametrize("profile", ["postfix", "qmail", "exim", "sendmail", "opensmtpd"])
async def test_refused_primary_delivers_via_backup(peers: Peers, profile: str) -> None:
    """§3 row "connect refused / timeout": NX for every profile; qmail too (§2 qmail: it moves
    on exactly when connect fails). §5: "an unreachable host (no route, refused) moves to the
    next record of same or higher number"."""
    walk = _walk(profile, f"b-{profile}", peers.refused[0], peers.accepting)
    result = await walk.run()
    assert result.outcome == "delivered"
    first, second = result.attempts
    assert first.target.address == PRIMARY and first.stage is Stage.CONNECT
    assert first.reply is None and first.action in FAILOVER
    assert (second.target.address, second.action) == (BACKUP, "delivered")


# -- c) primary greylisting, backup accepting ---------------------------------------------------


@pytest.mark.parametrize("profile", ["postfix", "exim", "sendmail"])
async def test_greylisting_primary_delivers_via_backup_at_once(peers: Peers, profile: str) -> None:
    """§3 row "RCPT 4xx": Postfix r-NX (§2 Postfix: "RCPT 4xx → that recipient goes to the next
    MX"), Sendmail r-NX ("any RCPT tempfailed: try them on the next host"), Exim "r-RQ, other
    hosts tried" (§2 Exim: any deferred recipient makes Exim try the next host in the same run).
    §5: "a sender that tries the next MX on 4xx delivers at once via the backup"."""
    walk = _walk(profile, f"c-{profile}", peers.greylisting, peers.accepting)
    result = await walk.run()
    assert result.outcome == "delivered" and result.attempt == 0
    first, second = result.attempts
    assert first.target.address == PRIMARY and first.stage is Stage.RCPT
    assert first.reply is not None and (first.reply.code, first.reply.enhanced) == (450, "4.2.0")
    assert "Greylisted" in first.reply.text
    assert (second.target.address, second.action) == (BACKUP, "delivered")


async def test_greylisting_primary_qmail_defers_then_delivers_to_the_primary_on_retry(
    peers: Peers,
) -> None:
    """§3 row "RCPT 4xx": qmail r-RQ (§2 qmail: "RCPT 4xx → s", a soft failure for that
    recipient, and no failover once connected). §5: "one that does not waits for its retry".
    The retry walks the try list from the top (§2 qmail: next retry = birth + (⌊√age⌋+20)²,
    400 s), so it reaches the primary first, which by then has seen the triplet long enough."""
    walk = _walk("qmail", "c-qmail", peers.greylisting, peers.accepting)
    first = await walk.run()
    assert first.outcome == "deferred" and _state(first) is RecipientStatus.DEFERRED
    assert _where(first) == [(PRIMARY, "requeue")]  # the backup is not tried
    reply = first.recipients[USER].reply
    assert reply is not None and (reply.code, reply.enhanced) == (450, "4.2.0")
    assert first.retry is not None and first.next_retry_s == FIRST_RETRY_S["qmail"]
    await _past_greylist_delay()
    retry = await walk.fast_forward_to_next_retry()
    assert retry.outcome == "delivered" and retry.attempt == 1
    assert retry.clock_s == FIRST_RETRY_S["qmail"]
    assert _where(retry) == [(PRIMARY, "delivered")]
    assert retry.retry is None and retry.next_retry_s is None


# -- d) only the greylisting host -----------------------------------------------------------------


@pytest.mark.parametrize("profile", ["postfix", "qmail"])
async def test_greylisting_only_host_defers_then_delivers_after_the_delay(
    peers: Peers, profile: str
) -> None:
    """§3 row "RCPT 4xx": on the final (only) server Postfix's r-NX becomes r-RQ (§2 Postfix:
    "or is deferred on the final server"); qmail r-RQ. §1 Retry: queued mail MUST be retried;
    §4: first retry at 300 s (Postfix) / 400 s (qmail), by when the greylist has cleared."""
    walk = _walk(profile, f"d-{profile}", peers.greylisting, None)
    first = await walk.run()
    assert first.outcome == "deferred" and _state(first) is RecipientStatus.DEFERRED
    assert _where(first) == [(PRIMARY, "requeue")]
    assert first.retry is not None and first.retry.profile == profile
    assert first.next_retry_s == FIRST_RETRY_S[profile] == first.retry.attempts_s[1]
    assert first.ndr is None
    await _past_greylist_delay()
    retry = await walk.fast_forward_to_next_retry()
    assert retry.outcome == "delivered" and retry.clock_s == FIRST_RETRY_S[profile]
    assert _where(retry) == [(PRIMARY, "delivered")]


# -- e) every MX refuses --------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["postfix", "qmail"])
async def test_all_refused_defers_with_retries_then_ndr_at_give_up(
    peers: Peers, profile: str
) -> None:
    """§3 row "connect refused / timeout": NX, and when the list is exhausted RQ (§2 Postfix:
    "all fail → defer 4.4.1"). §5: "All hosts unreachable → the message is requeued and retried
    ... then an NDR"; §4: Postfix's lifetime is 5 d (432000 s), qmail's 7 d (604800 s)."""
    walk = _walk(profile, f"e-{profile}", peers.refused[0], peers.refused[1])
    first = await walk.run()
    assert first.outcome == "deferred" and first.ndr is None
    assert _where(first) == [(PRIMARY, "next-address"), (BACKUP, "requeue")]
    assert first.retry is not None and first.next_retry_s == FIRST_RETRY_S[profile]
    give_up = first.retry.give_up_s
    # The NDR goes out at the first failed attempt past the lifetime (§4: Postfix "first
    # failed attempt with age >= 5d (~5d + <=67m)"; qmail "first attempt after 604800 (~169h)").
    lifetime, last_gap = {"postfix": (432000, 4000), "qmail": (604800, 169 * 3600 - 604800)}[
        profile
    ]
    assert lifetime <= give_up <= lifetime + last_gap
    result = first
    for _ in range(len(first.retry.attempts_s) + 1):
        if result.outcome != "deferred":
            break
        assert _where(result)[-1] == (BACKUP, "requeue")
        result = await walk.fast_forward_to_next_retry()
    assert result.outcome == "bounced" and result.clock_s == give_up
    assert result.next_retry_s is None
    assert len(walk.results) == len(first.retry.attempts_s)  # every attempt of §4 was made
    ndr = result.ndr
    assert ndr is not None and f"<{USER}>: connect to mx2.example.com: Connection refused" in ndr
    assert "Action: failed" in ndr and f"Final-Recipient: rfc822; {USER}" in ndr
    if profile == "postfix":
        assert "Status: 4.4.1" in ndr  # §2 Postfix: "all fail → defer 4.4.1"
