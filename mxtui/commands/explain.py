"""`mxtui explain`: what a sending MTA does with one reply or outcome, and why.

The headless face of the decision engine: the same Decision the side panel shows, as text or
as JSON, so a trainer can script it and the tests can check the contract.
"""

from __future__ import annotations

import argparse
from typing import Any

from mxtui.errors import EXIT_OK, UsageError
from mxtui.model import (
    DECISION_STAGES,
    Decision,
    DecisionContext,
    Evidence,
    Outcome,
    Reply,
    RetryTimeline,
)
from mxtui.netargs import count_type, whole_number
from mxtui.output import json_text
from mxtui.policy import (
    PROFILES,
    NoNoticeError,
    ProfileError,
    code_meaning,
    compare,
    decide,
    ndr_preview,
    ndr_text,
    retry_timeline,
)
from mxtui.smtp.replies import parse_reply_text
from mxtui.text import printable, span

DESCRIPTION = (
    "Explain what a sending MTA does next after a reply (or a connection/DNS outcome) at one "
    "stage of a delivery: continue, try the next address or MX, requeue, bounce (NDR) or retry "
    "with HELO; why; the meaning of the reply code and enhanced status code; the reference; the "
    "retry timeline; and what every other MTA profile would do."
)
EPILOG = f"""\
stages:   {" ".join(DECISION_STAGES)}
outcomes: {" ".join(Outcome)}
profiles (and the version each models):
{chr(10).join(f"  {name:<12} {p.models}" for name, p in PROFILES.items())}

exit status:
  0  explained
  2  bad input: unknown stage, outcome, profile or parameter, or a reply without a 3-digit code

examples:
  mxtui explain --stage greeting --reply "421 4.3.2 busy" --profile qmail
  mxtui explain --stage rcpt --reply "550 5.1.1 no such user" --json
  mxtui explain --stage greeting --reply "554 go away" --last-mx --set smtp_skip_5xx_greeting=no
  mxtui explain --stage dns --outcome null-mx --ndr
  mxtui explain --stage ehlo --reply "250-mx.example.com\\n250 PIPELINING"
"""


class InputError(UsageError):
    """Bad input for the command; the message is the one line printed."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage", required=True, metavar="STAGE", help="where the reply came")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--reply",
        metavar='"CODE TEXT"',
        help='the server\'s reply; several lines separated by newlines or a literal "\\n"',
    )
    what.add_argument("--outcome", metavar="OUTCOME", help="what happened instead of a reply")
    parser.add_argument(
        "--profile", metavar="NAME", help="MTA profile (default the settings', else postfix)"
    )
    parser.add_argument(
        "--last-mx",
        action="store_true",
        help="this was the last address the sender may try (moving on becomes requeue or NDR)",
    )
    parser.add_argument(
        "--addresses-tried", type=count_type, default=1, metavar="N",
        help="addresses dialled so far in this attempt, this one included (Postfix/Exim limits)",
    )  # fmt: skip
    parser.add_argument(
        "--sessions-used", type=whole_number(0), default=0, metavar="N",
        help="sessions that got through EHLO/TLS so far (Postfix smtp_mx_session_limit)",
    )  # fmt: skip
    parser.add_argument(
        "--tls-required", action="store_true", help="the sender requires TLS for this domain"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PARAM=VALUE",
        help="set a parameter of --profile, e.g. soft_bounce=yes (repeatable; the other "
        "profiles keep their defaults)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--ndr",
        action="store_true",
        help="also print the bounce or delay notice the profile would send",
    )


def _parse_sets(items: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--set {item!r}: expected PARAM=VALUE, e.g. soft_bounce=yes")
        params[name.strip()] = value.strip()
    return params


def _read_outcome(args: argparse.Namespace) -> Reply | Outcome:
    if args.reply is not None:
        text = args.reply.replace("\\r\\n", "\n").replace("\\n", "\n")
        try:
            return parse_reply_text(text)
        except ValueError as exc:
            raise InputError(f"--reply: {exc}") from None
    try:
        return Outcome(args.outcome.strip().lower())
    except ValueError:
        raise InputError(
            f"unknown outcome {args.outcome!r}; choose one of: {', '.join(Outcome)}"
        ) from None


def _read_stage(text: str):
    name = text.strip().lower()
    for stage in DECISION_STAGES:
        if stage.value == name:
            return stage
    raise InputError(f"unknown stage {text!r}; choose one of: {', '.join(DECISION_STAGES)}")


def explain(args: argparse.Namespace) -> tuple[Decision, RetryTimeline, dict[str, Decision]]:
    stage = _read_stage(args.stage)
    outcome = _read_outcome(args)
    if args.profile is None:
        args.profile = args.settings.profile
    profile = args.profile.strip().lower()
    if profile not in PROFILES:
        raise InputError(f"unknown profile {args.profile!r}; choose one of: {', '.join(PROFILES)}")
    params = _parse_sets(args.set)
    context = DecisionContext(
        last_address=args.last_mx,
        addresses_tried=args.addresses_tried,
        sessions_used=args.sessions_used,
        tls_required=args.tls_required,
    )
    try:
        decision = decide(stage, outcome, profile, context, params)
        timeline = retry_timeline(profile, params)
    except ProfileError as exc:
        raise InputError(str(exc)) from None
    others = {k: v for k, v in compare(stage, outcome, context).items() if k != profile}
    return decision, timeline, others


def to_json(decision: Decision, timeline: RetryTimeline, others: dict[str, Decision]) -> dict:
    """The JSON contract of issue 4 (these keys stay; more may be added)."""
    data: dict[str, Any] = {
        "action": str(decision.action),
        "scope": str(decision.scope),
        "code": decision.code.to_json() if decision.code else _outcome_code(decision),
        "enhanced": decision.enhanced.to_json() if decision.enhanced else None,
        "why": decision.why,
        "reference": decision.reference,
        "retry": timeline.to_json(),
        "others": {name: str(d.action) for name, d in others.items()},
    }
    extra = decision.to_json()
    # "evidence" is the object of issue 10 ({"kind", "source", "tested_with", "cases"}); the
    # bare mark it used to be stays available as "evidence_mark".
    for key in ("stage", "profile", "outcome", "headline", "rule", "evidence", "evidence_mark",
                "status", "applicable", "final", "delivered"):  # fmt: skip
        data[key] = extra[key]
    prof = PROFILES[decision.profile]
    data["profile_detail"] = {
        "display": prof.display,
        "models": prof.models,
        "sources": prof.sources,
        "ordering": {"rule": prof.ordering.rule, "evidence": prof.rule_proof("ordering").to_json()},
        "moving": {"rule": prof.moving.rule, "evidence": prof.rule_proof("moving").to_json()},
        "dsn": {"status": decision.status, "evidence": prof.rule_proof("dsn").to_json()},
    }
    data["others_detail"] = {
        name: {"action": str(d.action), "scope": str(d.scope),
               "evidence": d.evidence_detail.to_json(), "evidence_mark": str(d.evidence)}
        for name, d in others.items()
    }  # fmt: skip
    return data


_TREATED_AS_451 = {"dropped", "timeout"}


def _outcome_code(decision: Decision) -> dict[str, Any]:
    """The `code` object for an outcome that is not a reply.

    A lost or silent connection after connecting is handled as if 451 had been received
    (RFC 5321 §3.8); connection and DNS failures carry no code at all.
    """
    treated = decision.outcome in _TREATED_AS_451 and decision.stage.value not in (
        "connect",
        "dns",
    )
    data: dict[str, Any] = {"code": None, "outcome": decision.outcome, "treated_as": None}
    if treated:
        data["treated_as"] = 451
        data["treated_as_meaning"] = code_meaning(451).to_json()
        data["reference"] = "RFC 5321 §3.8"
    return data


def _window(window: tuple[int, int]) -> str:
    """One attempt's time, or the window it lands in ("5m-9m59s") when it waits for a scan."""
    lo, hi = window
    return span(lo) if lo == hi else f"{span(lo)}-{span(hi)}"


def to_text(decision: Decision, timeline: RetryTimeline, others: dict[str, Decision]) -> str:
    prof = PROFILES[decision.profile]
    lines = [
        f"{prof.display} · stage {decision.stage} · {printable(decision.outcome)}",
        f"  {decision.headline}   (action {decision.action}, scope {decision.scope})",
        f"  why:       {decision.why}",
    ]
    if decision.code:
        c = decision.code
        usual = f"; usually '{c.usual_text}'" if c.usual_text else ""
        lines.append(
            f"  code:      {c.code}: {c.klass}yz {c.class_meaning}; x{c.subject}z "
            f"{c.subject_meaning}{usual} ({c.reference})"
        )
    if decision.enhanced:
        e = decision.enhanced
        found = " (found in the reply text)" if e.from_text else ""
        mismatch = "; its class disagrees with the reply code" if not e.matches_reply else ""
        lines.append(
            f"  enhanced:  {e.code}{found}: {e.class_meaning}; {e.subject_meaning}; "
            f"{e.detail_meaning} ({e.reference}){mismatch}"
        )
    lines.append(
        f"  reference: {decision.reference}   [rule: {decision.rule}; {decision.evidence}]"
    )
    proof = decision.evidence_detail
    lines.append(f"  evidence:  {proof.plain()}")
    if proof.kind is Evidence.TESTED and proof.cases:
        lines.append(f"  cases:     {proof.cases_text(6)} (mxtui conformance --case ID)")
    shown = [_window(timeline.window(i)) for i in range(min(12, len(timeline.attempts_s)))]
    more = f" … ({len(timeline.attempts_s)} attempts)" if len(timeline.attempts_s) > 12 else ""
    warn = span(timeline.delay_dsn_s) if timeline.delay_dsn_s is not None else "none"
    lines += [
        f"  retry:     attempts at {', '.join(shown)}{more}",
        f"             delay notice: {warn}; returned (give-up) at {span(timeline.give_up_s)}",
        f"             {timeline.formula}",
        "  others:    " + " · ".join(f"{name} {d.action}" for name, d in others.items()),
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Bad input raises an InputError (a UsageError): `mxtui.cli` says it, exit 2."""
    decision, timeline, others = explain(args)
    reply = _read_outcome(args)
    notice = None
    if args.ndr:
        try:
            message = ndr_preview(
                decision,
                reply=reply if isinstance(reply, Reply) else None,
                params=_parse_sets(args.set),
            )
            notice = ndr_text(message)
        except NoNoticeError as exc:
            notice = f"(no notice: {exc})"
    if args.json:
        data = to_json(decision, timeline, others)
        if args.ndr:
            data["ndr"] = notice
        print(json_text(data, indent=2))
    else:
        print(to_text(decision, timeline, others))
        if notice is not None:
            print("\n" + notice)
    return EXIT_OK
