"""Issue 13: keys that behave — Esc leaves a box, the layout follows the terminal's size, the
walk's outcome stays on screen at 80×24.

Each Pilot test is one journey on one app (starting the app is most of a Pilot test's cost):
its docstring lists the behaviours it proves, in the order it proves them, and every step
puts the app back where the next one expects it (the main screen, a known focus) and says so."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Input, OptionList
from ui_support import drive, ended, resolved, scenario_app, until

from mxtui.model import Stage
from mxtui.ui import flows
from mxtui.ui.explain import ExplainPanel
from mxtui.ui.factory import make_app
from mxtui.ui.layout import layout_for
from mxtui.ui.mx_tree import MXTree
from mxtui.ui.probe_view import ProbeScreen
from mxtui.ui.screens import EnvelopeScreen
from mxtui.ui.session_pane import SessionPane
from mxtui.ui.transcript import LineScreen, TranscriptView, cursor_line, find_row
from mxtui.ui.walk_panel import ScenarioPicker, WalkStatus, scenario_entry


def said(app) -> list[str]:
    """The notifications the app has shown (Textual keeps them until they time out)."""
    return [n.message for n in app._notifications]


def test_the_layout_is_chosen_from_the_width() -> None:
    assert layout_for(80) == layout_for(100) == "narrow"
    assert layout_for(120) == layout_for(149) == "medium"
    assert layout_for(150) == layout_for(200) == "wide"


def test_a_long_scenario_title_wraps_under_itself_not_under_the_names() -> None:
    from rich.console import Console

    console = Console(width=50, record=True)
    console.print(scenario_entry("accept-then-bounce", "Accept then bounce: 250 to every one", 18))
    first, *rest = console.export_text().splitlines()
    assert first.startswith("accept-then-bounce  Accept") and rest
    assert all(line.startswith(" " * 20) and line.strip() for line in rest)


async def test_demo_at_80x24_boxes_and_screens_close_then_the_layout_follows_resizes() -> None:
    """On the demo, from an 80×24 terminal, one thing after another:

    - p in the tree says what it did (the next reply is explained) and starts no walk;
    - / opens the domain box, Esc goes back to the tree, a second Esc (nothing to leave) leaves
      the focus on the tree;
    - e's envelope dialog shows every field on screen at 80×24, and Esc closes it;
    - Esc in the scenario picker cancels it even while a filter is typed;
    - the picker filters as you type (`grey` leaves greylist-primary only; `back` puts
      backup-mx, by name, before backscatter, by title) and Enter opens the option on top;
    - P probes every address of the plan, in the plan's order; Esc closes the probe;
    - the layout follows resizes both ways: 120 columns is medium, and there the tree's widest
      label is not cut; 80×24 is narrow again with the tree across the screen; 160 columns is
      wide with all three panes side by side;
    - opening a scenario forgets the previous domain's explanation and transcript (a one-step
      walk of the demo, then null-mx: an empty transcript, the new scenario's own status and
      an explanation of what is shown now)."""
    app = make_app(dns_timeout=1)
    async with drive(app, size=(80, 24)) as pilot:
        await resolved(pilot, app)
        main = app.screen
        tree = app.query_one(MXTree)
        assert app.has_class("-narrow")

        tree.focus()
        await pilot.press("p")
        assert app.driver.walk is None, "p started a walk nobody asked for"
        assert any(m.startswith("Profile: ") and "next reply" in m for m in said(app))

        await pilot.press("slash")
        assert app.focused is app.query_one("#domain", Input)
        await pilot.press("escape")
        assert app.focused is tree
        await pilot.press("escape")  # nothing to leave: nothing happens
        assert app.focused is tree

        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EnvelopeScreen), "the dialog")
        screen = app.screen
        assert isinstance(screen, EnvelopeScreen)
        area = screen.region
        for box in screen.query(Input):
            assert box.region.height == 1 and area.contains_region(box.region), box.id
        message = screen.query_one("#env-message")
        assert message.region.height >= 4 and area.contains_region(message.region)
        await pilot.press("escape")
        assert app.screen is main and app.focused is tree

        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ScenarioPicker), "the picker")
        await pilot.press("n", "u", "escape")
        assert app.screen is main and app.focused is tree, "Esc while filtering cancels"

        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ScenarioPicker), "the picker")
        picker = app.screen
        assert isinstance(picker, ScenarioPicker)
        options = picker.query_one(OptionList)
        everything = options.option_count
        await pilot.press(*"grey")
        shown = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert shown == ["greylist-primary"] and everything > 5
        await pilot.press(*["backspace"] * 4)
        await pilot.press(*"back")  # backup-mx by name before backscatter in a title
        assert options.get_option_at_index(0).id == "backup-mx"
        opened = []
        picker.dismiss = opened.append  # what Enter would open
        await pilot.press("enter")
        assert opened == ["backup-mx"]
        del picker.dismiss  # Textual's own again: Esc cancels
        await pilot.press("escape")
        assert app.screen is main and app.focused is tree

        await pilot.press("P")
        screen = app.screen
        assert isinstance(screen, ProbeScreen)
        planned = [a.address for h in app.resolved_plan.hosts for a in h.addresses]
        assert [t.address for t in screen.targets] == planned
        await pilot.press("escape")
        assert app.screen is main and app.focused is tree

        await pilot.resize_terminal(120, 35)  # which settles the app, as a key does
        assert app.has_class("-medium") and not app.has_class("-narrow")
        await until(pilot, lambda: tree.policy is not None, "the TLS policy's nodes")
        await pilot.pause()
        room = tree.scrollable_content_region.width
        assert tree.virtual_size.width <= room, "the tree's widest label is cut"

        await pilot.resize_terminal(80, 24)
        assert app.has_class("-narrow") and not app.has_class("-medium")
        assert tree.region.width > 70

        await pilot.resize_terminal(160, 45)
        assert not app.has_class("-narrow") and not app.has_class("-medium")
        assert all(app.query_one(p).region.width > 30 for p in ("#mx-pane", "#session", "#explain"))

        await pilot.press("n")  # a walk, one step: something is explained
        await until(pilot, lambda: app.shown is not None, "an explanation")
        transcript = app.query_one(TranscriptView)
        assert transcript.row_count > 0
        await flows.open_scenario(app, "null-mx")
        await pilot.pause()
        assert transcript.row_count == 0  # the old lab's walk is not this scenario's
        assert "Choose an address" in str(app.query_one("#session-status").render())
        explanation = app.query_one(ExplainPanel).explanation
        assert explanation is not None and explanation.shown is app.shown
        assert app.shown is None or app.shown.stage is Stage.DNS  # the null MX's own answer


async def test_demo_session_at_80x24_greeting_to_rcpt_then_the_transcript_keys() -> None:
    """On the demo at 80×24, the person's own session with 192.0.2.10 (to nobody@, whom the
    host refuses), one thing after another:

    - Enter on the address connects and reads the greeting, so the status says the next n
      sends EHLO, and that n does;
    - n steps on to RCPT (550 5.1.1);
    - in the transcript, → and ← scroll sideways 8 columns a key, and Enter on a line shows it
      whole on its own screen, which Esc closes;
    - y copies the line under the cursor (one line, the 550) and Y the whole reply the cursor
      is in (EHLO's, many lines, with STARTTLS);
    - Ctrl+F opens the find box; Enter finds (`nobody`); Esc goes back to the transcript;
      ] moves to the next match and [ back to the first;
    - : opens the raw command box (its footer offers Esc: Leave box); Esc goes back to the
      pane : came from, and x is RSET again (not typed into the box)."""
    app = make_app(dns_timeout=1)
    async with drive(app, size=(80, 24)) as pilot:
        await resolved(pilot, app)
        main = app.screen
        app.set_envelope(replace(app.choices.envelope, recipients=("nobody@example.com",)))
        tree = app.query_one(MXTree)
        tree.focus()
        tree.move_cursor(tree._address_nodes["192.0.2.10"][0])
        await pilot.press("enter")
        pane = app.query_one(SessionPane)
        await until(pilot, lambda: pane.session and not pane.busy, "the connection")
        assert [s.stage for s in pane.session.steps] == [Stage.CONNECT, Stage.GREETING]
        assert "next: EHLO (n)" in str(pane.query_one("#session-status").render())
        await pilot.press("n")
        await until(pilot, lambda: not pane.busy and len(pane.session.steps) == 3, "EHLO")
        assert pane.session.steps[-1].stage is Stage.EHLO
        for _ in range(5):  # MAIL, RCPT; a bound in case the session never gets there
            if pane.session.steps[-1].stage is Stage.RCPT:
                break
            count = len(pane.session.steps)
            await pilot.press("n")
            await until(pilot, lambda c=count: not pane.busy and len(pane.session.steps) > c, "n")
        assert pane.session.steps[-1].stage is Stage.RCPT

        view = app.query_one(TranscriptView)
        await until(pilot, lambda: find_row(view._rows, -1, "550 5.1.1") >= 0, "the 550 line")
        view.focus()
        assert view.scroll_x == 0
        await pilot.press("right", "right")
        assert view.scroll_x == 16
        await pilot.press("left")
        assert view.scroll_x == 8
        await pilot.press("end", "enter")
        await until(pilot, lambda: isinstance(app.screen, LineScreen), "the whole line")
        assert "550 5.1.1" in str(app.screen.query_one("#line-text").render())
        await pilot.press("escape")
        assert app.screen is main and app.focused is view

        await pilot.press("end")
        assert cursor_line(view).text.startswith("550 5.1.1")
        await pilot.press("y")
        assert app.clipboard.startswith("550 5.1.1") and "\n" not in app.clipboard
        ehlo = find_row(view._rows, -1, "250-")  # the EHLO reply has many lines
        view._move_cursor(ehlo)
        await pilot.press("Y")
        assert app.clipboard.count("\n") >= 3 and "STARTTLS" in app.clipboard

        await pilot.press("ctrl+f")
        box = app.query_one("#find", Input)
        assert app.focused is box and box.region.height > 0
        await pilot.press(*"nobody", "enter")
        first = view.cursor_row
        assert "nobody" in cursor_line(view).text.lower()
        await pilot.press("escape")
        assert app.focused is view
        await pilot.press("right_square_bracket")
        assert view.cursor_row != first and "nobody" in cursor_line(view).text.lower()
        await pilot.press("left_square_bracket")
        assert view.cursor_row == first

        assert app.focused is view
        await pilot.press("colon")
        assert app.focused is app.query_one("#raw", Input)
        assert "Leave box" in [b.binding.description for b in app.active_bindings.values()]
        await pilot.press("escape")
        assert app.focused is view, "Esc goes back to the pane : came from"
        sent = []
        pane.rset = lambda: sent.append("RSET")
        await pilot.press("x")
        assert sent == ["RSET"] and app.query_one("#raw", Input).value == ""


async def test_backup_mx_walk_at_80x24_keeps_its_outcome_on_screen_and_in_the_headline() -> None:
    """backup-mx walked to its end (the second hop) at 80×24: with the session pane forward
    (2), the outcome `⇒ DELIVERED` and the second hop's line are whole on screen and the
    transcript keeps three rows; at 160 columns the explanation's headline is the walk's
    outcome (DELIVERED), not its last step. Then a session of the person's own after that
    walk, and `p`: it re-explains, and neither reruns the earlier walk nor replaces the
    person's transcript with it."""
    app = scenario_app("backup-mx")
    async with drive(app, size=(80, 24)) as pilot:
        await resolved(pilot, app)
        await pilot.press("g")
        await until(pilot, lambda: ended(app) and app.driver.state.hop_result is not None, "hop 2")
        await pilot.press("2")
        await until(pilot, lambda: app.has_class("-show-session"), "the session pane")
        status = app.query_one(WalkStatus)
        end = status.query_one("#walk-end")
        screen = app.screen.region
        assert "⇒ DELIVERED" in status.text and "hop 2:" in str(end.render())
        assert end.region.height >= 2 and screen.contains_region(end.region)
        assert app.query_one(TranscriptView).region.height >= 3

        await pilot.resize_terminal(160, 45)
        assert not app.has_class("-narrow") and not app.has_class("-medium")
        headline = app.query_one("#explain-headline")  # the walk's outcome, not its last step
        await until(pilot, lambda: str(headline.render()) == "DELIVERED", "DELIVERED", limit=5)

        tree = app.query_one(MXTree)
        tree.focus()
        tree.move_cursor(tree._address_nodes[next(iter(tree._address_nodes))][0])
        await pilot.press("enter")
        pane = app.query_one(SessionPane)
        await until(pilot, lambda: pane.session and not pane.busy, "the session")
        await pilot.press("p")
        await until(pilot, lambda: any(m.startswith("Profile: ") for m in said(app)), "p's word")
        assert app.driver.walk is None and pane.session is not None
        assert pane.external == "", "the transcript still shows the person's own session"


def test_a_resize_keeps_the_pane_that_has_the_focus_on_screen() -> None:
    from textual.widget import Widget

    from mxtui.ui.layout import pane_kept

    main, mx_pane, session, explain_pane = Widget(), Widget(), Widget(), Widget()
    mx_pane.id, session.id, explain_pane.id = "mx-pane", "session", "explain-pane"
    tree, box, transcript, panel = Widget(), Widget(), Widget(), Widget()
    family = [(main, mx_pane), (main, session), (main, explain_pane), (mx_pane, tree)]
    family += [(mx_pane, box), (session, transcript), (explain_pane, panel)]
    for parent, child in family:
        child._attach(parent)
    assert pane_kept(tree, "narrow", "session") == "mx"
    assert pane_kept(box, "narrow", "explain") == "mx"  # the domain box is the tree's pane
    assert pane_kept(transcript, "narrow", "mx") == "session"
    assert pane_kept(panel, "medium", "mx") == "explain"
    assert pane_kept(tree, "medium", "explain") == "mx"
    assert pane_kept(transcript, "medium", "explain") == "explain"  # always shown in medium
    assert pane_kept(tree, "wide", "session") == "session"  # wide shows every pane
    assert pane_kept(None, "narrow", "session") == "session"
    assert pane_kept(main, "narrow", "explain") == "explain"
