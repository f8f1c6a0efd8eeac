"""`mxtui probe DOMAIN`: every address of every MX host, probed at once, as a table or JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from mxtui.commands.networks import network_for
from mxtui.dns import resolve_mx
from mxtui.errors import EXIT_INTERRUPTED
from mxtui.model import MXPlan
from mxtui.netargs import add_nameserver_argument, count_type, port_type, seconds_type
from mxtui.output import json_text
from mxtui.probe import (
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT_S,
    PROBE_EHLO_NAME,
    ProbeReport,
    ProbeResult,
    probe,
)
from mxtui.smtp.dialer import Dialer
from mxtui.text import elapsed_text

if TYPE_CHECKING:
    from mxtui.tlspolicy import TlsPolicy

DESCRIPTION = (
    "Resolve DOMAIN's MX hosts and probe every address at once: connect, greeting, EHLO, "
    "STARTTLS when offered (certificate subject, issuer, expiry, whether it verifies for the MX "
    "name), then QUIT. No MAIL command is ever sent. An address is reachable when it greets "
    "with 2xx."
)
EPILOG = """\
exit status:
  0  every address is reachable (greets with 2xx)
  1  some addresses are unreachable
  2  bad input (for example an invalid domain or option)
  3  no address is reachable, or the domain has no address to probe (DNS failure, NXDOMAIN,
     null MX, no mail records)
  130  interrupted (Ctrl-C): the addresses probed so far are printed first

examples:
  mxtui probe example.com
  mxtui probe --timeout 3 --concurrency 40 --json example.com
  mxtui probe --lab example.com          (the built-in lab's DNS and mail hosts; no network)
"""

EXIT_OK, EXIT_SOME, EXIT_NONE = 0, 1, 3
"""By what the probe found; 2 is bad input and 130 Ctrl-C, as for every command (mxtui.errors)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("domain", help="the mail domain (an e-mail address is accepted too)")
    add_nameserver_argument(parser)
    parser.add_argument(
        "--port",
        type=port_type,
        metavar="N",
        help="SMTP port to probe on every address (default 25, or the settings'; the lab "
        "ignores it)",
    )
    parser.add_argument(
        "--timeout",
        type=seconds_type,
        metavar="S",
        help="seconds for the DNS lookup, the connect and each reply "
        f"(default {DEFAULT_TIMEOUT_S:g}, or the settings' timeouts)",
    )
    parser.add_argument(
        "--concurrency",
        type=count_type,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"addresses probed at the same time (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--no-tls-policy",
        dest="tls_policy",
        action="store_false",
        help="do not look up MTA-STS and TLSA records, and leave out the POLICY column",
    )
    parser.add_argument(
        "--lab",
        action="store_true",
        help="resolve and dial inside the built-in lab (the demo zone and its mail hosts)",
    )


class _SoFar:
    """What a probe has found so far: printed as it stands when Ctrl-C ends the run."""

    def __init__(self) -> None:
        self.plan: MXPlan | None = None
        self.results: list[ProbeResult] = []
        self.start = time.perf_counter()

    def report(self) -> ProbeReport | None:
        if self.plan is None:
            return None
        elapsed = (time.perf_counter() - self.start) * 1000.0
        return ProbeReport(self.plan, tuple(self.results), elapsed)


async def _probe(
    plan: MXPlan,
    dialer: Dialer,
    port: int | None,
    args: argparse.Namespace,
    so_far: _SoFar,
    policy: Awaitable[TlsPolicy | None],
    trust_pem: bytes | None = None,
) -> ProbeReport:
    """Probe every address while the TLS policy is looked up beside it (a slow policy lookup
    must not hold the probe back, nor Ctrl-C's results), then check each row against it."""
    so_far.plan = plan
    smtp_timeouts, _ = args.settings.waits(args.timeout, DEFAULT_TIMEOUT_S)
    report, found = await asyncio.gather(
        probe(
            plan,
            dialer,
            timeout=smtp_timeouts,
            concurrency=args.concurrency,
            port=port,
            ehlo_name=args.settings.ehlo or PROBE_EHLO_NAME,
            on_result=so_far.results.append,
            trust_pem=trust_pem,
        ),
        policy,
    )
    return report.with_policy(found) if found is not None else report


async def _no_policy() -> None:
    return None


async def _run(args: argparse.Namespace, so_far: _SoFar) -> tuple[MXPlan, ProbeReport | None]:
    from mxtui.dns.query import system_nameservers
    from mxtui.tlspolicy import lookup_tls_policy

    _, dns_timeout = args.settings.waits(args.timeout, DEFAULT_TIMEOUT_S)
    # Lab hosts stand behind the demo addresses' port 25 only: the lab's dialer ignores --port.
    network = network_for(args)
    await network.start()
    try:
        timeout = network.dns_timeout(dns_timeout)
        plan = await resolve_mx(args.domain, nameservers=network.nameservers, timeout=timeout)
        if not plan.usable:
            return plan, None
        nameservers = network.nameservers or system_nameservers()
        policy = (
            lookup_tls_policy(plan, nameservers, setup=network.tls_setup, timeout=timeout)
            if args.tls_policy
            else _no_policy()
        )
        return plan, await _probe(
            plan, network.dialer, None, args, so_far, policy, network.trust_pem
        )
    finally:
        await network.stop()


def exit_status(report: ProbeReport | None) -> int:
    if report is None or report.reachable == 0:
        return EXIT_NONE
    return EXIT_OK if report.reachable == len(report.results) else EXIT_SOME


def _code_cell(result: ProbeResult) -> str:
    """The greeting's code with its enhanced code ("421 4.3.2"), or "-" with no greeting."""
    if result.greeting is None:
        return "-"
    return " ".join(filter(None, (str(result.greeting.code), result.greeting.enhanced)))


def _policy_cell(result: ProbeResult) -> str:
    return result.policy.summary if result.policy is not None else "-"


def _tls_cell(result: ProbeResult) -> str:
    if result.tls is not None:
        verdict = "verifies" if result.tls.verified else "does not verify"
        return f"{result.tls.version}, {verdict}"
    if result.reachable and "STARTTLS" not in result.extensions:
        return "not offered"
    return "-"


def report_text(report: ProbeReport) -> str:
    """A table, one row per address, with the details (extensions, certificate, error) under it."""
    with_policy = report.tls_policy is not None
    header: tuple[str, ...] = ("PREF", "HOST", "ADDRESS", "REACHABLE", "GREETING", "MS", "TLS")
    if with_policy:
        header += ("POLICY",)
    rows = [
        (
            str(r.target.preference),
            r.host,
            r.address,
            "yes" if r.reachable else "no",
            _code_cell(r),
            f"{r.ms:.0f}",
            _tls_cell(r),
            *((_policy_cell(r),) if with_policy else ()),
        )
        for r in report.results
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = [f"probe of {report.plan.display_domain or report.plan.domain}"]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    for result, row in zip(report.results, rows, strict=True):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if result.greeting is not None:  # as received: code, enhanced code, every line
            said = " / ".join(result.greeting.lines) or result.greeting.first_line()
            lines.append(f"    greeting: {said}")
        if result.extensions:
            lines.append(f"    extensions: {', '.join(result.extensions)}")
        if result.tls is not None:
            tls = result.tls
            lines.append(f"    certificate: {tls.subject}; issuer {tls.issuer}")
            lines.append(f"    expires: {tls.not_after}")
            if not tls.verified:
                lines.append(f"    not verified for {tls.hostname}: {tls.verify_error}")
        if result.policy is not None:
            from mxtui.tlspolicy.describe import policy_detail

            lines.extend(f"    {line}" for line in policy_detail(result.policy))
        if result.error:
            lines.append(f"    error: {result.error}")
    if report.without_address:
        lines.append(f"MX hosts with no address to probe: {', '.join(report.without_address)}")
    total = len(report.results)
    lines.append(
        f"{report.reachable} of {total} addresses reachable, "
        f"probed in {elapsed_text(report.elapsed_ms)}"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """The arguments were checked by their argparse types (and the settings by their loader);
    a domain that cannot be one raises a DomainError, which `mxtui.cli` says in one line."""
    if args.port is None:
        args.port = args.settings.port
    so_far = _SoFar()
    try:
        plan, report = asyncio.run(_run(args, so_far))
    except KeyboardInterrupt:
        return _interrupted(args, so_far)
    if report is None:
        shown = plan.display_domain or plan.domain
        why = f"mxtui probe: no address to probe for {shown} (DNS status: {plan.status})"
        if plan.problems:  # what the lookup met, in its first sentence ("No DNS answer came …")
            first = plan.problems[0].message
            why += ": " + first[: first.find(". ") + 1 or None]
        if args.json:
            print(
                json.dumps(
                    {"domain": plan.domain, "status": str(plan.status), "hosts": [],
                     "elapsed_ms": round(plan.elapsed_ms, 1)},
                    indent=2,
                )
            )  # fmt: skip
        print(why, file=sys.stderr)
        return EXIT_NONE
    if args.json:
        print(json_text(report.to_json(), indent=2))
    else:
        print(report_text(report))
    return exit_status(report)


def _interrupted(args: argparse.Namespace, so_far: _SoFar) -> int:
    """Ctrl-C: the results that came in, then one line saying how far the probe got."""
    report = so_far.report()
    if report is not None and report.results:
        if args.json:
            print(json_text({**report.to_json(), "interrupted": True}, indent=2))
        else:
            print(report_text(report))
    total = len(report.plan.targets) if report is not None else 0
    done = len(report.results) if report is not None else 0
    print(f"mxtui probe: interrupted (Ctrl-C) after {done} of {total} addresses", file=sys.stderr)
    return EXIT_INTERRUPTED
