"""What a sending MTA decides: the action after a reply, the code meanings, the retry timeline."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mxtui.model._json import JsonForm, Key
from mxtui.model.smtp import Stage


class Action(StrEnum):
    """What a sending MTA does next (the `action` key of `mxtui explain --json`)."""

    CONTINUE = "continue"
    NEXT_ADDRESS = "next-address"
    NEXT_MX = "next-mx"
    REQUEUE = "requeue"
    NDR = "ndr"
    RETRY_HELO = "retry-helo"


class Scope(StrEnum):
    """Whether an action concerns the whole message or only the recipient just answered."""

    MESSAGE = "message"
    RECIPIENT = "recipient"


class Evidence(StrEnum):
    """How sure we are of a rule: tested against the real program, read in a source, recalled,
    inferred, or unknown. `T` beats `V`: the real program beats the text (DESIGN.md)."""

    TESTED = "T"
    VERIFIED = "V"
    RECALLED = "M"
    INFERRED = "I"
    UNKNOWN = "?"


@dataclass(frozen=True)
class Proof(JsonForm):
    """How one rule is known: its kind, where it was read (file:line or document section), and,
    for `T`, the real program and version it was tested against plus the cases that showed it.

    A conformance run fills `tested_with` and `cases` (see `mxtui.policy.cells.Cell.confirmed`
    and `mxtui.policy.tested`, which reads what `mxtui conformance` proved).
    """

    kind: Evidence
    source: str
    tested_with: str = ""
    cases: tuple[str, ...] = ()

    JSON = ("kind", "source", Key("tested_with", or_none=True), "cases")

    def words(self) -> str:
        """How it is known, in plain words, without the source: "tested against Postfix
        3.7.11", "read in the source", "recalled, not checked"…"""
        if self.kind is Evidence.TESTED and self.tested_with:
            return f"tested against {self.tested_with}"
        return {
            Evidence.TESTED: "tested",
            Evidence.VERIFIED: "read in the source",
            Evidence.RECALLED: "recalled, not checked",
            Evidence.INFERRED: "inferred, not documented",
            Evidence.UNKNOWN: "no source: the likeliest reading",
        }[self.kind]

    def cases_text(self, shown: int = 3) -> str:
        """The cases that showed it, by id (for the Details fold and the text output):
        "rcpt-450-only, rcpt-450-then-backup", "a, b, c and 12 more" ("" when none)."""
        if not self.cases:
            return ""
        named = ", ".join(self.cases[:shown])
        more = len(self.cases) - shown
        return named + (f" and {more} more" if more > 0 else "")

    def tested_words(self) -> str:
        """`words()`, and for a tested rule how many cases showed it, in plain words: "tested
        against Postfix 3.7.11 in 4 cases"."""
        if self.kind is not Evidence.TESTED or not self.cases:
            return self.words()
        n = len(self.cases)
        return f"{self.words()} in {n} case{'' if n == 1 else 's'}"

    def plain(self) -> str:
        """The whole proof in one line: "tested against Postfix 3.7.11 in 4 cases; read in
        smtp_proto.c:1234", "read in smtp_proto.c:1234", "recalled, not checked (source)"."""
        if self.kind is Evidence.VERIFIED:
            return f"read in {self.source}" if self.source else self.words()
        if self.kind is Evidence.TESTED:
            words = self.tested_words()
            return f"{words}; read in {self.source}" if self.source else words
        return f"{self.words()} ({self.source})" if self.source else self.words()


@dataclass(frozen=True)
class CodeMeaning(JsonForm):
    """A basic reply code read digit by digit (RFC 5321 §4.2.1), plus its usual text (§4.2.3)."""

    code: int
    klass: int
    class_meaning: str
    subject: int
    subject_meaning: str
    usual_text: str = ""
    reference: str = "RFC 5321 §4.2.1"

    JSON = (
        "code", Key("class", "klass"), "class_meaning", "subject", "subject_meaning",
        "usual_text", "reference",
    )  # fmt: skip


@dataclass(frozen=True)
class EnhancedMeaning(JsonForm):
    """An RFC 3463 enhanced status code (class.subject.detail) with the meaning of each part.

    `from_text` is True when the code was found at the start of the reply text rather than
    parsed by the session; `matches_reply` is False when its class disagrees with the reply code.
    """

    code: str
    class_meaning: str
    subject_meaning: str
    detail_meaning: str
    reference: str
    from_text: bool = False
    matches_reply: bool = True


@dataclass(frozen=True)
class DecisionContext(JsonForm):
    """Where in the delivery attempt a reply came, as far as it changes the decision.

    `last_address` says no address is left in the try list at all. `addresses_tried` counts the
    addresses dialled in this attempt including the current one (Postfix smtp_mx_address_limit,
    Exim hosts_max_try); `sessions_used` the sessions that got through EHLO/TLS, including the
    current one if it did (Postfix smtp_mx_session_limit). `next_is_higher_preference` says the
    next address in the list belongs to a worse MX preference (Exim still tries it past its
    limit). `tls_required` says the sender's policy demands TLS for this destination.
    """

    last_address: bool = False
    addresses_tried: int = 1
    sessions_used: int = 0
    next_is_higher_preference: bool = False
    tls_required: bool = False


@dataclass(frozen=True)
class Decision(JsonForm):
    """What one MTA profile does with one reply or outcome at one stage, and why.

    `headline` is the action in a few capital words for the side panel ("TRY NEXT MX"); `rule`
    names the row of the decision table used (checkable against the reference); `evidence` is
    that cell's mark and `proof` the whole of it (source, tested version). `applicable` is
    False when the profile never reaches this stage (qmail sends no EHLO), in which case `why`
    says so and the action is only what would follow.
    `final` is True when the context made this the last address the profile would try.
    """

    action: Action
    scope: Scope
    stage: Stage
    profile: str
    outcome: str
    code: CodeMeaning | None
    enhanced: EnhancedMeaning | None
    why: str
    reference: str
    evidence: Evidence
    headline: str
    rule: str
    status: str
    applicable: bool = True
    final: bool = False
    delivered: bool = False
    proof: Proof | None = None
    """How the rule used is known; None means "`evidence`, read in `reference`"."""
    row: tuple[Stage, str] | None = None
    """The table row used: the stage and the outcome class ("4xx", "drop", "null-mx", …)."""
    cell: str = ""
    """The code of the cell used in that row ("NX", "r-NDR", …; see `mxtui.policy.cells`)."""

    JSON = (
        "action", "scope", "stage", "profile", "outcome", "code", "enhanced", "why", "reference",
        Key("evidence", "evidence_detail"), Key("evidence_mark", "evidence"), "headline", "rule",
        "status", "applicable", "final", "delivered",
    )  # fmt: skip

    @property
    def evidence_detail(self) -> Proof:
        return self.proof or Proof(self.evidence, self.reference)


@dataclass(frozen=True)
class RetryTimeline(JsonForm):
    """When a profile tries again after failures, warns the sender, and gives up.

    Times are seconds after the first attempt, assuming every attempt fails and the queue
    runner is ideal. `attempts_s` starts at 0 and ends with the last attempt made before or at
    give-up; `delay_dsn_s` is None when the profile sends no delay notice.
    """

    profile: str
    attempts_s: tuple[int, ...]
    delay_dsn_s: int | None
    give_up_s: int
    formula: str
    reference: str
    evidence: Evidence = Evidence.VERIFIED
    tested_with: str = ""
    """For `T` evidence: the real program and version whose retries were measured."""
    windows_s: tuple[tuple[int, int], ...] = ()
    """(earliest, latest) of each attempt: where the real program's attempt can land. Postfix
    retries at its next queue scan, whose phase is arbitrary, so each retry has a window as
    wide as queue_run_delay; for the others each window is the attempt's own time."""
    give_up_window_s: tuple[int, int] | None = None

    JSON = (
        "attempts_s", "delay_dsn_s", "give_up_s", "formula", "reference", "evidence",
        Key("tested_with", or_none=True), Key("attempt_windows_s", "attempt_windows"),
        Key("give_up_window_s", "give_up_window"),
    )  # fmt: skip

    def window(self, index: int) -> tuple[int, int]:
        """The window of attempt `index` (its own time when no window is known)."""
        if index < len(self.windows_s):
            return self.windows_s[index]
        return (self.attempts_s[index], self.attempts_s[index])

    @property
    def attempt_windows(self) -> tuple[tuple[int, int], ...]:
        return tuple(self.window(i) for i in range(len(self.attempts_s)))

    @property
    def give_up_window(self) -> tuple[int, int]:
        return self.give_up_window_s or (self.give_up_s, self.give_up_s)
