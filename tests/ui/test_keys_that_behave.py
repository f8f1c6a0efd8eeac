"""Issue 13: keys that behave — Esc leaves a box, the layout follows the terminal's size, the
walk's outcome stays on screen at 80×24."""

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


async def test_esc_leaves_the_raw_box_and_x_is_rset_again() -> None:
    app = make_app(dns_timeout=1)
    async with drive(app, size=(120, 34)) as pilot:
        await resolved(pilot, app)
        transcript = app.query_one(TranscriptView)
        transcript.focus()
        await pilot.press("colon")
        assert app.focused is app.query_one("#raw", Input)
        assert "Leave box" in [b.binding.description for b in app.active_bindings.values()]
        await pilot.press("escape")
        assert app.focused is transcript, "Esc goes back to the pane : came from"
        sent = []
        app.query_one(SessionPane).rset = lambda: sent.append("RSET")
        await pilot.press("x")
        assert sent == ["RSET"] and app.query_one("#raw", Input).value == ""


async def test_esc_leaves_the_domain_box_for_the_tree() -> None:
    app = make_app(dns_timeout=1)
    async with drive(app, size=(80, 24)) as pilot:
        await resolved(pilot, app)
        tree = app.query_one(MXTree)
        tree.focus()
        await pilot.press("slash")
        assert app.focused is app.query_one("#domain", Input)
        await pilot.press("escape")
        assert app.focused is tree
        await pilot.press("escape")  # nothing to leave: nothing happens
        assert app.focused is tree


async def test_the_layout_follows_resizes_both_ways() -> None:
    app = make_app(dns_timeout=1)
    async with drive(app, size=(120, 35)) as pilot:
        await resolved(pilot, app)
        assert app.has_class("-medium") and not app.has_class("-narrow")
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: app.has_class("-narrow"), "the narrow layout")
        await pilot.pause()
        assert app.query_one(MXTree).region.width > 70
        await pilot.resize_terminal(160, 45)
        await until(pilot, lambda: not app.has_class("-narrow"), "the wide layout")
        await pilot.pause()
        assert not app.has_class("-narrow") and not app.has_class("-medium")
        assert all(app.query_one(p).region.width > 30 for p in ("#mx-pane", "#session", "#explain"))


async def test_at_120_columns_the_tree_is_not_cut() -> None:
    app = make_app(dns_timeout=1)
    async with drive(app, size=(120, 35)) as pilot:
        await resolved(pilot, app)
        tree = app.query_one(MXTree)
        await until(pilot, lambda: tree.policy is not None, "the TLS policy's nodes")
        await pilot.pause()
        room = tree.scrollable_content_region.width
        assert tree.virtual_size.width <= room, "the tree's widest label is cut"


async def test_at_80x24_the_outcome_and_the_second_hop_stay_on_screen() -> None:
    app = scenario_app("backup-mx")
    async with drive(app, size=(80, 24)) as pilot:
        await resolved(pilot, app)
        await pilot.press("g")
        await until(pilot, lambda: ended(app) and app.driver.state.hop_result is not None, "hop 2")
        await pilot.press("2")
        await until(pilot, lambda: app.has_class("-show-session"), "the session pane")
        await pilot.pause()
        status = app.query_one(WalkStatus)
        end = status.query_one("#walk-end")
        screen = app.screen.region
        assert "⇒ DELIVERED" in status.text and "hop 2:" in str(end.render())
        assert end.region.height >= 2 and screen.contains_region(end.region)
        assert app.query_one(TranscriptView).region.height >= 3


async def test_opening_a_scenario_forgets_the_previous_domains_explanation_and_transcript() -> None:
    app = make_app(dns_timeout=1)
    async with drive(app, size=(160, 45)) as pilot:
        await resolved(pilot, app)
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


async def test_the_backup_mx_walk_ends_with_its_outcome_in_the_headline() -> None:
    app = scenario_app("backup-mx")
    async with drive(app, size=(160, 45)) as pilot:
        await resolved(pilot, app)
        await pilot.press("g")
        await until(pilot, lambda: ended(app) and app.driver.state.hop_result is not None, "hop 2")
        headline = app.query_one("#explain-headline")  # the walk's outcome, not its last step
        await until(pilot, lambda: str(headline.render()) == "DELIVERED", "DELIVERED", limit=5)


async def test_enter_reads_the_greeting_so_the_first_n_sends_ehlo() -> None:
    app = make_app(dns_timeout=1)
    async with drive(app, size=(120, 34)) as pilot:
        await resolved(pilot, app)
        tree = app.query_one(MXTree)
        node = next(n for n in tree._address_nodes["192.0.2.10"])
        tree.focus()
        tree.move_cursor(node)
        await pilot.press("enter")
        pane = app.query_one(SessionPane)
        await until(pilot, lambda: pane.session and not pane.busy, "the connection")
        assert [s.stage for s in pane.session.steps] == [Stage.CONNECT, Stage.GREETING]
        status = str(pane.query_one("#session-status").render())
        assert "next: EHLO (n)" in status
        await pilot.press("n")
        await until(pilot, lambda: not pane.busy and len(pane.session.steps) == 3, "EHLO")
        assert pane.session.steps[-1].stage is Stage.EHLO


async def test_p_in_the_tree_says_what_it_did_and_walks_nothing_new() -> None:
    app = make_app(dns_timeout=1)
    async with drive(app, size=(80, 24)) as pilot:
        await resolved(pilot, app)
        app.query_one(MXTree).focus()
        await pilot.press("p")
        await pilot.pause()
        assert app.driver.walk is None, "p started a walk nobody asked for"
        assert any(m.startswith("Profile: ") and "next reply" in m for m in said(app))


async def test_p_after_a_session_does_not_rerun_the_earlier_walk() -> None:
    app = scenario_app("greylist-primary")
    async with drive(app, size=(160, 45)) as pilot:
        await resolved(pilot, app)
        await pilot.press("g")
        await until(pilot, lambda: ended(app), "the walk")
        tree = app.query_one(MXTree)
        address = next(iter(tree._address_nodes))
        tree.focus()
        tree.move_cursor(tree._address_nodes[address][0])
        await pilot.press("enter")
        pane = app.query_one(SessionPane)
        await until(pilot, lambda: pane.session and not pane.busy, "the session")
        await pilot.press("p")
        await until(pilot, lambda: any(m.startswith("Profile: ") for m in said(app)), "p's word")
        assert app.driver.walk is None and pane.session is not None
        assert pane.external == "", "the transcript still shows the person's own session"


async def test_the_scenario_picker_filters_as_you_type() -> None:
    app = make_app(dns_timeout=1)
    async with drive(app, size=(100, 30)) as pilot:
        await resolved(pilot, app)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ScenarioPicker), "the picker")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ScenarioPicker)
        options = picker.query_one(OptionList)
        everything = options.option_count
        await pilot.press(*"grey")
        await pilot.pause()
        shown = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert shown == ["greylist-primary"] and everything > 5
        await pilot.press(*["backspace"] * 4)
        await pilot.press(*"back")  # backup-mx by name before backscatter in a title
        await pilot.pause()
        assert options.get_option_at_index(0).id == "backup-mx"
        opened = []
        picker.dismiss = opened.append  # what Enter would open
        await pilot.press("enter")
        assert opened == ["backup-mx"]


def test_a_long_scenario_title_wraps_under_itself_not_under_the_names() -> None:
    from rich.console import Console

    console = Console(width=50, record=True)
    console.print(scenario_entry("accept-then-bounce", "Accept then bounce: 250 to every one", 18))
    first, *rest = console.export_text().splitlines()
    assert first.startswith("accept-then-bounce  Accept") and rest
    assert all(line.startswith(" " * 20) and line.strip() for line in rest)


async def test_esc_in_the_picker_cancels_even_while_filtering() -> None:
    app = make_app(dns_timeout=1)
    async with drive(app, size=(100, 30)) as pilot:
        await resolved(pilot, app)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ScenarioPicker), "the picker")
        await pilot.press("n", "u", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, ScenarioPicker)


async def stepped_to_rcpt(pilot, app) -> SessionPane:
    await resolved(pilot, app)
    app.set_envelope(replace(app.choices.envelope, recipients=("nobody@example.com",)))
    tree = app.query_one(MXTree)
    tree.focus()
    tree.move_cursor(tree._address_nodes["192.0.2.10"][0])
    await pilot.pause()
    await pilot.press("enter")
    pane = app.query_one(SessionPane)
    for _ in range(10):
        await until(pilot, lambda: pane.session is not None and not pane.busy, "a step")
        if pane.session.steps[-1].stage is Stage.RCPT:
            return pane
        await pilot.press("n")
        await pilot.pause()
    raise AssertionError("never reached RCPT")


async def test_y_copies_the_line_and_Y_the_whole_reply() -> None:
    app = make_app(dns_timeout=1)
    async with drive(app, size=(120, 34)) as pilot:
        await stepped_to_rcpt(pilot, app)
        view = app.query_one(TranscriptView)
        view.focus()
        await pilot.press("end")
        assert cursor_line(view).text.startswith("550 5.1.1")
        await pilot.press("y")
        assert app.clipboard.startswith("550 5.1.1") and "\n" not in app.clipboard
        ehlo = find_row(view._rows, -1, "250-")  # the EHLO reply has many lines
        view._move_cursor(ehlo)
        await pilot.press("Y")
        assert app.clipboard.count("\n") >= 3 and "STARTTLS" in app.clipboard


async def test_ctrl_f_finds_in_the_transcript_then_brackets_move_between_matches() -> None:
    app = make_app(dns_timeout=1)
    async with drive(app, size=(80, 24)) as pilot:
        await stepped_to_rcpt(pilot, app)
        view = app.query_one(TranscriptView)
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


async def test_enter_on_a_transcript_line_shows_it_whole_and_arrows_scroll_sideways() -> None:
    app = make_app(dns_timeout=1)
    async with drive(app, size=(80, 24)) as pilot:
        await stepped_to_rcpt(pilot, app)
        view = app.query_one(TranscriptView)
        await until(pilot, lambda: find_row(view._rows, -1, "550 5.1.1") >= 0, "the 550 line")
        view.focus()
        await pilot.press("right", "right")
        assert view.scroll_x == 16
        await pilot.press("left")
        assert view.scroll_x == 8
        await pilot.press("end", "enter")
        await until(pilot, lambda: isinstance(app.screen, LineScreen), "the whole line")
        assert "550 5.1.1" in str(app.screen.query_one("#line-text").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, LineScreen)


async def test_every_field_of_the_envelope_dialog_is_on_screen_at_80x24() -> None:
    app = make_app(dns_timeout=1)
    async with drive(app, size=(80, 24)) as pilot:
        await resolved(pilot, app)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EnvelopeScreen), "the dialog")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EnvelopeScreen)
        area = app.screen.region
        for box in screen.query(Input):
            assert box.region.height == 1 and area.contains_region(box.region), box.id
        message = screen.query_one("#env-message")
        assert message.region.height >= 4 and area.contains_region(message.region)
        await pilot.press("escape")
        assert not isinstance(app.screen, EnvelopeScreen)
