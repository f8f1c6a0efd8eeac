"""The explanation side panel: what the sending MTA does next with the reply on screen, and why.

The panel renders what the decision engine (`mxtui.policy`) decides; it never decides anything
itself. It keeps the last thing it was asked to explain (a step, or a stage and an outcome), so
that switching the MTA profile re-asks the engine and redraws. Server text (reply lines, error
words) is shown as literal `Content`, never parsed as markup.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Static

from mxtui.model import (
    Action,
    Decision,
    DecisionContext,
    Evidence,
    Outcome,
    Reply,
    RetryTimeline,
    Stage,
    StepResult,
)
from mxtui.policy import (
    PROFILES,
    NoNoticeError,
    compare,
    decide,
    get_profile,
    ndr_preview,
    ndr_text,
    retry_timeline,
    timeline_strip,
)
from mxtui.text import printable

# The CSS class (and so the colour) of each action: go on, move on, wait, give up. The
# $text-* variants of $success/$warning/$error keep their contrast on light themes too.
_ACTION_CLASS: dict[Action, str] = {
    Action.CONTINUE: "-continue",
    Action.NEXT_ADDRESS: "-move",
    Action.NEXT_MX: "-move",
    Action.RETRY_HELO: "-move",
    Action.REQUEUE: "-requeue",
    Action.NDR: "-ndr",
}
_ACTION_STYLE: dict[Action, str] = {
    Action.CONTINUE: "$text-success",
    Action.NEXT_ADDRESS: "$text-warning",
    Action.NEXT_MX: "$text-warning",
    Action.RETRY_HELO: "$text-warning",
    Action.REQUEUE: "$text-warning",
    Action.NDR: "$text-error",
}
_EVIDENCE_STYLE: dict[Evidence, str] = {
    Evidence.TESTED: "italic $text-success",
    Evidence.VERIFIED: "italic dim",
    Evidence.RECALLED: "italic $warning",
    Evidence.INFERRED: "italic $warning",
    Evidence.UNKNOWN: "italic $warning",
}
_REPLY_LINES_SHOWN = 8

# Step failures that stand for an outcome the engine knows, and the words for each.
_FAILURE_OUTCOME: dict[str, tuple[Outcome, str]] = {
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
_NOTHING_SENT: dict[str, tuple[str, str]] = {
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
}


def short_duration(seconds: int) -> str:
    """A time span in its two largest units ("5m", "1h20m", "4d3h"), for legends."""
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts[:2])


def timeline_legend(timeline: RetryTimeline, shown: int = 5) -> str:
    """One line under the chart: "retries at 5m–10m 15m–20m … · delay notice 4h · give up 5d"
    (a window where the real program's retry can land, as Postfix's queue scans make it)."""
    windows = [timeline.window(i) for i in range(1, len(timeline.attempts_s))]
    retries = [short_duration(lo) if lo == hi else f"{short_duration(lo)}–{short_duration(hi)}"
               for lo, hi in windows]  # fmt: skip
    more = " …" if len(retries) > shown else ""
    retries_text = f"retries at {' '.join(retries[:shown])}{more}" if retries else "no retries"
    notice = (
        f"delay notice {short_duration(timeline.delay_dsn_s)}"
        if timeline.delay_dsn_s is not None
        else "no delay notice"
    )
    return f"{retries_text} · {notice} · give up {short_duration(timeline.give_up_s)}"


@dataclass(frozen=True)
class NoticeFacts:
    """Who the bounce preview is addressed to and about (the envelope the lead knows)."""

    recipient: str = "recipient@example.com"
    sender: str = "sender@example.org"
    reporting_mta: str = "mx.sender.example"
    remote_mta: str | None = "mx1.example.com"


@dataclass(frozen=True)
class _Shown:
    """What the panel explains now, kept so a profile switch can explain it again."""

    stage: Stage
    outcome: Reply | Outcome | None
    context: DecisionContext | None
    reply: Reply | None
    failure_note: str = ""
    nothing_headline: str = ""
    error: str = ""


class ExplainPanel(VerticalScroll):
    """The side panel: action in large words, why, code meanings, reference, other profiles,
    and the retry timeline; `open_ndr()` shows the notice the sender would get."""

    DEFAULT_CSS = """
    ExplainPanel { height: 1fr; padding: 0 1; }
    ExplainPanel > Static { height: auto; width: 1fr; }
    ExplainPanel #explain-headline {
        text-style: bold; text-align: center; padding: 1 1; margin-top: 1;
        color: $text-muted; background: $panel;
    }
    ExplainPanel #explain-headline.-continue { color: $text-success; background: $success-muted; }
    ExplainPanel #explain-headline.-move { color: $text-warning; background: $warning-muted; }
    ExplainPanel #explain-headline.-requeue { color: $text-warning; background: $warning-muted; }
    ExplainPanel #explain-headline.-ndr { color: $text-error; background: $error-muted; }
    ExplainPanel #explain-subtitle { color: $text-muted; margin-bottom: 1; }
    ExplainPanel #explain-why, ExplainPanel #explain-codes, ExplainPanel #explain-reference,
    ExplainPanel #explain-reply, ExplainPanel #explain-others { margin-bottom: 1; }
    ExplainPanel #explain-timeline.-quiet { color: $text-muted; }
    ExplainPanel.-empty #explain-others, ExplainPanel.-empty #explain-timeline,
    ExplainPanel.-empty #explain-codes, ExplainPanel.-empty #explain-reference { display: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "cycle_profile", "Next profile", id="explain-cycle-profile"),
        Binding("b", "open_ndr", "Bounce preview", id="explain-open-ndr"),
    ]

    profile: reactive[str] = reactive("postfix", init=False)

    class ProfileChanged(Message):
        """The panel now explains as another MTA profile would act."""

        def __init__(self, panel: ExplainPanel, name: str) -> None:
            super().__init__()
            self.panel = panel
            self.name = name

        @property
        def control(self) -> ExplainPanel:
            return self.panel

    def __init__(
        self,
        *,
        profile: str = "postfix",
        clock: Callable[[], datetime] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        get_profile(profile)  # fail early on a name the engine does not know
        self.set_reactive(ExplainPanel.profile, profile)
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.params: dict[str, dict[str, object]] = {}
        self.notice = NoticeFacts()
        self._shown: _Shown | None = None
        self.decision: Decision | None = None
        """The decision on screen (None when nothing is shown or nothing was decided)."""
        self.others: dict[str, Decision] = {}
        self.timeline: RetryTimeline | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="explain-headline")
        yield Static(id="explain-subtitle")
        yield Static(id="explain-why")
        yield Static(id="explain-reply")
        yield Static(id="explain-codes")
        yield Static(id="explain-reference")
        yield Static(id="explain-others")
        yield Static(id="explain-timeline")

    def on_mount(self) -> None:
        # The children take their first content only once they are mounted themselves.
        self.call_after_refresh(self._render_shown)

    # ---------------------------------------------------------------- what to explain

    def show_step(
        self,
        step: StepResult,
        context: DecisionContext | None = None,
        *,
        notice: NoticeFacts | None = None,
    ) -> None:
        """Explain one finished step of the session (its reply, outcome or failure)."""
        if notice is not None:
            self.notice = notice
        error = printable(step.error)
        if step.failure in _NOTHING_SENT:
            headline, words = _NOTHING_SENT[step.failure]
            shown = _Shown(step.stage, None, context, None, words, headline, error)
        elif step.failure in _FAILURE_OUTCOME:
            outcome, words = _FAILURE_OUTCOME[step.failure]
            if step.failure == "tls-unverified":
                context = dataclasses.replace(context or DecisionContext(), tls_required=True)
            shown = _Shown(step.stage, outcome, context, step.reply, words, error=error)
        elif step.reply is not None:
            shown = _Shown(step.stage, step.reply, context, step.reply, error=error)
        elif step.outcome is not None:
            shown = _Shown(step.stage, step.outcome, context, None, error=error)
        elif step.stage is Stage.CONNECT:
            shown = _Shown(
                step.stage,
                None,
                context,
                None,
                "The TCP connection is open. The server's greeting is the first reply to judge.",
                "CONNECTED",
                error,
            )
        else:
            shown = _Shown(
                step.stage,
                None,
                context,
                None,
                "The step ended without a reply or an outcome: nothing to decide.",
                "NO REPLY",
                error,
            )
        self._shown = shown
        self._render_shown()

    def show_outcome(
        self,
        stage: Stage | str,
        outcome: Reply | Outcome,
        context: DecisionContext | None = None,
        *,
        notice: NoticeFacts | None = None,
    ) -> None:
        """Explain a reply or outcome directly (DNS outcomes, or a reply picked elsewhere)."""
        if notice is not None:
            self.notice = notice
        reply = outcome if isinstance(outcome, Reply) else None
        self._shown = _Shown(Stage(stage), outcome, context, reply)
        self._render_shown()

    def clear(self) -> None:
        """Show nothing (a new session, or a transcript line with nothing to explain)."""
        self._shown = None
        self._render_shown()

    # ---------------------------------------------------------------- profile

    def set_profile(self, name: str) -> None:
        """Explain as `name` would act; raises ProfileError (a ValueError) for an unknown name."""
        self.profile = get_profile(name).name

    def cycle_profile(self) -> None:
        """Move to the next profile in PROFILES order (wrapping round)."""
        names = list(PROFILES)
        index = names.index(self.profile) if self.profile in names else -1
        self.profile = names[(index + 1) % len(names)]

    def set_params(self, params: Mapping[str, Mapping[str, object]]) -> None:
        """Profile parameter overrides, per profile name (soft_bounce, limits…); re-explains."""
        self.params = {name: dict(values) for name, values in params.items()}
        self._render_shown()

    def validate_profile(self, name: str) -> str:
        return get_profile(name).name

    def watch_profile(self, old: str, new: str) -> None:
        if old == new:
            return
        self._render_shown()
        self.post_message(self.ProfileChanged(self, new))

    def action_cycle_profile(self) -> None:
        self.cycle_profile()

    def action_open_ndr(self) -> None:
        self.open_ndr()

    # ---------------------------------------------------------------- bounce preview

    def open_ndr(self) -> None:
        """Open the notice the sender would get after the decision on screen."""
        self.app.push_screen(NDRScreen(*self.notice_preview()))

    def notice_preview(self) -> tuple[str, str]:
        """(title, body) for the NDR screen: the notice text, or why there is none."""
        decision = self.decision
        display = PROFILES[self.profile].display
        if decision is None:
            return "Nothing to bounce", "Nothing has been decided, so no notice would be sent."
        if decision.action is Action.CONTINUE:
            return (
                "Nothing to bounce",
                f"{display} carries on after this reply ({decision.headline.lower()}): it sends "
                "the sender no notice. A bounce is previewed only after a reply that ends in a "
                "bounce, a deferral or a move to another host.",
            )
        params = self.params.get(decision.profile)
        facts = self.notice
        reply = self._shown.reply if self._shown else None
        common = {
            "recipient": facts.recipient,
            "sender": facts.sender,
            "reporting_mta": facts.reporting_mta,
            "remote_mta": facts.remote_mta,
            "reply": reply,
            "arrival": self.clock(),
            "params": params,
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

    # ---------------------------------------------------------------- drawing

    def on_resize(self) -> None:
        if self.is_mounted:
            self._render_timeline()

    def _render_shown(self) -> None:
        if not self.is_mounted:
            return
        shown = self._shown
        self.decision = None
        self.others = {}
        self.timeline = None
        headline = self.query_one("#explain-headline", Static)
        headline.set_classes("")
        display = PROFILES[self.profile].display
        if shown is None:
            self.add_class("-empty")
            headline.update(Content("NOTHING TO EXPLAIN"))
            self._update("#explain-subtitle", Content(display))
            self._update(
                "#explain-why",
                Content(
                    "Take a step or select a reply in the transcript to see what a sender does."
                ),
            )
            self._update("#explain-reply", Content(""))
            return
        subtitle = f"{display} · {shown.stage.value.upper()}"
        if shown.outcome is None:
            self.add_class("-empty")
            headline.update(Content(shown.nothing_headline))
            self._update("#explain-subtitle", Content(subtitle))
            self._update("#explain-why", self._failure_words(shown))
            self._update("#explain-reply", self._reply_lines(shown.reply))
            return
        self.remove_class("-empty")
        decision = decide(
            shown.stage, shown.outcome, self.profile, shown.context, self.params.get(self.profile)
        )
        self.decision = decision
        self.others = compare(shown.stage, shown.outcome, shown.context, self.params)
        self.timeline = retry_timeline(self.profile, self.params.get(self.profile))
        headline.update(Content(decision.headline))
        headline.set_class(True, _ACTION_CLASS[decision.action])
        scope = " · this recipient only" if decision.scope.value == "recipient" else ""
        outcome = printable(decision.outcome)
        self._update("#explain-subtitle", Content(f"{subtitle} · {outcome}{scope}"))
        why = Content(decision.why)
        if shown.failure_note:
            why = self._failure_words(shown) + Content("\n") + why
        self._update("#explain-why", why)
        self._update("#explain-reply", self._reply_lines(shown.reply))
        self._update("#explain-codes", self._codes(decision))
        self._update("#explain-reference", self._reference(decision))
        self._update("#explain-others", self._others_table(self.others, decision.profile))
        self._render_timeline()

    def _update(self, selector: str, content: Content) -> None:
        self.query_one(selector, Static).update(content)

    @staticmethod
    def _failure_words(shown: _Shown) -> Content:
        words = Content(shown.failure_note)
        if shown.error:
            words = Content.assemble(words, "\n", ("Session: ", "bold"), Content(shown.error))
        return words

    @staticmethod
    def _reply_lines(reply: Reply | None) -> Content:
        if reply is None:
            return Content("")
        lines = reply.lines or (f"{reply.code} {reply.text}".strip(),)
        parts: list[Content] = [Content.styled("Server said:", "bold")]
        parts += [Content("  " + printable(line)) for line in lines[:_REPLY_LINES_SHOWN]]
        if len(lines) > _REPLY_LINES_SHOWN:
            parts.append(Content.styled(f"  … {len(lines) - _REPLY_LINES_SHOWN} more lines", "dim"))
        return Content("\n").join(parts)

    @staticmethod
    def _codes(decision: Decision) -> Content:
        parts: list[Content] = []
        if decision.code is not None:
            c = decision.code
            usual = f" Usually “{c.usual_text}”." if c.usual_text else ""
            parts.append(
                Content.assemble(
                    (f"{c.code} ", "bold"),
                    f"{c.klass}yz: {c.class_meaning}; x{c.subject}z: {c.subject_meaning}.{usual} ",
                    (f"({c.reference})", "dim"),
                )
            )
        elif decision.outcome in (Outcome.DROPPED, Outcome.TIMEOUT) and decision.stage not in (
            Stage.CONNECT,
            Stage.DNS,
        ):
            parts.append(
                Content.assemble(
                    ("No reply code: ", "bold"),
                    "a lost or silent connection counts as 451, a temporary failure ",
                    ("(RFC 5321 §3.8)", "dim"),
                )
            )
        else:
            parts.append(
                Content.assemble(("No reply code: ", "bold"), f"the outcome is {decision.outcome}.")
            )
        if decision.enhanced is not None:
            e = decision.enhanced
            found = " (found in the reply text)" if e.from_text else ""
            mismatch = " Its class disagrees with the reply code." if not e.matches_reply else ""
            parts.append(
                Content.assemble(
                    (f"{e.code}", "bold"),
                    f"{found}: {e.class_meaning}; {e.subject_meaning}; {e.detail_meaning}."
                    f"{mismatch} ",
                    (f"({e.reference})", "dim"),
                )
            )
        return Content("\n").join(parts)

    @staticmethod
    def _reference(decision: Decision) -> Content:
        proof = decision.evidence_detail
        parts: list[Content | tuple[str, str] | str] = [("Reference: ", "bold"), decision.reference]
        parts.append((f"  [{proof.words()}]", _EVIDENCE_STYLE[proof.kind]))
        parts.append((f"\nrule: {decision.rule} · DSN status {decision.status}", "dim"))
        return Content.assemble(*parts)

    @staticmethod
    def _others_table(others: Mapping[str, Decision], current: str) -> Content:
        width = max(len(PROFILES[name].display) for name in others)
        lines: list[Content] = [Content.styled("Other profiles on the same reply:", "bold")]
        for name, other in others.items():
            mine = name == current
            marker = "▶ " if mine else "  "
            label = f"{marker}{PROFILES[name].display:<{width}}  "
            note = "" if other.applicable else " (never sent)"
            lines.append(
                Content.assemble(
                    (label, "bold" if mine else ""),
                    (other.headline, _ACTION_STYLE[other.action]),
                    (note, "dim"),
                )
            )
        return Content("\n").join(lines)

    def _render_timeline(self) -> None:
        timeline = self.timeline
        target = self.query_one("#explain-timeline", Static)
        if timeline is None or self.decision is None:
            target.update(Content(""))
            return
        requeue = self.decision.action is Action.REQUEUE
        target.set_class(not requeue, "-quiet")
        width = max(16, min(72, self.scrollable_content_region.width - 2))
        display = PROFILES[timeline.profile].display
        heading = (
            f"Retry timeline ({display})" if requeue else f"If {display} requeued: retry timeline"
        )
        target.update(
            Content.assemble(
                (heading, "bold"),
                "\n",
                (timeline_strip(timeline, width), "$accent" if requeue else ""),
                "\n",
                timeline_legend(timeline),
                ("\n│ attempt  ▲ delay notice  ✕ give up · log time axis", "dim"),
            )
        )


class NDRScreen(ModalScreen[None]):
    """The notice the sender would receive, read-only and scrollable; escape or q closes."""

    DEFAULT_CSS = """
    NDRScreen { align: center middle; }
    NDRScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    NDRScreen #ndr-title { text-style: bold; color: $accent; margin-bottom: 1; }
    NDRScreen #ndr-hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="ndr-close"),
        Binding("q", "close", "Close", id="ndr-close-q"),
    ]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="ndr-scroll"):
            yield Static(Content(printable(self.title_text)), id="ndr-title")
            yield Static(Content(self.body), id="ndr-body")
            yield Static(Content("Esc or q closes."), id="ndr-hint")

    def on_mount(self) -> None:
        self.query_one("#ndr-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)
