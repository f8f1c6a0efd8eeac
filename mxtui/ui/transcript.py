"""The transcript pane: a live SMTP conversation, smooth at hundreds of thousands of lines.

Modelled on toolong and Textual's `Log`: a `ScrollView` that draws only the rows on screen
(`render_line`), keeps an LRU cache of rendered rows, and tells Textual its size through
`virtual_size`. Appending a batch costs a list extend and a width check per line; nothing already
drawn is drawn again. Rows are never wrapped (wrapping would break the row = line arithmetic);
long lines are cut at the pane's edge and can be scrolled to horizontally.

A display row is either a `TranscriptLine` or a step separator ("── rcpt · 250 · 3.1 ms ──"),
plus, while a message is being written, one progress row after the last. The step a row belongs
to is found by bisecting the separators' rows, so no per-line bookkeeping is needed.

Everything from a server is literal text: rows are built from `Segment`s holding printable
strings (made printable again here, as a second fence), never from markup.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from mxtui.model import DataProgress, Stage, StepResult, TranscriptLine
from mxtui.smtp.transcript import marker, to_jsonl, to_text
from mxtui.text import printable

TIME_WIDTH = 10
"""Room for "+1234.567s": a session would need to last 2.7 hours to push the column wider."""
CACHE_ROWS = 1024
SIDEWAYS = 8
"""Columns that ← and → scroll a long line by."""


@dataclass(frozen=True, slots=True)
class _Separator:
    """The row that closes a step; `index` points into the view's list of steps."""

    index: int


def _safe(text: str) -> str:
    """Printable text; `str.isprintable` (C speed) is true exactly when `printable` is a no-op."""
    return text if text.isprintable() else printable(text)


def _width(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


def _stamp(t_ms: float) -> str:
    return f"+{t_ms / 1000:.3f}s".rjust(TIME_WIDTH) + " "


def _amount(n: int, total: int) -> str:
    """Both byte counts in the unit that suits the total (SI, like `ls -h --si`)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if total >= size:
            return f"{n / size:.1f} / {total / size:.1f} {unit}"
    return f"{n} / {total} B"


def progress_text(p: DataProgress) -> str:
    """'sending message… 4.2 / 20.0 MB (21 %)' with a small bar in front."""
    ratio = 1.0 if p.total <= 0 else min(max(p.sent / p.total, 0.0), 1.0)
    filled = round(ratio * 20)
    bar = "█" * filled + "░" * (20 - filled)
    return f"{bar} sending message… {_amount(p.sent, p.total)} ({int(ratio * 100)} %)"


def separator_label(step: StepResult) -> tuple[str, str, str]:
    """(stage, what ended it, latency) for the separator line after a step."""
    if step.reply is not None:
        result = str(step.reply.code)
    elif step.outcome is not None:
        result = str(step.outcome)
    elif step.failure is not None:
        result = step.failure
    elif step.stage is Stage.CONNECT:
        result = "connected"
    else:
        result = "no reply"
    return str(step.stage), result, f"{step.ms:.1f} ms"


class TranscriptView(ScrollView, can_focus=True):
    """A scrollable, focusable SMTP transcript with a line cursor and step separators."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move('up')", "Line up", show=False, id="transcript.cursor-up"),
        Binding("down", "move('down')", "Line down", show=False, id="transcript.cursor-down"),
        Binding("pageup", "move('page_up')", "Page up", show=False, id="transcript.page-up"),
        Binding(
            "pagedown", "move('page_down')", "Page down", show=False, id="transcript.page-down"
        ),
        Binding("home", "move('first')", "First line", show=False, id="transcript.first"),
        Binding("end", "move('last')", "Last line (follow)", show=False, id="transcript.last"),
        Binding("left", "move('left')", "Scroll left", show=False, id="transcript.left"),
        Binding("right", "move('right')", "Scroll right", show=False, id="transcript.right"),
        Binding("enter", "app.open('line')", "Whole line", show=False, id="transcript.whole-line"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "transcript--time",
        "transcript--sent",
        "transcript--recv",
        "transcript--recv-ok",
        "transcript--recv-temp",
        "transcript--recv-perm",
        "transcript--info",
        "transcript--tls",
        "transcript--separator",
        "transcript--progress",
        "transcript--cursor",
    }

    # Sent lines use $text-primary, not $accent: in textual-dark $accent and $warning are the same
    # orange, and a command must never look like a 4xx reply. The $text-* variants are the
    # theme's colours made readable as text on its background (light, dark and ANSI themes).
    DEFAULT_CSS = """
    TranscriptView {
        background: $surface;
        color: $foreground;
        overflow: auto auto;
        & > .transcript--time { color: $text-muted; }
        & > .transcript--sent { color: $text-primary; }
        & > .transcript--recv { color: $foreground; }
        & > .transcript--recv-ok { color: $text-success; }
        & > .transcript--recv-temp { color: $text-warning; }
        & > .transcript--recv-perm { color: $text-error; }
        & > .transcript--info { color: $text-muted; text-style: italic; }
        & > .transcript--tls { color: $text-secondary; text-style: bold; }
        & > .transcript--separator { color: $text-muted; }
        & > .transcript--progress { color: $text-accent; text-style: bold; }
        & > .transcript--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .transcript--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
    }
    """

    class StepSelected(Message):
        """The cursor moved onto `line`; `step` is the step it belongs to (None while open).

        `followed`: the cursor got there by following new lines (or the line just got its
        step), not by the user's move; a walk explains its own steps as it takes them, so only
        a user's pick should replace that explanation.
        """

        def __init__(
            self,
            step: StepResult | None,
            line: TranscriptLine,
            view: TranscriptView,
            *,
            followed: bool = False,
        ) -> None:
            super().__init__()
            self.step = step
            self.line = line
            self.view = view
            self.followed = followed

        @property
        def control(self) -> TranscriptView:
            return self.view

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._rows: list[TranscriptLine | _Separator] = []
        self._lines: list[TranscriptLine] = []
        self._steps: list[StepResult] = []
        self._step_rows: list[int] = []
        self._last_recv_row = -1
        self._progress: DataProgress | None = None
        self._width = 0
        self._cache: LRUCache[int, Strip] = LRUCache(CACHE_ROWS)
        self._paint = _Painter(self)
        self.cursor_row = -1
        """The highlighted row (a line row, never a separator), or -1 before the first line."""
        self.follow = True
        """Keep the view at the end and the cursor on the latest reply as lines arrive."""
        self._announced: tuple[int, int] = (-1, -1)
        self._auto_scrolling = False
        self._rescroll_pending = False
        self._pinned = True
        """The view was put at the end and nobody has scrolled it since."""

    # -- public API ------------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        """Transcript lines held (separators and the progress row not counted)."""
        return len(self._lines)

    @property
    def row_count(self) -> int:
        """Display rows: lines, step separators and the progress row."""
        return len(self._rows) + (self._progress is not None)

    @property
    def steps(self) -> tuple[StepResult, ...]:
        return tuple(self._steps)

    def append(self, lines: Iterable[TranscriptLine]) -> None:
        """Add a batch of lines to the open step; follow the end unless the user scrolled up."""
        at_end = self._at_end()
        start = len(self._rows)
        width = self._width
        rows, kept, last_recv = self._rows, self._lines, self._last_recv_row
        prefix = TIME_WIDTH + 1 + 4
        for line in lines:
            if line.dir == "recv":
                last_recv = len(rows)
            rows.append(line)
            kept.append(line)
            w = prefix + _width(_safe(line.text))
            if w > width:
                width = w
        if len(rows) == start:
            return
        self._last_recv_row = last_recv
        self._width = width
        self._update_virtual_size()
        self._after_growth(at_end, start)

    def add_step(self, step: StepResult) -> None:
        """Close the open step: the lines appended since the previous step belong to `step`."""
        at_end = self._at_end()
        self._progress = None
        start = len(self._rows)
        self._step_rows.append(start)
        self._rows.append(_Separator(len(self._steps)))
        self._steps.append(step)
        self._cache.discard(start)
        self._update_virtual_size()
        self._after_growth(at_end, start)
        self._announce(followed=True)  # the cursor's line may just have got its step

    def progress(self, p: DataProgress) -> None:
        """Show (or update in place) the one progress row while the message is written."""
        at_end = self._at_end()
        new = self._progress is None
        self._progress = p
        if new:
            self._update_virtual_size()
            self._after_growth(at_end, len(self._rows))
        else:
            self.refresh_lines(len(self._rows))

    def clear(self) -> None:
        self._rows.clear()
        self._lines.clear()
        self._steps.clear()
        self._step_rows.clear()
        self._last_recv_row = -1
        self._progress = None
        self._width = 0
        self._cache.clear()
        self.cursor_row = -1
        self.follow = True
        self._announced = (-1, -1)
        self._update_virtual_size()
        self._scroll_y_to(0)
        self.refresh()

    def step_at(self, row: int) -> StepResult | None:
        """The step a row belongs to, or None when the row is in the still-open step."""
        i = bisect_left(self._step_rows, row)
        return self._steps[i] if i < len(self._steps) else None

    def select_last_reply(self) -> None:
        """Put the cursor on the latest received line (or the last line) and follow again."""
        self.follow = True
        row = self._follow_row()
        if row >= 0:
            self._move_cursor(row)
        self._scroll_end()

    def export_text(self) -> str:
        return to_text(self._lines)

    def export_jsonl(self) -> str:
        return to_jsonl(self._lines)

    # -- growth and following --------------------------------------------------------------

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self._width, self.row_count)

    def _at_end(self) -> bool:
        """The view sits at the end (ours, not `is_vertical_scroll_end`, which is one row off
        for a frame when a horizontal scrollbar appears)."""
        return self._pinned and not self.is_vertical_scrollbar_grabbed

    def _after_growth(self, at_end: bool, first_new_row: int) -> None:
        """Scroll along if following; otherwise draw only the new rows.

        While following, the cursor sits on the latest received line, so whoever listens for
        StepSelected (the explanation pane) always describes the latest reply; it only ever moves
        forward, so a user who pressed End to sit on the last (sent) line stays there. A user who
        moved the cursor up without scrolling still sees new lines come in below, as long as the
        cursor's line stays on screen.
        """
        if self.follow:
            row = self._follow_row()
            if row > self.cursor_row:
                self._move_cursor(row, scroll=False, followed=True)
            self._scroll_end()
        elif at_end and (self.cursor_row < 0 or self.cursor_row >= self.max_scroll_y):
            self._scroll_end()
        else:
            self.refresh_lines(first_new_row, self.row_count - first_new_row)

    def _scroll_y_to(self, y: int) -> None:
        """Scroll the view ourselves (not the user: following is not switched off).

        `force` because the scrollbars (which gate scrolling) only appear at the next layout.
        """
        self._auto_scrolling = True
        try:
            self.scroll_to(y=y, animate=False, force=True)
        finally:
            self._auto_scrolling = False
        self._pinned = y >= self.max_scroll_y

    def _scroll_end(self) -> None:
        self._scroll_y_to(self.max_scroll_y)
        if not self._rescroll_pending:  # a horizontal scrollbar may appear and take a row
            self._rescroll_pending = True
            self.call_after_refresh(self._rescroll)

    def _rescroll(self) -> None:
        self._rescroll_pending = False
        if self._pinned:
            self._scroll_y_to(self.max_scroll_y)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """A user scrolling up stops following; scrolling back to the very end restarts it."""
        super().watch_scroll_y(old_value, new_value)
        if self._auto_scrolling:
            return
        if new_value < old_value and round(new_value) < self.max_scroll_y:
            self.follow = self._pinned = False
        elif new_value > old_value and round(new_value) >= self.max_scroll_y:
            self.follow = self._pinned = True

    def _follow_row(self) -> int:
        if self._last_recv_row >= 0:
            return self._last_recv_row
        return _line_row_from(self._rows, len(self._rows) - 1, -1)

    # -- cursor ----------------------------------------------------------------------------

    def _move_cursor(self, row: int, *, scroll: bool = True, followed: bool = False) -> None:
        old, self.cursor_row = self.cursor_row, row
        if old >= 0:
            self.refresh_lines(old)
        self.refresh_lines(row)
        if scroll:
            self._scroll_to_cursor()
        self._announce(followed=followed)

    def _scroll_to_cursor(self) -> None:
        height = self.scrollable_content_region.height
        top = round(self.scroll_offset.y)
        row = self.cursor_row
        if row < top:
            self._scroll_y_to(row)
        elif height and row >= top + height:
            self._scroll_y_to(row - height + 1)

    def _announce(self, *, followed: bool = False) -> None:
        """Post StepSelected when the cursor's line, or the step known for it, changed."""
        row = self.cursor_row
        if row < 0 or row >= len(self._rows):
            return
        step_index = bisect_left(self._step_rows, row)
        known = step_index if step_index < len(self._steps) else -1
        if (row, known) == self._announced:
            return
        self._announced = (row, known)
        line = self._rows[row]
        assert isinstance(line, TranscriptLine)
        self.post_message(self.StepSelected(self.step_at(row), line, self, followed=followed))

    def _step_cursor(self, delta: int) -> None:
        if not self._lines:
            return
        if self.cursor_row < 0:
            target = _line_row_from(self._rows, len(self._rows) - 1, -1)
        else:
            direction = 1 if delta > 0 else -1
            wanted = min(max(self.cursor_row + delta, 0), len(self._rows) - 1)
            target = _line_row_from(self._rows, wanted, direction)
            if target < 0:
                target = _line_row_from(self._rows, wanted, -direction)
        self.follow = target == _line_row_from(self._rows, len(self._rows) - 1, -1)
        self._move_cursor(target)

    def action_move(self, where: str) -> None:
        """The cursor keys: a line up or down, a page, the first line, the last (following);
        left and right scroll long lines sideways (the scrollbar may be hidden)."""
        page = max(self.scrollable_content_region.height - 1, 1)
        steps = {"up": -1, "down": 1, "page_up": -page, "page_down": page}
        if where in ("left", "right"):
            columns = SIDEWAYS if where == "right" else -SIDEWAYS
            self.scroll_to(x=max(0, self.scroll_x + columns), animate=False, force=True)
        elif where in steps:
            self._step_cursor(steps[where])
        elif where == "first" and self._lines:
            self.follow = False
            self._move_cursor(_line_row_from(self._rows, 0, 1))
            self._scroll_y_to(0)
        elif where == "last":
            if self._lines:
                self.follow = True
                self._move_cursor(_line_row_from(self._rows, len(self._rows) - 1, -1))
            self._scroll_end()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = round(self.scroll_offset.y) + offset.y
        if 0 <= row < len(self._rows) and not isinstance(self._rows[row], _Separator):
            self.follow = row == _line_row_from(self._rows, len(self._rows) - 1, -1)
            self._move_cursor(row)

    # -- drawing ---------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._paint.styles.clear()
        self._cache.clear()

    def on_resize(self, event: events.Resize) -> None:
        self._cache.clear()  # separators are drawn to the pane's width
        if (self.follow or self._pinned) and self._lines:
            self._scroll_end()

    @on(events.Focus)
    @on(events.Blur)
    def _cursor_colour(self) -> None:
        """The cursor's row changes colour with the focus."""
        if self.cursor_row >= 0:
            self.refresh_lines(self.cursor_row)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.size.width
        paint = self._paint
        base = paint.style("")
        if row < 0 or row >= self.row_count:
            return Strip.blank(width, base)
        if row == len(self._rows):
            assert self._progress is not None
            strip = paint.progress(self._progress)
        else:
            strip = self._cache.get(row)
            if strip is None:
                item = self._rows[row]
                strip = (
                    paint.separator(self._steps[item.index], width)
                    if isinstance(item, _Separator)
                    else paint.line(item)
                )
                self._cache[row] = strip
        if row == self.cursor_row:
            cursor = self.get_component_rich_style("transcript--cursor")
            segments = [Segment(t, (s or base) + cursor) for t, s, _ in strip]
            strip = Strip(segments, strip.cell_length)
            return strip.crop_extend(scroll_x, scroll_x + width, base + cursor)
        return strip.crop_extend(scroll_x, scroll_x + width, base)


class _Painter:
    """Draws the transcript's rows in the view's styles (one style per component class, kept
    until the styles change)."""

    def __init__(self, view: TranscriptView) -> None:
        self.view = view
        self.styles: dict[str, Style] = {}

    def style(self, name: str) -> Style:
        """The view's base style with a component class on top."""
        style = self.styles.get(name)
        if style is None:
            base = self.view.rich_style
            style = base if not name else base + self.view.get_component_rich_style(name)
            self.styles[name] = style
        return style

    def line(self, line: TranscriptLine) -> Strip:
        text = _safe(line.text)
        mark = marker(line)
        if line.dir == "sent":
            text_style = "transcript--sent"
        elif line.dir == "recv":
            text_style = _reply_style(text)
        else:
            text_style = "transcript--info"
        mark_style = "transcript--tls" if line.encrypted or line.dir == "tls" else text_style
        if line.t_ms < 0:  # a marker (a walk's "try 2"): no time, lined up with the steps'
            stamp, mark = " " * (TIME_WIDTH + 1), ""
        else:
            stamp = _stamp(line.t_ms)
        segments = [
            Segment(stamp, self.style("transcript--time")),
            Segment(mark, self.style(mark_style)),
            Segment(text, self.style(text_style)),
        ]
        return Strip(segments, len(stamp) + len(mark) + _width(text))

    def separator(self, step: StepResult, width: int) -> Strip:
        stage, result, ms = separator_label(step)
        dim = self.style("transcript--separator")
        if step.reply is not None:
            result_style = self.style(_reply_style(result))
        elif step.ok:
            result_style = self.style("transcript--recv-ok")
        else:
            result_style = self.style("transcript--recv-perm")
        head = " " * (TIME_WIDTH + 1) + f"── {stage} · "
        tail = f" · {ms} "
        used = len(head) + len(result) + len(tail)
        fill = "─" * max(width - used, 2)
        segments = [
            Segment(head, dim),
            Segment(result, result_style),
            Segment(tail + fill, dim),
        ]
        return Strip(segments, used + len(fill))

    def progress(self, progress: DataProgress) -> Strip:
        text = " " * (TIME_WIDTH + 1) + "=== " + progress_text(progress)
        return Strip([Segment(text, self.style("transcript--progress"))], _width(text))


def cursor_line(view: TranscriptView) -> TranscriptLine | None:
    """The line under the view's cursor (None before the first line)."""
    row = view.cursor_row
    line = view._rows[row] if 0 <= row < len(view._rows) else None
    return line if isinstance(line, TranscriptLine) else None


def cursor_reply(view: TranscriptView) -> str:
    """The whole reply the cursor's line belongs to (every line of it), else the line."""
    row, rows = view.cursor_row, view._rows
    line = cursor_line(view)
    if line is None:
        return ""
    if line.dir != "recv":
        return _safe(line.text)
    step = view.step_at(row)
    if step is not None and step.reply is not None and step.reply.lines:
        return "\n".join(_safe(x) for x in step.reply.lines)
    first = last = row  # the received lines next to the cursor's: one multi-line reply
    while first > 0 and _received(rows[first - 1]):
        first -= 1
    while last + 1 < len(rows) and _received(rows[last + 1]):
        last += 1
    return "\n".join(_safe(r.text) for r in rows[first : last + 1] if isinstance(r, TranscriptLine))


def find_next(view: TranscriptView, words: str, *, forward: bool = True) -> bool:
    """Put the view's cursor on the next (or previous) line holding `words` (any case),
    going round at the end; False when no line holds them."""
    row = find_row(view._rows, view.cursor_row, words, forward=forward)
    if row < 0:
        return False
    view.follow = False
    view._move_cursor(row)
    view.scroll_to(x=0, animate=False, force=True)
    return True


def _received(row: TranscriptLine | _Separator) -> bool:
    return isinstance(row, TranscriptLine) and row.dir == "recv"


def find_row(
    rows: list[TranscriptLine | _Separator], start: int, words: str, *, forward: bool = True
) -> int:
    """The first line row after (or before) `start` whose text holds `words`, in any case,
    going round past the end; -1 when none does (or `words` is blank)."""
    wanted = words.strip().lower()
    if not wanted or not rows:
        return -1
    count = len(rows)
    step = 1 if forward else -1
    row = start
    for _ in range(count):
        row = (row + step) % count
        line = rows[row]
        if isinstance(line, TranscriptLine) and wanted in line.text.lower():
            return row
    return -1


class LineScreen(ModalScreen[None]):
    """One transcript line shown whole (wrapped), with the reply or step it belongs to;
    y copies it, Esc or q closes."""

    DEFAULT_CSS = """
    LineScreen { align: center middle; }
    LineScreen > VerticalScroll {
        width: 90%; max-width: 120; height: auto; max-height: 80%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    LineScreen Static { height: auto; }
    LineScreen #line-hint { color: $text-muted; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,enter", "close", "Close", id="line-close"),
        Binding("y", "copy", "Copy", id="line-copy"),
    ]

    def __init__(self, line: TranscriptLine, step: StepResult | None) -> None:
        super().__init__()
        self.line = line
        self.step = step

    def compose(self) -> ComposeResult:
        line = self.line
        who = {"sent": "sent", "recv": "received", "info": "mxtui's note", "tls": "TLS"}
        head = who.get(line.dir, line.dir)
        if line.t_ms >= 0:
            head += f" at +{line.t_ms / 1000:.3f}s"
        if self.step is not None:
            stage, result, ms = separator_label(self.step)
            head += f" · step {stage} · {result} · {ms}"
        with VerticalScroll():
            yield Static(Content.styled(head, "bold"))
            yield Static(Content(_safe(line.text)), id="line-text")
            yield Static(Content("y copies the line · Esc, q or Enter closes"), id="line-hint")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(_safe(self.line.text))
        self.app.notify("Copied the line.", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)


def _line_row_from(rows: list[TranscriptLine | _Separator], row: int, step: int) -> int:
    """The nearest line row (not a separator) from `row` going in `step` direction, or -1."""
    while 0 <= row < len(rows):
        if not isinstance(rows[row], _Separator):
            return row
        row += step
    return -1


def _reply_style(text: str) -> str:
    """The component class for a received line, from the reply code it starts with."""
    first = text[:1]
    if len(text) >= 3 and text[:3].isdigit():
        if first in "23":
            return "transcript--recv-ok"
        if first == "4":
            return "transcript--recv-temp"
        if first == "5":
            return "transcript--recv-perm"
    return "transcript--recv"
