"""The walk driver: a delivery walk run, paused, stepped, reshuffled and fast-forwarded by keys.

A walk is the core `Walk`, held at its gate and released one step at a time: running means
"release the next step after `delay` seconds", paused means "release on n". That is how a
presenter gets a walk slow enough to talk over and a trainer gets one step per key.

On a real network nothing is simulated towards the servers: before a step opens a connection
the network's `Pacer` is asked, and a host that had its `SESSIONS_PER_MINUTE` sessions waits
(with a countdown, cancelled by g); a retry (f) waits the profile's retry time in real time
(a real server's greylist needs real minutes); and "every retry at once" (F) is refused.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from mxtui.delivery import SimClock, Walk
from mxtui.desk.choices import SPEEDS, Choices
from mxtui.desk.driver import Cancel, DriverStatus, Emit, Notice, Schedule, StatusChanged
from mxtui.desk.walk_state import WalkState
from mxtui.model.dns import MXPlan
from mxtui.model.smtp import SessionEvent, Timeouts
from mxtui.model.walk import AttemptStarted, WalkEnded
from mxtui.network import SESSIONS_PER_MINUTE, Network
from mxtui.smtp.message import default_message
from mxtui.text import span
from mxtui.tlspolicy.model import TlsPolicy

TICK = 1.0
"""Seconds between countdown updates while a real-time wait runs."""


class WalkDriver:
    """Runs one walk at a time over `network` under `choices` (see the module docstring).

    Every walk and session event goes to `emit` as it happens (after `state` has folded it in),
    with `Notice`s for what the person should read and `StatusChanged` when only the status
    moved. `schedule` sets the timers; `now` is the real clock (a fake one in tests).
    """

    def __init__(
        self,
        network: Network,
        choices: Choices,
        emit: Emit,
        schedule: Schedule,
        *,
        timeouts: Timeouts | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.network = network
        self.choices = choices
        self.emit = emit
        self.schedule = schedule
        self.timeouts = timeouts
        self.now = now
        self.plan: MXPlan | None = None
        self.tls_policy: TlsPolicy | None = None
        """The plan's TLS policy, once looked up: the walk's profile applies it."""
        self.walk: Walk | None = None
        self.state: WalkState | None = None
        self.running = False
        self.delay = choices.speed
        self._waiting = False
        self._active = False
        self._fast = False
        self._budget = 0
        self._timer: Cancel | None = None
        self._task: asyncio.Task[None] | None = None
        self._connect_to: str | None = None
        self._ended_at = 0.0
        self._wait_until = 0.0
        self._wait_what = ""
        self._wait_then: Callable[[], None] | None = None

    # ---- what the app tells the driver ----------------------------------------------------

    def set_plan(self, plan: MXPlan | None) -> None:
        """A new plan on screen: a walk of the old one stops and is forgotten."""
        self.stop()
        self.plan = plan
        self.tls_policy = None  # the new plan's comes later (`tls_policy` is set then)
        self.walk = None
        self.state = None

    def use(self, choices: Choices) -> None:
        """New choices: when the profile or the envelope changed, a walk on screen is walked
        again, same seed, under them; otherwise they apply to the next walk."""
        changed = (choices.profile, choices.envelope) != (
            self.choices.profile,
            self.choices.envelope,
        )
        self.choices = choices
        if self.walk is not None and changed:
            self.start(seed=self.walk.seed, running=self.running or not self._active)

    @property
    def active(self) -> bool:
        """A walk attempt is in progress (or waiting at its gate)."""
        return self._active

    @property
    def seed(self) -> int | None:
        return self.walk.seed if self.walk is not None else self.choices.seed

    # ---- starting and stopping ------------------------------------------------------------

    def start(
        self, *, seed: int | None = None, running: bool = True, first_step: bool = False
    ) -> bool:
        """A new walk of the plan (a new seed unless one is given); `first_step` takes one
        step even though the walk starts paused. False when there is no plan to walk."""
        if self.plan is None:
            self.emit(Notice("Resolve a domain first (/ then Enter); the walk needs its MX plan."))
            return False
        self.stop()
        clock = SimClock()
        self.network.attach(clock)
        choices = self.choices
        envelope = choices.envelope
        if not envelope.message:  # made now from the envelope: the size a recording names,
            envelope = replace(envelope, message=default_message(envelope))  # the NDR's headers
        walk = Walk(
            self.plan, envelope, dialer=self.network.dialer, profile=choices.profile,
            params=choices.values.as_dict(), seed=seed, clock=clock, timeouts=self.timeouts,
            on_event=self._walk_event, on_session_event=self._session_event,
            relays=self.network.relays,  # a lab backup MX makes its own delivery (hop 2)
            trust_pem=self.network.trust_pem, tls_policy=self.tls_policy,
        )  # fmt: skip
        walk.pause()
        walk.on_wait = self._ready
        self.walk = walk
        self.state = WalkState()
        self.running = running
        self._budget = 1 if first_step else 0
        self._launch(walk.run())
        self.emit(StatusChanged())
        return True

    def stop(self) -> None:
        """Cancel a walk in progress (its session closes); its state stays on screen."""
        self._cancel_timer()
        self._wait_then = None
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None
        if self.walk is not None and self.walk.session is not None:
            self.walk.session.close()
        self._waiting = self._active = self._fast = False

    def _launch(self, work: Awaitable[object]) -> None:
        walk = self.walk

        async def body() -> None:
            self._active = True
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug must not end the app: say it, keep the screen
                self.emit(Notice(f"The walk failed unexpectedly: {type(exc).__name__}: {exc}",
                                 "error"))  # fmt: skip
            finally:
                if self.walk is walk:
                    self._active = self._waiting = self._fast = False
                    self._ended_at = self.now()
                    self.emit(StatusChanged())

        self._task = asyncio.get_running_loop().create_task(body())

    # ---- pacing ---------------------------------------------------------------------------

    def _ready(self) -> None:
        """The walk waits at its gate for the next step."""
        self._waiting = True
        if self._budget > 0:
            self._budget -= 1
            self._release()
        elif self.running:
            delay = 0.0 if self._fast else self.delay
            if delay <= 0:
                self._release()
            else:
                self._timer = self.schedule(delay, self._release)
        self.emit(StatusChanged())

    def _release(self) -> None:
        """Let the waiting step go, unless it opens a session to a real host that had its
        share this minute: then wait for the pacer first."""
        self._timer = None
        if self.walk is None or not self._waiting:
            return
        address, pacer = self._connect_to, self.network.pacer
        if address is not None and pacer is not None:
            delay = pacer.delay(address)
            if delay > 0:
                self._wait(delay, f"connecting to {address} again", self._release)
                return
            pacer.note(address)
        self._connect_to = None
        self._waiting = False
        self.walk.step_once()

    def _wait(self, seconds: float, what: str, then: Callable[[], None]) -> None:
        """Wait `seconds` of real time with a countdown, then `then` (g cancels)."""
        self._wait_until = self.now() + seconds
        self._wait_what = what
        self._wait_then = then
        self._tick()

    def _tick(self) -> None:
        self._timer = None
        then = self._wait_then
        if then is None:
            return
        left = self._wait_until - self.now()
        if left <= 0:
            self._wait_then = None
            then()
        else:
            self._timer = self.schedule(min(TICK, left), self._tick)
        self.emit(StatusChanged())

    @property
    def waiting_real_time(self) -> float:
        """Seconds left of a real-time wait (0 when none runs)."""
        return max(0.0, self._wait_until - self.now()) if self._wait_then is not None else 0.0

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer()
            self._timer = None

    # ---- keys -----------------------------------------------------------------------------

    def run(self) -> None:
        self.start(seed=self.seed, running=True)

    def step(self) -> None:
        """n: one step and pause (a walk starts, paused, when none is in progress)."""
        if self.walk is None or not self._active:
            self.start(seed=self.seed, running=False, first_step=True)
            return
        if self._wait_then is not None:
            self.emit(Notice("Waiting for the real host (see the countdown); g cancels."))
            return
        self.running = False
        self._cancel_timer()
        if self._waiting:
            self._release()
        else:
            self._budget += 1
        self.emit(StatusChanged())

    def toggle(self) -> None:
        """g: start a walk, or pause / resume the one in progress; an ended one starts over.
        During a real-time wait, g cancels it."""
        if self._wait_then is not None:
            self._wait_then = None
            self._cancel_timer()
            self.running = False
            self.emit(Notice("Wait cancelled: nothing was sent."))
            self.emit(StatusChanged())
            return
        if self.walk is None or not self._active:
            self.run()
            return
        self.running = not self.running
        if self.running:
            if self._waiting:
                self._release()
        else:
            self._cancel_timer()
        self.emit(StatusChanged())

    def restart(self) -> None:
        """R: start over with a new seed, so equal preferences may come in another order."""
        seed = random.SystemRandom().randrange(2**31)
        if self.start(seed=seed, running=True):
            self.emit(Notice(f"New shuffle: seed {seed}."))

    def next_retry(self) -> None:
        """f: the profile's next retry. In the lab the simulated clock jumps there; towards
        real hosts the retry waits its real time, as the profile's queue would."""
        walk = self._fast_forwardable()
        if walk is None or walk.result is None:
            return
        retry_at = walk.result.next_retry_any_s
        assert retry_at is not None
        if self.network.simulated:
            self._launch(walk.fast_forward_to_next_retry())
            return
        wait = (retry_at - walk.clock.now) - (self.now() - self._ended_at)
        if wait <= 0:
            self._launch(walk.fast_forward_to_next_retry())
            return
        self.running = True
        self._wait(wait, "the next retry", lambda: self._launch(walk.fast_forward_to_next_retry()))
        self.emit(
            Notice(
                f"Real hosts: the retry waits its real time ({span(wait)}); a real server's "
                "greylist needs real minutes. g cancels.",
            )
        )

    def to_end(self) -> None:
        """F: every remaining retry at once, to delivery or to the give-up NDR (lab only)."""
        walk = self._fast_forwardable()
        if walk is None:
            return
        if not self.network.simulated:
            self.emit(
                Notice(
                    "F needs simulated time, which only the lab has: towards real hosts each "
                    f"retry waits its real time (f waits for the next one; at most "
                    f"{SESSIONS_PER_MINUTE} sessions per host per minute).",
                    "warning",
                )
            )
            return
        self._fast = True
        self.running = True

        async def every_retry() -> None:
            while walk.result is not None and walk.result.next_retry_any_s is not None:
                await walk.fast_forward_to_next_retry()

        self._launch(every_retry())

    def _fast_forwardable(self) -> Walk | None:
        walk = self.walk
        if walk is None:
            self.emit(Notice("No walk yet: g starts one."))
            return None
        if self._active or self._wait_then is not None:
            self.emit(Notice("This attempt is still going: let it end first (g runs it)."))
            return None
        if walk.result is None or walk.result.next_retry_any_s is None:
            self.emit(
                Notice("Nothing is queued for a retry: the walk is over (g starts it again).")
            )
            return None
        return walk

    def faster(self) -> None:
        self._change_speed(-1)

    def slower(self) -> None:
        self._change_speed(+1)

    def _change_speed(self, step: int) -> None:
        i = SPEEDS.index(self.delay) if self.delay in SPEEDS else 2
        self.delay = SPEEDS[min(max(i + step, 0), len(SPEEDS) - 1)]
        words = "no pause" if self.delay == 0 else f"{self.delay:g} s"
        self.emit(Notice(f"Walk speed: {words} between steps."))
        self.emit(StatusChanged())

    # ---- events ---------------------------------------------------------------------------

    def _session_event(self, event: SessionEvent) -> None:
        self.emit(event)

    def _walk_event(self, event: object) -> None:
        if self.state is None:
            self.state = WalkState()
        self.state.apply(event)
        if isinstance(event, AttemptStarted):
            self._connect_to = event.target.address  # the next step dials it
        self.emit(event)
        if isinstance(event, WalkEnded) and event.result.ndrs:
            self.emit(Notice("The walk bounced a recipient: b shows the NDR."))

    # ---- status ---------------------------------------------------------------------------

    def status(self) -> DriverStatus:
        if self._wait_then is not None:
            left = span(self.waiting_real_time + 0.999)
            return DriverStatus(
                f"waiting {left}",
                f"{self._wait_what} in {left} of real time (a real server's greylist needs "
                f"real minutes; at most {SESSIONS_PER_MINUTE} sessions per host per minute) · "
                "g cancels",
                True,
            )
        if self._active:
            if self.running:
                return DriverStatus("running", "g pause · n one step · +/- speed", True)
            return DriverStatus("paused", "n next step · g run · R reshuffle", True)
        result = self.state.result if self.state is not None else None
        if result is not None and result.next_retry_any_s is not None:
            hint = "f next retry · F to the end · g again · R reshuffle · b NDR"
        else:
            hint = "g walk again · R reshuffle · p other profile · b NDR · w save"
        return DriverStatus("ended", hint, False)
