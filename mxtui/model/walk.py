"""The delivery walk: the try list, each attempt, each recipient's state, and the walk's events."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from mxtui.model._json import JsonForm, Key, to_json
from mxtui.model.dns import TryTarget
from mxtui.model.policy import Decision, DecisionContext, RetryTimeline
from mxtui.model.smtp import Reply, Stage, StepResult


class RecipientStatus(StrEnum):
    """Where one recipient stands in a delivery walk.

    `carried` is transient: a 4xx at RCPT that the profile retries on the next MX in the same
    attempt. `held` means accepted at RCPT, but the dot was not sent (a host outside the lab,
    without confirmation), so no server has taken the message.
    """

    PENDING = "pending"
    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    CARRIED = "carried"
    DEFERRED = "deferred"
    BOUNCED = "bounced"
    HELD = "held"


WalkOutcome = Literal["delivered", "partial", "deferred", "bounced", "held"]
"""`held`: the walk stopped before the end-of-data dot (a host outside the lab, no confirmation),
so no server took the message, whatever RCPT said; the recipients show who was accepted."""


def reply_words(reply: Reply) -> str:
    """A reply on one line: its lines joined by " / " (or code and text when it has none)."""
    if reply.lines:
        return " / ".join(reply.lines)
    return f"{reply.code} {reply.text}".strip()


@dataclass(frozen=True)
class AttemptRecord(JsonForm):
    """One address tried: where the conversation ended, the last reply, what the profile did."""

    target: TryTarget
    stage: Stage
    reply: Reply | None
    action: str
    error: str = ""

    JSON = (
        Key("host", "target.host"), Key("address", "target.address"), "stage",
        Key("reply", "reply_words"), "action", Key("error", or_none=True),
    )  # fmt: skip

    @property
    def reply_words(self) -> str | None:
        """The last reply on one line, or None when the conversation ended without one."""
        return reply_words(self.reply) if self.reply is not None else None


@dataclass(frozen=True)
class RecipientResult(JsonForm):
    """A recipient's state and the reply (or failure, in words) that put it there."""

    state: RecipientStatus
    reply: Reply | None = None
    detail: str = ""

    JSON = ("state", Key("reply", "reply_text"))

    def reply_text(self) -> str | None:
        if self.reply is None:
            return self.detail or None
        return reply_words(self.reply)


@dataclass(frozen=True)
class WalkResult:
    """How one delivery attempt (or the whole walk, after fast-forwards) ended.

    `attempt` counts delivery attempts from 0; `clock_s` is the simulated time of this one.
    `retry` is set when something is still queued; `next_retry_s` is then the simulated time
    of the next attempt, or None when the message is past give-up. `ndrs` holds one notice per
    bounced recipient (`ndr` is the first, the JSON's one text).
    """

    outcome: WalkOutcome
    order: tuple[TryTarget, ...]
    attempts: tuple[AttemptRecord, ...]
    recipients: dict[str, RecipientResult]
    retry: RetryTimeline | None
    ndrs: dict[str, str]
    seed: int
    profile: str
    attempt: int = 0
    clock_s: float = 0.0
    next_retry_s: int | None = None
    held: bool = False
    hops: tuple[HopResult, ...] = ()
    """Onward deliveries by relays that took the message (a backup MX's second hop), latest
    attempt of each; empty unless the walk was given `relays`."""
    next_retry_window_s: tuple[int, int] | None = None
    """When the real program's next attempt can come (simulated seconds): `next_retry_s` is
    one instant in it (Postfix retries at its next queue scan, whose phase is arbitrary)."""

    @property
    def ndr(self) -> str | None:
        return next(iter(self.ndrs.values()), None)

    @property
    def next_retry_any_s(self) -> int | None:
        """The next simulated time anything is retried: this sender's queue or a relay's (what
        `Walk.fast_forward_to_next_retry` goes to); None when nothing is queued anywhere."""
        times = [self.next_retry_s] + [h.result.next_retry_any_s for h in self.hops]
        pending = [t for t in times if t is not None]
        return min(pending) if pending else None

    def to_json(self) -> dict[str, Any]:
        """The `mxtui walk --json` document (the retry timeline carries this attempt's clock)."""
        retry = None
        if self.retry is not None:
            window = self.next_retry_window_s
            retry = {**self.retry.to_json(), "attempt": self.attempt,
                     "clock_s": self.clock_s, "next_attempt_s": self.next_retry_s,
                     "next_attempt_window_s": list(window) if window else None}  # fmt: skip
        return {
            "outcome": self.outcome,
            "order": [t.address for t in self.order],
            "attempts": to_json(self.attempts),
            "recipients": to_json(self.recipients),
            "retry": retry,
            "ndr": self.ndr,
            "seed": self.seed,
            "profile": self.profile,
            "held": self.held,
            "hops": to_json(self.hops),
        }


# Walk events: one per thing that happened, in order, for the app to animate.


@dataclass(frozen=True)
class WalkStarted:
    """A delivery attempt begins: the try list as shuffled with `seed`, at simulated `clock_s`."""

    domain: str
    profile: str
    seed: int
    order: tuple[TryTarget, ...]
    attempt: int
    clock_s: float


@dataclass(frozen=True)
class AttemptStarted:
    """The walk dials the `index`th entry of the try list."""

    index: int
    target: TryTarget
    hop: int = 1
    """1: the sender's own delivery; 2: a relay's onward delivery (see `HopStarted`)."""


@dataclass(frozen=True)
class StepDone:
    """One step finished and the profile decided; `step` is None for a DNS-stage decision and
    `decision` is None for a step with nothing to decide (a connection that opened)."""

    target: TryTarget | None
    stage: Stage
    step: StepResult | None
    decision: Decision | None
    context: DecisionContext | None = None
    """Where in the try list the decision was taken (so the app explains it the same way)."""
    hop: int = 1


@dataclass(frozen=True)
class AttemptEnded:
    """The conversation with `target` is over; `action` is what the profile did next."""

    record: AttemptRecord
    hop: int = 1


@dataclass(frozen=True)
class RecipientState:
    """A recipient changed state (accepted, delivered, carried, deferred, bounced, held)."""

    recipient: str
    result: RecipientResult
    target: TryTarget | None
    hop: int = 1
    """Above 1: the recipient's state in a relay's queue, not the sender's."""


@dataclass(frozen=True)
class WalkEnded:
    result: WalkResult


@dataclass(frozen=True)
class HopResult:
    """How a relay's onward delivery stands: which relay, and its latest attempt's result
    (under the relay's profile, its own retries and NDRs)."""

    hop: int
    relay: TryTarget
    result: WalkResult

    def to_json(self) -> dict[str, Any]:
        return {"hop": self.hop, "from": self.relay.host, "from_address": self.relay.address,
                **self.result.to_json()}  # fmt: skip


@dataclass(frozen=True)
class HopStarted:
    """A relay that accepted the message (a backup MX) makes a delivery attempt of its own.

    The events up to the matching `HopEnded` carry `hop`; `order` is the relay's try list (only
    MX records of lower preference number than its own, RFC 5321 §5.1), `attempt` counts the
    relay's attempts from 0, at simulated `clock_s`.
    """

    hop: int
    from_host: str
    from_address: str
    profile: str
    order: tuple[TryTarget, ...]
    attempt: int
    clock_s: float
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class HopEnded:
    """The relay's attempt is over: its result (the sender's outcome does not change)."""

    hop: int
    result: WalkResult


WalkEvent = (
    WalkStarted | AttemptStarted | StepDone | AttemptEnded | RecipientState | WalkEnded
    | HopStarted | HopEnded
)  # fmt: skip
