"""The walk's widgets: its status lines, the scenario's narrative, and the scenario picker.

They render a `WalkState` and a `Scenario`; the app runs the walk. Every string that came from a
server, a zone or a scenario file reaches the screen as `Content`, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from mxtui.desk.walk_state import MARK_SYMBOL, RECIPIENT_SYMBOL, WalkState
from mxtui.lab.scenarios import Scenario
from mxtui.model import RecipientStatus
from mxtui.policy import PROFILES
from mxtui.text import clock_offset, printable
from mxtui.ui.steady import SteadyStatic

_MARK_STYLE = {
    "trying": "bold $accent",
    "failed": "$text-error",
    "deferred": "$text-warning",
    "bounced": "$text-error",
    "accepted": "$text-success",
    "held": "$text-warning",
    "done": "$text-muted",
}
_RECIPIENT_STYLE = {
    RecipientStatus.PENDING: "$text-muted",
    RecipientStatus.ACCEPTED: "$text-success",
    RecipientStatus.DELIVERED: "bold $text-success",
    RecipientStatus.CARRIED: "$text-warning",
    RecipientStatus.DEFERRED: "$text-warning",
    RecipientStatus.BOUNCED: "bold $text-error",
    RecipientStatus.HELD: "$text-warning",
}
_OUTCOME_STYLE = {
    "delivered": "bold $text-success",
    "partial": "bold $text-warning",
    "deferred": "bold $text-warning",
    "bounced": "bold $text-error",
    "held": "bold $text-warning",
}

DEMO = "demo"
"""The picker's name for the built-in demo lab (example.com and its cases)."""


class WalkStatus(Vertical):
    """Where the walk is: profile, seed, attempt and simulated time (the head line), the try
    list with each address's mark and every recipient's state (a list that scrolls when the
    pane is short), and, pinned under it so that no list can push it off screen, the second
    hop's state and how the attempt ended."""

    DEFAULT_CSS = """
    WalkStatus {
        height: auto; padding: 0 1; display: none; border-top: solid $panel;
    }
    WalkStatus.-active { display: block; }
    WalkStatus > Static { height: auto; }
    WalkStatus #walk-head { text-wrap: nowrap; text-overflow: ellipsis; }
    WalkStatus #walk-list { height: auto; max-height: 25vh; scrollbar-size-vertical: 1; }
    WalkStatus #walk-list > Static { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def compose(self) -> ComposeResult:
        yield SteadyStatic(id="walk-head")
        with VerticalScroll(id="walk-list", can_focus=False):
            yield SteadyStatic(id="walk-lines")
        yield SteadyStatic(id="walk-end")

    @property
    def text(self) -> str:
        """Everything the status says, as plain text (head, list, end)."""
        parts = ("#walk-head", "#walk-lines", "#walk-end")
        return "\n".join(str(self.query_one(p, Static).render()) for p in parts)

    def show(self, state: WalkState | None, *, mode: str = "", hint: str = "") -> None:
        """Render `state` (None hides the panel); `mode` is running/paused/ended/replay…"""
        self.set_class(state is not None, "-active")
        if state is None:
            for part in ("#walk-head", "#walk-lines", "#walk-end"):
                self.query_one(part, Static).update("")
            return
        head, lines, end = walk_lines(state, mode=mode, hint=hint)
        self.query_one("#walk-head", Static).update(head)
        self.query_one("#walk-lines", Static).update(Content("\n").join(lines))
        self.query_one("#walk-list").display = bool(lines)
        self.query_one("#walk-end", Static).update(Content("\n").join(end))


def walk_lines(
    state: WalkState, *, mode: str = "", hint: str = ""
) -> tuple[Content, list[Content], list[Content]]:
    """(head, list, end) of the walk status: the list is the try lists and the recipients,
    one line each; `end` is what must stay on screen (the second hop, the outcome, the keys)."""
    lines: list[Content] = []
    end: list[Content] = []
    profile = PROFILES[state.profile].display if state.profile in PROFILES else state.profile
    head = Content.assemble(("Walk ", "bold"), (printable(state.domain), "bold"))
    if mode:
        head = Content.assemble(head, " · ", (mode, "bold $accent"))
    head = Content.assemble(
        head,
        f" · {profile} · attempt {state.attempt + 1} at {clock_offset(state.clock_s)}"
        f" · seed {state.seed}",
    )
    if not state.order and state.attempt >= 0 and state.steps:
        lines.append(Content("try list: empty, nothing to dial (decided at the DNS stage)"))
    for i, target in enumerate(state.order):
        mark = state.marks.get(target.address)
        where = printable(f"{i + 1}. {target.host} [{target.address}] pref {target.preference}")
        if mark is None:
            pointer = "▶ " if state.current == i else "  "
            lines.append(Content.assemble(pointer, (where, "$text-muted")))
        else:
            lines.append(
                Content.assemble(
                    (f"{MARK_SYMBOL[mark.kind]} ", _MARK_STYLE[mark.kind]),
                    where,
                    (
                        f" · {mark.kind} at step {mark.step}: {printable(mark.note)}",
                        _MARK_STYLE[mark.kind],
                    ),
                )
            )
    if state.hop is not None:
        lines.append(Content.styled(f"↳ hop {state.hop.hop}: the relay's try list", "bold"))
        for i, target in enumerate(state.hop.order):
            mark = state.hop_marks.get(target.address)
            where = printable(f"  {i + 1}. {target.host} [{target.address}]")
            if mark is None:
                lines.append(Content.assemble(("  " + where, "$text-muted")))
                continue
            style = _MARK_STYLE[mark.kind]
            lines.append(
                Content.assemble(
                    (f"  {MARK_SYMBOL[mark.kind]}", style),
                    where,
                    (f" · step {mark.step}: {printable(mark.note)}", style),
                )
            )
    for recipient, result in state.recipients.items():
        why = result.reply_text() or ""
        lines.append(
            Content.assemble(
                (
                    f"{RECIPIENT_SYMBOL[result.state]} {printable(recipient)}: {result.state}",
                    _RECIPIENT_STYLE[result.state],
                ),
                (f"  {printable(why)}" if why else "", "$text-muted"),
            )
        )
    if state.hop is not None:
        end.append(Content.assemble(("↳ " + state.hop_words(), "bold")))
    if state.result is not None:
        end.append(
            Content.assemble(
                ("⇒ ", "bold"),
                (state.outcome_words(), _OUTCOME_STYLE.get(state.result.outcome, "bold")),
            )
        )
    if hint:
        end.append(Content.assemble((hint, "$text-muted")))
    return head, lines, end


class Narrative(VerticalScroll):
    """The scenario's title and the text a trainer reads aloud; hidden when there is none."""

    DEFAULT_CSS = """
    Narrative {
        height: auto; max-height: 40%; display: none; padding: 0 1;
        border: round $panel; border-title-color: $text-muted;
    }
    Narrative.-active { display: block; }
    Narrative.-folded { max-height: 3; }
    Narrative:focus { border: round $accent; }
    Narrative > Static { height: auto; }
    """
    BORDER_TITLE = "Scenario"
    can_focus = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scenario: Scenario | None = None

    def compose(self) -> ComposeResult:
        yield SteadyStatic(id="narrative-title")
        yield SteadyStatic(id="narrative-text")

    def show(self, scenario: Scenario | None) -> None:
        self.scenario = scenario
        self.set_class(scenario is not None, "-active")
        if scenario is None:
            return
        self.border_title = Content(printable(f"Scenario: {scenario.name}"))  # a str is markup
        expect = ", ".join(
            f"{PROFILES[p].display if p in PROFILES else p} → {o}"
            for p, o in scenario.expect.items()
        )
        self.query_one("#narrative-title", Static).update(
            Content.assemble(
                (printable(scenario.title), "bold"),
                ("\nexpected: " + printable(expect), "$text-muted"),
            )
        )
        # One line per paragraph (the file wraps them at 100 columns; the panel wraps again),
        # each made printable on its own so the blank lines between them stay blank lines.
        paragraphs = [printable(" ".join(p.split())) for p in scenario.narrative.split("\n\n")]
        self.query_one("#narrative-text", Static).update(
            Content("\n\n".join(p for p in paragraphs if p))
        )

    def toggle_fold(self) -> None:
        self.toggle_class("-folded")


def scenario_entry(name: str, title: str, width: int) -> Table:
    """One line of the picker: the name in its column and the title beside it; a long title
    wraps under itself (a hanging indent), never back under the names."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(width=width, no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row(Text(printable(name)), Text(printable(title)))
    return grid


class ScenarioPicker(ModalScreen[str | None]):
    """Pick a lab scenario (or the demo); typing filters the list (by name or title), the
    narrative previews as the highlight moves, Enter opens, Esc cancels."""

    DEFAULT_CSS = """
    ScenarioPicker { align: center middle; }
    ScenarioPicker > Vertical {
        width: 90%; max-width: 110; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    ScenarioPicker #picker-filter { margin: 0; }
    ScenarioPicker OptionList { height: 1fr; min-height: 3; }
    ScenarioPicker #picker-preview { height: auto; max-height: 45%; overflow-y: auto; }
    ScenarioPicker #picker-hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="picker-cancel"),
        Binding("up", "move('cursor_up')", "Up", show=False, id="picker-up"),
        Binding("down", "move('cursor_down')", "Down", show=False, id="picker-down"),
        Binding("pageup", "move('page_up')", "Page up", show=False, id="picker-page-up"),
        Binding("pagedown", "move('page_down')", "Page down", show=False, id="picker-page-down"),
    ]

    def __init__(self, scenarios: Sequence[Scenario], current: str | None = None) -> None:
        super().__init__()
        self.scenarios = {s.name: s for s in scenarios}
        self.current = current
        self._width = max([len(DEMO), *(len(n) for n in self.scenarios)])

    def _options(self, words: str = "") -> list[Option]:
        """The list's entries whose name or title hold every word of `words` (any case)."""
        width = self._width
        entries = [(DEMO, "the built-in demo: example.com")]
        entries += [(s.name, s.title) for s in self.scenarios.values()]
        wanted = words.lower().split()
        found = [(n, t) for n, t in entries if all(w in f"{n} {t}".lower() for w in wanted)]
        if wanted:  # names that start with the first word, then names holding it, then the rest
            first = wanted[0]
            found.sort(key=lambda e: (not e[0].startswith(first), first not in e[0]))
        return [Option(scenario_entry(n, t, width), id=n) for n, t in found]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Content.from_markup(
                    "[b]Lab scenarios[/b] — type to filter, ↑ ↓ choose, Enter opens, Esc cancels"
                )
            )
            yield Input(placeholder="filter: a name or words of the title", id="picker-filter")
            yield OptionList(*self._options(), id="picker-list")
            yield Static(id="picker-preview")
            yield Static(
                Content("mxtui lab --list prints these; mxtui lab NAME opens one directly."),
                id="picker-hint",
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self.current is not None:
            try:
                options.highlighted = options.get_option_index(self.current)
            except Exception:  # an unknown current name: start at the top
                options.highlighted = 0
        else:
            options.highlighted = 0
        self.query_one("#picker-filter", Input).focus()

    @on(Input.Changed, "#picker-filter")
    def _filter(self, event: Input.Changed) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        found = self._options(event.value)
        options.add_options(found)
        if found:
            options.highlighted = 0
        else:
            self.query_one("#picker-preview", Static).update(
                Content("No scenario matches; Backspace widens the filter.")
            )

    @on(Input.Submitted, "#picker-filter")
    def _submitted(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    def action_move(self, where: str) -> None:
        getattr(self.query_one(OptionList), f"action_{where}")()

    @on(OptionList.OptionHighlighted)
    def _preview(self, event: OptionList.OptionHighlighted) -> None:
        preview = self.query_one("#picker-preview", Static)
        scenario = self.scenarios.get(event.option.id or "")
        if scenario is None:
            preview.update(
                Content(
                    "The demo: example.com and one subdomain per MX edge case (null MX, "
                    "implicit MX, CNAME target, no address, NXDOMAIN, SERVFAIL, timeouts), "
                    "with a mock mail host behind every address."
                )
            )
            return
        first = " ".join(scenario.narrative.strip().split("\n\n")[0].split())
        profiles = ", ".join(scenario.expect)
        preview.update(
            Content.assemble(
                (printable(scenario.title), "bold"),
                "\n",
                printable(first),
                ("\nprofiles: " + printable(profiles), "$text-muted"),
            )
        )

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
