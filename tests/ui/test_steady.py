"""A SteadyStatic ignores being given what it already shows (no re-layout of the screen), and
takes anything else, a change of style alone included, as Textual's Static does."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.content import Content
from ui_support import drive

from mxtui.ui.steady import SteadyStatic, same_content


def test_same_content_compares_the_text_and_its_styles() -> None:
    assert same_content("a", "a") and not same_content("a", "b")
    assert same_content(Content("a"), Content("a"))
    assert not same_content(Content.styled("a", "bold"), Content("a"))  # Content's == says equal
    assert Content.styled("a", "bold") == Content("a")
    assert same_content(Text("a", style="red"), Text("a", style="red"))
    assert not same_content(Text("a"), Text.assemble(("a", "bold")))
    assert not same_content("a", Content("a")) and not same_content(object(), object())


class OneLine(App[None]):
    def compose(self) -> ComposeResult:
        yield SteadyStatic("start", id="line")


async def test_an_update_to_the_same_content_lays_nothing_out(monkeypatch) -> None:
    app = OneLine()
    async with drive(app, size=(40, 3)) as pilot:
        line = app.query_one(SteadyStatic)
        layouts: list[bool] = []
        refresh = line.refresh

        def counted(*regions, **flags):
            layouts.append(flags.get("layout", False))
            return refresh(*regions, **flags)

        monkeypatch.setattr(line, "refresh", counted)
        line.update("start")
        line.update(Content("two"))
        line.update(Content("two"))
        line.update(Content.styled("two", "bold"))
        await pilot.pause()
        assert layouts == [True, True]  # the new text, then the same text in bold
        assert str(line.render()) == "two"
