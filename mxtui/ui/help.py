"""The help screen: every key the app has, grouped by what it works on, as the user has mapped it.

The list is read from the app's bindings when the screen opens, with the user's key map applied,
so a key remapped in the settings shows its new key. Groups and explanations come from the app's
command table (`mxtui.ui.keys`); a binding it does not know lands in "Other" with its own
description.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingsMap, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mxtui.ui.keys import BUILTIN, GROUPS, command_for

GROUP_OF_PREFIX: tuple[tuple[str, str], ...] = (("walk_", "Walk"), ("probe_", "Tree"))
"""Actions not in the command table but clearly of a group, so a new walk key needs no edit."""

# Keys that belong to the widgets rather than the app: always there, not remappable.
NAVIGATION: tuple[tuple[str, str], ...] = (
    ("↑ ↓", "move in the tree, the transcript or a table"),
    ("Enter", "on an address in the tree: connect to it (on a host: its first address)"),
    ("space", "fold or unfold a node of the tree"),
    ("shift+↑ ↓ ← →", "tree: previous/next sibling, parent, next ancestor"),
    ("PgUp PgDn", "scroll the transcript a page"),
    ("Home End", "first line of the transcript; last line (and follow new ones)"),
    ("← →", "transcript: scroll long lines sideways"),
    ("Enter", "on a transcript line: the line whole, wrapped (y copies it)"),
    ("Esc", "leave the box you are typing in (: / find), back to your pane"),
    ("Tab shift+Tab", "move between the panes"),
)


@dataclass(frozen=True)
class HelpEntry:
    """One thing a key does: every key mapped to it, a short name and one line of what for."""

    group: str
    keys: tuple[str, ...]
    description: str
    explanation: str
    action: str


def group_of(action: str, binding_id: str | None = None) -> str:
    """The group of a binding: the command table's (by id, then action), Textual's own
    commands', a known prefix, else "Other"."""
    command = command_for(action, binding_id)
    if command is not None:
        return command.group
    bare = action.removeprefix("app.").split("(")[0]
    if bare in BUILTIN:
        return BUILTIN[bare][0]
    for prefix, group in GROUP_OF_PREFIX:
        if bare.startswith(prefix):
            return group
    return "Other"


def _explanation(action: str, binding: Binding) -> str:
    command = command_for(action, binding.id)
    if command is not None:
        return command.help
    bare = action.removeprefix("app.").split("(")[0]
    return BUILTIN[bare][1] if bare in BUILTIN else (binding.tooltip or "")


def app_bindings(app: App[object]) -> list[tuple[str, Binding]]:
    """The app's own bindings, (key, binding), with the user's key map applied.

    Textual applies the key map only while it walks the focus chain of the active screen, and
    that chain is the help screen's own once it is open; so this copies the app's bindings and
    applies the same key map itself (`App.set_keymap` / `update_keymap` keep it on the app).
    """
    bindings: BindingsMap = app._bindings.copy()
    keymap = getattr(app, "_keymap", {})
    if keymap:
        bindings.apply_keymap(keymap)
    return list(bindings)


def help_entries(
    app: App[object], bindings: Iterable[tuple[str, Binding]] | None = None
) -> list[HelpEntry]:
    """Every binding worth showing, grouped, each once with all of its keys.

    System bindings (ctrl+c's "use ctrl+q" hint) and bindings with no description are left out:
    there is nothing to say about them.
    """
    pairs = app_bindings(app) if bindings is None else list(bindings)
    # A remapped binding moves to the end of Textual's map; show it where the app declared it.
    declared = [] if bindings is not None else list(app._bindings)
    place = {}
    for index, (_key, binding) in enumerate(declared):
        place.setdefault(f"{binding.action}\0{binding.description}", index)
    found: dict[str, tuple[Binding, list[str]]] = {}
    for _key, binding in pairs:
        if binding.system or not binding.description:
            continue
        # One line per thing done: q and ctrl+q both quit, so they share a line.
        ident = f"{binding.action}\0{binding.description}"
        shown = app.get_key_display(binding)
        entry = found.setdefault(ident, (binding, []))
        if shown not in entry[1]:
            entry[1].append(shown)
    ranked = sorted(found.items(), key=lambda item: place.get(item[0], len(place)))
    entries = [
        HelpEntry(
            group=group_of(binding.action, binding.id),
            keys=tuple(sorted(keys, key=len)),  # the plain key before its ctrl+ twin
            description=binding.description,
            explanation=_explanation(binding.action, binding),
            action=binding.action,
        )
        for _ident, (binding, keys) in ranked
    ]
    order = {group: i for i, group in enumerate(GROUPS)}
    return sorted(entries, key=lambda e: order[e.group])  # stable: bindings keep their order


def palette_key(app: App[object], entries: Iterable[HelpEntry]) -> str:
    for entry in entries:
        if entry.action.removeprefix("app.") == "command_palette":
            return " / ".join(entry.keys)
    return app.COMMAND_PALETTE_BINDING


def _table(rows: Iterable[tuple[str, Text]], key_width: int | None = None) -> Table:
    """Keys on the left, what they do on the right; long lines wrap under their own column.
    `key_width` lines the groups' descriptions up with each other (one column of groups)."""
    table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
    table.add_column(no_wrap=True, style="bold", justify="right", min_width=key_width)
    table.add_column(ratio=1)
    for keys, what in rows:
        table.add_row(Text(keys, end=""), what)
    return table


def _title(name: str) -> Text:
    return Text(name, style="bold underline")


def key_text(entry: HelpEntry) -> str:
    return " / ".join(entry.keys)


def group_renderable(group: str, entries: Iterable[HelpEntry], key_width: int = 0) -> Group:
    """One group as a block: its name, then one row per binding (keys at least `key_width`
    wide, so that every group's descriptions start in the same column)."""
    rows = []
    for entry in entries:
        what = Text(end="")
        what.append(entry.description, style="bold")
        if entry.explanation:
            what.append(f": {entry.explanation}")
        rows.append((key_text(entry), what))
    return Group(_title(group), _table(rows, key_width))


def navigation_renderable() -> Group:
    return Group(
        _title("Moving around"), _table((keys, Text(what, end="")) for keys, what in NAVIGATION)
    )


class HelpScreen(ModalScreen[None]):
    """Every key, grouped (Tree, Session, Walk, Explain, App, Other), read from the app's bindings
    as mapped now. Esc, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 96%; max-width: 150; height: 92%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    HelpScreen #help-title { height: auto; margin-bottom: 1; }
    HelpScreen #help-groups { layout: grid; grid-size: 2; grid-gutter: 1 3; height: auto; }
    HelpScreen.-narrow #help-groups { grid-size: 1; }
    HelpScreen .help-group { height: auto; }
    HelpScreen #help-close { height: auto; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", id="help-close"),
    ]

    NARROW = 110
    """Below this many columns the groups stack in one column."""

    def __init__(self, bindings: Iterable[tuple[str, Binding]] | None = None) -> None:
        """`bindings` defaults to the app's own, with the user's key map (see `app_bindings`)."""
        super().__init__()
        self._given = list(bindings) if bindings is not None else None
        self.entries: list[HelpEntry] = []

    def compose(self) -> ComposeResult:
        self.entries = help_entries(self.app, self._given)
        palette = palette_key(self.app, self.entries)
        title = Text(end="")
        title.append("Keys", style="bold")
        title.append(
            f" — {palette} opens the command palette (every command by name, profiles, "
            "scenarios, theme). Keys can be remapped in the settings file ([keys] by binding id)."
        )
        with Vertical():
            yield Static(title, id="help-title")
            width = max((len(key_text(e)) for e in self.entries), default=0)
            with VerticalScroll(id="help-scroll"), Vertical(id="help-groups"):
                for group in GROUPS:
                    members = [e for e in self.entries if e.group == group]
                    if members:
                        block = group_renderable(group, members, width)
                        yield Static(block, classes="help-group")
                yield Static(navigation_renderable(), classes="help-group")
            yield Static(
                Text("↑ ↓ PgUp PgDn scroll; Esc, q or ? closes this help."), id="help-close"
            )

    def on_resize(self) -> None:
        self.set_class(self.app.size.width < self.NARROW, "-narrow")

    def on_mount(self) -> None:
        self.on_resize()

    def action_close(self) -> None:
        self.dismiss(None)
