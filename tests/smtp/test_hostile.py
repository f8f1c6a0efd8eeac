"""The session core against hostile servers: no crash, nothing left uninterpreted, bounded.

"Uninterpreted" here means every transcript line is already printable text (no control, escape
or bidi character survives), so the UI can never pass one to the terminal.
"""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import pytest
from smtp_support import LAB_ADDRESS, envelope

from mxtui.lab.hostile import CLOSE_STAGES, HostileHost
from mxtui.model import Outcome, Stage, StepResult, Timeouts
from mxtui.smtp import LabDialer, Session, to_jsonl, to_text
from mxtui.text import printable

FAST = Timeouts(connect=1.0, reply=1.0)


async def converse(kind: str, timeouts: Timeouts = FAST, **params: Any) -> Session:
    async with HostileHost(kind, **params) as host:  # type: ignore[arg-type]
        session = Session(
            LAB_ADDRESS,
            envelope(),
            dialer=LabDialer({LAB_ADDRESS: host.address}),
            tls="none",
            timeouts=timeouts,
        )
        for _ in range(30):
            if await session.step() is None:
                break
        await session.aclose()
    return session


def assert_all_printable(session: Session) -> None:
    for line in session.transcript:
        assert printable(line.text) == line.text, line
        assert "\x1b" not in line.text and "\u202e" not in line.text
    exported = to_text(session.transcript) + to_jsonl(session.transcript)
    assert "\x1b" not in exported and "\x00" not in exported


def last(session: Session) -> StepResult:
    return session.steps[-1]


async def test_markup_and_escapes_stay_literal_text() -> None:
    s = await converse("markup")
    assert_all_printable(s)
    text = to_text(s.transcript)
    assert "[bold red]" in text and "[@click=app.quit]x[/]" in text
    assert "\\x1b]0;PWNED\\x07" in text and "\\u202e" in text and "\\x9b31m" in text
    assert [r.stage for r in s.steps][-1] is Stage.QUIT


async def test_a_1mb_greeting_line_is_cut_with_a_marker_in_bounded_memory_and_time() -> None:
    tracemalloc.start()
    start = time.monotonic()
    try:
        s = await converse("long-line", stage="greeting", size=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - start < 15  # the 1 s reply timeout, with room
    assert peak < 8 * 1024 * 1024
    assert_all_printable(s)
    shown = [line.text for line in s.transcript if line.dir == "recv"]
    assert len(shown) == 1 and len(shown[0]) < 1200 and "more bytes]" in shown[0]
    assert last(s).stage is Stage.GREETING and last(s).outcome is Outcome.TIMEOUT


async def test_a_greeting_line_past_the_reply_byte_limit_ends_at_the_limit_not_by_timeout() -> None:
    """The bytes of a greeting sent before the session reads it count too (they were forgotten
    once the line was cut to what can be shown, and only the reply timeout ended it)."""
    s = await converse("long-line", timeouts=Timeouts(connect=1.0, reply=30.0), size=1_100_000)
    assert last(s).stage is Stage.GREETING and last(s).failure == "reply-too-long"
    shown = [line.text for line in s.transcript if line.dir == "recv"]
    assert len(shown) == 1 and "more bytes]" in shown[0]


async def test_a_1mb_ehlo_line_is_cut_and_the_reply_abandoned() -> None:
    s = await converse("long-line", stage="ehlo", size=1_000_000)
    assert_all_printable(s)
    assert last(s).stage is Stage.EHLO and last(s).reply is None
    assert any("more bytes]" in line.text for line in s.transcript)


async def test_an_endless_multiline_reply_stops_at_the_line_limit() -> None:
    tracemalloc.start()
    start = time.monotonic()
    try:
        s = await converse("endless", stage="ehlo")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - start < 15  # bounded by the line limit, not by the server
    assert peak < 16 * 1024 * 1024
    assert last(s).stage is Stage.EHLO and last(s).failure == "reply-too-long"
    received = [line for line in s.transcript if line.dir == "recv"]
    assert len(received) <= s.limits.reply_lines + 2
    assert not s.connected


async def test_an_endless_greeting_stops_too() -> None:
    s = await converse("endless", stage="greeting")
    assert last(s).stage is Stage.GREETING and last(s).failure == "reply-too-long"


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_random_bytes_end_the_conversation_without_a_crash(seed: int) -> None:
    s = await converse("random", seed=seed)
    assert_all_printable(s)
    end = last(s)
    assert end.reply is None
    assert end.failure in ("malformed-reply", "reply-too-long") or end.outcome in (
        Outcome.TIMEOUT,
        Outcome.DROPPED,
    )


EXPECTED_DROP = {
    "before-greeting": Stage.GREETING,
    "after-greeting": Stage.EHLO,
    "after-ehlo": Stage.MAIL,
    "after-mail": Stage.RCPT,
    "after-rcpt": Stage.DATA,
    "after-data": Stage.DOT,
    "after-dot": Stage.QUIT,
}


@pytest.mark.parametrize("stage", CLOSE_STAGES)
async def test_a_close_at_each_stage_is_a_dropped_outcome_at_the_next_step(stage: str) -> None:
    async with HostileHost("close-at", stage=stage) as host:
        session = Session(
            LAB_ADDRESS, envelope(), dialer=LabDialer({LAB_ADDRESS: host.address}),
            tls="none", timeouts=FAST,
        )  # fmt: skip
        for _ in range(30):
            if await session.step() is None:
                break
    end = last(session)
    assert end.stage is EXPECTED_DROP[stage]
    assert end.outcome is Outcome.DROPPED and end.reply is None
    assert session.next_stage() is None


async def test_a_greeting_at_one_byte_a_second_is_bounded_by_the_reply_timeout() -> None:
    start = time.monotonic()
    s = await converse("trickle", timeouts=Timeouts(connect=1, reply=1.5), interval_s=1.0)
    assert time.monotonic() - start < 15  # bounded by the 1.5 s reply timeout, not 40 s of trickle
    assert last(s).stage is Stage.GREETING and last(s).outcome is Outcome.TIMEOUT
    partial = [line.text for line in s.transcript if line.dir == "recv"]
    assert partial and partial[0].startswith("2") and "before the line ended" in partial[0]


async def test_a_fast_trickle_greeting_still_works() -> None:
    s = await converse("trickle", timeouts=Timeouts(connect=1, reply=3), interval_s=0.005)
    assert s.steps[1].reply is not None and s.steps[1].reply.code == 220
    assert s.steps[-1].stage is Stage.QUIT
