"""The transcript pane: markers and colours, step separators, the cursor, following, progress,
hostile text, and 100,000 lines."""

from __future__ import annotations

import json

from textual import events
from textual.app import App, ComposeResult
from ui_support import drive

from mxtui.lab.hostile import MARKUP_PAYLOADS, MARKUP_TEXT
from mxtui.model import DataProgress, Outcome, Reply, Stage, StepResult, TranscriptLine
from mxtui.smtp.transcript import to_jsonl, to_text
from mxtui.text import printable
from mxtui.ui.transcript import TranscriptView


class TranscriptApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.selected: list[TranscriptView.StepSelected] = []

    def compose(self) -> ComposeResult:
        yield TranscriptView()

    def on_transcript_view_step_selected(self, message: TranscriptView.StepSelected) -> None:
        self.selected.append(message)


def sent(text: str, t: float = 0.0, stage: Stage | None = None, tls: bool = False):
    return TranscriptLine("sent", text, t, tls, stage)


def recv(text: str, t: float = 0.0, stage: Stage | None = None, tls: bool = False):
    return TranscriptLine("recv", text, t, tls, stage)


def step(stage: Stage, code: int | None, ms: float, outcome: Outcome | None = None) -> StepResult:
    reply = Reply(code, "ok", None, (f"{code} ok",)) if code is not None else None
    return StepResult(stage, (), reply, ms, outcome=outcome)


def drawn(view: TranscriptView, row: int):
    """The strip drawn for a row that is on screen."""
    y = row - round(view.scroll_offset.y)
    assert 0 <= y < view.scrollable_content_region.height, f"row {row} is not on screen"
    return view.render_line(y)


def row_text(view: TranscriptView, row: int) -> str:
    return drawn(view, row).text


def segment_colour(view: TranscriptView, row: int, piece: str):
    for text, style, _ in drawn(view, row):
        if piece in text:
            return style.color
    raise AssertionError(f"{piece!r} not drawn in row {row}")


KINDS = ("ok", "temp", "perm")


def component_colour(view: TranscriptView, name: str):
    return view.get_component_rich_style(name).color


async def test_lines_show_time_markers_and_colour_by_direction_and_reply_code():
    app = TranscriptApp()
    async with drive(app, size=(100, 20)) as pilot:
        view = app.query_one(TranscriptView)
        view.append(
            [
                recv("220 mx.example ESMTP", 1.5),
                sent("EHLO client", 2001.25),
                recv("450 4.2.0 greylisted", 3000),
                recv("550 5.1.1 unknown user", 3100),
                TranscriptLine("info", "connected to 192.0.2.1", 10),
                sent("MAIL FROM:<a@b>", 3200, tls=True),
                recv("250 2.1.0 ok", 3300, tls=True),
            ]
        )
        await pilot.pause()
        assert row_text(view, 0).startswith("   +0.002s <-  220 mx.example ESMTP")
        assert row_text(view, 1).startswith("   +2.001s  -> EHLO client")
        assert row_text(view, 4).startswith("   +0.010s === connected to 192.0.2.1")
        assert row_text(view, 5).startswith("   +3.200s  ~> MAIL FROM:<a@b>")
        assert row_text(view, 6).startswith("   +3.300s <~  250 2.1.0 ok")
        ok, temp, perm = (component_colour(view, f"transcript--recv-{k}") for k in KINDS)
        assert len({ok, temp, perm, component_colour(view, "transcript--sent")}) == 4
        assert segment_colour(view, 0, "220 mx") == ok
        assert segment_colour(view, 1, "EHLO") == component_colour(view, "transcript--sent")
        assert segment_colour(view, 2, "450") == temp
        assert segment_colour(view, 3, "550") == perm
        assert segment_colour(view, 5, " ~> ") == component_colour(view, "transcript--tls")
        assert segment_colour(view, 0, "+0.002s") == component_colour(view, "transcript--time")
        info_style = next(s for t, s, _ in drawn(view, 4) if "connected" in t)
        assert info_style.italic


async def test_each_step_ends_with_a_separator_naming_stage_result_and_latency():
    app = TranscriptApp()
    async with drive(app, size=(100, 20)) as pilot:
        view = app.query_one(TranscriptView)
        view.append([sent("RCPT TO:<x@y>"), recv("250 ok")])
        view.add_step(step(Stage.RCPT, 250, 3.14))
        view.add_step(step(Stage.CONNECT, None, 10002.0, Outcome.REFUSED))
        await pilot.pause()
        assert view.row_count == 4 and view.line_count == 2
        assert "── rcpt · 250 · 3.1 ms ──" in row_text(view, 2)
        assert "── connect · refused · 10002.0 ms ──" in row_text(view, 3)
        assert row_text(view, 2).rstrip().endswith("─")
        assert segment_colour(view, 3, "refused") == component_colour(view, "transcript--recv-perm")


async def test_cursor_skips_separators_and_step_selected_carries_the_lines_step():
    app = TranscriptApp()
    async with drive(app, size=(100, 20)) as pilot:
        view = app.query_one(TranscriptView)
        view.focus()
        greeting, ehlo = step(Stage.GREETING, 220, 5), step(Stage.EHLO, 250, 7)
        view.append([recv("220 hi")])
        view.add_step(greeting)
        view.append([sent("EHLO me"), recv("250 ok")])
        view.add_step(ehlo)
        view.append([sent("MAIL FROM:<a@b>")])
        await pilot.pause()
        # rows: 0 220, 1 sep, 2 EHLO, 3 250, 4 sep, 5 MAIL (open step)
        assert view.cursor_row == 3  # following: the latest received line
        app.selected.clear()
        await pilot.press("down")
        assert view.cursor_row == 5
        assert app.selected[-1].step is None
        assert app.selected[-1].line.text == "MAIL FROM:<a@b>"
        await pilot.press("up", "up", "up")
        assert view.cursor_row == 0
        assert [m.step for m in app.selected[-3:]] == [ehlo, ehlo, greeting]
        assert app.selected[-1].line.text == "220 hi"
        # the open step's line learns its step when the step closes
        await pilot.press("end")
        view.add_step(step(Stage.MAIL, 250, 2))
        await pilot.pause()
        assert app.selected[-1].line.text == "MAIL FROM:<a@b>"
        assert app.selected[-1].step is view.steps[-1]


async def test_view_follows_the_end_until_the_user_moves_up_and_again_after_end():
    app = TranscriptApp()
    async with drive(app, size=(80, 12)) as pilot:
        view = app.query_one(TranscriptView)
        view.focus()
        view.append(recv(f"250-line {i}") for i in range(100))
        await pilot.pause()
        assert view.scroll_offset.y == view.max_scroll_y > 0
        assert view.cursor_row == 99
        await pilot.press("home")
        assert view.scroll_offset.y == 0 and view.cursor_row == 0 and not view.follow
        view.append(recv(f"250 more {i}") for i in range(50))
        await pilot.pause()
        assert view.scroll_offset.y == 0 and view.cursor_row == 0
        await pilot.press("end")
        assert view.follow and view.cursor_row == 149
        view.append([sent("QUIT"), recv("221 bye")])
        await pilot.pause()
        assert view.scroll_offset.y == view.max_scroll_y
        assert view.cursor_row == 151


async def test_page_keys_move_a_screenful_and_select_last_reply_returns_to_the_end():
    app = TranscriptApp()
    async with drive(app, size=(80, 12)) as pilot:
        view = app.query_one(TranscriptView)
        view.focus()
        view.append(recv(f"250-line {i}") for i in range(60))
        view.append([sent("NOOP")])
        await pilot.pause()
        assert view.cursor_row == 59
        page = view.scrollable_content_region.height - 1
        await pilot.press("pageup")
        assert view.cursor_row == 59 - page
        assert view.scroll_offset.y <= view.cursor_row < view.scroll_offset.y + page + 1
        await pilot.press("pagedown", "pagedown")
        assert view.cursor_row == 60
        await pilot.press("home")
        view.select_last_reply()
        await pilot.pause()
        assert view.cursor_row == 59 and view.follow
        assert view.scroll_offset.y == view.max_scroll_y


async def test_progress_is_one_row_updated_in_place_and_gone_when_the_step_ends():
    app = TranscriptApp()
    async with drive(app, size=(100, 20)) as pilot:
        view = app.query_one(TranscriptView)
        view.append([sent("<message>")])
        view.progress(DataProgress(4_200_000, 20_000_000))
        await pilot.pause()
        assert view.row_count == 2
        assert "sending message… 4.2 / 20.0 MB (21 %)" in row_text(view, 1)
        view.progress(DataProgress(20_000_000, 20_000_000))
        await pilot.pause()
        assert view.row_count == 2
        assert "20.0 / 20.0 MB (100 %)" in row_text(view, 1)
        view.append([recv("250 queued")])  # a line during DATA goes above the progress row
        await pilot.pause()
        assert "250 queued" in row_text(view, 1) and "sending" in row_text(view, 2)
        view.add_step(step(Stage.DOT, 250, 900))
        await pilot.pause()
        assert view.row_count == 3
        assert all("sending" not in row_text(view, r) for r in range(3))


async def test_hostile_lines_render_literally_and_never_reach_the_terminal_raw():
    app = TranscriptApp()
    async with drive(app, size=(160, 30)) as pilot:
        view = app.query_one(TranscriptView)
        view.focus()
        raw = [recv(f"250-{p} tail") for p in MARKUP_PAYLOADS] + [recv(f"250 {MARKUP_TEXT}")]
        view.append(raw)  # not made printable by a session: the pane still shows escapes
        view.add_step(step(Stage.EHLO, 250, 1))
        await pilot.press("up", "home", "down")
        assert app.is_running
        shot = app.export_screenshot()
        assert "\x1b" not in shot and "\x07" not in shot and "\u202e" not in shot
        shown = [row_text(view, r) for r in range(len(raw))]
        for payload, line in zip(MARKUP_PAYLOADS, shown, strict=False):
            assert f"250-{printable(payload)} tail" in line
        flat = shot.replace("&#160;", " ")
        for literal in ("[/]", "[@click=app.quit]x[/]", "[bold&#160;red]".replace("&#160;", " ")):
            assert literal in flat
        assert "\\x1b]0;PWNED\\x07" in flat


async def test_long_lines_are_cut_at_the_edge_never_wrapped():
    app = TranscriptApp()
    async with drive(app, size=(60, 10)) as pilot:
        view = app.query_one(TranscriptView)
        long = "250 " + "x" * 500 + "END"
        view.append([recv(long), recv("250 short")])
        await pilot.pause()
        assert view.row_count == 2
        assert view.virtual_size.width == 15 + len(long)
        assert len(view.render_line(0).text) == 60 and "END" not in view.render_line(0).text
        view.scroll_to(x=view.max_scroll_x, y=0, animate=False)
        assert view.render_line(0).text.rstrip().endswith("END")


async def test_exports_and_clear():
    app = TranscriptApp()
    async with drive(app, size=(80, 10)) as pilot:
        view = app.query_one(TranscriptView)
        lines = [recv("220 hi", 1), sent("EHLO x", 2, Stage.EHLO), recv("250 ok", 3, tls=True)]
        view.append(lines)
        view.add_step(step(Stage.EHLO, 250, 1))
        await pilot.pause()
        assert view.export_text() == to_text(lines)
        assert view.export_text().splitlines()[2] == "<~  250 ok"
        assert [json.loads(x)["text"] for x in view.export_jsonl().splitlines()] == [
            "220 hi",
            "EHLO x",
            "250 ok",
        ]
        assert view.export_jsonl() == to_jsonl(lines)
        view.clear()
        await pilot.pause()
        assert view.line_count == view.row_count == 0 and view.cursor_row == -1
        assert view.export_text() == "" and view.virtual_size.height == 0


async def test_hundred_thousand_lines_in_batches_then_home_and_end():
    app = TranscriptApp()
    async with drive(app, size=(100, 30)) as pilot:
        view = app.query_one(TranscriptView)
        view.focus()
        for batch in range(100):
            view.append(recv(f"250-batch {batch} line {i}", batch * 10.0 + i) for i in range(1000))
            if batch % 10 == 9:
                view.add_step(step(Stage.RAW, 250, 1.0))
        await pilot.pause()
        assert view.line_count == 100_000 and view.row_count == 100_010
        assert view.scroll_offset.y == view.max_scroll_y
        await pilot.press("home")
        assert view.scroll_offset.y == 0 and view.cursor_row == 0
        assert "250-batch 0 line 0" in view.render_line(0).text
        await pilot.press("end")
        assert view.cursor_row == 100_008  # the last line; the last row is its separator
        assert "250-batch 99 line 999" in row_text(view, view.cursor_row)
        assert app.selected[-1].step is view.steps[-1]


def wheel(view: TranscriptView, up: bool) -> None:
    kind = events.MouseScrollUp if up else events.MouseScrollDown
    view.post_message(kind(view, 5, 3, 0, -1 if up else 1, 0, False, False, False))


async def test_wheel_up_stops_following_and_wheel_back_to_the_end_resumes():
    app = TranscriptApp()
    async with drive(app, size=(80, 12)) as pilot:
        view = app.query_one(TranscriptView)
        view.focus()
        view.append(recv(f"250-line {i}") for i in range(100))
        await pilot.pause()
        bottom = view.max_scroll_y
        for _ in range(3):
            wheel(view, up=True)
        await pilot.pause()
        assert view.scroll_offset.y < bottom and not view.follow
        held = view.scroll_offset.y
        view.append(recv(f"250 more {i}") for i in range(5))
        await pilot.pause()
        assert view.scroll_offset.y == held and view.cursor_row == 99
        while view.scroll_offset.y < view.max_scroll_y:
            wheel(view, up=False)
            await pilot.pause()
        assert view.follow
        view.append([recv("221 bye")])
        await pilot.pause()
        assert view.cursor_row == 105 and view.scroll_offset.y == view.max_scroll_y


async def test_clicking_a_line_selects_it_and_reports_its_step():
    app = TranscriptApp()
    async with drive(app, size=(80, 12)) as pilot:
        view = app.query_one(TranscriptView)
        greeting = step(Stage.GREETING, 220, 5)
        view.append([recv("220 hi")])
        view.add_step(greeting)
        view.append([sent("EHLO me")])
        await pilot.pause()
        await pilot.click(TranscriptView, offset=(20, 0))
        await pilot.pause()
        assert view.cursor_row == 0 and not view.follow
        assert app.selected[-1].step is greeting and app.selected[-1].line.text == "220 hi"
        await pilot.click(TranscriptView, offset=(20, 1))  # the separator: not a line
        await pilot.pause()
        assert view.cursor_row == 0


async def test_last_row_stays_visible_when_a_long_line_brings_a_horizontal_scrollbar():
    app = TranscriptApp()
    async with drive(app, size=(60, 10)) as pilot:
        view = app.query_one(TranscriptView)
        view.focus()
        view.append(recv(f"250-line {i}") for i in range(20))
        await pilot.pause()
        view.append([recv("250 " + "x" * 200)])
        view.action_move("up")  # the user moves before the scrollbar has been laid out
        await pilot.pause()
        assert view.show_horizontal_scrollbar
        assert view.scroll_offset.y == view.max_scroll_y
        assert "250 xxx" in row_text(view, 20)


async def test_after_moving_up_new_lines_scroll_in_only_while_the_cursor_stays_on_screen():
    app = TranscriptApp()
    async with drive(app, size=(80, 12)) as pilot:
        view = app.query_one(TranscriptView)
        view.focus()
        view.append(recv(f"250-line {i}") for i in range(100))
        await pilot.pause()
        height = view.scrollable_content_region.height
        await pilot.press("up", "up", "up")
        assert view.cursor_row == 96 and not view.follow
        assert view.scroll_offset.y == 100 - height
        view.append(recv(f"250-more {i}") for i in range(3))
        await pilot.pause()
        assert view.scroll_offset.y == 103 - height  # scrolled along, cursor still in view
        view.append(recv(f"250-even more {i}") for i in range(height))
        await pilot.pause()
        assert view.scroll_offset.y == 103 - height  # would hide the cursor: held
        assert view.cursor_row == 96


async def test_theme_change_redraws_rows_in_the_new_theme_colours():
    app = TranscriptApp()
    async with drive(app, size=(80, 10)) as pilot:
        view = app.query_one(TranscriptView)
        view.append([recv("550 5.1.1 no"), recv("221 bye")])  # the cursor is on row 1
        await pilot.pause()
        dark = segment_colour(view, 0, "550")
        app.theme = "textual-light"
        await pilot.pause()
        light = segment_colour(view, 0, "550")
        assert light != dark
        assert light == component_colour(view, "transcript--recv-perm")


def test_find_row_goes_round_and_ignores_case_and_separators() -> None:
    from mxtui.ui.transcript import _Separator, find_row

    rows = [
        TranscriptLine("sent", "EHLO client", 1.0),
        TranscriptLine("recv", "250-mx1.example.com", 2.0),
        _Separator(0),
        TranscriptLine("sent", "RCPT TO:<bob@example.com>", 3.0),
        TranscriptLine("recv", "550 5.1.1 <bob@example.com>: no such user", 4.0),
    ]
    assert find_row(rows, -1, "BOB") == 3
    assert find_row(rows, 3, "bob") == 4
    assert find_row(rows, 4, "bob") == 3  # round past the end
    assert find_row(rows, 3, "bob", forward=False) == 4  # and past the start
    assert find_row(rows, 0, "nowhere") == -1 and find_row(rows, 0, "  ") == -1
