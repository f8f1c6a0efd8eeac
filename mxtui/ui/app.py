"""The mxtui application: the MX tree panel and its detail pane."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer, Header, Input, Tree
from textual.worker import Worker, WorkerState

from mxtui.dns import DomainError, resolve_mx
from mxtui.lab.runtime import Lab
from mxtui.model import ResolveEvent
from mxtui.text import printable
from mxtui.ui.detail import NodeDetail
from mxtui.ui.mx_tree import MXTree


class Resolved(Message):
    """One step of a resolution, tagged with the lookup it belongs to."""

    def __init__(self, generation: int, event: ResolveEvent) -> None:
        super().__init__()
        self.generation = generation
        self.event = event


class MXTuiApp(App[int]):
    TITLE = "mxtui"
    CSS_PATH = Path(__file__).with_name("app.tcss")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "resolve", "Re-resolve", id="resolve"),
        Binding("slash", "focus_domain", "Domain", id="focus-domain"),
        Binding("t", "focus_tree", "Tree", id="focus-tree"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        *,
        domain: str | None = None,
        nameservers: Sequence[tuple[str, int]] = (),
        lab: Lab | None = None,
        dns_timeout: float = 5.0,
    ) -> None:
        super().__init__()
        self.lab = lab
        self.nameservers = list(nameservers)
        self.dns_timeout = dns_timeout
        self.initial_domain = domain or (lab.domain if lab else None)
        self.current_domain = ""
        self._generation = 0

    # ---- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"), Vertical(id="mx-pane"):
            yield Input(
                placeholder="domain, e.g. example.com — Enter resolves",
                id="domain",
                select_on_focus=True,
            )
            yield MXTree(id="mx-tree")
            yield NodeDetail(id="detail")
        yield Footer()

    async def on_mount(self) -> None:
        if self.lab is not None:
            await self.lab.start()
            self.nameservers = self.lab.nameservers
            self.sub_title = "lab demo"
        elif self.nameservers:
            self.sub_title = "DNS " + ", ".join(f"{h}:{p}" for h, p in self.nameservers)
        else:
            self.sub_title = "system resolver"
        self.query_one(NodeDetail).show(None, examples=self._examples())
        if self.initial_domain:
            self.query_one("#domain", Input).value = self.initial_domain
            self.start_resolve(self.initial_domain)
            self.query_one(MXTree).focus()
        else:
            self.query_one("#domain", Input).focus()

    async def on_unmount(self) -> None:
        if self.lab is not None:
            await self.lab.stop()

    def _examples(self) -> tuple[tuple[str, str], ...]:
        return self.lab.examples if self.lab is not None else ()

    # ---- resolution ---------------------------------------------------------------------

    def start_resolve(self, domain: str) -> None:
        self._generation += 1
        self.current_domain = domain
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

    def action_resolve(self) -> None:
        domain = self.query_one("#domain", Input).value or self.current_domain
        if domain:
            self.start_resolve(domain)

    def action_focus_domain(self) -> None:
        self.query_one("#domain", Input).focus()

    def action_focus_tree(self) -> None:
        self.query_one(MXTree).focus()


def make_app(
    *,
    domain: str | None = None,
    nameservers: Sequence[tuple[str, int]] = (),
    lab: Lab | None = None,
    dns_timeout: float = 5.0,
) -> MXTuiApp:
    """The one factory used by the CLI and the tests: no domain and no nameserver = lab demo."""
    if lab is None and not domain and not nameservers:
        lab = Lab()
    return MXTuiApp(domain=domain, nameservers=nameservers, lab=lab, dns_timeout=dns_timeout)
