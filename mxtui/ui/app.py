"""The mxtui application: the MX tree, the SMTP session, and what a sending MTA does next.

The app holds three things and owns no other choice: `choices` (profile, envelope, seed; see
`mxtui.desk.choices`), `network` (the lab or the real one) and one `driver` (a walk or a
replay, `mxtui.desk`). Keys are routed to them; everything that happens comes back as events
and is shown by one method, `show_event`, which also keeps it in the session log for `w`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Header, Input, Tree

from mxtui.delivery import dns_outcome
from mxtui.desk.choices import Choices
from mxtui.desk.driver import Notice
from mxtui.desk.explain import (
    Shown,
    explain,
    shown_outcome,
    shown_step,
    shown_walk_end,
    shown_walk_step,
)
from mxtui.desk.log import SessionLog
from mxtui.desk.replay import ReplayDriver
from mxtui.desk.walk import WalkDriver
from mxtui.model import (
    DataProgress,
    Envelope,
    HostResolved,
    MXAnswered,
    PlanResolved,
    ResolveEvent,
    Stage,
    StepDone,
    StepResult,
    Timeouts,
    TranscriptLine,
    WalkEnded,
    WalkStarted,
)
from mxtui.network import Network
from mxtui.ui import flows
from mxtui.ui.detail import NodeDetail
from mxtui.ui.explain import ExplainPanel
from mxtui.ui.focus import FocusMemory
from mxtui.ui.footer import Footer
from mxtui.ui.keep_theme import keep_picked_themes
from mxtui.ui.keys import bindings
from mxtui.ui.layout import apply_layout, layout_for, pane_kept
from mxtui.ui.mx_tree import MXTree
from mxtui.ui.screens import ConfirmSendScreen
from mxtui.ui.session_pane import SessionPane, Target
from mxtui.ui.transcript import TranscriptView
from mxtui.ui.walk_panel import Narrative, WalkStatus

Driver = WalkDriver | ReplayDriver


class MXTuiApp(App[int]):
    TITLE = "mxtui"
    CSS_PATH = Path(__file__).with_name("app.tcss")
    BINDINGS: ClassVar[list[BindingType]] = list(bindings())

    settings_file: Path | None = None
    """Where a theme picked in the palette is kept (set by `mxtui.ui.launch`); None: nowhere."""

    def __init__(
        self,
        *,
        choices: Choices,
        network: Network | None,
        driver: Callable[[MXTuiApp], Driver],
        domain: str = "",
        dns_timeout: float = 5.0,
        timeouts: Timeouts | None = None,
        scenario: object = None,
    ) -> None:
        """`driver` makes the one driver from the app (it needs `show_event` and timers);
        `network` is None for a replay, which dials nothing."""
        super().__init__()
        self.choices = choices
        self.network = network
        self.scenario = scenario
        self.domain = domain
        self.dns_timeout = dns_timeout
        self.timeouts = timeouts
        self.session_log = SessionLog()
        self.shown: Shown | None = None
        self.decisive: Shown | None = None
        """The walk's last step of the sender's own, explained again with its outcome."""
        self.resolved_plan = None
        self.shown_pane = "mx"
        self.screen_size: Size | None = None
        self.focus_memory = FocusMemory()
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.driver: Driver = driver(self)
        self.replaying = isinstance(self.driver, ReplayDriver)
        """A recording is on screen: nothing is dialled or recorded."""

    # ---- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        apply_layout(self, self.size, self.shown_pane)  # styled in it once, not restyled at mount
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="mx-pane"):
                yield Input(
                    placeholder="domain, e.g. example.com — Enter resolves, Esc leaves",
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
        self.watch(self.screen, "focused", self.focus_memory.seen)  # where Esc goes back to
        pane = self.query_one(SessionPane)
        pane.listener = self.session_log.add
        self._explain(None)
        if isinstance(self.driver, ReplayDriver):
            await flows.begin_replay(self, self.driver)
            return
        assert self.network is not None
        await self.network.start()
        self.sub_title = self.network.label
        self.query_one(NodeDetail).show(None, examples=self.network.examples)
        pane.set_envelope(self.choices.envelope)
        flows.show_scenario(self, self.scenario)
        if self.domain:
            self.query_one("#domain", Input).value = self.domain
            self.start_resolve(self.domain)
            self.query_one(MXTree).focus()
        else:
            self.query_one("#domain", Input).focus()

    def on_resize(self, event: events.Resize) -> None:
        self.screen_size = event.size  # `self.size` still holds the old size here
        layout = layout_for(event.size.width)
        main = self.screen_stack[0]  # the panes' screen, under any dialog open now
        self.shown_pane = pane_kept(main.focused, layout, self.shown_pane)
        apply_layout(self, event.size, self.shown_pane)

    def action_show_pane(self, pane: str) -> None:
        """Bring one pane forward (narrow and medium terminals); focus it."""
        self.shown_pane = pane
        apply_layout(self, self.screen_size or self.size, pane)
        target = {"mx": "#mx-tree", "session": "#transcript", "explain": "#explain"}[pane]
        self.query_one(target).focus()

    async def on_unmount(self) -> None:
        self.driver.stop()
        for pane in self.query(SessionPane):  # gone already if the screen was torn down first
            await pane.close()
        if self.network is not None:
            await self.network.stop()

    # ---- one place for every event ------------------------------------------------------

    def start_resolve(self, domain: str) -> None:
        """Look `domain` up; a default envelope follows the new domain."""
        self.domain = domain
        self.resolved_plan = None
        self.session_log.new_lookup()
        self._explain(None)  # the previous domain's reply is not this one's
        if self.network is None:
            return
        if isinstance(self.driver, WalkDriver):
            self.driver.set_plan(None)
        self.choices = self.choices.for_domain(domain, lab=self.network.simulated)
        self.query_one(SessionPane).set_envelope(self.choices.envelope)
        timeout = self.network.dns_timeout(self.dns_timeout)
        self.query_one(MXTree).resolve(
            domain, self.network.nameservers, timeout, self.network.tls_setup
        )

    def on_mxtree_resolved(self, message: MXTree.Resolved) -> None:
        self.show_event(message.event)

    def on_mxtree_policy_found(self, message: MXTree.PolicyFound) -> None:
        """The plan's TLS policy: on the tree's nodes, and for the walks that follow."""
        self.query_one(MXTree).show_policy(message.policy)
        if isinstance(self.driver, WalkDriver):
            self.driver.tls_policy = message.policy
        self.call_after_refresh(lambda: flows.show_detail(self))

    def show_event(self, event: object) -> None:
        """Show one event, whoever made it: a lookup, a walk, a session, a replay, a driver's
        notice. Live events are also kept for a recording."""
        if not self.replaying:
            if isinstance(event, WalkStarted) and event.attempt == 0:
                self.session_log.begin("walk")
            self.session_log.add(event)
        if not self.query(SessionPane):
            return  # the app is shutting down under a running walk
        pane = self.query_one(SessionPane)
        if isinstance(event, Notice):
            self.notify(event.text, severity=event.severity, markup=False)
        elif isinstance(event, TranscriptLine | DataProgress):
            pane.feed(event)
        elif isinstance(event, StepResult):
            pane.feed(event)
            if self.replaying and self.driver.state is None:  # a recorded session
                self._explain(shown_step(event))
        elif isinstance(event, MXAnswered | HostResolved | PlanResolved):
            self._show_resolve(event)
        else:
            self._show_walk_event(event)
        self._show_status()

    def _show_resolve(self, event: ResolveEvent) -> None:
        self.query_one(MXTree).apply(event)
        if isinstance(event, PlanResolved):
            plan = event.plan
            self.resolved_plan = plan
            if isinstance(self.driver, WalkDriver):
                self.driver.set_plan(plan)
            if not plan.usable:
                envelope = self.choices.envelope
                first = (envelope.recipients or ("",))[0]
                outcome = dns_outcome(plan)
                self._explain(
                    shown_outcome(Stage.DNS, outcome, recipient=first, sender=envelope.mail_from)
                )
        # The tree rebuilds its lines on the next refresh; read the cursor's node after that.
        self.call_after_refresh(lambda: flows.show_detail(self))

    def _show_walk_event(self, event: object) -> None:
        state = self.driver.state
        pane = self.query_one(SessionPane)
        tree = self.query_one(MXTree)
        line = flows.separator(event, state)
        if isinstance(event, WalkStarted) and event.attempt == 0 and not self.replaying:
            display = self.choices.profile.display
            pane.begin_external(f"Delivery walk as {display}: every session it opens")
            if self.has_class("-narrow") and self.shown_pane == "mx":
                self.action_show_pane("session")  # the tree has no room for the outcome
        elif line:
            pane.feed(TranscriptLine("info", line, TranscriptLine.UNTIMED))
        if state is not None:
            tree.set_marks({} if isinstance(event, WalkStarted) else state.tree_marks())
        if isinstance(event, WalkStarted):
            self.decisive = None
        elif isinstance(event, StepDone) and event.stage is not Stage.QUIT:
            self._explain(shown_walk_step(event, self.choices.envelope))
            if event.hop <= 1:  # the sender's own step, not a relay's: why it ends as it does
                self.decisive = self.shown
        elif isinstance(event, WalkEnded):  # the outcome, not the last step (a QUIT, a hop's)
            self._explain(shown_walk_end(event.result, self.decisive))

    def _explain(self, shown: Shown | None) -> None:
        """Explain `shown` under the chosen profile (kept for a profile switch)."""
        self.shown = shown
        self.query_one(ExplainPanel).show(explain(shown, self.choices))

    def _show_status(self) -> None:
        status = self.driver.status()
        state = self.driver.state
        if self.replaying and (state is None or state.attempt < 0):  # before a walk: the
            pane = self.query_one(SessionPane)  # replay's status on the session's line
            what = "walk" if state is not None else "session"
            pane.external = f"Replay of a recorded {what} · {status.mode} · {status.hint}"
            pane.show_status()
            state = None
        elif self.replaying:  # the walk's own status lines say the rest
            self.query_one(SessionPane).external = "Replay of a recorded walk"
        self.query_one(WalkStatus).show(state, mode=status.mode, hint=status.hint)

    # ---- the tree and the session ---------------------------------------------------------

    @on(Input.Submitted, "#domain")
    def domain_submitted(self, event: Input.Submitted) -> None:
        self.start_resolve(event.value)
        self.query_one(MXTree).focus()

    @on(Tree.NodeHighlighted)
    def node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        # The cursor's node now, not the event's: a highlight from a tree since refilled
        # (the MX answer before the addresses came) must not show the older plan.
        flows.show_detail(self)

    @on(Tree.NodeSelected, "#mx-tree")
    def node_selected(self, event: Tree.NodeSelected) -> None:
        flows.connect_node(self, event.node)

    def on_session_pane_stepped(self, message: SessionPane.Stepped) -> None:
        target = self.query_one(SessionPane).target
        remote = target.host if target is not None else None
        self._explain(shown_step(message.step, message.context, remote=remote))

    def on_transcript_view_step_selected(self, message: TranscriptView.StepSelected) -> None:
        step = message.step
        shown = (
            flows.picked_step(self, step, following=message.followed) if step is not None else None
        )
        if shown is not None:
            self._explain(shown)

    def on_session_pane_hold_for_confirmation(
        self, message: SessionPane.HoldForConfirmation
    ) -> None:
        def answered(send: bool | None) -> None:
            if send:
                self.query_one(SessionPane).confirm_send(message.line)
            else:
                self.notify("Not sent. QUIT (c) or RSET (x) next.", markup=False)

        target: Target = message.target
        self.push_screen(ConfirmSendScreen(target.host, target.address), answered)

    # ---- keys ---------------------------------------------------------------------------

    def action_next_step(self) -> None:
        """n: the next step of whatever is on screen: a replay, a walk, or the session; with
        none of them open, a walk of the plan starts, one step per n."""
        driver = self.driver
        pane = self.query_one(SessionPane)
        if isinstance(driver, ReplayDriver) or driver.active:
            driver.step()
        elif pane.session is None and self.resolved_plan is not None:
            driver.step()
            self.notify(
                "Walking the MX list one step per n (g runs it; Enter on an address talks "
                "to that address alone).",
                markup=False,
            )
        else:
            pane.next_step()

    def action_desk(self, what: str) -> None:
        """g, f, F, R, +, -: to the driver (a walk or a replay)."""
        action = getattr(self.driver, what, None)
        if action is None:
            self.notify("A replay shows what was recorded; it cannot fast-forward the walk.")
            return
        action()

    def action_session(self, what: str) -> None:
        """x, o, c: RSET, NOOP, QUIT in the session of the pane's own."""
        pane = self.query_one(SessionPane)
        {"rset": pane.rset, "noop": pane.noop, "quit": pane.quit_session}[what]()

    def action_focus(self, selector: str) -> None:
        self.query_one(selector).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc's footer entry only while a box has the focus."""
        return action != "open" or parameters != ("leave",) or isinstance(self.focused, Input)

    def action_open(self, what: str) -> None:
        """A screen or a file: scenarios, the NDR, the envelope, the narrative, the export,
        the probe matrix, the help."""
        flows.OPEN[what](self)

    def set_envelope(self, envelope: Envelope) -> None:
        """The person's own envelope (the editor, a script): shown, used by the next session
        step, and a walk on screen is walked again with it."""
        self.choices = self.choices.with_envelope(envelope)
        self.query_one(SessionPane).set_envelope(envelope)
        if isinstance(self.driver, WalkDriver):
            self.driver.use(self.choices)

    def action_cycle_profile(self) -> None:
        """p: explain (and walk again) as the next MTA profile would act."""
        self.set_profile(self.choices.next_profile().profile.name)

    def set_profile(self, name: str) -> None:
        """Explain (and walk again, if a walk is on screen) as profile `name`; say so."""
        self.choices = self.choices.with_profile(name)
        self._explain(self.shown)
        walking = isinstance(self.driver, WalkDriver) and self.driver.walk is not None
        if isinstance(self.driver, WalkDriver):
            self.driver.use(self.choices)
        self.notify(flows.profile_words(self, walking), markup=False)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from flows.palette(self)
