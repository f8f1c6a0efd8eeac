"""The app shows the TLS policy: a node for the domain's, one per MX host (listed in MTA-STS or
not, TLSA validated and usable or not), details in full sentences; the probe matrix gets a
Policy column; a walk applies the profile's TLS settings and explains a DANE failure."""

from __future__ import annotations

from textual.widgets import DataTable, Input
from ui_support import SIZE, drive, ended, resolved, scenario_app, until

from mxtui.tlspolicy.describe import HostPolicy
from mxtui.tlspolicy.model import TlsPolicy
from mxtui.ui.detail import NodeDetail
from mxtui.ui.explain import ExplainPanel
from mxtui.ui.factory import make_app
from mxtui.ui.mx_tree import MXTree
from mxtui.ui.probe_view import ProbeScreen


def labels(node, out=None):
    out = [] if out is None else out
    out.append((node.label.plain, node.data))
    for child in node.children:
        labels(child, out)
    return out


async def wait_for_policy(app, pilot, domain: str) -> MXTree:
    tree = app.query_one(MXTree)
    await until(pilot, lambda: tree.policy is not None and tree.policy.domain == domain,
                "the TLS policy")  # fmt: skip
    await pilot.pause()
    return tree


async def open_domain(app, pilot, domain: str) -> MXTree:
    await pilot.press("slash")
    app.query_one("#domain", Input).value = domain
    await pilot.press("enter")
    return await wait_for_policy(app, pilot, domain)


async def probe_policy_column(app, pilot) -> dict[str, str] | None:
    """P: the probe matrix, run to its end and closed again; its Policy column by address (None
    when it has none)."""
    await pilot.press("P")
    screen = app.screen
    assert isinstance(screen, ProbeScreen)
    await until(pilot, lambda: not screen.running and screen.report is not None, "the probe")
    table = screen.query_one(DataTable)
    keys = [column.key.value for column in table.ordered_columns]
    policy = None
    if "policy" in keys:
        column = keys.index("policy")
        policy = {table.get_row(str(i))[1].plain: table.get_row(str(i))[column].plain
                  for i in range(len(screen.targets))}  # fmt: skip
    await pilot.press("escape")
    assert not isinstance(app.screen, ProbeScreen)
    return policy


async def test_the_tree_and_the_probe_show_each_demo_domains_tls_policy_or_none() -> None:
    """One demo app, three of its domains in turn, proves:
    - a domain without a TLS policy (example.com, the demo's first) gets no TLS nodes and the
      probe matrix no Policy column;
    - the tree marks the MX host the MTA-STS policy does not list (sts.example.com): a node for
      the domain's policy, "STS listed" or "NOT listed" per host, and the host's details say in
      a sentence that senders enforcing the policy skip it;
    - the tree says TLSA present, validated and usable (dane.example.com) and the probe checks
      it in its Policy column: the rotated certificate fails DANE, the other is ok."""
    app = make_app(dns_timeout=2)
    async with drive(app, size=SIZE) as pilot:
        await resolved(pilot, app)
        tree = await wait_for_policy(app, pilot, "example.com")
        assert not any(isinstance(data, TlsPolicy | HostPolicy) for _, data in labels(tree.root))
        assert await probe_policy_column(app, pilot) is None

        tree = await open_domain(app, pilot, "sts.example.com")
        shown = dict(labels(tree.root))
        assert "TLS policy: STS enforce · TLS-RPT · MX secure" in shown
        assert isinstance(shown["TLS policy: STS enforce · TLS-RPT · MX secure"], TlsPolicy)
        assert "✖ STS NOT listed" in shown and "✓ STS listed" in shown
        node = next(n for n in tree.root.children[-2].children[0].children
                    if isinstance(n.data, HostPolicy))  # fmt: skip
        tree.move_cursor(node)
        await pilot.pause()
        detail = str(app.query_one(NodeDetail).render())
        assert "TLS policy of rogue.sts.example.com" in detail
        assert "NOT in the MTA-STS policy: senders enforcing it skip this host" in detail

        tree = await open_domain(app, pilot, "dane.example.com")
        shown_labels = [label for label, _ in labels(tree.root)]
        assert shown_labels.count("✓ TLSA ×1 validated, usable") == 2
        assert await probe_policy_column(app, pilot) == {
            "192.0.2.62": "DANE FAIL",
            "192.0.2.63": "DANE ok",
        }


async def test_a_walk_of_the_dane_scenario_defers_and_explains_the_dane_failure() -> None:
    app = scenario_app("dane-rotated-cert")  # the scenario's Postfix: smtp_tls_security_level=dane
    async with drive(app, size=SIZE) as pilot:
        await resolved(pilot, app)
        await until(pilot, lambda: app.driver.tls_policy is not None, "the TLS policy")
        await pilot.press("g")
        await until(pilot, lambda: ended(app), "the walk's end")
        state = app.driver.state
        assert str(state.result.outcome) == "deferred"
        decision = app.query_one(ExplainPanel).explanation.decision
        assert decision.rule.startswith("DANE: the certificate matches no TLSA record")
        assert decision.headline == "REQUEUE"
        assert "Postfix 3.7.11" in decision.proof.tested_with
