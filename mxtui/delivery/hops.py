"""A relay's onward delivery: the second hop of a message a backup MX took.

Given `relays` (the lab's store-and-forward hosts, see `mxtui.lab.hosts.relay_profiles`), a
message a relay accepts goes on as the relay's own walk, under its profile, to the MX records of
lower preference number than its own (RFC 5321 §5.1), on the same clock, dialer and step gate.
Its events come bracketed by `HopStarted` and `HopEnded` and carry `hop=2`.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import TYPE_CHECKING

from mxtui.model import HopEnded, HopStarted, TryTarget, WalkEnded, WalkEvent, WalkStarted

if TYPE_CHECKING:
    from mxtui.delivery.walk import EventSink, Walk


def as_hop(walk: Walk, event: WalkEvent) -> WalkEvent:
    """A hop's own event, as its parent walk tells it: marked with the hop number, the start and
    end of its attempt as `HopStarted` / `HopEnded`."""
    if isinstance(event, WalkStarted):
        relay = walk.relayed_by
        assert relay is not None
        return HopStarted(walk.hop, relay.host, relay.address, event.profile, event.order,
                          event.attempt, event.clock_s, tuple(walk.states))  # fmt: skip
    if isinstance(event, WalkEnded):
        return HopEnded(walk.hop, event.result)
    if any(f.name == "hop" for f in fields(event)) and getattr(event, "hop", 1) == 1:
        return replace(event, hop=walk.hop)  # type: ignore[arg-type]
    return event


async def run_hops(walk: Walk) -> None:
    """Retry the hops that are due, then start one for each relay that took recipients.

    A relay keeps the message and tries at once, as a real MTA does on receipt.
    """
    for hop in walk.hops:
        due = hop.result.next_retry_any_s if hop.result is not None else None
        if due is not None and due <= walk.clock.now:
            walk.session = None
            await hop.fast_forward_to_next_retry()
    by_relay: dict[TryTarget, list[str]] = {}
    for recipient, target in walk.at_relay.items():
        by_relay.setdefault(target, []).append(recipient)
    walk.at_relay = {}
    for relay, recipients in by_relay.items():
        hop = hop_walk(walk, relay, tuple(recipients))
        walk.hops.append(hop)
        await hop.run()


def hop_walk(walk: Walk, relay: TryTarget, recipients: tuple[str, ...]) -> Walk:
    """The relay's walk for `recipients`: only MX records better than its own (RFC 5321 §5.1),
    its profile, this walk's clock, dialer and gate."""
    plan = replace(walk.plan, groups=tuple(
        g for g in walk.plan.groups if g.preference < relay.preference
    ))  # fmt: skip
    envelope = replace(walk.envelope, recipients=recipients, ehlo_name=relay.host)
    hop = type(walk)(
        plan, envelope, dialer=walk.dialer, profile=walk.relays[relay.address],
        seed=walk.seed, clock=walk.clock, confirm_send=walk.confirm_send,
        quit_after=walk.quit_after, timeouts=walk.timeouts, port=walk.port,
        on_session_event=walk.on_session_event, relays=walk.relays,
        # One gate for the whole walk: pausing or single-stepping the sender's walk holds the
        # relay's delivery too (the app paces only the walk it made).
        gate=walk.gate,
    )  # fmt: skip
    hop.hop, hop.relayed_by, hop.queued_at = walk.hop + 1, relay, int(walk.clock.now)
    hop.on_event = _forward(walk, hop)
    return hop


def _forward(walk: Walk, hop: Walk) -> EventSink:
    def forward(event: WalkEvent) -> None:
        walk.session = hop.session  # so closing "the walk's session" reaches the hop's
        walk.emit(event)

    return forward
