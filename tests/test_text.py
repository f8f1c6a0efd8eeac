"""The printable-text rule: nothing a server sends reaches the terminal as a control sequence."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mxtui.text import CUT_MARKER, printable, printable_bytes


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
