"""Untrusted text into widgets: always as literal text, never as markup.

Strings from servers and DNS answers are already printable (see `mxtui.text`); these helpers make
sure they reach Textual as `Text`/`Content` objects, which no markup parser ever reads.
"""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from mxtui.text import printable


def text(value: str, style: str = "") -> Text:
    return Text(printable(value), style=style, no_wrap=True, end="")


def content(value: str) -> Content:
    return Content(printable(value))
