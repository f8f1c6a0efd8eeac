"""`mxtui walk DOMAIN --from A --to B`: deliver as a chosen MTA would, host after host, headless.

The same `Walk` the app animates, printed as text or as one JSON document whose keys are a
contract (outcome, order, attempts, recipients, retry, ndr). Exit statuses follow the outcome,
so a script can tell delivered from deferred from bounced without parsing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from dataclasses import replace
from typing import Any

from mxtui.commands.networks import network_for
from mxtui.delivery import SimClock, Walk
from mxtui.desk.envelope import EnvelopeChoice, default_envelope
from mxtui.dns import normalise_domain, resolve_mx
from mxtui.dns.query import system_nameservers
from mxtui.errors import UsageError
from mxtui.fields import check_envelope
from mxtui.model import Envelope, StepDone, WalkResult
from mxtui.netargs import add_nameserver_argument, port_type, seconds_type
from mxtui.output import json_text
from mxtui.policy import PROFILES, ProfileError, get_profile, resolve_params
from mxtui.record import Recorder, envelope_header
from mxtui.smtp.message import default_message
from mxtui.text import clock_offset
from mxtui.tlspolicy import lookup_tls_policy

DESCRIPTION = (
    "Walk DOMAIN's MX hosts the way a sending MTA would: the try list (equal preferences "
    "shuffled with --seed), one SMTP session per address, and after every reply the profile's "
    "decision (continue, next address, next MX, requeue, bounce). Ends delivered, partial, "
    "deferred (with the retry timeline) or bounced (with the NDR the sender would get)."
)
EPILOG = """\
exit status:
  0  delivered to every recipient
  1  bounced: nothing delivered, nothing left to retry
  2  bad input (an option, a domain or a profile parameter that cannot be used)
  3  deferred: nothing delivered yet, some recipients would be retried
  4  partial: some recipients delivered, others bounced or deferred
  5  held: stopped before the end-of-data dot to a host outside the lab (outcome "held":
     nothing was delivered, whatever RCPT said; add --send)

To a host outside the lab the end-of-data dot is sent only with --send; without it the walk
stops after RCPT, and a recipient accepted there is held (outcome "held", exit 5): nothing was
delivered. In the lab, --quit-after rcpt counts a recipient accepted at RCPT as delivered.

examples:
  mxtui walk example.com --lab --from a@example.org --to alice@example.com --profile qmail
  mxtui walk --scenario backup-mx                 # its envelope and profile; the second hop too
  mxtui walk example.com --lab --from a@example.org --to alice@example.com --to bob@x --json
  mxtui walk example.net --from me@example.org --to you@example.net --quit-after rcpt
  mxtui walk example.com --lab --from a@example.org --to alice@example.com --record demo.jsonl
  mxtui replay demo.jsonl --print --speed 0
"""

DEFAULT_TIMEOUT_S = 10.0

EXIT_DELIVERED, EXIT_BOUNCED, EXIT_DEFERRED, EXIT_PARTIAL, EXIT_HELD = 0, 1, 3, 4, 5
"""By the walk's outcome; 2 is bad input (`mxtui.errors.EXIT_USAGE`), as for every command."""
EXIT_BY_OUTCOME = {
    "delivered": EXIT_DELIVERED,
    "bounced": EXIT_BOUNCED,
    "deferred": EXIT_DEFERRED,
    "partial": EXIT_PARTIAL,
    "held": EXIT_HELD,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "domain", nargs="?",
        help="the mail domain to deliver to (with --scenario, the scenario's domain by default)",
    )  # fmt: skip
    parser.add_argument(
        "-f", "--from", dest="mail_from", metavar="ADDRESS",
        help="envelope sender (MAIL FROM), default the scenario's or the settings'; empty for "
        "the null sender <>",
    )  # fmt: skip
    parser.add_argument(
        "-t", "--to", action="append", default=[], metavar="ADDRESS",
        help="recipient (repeatable, or comma-separated); default the scenario's or the settings'",
    )  # fmt: skip
    parser.add_argument(
        "--profile", metavar="NAME",
        help=f"the sending MTA to imitate: {', '.join(PROFILES)} (default: the scenario's, else "
        "the settings', else postfix)",
    )  # fmt: skip
    parser.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE",
        help="a profile parameter, as the MTA writes it (e.g. smtp_skip_5xx_greeting=no)",
    )  # fmt: skip
    add_nameserver_argument(parser)
    parser.add_argument(
        "--port", type=port_type, metavar="N",
        help="SMTP port on real hosts (default 25, or the settings'; the lab ignores it)",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=int, metavar="N",
        help="seed for the shuffle of equal preferences (default: a new one, shown)",
    )  # fmt: skip
    parser.add_argument(
        "--quit-after", choices=("rcpt", "dot"), metavar="rcpt|dot",
        help="rcpt: stop after RCPT; in the lab (or with --send) accepted recipients count as "
        "delivered, outside it they are held",
    )  # fmt: skip
    parser.add_argument(
        "--send", action="store_true",
        help="send the end-of-data dot to hosts outside the lab (they take the message)",
    )  # fmt: skip
    parser.add_argument(
        "--timeout", type=seconds_type, metavar="S",
        help="seconds to wait for a DNS answer, a connection or a reply (default 10, or the "
        "settings' timeouts)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--record", metavar="FILE",
        help="also save every event (DNS, steps, decisions) as JSON Lines for `mxtui replay`",
    )  # fmt: skip
    parser.add_argument(
        "--lab", action="store_true",
        help="walk the built-in lab (demo zone and hosts on loopback; no network)",
    )  # fmt: skip
    parser.add_argument(
        "--no-tls-policy", dest="tls_policy", action="store_false",
        help="do not look up MTA-STS and TLSA records: every host gets opportunistic STARTTLS "
        "whatever the profile's TLS settings",
    )  # fmt: skip
    parser.add_argument(
        "--scenario", metavar="NAME",
        help="walk a lab scenario (mxtui lab --list): its zone, hosts, envelope and profile; "
        "--from, --to and --profile override them; a backup MX's second hop is included",
    )  # fmt: skip


def _recipients(values: list[str]) -> tuple[str, ...]:
    found = (r.strip() for value in values for r in value.split(",") if r.strip())
    return tuple(dict.fromkeys(found))


def _params(args: argparse.Namespace) -> dict[str, str]:
    """--param NAME=VALUE over the scenario's own settings for this profile ([params.NAME])."""
    scenario = getattr(args, "scenario_obj", None)
    params: dict[str, str] = {}
    if scenario is not None:
        params = {k: str(v) for k, v in scenario.params_for(args.profile.lower()).items()}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--param {item!r}: expected NAME=VALUE")
        params[name.strip()] = value.strip()
    try:
        resolve_params(args.profile, params)
    except ProfileError as exc:
        raise UsageError(str(exc)) from None
    return params


def _scenario(args: argparse.Namespace) -> Any:
    """The scenario named by --scenario (its envelope and profile fill what is not given)."""
    if not args.scenario:
        return None
    from mxtui.lab.scenarios import load_scenario

    if args.lab or args.nameserver:
        raise UsageError("--scenario runs the scenario's own lab; leave out --lab and --nameserver")
    scenario = load_scenario(args.scenario)
    args.domain = args.domain or scenario.domain
    args.profile = args.profile or scenario.profile
    if not args.to:
        args.to = list(scenario.envelope.recipients)
    if args.mail_from is None:
        args.mail_from = scenario.envelope.mail_from
    return scenario


def _check(args: argparse.Namespace) -> tuple[tuple[str, ...], dict[str, str]]:
    args.scenario_obj = _scenario(args)
    if not args.domain:
        raise UsageError("give the DOMAIN to deliver to (or --scenario NAME)")
    # What the command line (or the scenario) leaves open, the settings file fills.
    settings = args.settings
    args.profile = args.profile or settings.profile
    flags = (
        "--from" if args.mail_from is not None else "envelope.from",
        "--to" if args.to else "envelope.to",
        "envelope.ehlo",
        "--header",
    )
    if args.mail_from is None:
        args.mail_from = settings.mail_from
    args.to = args.to or list(settings.recipients)
    args.port = settings.port if args.port is None else args.port
    if args.profile.lower() not in PROFILES:
        raise UsageError(f"unknown profile {args.profile!r}; choose one of: {', '.join(PROFILES)}")
    args.profile = args.profile.lower()
    recipients = _recipients(args.to)
    if not recipients:
        raise UsageError("give at least one --to")
    check_envelope(args.mail_from or "", recipients, ehlo=settings.ehlo or None, flags=flags)
    if args.lab and args.nameserver:
        raise UsageError("--lab uses the lab's own DNS server; leave out --nameserver")
    return recipients, _params(args)


def step_json(event: StepDone, envelope: Envelope) -> dict[str, Any]:
    """One step of the walk for `--json`: where (hop, host, address), the step as `mxtui smtp
    --json` shows it (with the recipient it concerns) and what the profile did."""
    target = event.target
    where = {"hop": event.hop, "host": target.host if target else None,
             "address": target.address if target else None}  # fmt: skip
    if event.step is not None:
        step = event.step.to_json()
    else:  # a DNS-stage decision: no session, it concerns every recipient
        step = {"stage": str(event.stage), "command": str(event.stage), "reply": None,
                "recipient": (envelope.recipients or ("",))[0],
                "recipients": list(envelope.recipients), "sender": envelope.mail_from}  # fmt: skip
    action = str(event.decision.action) if event.decision is not None else None
    return {**where, **step, "action": action}


async def _walk(
    args: argparse.Namespace,
    envelope: Envelope,
    params: dict[str, str],
    recorder: Recorder | None = None,
    steps: list[StepDone] | None = None,
) -> Any:
    quit_after = args.quit_after
    timeouts, dns_timeout = args.settings.waits(args.timeout, DEFAULT_TIMEOUT_S)
    # With --record every event (resolve, walk, session) goes to the file as it happens; the
    # steps are kept for --json.
    write = recorder.write if recorder is not None else None

    def record(event: Any) -> None:
        if write is not None:
            write(event)
        if steps is not None and isinstance(event, StepDone):
            steps.append(event)

    network = network_for(args, args.scenario_obj)
    if not args.send and quit_after is None and not network.simulated:
        quit_after = "rcpt"
        print(
            "mxtui walk: without --send the walk stops after RCPT on hosts outside the lab; "
            "a recipient accepted there is held, not delivered",
            file=sys.stderr,
        )
    await network.start()
    try:
        clock = SimClock()
        network.attach(clock)
        timeout = network.dns_timeout(dns_timeout)
        plan = await resolve_mx(
            args.domain, nameservers=network.nameservers, timeout=timeout, on_event=record
        )
        policy = None
        if _wants_policy(args, params) and plan.nameservers:
            nameservers = network.nameservers or system_nameservers()
            policy = await lookup_tls_policy(
                plan, nameservers, setup=network.tls_setup, timeout=timeout
            )
        walk = Walk(
            plan, envelope, dialer=network.dialer, profile=args.profile, params=params,
            seed=args.seed, clock=clock, confirm_send=args.send, quit_after=quit_after,
            timeouts=timeouts, on_event=record, on_session_event=record, relays=network.relays,
            tls_policy=policy, trust_pem=network.trust_pem,
        )  # fmt: skip
        return await walk.run()
    finally:
        await network.stop()


def _wants_policy(args: argparse.Namespace, params: dict[str, str]) -> bool:
    """Look the TLS policy up only when the profile's settings read it (and not turned off)."""
    if not args.tls_policy:
        return False
    try:
        profile = get_profile(args.profile)
        return profile.tls.wants_policy(profile.parse(params))
    except ValueError:
        return False  # the walk itself reports the bad profile or parameter


def to_text(result: WalkResult, domain: str) -> str:
    """The walk for a person: the try list, each address's end, each recipient, the outcome."""
    lines = [f"walk {domain} as {result.profile} (seed {result.seed})"]
    if result.order:
        lines.append("try list:")
        lines += [
            f"  {i}. {t.host} {t.address} (preference {t.preference})"
            for i, t in enumerate(result.order, 1)
        ]
    else:
        lines.append("try list: empty (nothing to dial)")
    if result.attempts:
        lines.append("attempts:")
        for a in result.attempts:
            said = a.to_json()["reply"] or a.error or "no reply"
            if a.reply is not None and a.error:
                said += f" ({a.error})"  # a reply that was fine, but the TLS policy was not
            lines.append(f"  {a.target.host} {a.target.address}: {a.stage} {said} -> {a.action}")
    lines.append("recipients:")
    for recipient, state in result.recipients.items():
        why = state.reply_text()
        lines.append(f"  {recipient}: {state.state}" + (f" ({why})" if why else ""))
    for hop in result.hops:
        r = hop.result
        lines.append(
            f"hop {hop.hop}: {hop.relay.host} {hop.relay.address} forwards as {r.profile} "
            f"(attempt {r.attempt + 1} at {clock_offset(int(r.clock_s))}): {r.outcome}"
        )
        for a in r.attempts:
            said = a.to_json()["reply"] or a.error or "no reply"
            lines.append(f"  {a.target.host} {a.target.address}: {a.stage} {said} -> {a.action}")
        if r.next_retry_s is not None:
            lines.append(f"  retry: next attempt at {clock_offset(r.next_retry_s)}")
    lines.append(f"outcome: {result.outcome}")
    if result.retry is not None and result.next_retry_s is not None:
        window = result.next_retry_window_s
        real = (
            f" (a real one: between {clock_offset(window[0])} and {clock_offset(window[1])})"
            if window and window[0] != window[1]
            else ""
        )
        lines.append(
            f"retry: next attempt at {clock_offset(result.next_retry_s)}{real}, give up at "
            f"{clock_offset(result.retry.give_up_s)} ({result.retry.formula})"
        )
    if result.ndr:
        lines += ["", "NDR the sender would get:", result.ndr.rstrip("\n")]
    return "\n".join(lines)


def _recorder(args: argparse.Namespace, envelope: Envelope) -> Recorder:
    return Recorder(
        args.record,
        kind="walk",
        domain=args.domain,
        profile=args.profile,
        seed=args.seed,
        scenario=args.scenario or None,
        lab=bool(args.lab or args.scenario),
        envelope=envelope_header(envelope, len(envelope.message)),
    )


def run(args: argparse.Namespace) -> int:
    """Bad input, found before the walk or during it (a domain, a recording that cannot be
    written), raises a UsageError: `mxtui.cli` says it in one line, exit 2."""
    recipients, params = _check(args)
    # The one default envelope (mxtui.desk.envelope): the lab's in the lab, login@this-host
    # and EHLO this-host towards real hosts (the settings' parts replace it); the test message
    # is made now, so a recording names its real size and the NDR returns its real headers.
    lab = bool(args.lab or args.scenario_obj is not None)
    chosen = EnvelopeChoice(args.mail_from, recipients, args.settings.ehlo or None)
    envelope = default_envelope(args.domain, lab=lab, chosen=chosen)
    envelope = replace(envelope, message=default_message(envelope))
    if args.mail_from is None and not lab:
        print(
            f"mxtui walk: no --from given: the sender is {envelope.mail_from} "
            "(--from '' sends the null sender <>)",
            file=sys.stderr,
        )
    recorder = None
    steps: list[StepDone] = []
    if args.record:
        normalise_domain(args.domain)  # a bad domain must not leave an empty recording
        # The seed goes in the header, so it is chosen here (as Walk would) when not given.
        if args.seed is None:
            args.seed = random.SystemRandom().randrange(2**31)
        recorder = _recorder(args, envelope)
    try:  # a RecordingError here: the disk filled up, or the file went away
        result = asyncio.run(_walk(args, envelope, params, recorder, steps))
    finally:
        if recorder is not None:
            recorder.close()
    if args.json:
        data = {**result.to_json(), "steps": [step_json(e, envelope) for e in steps]}
        print(json_text(data, indent=2))
    else:
        print(to_text(result, args.domain))
    if result.held:
        print(
            "mxtui walk: held before the end-of-data dot; add --send to let the server take "
            "the message",
            file=sys.stderr,
        )
        return EXIT_HELD
    return EXIT_BY_OUTCOME[result.outcome]
