"""The two TLS-policy training scenarios walk as their narratives say, under each profile and
its scenario settings; the loader checks [mta_sts] and [params]; walk --scenario applies them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mxtui.delivery import Walk
from mxtui.dns import resolve_mx
from mxtui.lab.certs import lab_ca
from mxtui.lab.scenarios import load_scenario, parse_scenario
from mxtui.model import StepDone
from mxtui.tlspolicy import lookup_tls_policy


async def run(name: str, profile: str, **params):
    scenario = load_scenario(name)
    events = []
    async with scenario.lab() as lab:
        plan = await resolve_mx(scenario.domain, nameservers=lab.nameservers, timeout=2)
        policy = await lookup_tls_policy(plan, lab.nameservers, setup=lab.tls_setup, timeout=2)
        w = Walk(
            plan, scenario.envelope, dialer=lab.dialer, profile=profile, seed=1,
            params={**scenario.params_for(profile), **params}, tls_policy=policy,
            trust_pem=lab_ca().cert_pem, on_event=events.append,
        )  # fmt: skip
        result = await w.run()
        dialled = {a: h.connections for a, h in lab.smtp.hosts.items()}
    decisions = [e.decision for e in events if isinstance(e, StepDone) and e.decision]
    return result, dialled, decisions


def path(result):
    return [(a.target.host.split(".")[0], str(a.stage), a.action) for a in result.attempts]


async def test_rogue_mx_the_rfc_baseline_never_dials_the_relay_and_defers():
    result, dialled, decisions = await run("enforce-rogue-mx", "rfc")
    assert path(result) == [
        ("relay", "starttls", "next-address"),
        ("mx1", "greeting", "next-address"),
        ("mx2", "connect", "requeue"),
    ]
    assert dialled["203.0.113.5"] == 0
    assert result.outcome == "deferred"
    rogue = decisions[0]
    assert rogue.rule.startswith("MTA-STS: the MX host is not in the policy")
    assert "RFC 8461 §4.1" in rogue.reference


async def test_rogue_mx_postfix_with_the_resolver_fails_the_relay_at_its_certificate():
    result, dialled, _ = await run("enforce-rogue-mx", "postfix")
    assert path(result)[0] == ("relay", "starttls", "next-address")
    assert dialled["203.0.113.5"] == 1
    assert "does not verify for mx1.shop.example.net" in result.attempts[0].error
    assert result.outcome == "deferred"


@pytest.mark.parametrize("profile", ["exim", "qmail"])
async def test_rogue_mx_senders_without_mta_sts_deliver_to_the_relay(profile):
    result, *_ = await run("enforce-rogue-mx", profile)
    assert path(result) == [("relay", "dot", "delivered")]


async def test_rotated_certificate_postfix_dane_defers_after_both_hosts():
    result, dialled, decisions = await run("dane-rotated-cert", "postfix")
    assert path(result) == [
        ("mx1", "starttls", "next-address"),
        ("mx2", "starttls", "requeue"),
    ]
    assert dialled == {"198.51.100.121": 1, "198.51.100.122": 1}
    last = [d for d in decisions if d.stage.value == "starttls"][-1]
    assert last.status.startswith("4") and "smtp_proto.c:1125-1129" in last.reference
    assert result.recipients["alice@bank.example.org"].state == "deferred"


async def test_rotated_certificate_postfix_at_may_delivers_as_if_nothing_were_wrong():
    result, *_ = await run("dane-rotated-cert", "postfix", smtp_tls_security_level="may")
    assert path(result) == [("mx1", "dot", "delivered")]


BASE = """
name = "x"
title = "t"
domain = "x.example.net"
profile = "postfix"
narrative = "n"
zone = '''
$ORIGIN x.example.net.
@ 60 SOA ns hm 1 60 60 60 60
@ 60 MX 10 mx
mx 60 A 192.0.2.10
'''
[hosts."192.0.2.10"]
kind = "accept"
[envelope]
from = "a@example.org"
to = ["b@x.example.net"]
[expect]
postfix = "delivered"
"""


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        ('[params.exim]\nhosts_try_dane = "maybe"\n', "params.exim", "expected yes or no"),
        ("[params.nope]\nx = 1\n", "params.nope", "unknown profile"),
        ('[params.postfix]\nsmtp_tls_security_level = "strict"\n', "params.postfix", "one of"),
        ('[mta_sts]\naddress = "10.0.0.1"\npolicy = "x"\n', "mta_sts.address", "documentation"),
        ('[mta_sts]\naddress = "192.0.2.80"\n', "mta_sts.policy", "policy text"),
        ('[mta_sts]\naddress = "192.0.2.80"\npolicy = "x"\nport = 1\n', "mta_sts.port", "unknown"),
    ],
)
def test_the_loader_names_a_bad_setting(extra, key, words):
    with pytest.raises(ValueError) as caught:
        parse_scenario(BASE + extra, source="x.toml", require_name=False)
    assert f"x.toml: {key}: " in str(caught.value) and words in str(caught.value)


def walk_cli(*args: str) -> dict:
    run = subprocess.run(
        [sys.executable, "-m", "mxtui", "walk", "--json", *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return json.loads(run.stdout)


def test_walk_scenario_applies_its_settings_and_a_param_overrides_them():
    assert walk_cli("--scenario", "dane-rotated-cert")["outcome"] == "deferred"
    over = walk_cli("--scenario", "dane-rotated-cert", "--param", "smtp_tls_security_level=may")
    assert over["outcome"] == "delivered"
    assert walk_cli("--scenario", "dane-rotated-cert", "--no-tls-policy")["outcome"] == "delivered"
