"""The explanation side panel, mounted alone in a tiny app: what it shows for each kind of step,
how a profile switch re-explains, the bounce preview screen, and hostile reply text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.app import App, ComposeResult
from textual.content import Content
from textual.widgets import Static

from mxtui.model import Action, DecisionContext, Outcome, Reply, Stage, StepResult
from mxtui.policy import PROFILES, ProfileError, compare, decide, retry_timeline, timeline_strip
from mxtui.ui.explain import (
    ExplainPanel,
    NDRScreen,
    NoticeFacts,
    short_duration,
    timeline_legend,
)

FIXED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class PanelApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ExplainPanel(clock=lambda: FIXED)


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


def profile_changes(seen: list) -> list[str]:
    """Profile names posted, once per message (the hook sees a message at every node it visits)."""
    unique = {id(m): m for m in seen if isinstance(m, ExplainPanel.ProfileChanged)}
    return [m.name for m in unique.values()]


def is_displayed(panel: ExplainPanel, part: str) -> bool:
    return panel.query_one(f"#explain-{part}", Static).display


async def test_550_511_at_rcpt_bounces_the_recipient():
    app = PanelApp()
    async with app.run_test(size=(100, 50)) as pilot:
        panel = app.query_one(ExplainPanel)
        panel.show_step(step(Stage.RCPT, reply(550, "no such user", "5.1.1")))
        await pilot.pause()
        assert shown(panel, "headline") == "BOUNCE RECIPIENT"
        assert panel.query_one("#explain-headline").has_class("-ndr")
        assert "this recipient only" in shown(panel, "subtitle")
        codes = shown(panel, "codes")
        assert "550 5yz" in codes and "5.1.1" in codes and "no such user" in codes.lower()
        assert "Reference: RFC 5321" in shown(panel, "reference")
        assert "550 5.1.1 no such user" in shown(panel, "reply")


async def test_421_greeting_moves_on_under_postfix_and_requeues_under_qmail():
    app = PanelApp()
    seen: list = []
    async with app.run_test(size=(100, 50), message_hook=seen.append) as pilot:
        panel = app.query_one(ExplainPanel)
        panel.show_step(step(Stage.GREETING, reply(421, "too busy")))
        await pilot.pause()
        postfix = decide(Stage.GREETING, reply(421, "too busy"), "postfix")
        assert postfix.action in (Action.NEXT_ADDRESS, Action.NEXT_MX)
        assert shown(panel, "headline") == postfix.headline
        assert panel.query_one("#explain-headline").has_class("-move")

        panel.set_profile("qmail")
        await pilot.pause()
        assert shown(panel, "headline") == "REQUEUE"
        assert panel.query_one("#explain-headline").has_class("-requeue")
        assert "qmail" in shown(panel, "subtitle")
        assert profile_changes(seen) == ["qmail"]


async def test_cycle_profile_walks_profiles_in_order_and_wraps():
    app = PanelApp()
    seen: list = []
    async with app.run_test(message_hook=seen.append) as pilot:
        panel = app.query_one(ExplainPanel)
        names = list(PROFILES)
        start = names.index("postfix")
        for _ in names:
            panel.cycle_profile()
        await pilot.pause()
        assert panel.profile == "postfix"
        assert profile_changes(seen) == names[start + 1 :] + names[: start + 1]
        with pytest.raises(ProfileError):
            panel.set_profile("nosuchmta")


async def test_p_key_on_the_focused_panel_cycles_the_profile():
    app = PanelApp()
    async with app.run_test() as pilot:
        panel = app.query_one(ExplainPanel)
        panel.focus()
        await pilot.press("p")
        assert panel.profile == list(PROFILES)[list(PROFILES).index("postfix") + 1]


async def test_refused_connection_is_explained_without_a_reply_code():
    app = PanelApp()
    async with app.run_test(size=(100, 50)) as pilot:
        panel = app.query_one(ExplainPanel)
        panel.show_step(
            step(Stage.CONNECT, outcome=Outcome.REFUSED, error="connection refused (111)")
        )
        await pilot.pause()
        expected = decide(Stage.CONNECT, Outcome.REFUSED, "postfix")
        assert shown(panel, "headline") == expected.headline
        assert "No reply code" in shown(panel, "codes")
        assert "refused" in shown(panel, "subtitle")


async def test_the_reference_line_says_how_the_rule_is_known_in_plain_words():
    app = PanelApp()
    async with app.run_test(size=(100, 50)) as pilot:
        panel = app.query_one(ExplainPanel)
        panel.show_step(step(Stage.CONNECT, outcome=Outcome.REFUSED, error="refused"))
        await pilot.pause()
        assert "[tested against Postfix 3.7.11]" in shown(panel, "reference")
        panel.show_step(step(Stage.RCPT, reply(550, "no such user", "5.1.1")))
        await pilot.pause()
        assert "[read in the source]" in shown(panel, "reference")
        panel.set_profile("exchange")
        await pilot.pause()
        assert "[inferred, not documented]" in shown(panel, "reference")


async def test_held_step_says_nothing_was_sent_and_decides_nothing():
    app = PanelApp()
    async with app.run_test(size=(100, 50)) as pilot:
        panel = app.query_one(ExplainPanel)
        panel.show_step(step(Stage.DOT, failure="held", error="waiting for your confirmation"))
        await pilot.pause()
        assert "NOTHING SENT" in shown(panel, "headline")
        assert "nothing for the sender to decide" in shown(panel, "why")
        assert "waiting for your confirmation" in shown(panel, "why")
        assert panel.decision is None
        assert not is_displayed(panel, "others") and not is_displayed(panel, "timeline")


async def test_malformed_reply_is_read_as_a_dropped_connection():
    app = PanelApp()
    async with app.run_test(size=(100, 50)) as pilot:
        panel = app.query_one(ExplainPanel)
        panel.show_step(step(Stage.DATA, failure="malformed-reply", error="not an SMTP reply"))
        await pilot.pause()
        assert panel.decision == decide(Stage.DATA, Outcome.DROPPED, "postfix")
        assert "RFC 5321 §3.8" in shown(panel, "why")
        assert "counts as 451" in shown(panel, "codes")


async def test_tls_failure_at_starttls_maps_to_a_drop_and_unverified_to_required_tls():
    app = PanelApp()
    async with app.run_test(size=(100, 50)) as pilot:
        panel = app.query_one(ExplainPanel)
        panel.show_step(step(Stage.STARTTLS, failure="tls-failed", error="handshake failed"))
        await pilot.pause()
        assert panel.decision == decide(Stage.STARTTLS, Outcome.DROPPED, "postfix")
        # A 220 followed by a certificate that does not verify must not read as "continue".
        panel.show_step(step(Stage.STARTTLS, reply(220, "go ahead"), failure="tls-unverified"))
        await pilot.pause()
        required = DecisionContext(tls_required=True)
        assert panel.decision == decide(Stage.STARTTLS, Outcome.DROPPED, "postfix", required)
        assert panel.decision.action is not Action.CONTINUE


async def test_others_table_lists_every_profile_with_its_headline():
    app = PanelApp()
    async with app.run_test(size=(100, 50)) as pilot:
        panel = app.query_one(ExplainPanel)
        rep = reply(421, "busy")
        panel.show_outcome(Stage.GREETING, rep)
        await pilot.pause()
        table = shown(panel, "others").splitlines()[1:]
        assert len(table) == len(PROFILES)
        for line, (name, decision) in zip(table, compare(Stage.GREETING, rep).items(), strict=True):
            assert PROFILES[name].display in line and decision.headline in line
        assert [line.startswith("▶") for line in table].count(True) == 1
        assert PROFILES["postfix"].display in next(x for x in table if x.startswith("▶"))


async def test_timeline_shows_strip_and_legend_for_a_requeue():
    app = PanelApp()
    async with app.run_test(size=(100, 50)) as pilot:
        panel = app.query_one(ExplainPanel)
        panel.set_profile("qmail")
        panel.show_outcome(Stage.GREETING, reply(421, "busy"))
        await pilot.pause()
        assert panel.decision is not None and panel.decision.action is Action.REQUEUE
        lines = shown(panel, "timeline").splitlines()
        assert lines[0].startswith("Retry timeline")
        timeline = retry_timeline("qmail")
        assert lines[1] == timeline_strip(timeline, len(lines[1]))
        assert lines[2] == timeline_legend(timeline)
        assert not panel.query_one("#explain-timeline").has_class("-quiet")
        panel.show_outcome(Stage.RCPT, reply(250, "ok"))
        await pilot.pause()
        assert panel.query_one("#explain-timeline").has_class("-quiet")


def test_legend_reads_like_the_brief():
    legend = timeline_legend(retry_timeline("postfix", {"delay_warning_time": "4h"}))
    # Postfix retries at its next queue scan, so each retry is a window (reference §0).
    assert legend == (
        "retries at 5m–10m 15m–20m 35m–40m 1h15m–1h20m 2h25m–2h30m … · delay notice 4h · "
        "give up 5d17m"
    )
    assert short_duration(90061) == "1d1h" and short_duration(0) == "0s"


async def test_ndr_screen_shows_the_bounce_and_closes_with_escape():
    app = PanelApp()
    async with app.run_test(size=(100, 50)) as pilot:
        panel = app.query_one(ExplainPanel)
        facts = NoticeFacts(recipient="nobody@example.net", remote_mta="mx1.example.net")
        panel.show_step(step(Stage.RCPT, reply(550, "no such user", "5.1.1")), notice=facts)
        panel.open_ndr()
        await pilot.pause()
        assert isinstance(app.screen, NDRScreen)
        body = app.screen.query_one("#ndr-body", Static).content.plain
        assert "Final-Recipient: rfc822; nobody@example.net" in body
        assert "Status: 5.1.1" in body
        assert "Diagnostic-Code: smtp; 550 5.1.1 no such user" in body
        assert "Remote-MTA: dns; mx1.example.net" in body
        assert "Mon, 23 Nov 2026 10:00:00" in body  # the panel's clock, not a wall clock
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, NDRScreen)


async def test_ndr_screen_for_a_deferral_and_for_nothing_to_bounce():
    app = PanelApp()
    async with app.run_test(size=(100, 50)) as pilot:
        panel = app.query_one(ExplainPanel)
        panel.set_profile("qmail")  # qmail sends no delay notice: the give-up bounce instead
        panel.show_outcome(Stage.GREETING, reply(421, "busy"))
        panel.open_ndr()
        await pilot.pause()
        assert "gives up" in app.screen.query_one("#ndr-title", Static).content.plain
        assert "Action: failed" in app.screen.query_one("#ndr-body", Static).content.plain
        await pilot.press("q")
        panel.set_profile("exim")
        panel.open_ndr()
        await pilot.pause()
        assert "Delay notice" in app.screen.query_one("#ndr-title", Static).content.plain
        assert "Action: delayed" in app.screen.query_one("#ndr-body", Static).content.plain
        await pilot.press("escape")
        panel.show_outcome(Stage.RCPT, reply(250, "ok"))
        panel.open_ndr()
        await pilot.pause()
        assert "Nothing to bounce" in app.screen.query_one("#ndr-title", Static).content.plain
        assert "Final-Recipient" not in app.screen.query_one("#ndr-body", Static).content.plain


HOSTILE = "[/ [@click=app.quit]x[/] [bold]loud \\x1b]0;T"


async def test_hostile_reply_text_stays_literal_in_panel_and_notice():
    app = PanelApp()
    async with app.run_test(size=(100, 50)) as pilot:
        panel = app.query_one(ExplainPanel)
        panel.show_step(step(Stage.RCPT, reply(550, HOSTILE, "5.1.1")))
        await pilot.pause()
        assert HOSTILE in shown(panel, "reply")
        spans = panel.query_one("#explain-reply", Static).content.spans
        assert all("click" not in str(span.style) for span in spans)
        panel.open_ndr()
        await pilot.pause()
        assert HOSTILE in app.screen.query_one("#ndr-body", Static).content.plain
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running


async def test_clear_empties_the_panel():
    app = PanelApp()
    async with app.run_test() as pilot:
        panel = app.query_one(ExplainPanel)
        panel.show_outcome(Stage.DNS, Outcome.NULL_MX)
        await pilot.pause()
        assert panel.decision is not None and panel.decision.action is Action.NDR
        panel.clear()
        await pilot.pause()
        assert panel.decision is None and shown(panel, "headline") == "NOTHING TO EXPLAIN"


async def test_every_stage_and_common_code_renders_under_every_profile_change():
    app = PanelApp()
    async with app.run_test(size=(80, 40)) as pilot:
        panel = app.query_one(ExplainPanel)
        for stage in Stage:
            for code in (200, 250, 354, 421, 450, 452, 550, 554):
                panel.show_step(step(stage, reply(code, "text")))
                assert panel.decision is not None
                assert shown(panel, "headline") == panel.decision.headline
            panel.cycle_profile()
        await pilot.pause()
        assert app.is_running
