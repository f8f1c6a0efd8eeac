"""`mxtui walk --scenario NAME`: a lab scenario headless, its envelope and profile by default, and
the backup MX's second hop in the text and in the JSON (an added key; the contract keys stay)."""

from __future__ import annotations

import json

from mxtui.cli import main


def test_a_scenario_walks_with_its_own_envelope_and_shows_the_second_hop(capsys) -> None:
    assert main(["walk", "--scenario", "backup-mx", "--json", "--seed", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"outcome", "order", "attempts", "recipients", "retry", "ndr"} <= set(doc)
    assert doc["outcome"] == "delivered"
    assert list(doc["recipients"]) == ["alice@backup.example.net"]
    assert doc["profile"] == "postfix"
    [hop] = doc["hops"]
    assert hop["hop"] == 2 and hop["from"] == "backup.backup.example.net"
    assert hop["outcome"] == "deferred"  # the primary is still down at the first try
    assert all(t.startswith(("198.51.100.10", "2001:db8:51::10")) for t in hop["order"])


def test_a_scenario_in_text_names_the_hop_and_options_override_it(capsys) -> None:
    code = main(["walk", "--scenario", "greylist-primary", "--profile", "qmail", "--seed", "1"])
    out = capsys.readouterr().out
    assert code == 3  # deferred: qmail waits for its retry
    assert out.startswith("walk grey.example.net as qmail")
    assert main(["walk", "--scenario", "backup-mx", "--seed", "1"]) == 0
    assert "hop 2: backup.backup.example.net" in capsys.readouterr().out


def test_scenario_mistakes_are_one_line_and_exit_2(capsys) -> None:
    assert main(["walk", "--scenario", "no-such"]) == 2
    assert "unknown scenario 'no-such'" in capsys.readouterr().err
    assert main(["walk", "--scenario", "backup-mx", "--lab"]) == 2
    assert "leave out --lab" in capsys.readouterr().err
    assert main(["walk", "--to", "a@example.com"]) == 2
    err = capsys.readouterr().err
    assert "give the DOMAIN" in err and len(err.strip().splitlines()) == 1


def test_the_ndr_returns_this_walks_headers_not_a_sample(capsys) -> None:
    assert main(["walk", "--scenario", "unknown-user", "--seed", "1"]) == 1
    out = capsys.readouterr().out
    assert "text/rfc822-headers" in out and "To: nobody@users.example.net" in out
    assert "Quarterly report" not in out


def test_a_walks_connect_error_names_the_address_in_the_zone(capsys) -> None:
    # Seed 3 tries mx2's IPv6 address first: the demo's lab host there is down.
    argv = ["walk", "example.com", "--lab", "--to", "alice@example.com", "--seed", "3"]
    assert main([*argv, "--json"]) == 0
    [first, *_] = json.loads(capsys.readouterr().out)["attempts"]
    assert first["address"] == "2001:db8::11" and first["stage"] == "connect"
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "connect connection refused (2001:db8::11 port 25) -> next-address" in out
    assert "127.0.0.1" not in out


def test_walk_json_steps_each_carry_the_recipient_they_concern(capsys) -> None:
    assert main(["walk", "--scenario", "mixed-recipients", "--json", "--seed", "1"]) == 4
    doc = json.loads(capsys.readouterr().out)
    assert all("recipient" in step and "action" in step for step in doc["steps"])
    rcpts = [(s["recipient"], s["reply"]["code"], s["action"])
             for s in doc["steps"] if s["stage"] == "rcpt"]  # fmt: skip
    assert rcpts == [
        ("alice@mixed.example.net", 250, "continue"),
        ("bob@mixed.example.net", 450, "requeue"),
        ("nobody@mixed.example.net", 550, "ndr"),
    ]
    [dot] = [s for s in doc["steps"] if s["stage"] == "dot"]
    assert dot["recipients"] == ["alice@mixed.example.net"]
    assert doc["steps"][0]["sender"] == doc["steps"][-1]["sender"] != ""
