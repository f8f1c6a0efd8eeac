"""Honest outcomes from hostile peers: TLS that did not start, a close or a 421 mid-message, a
walk that stopped before the dot (issue 11 items 6 and 11).

Each peer is a real server on loopback; each run is the real program, bounded.
"""

from __future__ import annotations

import json

import hostile_support as hs
import pytest

BIG = 20 * 1024 * 1024
"""A message big enough that a peer can act while it is still being written."""

NO_STARTTLS = "250-peer.hostile.test\r\n250 SIZE 1000000"


def smtp(p: hs.ScriptedPeer, *extra: str) -> hs.Run:
    return hs.run_mxtui(
        "smtp", "--server", p.server, "--from", "a@example.org", "--to", "b@example.com",
        "--timeout", "5", *extra, timeout=40,
    )  # fmt: skip


# -- item 6: --tls exits non-zero whenever TLS did not start ----------------------------------


@pytest.mark.parametrize(
    ("script", "status", "outcome"),
    [
        ({"STARTTLS": "250 2.0.0 fine, carry on"}, 4, "tls-failed"),
        ({"STARTTLS": "220 2.0.0 go ahead", "*": "this is not TLS"}, 4, "tls-failed"),
        ({"STARTTLS": "354 what"}, 4, "tls-failed"),
        ({"STARTTLS": "454 4.7.0 TLS not available"}, 3, "temporary"),
        ({"EHLO": NO_STARTTLS, "STARTTLS": "502 5.5.1 unknown"}, 1, "permanent"),
        ({"STARTTLS": hs.CLOSE}, 4, "dropped"),
    ],
    ids=["250", "220-then-plain", "354", "454", "not-offered-502", "close"],
)
@pytest.mark.parametrize("quit_after", [None, "tls"])
def test_tls_required_exits_non_zero_whenever_tls_did_not_start(
    peer, script, status, outcome, quit_after
) -> None:
    hs.tried("starttls answer", 1)
    p = peer(script)
    extra = ["--tls", "--json"] + (["--quit-after", quit_after] if quit_after else [])
    run = smtp(p, *extra)
    assert run.returncode == status, run.describe()
    doc = json.loads(run.stdout)
    assert doc["outcome"] == outcome and doc["tls"] is None
    assert not any(c.startswith(b"MAIL") for c in p.log.commands)  # nothing went in the clear


# -- item 11: a close or a 421 in the middle of the message ---------------------------------------


@pytest.fixture
def big_message(tmp_path):
    path = tmp_path / "big.eml"
    line = b"x" * 98 + b"\r\n"
    path.write_bytes(b"Subject: big\r\n\r\n" + line * (BIG // len(line)))
    return f"@{path}"


@pytest.mark.parametrize("at", [0, 200_000], ids=["right-after-354", "mid-message"])
def test_a_peer_closing_during_data_is_not_shown_as_the_dot_sent(peer, big_message, at) -> None:
    hs.tried("close in data", 1)
    p = peer(close_in_data=at)
    run = smtp(p, "--data", big_message, "--send")
    assert run.returncode == 4, run.describe()
    assert b"\n -> .\n" not in run.stdout, run.describe()
    assert b"dot was not sent" in run.stdout or b"had closed the connection" in run.stdout
    assert p.log.dots == 0
    doc = json.loads(smtp(peer(close_in_data=at), "--data", big_message, "--send", "--json").out)
    dot = [s for s in doc["steps"] if s["stage"] == "dot"]
    assert doc["outcome"] == "dropped" and (not dot or "." not in dot[0]["sent"])


def test_a_421_in_the_middle_of_the_message_is_temporary_not_dropped(peer, big_message) -> None:
    hs.tried("421 in data", 1)
    p = peer(close_in_data=200_000, reply_in_data="421 4.3.2 shutting down")
    run = smtp(p, "--data", big_message, "--send", "--json")
    assert run.returncode == 3, run.describe()
    doc = json.loads(run.stdout)
    assert doc["outcome"] == "temporary"
    assert doc["steps"][-1]["reply"]["code"] == 421 and "." not in doc["steps"][-1]["sent"]


def test_a_421_answering_the_dot_comes_after_the_dot(peer) -> None:
    hs.tried("421 at dot", 1)
    run = smtp(peer({"DOT": "421 4.3.2 shutting down"}), "--send")
    assert run.returncode == 3, run.describe()
    out = run.out
    assert out.index("\n -> .\n") < out.index("<-  421 4.3.2 shutting down")


def test_a_peer_that_takes_the_whole_message_then_closes_is_dropped_after_the_dot(peer) -> None:
    hs.tried("close after dot", 1)
    run = smtp(peer({"DOT": hs.CLOSE}), "--send")
    assert run.returncode == 4, run.describe()
    assert "\n -> .\n" in run.out and "without answering the dot" in run.out


# -- item 11: a walk held before the dot is never "delivered" -----------------------------------

ZONE = [
    "real.test. 60 IN MX 10 mx.real.test.",
    "mx.real.test. 60 IN A 127.0.0.1",
    "real.test. 60 IN SOA ns.real.test. h.real.test. 1 60 60 60 60",
]


@pytest.mark.parametrize(
    ("extra", "status", "outcome", "commands"),
    [
        ([], 5, "held", {"EHLO", "MAIL", "RCPT", "QUIT"}),
        (["--quit-after", "rcpt"], 5, "held", {"EHLO", "MAIL", "RCPT", "QUIT"}),
        (["--quit-after", "dot"], 5, "held", {"EHLO", "MAIL", "RCPT", "DATA"}),
        (["--send"], 0, "delivered", {"EHLO", "MAIL", "RCPT", "DATA", "QUIT"}),
    ],
    ids=["default", "quit-after-rcpt", "quit-after-dot", "send"],
)
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_walk_held_before_the_dot_never_says_delivered(
    peer, hostile_dns, extra, status, outcome, commands, fmt
) -> None:
    hs.tried("walk held", 1)
    p = peer()
    ns = hostile_dns(hs.static_zone(ZONE))
    run = hs.run_mxtui(
        "walk", "real.test", "--nameserver", ns.nameserver, "--port", str(p.port),
        "--from", "a@example.org", "--to", "u@real.test", "--timeout", "5",
        *(["--json"] if fmt == "json" else []), *extra, timeout=40,
    )  # fmt: skip
    assert run.returncode == status, run.describe()
    verbs = {c.split(b" ")[0].split(b":")[0].decode() for c in p.log.commands}
    assert verbs <= commands | {"QUIT", "STARTTLS"} and p.log.dots == (
        1 if outcome == "delivered" else 0
    )
    if fmt == "json":
        doc = json.loads(run.stdout)
        assert doc["outcome"] == outcome and doc["held"] is (outcome == "held")
        assert doc["recipients"]["u@real.test"]["state"] == outcome
    else:
        assert f"\noutcome: {outcome}\n" in run.out + "\n", run.describe()
        if outcome == "held":
            assert "delivered" not in run.out


# -- no real mail without a yes ----------------------------------------------------------------


@pytest.mark.parametrize("extra", [[], ["--quit-after", "dot"], ["--json"], ["--jsonl"]])
def test_smtp_never_sends_the_dot_to_a_real_host_without_send(peer, extra) -> None:
    hs.tried("no dot without send", 1)
    p = peer()
    run = smtp(p, *extra)
    assert run.returncode == 5, run.describe()
    assert p.log.dots == 0 and p.log.message_bytes == 0
    assert run.stderr.endswith(b"add --send to let the server take the message\n")


@pytest.mark.parametrize(
    "script",
    [{"DATA": "250 2.0.0 no need"}, {"MAIL": "354 go ahead"}, {"RCPT": "354 go ahead"},
     {"DOT": "354 more?"}, {"EHLO": "354 hello"}, {"GREETING": "354 hi"}],
    ids=["250-to-data", "354-to-mail", "354-to-rcpt", "354-to-dot", "354-to-ehlo", "354-greet"],
)  # fmt: skip
def test_a_reply_of_the_wrong_kind_is_a_protocol_error_not_ok(peer, script) -> None:
    """A 250 to DATA means no message went: exit 0 ("every step accepted") was a lie."""
    hs.tried("wrong reply", 1)
    p = peer(script)
    run = smtp(p, "--send", "--json")
    assert run.returncode == 4, run.describe()
    assert json.loads(run.stdout)["outcome"] == "protocol-error"
