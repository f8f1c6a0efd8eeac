"""A walk's outcome in plain words, for the explanation panel once the walk has ended.

While a walk runs, the panel explains each decision as it is taken; when it ends, the last step
(often a QUIT, or the relay's own delivery) is not what a person wants to read: they want how
the delivery came out. `walk_outcome` says it in sentences, no rule codes: who took the
message (or why nobody did), each recipient's fate, a backup MX's onward delivery (the second
hop), and when the next retry comes, if anything is still queued.
"""

from __future__ import annotations

from mxtui.model.walk import HopResult, RecipientStatus, WalkResult, reply_words
from mxtui.policy import PROFILES
from mxtui.text import clock_offset, printable

HEADLINE: dict[str, str] = {
    "delivered": "DELIVERED",
    "partial": "PARTLY DELIVERED",
    "deferred": "QUEUED: RETRY LATER",
    "bounced": "BOUNCED",
    "held": "HELD: NOTHING SENT",
}
"""The panel's headline for each walk outcome."""

_STATE: dict[RecipientStatus, str] = {
    RecipientStatus.DELIVERED: "delivered",
    RecipientStatus.ACCEPTED: "accepted, not yet delivered",
    RecipientStatus.BOUNCED: "bounced (the sender gets an NDR)",
    RecipientStatus.DEFERRED: "still queued for a retry",
    RecipientStatus.CARRIED: "carried to the next host",
    RecipientStatus.HELD: "accepted, the message held before the dot",
    RecipientStatus.PENDING: "not reached",
}


def _display(profile: str) -> str:
    return PROFILES[profile].display if profile in PROFILES else profile


def _first_line(result: WalkResult) -> str:
    who = _display(result.profile)
    took = next((r for r in result.attempts if r.action == "delivered"), None)
    if result.outcome == "delivered":
        where = f"{took.target.host} took the message" if took else "The message was delivered"
        return printable(f"{where} for every recipient.")
    if result.outcome == "partial":
        return "Some recipients were delivered and some were not (each one below)."
    if result.outcome == "held":
        return ("The walk stopped before the end of the message (a host outside the lab needs "
                "your confirmation): no server has taken it.")  # fmt: skip
    if result.outcome == "bounced":
        return (f"The message cannot be delivered: {who} returns it to the sender now with a "
                "bounce (NDR; b shows it). Nothing is retried.")  # fmt: skip
    if result.next_retry_s is not None:
        return (f"No server took the message in this attempt: {who} keeps it queued and tries "
                f"again at {clock_offset(result.next_retry_s)} (f jumps there).")  # fmt: skip
    return f"No server took the message, and {who} has given up on it (past its queue lifetime)."


def _hop(hop: HopResult) -> str:
    relay, result = hop.relay, hop.result
    words = (
        f"{relay.host} is a backup MX: having taken the message, it now delivers it to the "
        f"primary itself (hop {hop.hop}), as {_display(result.profile)} would. Its attempt "
        f"{result.attempt + 1}: {HEADLINE[result.outcome].lower()}"
    )
    if result.next_retry_any_s is not None:
        words += f"; it tries again at {clock_offset(result.next_retry_any_s)} (f jumps there)"
    return printable(words + ".")


def walk_outcome(result: WalkResult) -> tuple[str, ...]:
    """The sentences the panel shows for a walk that ended with `result`."""
    lines = [_first_line(result)]
    for recipient, state in result.recipients.items():
        said = f" — {reply_words(state.reply)}" if state.reply is not None else ""
        if state.reply is None and state.detail:
            said = f" — {state.detail}"
        lines.append(printable(f"• {recipient}: {_STATE[state.state]}{said}"))
    if not result.attempts and result.outcome != "held":
        lines.append("No address was tried: the DNS answer left nothing to dial.")
    lines += [_hop(hop) for hop in result.hops]
    if result.next_retry_s is None and result.next_retry_any_s is None and result.retry:
        lines.append("The queue lifetime is over: what was still queued has bounced.")
    return tuple(lines)
