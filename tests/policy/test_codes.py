"""Reply code and enhanced status code meanings (RFC 5321 §4.2.1, RFC 3463 and later)."""

from __future__ import annotations

import pytest

from mxtui.model import Reply
from mxtui.policy import code_meaning, enhanced_meaning, reply_enhanced
from mxtui.smtp.replies import parse_reply_text

# RFC 3463 §3.1-§3.8, transcribed from the reference table: every (subject, detail) it defines.
RFC3463 = {
    0: [0],
    1: [0, 1, 2, 3, 4, 5, 6, 7, 8],
    2: [0, 1, 2, 3, 4],
    3: [0, 1, 2, 3, 4, 5],
    4: [0, 1, 2, 3, 4, 5, 6, 7],
    5: [0, 1, 2, 3, 4, 5],
    6: [0, 1, 2, 3, 4, 5],
    7: [0, 1, 2, 3, 4, 5, 6, 7],
}


@pytest.mark.parametrize(
    ("subject", "detail"), [(s, d) for s, details in RFC3463.items() for d in details]
)
def test_every_rfc3463_code_has_its_own_meaning(subject, detail):
    meaning = enhanced_meaning(f"5.{subject}.{detail}")
    assert meaning is not None
    assert "not in the registry" not in meaning.detail_meaning
    assert meaning.reference.startswith("RFC 3463")


@pytest.mark.parametrize(
    ("code", "words", "rfc"),
    [
        ("5.1.10", "null MX", "RFC 7505"),
        ("5.7.27", "null MX", "RFC 7505"),
        ("5.7.8", "credentials invalid", "RFC 4954"),
        ("5.7.9", "too weak", "RFC 4954"),
        ("4.7.0", "temporary authentication failure", "RFC 4954"),
        ("5.7.26", "Multiple authentication checks failed", "RFC 7372"),
        ("5.5.6", "line is too long", "RFC 4954"),
        ("5.7.23", "SPF validation failed", "RFC 7372"),
        ("5.6.7", "Non-ASCII addresses", "RFC 6531"),
    ],
)
def test_later_registry_codes_are_known(code, words, rfc):
    meaning = enhanced_meaning(code)
    assert words in meaning.detail_meaning
    assert rfc in meaning.reference


def test_an_unregistered_detail_is_named_as_such_instead_of_failing():
    meaning = enhanced_meaning("4.7.999")
    assert meaning.subject_meaning == "security or policy status"
    assert "not in the registry" in meaning.detail_meaning


def test_something_that_is_not_an_enhanced_code_gives_none():
    assert enhanced_meaning("hello") is None
    assert enhanced_meaning("3.1.1") is None  # class 3 does not exist
    assert enhanced_meaning("5.1.1.1") is None


def test_the_enhanced_code_is_found_in_the_reply_text_when_the_session_did_not_parse_it():
    found = reply_enhanced(Reply(550, "5.1.1 <x@example.com>: no such user"))
    assert found.code == "5.1.1" and found.from_text
    parsed = reply_enhanced(Reply(550, "no such user", enhanced="5.1.1"))
    assert parsed.code == "5.1.1" and not parsed.from_text
    assert reply_enhanced(Reply(550, "no such user")) is None


def test_an_enhanced_code_whose_class_disagrees_with_the_reply_is_flagged():
    assert not reply_enhanced(Reply(550, "4.7.1 try later")).matches_reply
    assert reply_enhanced(Reply(450, "4.7.1 try later")).matches_reply


@pytest.mark.parametrize(
    ("code", "klass", "subject", "words"),
    [
        (421, 4, "connections", "Service not available"),
        (550, 5, "mail system", "mailbox unavailable"),
        (354, 3, "mail system", "Start mail input"),
        (521, 5, "connections", "does not accept mail"),
        (556, 5, "mail system", "Domain does not accept mail"),
    ],
)
def test_reply_codes_are_read_digit_by_digit(code, klass, subject, words):
    meaning = code_meaning(code)
    assert meaning.klass == klass
    assert subject in meaning.subject_meaning
    assert words in meaning.usual_text


def test_unknown_codes_are_read_by_their_first_digit():
    meaning = code_meaning(459)
    assert meaning.usual_text == ""
    assert meaning.class_meaning.startswith("transient")
    assert "outside 2-5" in code_meaning(600).class_meaning


def test_a_multiline_reply_is_parsed_into_one_reply():
    reply = parse_reply_text("250-mx.example.com\n250-PIPELINING\n250 2.0.0 SIZE 1000")
    assert reply.code == 250
    assert reply.lines == ("250-mx.example.com", "250-PIPELINING", "250 2.0.0 SIZE 1000")
    assert reply.enhanced == "2.0.0"


@pytest.mark.parametrize(
    "text", ["", "hello", "55 short", "5500 long", "250-a\n550 b", "abc 250 ok"]
)
def test_text_that_is_not_a_reply_is_refused_with_a_reason(text):
    with pytest.raises(ValueError, match=r"code|empty"):
        parse_reply_text(text)


def test_control_characters_in_a_reply_are_made_visible():
    reply = parse_reply_text("550 \x1b]0;owned\x07 no")
    assert "\x1b" not in "".join(reply.lines) + reply.text
    assert "\\x1b" in reply.text


@pytest.mark.parametrize(
    ("code", "section"),
    [("5.0.0", "§3.1"), ("5.1.1", "§3.2"), ("4.2.2", "§3.3"), ("5.3.4", "§3.4"),
     ("4.4.7", "§3.5"), ("5.5.3", "§3.6"), ("5.6.1", "§3.7"), ("5.7.1", "§3.8"),
     ("4.7.0", "§3.8"), ("5.9.9", "§2")],
)  # fmt: skip
def test_each_enhanced_code_cites_its_rfc_3463_section(code, section):
    """RFC 3463: class and subject §2, X.0.0 §3.1, X.1.x §3.2 … X.7.x §3.8 (there is no §3.9;
    the reference's errata §0 correct an off-by-one)."""
    meaning = enhanced_meaning(code)
    assert meaning is not None
    assert meaning.reference.startswith(f"RFC 3463 {section}")
    assert "§3.9" not in meaning.reference
