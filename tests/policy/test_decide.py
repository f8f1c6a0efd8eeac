"""decide(): the behaviours the reference (section 5) says the profiles must show, the
parameters and limits that change them, and totality over every stage, code and profile."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mxtui.model import (
    DECISION_STAGES,
    Action,
    Decision,
    DecisionContext,
    Outcome,
    Reply,
    Scope,
    Stage,
)
from mxtui.policy import PROFILES, ProfileError, compare, decide

MOVE = {Action.NEXT_ADDRESS, Action.NEXT_MX}
LAST = DecisionContext(last_address=True)


# ------------------------------------------------------------------ section 5 of the reference


@pytest.mark.parametrize("code", [421, 450, 451])
def test_qmail_requeues_on_a_4xx_greeting(code):
    assert decide(Stage.GREETING, Reply(code), "qmail").action is Action.REQUEUE


@pytest.mark.parametrize("code", [421, 450, 451])
def test_postfix_2_0_skips_a_server_greeting_4xx_but_not_one_that_greeted(code):
    """Postfix 2.0 smtp_connect.c:249-255: smtp_skip_4xx_greeting (default yes) counts a 4xx
    greeting as not contacted, so the next address is tried; once a server has greeted, a 4xx
    (here to MAIL) defers (smtp_connect.c:305-310). Reference §0 corrects §5."""
    assert decide(Stage.GREETING, Reply(code), "postfix-2.0").action is Action.NEXT_ADDRESS
    assert decide(Stage.GREETING, Reply(code), "postfix-2.0", LAST).action is Action.REQUEUE
    off = decide(Stage.GREETING, Reply(code), "postfix-2.0",
                 params={"smtp_skip_4xx_greeting": "no"})  # fmt: skip
    assert off.action is Action.REQUEUE
    assert decide(Stage.MAIL, Reply(code), "postfix-2.0").action is Action.REQUEUE


def test_postfix_2_0_moves_on_after_a_5xx_greeting_and_defers_on_the_last_address():
    reply = Reply(554, "no")
    assert decide(Stage.GREETING, reply, "postfix-2.0").action is Action.NEXT_ADDRESS
    last = decide(Stage.GREETING, reply, "postfix-2.0", LAST)
    assert last.action is Action.REQUEUE and last.status.startswith("4")
    off = decide(Stage.GREETING, reply, "postfix-2.0", params={"smtp_skip_5xx_greeting": "no"})
    assert off.action is Action.NDR


def test_no_postfix_profile_claims_2_1_added_failover_after_a_failed_greeting():
    """Reference §0: what 2.1 added is failover after a successful greeting."""
    for profile in ("postfix", "postfix-2.0"):
        assert "2.1 and later try the next MX" not in decide(Stage.GREETING, Reply(421),
                                                             profile).why  # fmt: skip


@pytest.mark.parametrize("code", [421, 450, 451])
def test_postfix_and_sendmail_move_on_after_a_4xx_greeting(code):
    assert decide(Stage.GREETING, Reply(code), "postfix").action is Action.NEXT_ADDRESS
    assert decide(Stage.GREETING, Reply(code), "sendmail").action is Action.NEXT_MX


def test_qmail_and_postfix_2_0_move_on_when_the_connection_fails():
    for profile in ("qmail", "postfix-2.0"):
        for outcome in (Outcome.REFUSED, Outcome.TIMEOUT):
            assert decide(Stage.CONNECT, outcome, profile).action is Action.NEXT_ADDRESS


@pytest.mark.parametrize("profile", list(PROFILES))
def test_a_5xx_to_one_rcpt_bounces_that_recipient_only(profile):
    decision = decide(Stage.RCPT, Reply(550, "5.1.1 no such user"), profile)
    assert decision.action is Action.NDR
    assert decision.scope is Scope.RECIPIENT
    assert decision.headline == "BOUNCE RECIPIENT"


NULL_MX_STATUS = {
    "postfix": "5.1.0",  # smtp_addr.c:591
    "exim": "5.0.0",  # every Exim bounce: deliver.c:7863
    "qmail": "5.4.4",  # no null MX in notqmail: no address found (qmail-remote.c:82-84)
    "postfix-2.0": "4.4.4",  # deferred: no MX host has an A record (smtp_addr.c:392-396)
    "opensmtpd": "4.0.0",  # deferred, "No MX found for domain": ESC_OTHER_STATUS (mta.c)
}


@pytest.mark.parametrize("profile", list(PROFILES))
def test_a_null_mx_is_decided_without_a_connection(profile):
    decision = decide(Stage.DNS, Outcome.NULL_MX, profile)
    deferred = profile in ("opensmtpd", "postfix-2.0")
    assert decision.action is (Action.REQUEUE if deferred else Action.NDR)
    assert decision.code is None
    assert decision.status == NULL_MX_STATUS.get(profile, "5.1.10")


@pytest.mark.parametrize("outcome", [Outcome.NULL_MX, Outcome.NO_ADDRESS])
def test_opensmtpd_6_8_defers_a_domain_with_no_usable_mx(outcome):
    """Reference §0 [T: 6.8.0p2]: null MX, MX hosts without addresses and no MX and no A are
    deferred ("No MX found for domain"), not bounced; NXDOMAIN is still a bounce."""
    decision = decide(Stage.DNS, outcome, "opensmtpd")
    assert decision.action is Action.REQUEUE
    assert decision.proof.tested_with == "OpenSMTPD 6.8.0p2"
    assert decide(Stage.DNS, Outcome.NXDOMAIN, "opensmtpd").action is Action.NDR


def test_no_address_bounces_postfix_unless_it_is_told_to_defer():
    assert decide(Stage.DNS, Outcome.NO_ADDRESS, "postfix").action is Action.NDR
    defer = decide(Stage.DNS, Outcome.NO_ADDRESS, "postfix",
                   params={"smtp_defer_if_no_mx_address_found": "yes"})  # fmt: skip
    assert defer.action is Action.REQUEUE
    assert decide(Stage.DNS, Outcome.NO_ADDRESS, "postfix-2.0").action is Action.REQUEUE


def test_a_null_mx_reported_at_any_stage_is_still_a_dns_bounce():
    decision = decide(Stage.CONNECT, Outcome.NULL_MX, "rfc")
    assert decision.action is Action.NDR
    assert decision.rule.startswith("DNS: null MX")


def test_greylisting_on_the_primary_delivers_via_the_backup_only_for_senders_that_move_on():
    greylist = Reply(450, "4.7.1 greylisted, try again later")
    postfix = decide(Stage.RCPT, greylist, "postfix")
    qmail = decide(Stage.RCPT, greylist, "qmail")
    assert (postfix.action, postfix.scope) == (Action.NEXT_ADDRESS, Scope.RECIPIENT)
    assert (qmail.action, qmail.scope) == (Action.REQUEUE, Scope.RECIPIENT)


def test_nolisting_dead_primary_real_senders_move_on():
    for profile in PROFILES:
        assert decide(Stage.CONNECT, Outcome.REFUSED, profile).action in MOVE


def test_all_hosts_down_requeues_on_the_last_address():
    for profile in PROFILES:
        assert decide(Stage.CONNECT, Outcome.TIMEOUT, profile, LAST).action is Action.REQUEUE


def test_exchange_accept_then_bounce_is_explained_at_rcpt():
    decision = decide(Stage.RCPT, Reply(250, "2.1.5 ok"), "exchange")
    assert decision.action is Action.CONTINUE
    assert "backscatter" in decision.why


def test_nxdomain_bounces_and_dns_tempfail_requeues_everywhere():
    for profile in PROFILES:
        assert decide(Stage.DNS, Outcome.NXDOMAIN, profile).action is Action.NDR
        assert decide(Stage.DNS, Outcome.DNS_TEMPFAIL, profile).action is Action.REQUEUE


# ------------------------------------------------------------------ parameters and limits


def test_soft_bounce_turns_an_ndr_into_a_requeue_with_a_4xx_status():
    reply = Reply(550, "5.1.1 no such user")
    plain = decide(Stage.RCPT, reply, "postfix")
    soft = decide(Stage.RCPT, reply, "postfix", LAST, params={"soft_bounce": "yes"})
    assert plain.action is Action.NDR
    assert (soft.action, soft.scope) == (Action.REQUEUE, Scope.RECIPIENT)
    assert soft.status == "4.1.1"
    assert "soft_bounce" in soft.why


def test_soft_bounce_makes_a_5xx_a_soft_error_that_moves_on_before_the_final_server():
    """Postfix smtp_trouble.c:221-231 (and 391-405 for one recipient): a soft_bounce 5xx is
    kept for the next server unless this is the final one; Postfix 2.0 never moves on after
    a greeting, so there it only defers."""
    soft = {"soft_bounce": "yes"}
    mail = decide(Stage.MAIL, Reply(550, "5.7.1 no"), "postfix", params=soft)
    assert mail.action is Action.NEXT_ADDRESS and "soft_bounce" in mail.why
    rcpt = decide(Stage.RCPT, Reply(550, "5.1.1 no"), "postfix", params=soft)
    assert (rcpt.action, rcpt.scope) == (Action.NEXT_ADDRESS, Scope.RECIPIENT)
    assert decide(Stage.DNS, Outcome.NXDOMAIN, "postfix", params=soft).action is Action.REQUEUE
    old = decide(Stage.MAIL, Reply(550), "postfix-2.0", params=soft)
    assert old.action is Action.REQUEUE


def test_skip_5xx_greeting_moves_on_and_defers_on_the_last_mx():
    reply = Reply(554, "go away")
    assert decide(Stage.GREETING, reply, "postfix").action is Action.NEXT_ADDRESS
    last = decide(Stage.GREETING, reply, "postfix", LAST)
    assert last.action is Action.REQUEUE
    assert last.final and last.status.startswith("4")
    off = decide(Stage.GREETING, reply, "postfix", params={"smtp_skip_5xx_greeting": "no"})
    assert off.action is Action.NDR


def test_a_5xx_greeting_bounces_exim_only_on_the_last_host():
    reply = Reply(554, "no")
    assert decide(Stage.GREETING, reply, "exim").action is Action.NEXT_ADDRESS
    assert decide(Stage.GREETING, reply, "exim", LAST).action is Action.NDR


@pytest.mark.parametrize("profile", list(PROFILES))
def test_the_last_address_turns_every_move_on_into_requeue_or_ndr(profile):
    for stage in DECISION_STAGES:
        for sample in (Reply(421), Reply(451), Reply(550), Outcome.DROPPED, Outcome.TIMEOUT):
            mid = decide(stage, sample, profile)
            last = decide(stage, sample, profile, LAST)
            if mid.action in MOVE:
                assert last.action in (Action.REQUEUE, Action.NDR), (stage, sample)
                assert last.final
            else:
                assert last.action is mid.action, (stage, sample)


def test_postfix_address_and_session_limits_make_the_final_server():
    reply = Reply(451, "later")
    assert decide(Stage.MAIL, reply, "postfix", DecisionContext(addresses_tried=4)).action in MOVE
    at_limit = decide(Stage.MAIL, reply, "postfix", DecisionContext(addresses_tried=5))
    assert at_limit.action is Action.REQUEUE
    assert "smtp_mx_address_limit=5" in at_limit.why
    sessions = decide(Stage.MAIL, reply, "postfix", DecisionContext(sessions_used=2))
    assert sessions.action is Action.REQUEUE
    raised = decide(
        Stage.MAIL, reply, "postfix", DecisionContext(addresses_tried=5),
        params={"smtp_mx_address_limit": "10"},
    )  # fmt: skip
    assert raised.action in MOVE


def test_exim_hosts_max_try_still_reaches_a_worse_preference():
    reply = Reply(451, "later")
    same_pref = DecisionContext(addresses_tried=5)
    worse_pref = DecisionContext(addresses_tried=5, next_is_higher_preference=True)
    assert decide(Stage.MAIL, reply, "exim", same_pref).action is Action.REQUEUE
    assert decide(Stage.MAIL, reply, "exim", worse_pref).action is Action.NEXT_ADDRESS
    hard = DecisionContext(addresses_tried=50, next_is_higher_preference=True)
    assert decide(Stage.MAIL, reply, "exim", hard).action is Action.REQUEUE
    raised = decide(Stage.MAIL, reply, "exim", same_pref, params={"hosts_max_try": 8})
    assert raised.action is Action.NEXT_ADDRESS


def test_flat_list_profiles_try_the_next_address_and_host_walkers_the_next_mx():
    reply = Reply(451, "later")
    assert decide(Stage.MAIL, reply, "postfix").action is Action.NEXT_ADDRESS
    assert decide(Stage.MAIL, reply, "exim").action is Action.NEXT_ADDRESS
    assert decide(Stage.MAIL, reply, "sendmail").action is Action.NEXT_MX
    assert decide(Stage.CONNECT, Outcome.REFUSED, "sendmail").action is Action.NEXT_ADDRESS


def test_tls_required_changes_a_refused_starttls_from_plaintext_to_moving_on():
    reply = Reply(454, "4.7.0 TLS not available")
    assert decide(Stage.STARTTLS, reply, "postfix").action is Action.CONTINUE
    required = DecisionContext(tls_required=True)
    assert decide(Stage.STARTTLS, reply, "postfix", required).action is Action.NEXT_ADDRESS
    assert decide(Stage.STARTTLS, Reply(554), "postfix", required).action is Action.NDR


def test_unknown_profile_stage_outcome_or_parameter_is_a_value_error():
    with pytest.raises(ProfileError):
        decide(Stage.MAIL, Reply(250), "smail")
    with pytest.raises(ValueError):
        decide("bogus", Reply(250), "postfix")
    with pytest.raises(ValueError):
        decide(Stage.MAIL, "exploded", "postfix")
    with pytest.raises(ProfileError):
        decide(Stage.MAIL, Reply(250), "postfix", params={"hosts_max_try": 3})
    with pytest.raises(ProfileError):
        decide(Stage.MAIL, Reply(250), "postfix", params={"soft_bounce": "maybe"})


# ------------------------------------------------------------------ single replies


def test_ehlo_5xx_retries_with_helo():
    for profile in ("rfc", "postfix", "exim", "sendmail", "opensmtpd"):
        assert decide(Stage.EHLO, Reply(502), profile).action is Action.RETRY_HELO


def test_a_421_to_rcpt_concerns_the_whole_message():
    decision = decide(Stage.RCPT, Reply(421, "closing"), "rfc")
    assert (decision.action, decision.scope) == (Action.REQUEUE, Scope.MESSAGE)


def test_a_552_to_rcpt_is_treated_as_temporary_by_the_rfc_baseline():
    decision = decide(Stage.RCPT, Reply(552, "too many recipients"), "rfc")
    assert (decision.action, decision.scope) == (Action.REQUEUE, Scope.RECIPIENT)
    assert "4.5.3.1.10" in decision.reference


def test_end_of_data_2xx_is_a_delivery():
    decision = decide(Stage.DOT, Reply(250, "2.0.0 queued as ABC"), "postfix")
    assert decision.action is Action.CONTINUE
    assert decision.delivered and decision.headline == "DELIVERED"


@pytest.mark.parametrize("stage", ["greeting", "ehlo", "helo", "mail", "data", "dot"])
def test_the_rfc_baseline_treats_a_dropped_connection_like_421(stage):
    dropped = decide(stage, Outcome.DROPPED, "rfc")
    reply = decide(stage, Reply(421), "rfc")
    assert (dropped.action, dropped.scope) == (reply.action, reply.scope)


@pytest.mark.parametrize("code", [100, 199, 600, 999, 0])
def test_odd_codes_are_read_as_protocol_errors(code):
    decision = decide(Stage.GREETING, Reply(code, "???"), "rfc")
    assert decision.rule.startswith("greeting 3xx (or a code outside 2-5)")
    assert "outside 2-5" in decision.code.class_meaning


def test_quit_changes_nothing_whatever_the_reply():
    for sample in (Reply(221), Reply(500), Reply(421), Outcome.DROPPED, Outcome.TIMEOUT):
        for profile in PROFILES:
            assert decide(Stage.QUIT, sample, profile).action is Action.CONTINUE


def test_compare_gives_every_profile_on_the_same_reply():
    table = compare(Stage.GREETING, Reply(421), params={"postfix": {"smtp_mx_address_limit": 1}})
    assert set(table) == set(PROFILES)
    assert table["qmail"].action is Action.REQUEUE
    assert table["postfix"].action is Action.REQUEUE  # limit 1: this was the final server
    assert table["sendmail"].action is Action.NEXT_MX


# ------------------------------------------------------------------ totality


def test_decide_is_total_over_every_stage_code_and_profile():
    """Every stage × every code 200-599 × every profile, exhaustively (about 30,000 calls)."""
    for profile in PROFILES:
        for stage in DECISION_STAGES:
            for code in range(200, 600):
                decision = decide(stage, Reply(code), profile)
                assert isinstance(decision, Decision)
                if code < 300 and stage is not Stage.DATA:
                    assert decision.action is Action.CONTINUE, (profile, stage, code)


@settings(max_examples=300, deadline=None)
@given(
    stage=st.sampled_from(list(Stage)),
    outcome=st.one_of(
        st.builds(
            Reply,
            code=st.integers(min_value=0, max_value=999),
            text=st.text(max_size=40),
            enhanced=st.one_of(st.none(), st.from_regex(r"\A[0-9]\.[0-9]{1,3}\.[0-9]{1,3}\Z")),
        ),
        st.sampled_from(list(Outcome)),
    ),
    profile=st.sampled_from(list(PROFILES)),
    context=st.builds(
        DecisionContext,
        last_address=st.booleans(),
        addresses_tried=st.integers(min_value=1, max_value=60),
        sessions_used=st.integers(min_value=0, max_value=5),
        next_is_higher_preference=st.booleans(),
        tls_required=st.booleans(),
    ),
    soft_bounce=st.booleans(),
)
def test_decide_never_raises_and_keeps_its_invariants(
    stage, outcome, profile, context, soft_bounce
):
    params = {"soft_bounce": soft_bounce} if profile.startswith("postfix") else None
    decision = decide(stage, outcome, profile, context, params)
    assert decision.why and decision.reference and decision.headline
    if decision.scope is Scope.RECIPIENT:
        assert stage is Stage.RCPT
    if decision.action is Action.NDR:
        assert decision.status.startswith("5")
    if decision.action is Action.REQUEUE:
        assert decision.status.startswith("4")
    if soft_bounce and params:
        assert decision.action is not Action.NDR
    if context.last_address:
        assert decision.action not in MOVE


def test_replies_to_rset_or_noop_are_read_like_mail_replies_and_say_so():
    decision = decide(Stage.NOOP, Reply(421), "postfix")
    assert decision.action is Action.NEXT_ADDRESS
    assert "NOOP is not a delivery step" in decision.why
