"""The cells issue 10 (item 4) and the reference's errata (§0) correct, each against the source
line or the real run that shows it. Ordering rules are in test_ordering.py, retry windows in
test_retry.py."""

from __future__ import annotations

import pytest

from mxtui.model import Action, DecisionContext, Evidence, Outcome, Reply, Scope, Stage
from mxtui.policy import PROFILES, TABLE, classify, decide

LAST = DecisionContext(last_address=True)
MOVE = {Action.NEXT_ADDRESS, Action.NEXT_MX}


@pytest.mark.parametrize("profile", ["postfix", "postfix-2.0"])
def test_postfix_bounces_a_recipient_answered_552(profile):
    """smtp_proto.c (3.7.11: 2036-2049; 2.0.20: 626-645): the 552→452 rewrite is under
    #ifdef notdef, so 552 is a hard error for that recipient; Postfix 3.7.11 did so in the
    conformance case rcpt-552 (2.0 is only read in its source)."""
    decision = decide(Stage.RCPT, Reply(552, "5.2.2 mailbox full"), profile)
    assert (decision.action, decision.scope) == (Action.NDR, Scope.RECIPIENT)
    assert "smtp_proto.c" in decision.proof.source
    if profile == "postfix":
        assert decision.evidence is Evidence.TESTED and "rcpt-552" in decision.proof.cases
    else:
        assert decision.evidence is Evidence.VERIFIED


def test_the_rfc_baseline_still_reads_552_at_rcpt_as_temporary():
    decision = decide(Stage.RCPT, Reply(552), "rfc")
    assert (decision.action, decision.scope) == (Action.REQUEUE, Scope.RECIPIENT)


# ------------------------------------------------------------------ Exim: only a 5 fails


@pytest.mark.parametrize(
    ("stage", "code"),
    [(Stage.MAIL, 354), (Stage.DATA, 250), (Stage.DOT, 354), (Stage.MAIL, 650)],
)
def test_exim_defers_and_tries_the_next_host_on_anything_but_a_5(stage, code):
    """smtp.c:4508-4511: 'Anything other than 5 is treated as temporary'."""
    assert decide(stage, Reply(code), "exim").action is Action.NEXT_ADDRESS
    assert decide(stage, Reply(code), "exim", LAST).action is Action.REQUEUE


def test_exim_rcpt_3xx_and_4xx_try_that_recipient_on_the_next_host_then_defer():
    for code in (354, 450):
        mid = decide(Stage.RCPT, Reply(code), "exim")
        last = decide(Stage.RCPT, Reply(code), "exim", LAST)
        assert (mid.action, mid.scope) == (Action.NEXT_ADDRESS, Scope.RECIPIENT)
        assert (last.action, last.scope) == (Action.REQUEUE, Scope.RECIPIENT)


def test_exim_helo_3xx_is_deferred_even_on_the_last_host():
    """smtp.c:3154-3163: a setup failure fails the addresses only on a 5 (on the last host)."""
    assert decide(Stage.HELO, Reply(354), "exim", LAST).action is Action.REQUEUE
    assert decide(Stage.HELO, Reply(550), "exim", LAST).action is Action.NDR


def test_exim_s_notices_say_5_0_0_and_4_0_0_whatever_the_server_said():
    """deliver.c:7863, 8386; the bounce tested with Exim 4.96 (reference §0)."""
    bounce = decide(Stage.RCPT, Reply(550, "5.1.1 no such user", "5.1.1"), "exim")
    assert bounce.status == "5.0.0"
    assert bounce.enhanced is not None and bounce.enhanced.code == "5.1.1"
    delay = decide(Stage.MAIL, Reply(451, "4.3.0 later", "4.3.0"), "exim", LAST)
    assert delay.status == "4.0.0"
    assert PROFILES["exim"].dsn.evidence.tested_with == "Exim 4.96"


# ------------------------------------------------------------------ qmail: 500 and 400 only


@pytest.mark.parametrize(
    ("stage", "code", "delivered"),
    [(Stage.MAIL, 354, False), (Stage.RCPT, 354, False), (Stage.DATA, 250, False),
     (Stage.DOT, 354, True)],
)  # fmt: skip
def test_qmail_reads_anything_below_400_as_success(stage, code, delivered):
    """qmail-remote.c:236-272 compares each code with 500 and 400 only."""
    decision = decide(stage, Reply(code), "qmail")
    assert decision.action is Action.CONTINUE
    assert decision.delivered is delivered


def test_qmail_wants_exactly_220_and_250_and_reads_600_as_permanent():
    assert "exactly 220" in decide(Stage.GREETING, Reply(220), "qmail").why
    assert decide(Stage.MAIL, Reply(600), "qmail").action is Action.NDR


def test_qmail_dns_statuses_are_its_own():
    """qmail-remote.c:68-84: #5.1.2 host not found, #5.4.4 no MX or address, #4.1.2 soft."""
    assert decide(Stage.DNS, Outcome.NXDOMAIN, "qmail").status == "5.1.2"
    assert decide(Stage.DNS, Outcome.NO_ADDRESS, "qmail").status == "5.4.4"
    assert decide(Stage.DNS, Outcome.DNS_TEMPFAIL, "qmail").status == "4.1.2"


# ------------------------------------------------------------------ OpenSMTPD 6.8


@pytest.mark.parametrize(
    "what",
    [Reply(421, "busy"), Reply(554, "no"), Reply(354, "?"), Outcome.TIMEOUT, Outcome.DROPPED],
)
def test_opensmtpd_moves_to_the_next_mx_after_a_failed_greeting(what):
    """mta_session.c:908-912 and 1371-1408; tested with OpenSMTPD 6.8.0p2 (reference §0)."""
    assert decide(Stage.GREETING, what, "opensmtpd").action is Action.NEXT_ADDRESS
    assert decide(Stage.GREETING, what, "opensmtpd", LAST).action is Action.REQUEUE


def test_opensmtpd_sends_the_message_after_a_2xx_to_data():
    """mta_session.c:1134-1137: a 2 or a 3 to DATA goes on (reference §0 [T])."""
    decision = decide(Stage.DATA, Reply(250), "opensmtpd")
    assert decision.action is Action.CONTINUE
    assert decision.proof.tested_with == "OpenSMTPD 6.8.0p2"


def test_opensmtpd_cycles_among_its_first_eight_routes():
    """Reference §0 [T]: with 40 refusing MX hosts 6.8.0p2 kept cycling among the first
    eight: a route is disabled for 15 s, a new connection starts every 2 s (mta.c, limit.c)."""
    refused = Outcome.REFUSED
    assert decide(Stage.CONNECT, refused, "opensmtpd",
                  DecisionContext(addresses_tried=7)).action is Action.NEXT_ADDRESS  # fmt: skip
    eighth = decide(Stage.CONNECT, refused, "opensmtpd", DecisionContext(addresses_tried=8))
    assert eighth.action is Action.REQUEUE and "first 8" in eighth.why


def test_the_profile_says_which_opensmtpd_it_models():
    assert PROFILES["opensmtpd"].models == "OpenSMTPD 6.8.0p2"
    assert PROFILES["opensmtpd"].display == "OpenSMTPD 6.8"


# ------------------------------------------------------------------ the new situations


@pytest.mark.parametrize(
    ("stage", "code", "outcome"),
    [(Stage.MAIL, 354, "3xx"), (Stage.RCPT, 354, "3xx"), (Stage.DATA, 250, "2xx"),
     (Stage.DOT, 354, "3xx"), (Stage.MAIL, 650, "unexpected"), (Stage.DATA, 150, "unexpected")],
)  # fmt: skip
def test_an_out_of_place_code_has_its_own_row_apart_from_codes_outside_2_to_5(stage, code, outcome):
    assert classify(stage, Reply(code)).outcome == outcome


def test_every_profile_decides_the_no_address_situation():
    for name in PROFILES:
        cell = TABLE[(Stage.DNS, "no-address")].cells[name]
        assert cell.code in ("NDR", "RQ"), name
    assert decide(Stage.DNS, Outcome.NO_ADDRESS, "exim").action is Action.NDR
