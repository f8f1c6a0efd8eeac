"""The walk in the app, end to end (the pacing itself is tested on the driver, tests/desk):
g walks a scenario and the tree, the status and the explanation follow; the narrow layout."""

from __future__ import annotations

from dataclasses import replace

from ui_support import SIZE, drive, ended, resolved, scenario_app, until

from mxtui.model import Stage, TranscriptLine
from mxtui.ui.explain import ExplainPanel
from mxtui.ui.mx_tree import MXTree
from mxtui.ui.session_pane import SessionPane
from mxtui.ui.transcript import TranscriptView
from mxtui.ui.walk_panel import WalkStatus


def tree_label(app, address: str) -> str:
    tree = app.query_one(MXTree)
    labels = [str(node.label) for node in tree._address_nodes.get(address, [])]
    assert labels, f"no tree node for {address}"
    return labels[0]


async def test_g_walks_mixed_recipients_and_every_screen_part_follows() -> None:
    app = scenario_app("mixed-recipients")
    async with drive(app, size=SIZE) as pilot:
        await resolved(pilot, app)
        await pilot.press("g")
        await until(pilot, lambda: ended(app), "the walk")
        state = app.driver.state
        assert state is not None and state.result is not None
        assert state.result.outcome == "partial"
        address = state.order[0].address
        assert tree_label(app, address).startswith("✓ ")
        # the marks again relabel nothing (a label set re-lays the tree); a changed one, its node
        tree = app.query_one(MXTree)
        nodes = {a: ns[0] for a, ns in tree._address_nodes.items()}
        before = {a: node._label for a, node in nodes.items()}
        tree.set_marks(state.tree_marks())
        assert all(nodes[a]._label is before[a] for a in nodes)
        other = next((a for a in nodes if a != address), address)
        tree.set_marks(
            {**state.tree_marks(), other: replace(state.marks[address], kind="failed", step=99)}
        )
        assert [a for a in nodes if nodes[a]._label is not before[a]] == [other]
        assert "99" in tree_label(app, other)
        tree.set_marks(state.tree_marks())
        status = app.query_one(WalkStatus).text
        assert "PARTIAL" in status and "next retry" in status
        assert "Delivery walk as" in str(app.query_one("#session-status").render())
        view = app.query_one(TranscriptView)
        # the walk's "try N" markers carry no time (not "+0.000s" among the timed lines)
        tries = [r for r in view._rows if isinstance(r, TranscriptLine) and "── try " in r.text]
        assert tries and all(r.t_ms < 0 for r in tries)
        assert view._paint.line(tries[0]).text.startswith(" " * 11 + "── try 1: ")
        # the explanation of a step picked in the transcript names that step's recipient
        rows = [r for r in range(view.row_count) if r not in view._step_rows]
        bob = next(
            r for r in rows
            if (s := view.step_at(r)) is not None and s.stage is Stage.RCPT and s.reply
            and s.reply.code == 450
        )  # fmt: skip
        view.focus()
        view._move_cursor(bob)

        def notice_recipient() -> str | None:
            explanation = app.query_one(ExplainPanel).explanation
            notice = explanation.notice if explanation is not None else None
            return notice.recipient if notice is not None else None

        # the picked step's explanation (a deadline only: it may take a few frames under load)
        await until(pilot, lambda: notice_recipient() == "bob@mixed.example.net", "bob's step")
        await pilot.press("b")  # the walk bounced nobody@: its NDR
        await until(pilot, lambda: bool(app.screen.query("#ndr-title")), "the NDR preview")
        assert "NDR from the walk" in str(app.screen.query_one("#ndr-title").render())


async def test_at_80_columns_the_walk_shows_on_the_session_pane() -> None:
    app = scenario_app("unknown-user")
    async with drive(app, size=(80, 24)) as pilot:
        await resolved(pilot, app)
        assert app.shown_pane == "mx"
        await pilot.press("g")  # from the tree: the session comes forward, with the outcome
        await until(pilot, lambda: ended(app), "the walk")
        pane = app.query_one(SessionPane)
        assert app.shown_pane == "session" and pane.region.width > 60
        assert app.query_one(WalkStatus).has_class("-active")
        # the transcript has the focus here and its cursor follows the walk onto the QUIT's
        # 221: that is not a pick, so the explanation stays the walk's outcome (issue 13 item 5)
        assert app.query_one(TranscriptView).has_focus
        for _ in range(5):
            await pilot.pause()
        explanation = app.query_one(ExplainPanel).explanation
        assert explanation is not None and explanation.shown is not None
        assert explanation.shown.walk is not None, explanation.shown
        assert explanation.outcome, "the walk's end in plain sentences"


async def test_quitting_in_the_middle_of_a_walk_leaves_no_task_behind() -> None:
    app = scenario_app("all-down")
    app.driver.delay = 0.5
    async with drive(app, size=SIZE) as pilot:
        await resolved(pilot, app)
        await pilot.press("g")
        await until(pilot, lambda: app.driver.active and app.driver.state is not None, "the walk")
        await pilot.press("q")
    assert not app.driver.active
