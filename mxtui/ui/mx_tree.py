"""The MX tree: domain → preference groups → hosts → addresses; problems on their own node."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text, TextType
from textual import work
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode
from textual.worker import Worker, WorkerState

from mxtui.desk.walk_state import Mark
from mxtui.dns import DomainError, resolve_mx
from mxtui.dns.describe import STATUS_WORDS, address_label, group_label, host_summary
from mxtui.dns.query import NoNameserver, system_nameservers
from mxtui.model import (
    Address,
    HostResolved,
    HostState,
    MXAnswered,
    MXGroup,
    MXHost,
    MXPlan,
    PlanResolved,
    PlanStatus,
    Problem,
    ResolveEvent,
)
from mxtui.text import printable
from mxtui.tlspolicy import TlsPolicy, TlsSetup, lookup_tls_policy
from mxtui.tlspolicy.describe import HostPolicy, policy_label, policy_worth_showing
from mxtui.ui.safe import text

TLS_STYLE = {"ok": "green", "bad": "bold red", "plain": "yellow"}
TLS_MARK = {"ok": "✓ ", "bad": "✖ ", "plain": "· "}

NodeData = MXPlan | MXGroup | MXHost | Address | Problem | TlsPolicy | HostPolicy | str | None

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
SEVERITY_MARK = {"error": "✖", "warning": "⚠", "info": "ℹ"}
STATUS_STYLE = {
    PlanStatus.MX: "green",
    PlanStatus.IMPLICIT_MX: "yellow",
    PlanStatus.NULL_MX: "bold red",
    PlanStatus.NXDOMAIN: "bold red",
    PlanStatus.NO_MAIL_RECORDS: "bold red",
    PlanStatus.SERVFAIL: "bold magenta",
    PlanStatus.TIMEOUT: "bold magenta",
    PlanStatus.ERROR: "bold magenta",
}


MARK_STYLE = {
    "trying": "bold cyan",
    "failed": "red",
    "deferred": "yellow",
    "bounced": "bold red",
    "accepted": "bold green",
    "held": "yellow",
    "done": "dim",
}


def address_node_label(address: Address, mark: Mark | None) -> Text:
    """An address, led by its mark from the walk ('✗ 3 IPv4 192.0.2.10 …': failed at step 3);
    in front, because a narrow tree cuts the end of a label."""
    label = text(address_label(address))
    if mark is None:
        return label
    head = text(f"{mark.short()} ", MARK_STYLE[mark.kind])
    head.append_text(label)
    return head


def first_sentence(message: str, limit: int = 90) -> str:
    head = message.split(". ")[0].rstrip(".")
    return head if len(head) <= limit else head[: limit - 1] + "…"


def problem_label(problem: Problem) -> Text:
    return Text.assemble(
        (SEVERITY_MARK[problem.severity] + " ", SEVERITY_STYLE[problem.severity]),
        text(first_sentence(problem.message), SEVERITY_STYLE[problem.severity]),
    )


def host_label(host: MXHost) -> Text:
    worst = _worst(host.problems)
    parts: list[Text | tuple[str, str] | str] = [text(host.name, "bold")]
    if host.state is HostState.PENDING:
        parts.append(("  looking up…", "dim italic"))
    else:
        parts.append((f"  ({host_summary(host)})", "dim"))
    if worst:
        parts.append((f"  {SEVERITY_MARK[worst]}", SEVERITY_STYLE[worst]))
    return Text.assemble(*parts)


def _worst(problems: tuple[Problem, ...]) -> str | None:
    for severity in ("error", "warning", "info"):
        if any(p.severity == severity for p in problems):
            return severity
    return None


class MXTree(Tree[NodeData]):
    """A Tree that only ever shows literal text.

    `process_label` is overridden so that even a plain string is never parsed as markup: every
    label here may hold text from a DNS answer.
    """

    BORDER_TITLE = "MX tree"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("type a domain and press Enter"), id=id)
        self.show_root = True
        self.guide_depth = 3
        self.auto_expand = False  # Enter connects to the node; space folds it
        self._host_nodes: dict[tuple[int, str], TreeNode[NodeData]] = {}
        self._address_nodes: dict[str, list[TreeNode[NodeData]]] = {}
        self.marks: dict[str, Mark] = {}
        """The delivery walk's mark per address (kept across re-fills of a host's node)."""
        self.plan: MXPlan | None = None
        self.policy: TlsPolicy | None = None
        """The TLS policy of the plan on screen, once looked up."""
        self._generation = 0

    def process_label(self, label: TextType) -> Text:
        label = Text(label) if isinstance(label, str) else label
        return label.split()[0] if label.plain else label

    class Resolved(Message):
        """One event of the current lookup (a newer lookup's start silences the older one)."""

        def __init__(self, event: ResolveEvent) -> None:
            super().__init__()
            self.event = event

    class PolicyFound(Message):
        """The TLS policy of the plan on screen (MTA-STS, TLS-RPT, TLSA), once looked up."""

        def __init__(self, policy: TlsPolicy) -> None:
            super().__init__()
            self.policy = policy

    # ---- what the app calls -------------------------------------------------------------

    def resolve(
        self,
        domain: str,
        nameservers: Sequence[tuple[str, int]],
        timeout: float,
        tls_setup: TlsSetup | None = None,
    ) -> None:
        """Look `domain` up and fill the tree as the answers come (`Resolved` for each), then
        its TLS policy (`PolicyFound`), with `tls_setup`'s trust (the root's when None)."""
        self._generation += 1
        self.begin(printable(domain.strip()) or "(empty)")
        self._lookup(domain, tuple(nameservers), timeout, self._generation, tls_setup)

    @work(exclusive=True, group="resolve", exit_on_error=False)
    async def _lookup(
        self,
        domain: str,
        nameservers: tuple[tuple[str, int], ...],
        timeout: float,
        generation: int,
        tls_setup: TlsSetup | None = None,
    ) -> None:
        def post(event: ResolveEvent) -> None:
            if generation == self._generation:  # a newer lookup replaced this one
                self.post_message(self.Resolved(event))

        try:
            plan = await resolve_mx(domain, nameservers=nameservers, timeout=timeout, on_event=post)
        except DomainError as exc:
            self.show_error(str(exc))
            return
        servers = nameservers or tuple(_system_nameservers())
        policy = await lookup_tls_policy(plan, servers, setup=tls_setup, timeout=timeout)
        if policy is not None and generation == self._generation:
            self.post_message(self.PolicyFound(policy))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.group == "resolve":
            error = event.worker.error
            self.show_error(
                f"The lookup failed unexpectedly: {type(error).__name__}: {printable(str(error))}"
            )

    def set_marks(self, marks: dict[str, Mark]) -> None:
        """Show the walk's marks on the address nodes (an empty dict clears them). Only the
        addresses whose mark changed are relabelled: a label set again re-lays the whole tree,
        and the walk sends its marks after every event."""
        changed = {a for a in set(self.marks) | set(marks) if self.marks.get(a) != marks.get(a)}
        self.marks = dict(marks)
        for address in changed:
            for node in self._address_nodes.get(address, ()):
                if isinstance(node.data, Address):
                    node.set_label(address_node_label(node.data, self.marks.get(address)))

    def show_policy(self, policy: TlsPolicy) -> None:
        """The plan's TLS policy arrived: a node for the domain's, one per host with any."""
        self.policy = policy
        if self.plan is None:
            return
        self.show_plan(self.plan)

    def begin(self, domain: str) -> None:
        """A new lookup started: clear the tree and say so."""
        self.plan = None
        self.policy = None
        self.marks = {}
        self._host_nodes.clear()
        self._address_nodes.clear()
        self.clear()
        self.root.data = None
        self.root.set_label(Text.assemble(text(domain, "bold"), ("  resolving…", "dim italic")))

    def show_error(self, message: str) -> None:
        self.plan = None
        self.clear()
        problem = Problem("input", message, "", "error")
        self.root.data = problem
        self.root.set_label(problem_label(problem))

    def apply(self, event: ResolveEvent) -> None:
        if isinstance(event, MXAnswered | PlanResolved):
            self.show_plan(event.plan)
        elif isinstance(event, HostResolved):
            self._update_host(event.host)

    def show_plan(self, plan: MXPlan) -> None:
        self.plan = plan
        self._host_nodes.clear()
        self._address_nodes.clear()
        self.clear()
        root = self.root
        root.data = plan
        root.set_label(self._root_label(plan))
        for problem in plan.problems:
            root.add_leaf(problem_label(problem), data=problem)
        if self.policy is not None and policy_worth_showing(self.policy):
            root.add_leaf(text(policy_label(self.policy), "bold"), data=self.policy)
        for group in plan.groups:
            group_node = root.add(text(group_label(group, plan.status)), data=group, expand=True)
            for host in group.hosts:
                node = group_node.add(host_label(host), data=host, expand=True)
                self._host_nodes[(host.preference, host.name)] = node
                self._fill_host(node, host)
        root.expand()

    # ---- helpers ------------------------------------------------------------------------

    def _root_label(self, plan: MXPlan) -> Text:
        name = plan.display_domain or plan.domain
        parts: list[Text | tuple[str, str] | str] = [text(name, "bold")]
        if plan.display_domain and plan.display_domain != plan.domain:
            parts.append(text(f" ({plan.domain})", "dim"))
        parts.append(("  " + STATUS_WORDS[plan.status], STATUS_STYLE[plan.status]))
        if plan.ttl is not None:
            parts.append((f"  TTL {plan.ttl}s", "dim"))
        return Text.assemble(*parts)

    def _fill_host(self, node: TreeNode[NodeData], host: MXHost) -> None:
        for child in node.children:
            if isinstance(child.data, Address):
                nodes = self._address_nodes.get(child.data.address, [])
                if child in nodes:
                    nodes.remove(child)
        node.remove_children()
        node.set_label(host_label(host))
        node.data = host
        for address in host.addresses:
            leaf = node.add_leaf(
                address_node_label(address, self.marks.get(address.address)), data=address
            )
            self._address_nodes.setdefault(address.address, []).append(leaf)
        for problem in host.problems:
            node.add_leaf(problem_label(problem), data=problem)
        shown = HostPolicy(host.name, self.policy) if self.policy is not None else None
        if shown is not None and shown.worth_showing():
            words, verdict = shown.label()
            node.add_leaf(text(TLS_MARK[verdict] + words, TLS_STYLE[verdict]), data=shown)
        node.allow_expand = bool(host.addresses or host.problems or node.children)

    def _update_host(self, host: MXHost) -> None:
        node = self._host_nodes.get((host.preference, host.name))
        if node is not None:
            self._fill_host(node, host)
            node.expand()


def _system_nameservers() -> list[tuple[str, int]]:
    try:
        return system_nameservers()
    except NoNameserver:
        return []
