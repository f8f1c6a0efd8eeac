"""The app's commands, once: binding id → key, action, label, what it does, group, palette.

`BINDINGS` (the footer and the keys), the help screen (groups and explanations) and the command
palette are all made from `COMMANDS`, so a command added here has a key, a line in the help and a
palette entry, and a binding id the settings file can remap (``[keys]``).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

GROUPS: tuple[str, ...] = ("Tree", "Session", "Walk", "Explain", "App", "Other")


@dataclass(frozen=True)
class Command:
    """One thing the person can do: its binding `id` (remappable), default `key`, the `action`
    it runs, a short `label` (footer, help, palette), one line of `help`, its help `group`, and
    whether the command palette lists it (`palette`, with that name)."""

    id: str
    key: str
    action: str
    label: str
    help: str
    group: str
    palette: str = ""
    show: bool = True


COMMANDS: tuple[Command, ...] = (
    Command("help", "question_mark", "open('help')", "Help", "this screen", "App",
            "Help: all keys"),  # first: the footer's first key, on screen at any width
    Command("next-step", "n", "next_step", "Next step",
            "the next SMTP command of the session, walk or replay (a walk starts if none)",
            "Session"),
    Command("walk", "g", "desk('toggle')", "Walk/pause",
            "run or pause the delivery walk over the whole MX list", "Walk",
            "Walk: run / pause"),
    Command("pick-scenario", "s", "open('scenarios')", "Scenarios",
            "open a lab scenario (or the demo) with its narrative", "Walk", "Scenarios"),
    Command("show-mx", "1", "show_pane('mx')", "Tree",
            "bring the MX tree forward (narrow terminals) or focus it", "Tree"),
    Command("show-session", "2", "show_pane('session')", "Session",
            "bring the session forward (narrow terminals) or focus it", "Session"),
    Command("show-explain", "3", "show_pane('explain')", "Explain",
            "bring the explanation forward (narrow terminals) or focus it", "Explain"),
    Command("cycle-profile", "p", "cycle_profile", "Profile",
            "explain as the next MTA profile would act (Postfix, Exim, …)", "Explain"),
    Command("ndr-preview", "b", "open('ndr')", "NDR",
            "the bounce or delay notice the profile would send", "Explain", "NDR preview"),
    Command("edit-envelope", "e", "open('envelope')", "Envelope",
            "edit sender, recipients, EHLO name and the message", "Session", "Envelope"),
    Command("edit-connection", "E", "open('connection')", "Connection",
            "how the sessions you step connect: protocol (ESMTP, SMTP, LMTP), PIPELINING, "
            "CHUNKING, TLS (mode, verification, CA, client certificate, SNI, versions, ciphers) "
            "and XCLIENT, as mxtui smtp's flags", "Session", "Connection options", show=False),
    Command("walk-next-retry", "f", "desk('next_retry')", "Next retry",
            "the next retry: simulated time in the lab, real time towards real hosts", "Walk",
            "Walk: next retry"),
    Command("walk-to-end", "F", "desk('to_end')", "To the end",
            "every retry at once, to delivery or the give-up bounce (lab only)", "Walk",
            "Walk: to the end"),
    Command("walk-reshuffle", "R", "desk('restart')", "Reshuffle",
            "start over with a new shuffle of equal preferences (a replay: from the start)",
            "Walk", "Walk: reshuffle"),
    Command("walk-faster", "plus", "desk('faster')", "Faster", "walk or replay faster", "Walk"),
    Command("walk-slower", "minus", "desk('slower')", "Slower", "walk or replay slower", "Walk"),
    Command("fold-narrative", "v", "open('narrative')", "Narrative",
            "fold or unfold the scenario's narrative", "Walk"),
    Command("focus-raw", "colon", "focus('#raw')", "Raw cmd",
            "type a raw SMTP command to send", "Session"),
    Command("rset", "x", "session('rset')", "RSET",
            "send RSET: forget the transaction, keep the connection", "Session"),
    Command("noop", "o", "session('noop')", "NOOP",
            "send NOOP: is the server still there?", "Session"),
    Command("quit-session", "c", "session('quit')", "QUIT",
            "send QUIT and close the connection politely", "Session"),
    Command("copy-line", "y", "open('copy-line')", "Copy line",
            "copy the transcript line under the cursor to the clipboard (OSC 52: works over SSH "
            "in terminals that allow it)", "Session", "Copy the transcript line"),
    Command("copy-reply", "Y", "open('copy-reply')", "Copy reply",
            "copy the whole reply the cursor is on (every line of a multi-line reply)",
            "Session", "Copy the reply"),
    Command("find", "ctrl+f", "open('find')", "Find",
            "find in the transcript (Enter: next match; Esc leaves the box)", "Session",
            "Find in the transcript"),
    Command("find-next", "right_square_bracket", "open('find-next')", "Next match",
            "the next line holding what was found last", "Session", show=False),
    Command("find-previous", "left_square_bracket", "open('find-previous')", "Prev match",
            "the previous line holding what was found last", "Session", show=False),
    Command("export", "w", "open('export')", "Export",
            "save the transcript as text and JSON Lines, and a recording to replay", "Session",
            "Export transcript"),
    Command("resolve", "r", "open('resolve')", "Re-resolve",
            "look the domain's MX records up again", "Tree"),
    Command("focus-domain", "slash", "focus('#domain')", "Domain",
            "type another domain (Enter resolves it)", "Tree"),
    Command("focus-tree", "t", "focus('#mx-tree')", "Tree", "back to the MX tree", "Tree"),
    Command("probe", "P", "open('probe')", "Probe all",
            "probe every address of every MX host at once", "Tree", "Probe every address"),
    Command("leave-input", "escape", "open('leave')", "Leave box",
            "leave the box you are typing in (: raw command, / domain, find) and go back to the "
            "pane you came from: x, o, c are keys again", "App"),
    Command("quit", "q", "quit", "Quit", "leave mxtui", "App"),
)  # fmt: skip

BY_ID: dict[str, Command] = {c.id: c for c in COMMANDS}
BY_ACTION: dict[str, Command] = {c.action: c for c in COMMANDS}

# Textual's own commands (no id of ours), for the help screen.
BUILTIN: dict[str, tuple[str, str]] = {
    "command_palette": (
        "App", "the command palette: every command by name, profiles, scenarios, theme"
    ),
    "quit": ("App", "leave mxtui"),
}  # fmt: skip


def bindings() -> list[Binding]:
    """The app's BINDINGS, from the table."""
    return [Binding(c.key, c.action, c.label, show=c.show, id=c.id) for c in COMMANDS]


def command_for(action: str, binding_id: str | None = None) -> Command | None:
    """The table's command for a binding (by id first, then by action)."""
    if binding_id and binding_id in BY_ID:
        return BY_ID[binding_id]
    return BY_ACTION.get(action.removeprefix("app."))
