"""Which panes share the screen, from the terminal's width, and again on every resize.

Three widths: **wide** (150 columns and more) shows the tree, the session and the explanation
side by side; **medium** (110–149) shows the tree beside the session, and `3` puts the
explanation where the tree was (`1` brings the tree back), so the tree keeps the width its
labels need; **narrow** (below 110, as over an 80×24 SSH session) shows one pane at a time,
switched with `1`, `2`, `3`. The layout is chosen from the size each resize reports, so a
terminal made wider or narrower while the app runs gets the layout of its new size, and the
pane the person is working in (the one holding the focus) is the one kept on screen: a
narrowing that hid it would hand the keys to whatever Textual focuses next (the domain box,
where `2` is a letter typed).
"""

from __future__ import annotations

from typing import Literal

from textual.app import App
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Footer, Input

Layout = Literal["wide", "medium", "narrow"]

WIDE = 150
NARROW = 110
PANES = ("mx", "session", "explain")
PANE_OF_ID = {"mx-pane": "mx", "session": "session", "explain-pane": "explain"}
"""The pane each of the main screen's columns is (its id → the name `1`, `2`, `3` show)."""


def layout_for(width: int) -> Layout:
    """The layout for a terminal `width` columns wide."""
    if width >= WIDE:
        return "wide"
    return "medium" if width >= NARROW else "narrow"


def pane_kept(focused: Widget | None, layout: Layout, shown: str) -> str:
    """The pane to put forward in `layout`: the one holding the focus where `layout` would hide
    it (narrow shows one pane; medium always shows the session, and the tree or the
    explanation), else `shown`."""
    ids = [node.id for node in focused.ancestors_with_self] if focused is not None else []
    pane = next((PANE_OF_ID[i] for i in ids if i in PANE_OF_ID), None)
    if pane is None:
        return shown  # no pane has the focus (another screen's widget, or nothing)
    if layout == "narrow" or (layout == "medium" and pane != "session"):
        return pane
    return shown


def apply_layout(app: App[int], size: Size, shown: str) -> None:
    """Set the app's layout classes for a terminal of `size` with pane `shown` forward (a
    short terminal also gets one-line boxes: the domain, the raw command, find).

    The app's classes change together and the screen is restyled once: each class changed on
    its own restyles every widget on the screen, and a pane switch changes two."""
    layout = layout_for(size.width)
    wanted = {"-narrow": layout == "narrow", "-medium": layout == "medium"}
    wanted.update({f"-show-{pane}": shown == pane for pane in PANES})
    changed = [name for name, on in wanted.items() if app.has_class(name) != on]
    for name in changed:
        app.set_class(wanted[name], name, update=False)
    if changed:
        app.update_node_styles()
    short = layout == "narrow" or size.height < 30
    for footer in app.query(Footer):
        footer.compact = layout == "narrow"
    for box in app.query("#raw, #domain, #find").results(Input):
        box.compact = short
