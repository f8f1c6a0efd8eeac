"""Esc leaves a box: focus goes back to the pane it came from.

Typing goes into the box that has the focus (the `:` raw command line, the `/` domain box, the
transcript's find box), so while one has it, `x` is a letter and not RSET. Esc gives the focus
back to the pane the person was in before the box (the last focused widget that is not a box),
or, when that pane is gone or hidden, to the pane the box belongs to.
"""

from __future__ import annotations

from textual.app import App
from textual.widget import Widget
from textual.widgets import Input

HOME: dict[str, str] = {"raw": "#transcript", "domain": "#mx-tree", "find": "#transcript"}
"""Where Esc goes from each box of the main screen when the pane it came from is gone."""


class FocusMemory:
    """The last pane (any focused widget but a box) of the main screen."""

    def __init__(self) -> None:
        self.pane: Widget | None = None

    def seen(self, widget: Widget | None) -> None:
        """The main screen's focus moved to `widget` (a box is not a pane: not kept)."""
        if widget is not None and not isinstance(widget, Input):
            self.pane = widget

    def leave(self, app: App[int]) -> bool:
        """Move the focus out of the box that has it; False when no box has it."""
        box = app.focused
        if not isinstance(box, Input) or box.id not in HOME:
            return False
        pane = self.pane
        gone = pane is None or not pane.is_attached or pane.screen is not box.screen
        if gone or not pane.region.width:  # hidden: a narrow terminal shows another pane
            pane = app.query_one(HOME[box.id])
        pane.focus()
        return True
