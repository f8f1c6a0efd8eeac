"""The mxtui application: the MX tree, the SMTP session, and what a sending MTA does next."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Tree
from textual.worker import Worker, WorkerState

from mxtui.dns import DomainError, resolve_mx
from mxtui.lab.runtime import Lab
from mxtui.lab.scenarios import Scenario
from mxtui.model import (
    Address,
    Envelope,
    MXHost,
    MXPlan,
    PlanResolved,
    ResolveEvent,
    Stage,
    StepResult,
    Timeouts,
)
from mxtui.policy import PROFILES
from mxtui.smtp import Dialer, RealDialer
from mxtui.smtp.message import default_message
from mxtui.text import printable
from mxtui.ui.detail import NodeDetail
from mxtui.ui.explain import ExplainPanel, NoticeFacts
from mxtui.ui.help import HelpScreen
from mxtui.ui.keep_theme import keep_picked_themes
from mxtui.ui.mx_tree import MXTree
from mxtui.ui.probe_view import ProbeScreen
from mxtui.ui.replaying import ReplayingMixin
from mxtui.ui.safe import markup_literal
from mxtui.ui.screens import ConfirmSendScreen, EnvelopeScreen
from mxtui.ui.session_pane import SessionPane, Target, default_envelope
from mxtui.ui.transcript import TranscriptView
from mxtui.ui.walk_panel import Narrative
from mxtui.ui.walking import DNS_OUTCOMES, WalkingMixin

if TYPE_CHECKING:
    from mxtui.record import Recording


class Resolved(Message):
    """One step of a resolution, tagged with the lookup it belongs to."""

    def __init__(self, generation: int, event: ResolveEvent) -> None:
        super().__init__()
        self.generation = generation
        self.event = event


class MXTuiApp(ReplayingMixin, WalkingMixin, App[int]):
    TITLE = "mxtui"
    CSS_PATH = Path(__file__).with_name("app.tcss")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next_step", "Next step", id="next-step"),
        Binding("g", "walk_toggle", "Walk/pause", id="walk"),
        Binding("s", "pick_scenario", "Scenarios", id="pick-scenario"),
        Binding("1", "show_pane('mx')", "Tree", id="show-mx"),
        Binding("2", "show_pane('session')", "Session", id="show-session"),
        Binding("3", "show_pane('explain')", "Explain", id="show-explain"),
        Binding("p", "cycle_profile", "Profile", id="cycle-profile"),
        Binding("b", "ndr_preview", "NDR", id="ndr-preview"),
        Binding("e", "edit_envelope", "Envelope", id="edit-envelope"),
        Binding("f", "walk_next_retry", "Next retry", id="walk-next-retry"),
        Binding("F", "walk_to_end", "To the end", id="walk-to-end"),
        Binding("R", "walk_reshuffle", "Reshuffle", id="walk-reshuffle"),
        Binding("plus", "walk_faster", "Faster", id="walk-faster"),
        Binding("minus", "walk_slower", "Slower", id="walk-slower"),
        Binding("v", "fold_narrative", "Narrative", id="fold-narrative"),
        Binding("colon", "focus_raw", "Raw cmd", id="focus-raw"),
        Binding("x", "rset", "RSET", id="rset"),
        Binding("o", "noop", "NOOP", id="noop"),
        Binding("c", "quit_session", "QUIT", id="quit-session"),
        Binding("w", "export", "Export", id="export"),
        Binding("r", "resolve", "Re-resolve", id="resolve"),
        Binding("slash", "focus_domain", "Domain", id="focus-domain"),
        Binding("t", "focus_tree", "Tree", id="focus-tree"),
        Binding("P", "probe", "Probe all", id="probe"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    NARROW = 110
    """Below this many columns the three panes take turns (keys 1, 2, 3) instead of sharing."""

    settings_file: Path | None = None
    """Where a theme picked in the palette is kept (set by `mxtui.ui.launch`); None: nowhere."""

    def __init__(
        self,
        *,
        domain: str | None = None,
        nameservers: Sequence[tuple[str, int]] = (),
        lab: Lab | None = None,
        dns_timeout: float = 5.0,
        port: int = 25,
        timeouts: Timeouts | None = None,
        envelope: Envelope | None = None,
        profile: str | None = None,
        scenario: Scenario | None = None,
        replay: Recording | None = None,
        replay_speed: float = 1.0,
    ) -> None:
        super().__init__()
        if scenario is not None and lab is None:
            lab = scenario.lab()
        if lab is None and not domain and not nameservers and replay is None:
            lab = Lab()  # no domain and no nameserver: the lab demo
        self.scenario = scenario
        self.resolved_plan: MXPlan | None = None
        """The plan of the last lookup once it is complete (the walk needs every address)."""
        self._init_walking()
        self._init_replaying(replay, replay_speed)
        self.initial_envelope = envelope
        self.initial_profile = profile
        self.lab = lab
        self.port = port
        self.timeouts = timeouts
        self.nameservers = list(nameservers)
        self.dns_timeout = dns_timeout
        self.initial_domain = domain or (lab.domain if lab else None)
        self.current_domain = ""
        self._generation = 0
        self.shown_pane = "mx"

    # ---- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="mx-pane"):
                yield Input(
                    placeholder="domain, e.g. example.com — Enter resolves",
                    id="domain",
                    select_on_focus=True,
                )
                yield MXTree(id="mx-tree")
                yield NodeDetail(id="detail")
            yield SessionPane(id="session")
            with Vertical(id="explain-pane"):
                yield Narrative(id="narrative")
                yield ExplainPanel(id="explain")
        yield Footer()

    async def on_mount(self) -> None:
        keep_picked_themes(self, self.settings_file)
        self.query_one(SessionPane).listener = self.record_session_event
        if self.recording is not None:
            self.sub_title = "replay · " + printable(str(self.recording.header.get("domain", "")))
            self.query_one(NodeDetail).show(None)
            self.start_replay()
            self.query_one(MXTree).focus()
            return
        if self.lab is not None:
            await self.lab.start()
            self.nameservers = self.lab.nameservers
            self.sub_title = f"lab · {self.lab.domain}"
        elif self.nameservers:
            self.sub_title = "DNS " + ", ".join(f"{h}:{p}" for h, p in self.nameservers)
        else:
            self.sub_title = "system resolver"
        self.query_one(NodeDetail).show(None, examples=self._examples())
        pane = self.query_one(SessionPane)
        pane.timeouts = self.timeouts
        if self.initial_envelope is not None:
            envelope = self.initial_envelope
            if not envelope.message:  # show (and edit) the test message that would be sent
                envelope = replace(envelope, message=default_message(envelope))
            pane.set_envelope(envelope)
        elif self.initial_domain:
            pane.set_envelope(default_envelope(self.initial_domain.strip().rstrip(".")))
        if self.initial_profile:
            self.query_one(ExplainPanel).set_profile(self.initial_profile)
        if self.scenario is not None:
            self.query_one(Narrative).show(self.scenario)
            self.sub_title = f"lab · scenario {self.scenario.name} · {self.scenario.domain}"
        if self.initial_domain:
            self.query_one("#domain", Input).value = self.initial_domain
            self.start_resolve(self.initial_domain)
            self.query_one(MXTree).focus()
        else:
            self.query_one("#domain", Input).focus()

    def on_resize(self) -> None:
        narrow = self.size.width < self.NARROW
        self.set_class(narrow, "-narrow")
        for footer in self.query(Footer):
            footer.compact = narrow
        self._apply_shown_pane()

    def _apply_shown_pane(self) -> None:
        for pane in ("mx", "session", "explain"):
            self.set_class(self.shown_pane == pane, f"-show-{pane}")

    def action_show_pane(self, pane: str) -> None:
        """In a narrow terminal, bring one pane forward; in a wide one, focus it."""
        self.shown_pane = pane
        self._apply_shown_pane()
        target = {"mx": "#mx-tree", "session": "#transcript", "explain": "#explain"}[pane]
        self.query_one(target).focus()

    async def on_unmount(self) -> None:
        self._stop_walk()
        for pane in self.query(SessionPane):  # gone already if the screen was torn down first
            await pane.close()
        if self.lab is not None:
            await self.lab.stop()

    @property
    def dialer(self) -> Dialer:
        return self.lab.dialer if self.lab is not None else RealDialer(self.port)

    def _examples(self) -> tuple[tuple[str, str], ...]:
        return self.lab.examples if self.lab is not None else ()

    # ---- resolution ---------------------------------------------------------------------

    def start_resolve(self, domain: str) -> None:
        self._generation += 1
        self.current_domain = domain
        self.resolved_plan = None
        self._first_resolve_event = True
        self.query_one(MXTree).begin(printable(domain.strip()) or "(empty)")
        self.resolve(domain, self._generation)

    @work(exclusive=True, group="resolve", exit_on_error=False)
    async def resolve(self, domain: str, generation: int) -> None:
        try:
            await resolve_mx(
                domain,
                nameservers=self.nameservers,
                timeout=self.dns_timeout,
                on_event=lambda event: self.post_message(Resolved(generation, event)),
            )
        except DomainError as exc:
            self.query_one(MXTree).show_error(str(exc))
            self.query_one(NodeDetail).show(self.query_one(MXTree).root.data)

    def on_resolved(self, message: Resolved) -> None:
        if message.generation != self._generation:
            return  # a newer lookup replaced this one
        tree = self.query_one(MXTree)
        tree.apply(message.event)
        self.note_resolve_event(message.event, first=self._first_resolve_event)
        self._first_resolve_event = False
        if isinstance(message.event, PlanResolved):
            self.resolved_plan = message.event.plan
            outcome = DNS_OUTCOMES.get(message.event.plan.status)
            if outcome is not None:
                self.query_one(ExplainPanel).show_outcome(Stage.DNS, outcome, None)
        # The tree rebuilds its lines on the next refresh; read the cursor's node after that.
        self.call_after_refresh(self._show_cursor_detail)

    def _show_cursor_detail(self) -> None:
        node = self.query_one(MXTree).cursor_node
        if node is not None:
            self.query_one(NodeDetail).show(node.data, examples=self._examples())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.group == "resolve":
            error = event.worker.error
            self.query_one(MXTree).show_error(
                f"The lookup failed unexpectedly: {type(error).__name__}: {printable(str(error))}"
            )

    # ---- events and actions -------------------------------------------------------------

    @on(Input.Submitted, "#domain")
    def domain_submitted(self, event: Input.Submitted) -> None:
        self.start_resolve(event.value)
        self.query_one(MXTree).focus()

    @on(Tree.NodeHighlighted)
    def node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        self.query_one(NodeDetail).show(event.node.data, examples=self._examples())

    # ---- the session ----------------------------------------------------------------------

    @on(Tree.NodeSelected, "#mx-tree")
    def node_selected(self, event: Tree.NodeSelected) -> None:
        tree = self.query_one(MXTree)
        target = _target(
            tree.plan, event.node.data, event.node.parent.data if event.node.parent else None
        )
        if target is None:
            return
        if self.replaying:
            self.notify("This is a replay: nothing is dialled.")
            return
        self.begin_session_recording()
        self.query_one(SessionPane).connect(target, self.dialer)
        if self.has_class("-narrow"):
            self.action_show_pane("session")

    def on_session_pane_stepped(self, message: SessionPane.Stepped) -> None:
        self._explain(message.step)

    def on_transcript_view_step_selected(self, message: TranscriptView.StepSelected) -> None:
        if message.step is None:
            return
        walked = self.walk_context_for(message.step)
        following = not self.query_one(TranscriptView).has_focus
        if walked is not None and message.step.stage is Stage.QUIT and following:
            return  # the cursor following a walk's end: keep the step that decided on screen
        if walked is not None:
            target, context = walked
            envelope = self.query_one(SessionPane).envelope
            facts = NoticeFacts(
                recipient=message.step.recipient,
                sender=message.step.sender or "<>",
                reporting_mta=envelope.ehlo_name,
                remote_mta=target.host if target else None,
            )
            self.query_one(ExplainPanel).show_step(message.step, context, notice=facts)
        else:
            self._explain(message.step)

    def _explain(self, step: StepResult) -> None:
        pane = self.query_one(SessionPane)
        target, envelope = pane.target, pane.envelope
        if target is None:
            return
        facts = NoticeFacts(
            recipient=step.recipient,
            sender=step.sender or "<>",
            reporting_mta=envelope.ehlo_name,
            remote_mta=target.host,
        )
        self.query_one(ExplainPanel).show_step(step, target.context, notice=facts)

    def on_session_pane_hold_for_confirmation(
        self, message: SessionPane.HoldForConfirmation
    ) -> None:
        def answered(send: bool | None) -> None:
            if send:
                self.query_one(SessionPane).confirm_send()
            else:
                self.notify("Not sent. QUIT (c) or RSET (x) next.", markup=False)

        self.push_screen(ConfirmSendScreen(message.target.host, message.target.address), answered)

    def action_next_step(self) -> None:
        """n: the next step of whatever is on screen: a replay, a walk, or the session; with
        none of them open, a walk of the plan starts, one step per n."""
        if self.replaying:
            self.replay_step()
            return
        if self.walk_step():
            return
        pane = self.query_one(SessionPane)
        if pane.session is None and self.resolved_plan is not None:
            if self.start_walk(seed=self.walk.seed if self.walk else None, running=False,
                               first_step=True):  # fmt: skip
                self.notify(
                    "Walking the MX list one step per n (g runs it; Enter on an address talks "
                    "to that address alone).",
                    markup=False,
                )
            return
        pane.next_step()

    def action_rset(self) -> None:
        self.query_one(SessionPane).rset()

    def action_noop(self) -> None:
        self.query_one(SessionPane).noop()

    def action_quit_session(self) -> None:
        self.query_one(SessionPane).quit_session()

    def action_focus_raw(self) -> None:
        self.query_one("#raw", Input).focus()

    def action_edit_envelope(self) -> None:
        pane = self.query_one(SessionPane)

        def edited(envelope: object) -> None:
            if envelope is not None:
                pane.set_envelope(envelope)  # type: ignore[arg-type]

        self.push_screen(EnvelopeScreen(pane.envelope), edited)

    def action_cycle_profile(self) -> None:
        self.query_one(ExplainPanel).cycle_profile()

    def on_explain_panel_profile_changed(self, message: ExplainPanel.ProfileChanged) -> None:
        self.walk_profile_changed()

    def action_ndr_preview(self) -> None:
        if self.walk_ndr():
            return
        self.query_one(ExplainPanel).open_ndr()

    def action_export(self) -> None:
        transcript = self.query_one(TranscriptView)
        if not transcript.line_count:
            self.notify("The transcript is empty: nothing to export.")
            return
        stamp = time.strftime("%Y%m%d-%H%M%S")
        # `mxtui serve` gives each tab a folder of its own; otherwise the working directory.
        folder = os.environ.get("MXTUI_EXPORT_DIR") or Path.cwd()
        base = Path(folder) / f"mxtui-transcript-{stamp}"
        try:
            base.with_suffix(".txt").write_text(transcript.export_text(), encoding="utf-8")
            base.with_suffix(".jsonl").write_text(transcript.export_jsonl(), encoding="utf-8")
            recording = None if self.replaying else self.save_recording(base)
        except OSError as exc:
            self.notify(f"Could not write the export: {exc}", severity="error", markup=False)
            return
        saved = f"Saved {base.name}.txt and .jsonl in {base.parent}"
        if recording is not None:
            saved += f"; replay the recording with: mxtui replay {recording.name}"
        self.notify(saved, markup=False)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        explain = self.query(ExplainPanel)
        if not explain:
            return
        panel = explain.first()
        for name, profile in PROFILES.items():
            yield SystemCommand(
                f"Profile: {profile.display}",
                f"Explain every reply as {profile.display} would act ({profile.description})",
                partial(panel.set_profile, name),
            )
        yield SystemCommand(
            "NDR preview", "The bounce or delay notice the profile would send", panel.open_ndr
        )
        yield SystemCommand(
            "Envelope", "Edit sender, recipients, EHLO name, message", self.action_edit_envelope
        )
        yield SystemCommand(
            "Export transcript",
            "Save it as text and JSON Lines, and the recording for mxtui replay",
            self.action_export,
        )
        yield SystemCommand(
            "Probe every address",
            "Connect, greeting, EHLO, STARTTLS on every MX address; no MAIL",
            self.action_probe,
        )
        yield SystemCommand("Help: all keys", "Every key, grouped, as mapped", self.action_help)
        yield SystemCommand(
            "Scenarios", "Open a lab scenario (or the demo) with its narrative",
            self.action_pick_scenario,
        )  # fmt: skip
        try:
            from mxtui.lab.scenarios import list_scenarios

            scenarios = list_scenarios()
        except ValueError:
            scenarios = []
        for scenario in scenarios:
            yield SystemCommand(
                markup_literal(f"Scenario: {scenario.name}"),  # the palette parses markup
                markup_literal(scenario.title),
                partial(self.call_later, self.open_scenario, scenario.name),
            )
        yield SystemCommand(
            "Walk: run / pause", "Deliver as the profile would, host after host",
            self.action_walk_toggle,
        )  # fmt: skip
        yield SystemCommand(
            "Walk: reshuffle", "Start over with a new seed for equal preferences",
            self.action_walk_reshuffle,
        )  # fmt: skip
        yield SystemCommand(
            "Walk: next retry", "Move simulated time to the next retry and make it",
            self.action_walk_next_retry,
        )  # fmt: skip
        yield SystemCommand(
            "Walk: to the end", "Every retry at once, to delivery or the give-up NDR",
            self.action_walk_to_end,
        )  # fmt: skip

    # ---- resolution keys --------------------------------------------------------------------

    def action_resolve(self) -> None:
        domain = self.query_one("#domain", Input).value or self.current_domain
        if domain:
            self.start_resolve(domain)

    def action_focus_domain(self) -> None:
        self.query_one("#domain", Input).focus()

    def action_focus_tree(self) -> None:
        self.query_one(MXTree).focus()

    def action_probe(self) -> None:
        """P: every address of every MX host at once (reachable, greeting, EHLO, TLS)."""
        if self.replaying:
            self.notify("This is a replay: nothing is dialled.")
            return
        envelope = self.query_one(SessionPane).envelope
        self.push_screen(
            ProbeScreen(
                self.resolved_plan,
                self.dialer,
                ehlo_name=envelope.ehlo_name,
                timeout=self.timeouts.connect if self.timeouts else 5.0,
            )
        )

    def action_help(self) -> None:
        self.push_screen(HelpScreen())


def _target(plan: MXPlan | None, data: object, parent: object) -> Target | None:
    """The address to dial for a tree node: an address itself, or a host's first address."""
    if plan is None:
        return None
    flat = [(h, a) for h in plan.hosts for a in h.addresses]
    if isinstance(data, Address) and isinstance(parent, MXHost):
        host, address = parent, data
    elif isinstance(data, MXHost) and data.addresses:
        host, address = data, data.addresses[0]
    else:
        return None
    index = next((i for i, (h, a) in enumerate(flat) if h is host and a is address), 0)
    return Target(address.address, host.name, index, len(flat))


def make_app(**options: Any) -> MXTuiApp:
    """The one factory used by the CLI and the tests; the options are `MXTuiApp`'s."""
    return MXTuiApp(**options)
