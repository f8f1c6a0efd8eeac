"""The explanation side panel draws what `explain()` computed: each part of it, the other
profiles, the timeline, the bounce preview screen, and hostile reply text kept literal."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from textual.app import App, ComposeResult
from textual.content import Content
from textual.widgets import Collapsible, Static
from ui_support import drive

from mxtui.desk.choices import Choices
from mxtui.desk.explain import Shown, explain, notice_preview, shown_outcome, shown_step
from mxtui.model import Action, Outcome, Reply, Stage, StepResult
from mxtui.policy import PROFILES, compare, retry_timeline, timeline_strip
from mxtui.ui.explain import ExplainPanel, NDRScreen, timeline_legend

FIXED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class PanelApp(App[None]):
    """The panel alone, with choices of its own (the real app holds them the same way)."""

    def __init__(self) -> None:
        super().__init__()
        self.choices = Choices.make("example.com", lab=True)

    def compose(self) -> ComposeResult:
        yield ExplainPanel()

    def show(self, shown: Shown | None, profile: str | None = None) -> ExplainPanel:
        if profile is not None:
            self.choices = self.choices.with_profile(profile)
        panel = self.query_one(ExplainPanel)
        panel.show(explain(shown, self.choices))
        return panel


def reply(code: int, text: str = "", enhanced: str | None = None) -> Reply:
    head = f"{code} {enhanced} {text}" if enhanced else f"{code} {text}"
    return Reply(code, text, enhanced, (head.strip(),))


def step(stage: Stage, rep: Reply | None = None, **kw) -> StepResult:
    return StepResult(stage, (), rep, 1.0, **kw)


def shown(panel: ExplainPanel, part: str) -> str:
    """The plain text of one part of the panel (headline, why, others…)."""
    content = panel.query_one(f"#explain-{part}", Static).content
    assert isinstance(content, Content), f"{part} must be literal Content, got {type(content)}"
    return content.plain


def is_displayed(panel: ExplainPanel, part: str) -> bool:
    return panel.query_one(f"#explain-{part}", Static).display


def defaults(app: PanelApp) -> None:
    """Back to the choices a new panel app starts with (the default profile, Postfix)."""
    app.choices = Choices.make("example.com", lab=True)


async def a_550_511_at_rcpt_shows_every_part_of_the_bounce(app: PanelApp, pilot) -> None:
    """550 5.1.1 at RCPT: the headline (styled as a bounce), the subtitle, the codes, the
    reference and the reply; another profile names itself in the subtitle."""
    panel = app.show(shown_step(step(Stage.RCPT, reply(550, "no such user", "5.1.1"))))
    await pilot.pause()
    assert shown(panel, "headline") == "BOUNCE RECIPIENT"
    assert panel.query_one("#explain-headline").has_class("-ndr")
    assert "this recipient only" in shown(panel, "subtitle")
    codes = shown(panel, "codes")
    assert "550 5yz" in codes and "5.1.1" in codes and "no such user" in codes.lower()
    assert "Reference: RFC 5321" in shown(panel, "reference")
    assert "550 5.1.1 no such user" in shown(panel, "reply")
    app.show(panel.explanation.shown if panel.explanation else None, "qmail")
    await pilot.pause()
    assert "qmail" in shown(panel, "subtitle")


async def the_reference_line_says_how_the_rule_is_known_in_plain_words(
    app: PanelApp, pilot
) -> None:
    """Tested (with the number of cases, the case ids only in the Details fold), read in the
    source, or inferred: the reference line says which, per profile."""
    panel = app.show(shown_step(step(Stage.CONNECT, outcome=Outcome.REFUSED)))
    await pilot.pause()
    reference = shown(panel, "reference")
    assert re.search(r"\[tested against Postfix 3\.7\.11 in \d+ cases\]", reference)
    assert "primary-refuses" not in reference  # case ids only in the Details fold
    assert re.search(r"\ncases: \S+, \S+, \S+ and \d+ more$", shown(panel, "rule"))
    assert "No reply code" in shown(panel, "codes")
    app.show(shown_step(step(Stage.RCPT, reply(550, "no such user", "5.1.1"))), "postfix-2.0")
    await pilot.pause()
    assert "[read in the source]" in shown(panel, "reference")
    assert "cases:" not in shown(panel, "rule")
    app.show(panel.explanation.shown if panel.explanation else None, "exchange")
    await pilot.pause()
    assert "[inferred, not documented]" in shown(panel, "reference")


async def a_held_step_says_nothing_was_sent_and_hides_the_comparison(app: PanelApp, pilot) -> None:
    """A step held before sending says NOTHING SENT and why, with no decision, comparison or
    timeline; nothing shown says NOTHING TO EXPLAIN."""
    panel = app.show(shown_step(step(Stage.DOT, failure="held", error="confirm first")))
    await pilot.pause()
    assert "NOTHING SENT" in shown(panel, "headline")
    assert "confirm first" in shown(panel, "why")
    assert panel.decision is None
    assert not is_displayed(panel, "others") and not is_displayed(panel, "timeline")
    app.show(None)
    await pilot.pause()
    assert shown(panel, "headline") == "NOTHING TO EXPLAIN"


async def others_table_lists_every_profile_and_marks_the_chosen_one(app: PanelApp, pilot) -> None:
    """The comparison lists every profile with its decision, one row marked: the chosen one."""
    rep = reply(421, "busy")
    panel = app.show(shown_outcome(Stage.GREETING, rep))
    await pilot.pause()
    assert is_displayed(panel, "others")
    table = shown(panel, "others").splitlines()[1:]
    assert len(table) == len(PROFILES)
    for line, (name, decision) in zip(table, compare(Stage.GREETING, rep).items(), strict=True):
        assert PROFILES[name].display in line and decision.headline in line
    assert [line.startswith("▶") for line in table].count(True) == 1
    assert PROFILES["postfix"].display in next(x for x in table if x.startswith("▶"))


async def timeline_shows_strip_and_legend_for_a_requeue(app: PanelApp, pilot) -> None:
    """A requeue (qmail, 421 at the greeting) shows the retry timeline: its strip and legend; a
    bounce that follows shows none."""
    panel = app.show(shown_outcome(Stage.GREETING, reply(421, "busy")), "qmail")
    await pilot.pause()
    assert panel.decision is not None and panel.decision.action is Action.REQUEUE
    lines = shown(panel, "timeline").splitlines()
    assert lines[0].startswith("Retry timeline")
    timeline = retry_timeline("qmail")
    assert lines[1] == timeline_strip(timeline, len(lines[1]))
    assert lines[2] == timeline_legend(timeline)
    assert not panel.query_one("#explain-timeline").has_class("-quiet")
    app.show(shown_outcome(Stage.RCPT, reply(550, "no such user", "5.1.1")))
    await pilot.pause()
    assert shown(panel, "timeline") == "", "a bounce is not queued: no retry timeline"


async def rule_codes_are_folded_away_from_the_text(app: PanelApp, pilot) -> None:
    """The rule's codes are in the Details fold (closed at first), not in the words above it;
    opened, the fold shows them."""
    panel = app.show(shown_outcome(Stage.RCPT, reply(550, "no such user", "5.1.1")))
    await pilot.pause()
    details = panel.query_one("#explain-details", Collapsible)
    assert details.collapsed and "rule:" in shown(panel, "rule")
    words = " ".join(shown(panel, p) for p in ("headline", "why", "codes", "reference"))
    assert "rule:" not in words and "DSN status" not in words
    details.collapsed = False
    await pilot.pause()
    assert panel.query_one("#explain-rule").region.height > 0
    details.collapsed = True  # as a new panel has it, for what follows
    await pilot.pause()
    assert panel.query_one("#explain-rule").region.height == 0


HOSTILE = "[/ [@click=app.quit]x[/] [bold]loud \\x1b]0;T"


async def hostile_reply_text_stays_literal_in_panel_and_notice(app: PanelApp, pilot) -> None:
    """Reply text full of markup is shown literally (no click action) in the panel and in the
    bounce preview screen, which Escape closes."""
    panel = app.show(shown_step(step(Stage.RCPT, reply(550, HOSTILE, "5.1.1"))))
    await pilot.pause()
    assert HOSTILE in shown(panel, "reply")
    spans = panel.query_one("#explain-reply", Static).content.spans
    assert all("click" not in str(span.style) for span in spans)
    assert panel.explanation is not None
    app.push_screen(NDRScreen(*notice_preview(panel.explanation, app.choices, FIXED)))
    await pilot.pause()
    assert isinstance(app.screen, NDRScreen)
    assert HOSTILE in app.screen.query_one("#ndr-body", Static).content.plain
    await pilot.press("escape")
    assert app.is_running and not isinstance(app.screen, NDRScreen)


async def every_stage_and_common_code_renders_under_every_profile(app: PanelApp, pilot) -> None:
    """At 80×40, every stage with each common reply code renders under one of the profiles
    (each profile in turn), its headline the decision's."""
    await pilot.resize_terminal(80, 40)
    assert app.size == (80, 40)
    for index, stage in enumerate(Stage):
        profile = list(PROFILES)[index % len(PROFILES)]
        for code in (200, 250, 354, 421, 450, 452, 550, 554):
            panel = app.show(shown_step(step(stage, reply(code, "text"))), profile)
            assert panel.decision is not None
            assert shown(panel, "headline") == panel.decision.headline
    await pilot.pause()
    assert app.is_running


async def test_the_panel_journey_through_what_it_explains() -> None:
    """One panel app (100×50, then 80×40) shows in turn, each step from the choices a new app
    has: a_550_511_at_rcpt_shows_every_part_of_the_bounce,
    the_reference_line_says_how_the_rule_is_known_in_plain_words,
    a_held_step_says_nothing_was_sent_and_hides_the_comparison,
    others_table_lists_every_profile_and_marks_the_chosen_one,
    timeline_shows_strip_and_legend_for_a_requeue, rule_codes_are_folded_away_from_the_text,
    hostile_reply_text_stays_literal_in_panel_and_notice (each step's docstring says what it
    proves), then every_stage_and_common_code_renders_under_every_profile at 80×40."""
    app = PanelApp()
    async with drive(app, size=(100, 50)) as pilot:
        for check in (
            a_550_511_at_rcpt_shows_every_part_of_the_bounce,
            the_reference_line_says_how_the_rule_is_known_in_plain_words,
            a_held_step_says_nothing_was_sent_and_hides_the_comparison,
            others_table_lists_every_profile_and_marks_the_chosen_one,
            timeline_shows_strip_and_legend_for_a_requeue,
            rule_codes_are_folded_away_from_the_text,
            hostile_reply_text_stays_literal_in_panel_and_notice,
            every_stage_and_common_code_renders_under_every_profile,
        ):
            defaults(app)
            await check(app, pilot)


def test_legend_reads_like_the_brief():
    legend = timeline_legend(retry_timeline("postfix", {"delay_warning_time": "4h"}))
    # Postfix retries at its next queue scan, so each retry is a window (reference §0).
    assert legend == (
        "retries at 5m–10m 15m–20m 35m–40m 1h15m–1h20m 2h25m–2h30m … · delay notice 4h · "
        "give up 5d17m"
    )
