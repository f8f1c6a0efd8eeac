"""The decision table against section 3 of the reference, cell by cell, for every profile.

REFERENCE below is transcribed by hand from delivery-decisions.md §3 (columns RFC, Postfix,
Exim, Sendmail, qmail, Exchange); "?" marks the reference's unknown cells. Each cell is checked
twice: the table's code must be the reference's, and decide() must turn it into the right
action both in the middle of the address list and on the last address.
"""

from __future__ import annotations

import pytest

from mxtui.model import Action, DecisionContext, Evidence, Outcome, Reply, Scope, Stage
from mxtui.policy import PROFILES, ROWS, TABLE, classify, decide

COLUMNS = ("rfc", "postfix", "exim", "sendmail", "qmail", "exchange")

# (stage, outcome key): codes for COLUMNS, as written in the reference's table.
REFERENCE: dict[tuple[str, str], tuple[str, ...]] = {
    ("connect", "fail"): ("NX", "NX", "NX", "NX", "NX", "NX"),
    ("greeting", "drop"): ("NX", "NX", "NX", "NX", "RQ", "NX"),
    ("greeting", "2xx"): ("C", "C", "C", "C", "C", "C"),
    ("greeting", "unexpected"): ("NX", "NDR", "NX", "NX>NDR", "RQ", "?"),
    ("greeting", "4xx"): ("NX", "NX", "NX", "NX", "RQ", "NX"),
    ("greeting", "5xx"): ("NX>NDR", "NX>RQ", "NX>NDR", "NX>NDR", "RQ", "NDR"),
    ("ehlo", "421"): ("NX", "NX", "H", "NX", "NA", "?"),
    ("ehlo", "4xx"): ("H", "H", "H", "NX", "NA", "?"),
    ("ehlo", "5xx"): ("H", "H", "H", "H", "NA", "H"),
    ("helo", "4xx"): ("NX", "NX", "NX", "NX", "RQ", "?"),
    ("helo", "5xx"): ("NX>NDR", "NDR", "NX>NDR", "NX>NDR", "RQ", "?"),
    ("starttls", "refused"): ("PLAIN", "PLAIN", "PLAIN", "?", "NA", "?"),
    ("starttls", "req-4xx"): ("NX", "NX", "NX", "?", "NA", "NX"),
    ("starttls", "req-5xx"): ("NX", "NDR", "NX", "?", "NA", "NX"),
    ("mail", "4xx"): ("RQ", "NX", "NX", "NX", "RQ", "RQ"),
    ("mail", "5xx"): ("NDR", "NDR", "NDR", "NDR", "NDR", "NDR"),
    ("mail", "drop"): ("RQ", "NX", "NX", "NX", "RQ", "?"),
    ("rcpt", "2xx"): ("C", "C", "C", "C", "C", "C"),
    # Exim: the reference cell reads "r-RQ, other hosts tried"; its own prose (§2 Exim: "any
    # deferred recipient makes Exim try the next host in the same run") is r-NX, used here.
    ("rcpt", "4xx"): ("r-RQ", "r-NX", "r-NX", "r-NX", "r-RQ", "r-RQ"),
    ("rcpt", "5xx"): ("r-NDR", "r-NDR", "r-NDR", "r-NDR", "r-NDR", "r-NDR"),
    ("rcpt", "drop"): ("RQ", "NX", "NX", "NX", "RQ", "?"),
    ("data", "3xx"): ("C", "C", "C", "C", "C", "C"),
    ("data", "4xx"): ("RQ", "NX", "NX", "NX", "RQ", "?"),
    ("data", "5xx"): ("NDR", "NDR", "NDR", "NDR", "NDR", "NDR"),
    ("dot", "2xx"): ("DLV", "DLV", "DLV", "DLV", "DLV", "DLV"),
    ("dot", "4xx"): ("RQ", "NX", "NX", "NX", "RQ", "?"),
    ("dot", "5xx"): ("NDR", "NDR", "NDR", "NDR", "NDR", "NDR"),
    ("dot", "drop"): ("RQ", "NX", "NX", "NX", "RQ", "?"),
    ("quit", "any"): ("IGN", "IGN", "IGN", "IGN", "IGN", "IGN"),
    ("dns", "nxdomain"): ("NDR", "NDR", "NDR", "NDR", "NDR", "?"),
    ("dns", "null-mx"): ("NDR", "NDR", "NDR", "NDR", "NDR", "?"),
    ("dns", "tempfail"): ("RQ", "RQ", "RQ", "RQ", "RQ", "RQ"),
}

# A concrete reply or outcome for each row, so the check goes through classify() as well.
SAMPLES: dict[tuple[str, str], Reply | Outcome] = {
    ("connect", "fail"): Outcome.REFUSED,
    ("greeting", "drop"): Outcome.DROPPED,
    ("greeting", "2xx"): Reply(220, "mx ESMTP"),
    ("greeting", "unexpected"): Reply(354, "what"),
    ("greeting", "4xx"): Reply(421, "busy"),
    ("greeting", "5xx"): Reply(554, "no SMTP service here"),
    ("ehlo", "421"): Reply(421, "bye"),
    ("ehlo", "4xx"): Reply(451, "later"),
    ("ehlo", "5xx"): Reply(502, "command not implemented"),
    ("helo", "4xx"): Reply(450, "later"),
    ("helo", "5xx"): Reply(550, "go away"),
    ("starttls", "refused"): Reply(454, "TLS not available"),
    ("starttls", "req-4xx"): Reply(454, "TLS not available"),
    ("starttls", "req-5xx"): Reply(554, "no TLS"),
    ("mail", "4xx"): Reply(451, "local error"),
    ("mail", "5xx"): Reply(553, "sender rejected"),
    ("mail", "drop"): Outcome.TIMEOUT,
    ("rcpt", "2xx"): Reply(250, "ok"),
    ("rcpt", "4xx"): Reply(450, "4.7.1 greylisted"),
    ("rcpt", "5xx"): Reply(550, "5.1.1 no such user"),
    ("rcpt", "drop"): Outcome.DROPPED,
    ("data", "3xx"): Reply(354, "go ahead"),
    ("data", "4xx"): Reply(451, "later"),
    ("data", "5xx"): Reply(554, "no"),
    ("dot", "2xx"): Reply(250, "2.0.0 queued as X"),
    ("dot", "4xx"): Reply(452, "4.3.1 full"),
    ("dot", "5xx"): Reply(550, "5.7.1 spam"),
    ("dot", "drop"): Outcome.TIMEOUT,
    ("quit", "any"): Reply(221, "bye"),
    ("dns", "nxdomain"): Outcome.NXDOMAIN,
    ("dns", "null-mx"): Outcome.NULL_MX,
    ("dns", "tempfail"): Outcome.DNS_TEMPFAIL,
}

# What each cell code must become, away from the end of the list and on its last address.
MOVE = {Action.NEXT_ADDRESS, Action.NEXT_MX}
EXPECTED = {
    "NX": (MOVE, {Action.REQUEUE}),
    "NX>NDR": (MOVE, {Action.NDR}),
    "NX>RQ": (MOVE, {Action.REQUEUE}),
    "RQ": ({Action.REQUEUE}, {Action.REQUEUE}),
    "NDR": ({Action.NDR}, {Action.NDR}),
    "r-NX": (MOVE, {Action.REQUEUE}),
    "r-RQ": ({Action.REQUEUE}, {Action.REQUEUE}),
    "r-NDR": ({Action.NDR}, {Action.NDR}),
    "H": ({Action.RETRY_HELO}, {Action.RETRY_HELO}),
    "C": ({Action.CONTINUE}, {Action.CONTINUE}),
    "DLV": ({Action.CONTINUE}, {Action.CONTINUE}),
    "IGN": ({Action.CONTINUE}, {Action.CONTINUE}),
    "PLAIN": ({Action.CONTINUE}, {Action.CONTINUE}),
    "RECON": ({Action.CONTINUE}, {Action.CONTINUE}),
    "NA": ({Action.CONTINUE}, {Action.CONTINUE}),
}

CASES = [(key, col) for key in REFERENCE for col in range(len(COLUMNS))]


@pytest.mark.parametrize(
    ("key", "col"), CASES, ids=[f"{k[0]}-{k[1]}-{COLUMNS[c]}" for k, c in CASES]
)
def test_table_cell_matches_the_reference(key, col):
    stage, outcome = Stage(key[0]), key[1]
    expected = REFERENCE[key][col]
    cell = TABLE[(stage, outcome)].cells[COLUMNS[col]]
    if expected == "?":  # filled in here, so it must not claim to be read in a source
        assert cell.evidence is not Evidence.VERIFIED
    else:
        assert cell.code == expected


@pytest.mark.parametrize("key", list(SAMPLES), ids=[f"{s}-{o}" for s, o in SAMPLES])
def test_sample_reply_lands_on_its_reference_row(key):
    tls = key[1].startswith("req-")
    row = classify(Stage(key[0]), SAMPLES[key], tls_required=tls)
    assert (row.stage.value, row.outcome) == key


@pytest.mark.parametrize("profile", list(PROFILES))
@pytest.mark.parametrize("key", list(SAMPLES), ids=[f"{s}-{o}" for s, o in SAMPLES])
def test_decide_turns_every_cell_into_its_action_mid_list_and_on_the_last_address(key, profile):
    stage = Stage(key[0])
    cell = TABLE[(stage, key[1])].cells[profile]
    mid_actions, last_actions = EXPECTED[cell.code]
    tls = key[1].startswith("req-")
    params = {"smtp_skip_5xx_greeting": "yes"} if profile == "postfix" else None
    mid = decide(stage, SAMPLES[key], profile, DecisionContext(tls_required=tls), params)
    last = decide(
        stage, SAMPLES[key], profile, DecisionContext(last_address=True, tls_required=tls), params
    )
    assert mid.action in mid_actions
    assert last.action in last_actions
    recipient_codes = {"r-NX", "r-RQ", "r-NDR"}
    assert (mid.scope is Scope.RECIPIENT) == (cell.code in recipient_codes)
    assert mid.applicable == (cell.code != "NA")
    assert mid.reference and mid.why


def test_every_row_has_a_cell_with_source_for_every_profile():
    for row in ROWS:
        assert set(row.cells) == set(PROFILES), row.label
        for name, cell in row.cells.items():
            assert cell.source, (row.label, name)


def test_opensmtpd_moves_on_before_the_session_is_ready_and_requeues_after():
    """OpenSMTPD 6.8.0p2 mta_session.c: before the session is ready for mail a failure
    disables the route and the next MX is tried in the same attempt (reference §0 [T]); once
    an envelope is under way, anything but a 5 tempfails it for later, like qmail."""
    for key in (("greeting", "4xx"), ("greeting", "5xx"), ("greeting", "drop"),
                ("helo", "4xx"), ("helo", "5xx"), ("connect", "fail")):  # fmt: skip
        assert TABLE[(Stage(key[0]), key[1])].cells["opensmtpd"].code == "NX", key
    for key in (("mail", "4xx"), ("rcpt", "4xx"), ("data", "4xx"), ("dot", "4xx")):
        assert TABLE[(Stage(key[0]), key[1])].cells["opensmtpd"].code == (
            TABLE[(Stage(key[0]), key[1])].cells["qmail"].code
        ), key
    assert decide(Stage.GREETING, Reply(554), "opensmtpd").action is Action.NEXT_ADDRESS
    assert decide(Stage.GREETING, Reply(554), "opensmtpd", DecisionContext(last_address=True)
                  ).action is Action.REQUEUE  # fmt: skip


def test_opensmtpd_falls_back_to_helo_where_qmail_never_sends_ehlo():
    for code in (451, 502):
        assert decide(Stage.EHLO, Reply(code), "opensmtpd").action is Action.RETRY_HELO
        assert not decide(Stage.EHLO, Reply(code), "qmail").applicable


def test_rules_resting_on_recall_or_inference_say_so_in_the_explanation():
    marks = {Evidence.RECALLED: "[M]", Evidence.INFERRED: "[I]", Evidence.UNKNOWN: "[?]"}
    for key, sample in SAMPLES.items():
        for profile in PROFILES:
            decision = decide(
                key[0], sample, profile, DecisionContext(tls_required="req" in key[1])
            )
            if decision.evidence in marks:
                assert marks[decision.evidence] in decision.why, (key, profile)
            else:
                assert "[M]" not in decision.why and "[I]" not in decision.why
