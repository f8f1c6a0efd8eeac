"""The MTA-STS and TLS-RPT text formats, read strictly (RFC 8461 §3.1-§3.2, §4.1; RFC 8460 §3),
with hostile input: duplicates, bad fields, huge policies, control characters and markup."""

from __future__ import annotations

import pytest

from mxtui.tlspolicy.records import (
    MAX_AGE_LIMIT,
    RecordError,
    mx_matches,
    parse_policy,
    pick_sts_record,
    pick_tlsrpt_record,
    txt_text,
)

POLICY = (
    "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: *.example.net\r\n"
    "max_age: 86400\r\n"
)


def test_a_valid_sts_record_gives_its_id():
    record = pick_sts_record(["v=spf1 -all", "v=STSv1; id=20260101T000000;"])
    assert record.id == "20260101T000000"


@pytest.mark.parametrize(
    ("texts", "why"),
    [
        (["v=spf1 -all"], "no TXT record begins"),
        (["v=STSv1; id=1", "v=STSv1; id=2"], "exactly one is allowed"),
        (["v=STSv1;"], "exactly one id="),
        (["v=STSv1; id=a-b"], "letters and digits"),
        (["v=STSv1; id=" + "a" * 33], "letters and digits"),
        (["v=STSv1; id=1; id=2"], "exactly one id="),
        (["v=STSv1; id=1; bad field"], "key=value"),
    ],
)
def test_an_unusable_sts_record_says_why(texts, why):
    with pytest.raises(RecordError, match=why):
        pick_sts_record(texts)


def test_a_policy_is_read_with_crlf_and_unknown_keys_skipped():
    policy = parse_policy(POLICY + "x-extension: yes\n")
    assert (policy.mode, policy.mx, policy.max_age) == (
        "enforce",
        ("mx1.example.com", "*.example.net"),
        86400,
    )
    assert policy.ignored == ("x-extension: yes",)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("mode: enforce\nmx: a.example\nmax_age: 1\n", "version is missing"),
        ("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", "not STSv1"),
        ("version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n", "not enforce"),
        ("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", "whole number"),
        (f"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: {MAX_AGE_LIMIT + 1}\n", "over"),
        ("version: STSv1\nmode: enforce\nmax_age: 1\n", "no mx lines"),
        ("version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n", "not a host name"),
        ("version: STSv1\nmode: enforce\nmx: *.com.*\nmax_age: 1\n", "not a host name"),
        ("version: STSv1\nmode: enforce\nmode: none\nmx: a.example\nmax_age: 1\n", "2 times"),
        ("version: STSv1\n" * 2000, "lines"),
    ],
)
def test_an_invalid_policy_says_why(body, why):
    with pytest.raises(RecordError, match=why):
        parse_policy(body)


def test_mode_none_needs_no_mx():
    assert parse_policy("version: STSv1\nmode: none\nmax_age: 0\n").mx == ()


@pytest.mark.parametrize(
    ("pattern", "host", "matches"),
    [
        ("mx1.example.com", "MX1.Example.COM.", True),
        ("mx1.example.com", "mx2.example.com", False),
        ("*.example.net", "mail.example.net", True),
        ("*.example.net", "example.net", False),  # a wildcard needs a label in its place
        ("*.example.net", "a.b.example.net", False),  # only the leftmost label
        ("*.example.net", "mail.example.org", False),
    ],
)
def test_mx_patterns_match_as_rfc_8461_section_4_1_says(pattern, host, matches):
    assert mx_matches(pattern, host) is matches


def test_tlsrpt_record_gives_its_reporting_addresses():
    record = pick_tlsrpt_record(["v=TLSRPTv1; rua=mailto:a@example.com,https://r.example/x"])
    assert record.rua == ("mailto:a@example.com", "https://r.example/x")


@pytest.mark.parametrize(
    ("texts", "why"),
    [
        (["v=TLSRPTv1;"], "exactly one rua="),
        (["v=TLSRPTv1; rua=ftp://x"], "neither mailto: nor https:"),
        (["v=TLSRPTv1; rua=mailto:a@x", "v=TLSRPTv1; rua=mailto:b@x"], "exactly one"),
    ],
)
def test_an_unusable_tlsrpt_record_says_why(texts, why):
    with pytest.raises(RecordError, match=why):
        pick_tlsrpt_record(texts)


def test_txt_strings_are_joined_bounded_and_made_printable():
    text = txt_text((b"v=STSv1; id=1\x1b[31m", b"[red]x[/]", b"\xff" * 10_000))
    assert "\x1b" not in text and "\\x1b" in text
    assert "[red]x[/]" in text  # kept as literal text: shown, never interpreted
    assert len(text) < 20_000
