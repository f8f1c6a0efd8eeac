"""The printable-text rule (nothing a server sends reaches the terminal as a control sequence)
and the one family of duration formats."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from mxtui.dns.describe import ttl_words
from mxtui.policy import PROFILES, retry_timeline
from mxtui.text import (
    CUT_MARKER,
    clock_offset,
    elapsed_text,
    printable,
    printable_bytes,
    span,
    span_words,
)


def test_controls_bidi_and_escapes_are_made_visible():
    assert printable("a\x1b]0;T\x07b\u202ec\x00\x7f\x85") == (
        "a\\x1b]0;T\\x07b\\u202ec\\x00\\x7f\\x85"
    )


def test_markup_characters_stay_as_they_are():
    assert printable("250 SIZE [/] [@click=app.quit]x[/]") == "250 SIZE [/] [@click=app.quit]x[/]"


def test_bytes_that_are_not_utf8_are_shown_as_hex_escapes():
    assert printable_bytes(b"caf\xc3\xa9 \xff\xfe") == "café \\xff\\xfe"


def test_an_overlong_line_is_cut_with_a_marker():
    shown = printable_bytes(b"x" * 5000, limit=1000)
    assert shown == "x" * 1000 + CUT_MARKER.format(n=4000)


@given(st.binary(max_size=300))
def test_no_control_character_survives_any_input(data):
    shown = printable_bytes(data)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in shown)
    assert "\u202e" not in shown and "\u2066" not in shown


def test_durations_are_written_one_way_from_seconds_to_days() -> None:
    assert [span(s) for s in (0, 45, 400, 7220 * 60, 432000 + 1200)] == [
        "0s", "45s", "6m40s", "5d20m", "5d20m"
    ]  # fmt: skip
    assert span(3 * 86400 + 3661, units=2) == "3d1h"
    assert clock_offset(169 * 3600) == "+7d1h"  # never "+169h" or "+10140m"
    assert [span_words(s) for s in (432000, 14400, 1800, 45)] == [
        "5 days", "4 hours", "30 minutes", "45 seconds"
    ]  # fmt: skip
    assert [elapsed_text(ms) for ms in (0.4, 12.3, 1500)] == ["under 1 ms", "12 ms", "1.5 s"]


def test_a_ttl_gives_its_seconds_and_the_same_length_as_every_duration() -> None:
    assert ttl_words(3600) == "TTL 3600s (1h)"
    assert ttl_words(5400) == "TTL 5400s (1h30m)"
    assert ttl_words(60) == "TTL 60s" and ttl_words(None) == ""


def test_no_retry_schedule_writes_a_long_duration_in_seconds() -> None:
    for name in PROFILES:
        formula = retry_timeline(name).formula
        assert not re.search(r"\d{3,} ?s\b", formula), (name, formula)
    assert "age >= 5d" in retry_timeline("postfix").formula
