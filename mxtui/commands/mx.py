"""`mxtui mx DOMAIN`: the MX plan as an indented tree or as JSON."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from mxtui.commands.networks import network_for
from mxtui.dns import resolve_mx
from mxtui.dns.describe import plan_text
from mxtui.dns.query import system_nameservers
from mxtui.model import MXPlan, PlanStatus
from mxtui.netargs import add_nameserver_argument, seconds_type
from mxtui.output import json_text
from mxtui.tlspolicy import TlsPolicy, lookup_tls_policy
from mxtui.tlspolicy.describe import policy_lines

DESCRIPTION = (
    "Resolve DOMAIN's MX records and the A/AAAA addresses of every MX host (RFC 5321 §5.1), "
    "showing implicit MX, null MX, CNAME targets, hosts without addresses and DNS failures."
)
EPILOG = """\
exit status:
  0  at least one MX (or implicit MX) address can be dialled
  1  the domain takes no mail here: NXDOMAIN, null MX, no mail records, or no MX host has an address
  2  bad input (for example an invalid domain or option)
  3  the answer is unknown for now: SERVFAIL, timeout or another lookup failure (a sender retries)

examples:
  mxtui mx example.com
  mxtui mx --nameserver 127.0.0.1:5300 --json example.com
  mxtui mx --lab null.example.com        (ask the built-in lab DNS; no network needed)
"""

DEFAULT_TIMEOUT_S = 5.0
TEMPORARY = {PlanStatus.SERVFAIL, PlanStatus.TIMEOUT, PlanStatus.ERROR}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("domain", help="the mail domain (an e-mail address is accepted too)")
    add_nameserver_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument(
        "--timeout",
        type=seconds_type,
        metavar="S",
        help=f"give up a lookup after S seconds (default {DEFAULT_TIMEOUT_S:g}, or the settings' "
        "timeouts.dns)",
    )
    parser.add_argument(
        "--lab", action="store_true", help="ask the built-in lab DNS server (the demo zone)"
    )
    parser.add_argument(
        "--no-tls-policy",
        dest="tls_policy",
        action="store_false",
        help="skip the MTA-STS, TLS-RPT and TLSA lookups (and their DNSSEC checks)",
    )


def exit_status(plan: MXPlan) -> int:
    if plan.usable:
        return 0
    if plan.status in TEMPORARY or any(p.code == "address-lookup-failed" for p in plan.problems):
        return 3
    return 1


async def _resolve(args: argparse.Namespace) -> tuple[MXPlan, TlsPolicy | None]:
    network = network_for(args, smtp=False)
    await network.start()
    try:
        timeout = network.dns_timeout(args.timeout)
        plan = await resolve_mx(args.domain, nameservers=network.nameservers, timeout=timeout)
        if not args.tls_policy or not plan.nameservers:
            return plan, None
        return plan, await lookup_tls_policy(
            plan,
            network.nameservers or system_nameservers(),
            setup=network.tls_setup,
            timeout=timeout,
        )
    finally:
        await network.stop()


def run(args: argparse.Namespace) -> int:
    """Bad input (a domain that cannot be one) raises a UsageError: `mxtui.cli` says it."""
    if args.timeout is None:
        args.timeout = args.settings.timeout("dns", DEFAULT_TIMEOUT_S)
    plan, policy = asyncio.run(_resolve(args))
    if args.json:
        print(json_text(plan_json(plan, policy), indent=2))
    else:
        print(plan_text(plan))
        if policy is not None:
            print("\n".join(policy_lines(policy, plan)))
    return exit_status(plan)


def plan_json(plan: MXPlan, policy: TlsPolicy | None) -> dict[str, Any]:
    """The plan's JSON with the TLS policy added (``mta_sts``, ``tls_rpt``, ``mx_dnssec`` at the
    top, ``tlsa`` and ``mta_sts`` on each host); without a policy, the same keys as null."""
    out = plan.to_json()
    if policy is None:
        out.update({"mta_sts": None, "tls_rpt": None, "mx_dnssec": None, "trust_anchors": None})
    else:
        out.update(policy.to_json())
    for group in out.get("groups", []):
        for host in group.get("hosts", []):
            extra = policy.host_json(host["name"]) if policy is not None else None
            host.update(extra or {"tlsa": None, "mta_sts": None})
    return out
