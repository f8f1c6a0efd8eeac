"""The transcript pane at 200,000 lines: append time, memory, and the time of a frame.

    python3 benchmarks/transcript.py [--lines 200000] [--batch 1000] [--size 120x40]

A headless app holds one `TranscriptView`. Lines arrive in batches (a step separator after every
tenth), with one screen refresh after each batch, the way a live session feeds the pane; a
second run hands over one line a call. Memory is the resident set (VmRSS in /proc/self/status),
which includes the `TranscriptLine` objects themselves (in the real app the session's transcript
holds the same objects, so they are counted once). A frame is a key press plus the screen update
it causes (`pilot.press` + `pilot.pause`), measured in CPU time (Pilot's idle waits make the wall
time mostly sleeping; it is shown in brackets) beside the same key on a 100-line pane; keys that
reach rows never drawn before (home, end, pagedown from the top) show the uncached cost.
Goals: RSS <= 150 MB, < 50 ms a frame.

The slow batches are Python's full (generation 2) garbage collections walking every line object
held; `--freeze` calls `gc.freeze()` after each batch (an app-level choice, not the widget's) to
show what moving the transcript out of the collector's way buys.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable

from textual.app import App, ComposeResult
from textual.pilot import Pilot

from mxtui.model import Reply, Stage, StepResult, TranscriptLine
from mxtui.ui.transcript import TranscriptView

GOAL_RSS_MB = 150.0
GOAL_FRAME_MS = 50.0


def rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def batch_of_lines(start: int, count: int) -> list[TranscriptLine]:
    """A conversation-like batch: commands and replies of realistic length, every text distinct."""
    out = []
    for n in range(start, start + count):
        if n % 4 == 0:
            out.append(TranscriptLine("sent", f"RCPT TO:<user{n}@example.com>", n * 0.5))
        elif n % 4 == 3:
            out.append(TranscriptLine("info", f"note {n}: recipient {n // 4} answered", n * 0.5))
        else:
            text = f"250-{n} mx{n % 7}.example.com 2.1.5 Recipient OK, queued as {n:012X}"
            out.append(TranscriptLine("recv", text, n * 0.5, encrypted=n % 8 == 1))
    return out


class BenchApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TranscriptView()


async def timed(action: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """(CPU ms, wall ms) of one action. Pilot waits for idle in 20 ms sleeps, so the wall time
    of a press is mostly waiting; the CPU time is the work of handling the key and drawing."""
    cpu, wall = time.process_time(), time.perf_counter()
    await action()
    return (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000


async def frames(pilot: Pilot[None], view: TranscriptView) -> dict[str, tuple[float, float, float]]:
    """Home, pagedown x20, down x20, end, home again: median and worst CPU ms, worst wall ms."""

    async def press(key: str) -> None:
        await pilot.press(key)
        await pilot.pause()

    out: dict[str, tuple[float, float, float]] = {}
    for name, key, times in (
        ("home (rows not drawn yet)", "home", 1),
        ("pagedown x20", "pagedown", 20),
        ("down x20", "down", 20),
        ("end (rows not drawn yet)", "end", 1),
        ("home again (cached rows)", "home", 1),
    ):
        runs = [await timed(lambda k=key: press(k)) for _ in range(times)]
        worst = max(runs)
        out[name] = (statistics.median(cpu for cpu, _ in runs), worst[0], worst[1])
    assert view.cursor_row == 0 and view.scroll_offset.y == 0
    return out


async def run(
    lines: int, batch: int, size: tuple[int, int], freeze: bool
) -> list[tuple[str, str, str]]:
    small = BenchApp()  # first: the big pane's teardown would put its GC into these numbers
    async with small.run_test(size=size) as pilot:
        view = small.query_one(TranscriptView)
        view.focus()
        view.append(batch_of_lines(0, 100))
        await pilot.pause()
        base = await frames(pilot, view)
    single = BenchApp()  # a session that hands over each line as it comes
    async with single.run_test(size=size) as pilot:
        view = single.query_one(TranscriptView)
        await pilot.pause()
        one_by_one = batch_of_lines(0, 20_000)
        t0 = time.perf_counter()
        for line in one_by_one:
            view.append((line,))
        await pilot.pause()
        per_line_us = (time.perf_counter() - t0) / len(one_by_one) * 1e6
    app = BenchApp()
    rows: list[tuple[str, str, str]] = []
    async with app.run_test(size=size) as pilot:
        view = app.query_one(TranscriptView)
        view.focus()
        await pilot.pause()
        rss_empty = rss_mb()
        widget_s = 0.0
        wall = time.perf_counter()
        batch_ms: list[float] = []
        for b, start in enumerate(range(0, lines, batch)):
            chunk = batch_of_lines(start, min(batch, lines - start))  # the session's work
            t0, c0 = time.perf_counter(), time.process_time()
            view.append(chunk)
            if b % 10 == 9:
                view.add_step(StepResult(Stage.RCPT, (), Reply(250, "ok"), 1.0))
            widget_s += time.perf_counter() - t0
            await pilot.pause()
            if freeze:
                gc.freeze()
            batch_ms.append((time.process_time() - c0) * 1000)
        wall_s = time.perf_counter() - wall
        rss_full = rss_mb()
        assert view.line_count == lines, view.line_count

        rows.append(("lines / batches", f"{lines:,} / {len(batch_ms)}", ""))
        rows.append(("append: widget calls", f"{widget_s * 1000:.0f} ms", "total"))
        rows.append(("append one line a call (20k)", f"{per_line_us:.0f} us a line", "wall"))
        rows.append(("append + a frame per batch", f"{wall_s:.2f} s", "incl. making the lines"))
        rows.append(
            (
                "batch + frame, CPU (median / max)",
                f"{statistics.median(batch_ms):.1f} / {max(batch_ms):.1f} ms",
                ok(max(batch_ms)),
            )
        )
        slow = sum(ms >= GOAL_FRAME_MS for ms in batch_ms)
        note = "with gc.freeze" if freeze else "full GC passes"
        rows.append(("batches over the frame goal", f"{slow} of {len(batch_ms)}", note))
        rows.append(("RSS empty pane", f"{rss_empty:.1f} MB", ""))
        rows.append(
            (
                f"RSS with {lines:,} lines",
                f"{rss_full:.1f} MB (+{rss_full - rss_empty:.1f})",
                "ok" if rss_full <= GOAL_RSS_MB else f"over {GOAL_RSS_MB:.0f} MB",
            )
        )

        baseline = await frames(pilot, view)
    rows.append(("frame: key + screen update", "CPU ms median/worst (wall)", "100-line pane; goal"))
    for name, (median, cpu, wall) in baseline.items():
        b_median, b_cpu, b_wall = base[name]
        rows.append(
            (
                f"  {name}",
                f"{median:.1f} / {cpu:.1f} ({wall:.0f})",
                f"{b_median:.1f} / {b_cpu:.1f} ({b_wall:.0f})  {ok(median)} (median)",
            )
        )
    return rows


def ok(ms: float) -> str:
    return "ok" if ms < GOAL_FRAME_MS else f"over {GOAL_FRAME_MS:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--freeze", action="store_true", help="gc.freeze() after each batch")
    parser.add_argument("--size", default="120x40", help="terminal COLSxROWS (default 120x40)")
    args = parser.parse_args()
    try:
        cols, rows_ = (int(x) for x in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size: expected COLSxROWS, got {args.size!r}")
    if args.lines < 1 or args.batch < 1:
        parser.error("--lines and --batch must be positive")
    table = asyncio.run(run(args.lines, args.batch, (cols, rows_), args.freeze))
    width = max(len(r[0]) for r in table)
    vwidth = max(len(r[1]) for r in table)
    print(f"{'measure':<{width}}  {'value':<{vwidth}}  goal")
    print("-" * (width + vwidth + 10))
    for name, value, verdict in table:
        print(f"{name:<{width}}  {value:<{vwidth}}  {verdict}")


if __name__ == "__main__":
    main()
