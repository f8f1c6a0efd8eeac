"""The delivery walk: an MX plan, a dialer, one session per address, and a decision per step.

This is where the three parts meet the way a sending MTA combines them: the plan gives the try
list (equal preferences shuffled with a seed the user sees and can set), each address gets an
SMTP `Session`, every step's reply goes to `decide` under the chosen profile, and the walk does
what the decision says: carry on, move to the next address or MX, requeue, bounce, or retry
with HELO. Per-recipient state is kept, because a 4xx or 5xx at RCPT concerns one recipient.

Everything that happens is an event (`mxtui.model.WalkEvent`), so the app can animate it; a
gate lets it pause and single-step. Time is a `SimClock` shared with the lab hosts, so
"the next retry in 400 s" can happen now and a greylist clears as it would have.

Relays: given `relays` (the lab's store-and-forward hosts, see
`mxtui.lab.hosts.relay_profiles`), a message a relay accepts goes on as a second hop: the
relay's own walk, under its profile, to the MX records of lower preference number than its own
(RFC 5321 §5.1), on the same clock and dialer. Its events come bracketed by `HopStarted` and
`HopEnded` and carry `hop=2`; its retries are the relay's queue, which
`fast_forward_to_next_retry` carries on. The sender's outcome stays what it was: once the relay
said 250 at the dot, the message is the relay's responsibility.

Safety: the end-of-data dot goes to a host outside the lab only with ``confirm_send=True``
(the session enforces it; the walk marks such recipients `held`).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from mxtui.gate import StepGate
from mxtui.model import (
    Action,
    AttemptEnded,
    AttemptRecord,
    AttemptStarted,
    Decision,
    DecisionContext,
    Envelope,
    HopEnded,
    HopResult,
    HopStarted,
    MXPlan,
    Outcome,
    PlanStatus,
    RecipientResult,
    RecipientState,
    RecipientStatus,
    Reply,
    Scope,
    SessionEvent,
    Stage,
    StepDone,
    StepResult,
    Timeouts,
    TryTarget,
    WalkEnded,
    WalkEvent,
    WalkOutcome,
    WalkResult,
    WalkStarted,
)
from mxtui.policy import decide, get_profile, ndr_preview, ndr_text, retry_timeline
from mxtui.policy.profiles import Profile, ProfileParams
from mxtui.smtp.dialer import Dialer
from mxtui.smtp.session import Session

QuitAfter = Literal["rcpt", "dot"]
EventSink = Callable[[WalkEvent], None]

ARRIVAL = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
"""When the simulated message was queued (simulated time 0): NDR dates count from here, so a
preview is reproducible."""

_OPEN = (RecipientStatus.PENDING, RecipientStatus.ACCEPTED, RecipientStatus.CARRIED)
"""States in which a recipient is still being worked on in this attempt."""


class SimClock:
    """Simulated seconds since the message was queued, shared by the walk and the lab hosts.

    It is a plain callable returning a float, which is what `LabSMTPHost(clock=...)` takes, so a
    greylisting host sees the retry happen at the profile's retry time, not the wall clock's.
    It never runs backwards. Listeners hear every move, so a lab host with a schedule
    (`up_after_s`) is up or down before the next connection is made.
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = float(start)
        self.listeners: list[Callable[[], None]] = []

    def __call__(self) -> float:
        return self.now

    def advance_to(self, t: float) -> None:
        moved = float(t) > self.now
        self.now = max(self.now, float(t))
        if moved:
            for listener in list(self.listeners):
                listener()

    def attach(self, lab: Any) -> None:
        """Make every host of a `Lab` (or `LabSMTP`) read this clock (and follow its moves)."""
        smtp = getattr(lab, "smtp", lab)
        for host in smtp.hosts.values():
            host.clock = self
            sync = getattr(host, "sync_schedule", None)
            if sync is not None:
                self.listeners.append(sync)


def try_order(
    plan: MXPlan,
    profile: str | Profile,
    rng: random.Random,
    params: Mapping[str, object] | ProfileParams | None = None,
) -> tuple[TryTarget, ...]:
    """Every dialable address in the order the profile dials them, equal preferences shuffled
    with `rng`: the profile's own ordering rule (`Profile.ordering`, in its module)."""
    prof = get_profile(profile)
    return prof.ordering.order(plan, rng, prof.parse(params))


def dns_outcome(plan: MXPlan) -> Outcome:
    """Why a plan with nothing to dial cannot be delivered now, as the decision engine's Outcome."""
    if plan.status is PlanStatus.NULL_MX:
        return Outcome.NULL_MX
    if plan.status in (PlanStatus.SERVFAIL, PlanStatus.TIMEOUT, PlanStatus.ERROR):
        return Outcome.DNS_TEMPFAIL
    if any(p.code == "address-lookup-failed" for p in plan.problems):
        return Outcome.DNS_TEMPFAIL
    if plan.status is PlanStatus.NXDOMAIN:
        return Outcome.NXDOMAIN
    # No MX and no address, MX hosts without any address, or none this sender can use (qmail
    # and Postfix 2.0 look up A records only): nowhere to connect.
    return Outcome.NO_ADDRESS


def _not_used(profile: Profile, stage: Stage) -> bool:
    """The profile never sends this command (qmail: no EHLO, no STARTTLS), per its cells."""
    return not profile.sends(stage)


def _what(result: StepResult) -> Reply | Outcome | None:
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


class Walk(StepGate):
    """One message's delivery, attempt after attempt, the way `profile` would do it.

    `run()` makes one delivery attempt over the whole try list and returns its `WalkResult`;
    `fast_forward_to_next_retry()` moves the simulated clock to the profile's next attempt
    and runs again for the recipients still queued. `on_event` gets every `WalkEvent`;
    `on_session_event` every session event (transcript lines) of the session in progress.
    """

    def __init__(
        self,
        plan: MXPlan,
        envelope: Envelope,
        *,
        dialer: Dialer,
        profile: str | Profile = "postfix",
        params: Mapping[str, object] | None = None,
        seed: int | None = None,
        clock: SimClock | None = None,
        confirm_send: bool = False,
        quit_after: QuitAfter | None = None,
        timeouts: Timeouts | None = None,
        port: int | None = None,
        on_event: EventSink | None = None,
        on_session_event: Callable[[SessionEvent], None] | None = None,
        relays: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()  # the pause / single-step gate
        self.plan = plan
        self.envelope = envelope
        self.dialer = dialer
        self.profile = get_profile(profile)
        self.params: dict[str, object] = dict(params or {})
        # Parsed once, here: an unknown parameter fails now, not in the middle of the walk.
        self.values = self.profile.parse(self.params)
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        self._rng = random.Random(self.seed)
        self.clock = clock or SimClock()
        self.confirm_send = confirm_send
        self.quit_after = quit_after
        self.timeouts = timeouts or Timeouts()
        self.port = port
        self.timeline = retry_timeline(self.profile, self.values)
        self.on_event = on_event
        self.on_session_event = on_session_event
        self.attempt = -1
        self.order: tuple[TryTarget, ...] = ()
        self.session: Session | None = None
        self.result: WalkResult | None = None
        self.results: list[WalkResult] = []
        self.states: dict[str, RecipientResult] = {
            r: RecipientResult(RecipientStatus.PENDING) for r in dict.fromkeys(envelope.recipients)
        }
        self._why: dict[str, tuple[Decision, Reply | None, TryTarget | None]] = {}
        self._ndrs: dict[str, str] = {}
        self._records: list[AttemptRecord] = []
        self._held = False
        self._next_window: tuple[int, int] | None = None
        self.relays: dict[str, str] = dict(relays or {})
        """Relay hosts by address → the profile of their onward delivery (a hop)."""
        self.hop = 1
        """Which hop this walk is: 1 for the sender; a relay's walk is 2 (its relay's, 3)."""
        self.relayed_by: TryTarget | None = None
        """For a hop: the relay that makes it."""
        self.queued_at = 0
        """Simulated time the message entered this walk's queue (a hop's: when the relay took
        it); the profile's retry times count from here."""
        self.hops: list[Walk] = []
        """The onward deliveries started so far, one per relay that took recipients."""
        self._at_relay: dict[str, TryTarget] = {}
        """Recipients delivered to a relay and not yet handed to its hop."""

    # -- events --------------------------------------------------------------------------------

    def _emit(self, event: WalkEvent) -> None:
        if self.on_event is None:
            return
        if self.hop > 1:
            event = self._as_hop(event)
        self.on_event(event)

    def _as_hop(self, event: WalkEvent) -> WalkEvent:
        """A hop's own events, as its parent walk tells them: marked with the hop number, the
        start and end of its attempt as `HopStarted` / `HopEnded`."""
        if isinstance(event, WalkStarted):
            relay = self.relayed_by
            assert relay is not None
            return HopStarted(self.hop, relay.host, relay.address, event.profile, event.order,
                              event.attempt, event.clock_s, tuple(self.states))  # fmt: skip
        if isinstance(event, WalkEnded):
            return HopEnded(self.hop, event.result)
        if any(f.name == "hop" for f in fields(event)) and getattr(event, "hop", 1) == 1:
            return replace(event, hop=self.hop)  # type: ignore[arg-type]
        return event

    def _set(
        self,
        recipient: str,
        state: RecipientStatus,
        reply: Reply | None = None,
        target: TryTarget | None = None,
        detail: str = "",
    ) -> None:
        result = RecipientResult(state, reply, detail)
        self.states[recipient] = result
        delivered = state is RecipientStatus.DELIVERED
        if delivered and target is not None and target.address in self.relays:
            self._at_relay[recipient] = target
        self._emit(RecipientState(recipient, result, target))

    def _open(self) -> list[str]:
        return [r for r, s in self.states.items() if s.state in _OPEN]

    async def events(self, *, next_retry: bool = False) -> AsyncIterator[WalkEvent]:
        """Run one attempt (or, with `next_retry`, fast-forward to the next) and yield its
        events as they happen; the last is `WalkEnded` (hops, if any, come before it)."""
        queue: asyncio.Queue[WalkEvent | None] = asyncio.Queue()
        previous = self.on_event

        def sink(event: WalkEvent) -> None:
            if previous is not None:
                previous(event)
            queue.put_nowait(event)

        self.on_event = sink
        task = asyncio.create_task(self.fast_forward_to_next_retry() if next_retry else self.run())
        task.add_done_callback(lambda _t: queue.put_nowait(None))
        try:
            while (event := await queue.get()) is not None:
                yield event
            task.result()
        finally:
            self.on_event = previous
            if not task.done():
                task.cancel()

    # -- the walk ------------------------------------------------------------------------------

    async def run(self) -> WalkResult:
        """One delivery attempt for every recipient not yet delivered or bounced."""
        self.attempt += 1
        self._records = []
        self.order = try_order(self.plan, self.profile, self._rng, self.values)
        self._emit(
            WalkStarted(
                self.plan.domain, self.profile.name, self.seed, self.order, self.attempt,
                self.clock.now,
            )
        )  # fmt: skip
        for recipient, state in self.states.items():
            if state.state in (RecipientStatus.DEFERRED, RecipientStatus.CARRIED):
                self._set(recipient, RecipientStatus.PENDING)
        if not self.order:
            await self._gate()
            self._dns_decision()
        else:
            await self._deliver()
        await self._run_hops()
        return self._finish()

    def _dns_decision(self) -> None:
        """No address to dial: the MX lookup's outcome is decided at stage DNS, no connection."""
        outcome = dns_outcome(self.plan)
        decision = decide(Stage.DNS, outcome, self.profile, DecisionContext(last_address=True),
                          self.values)  # fmt: skip
        self._emit(StepDone(None, Stage.DNS, None, decision, DecisionContext(last_address=True)))
        state = (
            RecipientStatus.BOUNCED if decision.action is Action.NDR else RecipientStatus.DEFERRED
        )
        for recipient in self._open():
            self._why[recipient] = (decision, None, None)
            self._set(recipient, state, detail=f"{decision.status} {outcome}")

    async def _deliver(self) -> None:
        index, dialled, sessions = 0, 0, 0
        plaintext_retry: int | None = None
        while index < len(self.order) and self._open():
            dialled += 1 if plaintext_retry != index else 0
            tls_off = plaintext_retry == index or _not_used(self.profile, Stage.STARTTLS)
            move, sessions = await self._attempt(index, dialled, sessions, tls_off)
            if move == "stop":
                break
            if move == "again-plain" and plaintext_retry != index:
                plaintext_retry = index
                continue
            index = self._advance(index, dialled, move)
        for recipient in self._open():
            why = "no address left to try in this attempt"
            self._set(recipient, RecipientStatus.DEFERRED, self.states[recipient].reply,
                      detail=why)  # fmt: skip

    def _advance(self, index: int, dialled: int, move: str) -> int:
        """The try-list index the walk goes to from `index` (len(order) when none is left).

        "next-mx" skips the rest of this host's addresses. A profile whose move-on rule says so
        (Exim, once hosts_max_try addresses are dialled) skips the rest of this preference but
        still tries one address of each worse preference.
        """
        here = self.order[index]
        upcoming = index + 1
        if move == "next-mx":
            while upcoming < len(self.order) and self.order[upcoming].host == here.host:
                upcoming += 1
        if self.profile.moving.skips_rest_of_preference(self.values, dialled):
            while upcoming < len(self.order) and self.order[upcoming].preference == here.preference:
                upcoming += 1
        return upcoming

    def _context(self, index: int, dialled: int, sessions: int, stage: Stage) -> DecisionContext:
        # Once connected, a host-by-host MTA moves to the next MX host, not the next address.
        by_address = stage is Stage.CONNECT or self.profile.flat_list
        upcoming = self._advance(index, dialled, "next-address" if by_address else "next-mx")
        last = upcoming >= len(self.order)
        return DecisionContext(
            last_address=last,
            addresses_tried=dialled,
            sessions_used=sessions,
            next_is_higher_preference=not last
            and self.order[upcoming].preference > self.order[index].preference,
        )

    async def _attempt(
        self, index: int, dialled: int, sessions: int, tls_off: bool
    ) -> tuple[str, int]:
        """Talk to one address until the profile stops or moves on; returns (move, sessions)."""
        target = self.order[index]
        recipients = tuple(self._open())
        for recipient in recipients:
            if self.states[recipient].state is not RecipientStatus.PENDING:
                self._set(recipient, RecipientStatus.PENDING, target=target)
        envelope = replace(self.envelope, recipients=recipients)
        session = Session(
            target.address, envelope, dialer=self.dialer, port=self.port,
            tls="none" if tls_off else "optional", tls_name=target.host,
            timeouts=self.timeouts, on_event=self.on_session_event,
        )  # fmt: skip
        self.session = session
        self._emit(AttemptStarted(index, target))
        helo_only = _not_used(self.profile, Stage.EHLO)
        move, action, stage, reply, error = "done", "", Stage.CONNECT, None, ""
        carry_move = ""
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
                if step_stage in (Stage.DATA, Stage.DOT) and self.quit_after == "rcpt":
                    if not session.lab and not self.confirm_send:
                        # Stopped short of the dot at a real host: held, never "delivered".
                        self._hold(session, target, "the walk stopped before DATA")
                        action, move = "held", "stop"
                        break
                    for r in session.accepted:  # --quit-after rcpt: accepted at RCPT counts
                        self._set(r, RecipientStatus.DELIVERED, self.states[r].reply, target)
                    action, natural = "delivered", True
                    break
                await self._gate()
                result = await session.run_stage(step_stage, confirm_send=self.confirm_send)
                stage, error = result.stage, result.error
                reply = result.reply or reply
                if result.failure == "held":
                    self._emit(StepDone(target, result.stage, result, None))
                    self._hold(session, target, "the dot was not sent")
                    action, move = "held", "stop"
                    break
                if session.hello_done and not counted:
                    sessions, counted = sessions + 1, True
                what = _what(result)
                if what is None:
                    self._emit(StepDone(target, result.stage, result, None))
                    continue
                ctx = self._context(index, dialled, sessions, result.stage)
                decision = decide(result.stage, what, self.profile, ctx, self.values)
                self._emit(StepDone(target, result.stage, result, decision, ctx))
                action = str(decision.action)
                verdict = self._apply(decision, result, session, envelope, target)
                if verdict == "helo":
                    forced = Stage.HELO
                elif verdict in ("next-address", "next-mx", "stop", "again-plain"):
                    move = verdict
                    break
                elif verdict.startswith("carry:"):
                    carry_move = verdict.split(":", 1)[1]
                elif verdict == "delivered":
                    action = "delivered"
            if natural:
                # Recipients deferred at RCPT for the next MX, or left over, go on from here.
                move = carry_move or ("next-address" if self._open() else "done")
        except BaseException:
            session.close()
            raise
        await self._close(session, target)
        record = AttemptRecord(target, stage, reply, action or "continue", error)
        self._records.append(record)
        self._emit(AttemptEnded(record))
        return move, sessions

    def _hold(self, session: Session, target: TryTarget, why: str) -> None:
        """The walk stops before the dot at a host outside the lab: accepted is only held."""
        self._held = True
        for r in session.accepted:
            self._set(r, RecipientStatus.HELD, self.states[r].reply, target,
                      detail=f"accepted at RCPT; {why}")  # fmt: skip

    def _apply(
        self,
        decision: Decision,
        result: StepResult,
        session: Session,
        envelope: Envelope,
        target: TryTarget,
    ) -> str:
        """Change recipient states as `decision` says; return what the session does next."""
        reply = result.reply
        if result.stage is Stage.RCPT:
            recipient = envelope.recipients[session.rcpt_index - 1]
            if decision.action is Action.CONTINUE:
                self._set(recipient, RecipientStatus.ACCEPTED, reply, target)
                return "continue"
            if decision.scope is Scope.RECIPIENT:
                self._why[recipient] = (decision, reply, target)
                if decision.action is Action.NDR:
                    self._set(recipient, RecipientStatus.BOUNCED, reply, target)
                    return "continue"
                if decision.action is Action.REQUEUE:
                    self._set(recipient, RecipientStatus.DEFERRED, reply, target)
                    return "continue"
                self._set(recipient, RecipientStatus.CARRIED, reply, target)
                return f"carry:{'next-mx' if decision.action is Action.NEXT_MX else 'next-address'}"
        if decision.delivered:
            for r in session.accepted:
                self._set(r, RecipientStatus.DELIVERED, reply, target)
            return "delivered"
        action = decision.action
        if action is Action.CONTINUE:
            if result.stage is Stage.STARTTLS and not session.connected:
                return "again-plain"  # the handshake failed: same address again, in plaintext
            return "continue"
        if action is Action.RETRY_HELO:
            if not session.connected:
                return "next-address"
            # The session takes a 4xx EHLO as the end of the path; the profile instead starts
            # over with HELO (RFC 5321 §3.2), whose own reply then decides.
            session.retry_hello()
            return "helo"
        detail = "" if reply is not None else result.error
        if action in (Action.NEXT_ADDRESS, Action.NEXT_MX):
            for r in self._open():
                if self.states[r].state is RecipientStatus.ACCEPTED:
                    self._set(r, RecipientStatus.PENDING, reply, target)
            return "next-mx" if action is Action.NEXT_MX else "next-address"
        state = RecipientStatus.BOUNCED if action is Action.NDR else RecipientStatus.DEFERRED
        for r in self._open():
            self._why[r] = (decision, reply, target)
            self._set(r, state, reply, target, detail)
        return "stop"

    async def _close(self, session: Session, target: TryTarget) -> None:
        """QUIT politely (or close in the middle of DATA); the reply changes nothing."""
        if not session.connected or session.quit_sent:
            session.close()
            return
        if not session.greeted:
            session.close()
            return
        result = await session.quit()
        what = _what(result)
        decision = decide(Stage.QUIT, what, self.profile, None, self.values) if what else None
        self._emit(StepDone(target, Stage.QUIT, result, decision))
        session.close()

    # -- the end of an attempt -----------------------------------------------------------------

    def _finish(self) -> WalkResult:
        age = self.clock.now - self.queued_at
        deferred = [r for r, s in self.states.items() if s.state is RecipientStatus.DEFERRED]
        next_retry: int | None = None
        self._next_window = None
        if deferred:
            if age >= self.timeline.give_up_s:
                self._give_up(deferred)
            else:
                t = self.timeline
                later = [i for i, a in enumerate(t.attempts_s) if a > age]
                next_retry = self.queued_at + (t.attempts_s[later[0]] if later else t.give_up_s)
                lo, hi = (t.window(later[0]) if later
                          else t.give_up_window_s or (t.give_up_s, t.give_up_s))  # fmt: skip
                self._next_window = (self.queued_at + lo, self.queued_at + hi)
        return self._result(next_retry)

    # -- hops: a relay's onward delivery -------------------------------------------------------

    async def _run_hops(self) -> None:
        """Retry the hops that are due, then start one for each relay that took recipients.

        A relay keeps the message and tries at once, as a real MTA does on receipt; per RFC
        5321 §5.1 it uses only the MX records of lower preference number than its own.
        """
        for hop in self.hops:
            due = hop.result.next_retry_any_s if hop.result is not None else None
            if due is not None and due <= self.clock.now:
                self.session = None
                await hop.fast_forward_to_next_retry()
        by_relay: dict[TryTarget, list[str]] = {}
        for recipient, target in self._at_relay.items():
            by_relay.setdefault(target, []).append(recipient)
        self._at_relay = {}
        for relay, recipients in by_relay.items():
            hop = self._hop_walk(relay, tuple(recipients))
            self.hops.append(hop)
            await hop.run()

    def _hop_walk(self, relay: TryTarget, recipients: tuple[str, ...]) -> Walk:
        plan = replace(self.plan, groups=tuple(
            g for g in self.plan.groups if g.preference < relay.preference
        ))  # fmt: skip
        envelope = replace(self.envelope, recipients=recipients, ehlo_name=relay.host)
        hop = Walk(
            plan, envelope, dialer=self.dialer, profile=self.relays[relay.address],
            seed=self.seed, clock=self.clock, confirm_send=self.confirm_send,
            quit_after=self.quit_after, timeouts=self.timeouts, port=self.port,
            on_session_event=self.on_session_event, relays=self.relays,
        )  # fmt: skip
        hop.hop, hop.relayed_by, hop.queued_at = self.hop + 1, relay, int(self.clock.now)
        hop.on_event = self._hop_event(hop)
        # One gate for the whole walk: pausing or single-stepping the sender's walk holds
        # the relay's delivery too (the app paces only the walk it made).
        hop._gate = self._gate  # type: ignore[method-assign]
        return hop

    def _hop_event(self, hop: Walk) -> EventSink:
        def forward(event: WalkEvent) -> None:
            self.session = hop.session  # so closing "the walk's session" reaches the hop's
            self._emit(event)

        return forward

    def _give_up(self, recipients: list[str]) -> None:
        """The queue lifetime is over: what is still deferred is returned to the sender."""
        for r in recipients:
            previous = self.states[r]
            self._set(r, RecipientStatus.BOUNCED, previous.reply, None,
                      detail=previous.detail or "given up after the queue lifetime")  # fmt: skip

    def _result(self, next_retry: int | None) -> WalkResult:
        states = self.states
        for r, s in states.items():
            if s.state is RecipientStatus.BOUNCED and r not in self._ndrs:
                self._ndrs[r] = self._ndr(r)
        done = sum(s.state is RecipientStatus.DELIVERED for s in states.values())
        outcome: WalkOutcome
        if self._held:
            outcome = "held"  # accepted at RCPT is not delivered: the dot was never sent
        elif done == len(states):
            outcome = "delivered"
        elif done:
            outcome = "partial"
        elif any(s.state is RecipientStatus.DEFERRED for s in states.values()):
            outcome = "deferred"
        else:
            outcome = "bounced"
        queued = any(s.state is RecipientStatus.DEFERRED for s in states.values())
        result = WalkResult(
            outcome=outcome,
            order=self.order,
            attempts=tuple(self._records),
            recipients=dict(states),
            retry=self.timeline if queued else None,
            ndrs={r: self._ndrs[r] for r in states if r in self._ndrs},
            seed=self.seed,
            profile=self.profile.name,
            attempt=self.attempt,
            clock_s=self.clock.now,
            next_retry_s=next_retry if queued else None,
            next_retry_window_s=self._next_window if queued and next_retry is not None else None,
            held=self._held,
            hops=tuple(
                HopResult(h.hop, h.relayed_by, h.result)
                for h in self.hops
                if h.result is not None and h.relayed_by is not None
            ),
        )
        self.result = result
        self.results.append(result)
        self._emit(WalkEnded(result))
        return result

    def _ndr(self, recipient: str) -> str:
        decision, reply, target = self._why.get(recipient, (None, None, None))
        if decision is None:  # given up without a recorded decision (cannot happen in practice)
            decision = decide(Stage.CONNECT, Outcome.TIMEOUT, self.profile,
                              DecisionContext(last_address=True), self.values)  # fmt: skip
        message = ndr_preview(
            decision,
            recipient=recipient,
            sender=self.envelope.mail_from or "postmaster",
            remote_mta=target.host if target else None,
            reply=reply,
            now=ARRIVAL + timedelta(seconds=self.clock.now),
            arrival=ARRIVAL + timedelta(seconds=self.queued_at),
            kind="failed",
            params=self.values,
            profile=self.profile,
            original=self._original_headers(recipient),
            reporting_mta=self.envelope.ehlo_name or "mx.sender.example",
        )
        return ndr_text(message)

    def _original_headers(self, recipient: str) -> str:
        """The headers of the message this walk carried, for the NDR's returned part (RFC 3464
        §2: text/rfc822-headers); made up from the envelope when there is no message."""
        head = self.envelope.message.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
        text = head.decode("utf-8", errors="replace").strip()
        if text:
            return text
        sender = self.envelope.mail_from or "<>"
        return f"From: {sender}\nTo: {recipient}\nSubject: test (mxtui's default message)"

    async def fast_forward_to_next_retry(self) -> WalkResult:
        """Jump the simulated clock to the next attempt anywhere and make it.

        That is the profile's next attempt for the sender's queue, or a relay's for a hop
        (then the sender's walk does not start again: only the hop's events come, and a
        `WalkEnded` with the updated hops). If the message's lifetime ends before another
        attempt (OpenSMTPD, Exchange, the RFC baseline expire at a fixed age), it expires there
        without one and the NDR goes out. With nothing queued, the last result is returned
        unchanged.
        """
        if self.result is None:
            return await self.run()
        when = self.result.next_retry_any_s
        if when is None:
            return self.result
        self.clock.advance_to(when)
        mine = self.result.next_retry_s
        if mine is None or mine > when:  # only a relay's queue is due
            await self._run_hops()
            return self._result(mine)
        age = when - self.queued_at
        if age >= self.timeline.give_up_s and age not in self.timeline.attempts_s:
            self.attempt += 1
            self._records = []
            self._emit(WalkStarted(self.plan.domain, self.profile.name, self.seed, (),
                                   self.attempt, self.clock.now))  # fmt: skip
            self._give_up(
                [r for r, s in self.states.items() if s.state is RecipientStatus.DEFERRED]
            )
            await self._run_hops()
            return self._result(None)
        return await self.run()


async def walk(plan: MXPlan, envelope: Envelope, **options: Any) -> WalkResult:
    """One delivery attempt; `options` as for `Walk`."""
    return await Walk(plan, envelope, **options).run()
