"""A real Postfix with smtp_tls_security_level = dane and a validating resolver (unbound), beside
mxtui's walk, on the same signed zone and the same mail hosts, in a private network namespace.

The scenario's zone is served by the lab DNS server (signed when it starts) on 127.0.0.154:53;
unbound on 127.0.0.153:53 validates it from the lab's trust anchor (its `trust-anchor:` is the
zone's DS) and is the only nameserver Postfix knows (a resolv.conf of ours, with `options
trust-ad` so that glibc passes unbound's AD bit on: Postfix trusts DNSSEC only through it). The
MX hosts are the lab's own, on port 25 of 127.0.1.x, presenting the scenario's certificates.
Then Postfix sends one message (the conformance harness's send-only instance, with the DANE
settings added), and mxtui walks the same delivery as the postfix profile with the scenario's
settings, through the same unbound. The run reports both, for the test to compare.

unbound listens on 127.0.0.153, not 127.0.0.53 (where the conformance cases put their DNS), and
in its own namespace anyway.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

UNBOUND_ADDRESS = "127.0.0.153"
AUTH_ADDRESS = "127.0.0.154"
SENDER = "trainer@sender.test"


def missing() -> str | None:
    """None when the run can happen here, else why not (one line)."""
    from mxtui.conformance import isolation

    why = isolation.available()
    if why:
        return why
    if shutil.which("unbound") is None:
        return "unbound is not installed (apt-get install unbound)"
    if shutil.which("postfix") is None or not Path("/var/spool/postfix").is_dir():
        return "Postfix is not installed (apt-get install postfix)"
    return None


def local_zone(zone: str, addresses: dict[str, str]) -> str:
    """The scenario's zone with its documentation addresses replaced by loopback ones."""
    for documentation, loopback in addresses.items():
        zone = zone.replace(documentation, loopback)
    return zone


def _unbound_conf(folder: Path, anchors: list[str], zone: str) -> Path:
    lines = [
        "server:",
        f"  interface: {UNBOUND_ADDRESS}",
        "  port: 53",
        "  do-ip6: no",
        "  access-control: 127.0.0.0/8 allow",
        "  do-not-query-localhost: no",
        '  username: ""',
        '  chroot: ""',
        f'  directory: "{folder}"',
        f'  pidfile: "{folder}/unbound.pid"',
        f'  logfile: "{folder}/unbound.log"',
        "  use-syslog: no",
        "  verbosity: 1",
        "  val-log-level: 2",
        '  module-config: "validator iterator"',
        "  qname-minimisation: no",
        *(f'  trust-anchor: "{a}"' for a in anchors),
        "remote-control:",
        "  control-enable: no",
        "stub-zone:",
        f'  name: "{zone}"',
        f"  stub-addr: {AUTH_ADDRESS}@53",
    ]
    path = folder / "unbound.conf"
    path.write_text("\n".join(lines) + "\n")
    return path


async def _answers(address: str, name: str) -> bool:
    import dns.asyncquery
    import dns.message

    query = dns.message.make_query(name, "SOA", want_dnssec=True)
    try:
        reply = await dns.asyncquery.udp(query, address, timeout=1)
    except Exception:
        return False
    return reply.rcode() == 0


def run(scenario_name: str, zone_text: str, folder: str) -> dict[str, Any]:
    """In the case's namespace: the world, unbound, Postfix, then the walk. JSON-able."""
    from mxtui.conformance.isolation import bind

    base = Path(folder)
    base.mkdir(parents=True, exist_ok=True)
    resolv = base / "resolv.conf"
    resolv.write_text(f"nameserver {UNBOUND_ADDRESS}\noptions trust-ad timeout:2 attempts:2\n")
    bind(resolv, "/etc/resolv.conf")
    return asyncio.run(_run(scenario_name, zone_text, base))


async def _run(scenario_name: str, zone_text: str, base: Path) -> dict[str, Any]:
    from mxtui.conformance.mtas import postfix
    from mxtui.delivery import Walk
    from mxtui.dns import resolve_mx
    from mxtui.lab.certs import lab_ca
    from mxtui.lab.dns_server import LabDNSServer
    from mxtui.lab.hosts import LabSMTPHost
    from mxtui.lab.scenarios import load_scenario
    from mxtui.model import Envelope
    from mxtui.smtp.dialer import RealDialer
    from mxtui.tlspolicy import TlsSetup, lookup_tls_policy

    scenario = load_scenario(scenario_name)
    dns_server = LabDNSServer(zone_text, host=AUTH_ADDRESS, port=53, sign=True)
    await dns_server.start()
    hosts = []
    unbound = None
    try:
        for address, behaviour in _hosts(scenario, zone_text).items():
            host = LabSMTPHost(address, behaviour, host=address, port=25)
            await host.start()
            hosts.append(host)
        anchors = [z.anchor_text for z in dns_server.signed_zones]
        conf = _unbound_conf(base, anchors, scenario.domain)
        unbound = subprocess.Popen(["unbound", "-d", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 20
        while not await _answers(UNBOUND_ADDRESS, scenario.domain):
            if time.monotonic() > deadline or unbound.poll() is not None:
                log = (base / "unbound.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"unbound did not answer: {log}")
            await asyncio.sleep(0.2)

        # Postfix: the conformance harness's send-only instance, with DANE switched on.
        postfix.SETTINGS.update({
            "smtp_tls_security_level": "dane",
            "smtp_dns_support_level": "dnssec",
            "smtp_tls_loglevel": "1",
        })  # fmt: skip
        # The smtp client's TLS engine needs the tlsmgr service (PRNG, session cache).
        postfix.SERVICES += "tlsmgr    unix  -  -  n  1000? 1  tlsmgr\n"
        recipients = scenario.envelope.recipients
        case = SimpleNamespace(id=scenario.name, title=scenario.title,
                               addresses=lambda: recipients)  # fmt: skip
        mta = await postfix.deliver(case, SENDER, base / "postfix")  # type: ignore[arg-type]
        postfix_log = (base / "postfix" / "log" / "postfix.log").read_text(errors="replace")
        for host in hosts:
            host.forget()

        # The walk: the same resolver, the same hosts, the postfix profile as the scenario sets.
        servers = [(UNBOUND_ADDRESS, 53)]
        plan = await resolve_mx(scenario.domain, nameservers=servers, timeout=5)
        setup = TlsSetup(dns_server.trust_anchors, (lab_ca().cert_pem,), {}, "lab")
        policy = await lookup_tls_policy(plan, servers, setup=setup, timeout=5)
        walk = Walk(
            plan, Envelope(SENDER, recipients), dialer=RealDialer(25), profile="postfix",
            params=scenario.params_for("postfix"), seed=1, confirm_send=True,
            tls_policy=policy, trust_pem=lab_ca().cert_pem,
        )  # fmt: skip
        result = await walk.run()
        return {
            "postfix": {
                "version": postfix.Postfix().version(),
                "dials": [[d.host, d.address] for d in mta.dials],
                "recipients": {r: [s.state, s.dsn, s.text] for r, s in mta.recipients.items()},
                # smtp_tls_loglevel=1: one line per handshake, "Untrusted" when DANE failed.
                "untrusted": _tls_lines(postfix_log, "Untrusted TLS connection established to"),
                "verified": _tls_lines(postfix_log, "Verified TLS connection established to"),
            },
            "walk": {
                "outcome": str(result.outcome),
                "attempts": [
                    [a.target.host, a.target.address, str(a.stage), a.action, a.error]
                    for a in result.attempts
                ],
                "recipients": {r: str(s.state) for r, s in result.recipients.items()},
                "tlsa": {h: p.state for h, p in policy.hosts.items()} if policy else {},
                "validated": {h: p.validated for h, p in policy.hosts.items()} if policy else {},
            },
        }
    finally:
        if unbound is not None:
            unbound.terminate()
            unbound.wait(10)
        for host in hosts:
            await host.stop()
        await dns_server.stop()


def _tls_lines(log: str, words: str) -> list[str]:
    """The host named after `words` on each log line that has them ("mx1…[127.0.1.121]")."""
    return [line.split(words, 1)[1].split(":", 1)[0].strip() for line in log.splitlines()
            if words in line]  # fmt: skip


def _hosts(scenario: Any, zone_text: str) -> dict[str, Any]:
    """The scenario's host behaviours, keyed by the loopback address the local zone gives."""
    from dataclasses import replace

    out = {}
    for behaviour in scenario.hosts.values():
        name = behaviour.hostname.split(".")[0]
        for line in zone_text.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == name and parts[1] == "A":
                out[parts[2]] = replace(behaviour)
    return out
