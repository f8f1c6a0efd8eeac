"""The harness's own parts, without root: the case table, the log readers, the comparison.

The real runs are in test_postfix.py, test_exim.py and test_opensmtpd.py; these prove that what
they compare is read and judged right, from log lines the real programs printed here.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

import pytest

from mxtui.cli import main
from mxtui.conformance import isolation
from mxtui.conformance.cases import RESERVED, load_cases, load_findings
from mxtui.conformance.compare import (
    Levels,
    compare,
    compare_fixed_order,
    pattern,
    session_steps,
)
from mxtui.conformance.mtas import MTAS
from mxtui.conformance.mtas.exim import next_tries, parse_mainlog, parse_verbose
from mxtui.conformance.mtas.opensmtpd import first_pass, first_retry
from mxtui.conformance.mtas.opensmtpd import parse_log as parse_opensmtpd
from mxtui.conformance.mtas.postfix import parse_log as parse_postfix
from mxtui.conformance.observe import Dial, MtaRun, RecipientSeen, attach_sessions, dsn_statuses
from mxtui.lab.dns_server import LabDNSServer

# ------------------------------------------------------------------------------------ cases


def test_every_mta_meets_at_least_forty_cases():
    for mta in MTAS:
        assert sum(c.applies_to(mta) for c in load_cases()) >= 40, mta


def test_the_cases_cover_what_the_issue_asks_for():
    text = " ".join(f"{c.id} {c.title}" for c in load_cases()).lower()
    for situation in ("equal-preference", "two preferences", "refuses", "never answers the syn",
                      "never greets", "greets 421", "greets 554", "answers mail with 4",
                      "answers mail with 5", "rcpt with 450", "rejects the recipient",
                      "mixed recipients", "answers data", "end of data", "null mx",
                      "no mx records", "no address", "cname", "forty mx",
                      "one refusing address under three mx names", "ipv6"):  # fmt: skip
        assert situation in text, situation


def test_every_case_zone_is_served_and_every_host_is_a_free_loopback_address():
    for case in load_cases():
        LabDNSServer(case.zones(), host="127.0.0.53", port=53)  # parses every zone text
        for address in case.hosts:
            assert address not in RESERVED, case.id
        assert case.mail_domain.endswith(".test"), case.id


def test_the_findings_name_cases_that_exist():
    ids = {c.id for c in load_cases()}
    for finding in load_findings():
        for name in finding.split("`")[1::2]:
            assert name in ids, finding


# ------------------------------------------------------------------------------ log readers

POSTFIX_LOG = """\
Dec 02 11:22:05 mta postfix/smtp[136]: smtp_connect_addr: trying: mx1.t.test[127.0.1.1] port 25...
Dec 02 11:22:05 mta postfix/smtp[136]: connect to mx1.t.test[127.0.1.1]:25: Connection refused
Dec 02 11:22:05 mta postfix/smtp[136]: smtp_connect_addr: trying: mx2.t.test[::1] port 25...
Dec 02 11:22:05 mta postfix/smtp[136]: D7FB520E700: to=<bob@t.test>, relay=mx2.t.test[::1]:25, \
delay=0.1, delays=0.04/0.03/0.02/0.01, dsn=4.2.1, status=deferred (host mx2.t.test[::1] said: \
450 4.2.1 busy (in reply to RCPT TO command))
Dec 02 11:22:05 mta postfix/smtp[136]: D7FB520E700: to=<alice@t.test>, relay=mx2.t.test[::1]:25, \
delay=0.1, delays=0.04/0.03/0.02/0.01, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as x)
Dec 02 11:22:05 mta postfix/smtp[136]: D7FB520E700: to=<carol@t.test>, relay=none, delay=1.1, \
delays=1.1/0.01/0/0, dsn=4.4.1, status=deferred (connect to mx2.t.test[127.0.1.2]:25: Connection \
refused)
"""


def test_the_postfix_reader_finds_each_connection_and_each_recipients_status():
    dials, seen = parse_postfix(POSTFIX_LOG, ("alice@t.test", "bob@t.test", "carol@t.test"))
    assert dials == [Dial("mx1.t.test", "127.0.1.1", "Connection refused"),
                     Dial("mx2.t.test", "::1")]  # fmt: skip
    assert seen["alice@t.test"].state == "delivered"
    assert (seen["bob@t.test"].state, seen["bob@t.test"].dsn) == ("deferred", "4.2.1")
    # A status line that quotes a connect failure is a status, not another connection.
    assert (seen["carol@t.test"].state, seen["carol@t.test"].dsn) == ("deferred", "4.4.1")


EXIM_VERBOSE = """\
delivering 1xYiSb-000004-2y
Connecting to mx1.t.test [127.0.1.1]:25 ...  TFO mode sendto, no data: EINPROGRESS
 connected
  SMTP(Connection refused)<<
Connecting to mx2.t.test [::1]:25 ...  TFO mode sendto, no data: EINPROGRESS
 connected
  SMTP<< 220 mx ESMTP
  SMTP>> EHLO mta.sender.test
"""
EXIM_MAINLOG = """\
2026-12-02 11:25:17 1xYiSb-000004-2y => alice@t.test R=outbound T=remote_smtp H=mx2 [::1]:25 C="250"
2026-12-02 11:25:17 1xYiSb-000004-2y == bob@t.test R=outbound T=remote_smtp defer (-44) H=mx2: \
SMTP error from remote mail server after RCPT TO:<bob@t.test>: 450 4.2.1 busy
2026-12-02 11:25:38 1xYiSw-000004-1U ** carol@t.test: an MX or SRV record indicated no SMTP service
2026-12-02 11:25:38 1xYiSw-000006-23 => x-0 <x-0@sender.test> R=bounces T=bounce_file
"""


EXIM_RETRY_DUMP = """\
  T:mx1.mail-451-only.test:127.0.1.1:1xYlPK-000006-2T -45 13133 H=mx1.mail-451-only.test \
[127.0.1.1]: SMTP error from remote mail server after MAIL FROM:<x@sender.test>: 451 4.3.0 try a
02-Dec-2026 14:34:07  02-Dec-2026 14:34:07  02-Dec-2026 14:49:07
"""


def test_exim_s_first_retry_is_the_third_time_of_its_retry_hint():
    """exim_dumpdb prints first failed, last tried and next try without labels (Exim 4.96,
    printed here): the harness once looked for a "next try" label and so never read one."""
    (when,) = next_tries(EXIM_RETRY_DUMP)
    assert when == datetime(2026, 12, 2, 14, 49, 7).timestamp()  # not 14:34:07, the first two
    assert next_tries(EXIM_RETRY_DUMP.replace("02-Dec-2026 14:49:07", "")) == []


def test_the_exim_readers_see_a_refusal_behind_tcp_fast_open_and_every_recipients_line():
    assert parse_verbose(EXIM_VERBOSE) == [
        Dial("mx1.t.test", "127.0.1.1", "Connection refused"),
        Dial("mx2.t.test", "::1"),
    ]
    seen = parse_mainlog(EXIM_MAINLOG, ("alice@t.test", "bob@t.test", "carol@t.test"))
    assert {r: s.state for r, s in seen.items()} == {
        "alice@t.test": "delivered",
        "bob@t.test": "deferred",
        "carol@t.test": "bounced",
    }


OPENSMTPD_LOG = """\
448f70fe8f9c6e5a mta connecting address=smtp://127.0.1.1:25 host=127.0.1.1
448f70fe8f9c6e5a mta error reason=IO Error: Connection refused
448f70ff3313889a mta connecting address=smtp://[::1]:25 host=localhost
448f70ff3313889a mta connected
448f70ff3313889a mta delivery evpid=62eb from=<s@sender.test> to=<bob@t.test> rcpt=<-> \
source="127.0.0.1" relay="::1 (::1)" delay=0s result="TempFail" stat="450 4.2.1 busy"
scheduler: updating evp:62eb
scheduler: got r=0, delay=400, count=10
448f70ff3313889a mta delivery evpid=62ec from=<s@sender.test> to=<alice@t.test> rcpt=<-> \
source="127.0.0.1" relay="::1 (::1)" delay=2s result="Ok" stat="250 2.0.0 Ok: queued as x"
"""


def test_the_opensmtpd_reader_keeps_ipv6_addresses_whole_and_reads_the_scheduler_wait():
    seen, dials = parse_opensmtpd(OPENSMTPD_LOG, ("alice@t.test", "bob@t.test"))
    assert [d.address for d in dials] == ["127.0.1.1", "::1"]
    assert dials[0].error == "IO Error: Connection refused" and not dials[1].error
    # The 4.2.1 is the remote server's; OpenSMTPD's own status would be 4.0.0, so none is kept.
    bob = seen["bob@t.test"]
    assert (bob.state, bob.dsn, bob.text) == ("deferred", "", "450 4.2.1 busy")
    assert seen["alice@t.test"].state == "delivered"
    assert first_retry(OPENSMTPD_LOG, 2.4) == (400, 402)


def test_opensmtpd_cycling_among_its_routes_counts_its_first_pass_as_the_attempt():
    tried = [Dial("", f"127.0.2.{i}", "IO Error: Connection refused") for i in (1, 2, 3, 1, 2)]
    assert [d.address for d in first_pass(tried)] == ["127.0.2.1", "127.0.2.2", "127.0.2.3"]


BOUNCE = b"""\
From: Mailer Daemon <MAILER-DAEMON@vm>
MIME-Version: 1.0
Content-Type: multipart/mixed;boundary="b1"

--b1
Content-Type: text/plain

failed
--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; vm

Final-Recipient: rfc822; nobody@t.test
Action: failed
Status: 5.0.0

Final-Recipient: rfc822; <carol@t.test>
Action: failed
Status: 5.1.1

--b1--
"""


def test_the_bounce_reader_takes_each_recipients_status_from_the_delivery_status_part():
    assert dsn_statuses(BOUNCE) == {"nobody@t.test": "5.0.0", "carol@t.test": "5.1.1"}


def test_each_connection_gets_that_hosts_next_transcript():
    dials = [Dial("a", "127.0.1.1"), Dial("b", "127.0.1.9", "refused"), Dial("a", "127.0.1.1")]
    first, second = [["greeting", "421 x"]], [["greeting", "220 y"]]
    got = attach_sessions(dials, {"127.0.1.1": [first, second]})
    assert got == [first, None, second]


# ------------------------------------------------------------------------------ comparison

LEVELS = Levels(
    by_name={"mx1.t.test": 10, "mx2.t.test": 10, "mx3.t.test": 20},
    by_address={"127.0.1.1": 10, "127.0.1.2": 10, "127.0.1.3": 20},
    level_size={10: 2, 20: 1},
)


def _run(dials, states=None, sessions=None, retry=None):
    return MtaRun(dials=dials, recipients={r: RecipientSeen(s) for r, s in (states or {}).items()},
                  retry=retry, sessions=sessions or [])  # fmt: skip


def test_a_shuffle_within_one_preference_is_no_difference():
    a, b = Dial("mx1.t.test", "127.0.1.1", "refused"), Dial("mx2.t.test", "127.0.1.2", "refused")
    mta = _run([b, a], {"x@t.test": "deferred"}, [None, None])
    walk = _run([a, b], {"x@t.test": "deferred"}, [None, None])
    assert pattern(mta.dials, LEVELS) == [(10, Counter({"127.0.1.1": 1, "127.0.1.2": 1}))]
    assert compare_with(mta, walk) == []


def test_one_address_dialled_once_per_mx_name_differs_from_dialling_it_once():
    same = "127.0.1.1"
    mta = _run([Dial("mx1.t.test", same, "refused"), Dial("mx3.t.test", same, "refused")],
               {"x@t.test": "deferred"}, [None, None])  # fmt: skip
    walk = _run([Dial("mx1.t.test", same, "refused")], {"x@t.test": "deferred"}, [None])
    found = compare_with(mta, walk)
    tried = "addresses tried: postfix pref 10: {127.0.1.1} → pref 20: {127.0.1.1}; walk pref 10"
    assert any(f.startswith(tried) for f in found)


def test_what_was_said_is_compared_with_the_recipients_in_any_order():
    t1 = [["greeting", "220"], ["EHLO", "250"], ["MAIL", "250"], ["RCPT", "550 x"],
          ["RCPT", "250"], ["DATA", "354"], ["DOT", "250"], ["QUIT", "221"]]  # fmt: skip
    t2 = [["greeting", "220"], ["EHLO", "250"], ["MAIL", "250"], ["RCPT", "250"],
          ["RCPT", "550 x"], ["DATA", "354"], ["DOT", "250"]]  # fmt: skip
    assert session_steps(t1) == session_steps(t2)
    dial = Dial("mx1.t.test", "127.0.1.1")
    assert compare_with(_run([dial], sessions=[t1]), _run([dial], sessions=[t2])) == []
    t3 = [["greeting", "220"], ["EHLO", "250"], ["MAIL", "451 later"]]
    found = compare_with(_run([dial], sessions=[t1]), _run([dial], sessions=[t3]))
    assert found == ["connection 1: postfix 127.0.1.1: greeting 220, EHLO 250, MAIL 250, "
                     "RCPT 250, RCPT 550, DATA 354, DOT 250; walk 127.0.1.1: greeting 220, "
                     "EHLO 250, MAIL 451"]  # fmt: skip


def test_a_recipients_end_and_its_bounce_status_are_compared():
    mta = MtaRun([], {"x@t.test": RecipientSeen("bounced", "5.1.1", "", "5.0.0"),
                      "y@t.test": RecipientSeen("deferred", "4.4.1")})  # fmt: skip
    walk = MtaRun([], {"x@t.test": RecipientSeen("bounced", "5.1.1", "", "5.1.1"),
                       "y@t.test": RecipientSeen("bounced", "5.4.4")})  # fmt: skip
    found = compare_with(mta, walk)
    assert "x@t.test: bounce Status: postfix 5.0.0; walk 5.1.1" in found
    assert any(f.startswith("y@t.test: postfix deferred") for f in found)


def test_the_first_retry_agrees_within_the_tolerance_only():
    assert compare_with(_run([], retry=(300, 600)), _run([], retry=(305, 598))) == []
    assert compare_with(_run([], retry=(300, 600)), _run([], retry=(300, 300))) == [
        "first retry: postfix 300–600 s after arrival; walk 300 s"
    ]


def _plan():
    """One preference level with three hosts, as resolve_mx would give it."""
    from mxtui.model import Address, MXGroup, MXHost, MXPlan, PlanStatus

    hosts = tuple(
        MXHost(name=f"mx{i}.t.test", preference=10, addresses=(Address(f"127.0.1.{i}", 4),))
        for i in (1, 2, 3)
    )
    return MXPlan(domain="t.test", status=PlanStatus.MX, groups=(MXGroup(10, hosts),))


def test_an_mta_that_always_starts_with_one_host_differs_from_a_profile_that_shuffles():
    plan = _plan()
    levels = Levels.from_plan(plan)
    always = [_run([Dial("mx1.t.test", "127.0.1.1")]) for _ in range(9)]
    found = compare_fixed_order(always, plan, "postfix", levels, "opensmtpd")
    assert found and found[0].startswith(
        "order at preference 10: opensmtpd started with 127.0.1.1 in 9 of 9 runs"
    )
    mixed = [_run([Dial(f"mx{i}.t.test", f"127.0.1.{i}")]) for i in (1, 2, 3, 1, 2, 3, 1, 2, 3)]
    assert compare_fixed_order(mixed, plan, "postfix", levels, "postfix") == []


def compare_with(mta: MtaRun, walk: MtaRun) -> list[str]:
    return compare(None, "postfix", [mta], [walk], who="postfix", levels=LEVELS).differences  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ the command


def test_the_command_without_root_says_why_in_one_line_and_exits_2(monkeypatch, capsys):
    monkeypatch.setattr(isolation, "available", lambda: "needs root: each case runs in its own "
                        "network and mount namespace")  # fmt: skip
    assert main(["conformance", "--mta", "postfix"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mxtui conformance: needs root: each case runs in its own network and mount "
                   "namespace"]  # fmt: skip


def test_the_command_lists_the_cases_and_refuses_an_unknown_one(capsys):
    assert main(["conformance", "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == len(load_cases())
    assert main(["conformance", "--case", "no-such-case"]) == 2
    assert "unknown case 'no-such-case'" in capsys.readouterr().err


def test_the_json_of_a_result_is_what_the_tests_read():
    from mxtui.conformance.compare import Verdict
    from mxtui.conformance.harness import CaseResult

    result = CaseResult("c", "postfix", Verdict(["x differs"]), [_run([])], [_run([])])
    data = json.loads(json.dumps(result.to_json()))
    assert data["agrees"] is False and data["differences"] == ["x differs"]
    assert set(data) >= {"case", "mta", "mta_runs", "walk_runs", "error", "seconds"}


@pytest.mark.parametrize("mta", MTAS)
def test_each_runner_says_why_it_cannot_run_or_nothing(mta):
    from mxtui.conformance.mtas import RUNNERS

    why = RUNNERS[mta].missing()
    assert why is None or (why and "\n" not in why)


def test_known_differences_are_read_per_mta_and_case(tmp_path):
    from mxtui.conformance.cases import known_differences

    path = tmp_path / "cases.toml"
    path.write_text(
        '[[known]]\nmta = "exim"\ncases = ["a", "b"]\nwhy = "because"\nrule = "cell X"\n'
    )
    found = known_differences(path)
    assert set(found) == {("exim", "a"), ("exim", "b")}
    assert found[("exim", "a")].rule == "cell X"


SENDMAIL_OUTPUT = """\
alice@t.test... Connecting to mx1.t.test. via esmtp...
makeconnection (mx1.t.test. [127.0.1.1].25 (2))
Connecting to [127.0.1.1].25...
Connect failed (Connection refused by mx1.t.test.)
alice@t.test... Connecting to mx2.t.test. via esmtp...
makeconnection (mx2.t.test. [IPv6:0:0:0:0:0:0:0:1].25 (2))
Connecting to [IPv6:0:0:0:0:0:0:0:1].25...
450 4.2.1 mailbox busy
alice@t.test... Deferred: 450 4.2.1 mailbox busy
alice@t.test... Connecting to mx3.t.test. via esmtp...
makeconnection (mx3.t.test. [127.0.1.3].25 (2))
alice@t.test... Sent (Ok: queued as x)
"""


def test_the_sendmail_readers_take_the_last_result_and_normalise_ipv6(tmp_path):
    from mxtui.conformance.mtas.sendmail import parse_dials, parse_results, queued_dsn_statuses

    assert parse_dials(SENDMAIL_OUTPUT) == [
        Dial("mx1.t.test", "127.0.1.1", "Connection refused by mx1.t.test."),
        Dial("mx2.t.test", "::1"),
        Dial("mx3.t.test", "127.0.1.3"),
    ]
    # "Deferred" on one MX, then "Sent" on the next: the last line is the end.
    assert parse_results(SENDMAIL_OUTPUT, ("alice@t.test",))["alice@t.test"].state == "delivered"
    (tmp_path / "dfABC").write_text(
        "--x\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m\n\n"
        "Final-Recipient: RFC822; nobody@t.test\nAction: failed\nStatus: 5.1.1\n\n--x--\n"
    )
    assert queued_dsn_statuses(tmp_path) == {"nobody@t.test": "5.1.1"}
