"""What the app shows of a delivery walk, folded from its events (no Textual here).

A live `Walk` and a replayed recording produce the same events; both go through `WalkState`,
so the tree marks, the status lines and the transcript separators look the same either way.
The state is the current attempt's: a retry (a new `WalkStarted`) clears the marks, because
"which address failed" is a question about one attempt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mxtui.model import (
    AttemptEnded,
    AttemptStarted,
    DecisionContext,
    HopEnded,
    HopStarted,
    RecipientResult,
    RecipientState,
    RecipientStatus,
    Stage,
    StepDone,
    StepResult,
    TryTarget,
    WalkEnded,
    WalkResult,
    WalkStarted,
)
from mxtui.policy import PROFILES
from mxtui.text import clock_offset, printable

MarkKind = Literal["trying", "failed", "deferred", "bounced", "accepted", "held", "done"]

MARK_SYMBOL: dict[str, str] = {
    "trying": "▶",
    "failed": "✗",
    "deferred": "↻",
    "bounced": "✗",
    "accepted": "✓",
    "held": "◼",
    "done": "•",
}
"""A symbol per mark, so the state reads without colour (NO_COLOR, monochrome terminals)."""

# What the profile did at the end of a conversation → how the address is marked.
_ACTION_MARK: dict[str, MarkKind] = {
    "delivered": "accepted",
    "next-address": "failed",
    "next-mx": "failed",
    "retry-helo": "failed",
    "requeue": "deferred",
    "ndr": "bounced",
    "held": "held",
}

RECIPIENT_SYMBOL: dict[RecipientStatus, str] = {
    RecipientStatus.PENDING: "…",
    RecipientStatus.ACCEPTED: "✓",
    RecipientStatus.DELIVERED: "✓",
    RecipientStatus.CARRIED: "→",
    RecipientStatus.DEFERRED: "↻",
    RecipientStatus.BOUNCED: "✗",
    RecipientStatus.HELD: "◼",
}


@dataclass(frozen=True)
class Mark:
    """An address's part in the current attempt: what happened, at which walk step, and the
    reply (or failure) in a few words."""

    kind: MarkKind
    step: int
    note: str
    hop: int = 1
    """2 and up: the mark was made by a relay's own delivery (a backup MX forwarding)."""

    def words(self) -> str:
        by = f" (hop {self.hop})" if self.hop > 1 else ""
        return f"{MARK_SYMBOL[self.kind]} {self.kind}{by} at step {self.step}: {self.note}"

    def short(self) -> str:
        """'✗ 3' — symbol and step, for a narrow tree."""
        return f"{MARK_SYMBOL[self.kind]} {self.step}"


def step_words(step: StepResult | None, stage: str) -> str:
    """'RCPT 450' / 'CONNECT refused' / 'GREETING timeout': a step's end in two words."""
    if step is None:
        return stage.upper()
    if step.reply is not None and step.outcome is not None:
        return f"{stage.upper()} {step.reply.code} {step.outcome}"  # 220, then dane-fail
    if step.reply is not None:
        return f"{stage.upper()} {step.reply.code}"
    if step.outcome is not None:
        return f"{stage.upper()} {step.outcome}"
    if step.failure is not None:
        return f"{stage.upper()} {step.failure}"
    return f"{stage.upper()} ok"


@dataclass
class WalkState:
    """The walk as the screen shows it."""

    domain: str = ""
    profile: str = ""
    seed: int | None = None
    attempt: int = -1
    clock_s: float = 0.0
    order: tuple[TryTarget, ...] = ()
    current: int | None = None
    steps: int = 0
    marks: dict[str, Mark] = field(default_factory=dict)
    recipients: dict[str, RecipientResult] = field(default_factory=dict)
    result: WalkResult | None = None
    hop: HopStarted | None = None
    """The relay's delivery (the second hop) last seen, if any."""
    hop_current: int | None = None
    hop_recipients: dict[str, RecipientResult] = field(default_factory=dict)
    hop_result: WalkResult | None = None
    hop_marks: dict[str, Mark] = field(default_factory=dict)
    """The relay's marks, apart from the sender's: the same address may be both."""
    contexts: dict[int, tuple[TryTarget | None, DecisionContext | None]] = field(
        default_factory=dict
    )
    """Per step (by `id`): where it happened and the walk's decision context, for re-explaining
    a step the user picks in the transcript."""
    _last_words: str = ""
    _last_step: int = 0

    @property
    def ended(self) -> bool:
        return self.result is not None and self.result.attempt == self.attempt

    def _marks(self, hop: int) -> dict[str, Mark]:
        return self.hop_marks if hop > 1 else self.marks

    def tree_marks(self) -> dict[str, Mark]:
        """One mark per address for the tree: the relay's where it has one (it came later)."""
        return {**self.marks, **self.hop_marks}

    def hop_words(self) -> str:
        """'hop 2: backup.example.net forwards as postfix · attempt 2 at +5m: deferred'."""
        hop = self.hop
        if hop is None:
            return ""
        display = PROFILES[hop.profile].display if hop.profile in PROFILES else hop.profile
        words = (
            f"hop {hop.hop}: {hop.from_host} [{hop.from_address}] forwards as {display} · "
            f"attempt {hop.attempt + 1} at {clock_offset(hop.clock_s)}"
        )
        if self.hop_result is not None:
            words += f": {self.hop_result.outcome.upper()}"
            if self.hop_result.next_retry_s is not None:
                words += f" · its next retry at {clock_offset(self.hop_result.next_retry_s)} (f)"
        return printable(words)

    def apply(self, event: object) -> None:
        """Fold one event in; events of kinds this state does not know are ignored."""
        if isinstance(event, WalkStarted):
            self.domain, self.profile, self.seed = event.domain, event.profile, event.seed
            self.attempt, self.clock_s, self.order = event.attempt, event.clock_s, event.order
            self.current = None
            self.marks = {}
            self.result = None
            self.hop, self.hop_current, self.hop_result = None, None, None
            self.hop_recipients, self.hop_marks = {}, {}
        elif isinstance(event, HopStarted):
            self.hop_marks = {}  # the relay's new attempt: its earlier marks are stale
            self.hop, self.hop_result, self.hop_current = event, None, None
            self.clock_s = event.clock_s
        elif isinstance(event, HopEnded):
            self.hop_result = event.result
            self.hop_current = None
        elif isinstance(event, AttemptStarted):
            if event.hop > 1:
                self.hop_current = event.index
            else:
                self.current = event.index
            self._marks(event.hop)[event.target.address] = Mark(
                "trying", self.steps + 1, "connecting", event.hop
            )
        elif isinstance(event, StepDone):
            self.steps += 1
            if event.step is not None:
                self.contexts[id(event.step)] = (event.target, event.context)
            words = printable(step_words(event.step, str(event.stage)))
            if event.stage is not Stage.QUIT:  # QUIT changes nothing: the mark keeps the last
                self._last_words, self._last_step = words, self.steps  # step that mattered
            note = words
            if event.decision is not None:
                note += f" → {event.decision.action}"
            marks = self._marks(event.hop)
            if event.target is not None and event.target.address in marks:
                marks[event.target.address] = Mark("trying", self.steps, note, event.hop)
        elif isinstance(event, AttemptEnded):
            record = event.record
            kind = _ACTION_MARK.get(record.action, "done")
            if kind == "done" and any(
                r.state is RecipientStatus.DELIVERED for r in self.recipients.values()
            ):
                kind = "accepted"
            self._marks(event.hop)[record.target.address] = Mark(
                kind, self._last_step, f"{self._last_words} → {record.action}", event.hop
            )
            if event.hop > 1:
                self.hop_current = None
            else:
                self.current = None
        elif isinstance(event, RecipientState):
            if event.hop > 1:  # the relay's queue, not the sender's
                self.hop_recipients[event.recipient] = event.result
            else:
                self.recipients[event.recipient] = event.result
        elif isinstance(event, WalkEnded):
            self.result = event.result
            self.clock_s = event.result.clock_s
            self.current = None

    def outcome_words(self) -> str:
        """One line: how the attempt ended and what comes next."""
        result = self.result
        if result is None:
            return ""
        words = f"{result.outcome.upper()}"
        if result.outcome == "held":
            words += " before the dot (nothing delivered)"
        if result.next_retry_s is not None:
            words += f" · next retry at {clock_offset(result.next_retry_s)} (f)"
        elif result.retry is not None:
            words += " · past the queue lifetime"
        elif result.next_retry_any_s is not None:
            words += f" · the relay retries at {clock_offset(result.next_retry_any_s)} (f)"
        if result.ndrs:
            words += " · NDR ready (b)"
        return words
