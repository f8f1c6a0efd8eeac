"""decide(): find the table row for a reply or outcome, then apply the profile and the context.

The table (`mxtui.policy.table`) says what each MTA does in general; this module adds what
depends on where the attempt stands: whether this is the last address the profile would try
(its limits included), which way it moves on, and the parameters that rewrite outcomes
(Postfix soft_bounce and smtp_skip_5xx_greeting). It never raises for a known stage and any
reply code, since the UI asks about whatever a server said.
"""

from __future__ import annotations

from collections.abc import Mapping

from mxtui.model import (
    Action,
    Decision,
    DecisionContext,
    EnhancedMeaning,
    Evidence,
    Outcome,
    Reply,
    Scope,
    Stage,
)
from mxtui.policy.codes import code_meaning, reply_enhanced
from mxtui.policy.profiles import PROFILES, Profile, ProfileParams, get_profile
from mxtui.policy.table import TABLE, Cell, Row

_DNS_OUTCOMES = {
    Outcome.NXDOMAIN: "nxdomain",
    Outcome.NULL_MX: "null-mx",
    Outcome.DNS_TEMPFAIL: "tempfail",
    Outcome.NO_ADDRESS: "no-address",
}


def classify(stage: Stage, outcome: Reply | Outcome, tls_required: bool = False) -> Row:
    """The table row for this stage and reply/outcome. Total over Stage × codes × outcomes."""
    stage = Stage(stage)
    if stage not in TABLE_STAGES:
        # RSET, NOOP and hand-typed commands: read by what they resemble most, a MAIL step.
        stage = Stage.MAIL
    if isinstance(outcome, Reply):
        return _classify_reply(stage, outcome, tls_required)
    return _classify_outcome(stage, Outcome(outcome), tls_required)


TABLE_STAGES = frozenset(stage for stage, _ in TABLE)


_TLS_POLICY_OUTCOMES = {
    Outcome.TLS_NOT_OFFERED: "not-offered",
    Outcome.DANE_FAIL: "dane-fail",
    Outcome.STS_FAIL: "sts-fail",
    Outcome.STS_NOT_LISTED: "sts-not-listed",
    Outcome.TLSA_ERROR: "tlsa-error",
}
"""The sender's TLS policy refusing a host: situations of the STARTTLS stage, wherever the
walk meets them (before dialling, or after the handshake)."""


def _classify_outcome(stage: Stage, outcome: Outcome, tls_required: bool) -> Row:
    if outcome in _TLS_POLICY_OUTCOMES:
        return TABLE[(Stage.STARTTLS, _TLS_POLICY_OUTCOMES[outcome])]
    if outcome in _DNS_OUTCOMES:
        return TABLE[(Stage.DNS, _DNS_OUTCOMES[outcome])]
    if stage is Stage.DNS:
        return TABLE[(Stage.DNS, "tempfail")]  # a resolver that refuses or times out
    if stage is Stage.CONNECT:
        return TABLE[(Stage.CONNECT, "fail")]
    if stage is Stage.QUIT:
        return TABLE[(Stage.QUIT, "any")]
    if stage is Stage.STARTTLS and tls_required:
        return TABLE[(Stage.STARTTLS, "req-4xx")]
    return TABLE[(stage, "drop")]


def _classify_reply(stage: Stage, reply: Reply, tls_required: bool) -> Row:
    code = reply.code
    klass = code // 100 if 100 <= code <= 999 else 0
    if stage is Stage.CONNECT:
        stage = Stage.GREETING  # the first reply after connecting is the greeting
    if stage is Stage.QUIT:
        return TABLE[(Stage.QUIT, "any")]
    if stage is Stage.STARTTLS:
        if klass == 2:
            return TABLE[(stage, "2xx")]
        if tls_required:
            return TABLE[(stage, "req-4xx" if klass == 4 else "req-5xx")]
        return TABLE[(stage, "refused")]
    if stage is Stage.AUTH:
        key = {2: "2xx", 3: "3xx", 4: "4xx"}.get(klass, "5xx")
        return TABLE[(stage, key)]
    if stage is Stage.EHLO and code == 421:
        return TABLE[(stage, "421")]
    if stage is Stage.RCPT and code == 421:
        return TABLE[(stage, "drop")]  # 421 closes the session: every pending recipient
    if stage is Stage.RCPT and code == 552:
        return TABLE[(stage, "552")]
    key = f"{klass}xx"
    if (stage, key) in TABLE:
        return TABLE[(stage, key)]
    return TABLE[(stage, "unexpected")]


def _is_final(profile: Profile, params: ProfileParams, ctx: DecisionContext) -> str:
    """Why this is the last address the profile would try in this attempt ('' when it is not):
    the list ends, or the profile's own move-on rule (its limits) says so."""
    if ctx.last_address:
        return "no address is left in the list"
    return profile.moving.final_reason(params, ctx)


def _pick_cell(row: Row, profile: Profile, params: ProfileParams) -> Cell:
    cell = profile.cell(row.key)
    for (name, value), alt in cell.alt.items():
        if params.get(name) == value:
            return alt
    return cell


_HEADLINES = {
    (Action.CONTINUE, Scope.MESSAGE): "CONTINUE",
    (Action.CONTINUE, Scope.RECIPIENT): "CONTINUE",
    (Action.NEXT_ADDRESS, Scope.MESSAGE): "TRY NEXT ADDRESS",
    (Action.NEXT_ADDRESS, Scope.RECIPIENT): "RECIPIENT: TRY NEXT ADDRESS",
    (Action.NEXT_MX, Scope.MESSAGE): "TRY NEXT MX",
    (Action.NEXT_MX, Scope.RECIPIENT): "RECIPIENT: TRY NEXT MX",
    (Action.REQUEUE, Scope.MESSAGE): "REQUEUE",
    (Action.REQUEUE, Scope.RECIPIENT): "REQUEUE RECIPIENT",
    (Action.NDR, Scope.MESSAGE): "BOUNCE (NDR)",
    (Action.NDR, Scope.RECIPIENT): "BOUNCE RECIPIENT",
    (Action.RETRY_HELO, Scope.MESSAGE): "RETRY WITH HELO",
    (Action.RETRY_HELO, Scope.RECIPIENT): "RETRY WITH HELO",
}

_SOFTENED = {"NDR": "NX", "r-NDR": "r-NX", "NX>NDR": "NX"}
"""What a bounce cell becomes when soft_bounce makes the 5xx a soft error."""

_EVIDENCE_NOTES = {
    Evidence.TESTED: "",
    Evidence.VERIFIED: "",
    Evidence.RECALLED: "This rule is recalled from the documentation, not re-read [M].",
    Evidence.INFERRED: "This rule is inferred, not documented [I].",
    Evidence.UNKNOWN: "No source describes this case; shown as the likeliest reading [?].",
}


def _outcome_label(outcome: Reply | Outcome, enhanced: EnhancedMeaning | None) -> str:
    if isinstance(outcome, Reply):
        return f"{outcome.code} {enhanced.code}" if enhanced else str(outcome.code)
    return str(outcome)


def _status(row: Row, outcome: Reply | Outcome, profile: Profile, enhanced: str | None) -> str:
    """The RFC 3463 status a DSN for this outcome would carry."""
    fixed = profile.dsn.stage_statuses.get(row.key)
    if fixed:
        return fixed
    if enhanced:
        return enhanced
    if isinstance(outcome, Reply):
        klass = outcome.code // 100 if 100 <= outcome.code <= 999 else 0
        return f"{klass}.0.0" if klass in (2, 4, 5) else "5.5.0"
    return profile.dsn.status_for(row.outcome)


def decide(
    stage: Stage | str,
    outcome: Reply | Outcome | str,
    profile: str | Profile = "postfix",
    context: DecisionContext | None = None,
    params: Mapping[str, object] | ProfileParams | None = None,
) -> Decision:
    """What `profile` does next after `outcome` at `stage`, and why.

    `outcome` is a Reply or an Outcome (or its string value); `params` are the profile's
    parameters, parsed (`Profile.parse`) or as overrides by name (see `PROFILES[name].params`).
    Raises ValueError only for an unknown stage, outcome name, profile or parameter, never for
    a reply code.
    """
    stage = Stage(stage)
    prof = get_profile(profile)
    values = prof.parse(params)
    ctx = context or DecisionContext()
    if not isinstance(outcome, Reply):
        outcome = Outcome(outcome)
    row = classify(stage, outcome, ctx.tls_required)
    cell = _pick_cell(row, prof, values)

    reply = outcome if isinstance(outcome, Reply) else None
    code = code_meaning(reply.code) if reply else None
    enhanced = reply_enhanced(reply) if reply else None
    status = _status(row, outcome, prof, enhanced.code if enhanced else None)

    final_reason = _is_final(prof, values, ctx)
    action, scope, sentence, final_used = _act(cell.code, prof, row, bool(final_reason))
    if final_used:
        sentence = f"This was the last address {prof.mta} would try ({final_reason}). " + sentence
    notes = [cell.note] if cell.note else []
    rewritten = values.softens_bounces() and action is Action.NDR
    if rewritten:
        whom = "this recipient" if scope is Scope.RECIPIENT else "the message"
        lead = (
            f"{prof.subject} would bounce {whom}, but soft_bounce=yes turns every bounce into a "
            "deferral"
        )
        if prof.moving.soft_errors_move_on and row.stage is not Stage.DNS:
            # The 5xx now counts as a soft error, and a soft error moves on like a 4xx.
            soft = _SOFTENED.get(cell.code, "NX")
            action, scope, sentence, final_used = _act(soft, prof, row, bool(final_reason))
            if final_used:
                sentence = f"This was the last address {prof.mta} would try ({final_reason}). " + (
                    sentence
                )
            sentence = f"{lead}, read as a soft error like a 4xx. {sentence}"
        else:
            action = Action.REQUEUE
            sentence = f"{lead}: the mail stays queued and is retried."
    # The DSN status class follows what is done: a bounce is 5.x.x, a deferral 4.x.x, whatever
    # class the server's enhanced code claimed (soft_bounce rewrites 5xx the same way).
    if action is Action.REQUEUE and not status.startswith("4"):
        status = "4" + status[1:]
    elif action is Action.NDR and not status.startswith("5"):
        status = "5" + status[1:]
    # Some MTAs write one fixed status in every notice (Exim: 5.0.0 failed, 4.0.0 delayed).
    if action is Action.NDR and prof.dsn.bounce_status:
        status = prof.dsn.bounce_status
    elif action is Action.REQUEUE and prof.dsn.delay_status:
        status = prof.dsn.delay_status
    # A rewrite by soft_bounce is not what the conformance runs showed: the cell's own proof.
    proof = cell.proof if rewritten else prof.proven(row.key, cell, final_used)
    evidence_note = _EVIDENCE_NOTES[proof.kind]
    if stage not in TABLE_STAGES:
        notes.insert(0, f"{stage.value.upper()} is not a delivery step; its reply is read as a "
                     "reply to MAIL would be.")  # fmt: skip
    why = " ".join(part for part in (row.meaning, sentence, *notes, evidence_note) if part)
    headline = _HEADLINES[(action, scope)]
    if cell.code == "DLV":
        headline = "DELIVERED"
    elif cell.code == "NA":
        headline = f"NOT USED BY {prof.mta.upper()}"
    elif cell.code == "IGN":
        headline = "DONE (QUIT)"
    return Decision(
        action=action,
        scope=scope,
        stage=stage,
        profile=prof.name,
        outcome=_outcome_label(outcome, enhanced),
        code=code,
        enhanced=enhanced,
        why=why,
        reference=cell.source,
        evidence=proof.kind,
        proof=proof,
        headline=headline,
        rule=f"{row.label} → {cell.code}",
        status=status,
        applicable=cell.code != "NA",
        final=final_used,
        delivered=cell.code == "DLV",
        row=row.key,
        cell=cell.code,
    )


def _move(prof: Profile, row: Row) -> tuple[Action, str]:
    if prof.flat_list:
        return Action.NEXT_ADDRESS, (
            f"{prof.subject} tries the next address in its one flat list of MX addresses "
            "(sorted by preference), which may be this host's other address or the next MX."
        )
    if row.stage is Stage.CONNECT:
        return Action.NEXT_ADDRESS, (
            f"{prof.subject} tries this host's next address, then the next MX host."
        )
    return Action.NEXT_MX, f"{prof.subject} gives up on this host and tries the next MX host now."


def _act(code: str, prof: Profile, row: Row, final: bool) -> tuple[Action, Scope, str, bool]:
    """Turn a cell code into (action, scope, the sentence saying so, whether `final` mattered)."""
    m, r = Scope.MESSAGE, Scope.RECIPIENT
    mta = prof.subject
    requeue = f"{mta} keeps the message queued and tries again later (see the retry timeline)."
    bounce = f"{mta} returns the message to the sender with a bounce (NDR)."
    if code in ("NX", "NX>NDR", "NX>RQ", "r-NX"):
        scope = r if code == "r-NX" else m
        if final:
            if code == "NX>NDR":
                return Action.NDR, scope, bounce, True
            if scope is r:
                return (
                    Action.REQUEUE,
                    r,
                    (f"{mta} defers this recipient and carries on with the others."),
                    True,
                )
            return Action.REQUEUE, scope, requeue, True
        action, sentence = _move(prof, row)
        if scope is r:
            sentence = "For this recipient only: " + sentence[0].lower() + sentence[1:]
        return action, scope, sentence, False
    simple: dict[str, tuple[Action, Scope, str]] = {
        "RQ": (Action.REQUEUE, m, requeue),
        "NDR": (Action.NDR, m, bounce),
        "r-RQ": (Action.REQUEUE, r, f"{mta} defers this recipient and carries on with the others."),
        "r-NDR": (Action.NDR, r, f"{mta} bounces this recipient only and carries on with the "
                  "others."),
        "H": (Action.RETRY_HELO, m, f"{mta} tries again with the older HELO command."),
        "C": (Action.CONTINUE, m, f"{mta} carries on with the next step."),
        "DLV": (Action.CONTINUE, m, "Delivery to the recipients accepted at RCPT is done."),
        "IGN": (Action.CONTINUE, m, f"{mta} closes the connection; nothing else happens."),
        "PLAIN": (Action.CONTINUE, m, f"{mta} carries on in plaintext, without TLS."),
        "RECON": (Action.CONTINUE, m, f"{mta} connects to the same address again and carries "
                  "on in plaintext, without TLS."),
        "NA": (Action.CONTINUE, m, f"{mta} never sends this command, so it never sees this "
               "reply."),
    }  # fmt: skip
    action, scope, sentence = simple[code]
    return action, scope, sentence, False


def compare(
    stage: Stage | str,
    outcome: Reply | Outcome | str,
    context: DecisionContext | None = None,
    params: Mapping[str, Mapping[str, object] | ProfileParams] | None = None,
) -> dict[str, Decision]:
    """Every profile's decision on the same reply: the side panel's comparison table.

    `params` maps a profile name to its overrides; profiles not named use their defaults.
    """
    params = params or {}
    return {name: decide(stage, outcome, name, context, params.get(name)) for name in PROFILES}
