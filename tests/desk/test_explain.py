"""explain(shown, choices): what the side panel shows, computed without a terminal — each kind
of step, a profile switch, the other profiles, the notice facts and the bounce preview."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mxtui.desk.choices import Choices
from mxtui.desk.explain import explain, notice_preview, shown_outcome, shown_step
from mxtui.model import Action, DecisionContext, Envelope, Outcome, Reply, Stage, StepResult
from mxtui.policy import PROFILES, ProfileError, compare, decide
from mxtui.text import clock_offset, span

FIXED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CHOICES = Choices.make("example.com", lab=True)


def reply(code: int, text: str = "", enhanced: str | None = None) -> Reply:
    head = f"{code} {enhanced} {text}" if enhanced else f"{code} {text}"
    return Reply(code, text, enhanced, (head.strip(),))


def step(stage: Stage, rep: Reply | None = None, **kw) -> StepResult:
    return StepResult(stage, (), rep, 1.0, **kw)


def test_550_511_at_rcpt_bounces_that_recipient_and_the_notice_names_it() -> None:
    rcpt = step(Stage.RCPT, reply(550, "no such user", "5.1.1"),
                recipients=("bob@example.com",), sender="a@example.org")  # fmt: skip
    result = explain(shown_step(rcpt, remote="mx1.example.com"), CHOICES)
    assert result.decision is not None and result.decision.headline == "BOUNCE RECIPIENT"
    assert result.notice is not None
    assert (result.notice.recipient, result.notice.sender) == ("bob@example.com", "a@example.org")
    assert result.notice.remote_mta == "mx1.example.com"
    assert result.notice.reporting_mta == CHOICES.envelope.ehlo_name
    title, body = notice_preview(result, CHOICES, FIXED)
    assert title.startswith("Bounce (NDR)")
    assert "Final-Recipient: rfc822; bob@example.com" in body
    assert "Remote-MTA: dns; mx1.example.com" in body
    assert "Mon, 23 Nov 2026 10:00:00" in body  # the caller's clock, not a wall clock


def test_a_profile_switch_is_the_same_shown_under_new_choices() -> None:
    shown = shown_step(step(Stage.GREETING, reply(421, "too busy")))
    postfix = explain(shown, CHOICES)
    assert postfix.decision == decide(Stage.GREETING, reply(421, "too busy"), "postfix")
    assert postfix.decision.action in (Action.NEXT_ADDRESS, Action.NEXT_MX)
    qmail = explain(shown, CHOICES.with_profile("qmail"))
    assert qmail.decision is not None and qmail.decision.headline == "REQUEUE"
    assert qmail.profile.name == "qmail"


def test_next_profile_walks_the_profiles_in_order_and_wraps() -> None:
    names = list(PROFILES)
    choices = CHOICES
    seen = []
    for _ in names:
        choices = choices.next_profile()
        seen.append(choices.profile.name)
    start = names.index("postfix")
    assert seen == names[start + 1 :] + names[: start + 1]
    with pytest.raises(ProfileError):
        CHOICES.with_profile("nosuchmta")


def test_a_refused_connection_has_no_reply_code_and_a_held_step_decides_nothing() -> None:
    refused = explain(shown_step(step(Stage.CONNECT, outcome=Outcome.REFUSED)), CHOICES)
    assert refused.decision == decide(Stage.CONNECT, Outcome.REFUSED, "postfix")
    held = explain(shown_step(step(Stage.DOT, failure="held", error="confirm first")), CHOICES)
    assert held.decision is None and held.shown is not None
    assert "NOTHING SENT" in held.shown.headline and held.shown.error == "confirm first"
    assert notice_preview(held, CHOICES, FIXED)[0] == "Nothing to bounce"


def test_broken_replies_and_tls_failures_are_read_as_the_outcomes_they_stand_for() -> None:
    malformed = explain(shown_step(step(Stage.DATA, failure="malformed-reply")), CHOICES)
    assert malformed.decision == decide(Stage.DATA, Outcome.DROPPED, "postfix")
    failed = explain(shown_step(step(Stage.STARTTLS, failure="tls-failed")), CHOICES)
    assert failed.decision == decide(Stage.STARTTLS, Outcome.DROPPED, "postfix")
    unverified = step(Stage.STARTTLS, reply(220, "go ahead"), failure="tls-unverified")
    result = explain(shown_step(unverified), CHOICES)
    required = DecisionContext(tls_required=True)
    assert result.decision == decide(Stage.STARTTLS, Outcome.DROPPED, "postfix", required)
    assert result.decision.action is not Action.CONTINUE


def test_the_other_profiles_are_every_profile_on_the_same_reply() -> None:
    rep = reply(421, "busy")
    result = explain(shown_outcome(Stage.GREETING, rep), CHOICES)
    assert result.others == compare(Stage.GREETING, rep)


def test_parameters_are_parsed_once_into_the_choices_and_change_the_decision() -> None:
    rep = reply(554, "go away")
    shown = shown_outcome(Stage.GREETING, rep, DecisionContext(last_address=True))
    plain = explain(shown, CHOICES)
    skip = explain(shown, CHOICES.with_params("postfix", {"smtp_skip_5xx_greeting": "no"}))
    assert plain.decision is not None and skip.decision is not None
    assert plain.decision.action != skip.decision.action
    with pytest.raises(ProfileError):
        CHOICES.with_params("postfix", {"no_such_parameter": "1"})


def test_deferral_notices_follow_the_profile() -> None:
    shown = shown_outcome(Stage.GREETING, reply(421, "busy"), recipient="alice@example.com")
    qmail = explain(shown, CHOICES.with_profile("qmail"))  # qmail sends no delay notice
    title, body = notice_preview(qmail, CHOICES.with_profile("qmail"), FIXED)
    assert "gives up" in title and "Action: failed" in body
    exim = explain(shown, CHOICES.with_profile("exim"))
    title, body = notice_preview(exim, CHOICES.with_profile("exim"), FIXED)
    assert "Delay notice" in title and "Action: delayed" in body
    ok = explain(shown_outcome(Stage.RCPT, reply(250, "ok")), CHOICES)
    assert notice_preview(ok, CHOICES, FIXED)[0] == "Nothing to bounce"


def test_nothing_shown_explains_nothing() -> None:
    result = explain(None, CHOICES)
    assert result.decision is None and result.shown is None
    assert notice_preview(result, CHOICES, FIXED)[0] == "Nothing to bounce"


def test_one_duration_family() -> None:
    assert span(90061) == "1d1h1m1s" and span(90061, units=2) == "1d1h" and span(0) == "0s"
    assert span(7220) == "2h20s" and span(432000) == "5d"
    assert clock_offset(0) == "+0s" and clock_offset(400) == "+6m40s"


def test_a_lab_and_a_real_domain_get_their_own_default_envelope() -> None:
    lab = Choices.make("example.com", lab=True)
    assert lab.envelope == Envelope(
        "sender@client.lab.test", ("alice@example.com",), "client.lab.test"
    )
    real = lab.for_domain("example.org", lab=False)
    assert real.envelope.mail_from.endswith("@" + real.envelope.ehlo_name)
    assert "lab.test" not in real.envelope.mail_from + real.envelope.ehlo_name
    assert real.envelope.recipients == ("postmaster@example.org",)
    own = lab.with_envelope(Envelope("me@x.org", ("you@y.org",), "me.x.org"))
    assert own.for_domain("example.net", lab=True).envelope == own.envelope  # the person's own
