"""The app's delivery walk: run, pause, single-step, reshuffle, fast-forward; scenarios; replay.

`WalkingMixin` is part of `MXTuiApp` (kept apart so app.py stays about the tree and the
session). A walk is the core `Walk`, held at its gate and released one step at a time: running
means "release the next step after `walk_delay` seconds", paused means "release on n". That is
how a presenter gets a walk slow enough to talk over and a trainer gets one step per key.

Every event (resolve, walk, session) also goes into an in-memory recording; `w` saves it as
JSON Lines (`mxtui.record`), and `mxtui replay FILE` plays it back through the same handlers
here, so a replay looks exactly like the walk it recorded.
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.timer import Timer
from textual.widgets import Input

from mxtui.delivery import SimClock, Walk, dns_outcome
from mxtui.lab.hosts import relay_profiles
from mxtui.lab.runtime import Lab
from mxtui.lab.scenarios import Scenario, list_scenarios, load_scenario
from mxtui.model import (
    AttemptStarted,
    Envelope,
    HopStarted,
    Outcome,
    PlanStatus,
    SessionEvent,
    Stage,
    StepDone,
    StepResult,
    TranscriptLine,
    WalkEnded,
    WalkStarted,
)
from mxtui.policy import PROFILES
from mxtui.smtp.message import default_message
from mxtui.text import printable
from mxtui.ui.explain import ExplainPanel, NDRScreen, NoticeFacts
from mxtui.ui.mx_tree import MXTree
from mxtui.ui.session_pane import SessionPane, default_envelope
from mxtui.ui.walk_panel import DEMO, Narrative, ScenarioPicker, WalkStatus
from mxtui.ui.walk_state import WalkState, duration

if TYPE_CHECKING:
    from textual.app import App

    _Base = App[int]
else:
    _Base = object

SPEEDS = (0.0, 0.15, 0.4, 0.8, 1.5)
"""Seconds between walk steps when running, slowest last; `+`/`-` move along it."""

DNS_OUTCOMES = {
    PlanStatus.NXDOMAIN: Outcome.NXDOMAIN,
    PlanStatus.NO_MAIL_RECORDS: Outcome.NO_ADDRESS,
    PlanStatus.NULL_MX: Outcome.NULL_MX,
    PlanStatus.SERVFAIL: Outcome.DNS_TEMPFAIL,
    PlanStatus.TIMEOUT: Outcome.DNS_TEMPFAIL,
    PlanStatus.ERROR: Outcome.DNS_TEMPFAIL,
}


class WalkingMixin(_Base):
    """Walk, scenario and replay behaviour of `MXTuiApp` (see the module docstring)."""

    lab: Lab | None
    scenario: Scenario | None
    replaying = False
    """True while the app plays a recording (set by `ReplayingMixin`)."""
    timeouts: Any
    port: int

    def _init_walking(self) -> None:
        self.walk: Walk | None = None
        self.walk_state: WalkState | None = None
        self.walk_running = False
        self.walk_delay = SPEEDS[2]
        self._walk_waiting = False
        self._walk_active = False
        self._walk_fast = False
        self._walk_budget = 0
        self._walk_timer: Timer | None = None
        self._resolve_log: list[object] = []
        self._recording: list[tuple[float, object]] = []
        self._recording_kind = ""
        self._record_t0 = 0.0

    # ---- recording ----------------------------------------------------------------------

    def _record(self, event: object) -> None:
        if self._recording_kind:
            self._recording.append((time.monotonic() - self._record_t0, event))

    def _begin_recording(self, kind: str) -> None:
        """Start a new recording: the plan's resolve events first (at t=0), then what follows."""
        self._recording_kind = kind
        self._record_t0 = time.monotonic()
        self._recording = [(0.0, e) for e in self._resolve_log]

    def note_resolve_event(self, event: object, first: bool) -> None:
        """The app calls this for each resolve event, so a recording can rebuild the tree."""
        if first:
            self._resolve_log = []
        self._resolve_log.append(event)

    def record_session_event(self, event: SessionEvent) -> None:
        """The session pane's listener: a session of the pane's own is recorded too."""
        self._record(event)

    def begin_session_recording(self) -> None:
        self._stop_walk()
        self._begin_recording("session")

    def save_recording(self, base: Path) -> Path | None:
        """Write the recording beside an export (`base`.mxrec.jsonl); None if nothing to save."""
        if not self._recording_kind or len(self._recording) <= len(self._resolve_log):
            return None
        from mxtui.record import Recorder

        explain = self.query_one(ExplainPanel)
        envelope: Envelope = self.query_one(SessionPane).envelope
        state = self.walk_state
        path = base.with_name(base.name + ".mxrec.jsonl")
        with Recorder(
            path,
            kind=self._recording_kind,
            domain=state.domain if state and state.domain else self._current_domain(),
            profile=explain.profile,
            seed=state.seed if state else None,
            scenario=self.scenario.name if self.scenario else None,
            envelope={
                "from": envelope.mail_from,
                "to": list(envelope.recipients),
                "ehlo": envelope.ehlo_name,
            },
        ) as recorder:
            for t, event in self._recording:
                recorder.write(event, t=t)
        return path

    def _current_domain(self) -> str:
        plan = self.query_one(MXTree).plan
        return plan.domain if plan is not None else ""

    # ---- starting and stopping ----------------------------------------------------------

    def start_walk(
        self, *, seed: int | None = None, running: bool = True, first_step: bool = False
    ) -> bool:
        """A new walk of the plan on screen (a new seed unless one is given); `first_step`
        takes one step even though the walk starts paused."""
        tree = self.query_one(MXTree)
        plan = self.resolved_plan  # type: ignore[attr-defined]
        if plan is None:
            self.notify("Resolve a domain first (/ then Enter); the walk needs its MX plan.")
            return False
        if self.replaying:
            self.notify("This is a replay: R plays it again from the start.")
            return False
        self._stop_walk()
        explain = self.query_one(ExplainPanel)
        pane = self.query_one(SessionPane)
        clock = SimClock()
        if self.lab is not None:
            self.lab.smtp.forget()
            clock.attach(self.lab)
        profile = explain.profile
        walk = Walk(
            plan,
            pane.envelope,
            dialer=self.dialer,  # type: ignore[attr-defined]
            profile=profile,
            params=explain.params.get(profile),
            seed=seed,
            clock=clock,
            timeouts=self.timeouts,
            on_session_event=self._walk_session_event,
            # A lab backup MX that stores and forwards makes its own delivery (the second hop).
            relays=relay_profiles(self.lab.behaviours) if self.lab is not None else None,
        )
        walk.pause()
        walk.on_wait = self._walk_ready
        self.walk = walk
        self.walk_state = WalkState()
        self.walk_running = running
        self._walk_budget = 1 if first_step else 0
        tree.set_marks({})
        display = PROFILES[profile].display
        pane.begin_external(f"Delivery walk as {display}: every session it opens")
        self._begin_recording("walk")
        self._walk_worker(walk, next_retry=False, to_end=False)
        self._show_walk_status()
        return True

    def _stop_walk(self) -> None:
        """Cancel a walk in progress (its session closes); its state stays on screen."""
        if self._walk_timer is not None:
            self._walk_timer.stop()
            self._walk_timer = None
        self.workers.cancel_group(self, "walk")  # type: ignore[arg-type]
        if self.walk is not None and self.walk.session is not None:
            self.walk.session.close()
        self._walk_waiting = False
        self._walk_active = False
        self._walk_fast = False

    @work(group="walk", exclusive=True, exit_on_error=False)
    async def _walk_worker(self, walk: Walk, next_retry: bool, to_end: bool) -> None:
        self._walk_active = True
        try:
            while True:
                async for event in walk.events(next_retry=next_retry):
                    self._walk_event(event)
                result = walk.result
                if not to_end or result is None or result.next_retry_any_s is None:
                    break
                next_retry = True
        finally:
            if self.walk is walk:
                self._walk_active = False
                self._walk_waiting = False
                self._walk_fast = False
                self._show_walk_status()

    # ---- pacing -------------------------------------------------------------------------

    def _walk_ready(self) -> None:
        """The walk waits at its gate for the next step."""
        self._walk_waiting = True
        self._show_walk_status()
        if self._walk_budget > 0:
            self._walk_budget -= 1
            self._release_step()
        elif self.walk_running:
            delay = 0.0 if self._walk_fast else self.walk_delay
            if delay <= 0:
                self._release_step()
            else:
                self._walk_timer = self.set_timer(delay, self._release_step)

    def _release_step(self) -> None:
        self._walk_timer = None
        if self.walk is not None and self._walk_waiting:
            self._walk_waiting = False
            self.walk.step_once()

    def walk_step(self) -> bool:
        """n during a walk: pause it and take exactly one step. False when no walk is open."""
        if self.walk is None or not self._walk_active:
            return False
        self.walk_running = False
        if self._walk_timer is not None:
            self._walk_timer.stop()
            self._walk_timer = None
        self._release_step()
        self._show_walk_status()
        return True

    def action_walk_toggle(self) -> None:
        """g: start a walk, or pause / resume the one in progress; an ended one starts over."""
        if self.replaying:
            self.replay_toggle()
            return
        if self.walk is None or not self._walk_active:
            seed = self.walk.seed if self.walk is not None else None
            self.start_walk(seed=seed, running=True)
            return
        self.walk_running = not self.walk_running
        if self.walk_running:
            if self._walk_waiting:
                self._release_step()
        elif self._walk_timer is not None:
            self._walk_timer.stop()
            self._walk_timer = None
        self._show_walk_status()

    def action_walk_reshuffle(self) -> None:
        """R: start over with a new seed, so equal preferences may come in another order."""
        if self.replaying:
            self.replay_restart()
            return
        seed = random.SystemRandom().randrange(2**31)
        if self.start_walk(seed=seed, running=True):
            self.notify(f"New shuffle: seed {seed}.", markup=False)

    def action_walk_next_retry(self) -> None:
        """f: move the simulated clock to the profile's next retry and make that attempt."""
        if not self._can_fast_forward():
            return
        assert self.walk is not None
        self._walk_worker(self.walk, next_retry=True, to_end=False)

    def action_walk_to_end(self) -> None:
        """F: every remaining retry at once, to delivery or to the give-up NDR."""
        if not self._can_fast_forward():
            return
        assert self.walk is not None
        self._walk_fast = True
        self.walk_running = True
        self._walk_worker(self.walk, next_retry=True, to_end=True)

    def _can_fast_forward(self) -> bool:
        if self.replaying:
            self.notify("A replay shows what was recorded; it cannot fast-forward the walk.")
            return False
        if self.walk is None:
            self.notify("No walk yet: g starts one.")
            return False
        if self._walk_active:
            self.notify("This attempt is still going: let it end first (g runs it).")
            return False
        result = self.walk.result
        if result is None or result.next_retry_any_s is None:
            self.notify("Nothing is queued for a retry: the walk is over (g starts it again).")
            return False
        return True

    def action_walk_faster(self) -> None:
        self._change_speed(-1)

    def action_walk_slower(self) -> None:
        self._change_speed(+1)

    def _change_speed(self, step: int) -> None:
        if self.replaying:
            self.replay_speed_step(-step)
            return
        i = SPEEDS.index(self.walk_delay) if self.walk_delay in SPEEDS else 2
        self.walk_delay = SPEEDS[min(max(i + step, 0), len(SPEEDS) - 1)]
        words = "no pause" if self.walk_delay == 0 else f"{self.walk_delay:g} s"
        self.notify(f"Walk speed: {words} between steps.", markup=False)
        self._show_walk_status()

    def walk_profile_changed(self) -> None:
        """The profile changed: a walk on screen is walked again, same seed, under the new one."""
        if self.walk is None or self.replaying:
            return
        self.start_walk(seed=self.walk.seed, running=self.walk_running or not self._walk_active)

    # ---- showing events -----------------------------------------------------------------

    def _walk_session_event(self, event: SessionEvent) -> None:
        self._record(event)
        for pane in self.query(SessionPane):  # none while the app shuts down mid-walk
            pane.feed(event)

    def _walk_event(self, event: object) -> None:
        self._record(event)
        if self.query(SessionPane):  # not while the app shuts down mid-walk
            self.show_walk_event(event)

    def show_walk_event(self, event: object) -> None:
        """One walk event onto the screen (live or replayed)."""
        state = self.walk_state
        if state is None:
            state = self.walk_state = WalkState()
        state.apply(event)
        pane = self.query_one(SessionPane)
        tree = self.query_one(MXTree)
        if isinstance(event, WalkStarted):
            tree.set_marks({})
            if event.attempt > 0:
                pane.feed(
                    TranscriptLine(
                        "info",
                        f"══ retry: attempt {event.attempt + 1} at {duration(event.clock_s)} "
                        "(simulated time) ══",
                        0.0,
                    )
                )
        elif isinstance(event, HopStarted):
            pane.feed(TranscriptLine("info", f"══ {state.hop_words()} (simulated time) ══", 0.0))
            tree.set_marks(state.tree_marks())
        elif isinstance(event, AttemptStarted):
            t = event.target
            by = f"hop {event.hop} · " if event.hop > 1 else ""
            pane.feed(
                TranscriptLine(
                    "info",
                    printable(
                        f"── {by}try {event.index + 1}: {t.host} [{t.address}] "
                        f"preference {t.preference} ──"
                    ),
                    0.0,
                )
            )
            tree.set_marks(state.tree_marks())
        elif isinstance(event, StepDone):
            tree.set_marks(state.tree_marks())
            if event.stage is not Stage.QUIT:  # the answer to QUIT changes nothing: keep the
                self._explain_walk_step(event)  # step that decided on screen
        elif isinstance(event, WalkEnded):
            tree.set_marks(state.tree_marks())
            if event.result.ndrs:
                self.notify("The walk bounced a recipient: b shows the NDR.", markup=False)
        else:
            tree.set_marks(state.tree_marks())
        self._show_walk_status()

    def _explain_walk_step(self, event: StepDone) -> None:
        explain = self.query_one(ExplainPanel)
        envelope = self.query_one(SessionPane).envelope
        step = event.step
        facts = NoticeFacts(
            # The step names the recipient it concerns; a DNS decision concerns them all.
            recipient=step.recipient if step else (envelope.recipients or ("",))[0],
            sender=(step.sender if step else envelope.mail_from) or "<>",
            reporting_mta=envelope.ehlo_name,
            remote_mta=event.target.host if event.target else None,
        )
        if event.step is not None:
            explain.show_step(event.step, event.context, notice=facts)
        else:
            plan = self.query_one(MXTree).plan
            outcome = dns_outcome(plan) if plan else Outcome.NXDOMAIN  # as the walk decided
            explain.show_outcome(Stage.DNS, outcome, event.context, notice=facts)

    def walk_context_for(self, step: StepResult) -> tuple[Any, Any] | None:
        """(target, context) of a walk step the user picked in the transcript."""
        if self.walk_state is None:
            return None
        return self.walk_state.contexts.get(id(step))

    def _show_walk_status(self) -> None:
        status = self.query_one(WalkStatus)
        state = self.walk_state
        if state is None:
            status.show(None)
            if self.replaying:  # a session's replay: say so on its status
                mode, hint = self.replay_mode_words()
                pane = self.query_one(SessionPane)
                pane.external = f"Replay of a recorded session · {mode} · {hint}"
                pane.show_status()
            return
        if self.replaying:
            mode, hint = self.replay_mode_words()
        elif self._walk_active:
            mode = "running" if self.walk_running else "paused"
            hint = (
                "g pause · n one step · +/- speed"
                if self.walk_running
                else ("n next step · g run · R reshuffle")
            )
        else:
            mode = "ended"
            result = state.result
            if result is not None and result.next_retry_any_s is not None:
                hint = "f next retry · F to the end · g again · R reshuffle · b NDR"
            else:
                hint = "g walk again · R reshuffle · p other profile · b NDR · w save"
        status.show(state, mode=mode, hint=hint)

    def walk_ndr(self) -> bool:
        """b after a walk bounced: the NDR the walk produced. False if there is none."""
        state = self.walk_state
        if state is None or state.result is None or not state.result.ndrs:
            return False
        body = "\n\n".join(
            f"— for {printable(r)} —\n{text}" for r, text in state.result.ndrs.items()
        )
        self.push_screen(NDRScreen(f"NDR from the walk ({state.result.outcome})", body))
        return True

    # ---- scenarios ----------------------------------------------------------------------

    def action_pick_scenario(self) -> None:
        try:
            scenarios = list_scenarios()
        except ValueError as exc:
            self.notify(f"Cannot read the scenarios: {exc}", severity="error", markup=False)
            return
        current = self.scenario.name if self.scenario else (DEMO if self.lab else None)

        def chosen(name: str | None) -> None:
            if name is not None:
                self.call_later(self.open_scenario, name)

        self.push_screen(ScenarioPicker(scenarios, current), chosen)

    async def open_scenario(self, name: str) -> None:
        """Stop the current lab and open scenario `name` (or the demo): its zone, hosts,
        envelope, profile and narrative."""
        scenario = None
        if name != DEMO:
            try:
                scenario = load_scenario(name)
            except ValueError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
        if self.replaying:
            self.stop_replay()
        self._stop_walk()
        self.walk = None
        self.walk_state = None
        pane = self.query_one(SessionPane)
        await pane.close()
        pane.end_external()
        lab = scenario.lab() if scenario is not None else Lab()
        try:
            await lab.start()
        except OSError as exc:
            self.notify(f"Cannot start the lab: {exc}", severity="error", markup=False)
            return
        if self.lab is not None:
            await self.lab.stop()
        self.lab = lab
        self.nameservers = lab.nameservers  # type: ignore[attr-defined]
        self.apply_scenario(scenario)
        self.query_one("#domain", Input).value = lab.domain
        self.start_resolve(lab.domain)  # type: ignore[attr-defined]
        self.query_one(MXTree).focus()

    def apply_scenario(self, scenario: Scenario | None) -> None:
        """Envelope, profile, narrative and title for `scenario` (None: the demo lab)."""
        self.scenario = scenario
        pane = self.query_one(SessionPane)
        if scenario is not None:
            envelope = scenario.envelope
            if not envelope.message:
                envelope = replace(envelope, message=default_message(envelope))
            pane.set_envelope(envelope)
            self.query_one(ExplainPanel).set_profile(scenario.profile)
            self.sub_title = f"lab · scenario {scenario.name} · {scenario.domain}"
        elif self.lab is not None:
            pane.set_envelope(default_envelope(self.lab.domain))
            self.sub_title = f"lab · {self.lab.domain}"
        self.query_one(Narrative).show(scenario)

    def action_fold_narrative(self) -> None:
        narrative = self.query_one(Narrative)
        if narrative.scenario is None:
            self.notify("No scenario open: s picks one.")
            return
        narrative.toggle_fold()
