"""`mxtui mx` shows the TLS policy beside the MX tree: JSON keys added (the rest unchanged), text
lines after the tree, and nothing of it with --no-tls-policy."""

from __future__ import annotations

import json
import subprocess
import sys

from mxtui.lab.dns_server import LabDNSServer


def mx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mxtui", "mx", *args], capture_output=True, text=True, timeout=60
    )


def test_json_gains_the_policy_and_each_hosts_tlsa_and_membership():
    run = mx("--lab", "--json", "sts.example.com")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert {"domain", "status", "groups", "problems", "queries"} <= set(out)  # the old contract
    assert out["mta_sts"]["state"] == "ok"
    assert out["mta_sts"]["policy"] == {
        "version": "STSv1",
        "mode": "enforce",
        "mx": ["mx.sts.example.com"],
        "max_age": 86400,
    }
    assert out["tls_rpt"]["rua"] == ["mailto:tls-reports@example.com"]
    assert out["mx_dnssec"] == "secure"
    hosts = {h["name"]: h for g in out["groups"] for h in g["hosts"]}
    assert hosts["mx.sts.example.com"]["mta_sts"] == {
        "in_policy": True,
        "pattern": "mx.sts.example.com",
    }
    assert hosts["rogue.sts.example.com"]["mta_sts"]["in_policy"] is False
    tlsa = hosts["rogue.sts.example.com"]["tlsa"]
    assert (tlsa["state"], tlsa["validated"], tlsa["usable"]) == ("absent", True, False)


def test_dane_hosts_show_validated_usable_records():
    out = json.loads(mx("--lab", "--json", "dane.example.com").stdout)
    for group in out["groups"]:
        (host,) = group["hosts"]
        assert host["tlsa"]["state"] == "present" and host["tlsa"]["usable"]
        (record,) = host["tlsa"]["records"]
        assert (record["usage"], record["selector"], record["mtype"]) == (3, 1, 1)
        assert record["names"] == "DANE-EE SPKI SHA2-256" and len(record["data"]) == 64


def test_text_output_names_the_host_outside_the_policy():
    run = mx("--lab", "sts.example.com")
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("TLS policy")))
    section = "\n".join(lines[start:])
    assert "MTA-STS: mode enforce, mx mx.sts.example.com" in section
    assert "rogue.sts.example.com\n    NOT in the MTA-STS policy" in section
    assert "TLS-RPT: reports to mailto:tls-reports@example.com" in section


def test_no_tls_policy_leaves_the_keys_null_and_asks_nothing_more():
    with_policy = json.loads(mx("--lab", "--json", "example.com").stdout)
    without = json.loads(mx("--lab", "--json", "--no-tls-policy", "example.com").stdout)
    assert without["mta_sts"] is None and without["tls_rpt"] is None
    assert all(h["tlsa"] is None for g in without["groups"] for h in g["hosts"])
    assert with_policy["queries"] == without["queries"]  # the tree's own count is unchanged
    assert "TLS policy" not in mx("--lab", "--no-tls-policy", "example.com").stdout


HOSTILE = """\
$ORIGIN hostile.test.
$TTL 60
@ SOA ns hm 1 60 60 60 60
@ MX 10 mx
mx A 192.0.2.9
_mta-sts TXT "v=STSv1; id=1; x=\\027[31m[red]hi[/red]"
_smtp._tls TXT "v=TLSRPTv1; rua=mailto:\\027[2J\\007@x"
"""


async def test_a_real_domain_through_a_nameserver_with_escapes_in_its_records():
    # Not the lab: the root's trust anchor, the system's CAs; the policy host does not exist.
    async with LabDNSServer(HOSTILE) as server:
        import asyncio

        host, port = server.address
        run = await asyncio.to_thread(mx, "--nameserver", f"{host}:{port}", "hostile.test")
        data = await asyncio.to_thread(
            mx, "--json", "--timeout", "2", "--nameserver", f"{host}:{port}", "hostile.test"
        )
    assert "\x1b" not in run.stdout and "\x07" not in run.stdout
    assert "MTA-STS: a record (id 1) but the policy could not be fetched" in run.stdout
    out = json.loads(data.stdout)
    assert out["mta_sts"]["state"] == "fetch-failed"
    assert "[red]hi[/red]" in out["mta_sts"]["record"] and "\\x1b" in out["mta_sts"]["record"]
    assert out["tls_rpt"]["rua"] == ["mailto:\\x1b[2J\\x07@x"]
    assert out["trust_anchors"] == "root"
