"""`mxtui explain`: the JSON contract of issue 4, the text output, and bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from mxtui.cli import main
from mxtui.policy import PROFILES

CONTRACT = {"action", "scope", "code", "enhanced", "why", "reference", "retry", "others"}


def _json(capsys, *argv: str) -> dict:
    assert main(["explain", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_follows_the_contract(capsys):
    data = _json(capsys, "--stage", "rcpt", "--reply", "550 5.1.1 no such user")
    assert set(data) >= CONTRACT
    assert (data["action"], data["scope"]) == ("ndr", "recipient")
    assert data["code"]["code"] == 550 and data["code"]["class"] == 5
    assert data["enhanced"]["code"] == "5.1.1"
    assert set(data["retry"]) >= {"attempts_s", "delay_dsn_s", "give_up_s"}
    # Postfix retries at its next queue scan: windows of queue_run_delay (reference §0), one
    # instant of each (the scan phase φ=150 s) in attempts_s.
    assert data["retry"]["attempts_s"][:3] == [0, 450, 1050]
    assert data["retry"]["attempt_windows_s"][:3] == [[0, 0], [300, 600], [900, 1200]]
    assert set(data["others"]) == set(PROFILES) - {"postfix"}
    assert data["others"]["qmail"] == "ndr"


def test_json_evidence_is_an_object_with_kind_source_and_tested_version(capsys):
    """Issue 10: "evidence": {"kind", "source", "tested_with"}; the bare mark it was before
    stays under "evidence_mark", for this decision and for the others."""
    data = _json(capsys, "--stage", "connect", "--outcome", "refused")
    assert data["evidence"]["kind"] == "T" and data["evidence_mark"] == "T"
    assert data["evidence"]["tested_with"] == "Postfix 3.7.11"
    assert "smtp_connect.c" in data["evidence"]["source"]
    qmail = data["others_detail"]["qmail"]
    assert qmail["evidence"]["kind"] == qmail["evidence_mark"] == "V"
    assert qmail["evidence"]["tested_with"] is None
    recalled = _json(capsys, "--stage", "auth", "--reply", "454 x", "--profile", "exim")
    assert recalled["evidence"] == {
        "kind": "M", "source": recalled["reference"], "tested_with": None, "cases": []
    }  # fmt: skip


def test_json_names_the_version_modelled_and_how_its_order_and_limits_are_known(capsys):
    data = _json(capsys, "--stage", "mail", "--reply", "451 x", "--profile", "exim")
    detail = data["profile_detail"]
    assert detail["models"] == "Exim 4.96"
    assert "IPv6" in detail["ordering"]["rule"]
    assert detail["ordering"]["evidence"]["tested_with"] == "Exim 4.96"
    assert "hosts_max_try" in detail["moving"]["rule"]


def test_text_output_says_how_the_rule_is_known(capsys):
    assert main(["explain", "--stage", "connect", "--outcome", "refused"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"evidence:  tested against Postfix 3\.7\.11 in \d+ cases?; read in Postfix",
                     out), out  # fmt: skip
    assert re.search(r"cases:     \S+.* \(mxtui conformance --case ID\)", out), out


def test_json_for_an_outcome_has_a_code_object_and_null_enhanced(capsys):
    data = _json(capsys, "--stage", "greeting", "--outcome", "dropped", "--profile", "qmail")
    assert data["action"] == "requeue"
    assert data["enhanced"] is None
    assert data["code"]["treated_as"] == 451  # RFC 5321 §3.8
    assert data["retry"]["delay_dsn_s"] is None


def test_last_mx_and_set_change_the_answer(capsys):
    args = ("--stage", "greeting", "--reply", "554 go away", "--last-mx")
    assert _json(capsys, *args)["action"] == "requeue"
    off = _json(capsys, *args, "--set", "smtp_skip_5xx_greeting=no")
    assert off["action"] == "ndr"


def test_a_multiline_reply_with_literal_backslash_n(capsys):
    data = _json(capsys, "--stage", "ehlo", "--reply", r"250-mx.example.com\n250 PIPELINING")
    assert data["action"] == "continue"
    assert data["code"]["code"] == 250


def test_text_output_names_the_action_why_and_other_profiles(capsys):
    argv = ["explain", "--stage", "greeting", "--reply", "421 4.3.2 busy", "--profile", "qmail"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "REQUEUE" in out
    assert "why:" in out and "qmail uses another MX only when it cannot connect" in out
    assert "4.3.2" in out and "postfix next-address" in out


def test_ndr_flag_prints_the_notice(capsys):
    assert main(["explain", "--stage", "dns", "--outcome", "null-mx", "--ndr"]) == 0
    out = capsys.readouterr().out
    assert "multipart/report" in out and "Status: 5.1.0" in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--stage", "bogus", "--reply", "550 no"], "unknown stage"),
        (["--stage", "rcpt", "--reply", "no code here"], "3-digit code"),
        (["--stage", "rcpt", "--reply", "550 no", "--profile", "smail"], "unknown profile"),
        (["--stage", "rcpt", "--outcome", "exploded"], "unknown outcome"),
        (["--stage", "rcpt", "--reply", "550 no", "--set", "nosuch=1"], "no parameter"),
        (["--stage", "rcpt", "--reply", "550 no", "--set", "soft_bounce"], "PARAM=VALUE"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(capsys, argv, words):
    assert main(["explain", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and words in captured.err
    assert "Traceback" not in captured.err


def test_the_installed_command_answers_in_a_subprocess_without_importing_textual():
    code = (
        "import sys; from mxtui.cli import main; rc = main(sys.argv[1:]); "
        "assert 'textual' not in sys.modules, 'textual imported'; sys.exit(rc)"
    )
    argv = ["explain", "--stage", "mail", "--reply", "451 4.3.0 later", "--json"]
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["action"] == "next-address"
    bad = subprocess.run(
        [sys.executable, "-m", "mxtui", "explain", "--stage", "x", "--reply", "250 ok"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("mxtui explain: unknown stage")
