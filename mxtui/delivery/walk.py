"""The walk: one message's delivery, attempt after attempt, the way a profile would do it.

The walk owns the recipients' states, the events, the retry clock and the relays' hops; it
builds the try list (`mxtui.delivery.order`), talks to one address after another
(`mxtui.delivery.attempt`), and at the end of an attempt finds the next retry or gives up.
Pause and single-step come from a `StepGate` it holds (and shares with its hops), not from
being one.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import timedelta
from typing import Any, Literal

from mxtui.delivery.attempt import Move, talk
from mxtui.delivery.clock import ARRIVAL, SimClock
from mxtui.delivery.hops import as_hop, run_hops
from mxtui.delivery.order import dns_outcome, next_index, try_order
from mxtui.gate import StepGate
from mxtui.model import (
    Action,
    AttemptRecord,
    Decision,
    DecisionContext,
    Envelope,
    HopResult,
    MXPlan,
    Outcome,
    RecipientResult,
    RecipientState,
    RecipientStatus,
    Reply,
    SessionEvent,
    Stage,
    StepDone,
    Timeouts,
    TryTarget,
    WalkEnded,
    WalkEvent,
    WalkOutcome,
    WalkResult,
    WalkStarted,
)
from mxtui.policy import decide, get_profile, ndr_preview, ndr_text, retry_timeline
from mxtui.policy.profiles import Profile
from mxtui.smtp.dialer import Dialer
from mxtui.smtp.session import Session
from mxtui.tlspolicy.model import TlsPolicy

QuitAfter = Literal["rcpt", "dot"]
EventSink = Callable[[WalkEvent], None]

_OPEN = (RecipientStatus.PENDING, RecipientStatus.ACCEPTED, RecipientStatus.CARRIED)
"""States in which a recipient is still being worked on in this attempt."""


class Walk:
    """One message's delivery, attempt after attempt, the way `profile` would do it.

    `run()` makes one delivery attempt over the whole try list and returns its `WalkResult`;
    `fast_forward_to_next_retry()` moves the simulated clock to the profile's next attempt
    and runs again for the recipients still queued. `on_event` gets every `WalkEvent`;
    `on_session_event` every session event (transcript lines) of the session in progress.
    `gate` paces it (`pause`, `resume`, `step_once` and `on_wait` are the gate's, here too).
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
        gate: StepGate | None = None,
        tls_policy: TlsPolicy | None = None,
        trust_pem: bytes | None = None,
    ) -> None:
        self.gate = gate or StepGate()
        """Pauses and single-steps the walk (and its hops, which share it)."""
        self.tls_policy = tls_policy
        """The domain's MTA-STS and TLSA records (`mxtui.tlspolicy`): with it, the profile's
        TLS knobs decide what each host must show (None: opportunistic STARTTLS, as before)."""
        self.trust_pem = trust_pem
        """Certificates trusted besides the system's (the lab CA in the lab)."""
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
        self.why: dict[str, tuple[Decision, Reply | None, TryTarget | None]] = {}
        """The decision (and reply, and address) behind each recipient's bounce or deferral."""
        self.records: list[AttemptRecord] = []
        """The addresses tried in the current attempt."""
        self.held = False
        """A recipient was accepted at RCPT but the dot was not sent (a real host)."""
        self._ndrs: dict[str, str] = {}
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
        self.at_relay: dict[str, TryTarget] = {}
        """Recipients delivered to a relay and not yet handed to its hop."""

    @property
    def trust(self) -> tuple[Any, ...]:
        """`trust_pem` as certificates (for checking a certificate against MTA-STS)."""
        if not self.trust_pem:
            return ()
        from mxtui.smtp.tlsinfo import load_trust

        return load_trust(self.trust_pem)

    # -- the gate (composition: the walk has one, its hops share it) ---------------------------

    def pause(self) -> None:
        self.gate.pause()

    def resume(self) -> None:
        self.gate.resume()

    def step_once(self) -> None:
        self.gate.step_once()

    @property
    def paused(self) -> bool:
        return self.gate.paused

    @property
    def on_wait(self) -> Callable[[], None] | None:
        """Called each time the paused walk stops at its gate, before it waits for a step."""
        return self.gate.on_wait

    @on_wait.setter
    def on_wait(self, callback: Callable[[], None] | None) -> None:
        self.gate.on_wait = callback

    # -- events and recipients -----------------------------------------------------------------

    def emit(self, event: WalkEvent) -> None:
        """Tell `on_event`; a hop's events are marked as the hop's (`mxtui.delivery.hops`)."""
        if self.on_event is None:
            return
        if self.hop > 1:
            event = as_hop(self, event)
        self.on_event(event)

    def set_state(
        self,
        recipient: str,
        state: RecipientStatus,
        reply: Reply | None = None,
        target: TryTarget | None = None,
        detail: str = "",
    ) -> None:
        """A recipient changes state; one delivered to a relay is remembered for its hop."""
        result = RecipientResult(state, reply, detail)
        self.states[recipient] = result
        delivered = state is RecipientStatus.DELIVERED
        if delivered and target is not None and target.address in self.relays:
            self.at_relay[recipient] = target
        self.emit(RecipientState(recipient, result, target))

    def open_recipients(self) -> list[str]:
        """The recipients still being worked on in this attempt."""
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

    # -- an attempt ----------------------------------------------------------------------------

    async def run(self) -> WalkResult:
        """One delivery attempt for every recipient not yet delivered or bounced."""
        self.attempt += 1
        self.records = []
        self.order = try_order(self.plan, self.profile, self._rng, self.values)
        self.emit(
            WalkStarted(
                self.plan.domain, self.profile.name, self.seed, self.order, self.attempt,
                self.clock.now,
            )
        )  # fmt: skip
        for recipient, state in self.states.items():
            if state.state in (RecipientStatus.DEFERRED, RecipientStatus.CARRIED):
                self.set_state(recipient, RecipientStatus.PENDING)
        if not self.order:
            await self.gate.wait()
            self._dns_decision()
        else:
            await self._deliver()
        await run_hops(self)
        return self._finish()

    def _dns_decision(self) -> None:
        """No address to dial: the MX lookup's outcome is decided at stage DNS, no connection."""
        outcome = dns_outcome(self.plan)
        decision = decide(Stage.DNS, outcome, self.profile, DecisionContext(last_address=True),
                          self.values)  # fmt: skip
        self.emit(StepDone(None, Stage.DNS, None, decision, DecisionContext(last_address=True)))
        state = (
            RecipientStatus.BOUNCED if decision.action is Action.NDR else RecipientStatus.DEFERRED
        )
        for recipient in self.open_recipients():
            self.why[recipient] = (decision, None, None)
            self.set_state(recipient, state, detail=f"{decision.status} {outcome}")

    async def _deliver(self) -> None:
        """Talk to one address after another, as the moves say, until nobody is left open."""
        index, dialled, sessions = 0, 0, 0
        plaintext_retry: int | None = None
        while index < len(self.order) and self.open_recipients():
            dialled += 1 if plaintext_retry != index else 0
            tls_off = plaintext_retry == index or not self.profile.sends(Stage.STARTTLS)
            move, sessions = await talk(self, index, dialled, sessions, tls_off)
            if move is Move.STOP:
                break
            if move is Move.AGAIN_PLAIN and plaintext_retry != index:
                plaintext_retry = index
                continue
            index = next_index(self.order, index, dialled, by_host=move is Move.NEXT_MX,
                               profile=self.profile, params=self.values)  # fmt: skip
        for recipient in self.open_recipients():
            why = "no address left to try in this attempt"
            self.set_state(recipient, RecipientStatus.DEFERRED, self.states[recipient].reply,
                           detail=why)  # fmt: skip

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

    def _give_up(self, recipients: list[str]) -> None:
        """The queue lifetime is over: what is still deferred is returned to the sender."""
        for r in recipients:
            previous = self.states[r]
            why = previous.detail or "given up after the queue lifetime"
            self.set_state(r, RecipientStatus.BOUNCED, previous.reply, None, detail=why)

    def _result(self, next_retry: int | None) -> WalkResult:
        states = self.states
        for r, s in states.items():
            if s.state is RecipientStatus.BOUNCED and r not in self._ndrs:
                self._ndrs[r] = self._ndr(r)
        done = sum(s.state is RecipientStatus.DELIVERED for s in states.values())
        outcome: WalkOutcome
        if self.held:
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
            attempts=tuple(self.records),
            recipients=dict(states),
            retry=self.timeline if queued else None,
            ndrs={r: self._ndrs[r] for r in states if r in self._ndrs},
            seed=self.seed,
            profile=self.profile.name,
            attempt=self.attempt,
            clock_s=self.clock.now,
            next_retry_s=next_retry if queued else None,
            next_retry_window_s=self._next_window if queued and next_retry is not None else None,
            held=self.held,
            hops=tuple(
                HopResult(h.hop, h.relayed_by, h.result)
                for h in self.hops
                if h.result is not None and h.relayed_by is not None
            ),
        )
        self.result = result
        self.results.append(result)
        self.emit(WalkEnded(result))
        return result

    def _ndr(self, recipient: str) -> str:
        decision, reply, target = self.why.get(recipient, (None, None, None))
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
            await run_hops(self)
            return self._result(mine)
        age = when - self.queued_at
        if age >= self.timeline.give_up_s and age not in self.timeline.attempts_s:
            self.attempt += 1
            self.records = []
            self.emit(WalkStarted(self.plan.domain, self.profile.name, self.seed, (),
                                  self.attempt, self.clock.now))  # fmt: skip
            self._give_up(
                [r for r, s in self.states.items() if s.state is RecipientStatus.DEFERRED]
            )
            await run_hops(self)
            return self._result(None)
        return await self.run()


async def walk(plan: MXPlan, envelope: Envelope, **options: Any) -> WalkResult:
    """One delivery attempt; `options` as for `Walk`."""
    return await Walk(plan, envelope, **options).run()
