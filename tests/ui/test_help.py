"""The help screen (? opens it) lists every key of the app, grouped, as the user has mapped it,
including bindings added after it was written; Esc, q and ? close it.

One Pilot test per app (starting the app is most of a Pilot test's cost): its docstring lists
what it proves, in order, and each step closes the help before the next opens it again."""

from __future__ import annotations

import re
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static
from ui_support import drive, workers_settled

from mxtui.ui.app import MXTuiApp
from mxtui.ui.factory import make_app
from mxtui.ui.help import GROUPS, HelpEntry, HelpScreen, group_of, help_entries


def by_description(entries: list[HelpEntry]) -> dict[str, HelpEntry]:
    return {e.description: e for e in entries}


def screen_text(screen: HelpScreen) -> str:
    """What the screen's texts draw, each run of spaces made one (the key column pads)."""
    lines = []
    for static in screen.query(Static):
        lines += [strip.text for strip in static.render_lines(static.region.reset_offset)]
    return "\n".join(" ".join(line.split()) for line in lines)


async def open_help(app, pilot) -> HelpScreen:
    screen = HelpScreen()
    await app.push_screen(screen)
    await pilot.pause()
    return screen


async def test_the_demos_help_at_80x24_then_at_120_columns_remapped_and_extended() -> None:
    """On the demo, from an 80×24 terminal, one thing after another:

    - ? opens the help, which lists every binding of the app (each action of
      `MXTuiApp.BINDINGS` has its entry);
    - at 80×24 the groups stack in one column, and the key groups' descriptions start in one
      column whatever each group's widest key;
    - Esc, q and ? each close it (q closes the help, it does not quit the app);
    - at 120 columns every app binding is listed in its group with its keys (none in
      "Other"), and the texts say how to open the palette, what Enter on an address does,
      how to move around and what n sends;
    - a remapped key shows its new key (f5 for Next step, ^w and space for Walk/pause) and its
      entry keeps the place the app gave it;
    - a binding added later appears without edits: in its group when its action names one
      (`walk_rewind`: Walk), else under "Other"."""
    app = make_app(dns_timeout=1)
    async with drive(app, size=(80, 24)) as pilot:
        await workers_settled(app, pilot)
        main = app.screen

        await pilot.press("question_mark")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        listed = {entry.action for entry in help_entries(app)}
        for binding in MXTuiApp.BINDINGS:
            assert binding.action in listed, binding.action
        assert screen.has_class("-narrow")
        groups = list(screen.query(".help-group"))
        assert len({g.region.x for g in groups}) == 1
        # the key groups' descriptions start in one column, whatever each group's widest key
        starts = set()
        for group in groups[:-1]:  # the last is "Moving around", with its long key names
            first_row = group.render_lines(group.region.reset_offset)[1].text
            starts.add(re.search(r"\S  (?=\S)", first_row).end())  # keys, 2 spaces, words
        assert len(groups) > 3 and len(starts) == 1
        await pilot.press("escape")
        assert app.screen is main

        for key in ("escape", "q", "question_mark"):  # the help opened again for each key
            await open_help(app, pilot)
            assert isinstance(app.screen, HelpScreen)
            await pilot.press(key)
            assert app.screen is main, key
            assert app.is_running  # q closed the help, it did not quit the app

        await pilot.resize_terminal(120, 35)  # which settles the app, as a key does
        screen = await open_help(app, pilot)
        assert not screen.has_class("-narrow")
        entries = by_description(screen.entries)
        expected = {
            "Re-resolve": ("Tree", ("r",)),
            "Domain": ("Tree", ("/",)),
            "Next step": ("Session", ("n",)),
            "Raw cmd": ("Session", (":",)),
            "Walk/pause": ("Walk", ("g",)),
            "Faster": ("Walk", ("+",)),
            "To the end": ("Walk", ("F",)),
            "Profile": ("Explain", ("p",)),
            "NDR": ("Explain", ("b",)),
            "Quit": ("App", ("q", "^q")),
            "palette": ("App", ("^p",)),
        }
        for description, (group, keys) in expected.items():
            assert entries[description].group == group, description
            assert entries[description].keys == keys, description
        ids = {b.id for b in MXTuiApp.BINDINGS if isinstance(b, Binding)}
        assert len(ids) <= len(screen.entries)  # every id'd binding has its entry
        assert not [e for e in screen.entries if e.group == "Other"]
        text = screen_text(screen)
        assert "^p opens the command palette" in text
        assert "Enter on an address in the tree" in text and "Moving around" in text
        assert "the next SMTP command" in text
        await pilot.press("escape")
        assert app.screen is main

        app.set_keymap({"next-step": "f5", "walk": "ctrl+w,space"})
        screen = await open_help(app, pilot)
        entries = by_description(screen.entries)
        assert entries["Next step"].keys == ("f5",)
        assert entries["Walk/pause"].keys == ("^w", "space")
        text = screen_text(screen)
        assert "f5 Next step:" in text
        assert "n Next step" not in text
        session = [e.description for e in screen.entries if e.group == "Session"]
        assert session[0] == "Next step"  # remapped, it keeps the place the app gave it
        await pilot.press("escape")
        assert app.screen is main

        app.bind("z", "frobnicate", description="Frobnicate")
        app.bind("ctrl+r", "walk_rewind", description="Rewind")
        screen = await open_help(app, pilot)
        entries = by_description(screen.entries)
        assert entries["Frobnicate"].group == "Other" and entries["Frobnicate"].keys == ("z",)
        assert entries["Rewind"].group == "Walk"
        assert "Other" in screen_text(screen)


class SmallApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "rset", "RSET", id="rset"),
        Binding("k", "show_pane('explain')", "Explain", id="show-explain"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("small")


async def test_a_small_app_groups_by_action_and_given_bindings_replace_its_own() -> None:
    """On an app that is not mxtui: its help groups its bindings by action, an action with
    arguments included (`show_pane('explain')`: Explain); a help given bindings lists those
    instead of the app's own."""
    app = SmallApp()
    async with drive(app, size=(100, 30)) as pilot:
        screen = await open_help(app, pilot)
        entries = by_description(screen.entries)
        assert entries["RSET"].group == "Session" and entries["Explain"].group == "Explain"
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)

        screen = HelpScreen([("m", Binding("m", "next_step", "Step"))])
        await app.push_screen(screen)
        await pilot.pause()
        assert [(e.description, e.group) for e in screen.entries] == [("Step", "Session")]


def test_group_of_uses_full_name_then_bare_name_then_prefix() -> None:
    assert group_of("show_pane('mx')") == "Tree"
    assert group_of("show_pane('session')") == "Session"
    assert group_of("app.quit") == "App"
    assert group_of("walk_sideways") == "Walk"
    assert group_of("something_else") == "Other"
    assert set(GROUPS) >= {"Tree", "Session", "Walk", "Explain", "App", "Other"}


def test_system_and_undescribed_bindings_are_left_out() -> None:
    app = SmallApp()
    pairs = [
        ("ctrl+c", Binding("ctrl+c", "help_quit", show=False, system=True)),
        ("y", Binding("y", "nothing")),
        ("x", Binding("x", "rset", "RSET")),
    ]
    assert [e.description for e in help_entries(app, pairs)] == ["RSET"]
