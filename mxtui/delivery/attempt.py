"""One address of the try list: a session, a decision after every step, and where the walk goes
next (`Move`).

The walk (`mxtui.delivery.walk.Walk`) owns the recipients' states and the events; this module
runs the conversation with one address for it: it dials, steps the session through the
profile's commands (HELO only for qmail, no STARTTLS where the profile has none), asks the
engine about every reply, applies the decision to the recipients, and says how the attempt
ends.
"""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from typing import TYPE_CHECKING

from mxtui.delivery.order import context
from mxtui.model import (
    Action,
    AttemptEnded,
    AttemptRecord,
    AttemptStarted,
    Decision,
    Envelope,
    Outcome,
    RecipientStatus,
    Reply,
    Scope,
    Stage,
    StepDone,
    StepResult,
    TryTarget,
)
from mxtui.policy import decide
from mxtui.smtp.session import Session
from mxtui.tlspolicy.verdict import check_demand

if TYPE_CHECKING:
    from mxtui.delivery.walk import Walk
    from mxtui.policy.profiles.tls import TlsDemand


class Move(Enum):
    """What the walk does after a decision: go on in this session, or leave it, and to where."""

    CONTINUE = "continue"
    """The conversation goes on with the next step."""
    RETRY_HELO = "helo"
    """Start over with HELO on the same connection (RFC 5321 §3.2)."""
    CARRY_NEXT_ADDRESS = "carry:next-address"
    """This recipient goes to the next address; the conversation goes on for the others."""
    CARRY_NEXT_MX = "carry:next-mx"
    """This recipient goes to the next MX host; the conversation goes on for the others."""
    DELIVERED = "delivered"
    """The server took the message for the recipients it accepted."""
    NEXT_ADDRESS = "next-address"
    NEXT_MX = "next-mx"
    AGAIN_PLAIN = "again-plain"
    """The TLS handshake failed: the same address again, in plaintext."""
    STOP = "stop"
    """The attempt is over for every open recipient (requeued, bounced, or held)."""
    DONE = "done"
    """The conversation ran its course and no recipient is left to carry elsewhere."""

    @property
    def leaves(self) -> bool:
        """The session ends here and the walk moves (or stops)."""
        return self in (Move.NEXT_ADDRESS, Move.NEXT_MX, Move.STOP, Move.AGAIN_PLAIN)

    @property
    def carried(self) -> Move | None:
        """Where a carried recipient goes once this session is over."""
        return {Move.CARRY_NEXT_ADDRESS: Move.NEXT_ADDRESS,
                Move.CARRY_NEXT_MX: Move.NEXT_MX}.get(self)  # fmt: skip


def what(result: StepResult) -> Reply | Outcome | None:
    """What the decision is about: the reply, or what happened instead (None: nothing to decide,
    as when a connection opened)."""
    if result.reply is not None:
        return result.reply
    if result.outcome is not None:
        return result.outcome
    if result.failure is None:
        return None
    # A broken or overlong reply, a failed TLS handshake, a command that could not be sent:
    # the conversation cannot go on, which a sender treats as a lost connection.
    return Outcome.DROPPED


async def talk(walk: Walk, index: int, dialled: int, sessions: int, tls_off: bool) -> tuple[
    Move, int
]:  # fmt: skip
    """Talk to `walk.order[index]` until the profile stops or moves on; returns (move, sessions
    that got through EHLO/HELO so far)."""
    target = walk.order[index]
    recipients = tuple(walk.open_recipients())
    for recipient in recipients:
        if walk.states[recipient].state is not RecipientStatus.PENDING:
            walk.set_state(recipient, RecipientStatus.PENDING, target=target)
    envelope = replace(walk.envelope, recipients=recipients)
    # What the profile's TLS policy knobs demand of this host (None: no policy looked up).
    demand = (
        walk.profile.tls.demand(walk.values, walk.tls_policy, target.host)
        if walk.tls_policy is not None
        else None
    )
    if demand is not None and demand.skip is not None:
        return await refuse_host(walk, index, dialled, sessions, demand), sessions
    mode = "none" if tls_off or (demand is not None and demand.level == "none") else "optional"
    session = Session(
        target.address, envelope, dialer=walk.dialer, port=walk.port,
        tls=mode, tls_name=target.host, trust_pem=walk.trust_pem,
        timeouts=walk.timeouts, on_event=walk.on_session_event,
    )  # fmt: skip
    walk.session = session
    walk.emit(AttemptStarted(index, target))
    helo_only = not walk.profile.sends(Stage.EHLO)
    move, action, stage, reply, error = Move.DONE, "", Stage.CONNECT, None, ""
    carry: Move | None = None
    counted = False
    natural = False  # the conversation ran its course (no decision sent us elsewhere)
    forced: Stage | None = None
    try:
        while True:
            step_stage = forced or session.next_stage()
            forced = None
            if step_stage is None or step_stage is Stage.QUIT:
                natural = True
                break
            if step_stage is Stage.EHLO and helo_only:
                step_stage = Stage.HELO
            if (
                demand is not None
                and demand.requires_tls
                and session.hello_done
                and not session.encrypted
                and step_stage is not Stage.STARTTLS
            ):
                # TLS is required and the server offers no STARTTLS: never in clear.
                step_stage = Stage.STARTTLS
                await walk.gate.wait()
                result = StepResult(
                    Stage.STARTTLS, (), None, 0.0, outcome=Outcome.TLS_NOT_OFFERED,
                    error=f"STARTTLS is not offered, and TLS is required: {demand.why}",
                )  # fmt: skip
                stage, error = Stage.STARTTLS, result.error
                ctx = context(walk.order, index, dialled, sessions, Stage.STARTTLS,
                              profile=walk.profile, params=walk.values)  # fmt: skip
                decision = with_demand(
                    decide(Stage.STARTTLS, Outcome.TLS_NOT_OFFERED, walk.profile, ctx,
                           walk.values), demand)  # fmt: skip
                walk.emit(StepDone(target, Stage.STARTTLS, result, decision, ctx))
                action = str(decision.action)
                move = apply(walk, decision, result, session, envelope, target)
                if not move.leaves:
                    move = Move.NEXT_ADDRESS
                break
            if step_stage in (Stage.DATA, Stage.DOT) and walk.quit_after == "rcpt":
                if not session.lab and not walk.confirm_send:
                    # Stopped short of the dot at a real host: held, never "delivered".
                    hold(walk, session, target, "the walk stopped before DATA")
                    action, move = "held", Move.STOP
                    break
                for r in session.accepted:  # --quit-after rcpt: accepted at RCPT counts
                    walk.set_state(r, RecipientStatus.DELIVERED, walk.states[r].reply, target)
                action, natural = "delivered", True
                break
            await walk.gate.wait()
            result = await session.run_stage(step_stage, confirm_send=walk.confirm_send)
            stage, error = result.stage, result.error
            reply = result.reply or reply
            if result.failure == "held":
                walk.emit(StepDone(target, result.stage, result, None))
                hold(walk, session, target, "the dot was not sent")
                action, move = "held", Move.STOP
                break
            if session.hello_done and not counted:
                sessions, counted = sessions + 1, True
            about = what(result)
            if about is None:
                walk.emit(StepDone(target, result.stage, result, None))
                continue
            ctx = context(walk.order, index, dialled, sessions, result.stage,
                          profile=walk.profile, params=walk.values)  # fmt: skip
            if result.stage is Stage.STARTTLS and demand is not None and demand.requires_tls:
                ctx = replace(ctx, tls_required=True)
                if result.tls is not None:
                    failed, why = check_demand(
                        demand, target.host, result.tls, session.tls_chain, walk.trust
                    )
                    if failed is not None:
                        about = failed
                        result = replace(result, outcome=failed, error=why)
                        error = why
            decision = decide(result.stage, about, walk.profile, ctx, walk.values)
            if result.stage is Stage.STARTTLS and demand is not None:
                decision = with_demand(decision, demand)
            walk.emit(StepDone(target, result.stage, result, decision, ctx))
            action = str(decision.action)
            verdict = apply(walk, decision, result, session, envelope, target)
            if verdict is Move.RETRY_HELO:
                forced = Stage.HELO
            elif verdict.leaves:
                move = verdict
                break
            elif verdict.carried is not None:
                carry = verdict.carried
            elif verdict is Move.DELIVERED:
                action = "delivered"
        if natural:
            # Recipients deferred at RCPT for the next MX, or left over, go on from here.
            move = carry or (Move.NEXT_ADDRESS if walk.open_recipients() else Move.DONE)
    except BaseException:
        session.close()
        raise
    await close(walk, session, target)
    record = AttemptRecord(target, stage, reply, action or "continue", error)
    walk.records.append(record)
    walk.emit(AttemptEnded(record))
    return move, sessions


def with_demand(decision: Decision, demand: TlsDemand) -> Decision:
    """The decision with the reason the profile's TLS policy gives for this host."""
    return replace(decision, why=f"{decision.why} Here: {demand.why}.")


async def refuse_host(
    walk: Walk, index: int, dialled: int, sessions: int, demand: TlsDemand
) -> Move:
    """The TLS policy rules this host out before any connection (an MX host an enforced
    MTA-STS policy does not list, a failed TLSA lookup): decided like any outcome."""
    target = walk.order[index]
    assert demand.skip is not None
    walk.emit(AttemptStarted(index, target))
    await walk.gate.wait()
    result = StepResult(Stage.STARTTLS, (), None, 0.0, outcome=demand.skip, error=demand.why)
    ctx = context(walk.order, index, dialled, sessions, Stage.STARTTLS,
                  profile=walk.profile, params=walk.values)  # fmt: skip
    decision = with_demand(decide(Stage.STARTTLS, demand.skip, walk.profile, ctx, walk.values),
                           demand)  # fmt: skip
    walk.emit(StepDone(target, Stage.STARTTLS, result, decision, ctx))
    action = decision.action
    if action in (Action.NEXT_ADDRESS, Action.NEXT_MX):
        move = Move.NEXT_MX if action is Action.NEXT_MX else Move.NEXT_ADDRESS
    elif action in (Action.REQUEUE, Action.NDR):
        state = RecipientStatus.BOUNCED if action is Action.NDR else RecipientStatus.DEFERRED
        for r in walk.open_recipients():
            walk.why[r] = (decision, None, target)
            walk.set_state(r, state, None, target, demand.why)
        move = Move.STOP
    else:
        move = Move.NEXT_ADDRESS  # a profile that never refuses a host this way (NA)
    record = AttemptRecord(target, Stage.STARTTLS, None, str(action), demand.why)
    walk.records.append(record)
    walk.emit(AttemptEnded(record))
    return move


def hold(walk: Walk, session: Session, target: TryTarget, why: str) -> None:
    """The walk stops before the dot at a host outside the lab: accepted is only held."""
    walk.held = True
    for r in session.accepted:
        walk.set_state(r, RecipientStatus.HELD, walk.states[r].reply, target,
                       detail=f"accepted at RCPT; {why}")  # fmt: skip


def apply(
    walk: Walk,
    decision: Decision,
    result: StepResult,
    session: Session,
    envelope: Envelope,
    target: TryTarget,
) -> Move:
    """Change recipient states as `decision` says; return what the session does next."""
    reply = result.reply
    if result.stage is Stage.RCPT:
        recipient = result.recipient  # set by the session: the address this RCPT sent
        if decision.action is Action.CONTINUE:
            walk.set_state(recipient, RecipientStatus.ACCEPTED, reply, target)
            return Move.CONTINUE
        if decision.scope is Scope.RECIPIENT:
            walk.why[recipient] = (decision, reply, target)
            if decision.action is Action.NDR:
                walk.set_state(recipient, RecipientStatus.BOUNCED, reply, target)
                return Move.CONTINUE
            if decision.action is Action.REQUEUE:
                walk.set_state(recipient, RecipientStatus.DEFERRED, reply, target)
                return Move.CONTINUE
            walk.set_state(recipient, RecipientStatus.CARRIED, reply, target)
            if decision.action is Action.NEXT_MX:
                return Move.CARRY_NEXT_MX
            return Move.CARRY_NEXT_ADDRESS
    if decision.delivered:
        for r in session.accepted:
            walk.set_state(r, RecipientStatus.DELIVERED, reply, target)
        return Move.DELIVERED
    action = decision.action
    if action is Action.CONTINUE:
        if result.stage is Stage.STARTTLS and not session.connected:
            return Move.AGAIN_PLAIN  # the handshake failed: same address again, in plaintext
        return Move.CONTINUE
    if action is Action.RETRY_HELO:
        if not session.connected:
            return Move.NEXT_ADDRESS
        # The session takes a 4xx EHLO as the end of the path; the profile instead starts
        # over with HELO (RFC 5321 §3.2), whose own reply then decides.
        session.retry_hello()
        return Move.RETRY_HELO
    detail = "" if reply is not None else result.error
    if action in (Action.NEXT_ADDRESS, Action.NEXT_MX):
        for r in walk.open_recipients():
            if walk.states[r].state is RecipientStatus.ACCEPTED:
                walk.set_state(r, RecipientStatus.PENDING, reply, target)
        return Move.NEXT_MX if action is Action.NEXT_MX else Move.NEXT_ADDRESS
    state = RecipientStatus.BOUNCED if action is Action.NDR else RecipientStatus.DEFERRED
    for r in walk.open_recipients():
        walk.why[r] = (decision, reply, target)
        walk.set_state(r, state, reply, target, detail)
    return Move.STOP


async def close(walk: Walk, session: Session, target: TryTarget) -> None:
    """QUIT politely (or close in the middle of DATA); the reply changes nothing."""
    if not session.connected or session.quit_sent or not session.greeted:
        session.close()
        return
    result = await session.quit()
    about = what(result)
    decision = decide(Stage.QUIT, about, walk.profile, None, walk.values) if about else None
    walk.emit(StepDone(target, Stage.QUIT, result, decision))
    session.close()
