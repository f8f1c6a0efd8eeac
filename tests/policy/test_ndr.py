"""The NDR / delay-notice preview is a real RFC 3464 report that parses back."""

from __future__ import annotations

import email
from datetime import UTC, datetime

import pytest

from mxtui.model import DecisionContext, Outcome, Reply, Stage
from mxtui.policy import PROFILES, NoNoticeError, decide, ndr_preview, ndr_text

ARRIVAL = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 9, 5, tzinfo=UTC)
UNKNOWN_USER = Reply(550, "5.1.1 no such user", lines=("550 5.1.1 no such user",))


def _parts(message):
    parsed = email.message_from_bytes(message.as_bytes())
    kinds = [p.get_content_type() for p in parsed.get_payload()]
    return parsed, kinds


def _status_blocks(parsed):
    (part,) = [p for p in parsed.get_payload() if p.get_content_type() == "message/delivery-status"]
    return part.get_payload()


@pytest.mark.parametrize("profile", list(PROFILES))
def test_an_ndr_parses_back_as_a_three_part_delivery_status_report(profile):
    decision = decide(Stage.RCPT, UNKNOWN_USER, profile)
    message = ndr_preview(decision, reply=UNKNOWN_USER, now=NOW, arrival=ARRIVAL)
    parsed, kinds = _parts(message)
    assert parsed.get_content_type() == "multipart/report"
    assert parsed.get_param("report-type") == "delivery-status"
    assert kinds == ["text/plain", "message/delivery-status", "text/rfc822-headers"]
    per_message, per_recipient = _status_blocks(parsed)
    assert per_message["Reporting-MTA"] == "dns; mx.sender.example"
    assert per_recipient["Final-Recipient"] == "rfc822; recipient@example.com"
    assert per_recipient["Action"] == "failed"
    # Exim and OpenSMTPD write 5.0.0 in every bounce, whatever the server said (Exim
    # deliver.c:7863, tested with Exim 4.96, reference §0; OpenSMTPD mta.c ESC_OTHER_STATUS);
    # the others pass the server's enhanced code on.
    fixed = profile in ("exim", "opensmtpd")
    assert per_recipient["Status"] == ("5.0.0" if fixed else "5.1.1")
    assert per_recipient["Remote-MTA"] == "dns; mx1.example.com"
    assert per_recipient["Diagnostic-Code"] == "smtp; 550 5.1.1 no such user"
    assert per_recipient["Last-Attempt-Date"] == "Mon, 23 Nov 2026 09:05:00 +0000"
    assert "Will-Retry-Until" not in per_recipient
    assert "Subject: Quarterly report" in parsed.get_payload()[2].get_payload()


def test_profile_flavoured_human_text():
    subjects = {}
    for profile in ("postfix", "exim", "sendmail", "exchange"):
        decision = decide(Stage.RCPT, UNKNOWN_USER, profile)
        subjects[profile] = ndr_preview(decision, now=NOW, arrival=ARRIVAL)["Subject"]
    assert subjects["postfix"] == "Undelivered Mail Returned to Sender"
    assert subjects["exim"] == "Mail delivery failed: returning message to sender"
    assert subjects["sendmail"] == "Returned mail: see transcript for details"
    assert subjects["exchange"] == "Undeliverable: Quarterly report"
    postfix = ndr_preview(decide(Stage.RCPT, UNKNOWN_USER, "postfix"), now=NOW)
    assert "MAILER-DAEMON@" in postfix["From"]


def test_a_requeue_previews_the_delay_notice_with_will_retry_until():
    decision = decide(Stage.GREETING, Reply(421, "4.3.2 busy"), "exim")
    message = ndr_preview(decision, arrival=ARRIVAL)
    parsed, _ = _parts(message)
    _, per_recipient = _status_blocks(parsed)
    assert per_recipient["Action"] == "delayed"
    assert per_recipient["Status"] == "4.0.0"  # Exim's delay notices: deliver.c:8386
    assert per_recipient["Last-Attempt-Date"] == "Tue, 24 Nov 2026 09:00:00 +0000"  # 24 h warning
    assert per_recipient["Will-Retry-Until"] == "Fri, 27 Nov 2026 14:01:52 +0000"  # +363712 s
    assert parsed["Subject"] == "Warning: message delayed 1 day"


def test_a_delay_notice_carries_the_server_s_enhanced_code_unless_the_mta_fixes_it():
    reply = Reply(421, "4.3.2 busy")
    for profile, status in (("sendmail", "4.3.2"), ("exim", "4.0.0")):
        decision = decide(Stage.MAIL, reply, profile, DecisionContext(last_address=True))
        _, per_recipient = _status_blocks(_parts(ndr_preview(decision, arrival=ARRIVAL))[0])
        assert (per_recipient["Action"], per_recipient["Status"]) == ("delayed", status)


def test_a_profile_without_delay_notices_previews_the_expiry_bounce():
    decision = decide(Stage.GREETING, Reply(421), "qmail")
    parsed, _ = _parts(ndr_preview(decision, arrival=ARRIVAL))
    _, per_recipient = _status_blocks(parsed)
    assert per_recipient["Action"] == "failed"
    assert per_recipient["Status"].startswith("4.")  # expiry keeps the last temporary status
    with pytest.raises(NoNoticeError):
        ndr_preview(decision, kind="delayed")


def test_a_null_mx_bounce_names_no_remote_mta():
    decision = decide(Stage.DNS, Outcome.NULL_MX, "rfc")
    parsed, _ = _parts(ndr_preview(decision, now=NOW))
    _, per_recipient = _status_blocks(parsed)
    assert "Remote-MTA" not in per_recipient
    assert per_recipient["Status"] == "5.1.10"
    assert "null MX" in per_recipient["Diagnostic-Code"]


def test_the_preview_is_reproducible_from_the_same_clock():
    decision = decide(Stage.RCPT, UNKNOWN_USER, "postfix")
    first = ndr_text(ndr_preview(decision, now=NOW, arrival=ARRIVAL))
    second = ndr_text(ndr_preview(decision, now=NOW, arrival=ARRIVAL))
    assert first == second


def test_hostile_reply_text_cannot_inject_headers_or_control_characters():
    hostile = Reply(550, "x", lines=("550 x\r\nBcc: victim@example.net\x1b]0;owned\x07",))
    decision = decide(Stage.RCPT, hostile, "postfix")
    text = ndr_text(ndr_preview(decision, reply=hostile, now=NOW))
    assert "\x1b" not in text and "\r" not in text
    assert "\nBcc:" not in text


def test_sendmail_writes_5_5_0_after_a_5xx_greeting_or_data_whatever_the_server_said():
    """usersmtp.c:309 and 2733-2738 with deliver.c:4281-4285; Sendmail 8.17.1.9's bounces said
    5.5.0 in the conformance cases only-greets-554 and data-554."""
    for stage in (Stage.GREETING, Stage.DATA):
        reply = Reply(554, "5.7.1 no")
        last = DecisionContext(last_address=True)
        assert decide(stage, reply, "sendmail", last).status == "5.5.0", stage
        assert decide(stage, reply, "rfc", last).status == "5.7.1", stage
    assert decide(Stage.RCPT, Reply(550, "5.1.1 no"), "sendmail").status == "5.1.1"
