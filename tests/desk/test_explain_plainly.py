"""Issue 13 (5): the explanation in plain words — a walk's end gives its outcome, a retry
timeline only where the mail is queued, the sender's DSN request, no rule codes in the text."""

from __future__ import annotations

from dataclasses import replace

from desk_support import Desk, ended, until

from mxtui.desk.choices import Choices
from mxtui.desk.explain import explain, shown_outcome, shown_walk_end
from mxtui.model import DSNRequest, Reply, Stage

CHOICES = Choices.make("example.com", lab=True)


def reply(code: int, text: str, enhanced: str | None = None) -> Reply:
    head = f"{code} {enhanced} {text}" if enhanced else f"{code} {text}"
    return Reply(code, text, enhanced, (head,))


async def walked(name: str, profile: str | None = None):
    async with Desk(name, profile) as desk:
        desk.driver.run()
        await until(lambda: ended(desk.driver), f"the walk of {name}", 30)
        return desk.driver.state.result, desk.choices


def test_an_immediate_bounce_has_no_retry_timeline() -> None:
    bounce = explain(shown_outcome(Stage.RCPT, reply(550, "no such user", "5.1.1")), CHOICES)
    assert bounce.decision is not None and bounce.decision.headline == "BOUNCE RECIPIENT"
    assert bounce.timeline is None
    go_on = explain(shown_outcome(Stage.RCPT, reply(250, "ok")), CHOICES)
    assert go_on.timeline is None


def test_a_requeue_has_its_retry_timeline() -> None:
    busy = explain(shown_outcome(Stage.GREETING, reply(421, "busy")), CHOICES.with_profile("qmail"))
    assert busy.decision is not None and busy.decision.headline == "REQUEUE"
    assert busy.timeline is not None and len(busy.timeline.attempts_s) > 1


def test_the_senders_dsn_request_is_explained_only_when_there_is_one() -> None:
    shown = shown_outcome(Stage.RCPT, reply(550, "no such user", "5.1.1"))
    assert explain(shown, CHOICES).dsn == ()
    envelope = replace(CHOICES.envelope, dsn=DSNRequest(notify=("NEVER",)))
    effects = explain(shown, CHOICES.with_envelope(envelope)).dsn
    assert any("not even a bounce" in line for line in effects)


async def test_the_backup_mx_walk_ends_delivered_with_its_second_hop_in_words() -> None:
    result, choices = await walked("backup-mx")
    explanation = explain(shown_walk_end(result), choices)
    assert explanation.shown is not None and explanation.shown.headline == "DELIVERED"
    assert explanation.decision is None  # the outcome, not the last step's decision
    text = "\n".join(explanation.outcome)
    assert "took the message for every recipient" in text
    assert "backup MX" in text and "hop 2" in text and "tries again at" in text
    assert "rule" not in text and "→" not in text


async def test_an_unknown_user_walk_ends_bounced_without_a_timeline() -> None:
    result, choices = await walked("unknown-user")
    explanation = explain(shown_walk_end(result), choices)
    assert explanation.shown.headline == "BOUNCED" and explanation.timeline is None
    assert "bounce (NDR; b shows it)" in explanation.outcome[0]


async def test_a_greylisted_walk_is_queued_and_keeps_its_timeline() -> None:
    result, choices = await walked("greylist-primary", "qmail")
    explanation = explain(shown_walk_end(result), choices)
    assert explanation.shown.headline == "QUEUED: RETRY LATER"
    assert explanation.timeline is not None
    assert "tries again at" in explanation.outcome[0]
