"""The delivery walk in the app: scenarios run, pause, single-step, reshuffle, fast-forward,
rerun on a profile change, and the tree marks each address with the step where it happened."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.widgets import OptionList

from mxtui.lab.scenarios import load_scenario
from mxtui.model import RecipientStatus
from mxtui.ui.app import MXTuiApp, make_app
from mxtui.ui.explain import ExplainPanel, NDRScreen
from mxtui.ui.mx_tree import MXTree
from mxtui.ui.transcript import TranscriptView
from mxtui.ui.walk_panel import Narrative, ScenarioPicker, WalkStatus

SIZE = (130, 40)


def scenario_app(name: str, profile: str | None = None) -> MXTuiApp:
    scenario = load_scenario(name)
    app = make_app(
        scenario=scenario, envelope=scenario.envelope, profile=profile or scenario.profile
    )
    app.walk_delay = 0.0  # no pause between steps: the test waits for events, not for time
    return app


async def until(pilot: Any, condition: Any, what: str, limit: float = 15.0) -> None:
    """Let the app run until `condition()` holds (a deadline only against hanging for ever)."""
    for _ in range(int(limit / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def ended(app: MXTuiApp) -> bool:
    return app.walk_state is not None and app.walk_state.ended and not app._walk_active


async def resolved(pilot: Any, app: MXTuiApp) -> None:
    await until(pilot, lambda: app.resolved_plan is not None, "the MX plan")


def tree_label(app: MXTuiApp, address: str) -> str:
    tree = app.query_one(MXTree)
    labels = [
        str(node.label)
        for node in tree._address_nodes.get(address, [])  # the nodes the marks go on
    ]
    assert labels, f"no tree node for {address}"
    return labels[0]


async def test_greylisting_primary_under_qmail_waits_then_the_retry_delivers() -> None:
    app = scenario_app("greylist-primary", profile="qmail")
    async with app.run_test(size=SIZE) as pilot:
        await resolved(pilot, app)
        await pilot.press("g")
        await until(pilot, lambda: ended(app), "the first attempt")
        state = app.walk_state
        assert state is not None and state.result is not None
        assert state.result.outcome == "deferred"
        primary = state.order[0].address
        assert state.marks[primary].kind == "deferred"
        assert tree_label(app, primary).startswith("↻ ")
        status = str(app.query_one(WalkStatus).render())
        assert "DEFERRED" in status and "next retry" in status

        await pilot.press("f")  # to the next retry: the greylist has cleared by then
        await until(pilot, lambda: ended(app) and app.walk_state.attempt == 1, "the retry")
        state = app.walk_state
        assert state.result is not None and state.result.outcome == "delivered"
        assert state.marks[primary].kind == "accepted"
        assert tree_label(app, primary).startswith("✓ ")
        [recipient] = state.recipients.values()
        assert recipient.state is RecipientStatus.DELIVERED
        transcript = app.query_one(TranscriptView).export_text()
        assert "retry: attempt 2" in transcript


async def test_changing_the_profile_walks_again_and_takes_another_path() -> None:
    app = scenario_app("greylist-primary", profile="qmail")
    async with app.run_test(size=SIZE) as pilot:
        await resolved(pilot, app)
        await pilot.press("g")
        await until(pilot, lambda: ended(app), "the qmail walk")
        assert app.walk_state.result.outcome == "deferred"
        seed = app.walk.seed

        app.query_one(ExplainPanel).set_profile("postfix")
        await until(
            pilot,
            lambda: ended(app) and app.walk_state.profile == "postfix",
            "the postfix walk",
        )
        state = app.walk_state
        assert state.seed == seed  # same shuffle, other MTA
        assert state.result.outcome == "delivered"
        primary, backup = (t.address for t in state.order)
        assert state.marks[primary].kind == "failed"  # 450 at RCPT: Postfix tries the next MX
        assert state.marks[backup].kind == "accepted"


async def test_n_takes_one_walk_step_at_a_time() -> None:
    app = scenario_app("unknown-user")
    async with app.run_test(size=SIZE) as pilot:
        await resolved(pilot, app)
        await pilot.press("n")  # no session open: n starts a walk, one step
        await until(pilot, lambda: app.walk_state is not None and app.walk_state.steps == 1,
                    "the first step")  # fmt: skip
        await pilot.pause(0.3)
        assert app.walk_state.steps == 1, "a paused walk must not go on by itself"
        assert not app.walk_running
        await pilot.press("n")
        await until(pilot, lambda: app.walk_state.steps == 2, "the second step")
        await pilot.pause(0.3)
        assert app.walk_state.steps == 2
        status = str(app.query_one(WalkStatus).render())
        assert "paused" in status

        await pilot.press("g")  # run the rest
        await until(pilot, lambda: ended(app), "the end of the walk")
        assert app.walk_state.result.outcome == "bounced"


async def test_a_bounced_walk_shows_its_ndr_and_reshuffle_changes_the_seed() -> None:
    app = scenario_app("unknown-user")
    async with app.run_test(size=SIZE) as pilot:
        await resolved(pilot, app)
        await pilot.press("g")
        await until(pilot, lambda: ended(app), "the walk")
        assert app.walk_state.result.outcome == "bounced"
        await pilot.press("b")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, NDRScreen)
        assert "5.1.1" in screen.body
        assert "Subject: test" in screen.body  # the headers of the message the walk carried
        await pilot.press("escape")
        await pilot.pause()

        seed = app.walk.seed
        await pilot.press("R")
        await until(pilot, lambda: ended(app) and app.walk.seed != seed, "the reshuffled walk")


async def test_the_scenario_picker_opens_another_scenario_with_its_narrative() -> None:
    app = make_app()  # the demo lab
    async with app.run_test(size=SIZE) as pilot:
        await resolved(pilot, app)
        assert not app.query_one(Narrative).has_class("-active")
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ScenarioPicker)
        options = app.screen.query_one(OptionList)
        options.highlighted = options.get_option_index("null-mx")
        await pilot.press("enter")
        scenario = load_scenario("null-mx")
        await until(
            pilot,
            lambda: app.resolved_plan is not None and app.resolved_plan.domain == scenario.domain,
            "the scenario's plan",
        )
        narrative = app.query_one(Narrative)
        assert narrative.has_class("-active")
        assert narrative.scenario == scenario
        assert scenario.name in app.sub_title
        assert app.query_one(ExplainPanel).profile == scenario.profile

        app.walk_delay = 0.0
        await pilot.press("g")
        await until(pilot, lambda: ended(app), "the walk")
        state = app.walk_state
        assert state.order == ()  # a null MX: nothing to dial
        assert state.result.outcome == "bounced"  # RFC 7505: fail at once, 5.1.10


async def test_the_narrow_terminal_shows_the_walk_on_the_session_pane() -> None:
    app = scenario_app("backup-mx")
    async with app.run_test(size=(80, 24)) as pilot:
        await resolved(pilot, app)
        await pilot.press("g")
        await until(pilot, lambda: ended(app), "the walk")
        await pilot.press("2")
        await pilot.pause()
        status = app.query_one(WalkStatus)
        assert status.display and status.region.width > 0
        assert "DELIVERED" in str(status.render())


async def test_quitting_in_the_middle_of_a_walk_leaves_no_task_behind() -> None:
    app = scenario_app("all-down")
    app.walk_delay = 0.4
    async with app.run_test(size=SIZE) as pilot:
        await resolved(pilot, app)
        await pilot.press("g")
        await pilot.pause(0.2)
    await asyncio.sleep(0)
    assert app.return_code in (None, 0)


async def test_the_narrative_keeps_its_paragraphs_and_shows_no_escapes() -> None:
    app = scenario_app("greylist-primary")
    async with app.run_test(size=SIZE) as pilot:
        await resolved(pilot, app)
        text = str(app.query_one("#narrative-text").render())
        assert "\\x0a" not in text
        assert text.count("\n\n") >= 1


async def test_the_backup_mx_forwards_later_and_the_second_hop_is_shown() -> None:
    app = scenario_app("backup-mx")
    async with app.run_test(size=SIZE) as pilot:
        await resolved(pilot, app)
        await pilot.press("g")
        await until(pilot, lambda: ended(app), "the sender's walk")
        state = app.walk_state
        assert state.result.outcome == "delivered"  # the backup took it
        assert state.hop is not None and state.hop_result.outcome == "deferred"
        await pilot.press("F")  # the backup's retries, until the primary is back
        await until(
            pilot,
            lambda: ended(app) and app.walk_state.hop_result is not None
            and app.walk_state.hop_result.outcome == "delivered",
            "the second hop's delivery",
        )  # fmt: skip
        state = app.walk_state
        delivered = [a for a, m in state.hop_marks.items() if m.kind == "accepted"]
        assert delivered and state.hop_marks[delivered[0]].hop == 2
        assert tree_label(app, delivered[0]).startswith("✓ ")
        assert state.recipients["alice@backup.example.net"].state is RecipientStatus.DELIVERED
        assert "hop 2" in app.query_one(TranscriptView).export_text()
        assert "hop 2" in str(app.query_one(WalkStatus).render())


async def test_every_notice_of_mixed_recipients_names_its_own_recipient(
    tmp_path, monkeypatch
) -> None:
    """Live, picked from the transcript, and replayed: bob's 450 is about bob, nobody's 550
    about nobody (the notice once named the first recipient for every step)."""
    from mxtui.record import load_recording

    shown: list[tuple[str, str]] = []  # (the RCPT's recipient, the recipient of the notice)
    original = ExplainPanel.show_step

    def spy(panel, step, context=None, *, notice=None):
        original(panel, step, context, notice=notice)
        if str(step.stage) == "rcpt":
            shown.append((step.sent[0], panel.notice.recipient))

    monkeypatch.setattr(ExplainPanel, "show_step", spy)
    monkeypatch.chdir(tmp_path)
    app = scenario_app("mixed-recipients")
    async with app.run_test(size=SIZE) as pilot:
        await resolved(pilot, app)
        await pilot.press("g")
        await until(pilot, lambda: ended(app), "the walk")
        assert len(shown) >= 3
        view = app.query_one(TranscriptView)
        view.focus()
        picked = 0
        for row in range(view.row_count):  # pick a line of each RCPT in the transcript
            step = view.step_at(row)
            if step is not None and str(step.stage) == "rcpt" and row not in view._step_rows:
                view._move_cursor(row)
                picked += 1
        await pilot.pause()
        assert picked >= 3
        await pilot.press("w")
        await pilot.pause()
    [saved] = tmp_path.glob("*.mxrec.jsonl")
    replay = make_app(replay=load_recording(saved), replay_speed=0)
    async with replay.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: replay._replay_done, "the end of the replay")
    assert len(shown) > 6
    for sent, recipient in shown:
        assert sent == f"RCPT TO:<{recipient}>"
    assert {r for _, r in shown} == {
        "alice@mixed.example.net", "bob@mixed.example.net", "nobody@mixed.example.net"
    }  # fmt: skip
