"""The app's footer draws what Textual's draws, wide and compact, after focus changes that
change the keys and those that do not, and follows a change of `compact`; while each key is
styled once instead of three times, and a focus change that leaves the keys as they are does not
rebuild them."""

from __future__ import annotations

import io
from typing import ClassVar

import pytest
from rich.console import Console
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer as TextualFooter
from textual.widgets import Input, Static
from textual.widgets._footer import FooterKey
from ui_support import drive

from mxtui.ui.footer import Footer


class Pane(Static, can_focus=True):
    """A focusable pane that adds no key."""


class Keyed(Static, can_focus=True):
    """A focusable pane with a key of its own, which it disables while `locked`."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("x", "cut", "Cut")]
    locked = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "cut" and self.locked else True


class FooterApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next_step", "Next step"),
        Binding("g", "walk", "Walk/pause"),
        Binding("p", "profile", "Profile"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, footer: type[TextualFooter], compact: bool) -> None:
        super().__init__()
        self.footer_type = footer
        self.compact = compact

    def compose(self) -> ComposeResult:
        yield Pane("one", id="one")
        yield Pane("two", id="two")
        yield Keyed("keyed", id="keyed")
        yield Input(id="box")
        yield self.footer_type(compact=self.compact)


def footer_text(app: App[None]) -> list[str]:
    """The footer's line as the terminal shows it, with its colours."""
    console = Console(width=80, height=6, file=io.StringIO(), record=True, force_terminal=True)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text(styles=True).splitlines()[-1:]


def keys(app: App[None]) -> list[FooterKey]:
    return list(app.query(FooterKey))


async def footer_lines(footer: type[TextualFooter], compact: bool) -> list[str]:
    """The footer's line after each move: start, a pane with the same keys, a pane with one key
    more, that key disabled, an input (other keys), back; then `compact` flipped, the pane with
    the disabled key and back."""
    app = FooterApp(footer, compact)
    lines: list[str] = []
    async with drive(app, size=(80, 6)) as pilot:
        await pilot.pause()
        shown = app.query_one(TextualFooter)
        for flipped in (False, True):
            if flipped:
                shown.compact = not compact
                await pilot.pause()
            lines += footer_text(app)
            moves = ("#keyed", "#one") if flipped else ("#two", "#keyed", "lock", "#box", "#one")
            for target in moves:
                if target == "lock":
                    app.query_one(Keyed).locked = True
                    app.refresh_bindings()
                else:
                    app.query_one(target).focus()
                await pilot.pause()
                lines += footer_text(app)
            mine = [k for k in keys(app) if not k.has_class("-command-palette")]
            assert len(mine) == 4 and all(k.has_class("-compact") is shown.compact for k in mine)
            assert all(k.compact is shown.compact for k in mine)
    return lines


@pytest.mark.parametrize("compact", [False, True])
async def test_the_footer_draws_as_textuals_does(compact: bool) -> None:
    ours = await footer_lines(Footer, compact)
    theirs = await footer_lines(TextualFooter, compact)
    assert ours == theirs
    assert len(set(ours)) >= 5  # Cut, disabled, the input's, compact, disabled compact


async def test_a_focus_change_that_keeps_the_keys_does_not_rebuild_them() -> None:
    app = FooterApp(Footer, False)
    async with drive(app, size=(80, 6)) as pilot:
        app.query_one("#one").focus()
        await pilot.pause()
        before = keys(app)
        app.query_one("#two").focus()
        await pilot.pause()
        assert keys(app) == before  # the same widgets: nothing removed and made again
        app.query_one("#keyed").focus()
        await pilot.pause()
        assert len(keys(app)) == len(before) + 1 and not set(keys(app)) & set(before)


async def test_keys_that_do_not_fit_whole_are_left_out_not_cut_and_come_back_when_wider() -> None:
    """Textual cuts the last key it can draw mid-word ("p Pro▏"); ours leaves out every key
    from the first that does not fit whole before the palette key, at any width and after a
    rebuild, and shows them again when the terminal grows."""

    def shown(app: App[None]) -> list[FooterKey]:
        return [k for k in keys(app) if k.display and not k.has_class("-command-palette")]

    def whole(app: App[None]) -> bool:
        (palette,) = [k for k in keys(app) if k.has_class("-command-palette")]
        return all(k.region.right <= palette.region.x for k in shown(app))

    app = FooterApp(Footer, False)
    async with drive(app, size=(40, 6)) as pilot:
        await pilot.pause()
        narrow = shown(app)
        assert 0 < len(narrow) < 4 and whole(app)
        assert narrow == keys(app)[: len(narrow)]  # the first keys, in their order
        assert footer_text(app)[0].count("Next step") == 1
        await pilot.resize_terminal(80, 6)
        await pilot.pause()
        assert len(shown(app)) == 4 and whole(app)
        app.query_one("#keyed").focus()  # a key more: the footer is rebuilt
        await pilot.resize_terminal(44, 6)
        await pilot.pause()
        assert 0 < len(shown(app)) < 5 and whole(app)


def test_the_apps_first_footer_key_is_help() -> None:
    from mxtui.ui.keys import bindings

    shown = [b for b in bindings() if b.show]
    assert shown[0].key == "question_mark" and shown[0].description == "Help"


async def restyles(footer: type[TextualFooter], monkeypatch: pytest.MonkeyPatch) -> int:
    """How often a key's compact watcher changed its class while the footer was made."""
    changes: list[bool] = []
    original = FooterKey._watch_compact

    def watch(self: FooterKey, compact: bool) -> None:
        if not self.has_class("-command-palette"):
            changes.append(self.has_class("-compact") != compact)
        original(self, compact)

    with monkeypatch.context() as patch:
        patch.setattr(FooterKey, "_watch_compact", watch)
        app = FooterApp(footer, False)
        async with drive(app, size=(80, 6)) as pilot:
            await pilot.pause()
    return sum(changes)


async def test_a_key_is_styled_once_not_restyled_by_its_compact_watcher(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert await restyles(TextualFooter, monkeypatch) >= 8  # made compact, then wide: 4 keys, ×2
    assert await restyles(Footer, monkeypatch) == 0
