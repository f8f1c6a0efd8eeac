"""The probe checks each address's STARTTLS against the domain's TLS policy: the chain against the
TLSA records (DANE-EE, DANE-TA), the host against the MTA-STS policy and its certificate for its
name; the CLI gets a POLICY column and each JSON row a "policy"."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mxtui.dns import resolve_mx
from mxtui.lab.certs import lab_ca
from mxtui.lab.hosts import HostBehaviour
from mxtui.lab.runtime import Lab
from mxtui.lab.tls_policy import PolicySpec
from mxtui.probe import probe
from mxtui.tlspolicy import lookup_tls_policy

DOMAIN = "pr.test"
ZONE = """\
$ORIGIN pr.test.
$TTL 300
@ SOA ns hm 1 60 60 60 60
@ NS ns
ns A 192.0.2.1
@ MX 10 ta
@ MX 20 wrongname
@ MX 30 clear
@ MX 40 selfsigned
ta A 192.0.2.10
wrongname A 192.0.2.11
clear A 192.0.2.12
selfsigned A 192.0.2.13
_25._tcp.ta TLSA 2 0 1 lab:ca
_25._tcp.wrongname TLSA 2 1 2 lab:ca
_25._tcp.clear TLSA 3 1 1 lab:clear.pr.test
_mta-sts TXT "v=STSv1; id=1"
mta-sts A 192.0.2.80
"""
POLICY = "version: STSv1\nmode: enforce\nmx: *.pr.test\nmax_age: 3600\n"
HOSTS = {
    "192.0.2.10": HostBehaviour("accept", hostname="ta.pr.test", certificate="lab-ca"),
    # Presents a lab-CA certificate for another name: the DANE-TA chain is right, the name not.
    "192.0.2.11": HostBehaviour("accept", hostname="elsewhere.example", certificate="lab-ca"),
    "192.0.2.12": HostBehaviour("accept", hostname="clear.pr.test", starttls=False),
    "192.0.2.13": HostBehaviour("accept", hostname="selfsigned.pr.test"),
}


@pytest.fixture
async def results():
    lab = Lab(
        ZONE,
        domain=DOMAIN,
        hosts=HOSTS,
        faults={},
        policies={"192.0.2.80": PolicySpec(DOMAIN, POLICY)},
    )
    async with lab:
        plan = await resolve_mx(DOMAIN, nameservers=lab.nameservers, timeout=2)
        policy = await lookup_tls_policy(plan, lab.nameservers, setup=lab.tls_setup, timeout=2)
        report = await probe(
            plan, lab.dialer, timeout=2, tls_policy=policy, trust_pem=lab_ca().cert_pem
        )
    return {r.host.split(".")[0]: r.policy for r in report.results}


async def test_dane_ta_matches_the_lab_ca_for_the_right_name(results):
    check = results["ta"]
    assert (check.dane.applies, check.dane.outcome) == (True, "match")
    assert check.dane.result.record.usage == 2
    assert check.sts.outcome == "ok" and check.sts.pattern == "*.pr.test"
    assert check.summary == "DANE ok, STS ok"


async def test_dane_ta_with_a_certificate_for_another_name_fails(results):
    check = results["wrongname"]
    assert check.dane.outcome == "no-match" and "trust anchor is in the chain" in check.dane.detail
    assert check.sts.outcome == "not-verified"  # and MTA-STS sees the wrong name too
    assert check.summary == "DANE FAIL, STS FAIL (cert)"


async def test_a_dane_host_without_starttls_fails_both_policies(results):
    check = results["clear"]
    assert check.dane.outcome == "no-tls" and check.sts.outcome == "no-tls"


async def test_a_self_signed_certificate_fails_mta_sts_only(results):
    check = results["selfsigned"]
    assert not check.dane.applies and check.dane.outcome == "none"
    assert check.sts.outcome == "not-verified" and check.sts.verifies is False
    assert check.summary == "STS FAIL (cert)"


def probe_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mxtui", "probe", *args], capture_output=True, text=True, timeout=60
    )


def test_the_cli_adds_a_policy_column_and_json_key():
    text = probe_cli("--lab", "dane.example.com")
    assert text.returncode == 0, text.stderr
    header = text.stdout.splitlines()[1]
    assert header.split()[-1] == "POLICY"
    rows = {line.split()[1]: line for line in text.stdout.splitlines() if line[:2] in ("10", "20")}
    assert rows["old.dane.example.com"].endswith("DANE FAIL")
    assert rows["mx.dane.example.com"].endswith("DANE ok")
    assert "matches NO TLSA record" in text.stdout
    out = json.loads(probe_cli("--lab", "--json", "sts.example.com").stdout)
    policies = {h["host"]: h["policy"] for h in out["hosts"]}
    assert policies["rogue.sts.example.com"]["mta_sts"]["outcome"] == "not-listed"
    assert policies["mx.sts.example.com"]["summary"] == "STS ok"
    assert out["mta_sts"]["policy"]["mode"] == "enforce"


def test_no_tls_policy_leaves_the_column_out():
    text = probe_cli("--lab", "--no-tls-policy", "dane.example.com")
    assert "POLICY" not in text.stdout
    out = json.loads(probe_cli("--lab", "--json", "--no-tls-policy", "dane.example.com").stdout)
    assert all(h["policy"] is None for h in out["hosts"]) and out["mta_sts"] is None
