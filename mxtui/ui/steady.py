"""A Static that ignores being given what it already shows.

Textual's `Static.update` always asks for a new layout of the whole screen (the new text may be
taller or wider). The walk's status, the session's status line, the detail pane and the
explanation are given their texts again after every event of a walk, most of them unchanged:
each of those was a full re-layout and repaint for nothing. Here an update to the same content
(same text and the same styles on it) does nothing, and any other update is Textual's.
"""

from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.visual import VisualType
from textual.widgets import Static


class SteadyStatic(Static):
    """Textual's Static, re-laid out only when what it shows changes."""

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        if same_content(self.content, content):
            return
        super().update(content, layout=layout)


def same_content(shown: object, new: object) -> bool:
    """True when `new` draws exactly what `shown` draws: equal strings, or equal texts with equal
    styles (Textual's `Content` compares its plain text only, so its spans are compared too; a
    Rich `Text` compares both). Anything else counts as changed."""
    if type(shown) is not type(new):
        return False
    if isinstance(shown, Content) and isinstance(new, Content):
        return shown.plain == new.plain and list(shown.spans) == list(new.spans)
    return isinstance(shown, str | Text) and shown == new
