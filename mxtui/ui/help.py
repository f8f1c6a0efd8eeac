"""The help screen: every key the app has, grouped by what it works on, as the user has mapped it.

The list is read from the app's bindings when the screen opens, with the user's key map applied,
so a key remapped in the settings shows its new key and a binding added to the app later shows up
without touching this file. Only the grouping and the longer explanations are tables here, keyed
by action name; an action this file does not know lands in "Other" with its own description.
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

GROUPS: tuple[str, ...] = ("Tree", "Session", "Walk", "Explain", "App", "Other")

GROUP_OF_ACTION: dict[str, str] = {
    # Tree: finding the MX hosts.
    "resolve": "Tree",
    "focus_domain": "Tree",
    "focus_tree": "Tree",
    "show_pane('mx')": "Tree",
    "probe": "Tree",
    "open_probe": "Tree",
    "show_probe": "Tree",
    # Session: talking to one address step by step.
    "next_step": "Session",
    "rset": "Session",
    "noop": "Session",
    "quit_session": "Session",
    "focus_raw": "Session",
    "edit_envelope": "Session",
    "export": "Session",
    "show_pane('session')": "Session",
    # Walk: what a sending MTA does, host after host.
    "walk_toggle": "Walk",
    "walk_next_retry": "Walk",
    "walk_to_end": "Walk",
    "walk_reshuffle": "Walk",
    "walk_faster": "Walk",
    "walk_slower": "Walk",
    "fold_narrative": "Walk",
    "pick_scenario": "Walk",
    # Explain: the reasoning behind each reply.
    "cycle_profile": "Explain",
    "ndr_preview": "Explain",
    "show_pane('explain')": "Explain",
    # App.
    "quit": "App",
    "command_palette": "App",
    "help": "App",
    "show_help": "App",
    "toggle_dark": "App",
    "settings": "App",
}
GROUP_OF_PREFIX: tuple[tuple[str, str], ...] = (("walk_", "Walk"), ("probe_", "Tree"))
"""Actions not named above but clearly of a group, so a new walk key needs no edit here."""

EXPLAIN: dict[str, str] = {
    "resolve": "look the domain's MX records up again",
    "focus_domain": "type another domain (Enter resolves it)",
    "focus_tree": "back to the MX tree",
    "show_pane('mx')": "bring the MX tree forward (narrow terminals) or focus it",
    "probe": "probe every address of every MX host at once",
    "open_probe": "probe every address of every MX host at once",
    "show_probe": "probe every address of every MX host at once",
    "next_step": "the next SMTP command of the session, walk or replay (a walk starts if none)",
    "rset": "send RSET: forget the transaction, keep the connection",
    "noop": "send NOOP: is the server still there?",
    "quit_session": "send QUIT and close the connection politely",
    "focus_raw": "type a raw SMTP command to send",
    "edit_envelope": "edit sender, recipients, EHLO name and the message",
    "export": "save the transcript as text and JSON Lines, and a recording to replay",
    "show_pane('session')": "bring the session forward (narrow terminals) or focus it",
    "walk_toggle": "run or pause the delivery walk over the whole MX list",
    "walk_next_retry": "jump simulated time to the next retry and make it",
    "walk_to_end": "every retry at once, to delivery or the give-up bounce",
    "walk_reshuffle": "start over with a new shuffle of equal preferences",
    "walk_faster": "walk faster",
    "walk_slower": "walk slower",
    "fold_narrative": "fold or unfold the scenario's narrative",
    "pick_scenario": "open a lab scenario (or the demo) with its narrative",
    "cycle_profile": "explain as the next MTA profile would act (Postfix, Exim, …)",
    "ndr_preview": "the bounce or delay notice the profile would send",
    "show_pane('explain')": "bring the explanation forward (narrow terminals) or focus it",
    "quit": "leave mxtui",
    "command_palette": "the command palette: every command by name, profiles, scenarios, theme",
    "help": "this screen",
    "show_help": "this screen",
}

# Keys that belong to the widgets rather than the app: always there, not remappable.
NAVIGATION: tuple[tuple[str, str], ...] = (
    ("↑ ↓", "move in the tree, the transcript or a table"),
    ("Enter", "on an address in the tree: connect to it (on a host: its first address)"),
    ("space", "fold or unfold a node of the tree"),
    ("shift+↑ ↓ ← →", "tree: previous/next sibling, parent, next ancestor"),
    ("PgUp PgDn", "scroll the transcript a page"),
    ("Home End", "first line of the transcript; last line (and follow new ones)"),
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


def group_of(action: str) -> str:
    """The group of an action: by its full name (with arguments), its bare name, a known
    prefix, else "Other"."""
    bare = action.removeprefix("app.").split("(")[0]
    for name in (action.removeprefix("app."), bare):
        if name in GROUP_OF_ACTION:
            return GROUP_OF_ACTION[name]
    for prefix, group in GROUP_OF_PREFIX:
        if bare.startswith(prefix):
            return group
    return "Other"


def _explanation(action: str, binding: Binding) -> str:
    name = action.removeprefix("app.")
    bare = name.split("(")[0]
    return EXPLAIN.get(name) or EXPLAIN.get(bare) or binding.tooltip or ""


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
            group=group_of(binding.action),
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


def _table(rows: Iterable[tuple[str, Text]]) -> Table:
    """Keys on the left, what they do on the right; long lines wrap under their own column."""
    table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
    table.add_column(no_wrap=True, style="bold", justify="right")
    table.add_column(ratio=1)
    for keys, what in rows:
        table.add_row(Text(keys, end=""), what)
    return table


def _title(name: str) -> Text:
    return Text(name, style="bold underline")


def group_renderable(group: str, entries: Iterable[HelpEntry]) -> Group:
    """One group as a block: its name, then one row per binding."""
    rows = []
    for entry in entries:
        what = Text(end="")
        what.append(entry.description, style="bold")
        if entry.explanation:
            what.append(f": {entry.explanation}")
        rows.append((" / ".join(entry.keys), what))
    return Group(_title(group), _table(rows))


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
            with VerticalScroll(id="help-scroll"), Vertical(id="help-groups"):
                for group in GROUPS:
                    members = [e for e in self.entries if e.group == group]
                    if members:
                        yield Static(group_renderable(group, members), classes="help-group")
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
