"""The walk's side of a case: `Walk` under the MTA's profile, in the same world, read like an MTA.

The walk resolves the case's domain through the same DNS server and dials the same hosts on
port 25 (it is inside the case's namespace, so `RealDialer` reaches them), and its result is put
into the `MtaRun` vocabulary: the connections in order, each recipient's end with the status the
profile gives it (the NDR's `Status:` for a bounce), and the first retry.

Equal preferences are shuffled by the MTA and by the walk alike. So that the rest of the case
can be compared connection by connection, the walk is given a seed whose try list orders the
addresses the way the MTA did, when the profile can produce that order at all (`seed_for`).
"""

from __future__ import annotations

import random
import re
from typing import Any

from mxtui.conformance.observe import Dial, MtaRun, Passed, RecipientSeen
from mxtui.delivery import SimClock, Walk, try_order
from mxtui.dns import resolve_mx
from mxtui.model import (
    AttemptEnded,
    Envelope,
    MXPlan,
    RecipientState,
    RecipientStatus,
    StepDone,
    Timeouts,
    WalkEvent,
)
from mxtui.smtp.dialer import RealDialer
from mxtui.smtp.replies import ENHANCED

SEARCH_SEEDS = 3000
"""How many seeds are tried to line the walk's shuffle up with the MTA's order."""

_STATUS = re.compile(rf"^Status:\s*({ENHANCED})(?!\d)", re.MULTILINE)


def retry_window(timeline: Any, when: int) -> tuple[int, int]:
    """The window the profile gives the attempt at `when` (Postfix's is as wide as its queue
    scan); a profile without windows gives the instant."""
    attempts = list(getattr(timeline, "attempts_s", ()))
    window = getattr(timeline, "window", None)
    if window is not None and when in attempts:
        lo, hi = window(attempts.index(when))
        return int(lo), int(hi)
    return when, when


async def plan_for(domain: str, nameserver: tuple[str, int]) -> MXPlan:
    return await resolve_mx(domain, nameservers=[nameserver], timeout=3.0)


def seed_for(plan: MXPlan, profile: str, dialed: list[str]) -> int | None:
    """A seed whose try list starts as the MTA dialled (`dialed` a subsequence of it, the first
    address the same), or None when no seed among `SEARCH_SEEDS` gives one."""
    if not dialed:
        return 0
    for seed in range(SEARCH_SEEDS):
        order = [t.address for t in try_order(plan, profile, random.Random(seed))]
        if order and order[0] == dialed[0] and _subsequence(dialed, order):
            return seed
    return None


def _subsequence(part: list[str], whole: list[str]) -> bool:
    it = iter(whole)
    return all(any(x == y for y in it) for x in part)


def passed(event: StepDone) -> Passed:
    """The row a decision of the walk used, with its cell code and why it was final."""
    decision = event.decision
    assert decision is not None and decision.row is not None
    stage, outcome = decision.row
    final = ""
    if decision.final:
        last = event.context is not None and event.context.last_address
        final = "last" if last else "limit"
    return Passed(str(stage), outcome, decision.cell, final)


async def walk_case(
    plan: MXPlan,
    profile: str,
    sender: str,
    recipients: tuple[str, ...],
    seed: int,
    message: bytes,
) -> tuple[MtaRun, dict[str, Any]]:
    """One delivery attempt by the walk; its `MtaRun`, and the walk's own JSON for the report."""
    events: list[WalkEvent] = []
    walk = Walk(
        plan,
        Envelope(sender, recipients, ehlo_name="mta.sender.test", message=message),
        dialer=RealDialer(25), profile=profile, seed=seed, clock=SimClock(),
        confirm_send=True, timeouts=Timeouts(connect=5.0, reply=5.0), on_event=events.append,
    )  # fmt: skip
    result = await walk.run()
    dials: list[Dial] = []
    decisions: list[Passed] = []
    last_status = ""
    statuses: dict[str, str] = {}
    log: list[str] = []
    for event in events:
        if isinstance(event, AttemptEnded):
            record = event.record
            said = record.to_json()["reply"] or record.error or "no reply"
            error = record.error if record.reply is None and str(record.stage) == "connect" else ""
            dials.append(Dial(record.target.host, record.target.address, error))
            log.append(f"{record.target.host}[{record.target.address}] {record.stage}: "
                       f"{said} -> {record.action}")  # fmt: skip
        elif isinstance(event, StepDone) and event.decision is not None:
            last_status = event.decision.status
            if event.hop == 1:
                decisions.append(passed(event))
        elif isinstance(event, RecipientState) and event.result.state in (
            RecipientStatus.DEFERRED, RecipientStatus.BOUNCED
        ):  # fmt: skip
            statuses[event.recipient] = last_status
    seen: dict[str, RecipientSeen] = {}
    for rcpt, state in result.recipients.items():
        name = str(state.state)
        if name == "bounced":
            ndr = result.ndrs.get(rcpt, "")
            m = _STATUS.search(ndr)
            status = m.group(1) if m else statuses.get(rcpt, "")
            seen[rcpt.lower()] = RecipientSeen("bounced", statuses.get(rcpt, ""),
                                               state.reply_text() or "", status)  # fmt: skip
        elif name == "deferred":
            seen[rcpt.lower()] = RecipientSeen("deferred", statuses.get(rcpt, ""),
                                               state.reply_text() or "")  # fmt: skip
        else:
            seen[rcpt.lower()] = RecipientSeen("delivered" if name == "delivered" else name)
    retry = None
    if result.next_retry_s is not None:
        retry = retry_window(result.retry, result.next_retry_s)
    log.append(f"outcome {result.outcome}" + (f", next attempt at +{retry[0]} s" if retry else ""))
    run = MtaRun(dials=dials, recipients=seen, retry=retry, log=log,  # type: ignore[arg-type]
                 order=[t.address for t in result.order], decisions=decisions)  # fmt: skip
    return run, result.to_json()
