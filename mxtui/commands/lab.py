"""`mxtui lab`: list the training scenarios, open the app on one, or serve one's hosts.

`--serve` exists so that tools outside mxtui (dig, swaks, a real MTA in a container) can be pointed
at a scenario: its first output line is JSON naming the loopback ports, which a script reads before
it starts talking to them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path

from mxtui.endpoint import Endpoint
from mxtui.errors import UsageError
from mxtui.lab.runtime import Lab
from mxtui.lab.scenarios import Scenario, list_scenarios, load_scenario, load_scenario_file
from mxtui.text import printable

DESCRIPTION = (
    "Training scenarios for the lab: a zone served by a DNS server on loopback and a scripted "
    "mail host behind every address. `mxtui lab NAME` opens the app on a scenario; with --serve "
    "only the DNS server and the hosts run, for dig, swaks or a real MTA."
)
EPILOG = """\
exit status:
  0  done (--serve: stopped by Ctrl-C or SIGTERM)
  1  the lab could not start (for example no free loopback port)
  2  bad input: unknown scenario, a bad scenario file, or no NAME

examples:
  mxtui lab --list
  mxtui lab greylist-primary --describe
  mxtui lab greylist-primary --serve      (first line: {"domain", "dns", "hosts",
                                           "trust_anchors", "https"} as JSON)
  mxtui lab ./my-scenario.toml            (a scenario file of your own, same format)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name", nargs="?", help="scenario name (see --list), or the path of a .toml scenario file"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--list", action="store_true", help="list the scenarios, one a line")
    mode.add_argument(
        "--serve",
        action="store_true",
        help="run only the scenario's DNS server and mail hosts, in the foreground",
    )
    mode.add_argument(
        "--describe",
        action="store_true",
        help="print the scenario: domain, envelope, hosts, expected outcomes, narrative",
    )


def _load(name: str) -> Scenario:
    if name.endswith(".toml") or "/" in name:
        return load_scenario_file(Path(name))
    return load_scenario(name)


def _endpoint(address: tuple[str, int]) -> str:
    return str(Endpoint(address[0], address[1]))


def describe(scenario: Scenario) -> str:
    """The scenario as a trainer reads it before class."""
    lines = [
        f"{scenario.name}: {scenario.title}",
        f"domain:    {scenario.domain} (MX lookup: {scenario.plan_status})",
        f"envelope:  from <{scenario.envelope.mail_from}> to "
        + ", ".join(f"<{r}>" for r in scenario.envelope.recipients),
        f"profile:   {scenario.profile}",
        "expected:  " + ", ".join(f"{p} {o}" for p, o in scenario.expect.items()),
    ]
    for profile, params in scenario.params.items():
        settings = ", ".join(
            f"{k}={('yes' if v else 'no') if isinstance(v, bool) else v}" for k, v in params.items()
        )
        lines.append(f"settings:  {profile}: {settings}")
    lines.append("hosts:")
    for address, b in scenario.hosts.items():
        cert = "" if b.certificate == "self-signed" else f"  ({b.certificate} certificate)"
        lines.append(f"  {address:<18} {b.kind:<12} {b.hostname}{cert}")
    for address, spec in scenario.policies.items():
        lines.append(f"  {address:<18} {'mta-sts':<12} {spec.host} (HTTPS policy host)")
    # Everything here came from a file: each line follows the printable rule (the loader has
    # already applied it to the text fields; this also covers every other value).
    shown = [printable(line) for line in lines]
    shown += ["", *(printable(p) for p in scenario.narrative.split("\n"))]
    return "\n".join(shown)


async def serve(lab: Lab, stop: asyncio.Event | None = None) -> None:
    """Start the lab, print where it listens (one JSON line, flushed), run until stopped."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    await lab.start()
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        ready = {
            "domain": lab.domain,
            "dns": _endpoint(lab.dns.address),
            "hosts": {name: _endpoint(h.address) for name, h in lab.smtp.hosts.items()},
            # For a validating resolver (unbound's trust-anchor:) and an HTTPS client.
            "trust_anchors": [z.anchor_text for z in lab.dns.signed_zones],
            "https": {
                address: _endpoint((lab.policy_host.host, lab.policy_host.port_for(spec.domain)))
                for address, spec in lab.policies.items()
            },
        }
        print(json.dumps(ready), flush=True)
        print("mxtui lab: serving; Ctrl-C or SIGTERM stops", file=sys.stderr, flush=True)
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(sig)
        await lab.stop()


def run(args: argparse.Namespace) -> int:
    """A scenario that does not load (a ScenarioError) or arguments that do not go together
    raise a UsageError: `mxtui.cli` says it in one line, exit 2."""
    if args.list:
        if args.name:
            raise UsageError("--list takes no NAME")
        scenarios = list_scenarios()
        width = max(len(s.name) for s in scenarios)
        for s in scenarios:
            print(printable(f"{s.name:<{width}}  {s.title}"))
        return 0
    if not args.name:
        raise UsageError("give a scenario NAME, or --list to see them")
    scenario = _load(args.name)
    if args.describe:
        print(describe(scenario))
        return 0
    if args.serve:
        try:
            asyncio.run(serve(scenario.lab()))
        except OSError as exc:
            print(f"mxtui lab: cannot start the lab: {exc.strerror or exc}", file=sys.stderr)
            return 1
        return 0
    from mxtui.ui.launch import open_app  # textual is imported here, and only here

    # The scenario's envelope and profile are part of the lesson; the settings give the rest.
    settings = args.settings
    return open_app(
        settings,
        args.settings_file,
        lab=scenario.lab(),
        envelope=scenario.envelope,
        profile=scenario.profile,
        scenario=scenario,
        timeouts=settings.timeouts,
        dns_timeout=settings.dns_timeout,
    )
