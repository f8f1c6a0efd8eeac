"""What the side panel explains, computed headless: `explain(shown, choices) -> Explanation`.

`Shown` is what the person is looking at: a step's reply (or what came instead), a DNS outcome,
where it happened in the try list, and whom it concerned (the step's own recipient and sender,
as the session recorded them). `explain` asks the decision engine under the chosen profile and
its parsed parameters, compares every other profile, and gathers the retry timeline and the
facts a bounce preview is addressed with. The panel only draws the result, so switching the
profile is `explain(shown, choices.with_profile(...))` and a redraw.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

from mxtui.desk.choices import Choices
from mxtui.desk.outcome import HEADLINE, walk_outcome
from mxtui.model.policy import Action, Decision, DecisionContext, RetryTimeline
from mxtui.model.smtp import Envelope, Outcome, Reply, Stage, StepResult
from mxtui.model.walk import StepDone, WalkResult
from mxtui.policy import PROFILES, NoNoticeError, Profile, decide, ndr_preview, ndr_text
from mxtui.policy import retry_timeline as profile_timeline
from mxtui.policy.dsn_request import dsn_request_effects
from mxtui.text import printable

# Step failures that stand for an outcome the engine knows, and the words for each.
FAILURE_OUTCOME: dict[str, tuple[Outcome, str]] = {
    "tls-failed": (
        Outcome.DROPPED,
        "The TLS handshake failed, so the connection is unusable: a sender treats it as the "
        "connection dropping at this step.",
    ),
    "tls-unverified": (
        Outcome.DROPPED,
        "The certificate did not verify and verification was required, so the session stopped: "
        "read as TLS being required and not obtained.",
    ),
    "malformed-reply": (
        Outcome.DROPPED,
        "The server sent a line that is not an SMTP reply. A sender gives up on such a "
        "connection: it counts as a dropped connection (RFC 5321 §3.8).",
    ),
    "reply-too-long": (
        Outcome.DROPPED,
        "The reply went past the session's length limit, so the session stopped listening: "
        "it counts as a dropped connection (RFC 5321 §3.8).",
    ),
}
NOTHING_SENT: dict[str, tuple[str, str]] = {
    "held": (
        "HELD: NOTHING SENT",
        "The session held the end of the message for confirmation, so the server has not been "
        "asked anything yet: there is no reply and nothing for the sender to decide.",
    ),
    "not-sent": (
        "NOT SENT",
        "The command was not sent, so the server has not answered: there is nothing for the "
        "sender to decide.",
    ),
    "skipped": (
        "SKIPPED",
        "The step was optional and the server did not offer it, so it was left out: there is "
        "nothing for the sender to decide.",
    ),
}


@dataclass(frozen=True)
class Shown:
    """What to explain (see the module docstring). `outcome` None means nothing to decide;
    then `headline` and `note` say why."""

    stage: Stage
    outcome: Reply | Outcome | None
    context: DecisionContext | None = None
    reply: Reply | None = None
    note: str = ""
    headline: str = ""
    error: str = ""
    recipient: str = ""
    sender: str = ""
    remote: str | None = None
    """The MX host that answered (None for a DNS outcome)."""
    walk: WalkResult | None = None
    """Set when what is shown is a walk's end: the panel gives its outcome, not a step's."""


TLS_POLICY_OUTCOMES = frozenset({
    Outcome.TLS_NOT_OFFERED, Outcome.DANE_FAIL, Outcome.STS_FAIL, Outcome.STS_NOT_LISTED,
    Outcome.TLSA_ERROR,
})  # fmt: skip
"""The sender's TLS policy refusing a host (DANE, MTA-STS): decided as such, whatever the
server replied."""


def shown_step(
    step: StepResult, context: DecisionContext | None = None, *, remote: str | None = None
) -> Shown:
    """A finished step: its reply, the outcome that came instead, or why there is none."""
    error = printable(step.error)
    who = {"recipient": step.recipient, "sender": step.sender, "remote": remote, "error": error}
    if step.failure in NOTHING_SENT:
        headline, words = NOTHING_SENT[step.failure]
        return Shown(step.stage, None, context, None, words, headline, **who)
    if step.failure in FAILURE_OUTCOME:
        outcome, words = FAILURE_OUTCOME[step.failure]
        if step.failure == "tls-unverified":
            context = dataclasses.replace(context or DecisionContext(), tls_required=True)
        return Shown(step.stage, outcome, context, step.reply, words, **who)
    if step.outcome in TLS_POLICY_OUTCOMES:
        # The reply was fine (220); the sender's TLS policy was not: that is what is decided.
        context = dataclasses.replace(context or DecisionContext(), tls_required=True)
        return Shown(step.stage, step.outcome, context, step.reply, error, **who)
    if step.reply is not None:
        return Shown(step.stage, step.reply, context, step.reply, **who)
    if step.outcome is not None:
        return Shown(step.stage, step.outcome, context, None, **who)
    if step.stage is Stage.CONNECT:
        words = "The TCP connection is open. The server's greeting is the first reply to judge."
        return Shown(step.stage, None, context, None, words, "CONNECTED", **who)
    words = "The step ended without a reply or an outcome: nothing to decide."
    return Shown(step.stage, None, context, None, words, "NO REPLY", **who)


def shown_outcome(
    stage: Stage,
    outcome: Reply | Outcome,
    context: DecisionContext | None = None,
    *,
    recipient: str = "",
    sender: str = "",
    remote: str | None = None,
) -> Shown:
    """A reply or an outcome by itself (a DNS outcome concerns every recipient: name one)."""
    reply = outcome if isinstance(outcome, Reply) else None
    return Shown(stage, outcome, context, reply, recipient=recipient, sender=sender, remote=remote)


def shown_walk_step(event: StepDone, envelope: Envelope) -> Shown:
    """A walk step to explain as the walk decided it: the step (its own recipient), or the DNS
    outcome of a plan with nothing to dial (it concerns every recipient: the first is named)."""
    remote = event.target.host if event.target else None
    if event.step is not None:
        return shown_step(event.step, event.context, remote=remote)
    outcome = Outcome(event.decision.outcome) if event.decision else Outcome.NXDOMAIN
    return shown_outcome(
        Stage.DNS, outcome, event.context,
        recipient=(envelope.recipients or ("",))[0], sender=envelope.mail_from,
    )  # fmt: skip


def shown_walk_end(result: WalkResult, decisive: Shown | None = None) -> Shown:
    """A walk that ended: its outcome is what to explain (the last step may be a QUIT or the
    relay's own delivery, which is not the answer a person waits for), with `decisive`, the
    sender's last step that decided, as the reason."""
    headline = HEADLINE[result.outcome]
    if decisive is not None:
        return dataclasses.replace(decisive, headline=headline, walk=result)
    stage = result.attempts[-1].stage if result.attempts else Stage.DNS
    return Shown(stage, None, headline=headline, walk=result)


@dataclass(frozen=True)
class NoticeFacts:
    """Whom a bounce preview is addressed to and about: the step's own recipient and sender,
    the sender's EHLO name as the reporting MTA, the host that answered."""

    recipient: str
    sender: str
    reporting_mta: str
    remote_mta: str | None


@dataclass(frozen=True)
class Explanation:
    """Everything the side panel shows for one `Shown` under one profile."""

    shown: Shown | None
    profile: Profile
    decision: Decision | None = None
    others: dict[str, Decision] = field(default_factory=dict)
    timeline: RetryTimeline | None = None
    """The retry timeline, only where the message is queued (a requeue, a deferred walk)."""
    notice: NoticeFacts | None = None
    outcome: tuple[str, ...] = ()
    """A walk's end in plain sentences (`mxtui.desk.outcome`)."""
    dsn: tuple[str, ...] = ()
    """What the envelope's DSN request changes (empty when the envelope has none)."""


def explain(shown: Shown | None, choices: Choices) -> Explanation:
    """The decision of the chosen profile on `shown`, every other profile's, the retry timeline
    and the notice facts (no decision when there is nothing to decide)."""
    profile = choices.profile
    if shown is None:
        return Explanation(None, profile)
    notice = NoticeFacts(
        recipient=shown.recipient or "(no recipient)",
        sender=shown.sender or "<>",
        reporting_mta=choices.envelope.ehlo_name or "mx.sender.example",
        remote_mta=shown.remote,
    )
    request = choices.envelope.dsn
    dsn = dsn_request_effects(request, offered=True) if request is not None else ()
    decision = None
    if shown.outcome is not None:
        decision = decide(shown.stage, shown.outcome, profile, shown.context, choices.values)
    if shown.walk is not None:
        walk = shown.walk
        return Explanation(shown, profile, decision, timeline=walk.retry, notice=notice,
                           outcome=walk_outcome(walk), dsn=dsn)  # fmt: skip
    if decision is None or shown.outcome is None:
        return Explanation(shown, profile, notice=notice, dsn=dsn)
    others = {
        name: decide(shown.stage, shown.outcome, other, shown.context, choices.params_of(other))
        for name, other in PROFILES.items()
    }
    queued = decision.action is Action.REQUEUE
    timeline = profile_timeline(profile, choices.values) if queued else None
    return Explanation(shown, profile, decision, others, timeline, notice, dsn=dsn)


def notice_preview(explanation: Explanation, choices: Choices, now: datetime) -> tuple[str, str]:
    """(title, body) of the notice the sender would get after the decision shown: the bounce,
    the delay notice while the profile retries, or why there is none."""
    decision = explanation.decision
    display = explanation.profile.display
    if decision is None or explanation.notice is None or explanation.shown is None:
        return "Nothing to bounce", "Nothing has been decided, so no notice would be sent."
    if decision.action is Action.CONTINUE:
        return (
            "Nothing to bounce",
            f"{display} carries on after this reply ({decision.headline.lower()}): it sends "
            "the sender no notice. A bounce is previewed only after a reply that ends in a "
            "bounce, a deferral or a move to another host.",
        )
    facts = explanation.notice
    common = {
        "recipient": facts.recipient,
        "sender": facts.sender,
        "reporting_mta": facts.reporting_mta,
        "remote_mta": facts.remote_mta,
        "reply": explanation.shown.reply,
        "arrival": now,
        "params": choices.params_of(decision.profile),
    }
    if decision.action is Action.NDR:
        message = ndr_preview(decision, kind="failed", **common)
        title = f"Bounce (NDR) {display} sends now"
    else:
        try:
            message = ndr_preview(decision, kind="delayed", **common)
            title = f"Delay notice {display} sends while it keeps retrying"
        except NoNoticeError:
            message = ndr_preview(decision, kind="failed", **common)
            title = f"Bounce {display} sends when it gives up (it sends no delay notice)"
    return title, ndr_text(message)
