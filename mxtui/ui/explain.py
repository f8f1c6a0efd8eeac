"""The explanation side panel: what the sending MTA does next with the reply on screen, and why.

The panel draws an `Explanation` computed headless by `mxtui.desk.explain.explain`; it decides
nothing and owns no choice (the profile lives in the app's `Choices`). Server text (reply lines,
error words) is shown as literal `Content`, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Collapsible, Static

from mxtui.desk.explain import Explanation, Shown
from mxtui.model import Action, Decision, Evidence, Outcome, Reply, RetryTimeline, Stage
from mxtui.model.walk import WalkResult
from mxtui.policy import PROFILES, timeline_strip
from mxtui.text import clock_offset, printable, span
from mxtui.ui.steady import SteadyStatic

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
_OUTCOME_CLASS: dict[str, str] = {
    "delivered": "-continue",
    "partial": "-requeue",
    "deferred": "-requeue",
    "held": "-requeue",
    "bounced": "-ndr",
}
_REPLY_LINES_SHOWN = 8


def timeline_legend(timeline: RetryTimeline, shown: int = 5) -> str:
    """One line under the chart: "retries at 5m–10m 15m–20m … · delay notice 4h · give up 5d"
    (a window where the real program's retry can land, as Postfix's queue scans make it)."""
    windows = [timeline.window(i) for i in range(1, len(timeline.attempts_s))]
    retries = [span(lo, units=2) if lo == hi else f"{span(lo, units=2)}–{span(hi, units=2)}"
               for lo, hi in windows]  # fmt: skip
    more = " …" if len(retries) > shown else ""
    retries_text = f"retries at {' '.join(retries[:shown])}{more}" if retries else "no retries"
    notice = (
        f"delay notice {span(timeline.delay_dsn_s, units=2)}"
        if timeline.delay_dsn_s is not None
        else "no delay notice"
    )
    return f"{retries_text} · {notice} · give up {span(timeline.give_up_s, units=2)}"


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
    ExplainPanel #explain-reply, ExplainPanel #explain-others,
    ExplainPanel #explain-dsn { margin-bottom: 1; }
    ExplainPanel #explain-dsn.-none { display: none; }
    ExplainPanel #explain-timeline.-quiet { color: $text-muted; }
    ExplainPanel #explain-details { margin-bottom: 1; padding: 0; border: none; }
    ExplainPanel #explain-details Contents { padding: 0 0 0 2; }
    ExplainPanel #explain-rule { color: $text-muted; }
    ExplainPanel.-empty #explain-others, ExplainPanel.-empty #explain-timeline,
    ExplainPanel.-empty #explain-codes, ExplainPanel.-empty #explain-reference,
    ExplainPanel.-empty #explain-details, ExplainPanel.-walk #explain-others,
    ExplainPanel.-walk #explain-codes, ExplainPanel.-bare #explain-reference,
    ExplainPanel.-bare #explain-details { display: none; }
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.explanation: Explanation | None = None

    @property
    def decision(self) -> Decision | None:
        """The decision on screen (None when nothing is shown or nothing was decided)."""
        return self.explanation.decision if self.explanation else None

    @property
    def others(self) -> dict[str, Decision]:
        return self.explanation.others if self.explanation else {}

    @property
    def timeline(self) -> RetryTimeline | None:
        return self.explanation.timeline if self.explanation else None

    def compose(self) -> ComposeResult:
        yield SteadyStatic(id="explain-headline")
        yield SteadyStatic(id="explain-subtitle")
        yield SteadyStatic(id="explain-why")
        yield SteadyStatic(id="explain-dsn")
        yield SteadyStatic(id="explain-reply")
        yield SteadyStatic(id="explain-codes")
        yield SteadyStatic(id="explain-reference")
        with Collapsible(title="Details: rule, DSN status",
                         id="explain-details"):  # fmt: skip
            yield SteadyStatic(id="explain-rule")
        yield SteadyStatic(id="explain-others")
        yield SteadyStatic(id="explain-timeline")

    def on_mount(self) -> None:
        # The children take their first content only once they are mounted themselves.
        self.call_after_refresh(self._render_shown)

    def show(self, explanation: Explanation) -> None:
        """Draw `explanation` (what `mxtui.desk.explain.explain` computed)."""
        self.explanation = explanation
        self._render_shown()

    def on_resize(self) -> None:
        if self.is_mounted:
            self._render_timeline()

    def _render_shown(self) -> None:
        explanation = self.explanation
        if not self.is_mounted or explanation is None:
            return
        shown = explanation.shown
        headline = self.query_one("#explain-headline", Static)
        headline.set_classes("")
        display = explanation.profile.display
        decision = explanation.decision
        self.remove_class("-walk", "-bare")
        self._render_dsn(explanation.dsn)
        if shown is not None and shown.walk is not None:
            self._render_walk(explanation, shown.walk)
            return
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
        if decision is None:
            self.add_class("-empty")
            headline.update(Content(shown.headline))
            self._update("#explain-subtitle", Content(subtitle))
            self._update("#explain-why", self._failure_words(shown))
            self._update("#explain-reply", self._reply_lines(shown.reply))
            return
        self.remove_class("-empty")
        headline.update(Content(decision.headline))
        headline.set_class(True, _ACTION_CLASS[decision.action])
        scope = " · this recipient only" if decision.scope.value == "recipient" else ""
        outcome = printable(decision.outcome)
        self._update("#explain-subtitle", Content(f"{subtitle} · {outcome}{scope}"))
        why = Content(decision.why)
        if shown.note:
            why = self._failure_words(shown) + Content("\n") + why
        self._update("#explain-why", why)
        self._update("#explain-reply", self._reply_lines(shown.reply))
        self._update("#explain-codes", self._codes(decision))
        self._update("#explain-reference", self._reference(decision))
        self._update("#explain-rule", self._details(decision))
        self._update("#explain-others", self._others_table(explanation.others, decision.profile))
        self._render_timeline()

    def _render_walk(self, explanation: Explanation, walk: WalkResult) -> None:
        """A walk's end: its outcome as the headline, in sentences, and the retry timeline
        when something is still queued."""
        self.remove_class("-empty")
        self.add_class("-walk")
        headline = self.query_one("#explain-headline", Static)
        assert explanation.shown is not None
        headline.update(Content(explanation.shown.headline))
        headline.set_class(True, _OUTCOME_CLASS.get(walk.outcome, "-requeue"))
        display = explanation.profile.display
        self._update(
            "#explain-subtitle",
            Content(
                f"{display} · how the walk ended · attempt {walk.attempt + 1} at "
                f"{clock_offset(walk.clock_s)}"
            ),
        )
        why = Content("\n".join(explanation.outcome))
        decision = explanation.decision
        self.set_class(decision is None, "-bare")
        if decision is not None:  # the sender's step that decided it, and why
            why = Content.assemble(
                why,
                "\n\n",
                (f"What decided it: {printable(decision.outcome)} at "
                 f"{decision.stage.value.upper()}. ", "bold"),
                Content(decision.why),
            )  # fmt: skip
            self._update("#explain-reference", self._reference(decision))
            self._update("#explain-rule", self._details(decision))
        self._update("#explain-why", why)
        self._update("#explain-reply", Content(""))
        self._render_timeline()

    def _render_dsn(self, effects: tuple[str, ...]) -> None:
        target = self.query_one("#explain-dsn", Static)
        target.set_class(not effects, "-none")
        if effects:
            target.update(
                Content.assemble(("The sender's DSN request: ", "bold"), Content(" ".join(effects)))
            )

    def _update(self, selector: str, content: Content) -> None:
        self.query_one(selector, Static).update(content)

    @staticmethod
    def _failure_words(shown: Shown) -> Content:
        words = Content(shown.note)
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
    def _details(decision: Decision) -> Content:
        """The Details fold: the table's rule and codes, and for a tested rule the conformance
        cases that showed it (ids: `mxtui conformance --case ID` reruns one)."""
        lines = [f"rule: {decision.rule}", f"DSN status: {decision.status}"]
        proof = decision.evidence_detail
        if proof.kind is Evidence.TESTED and proof.cases:
            lines.append(f"cases: {proof.cases_text()}")
        return Content("\n".join(lines))

    @staticmethod
    def _reference(decision: Decision) -> Content:
        proof = decision.evidence_detail
        parts: list[Content | tuple[str, str] | str] = [("Reference: ", "bold"), decision.reference]
        parts.append((f"  [{proof.tested_words()}]", _EVIDENCE_STYLE[proof.kind]))
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
        walked = (
            self.explanation is not None
            and self.explanation.shown is not None
            and (self.explanation.shown.walk is not None)
        )
        if timeline is None or (self.decision is None and not walked):
            target.update(Content(""))
            return
        requeue = walked or (self.decision is not None and self.decision.action is Action.REQUEUE)
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
        width: 90%; max-width: 100; height: auto; max-height: 90%;
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
            yield Static(
                Content.assemble(
                    Content(printable(self.title_text)), ("  (Esc or q closes)", "$text-muted")
                ),
                id="ndr-title",
            )
            yield Static(Content(self.body), id="ndr-body")
            yield Static(Content("Esc or q closes."), id="ndr-hint")

    def on_mount(self) -> None:
        self.query_one("#ndr-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)
