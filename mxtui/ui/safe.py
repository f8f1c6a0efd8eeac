"""Untrusted text into widgets: always as literal text, never as markup.

Strings from servers and DNS answers are already printable (see `mxtui.text`); these helpers make
sure they reach Textual as `Text`/`Content` objects, which no markup parser ever reads.
"""

from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.markup import escape

from mxtui.text import printable


def text(value: str, style: str = "") -> Text:
    return Text(printable(value), style=style, no_wrap=True, end="")


def content(value: str) -> Content:
    return Content(printable(value))


def markup_literal(value: str) -> str:
    """For the few Textual APIs that take only a markup string (command palette titles and
    help): printable, with every square bracket escaped, so it reads as itself."""
    return escape(printable(value))
