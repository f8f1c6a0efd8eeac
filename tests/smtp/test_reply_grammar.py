"""The one grammar of reply text (mxtui.smtp.replies) and its two readings, pinned case by case.

The values were those of the session's and of `explain`'s own parsers before they shared one
grammar: `walk --json` and `explain --json` read replies exactly as they did. The readings
differ on purpose: a server's reply carries its enhanced code on the first line, followed by a
space (RFC 2034); a person's may carry it on any line and write "5.1.1:".
"""

from __future__ import annotations

import re

import pytest

from mxtui.conformance.observe import dsn_statuses
from mxtui.lab.hosts import with_enhanced_code, without_enhanced_code
from mxtui.smtp.replies import (
    ENHANCED,
    enhanced_parts,
    parse_reply,
    parse_reply_text,
    reply_line,
    sent_enhanced,
    single_line_reply,
)


@pytest.mark.parametrize(
    ("code", "lines", "enhanced", "text"),
    [
        (550, ("550-5.1.1 <bob@x>: unknown", "550 5.1.1 try another"), "5.1.1",
         "<bob@x>: unknown\ntry another"),
        (250, ("250 5.1.1 odd server",), None, "5.1.1 odd server"),
        (550, ("550 5.1.1",), "5.1.1", ""),
        (550, ("550",), None, ""),
        (550, ("550 5.1.1: colon",), None, "5.1.1: colon"),
        (550, ("550 5.01.001 padded",), "5.01.001", "padded"),
        (550, ("550 5.1.1.2 four parts",), None, "5.1.1.2 four parts"),
        (550, ("550-first", "550 5.1.1 second"), None, "first\n5.1.1 second"),
        (550, ("550-5.1.1 a", "550 5.2.2 b"), "5.1.1", "a\n5.2.2 b"),
        (451, ("451 4.3.0\tdelayed",), "4.3.0", "delayed"),
        (550, ("550  5.1.1 two spaces",), None, "5.1.1 two spaces"),
    ],
)  # fmt: skip
def test_a_servers_reply_has_its_enhanced_code_on_the_first_line_then_a_space(
    code: int, lines: tuple[str, ...], enhanced: str | None, text: str
) -> None:
    reply = parse_reply(code, lines)
    assert (reply.enhanced, reply.text, reply.lines) == (enhanced, text, lines)


@pytest.mark.parametrize(
    ("typed", "enhanced", "text"),
    [
        ("550 5.1.1 user unknown", "5.1.1", "user unknown"),
        ("550-first line\n550 5.7.1 second has it", "5.7.1", "first line\nsecond has it"),
        ("450 4.2.0: greylisted", "4.2.0", ": greylisted"),
        ("550 4.7.1 wrong class", None, "4.7.1 wrong class"),
        ("550 5.01.001 padded", "5.1.1", "padded"),
        ("550 5.1.1.2 too many", None, "5.1.1.2 too many"),
        ("550-5.1.1 a\n550 5.2.2 b", "5.1.1", "a\nb"),
        ("600 odd", None, "odd"),
        ("550  5.1.1 two spaces", "5.1.1", "two spaces"),
        ("553 5.1.8,bad sender", "5.1.8", ",bad sender"),
        ("  550 5.1.1 indented  ", "5.1.1", "indented"),
        ("550 5.1.1\r\n550 more", "5.1.1", "\nmore"),
    ],
)
def test_a_typed_reply_may_carry_its_enhanced_code_on_any_line(
    typed: str, enhanced: str | None, text: str
) -> None:
    reply = parse_reply_text(typed)
    assert (reply.enhanced, reply.text) == (enhanced, text)


def test_the_lenient_reading_takes_punctuation_after_the_code_but_not_a_fourth_part() -> None:
    assert enhanced_parts(" 5.1.1:") == (5, 1, 1)
    assert enhanced_parts("4.7.999 x") == (4, 7, 999)
    assert enhanced_parts("5.1.1.1") is None and enhanced_parts("5.1.1234") is None
    assert enhanced_parts("3.1.1") is None
    assert sent_enhanced("5.1.1: x") is None and sent_enhanced("5.1.1 x") == "5.1.1"


def test_a_reply_line_splits_into_code_separator_and_text() -> None:
    assert reply_line("250-PIPELINING") == (250, "-", "PIPELINING")
    assert reply_line("221") == (221, "", "")
    assert reply_line("250OK") is None and reply_line("25 x") is None
    assert single_line_reply("550 5.1.1 no") and single_line_reply("550")
    assert not single_line_reply("550-more") and not single_line_reply("550 a\n250 b")
    assert not single_line_reply("250 ok", (4, 5)) and not single_line_reply("354 go")


def test_the_lab_and_the_conformance_runners_read_the_same_grammar() -> None:
    assert with_enhanced_code("550 5.1.1 known", "RCPT") == "550 5.1.1 known"
    assert with_enhanced_code("550 5.1.1: not a code here", "RCPT") == (
        "550 5.1.1 5.1.1: not a code here"
    )
    assert without_enhanced_code("550 5.1.1 User unknown") == "550 User unknown"
    assert without_enhanced_code("550 5.1.1: kept") == "550 5.1.1: kept"
    dsn = (
        b"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status;"
        b' boundary="b"\n\n--b\nContent-Type: text/plain\n\nbounced\n--b\n'
        b"Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.test\n\n"
        b"Final-Recipient: rfc822; <Nobody@b.test>\nAction: failed\nStatus: 5.1.1 (unknown)\n"
        b"\n--b--\n"
    )
    assert dsn_statuses(dsn) == {"nobody@b.test": "5.1.1"}
    assert dsn_statuses(dsn.replace(b"Status: 5.1.1 ", b"Status: 5.1.1234 ")) == {}
    assert re.fullmatch(ENHANCED, "5.1.1") and not re.fullmatch(ENHANCED, "3.1.1")
