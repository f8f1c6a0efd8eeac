"""The app over the lab DNS: typing a domain fills the tree; hostile DNS text stays literal."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Input
from ui_support import drive, workers_settled

from mxtui.lab.runtime import Lab
from mxtui.ui.detail import NodeDetail
from mxtui.ui.factory import make_app
from mxtui.ui.mx_tree import MXTree


def labels(node, depth=0):
    """Every label under a node, as plain text, with its depth."""
    out = [(depth, node.label.plain)]
    for child in node.children:
        out.extend(labels(child, depth + 1))
    return out


async def test_the_demo_opens_on_its_domain_then_typed_failing_and_bad_domains_show_on_the_tree():
    """One demo app proves in turn:
    - the demo opens on the lab domain (example.com, its groups 10 and 20) and the detail pane
      follows the cursor (root: the plan's summary; two downs: mx1 at preference 10);
    - typing a domain (/, the name, Enter) shows its groups, hosts and addresses, and a host
      without an address says so;
    - a failing lookup shows on its node (SERVFAIL), and r looks it up again (a new plan, the
      same failure, the box's text untouched);
    - a bad domain is a message on the tree, not a crash."""
    app = make_app(dns_timeout=1)
    async with drive(app, size=(120, 40)) as pilot:
        await workers_settled(app, pilot)
        tree = app.query_one(MXTree)
        assert tree.root.label.plain.startswith("example.com")
        assert [t for d, t in labels(tree.root) if d == 1][:2] == [
            "10 · 2 hosts · tried in random order",
            "20 · 1 host",
        ]
        detail = app.query_one(NodeDetail)
        assert "3 host(s), 3 with addresses; 7 DNS queries" in str(detail.render())
        await pilot.press("down", "down")  # root → group 10 → mx1
        rendered = str(detail.render())
        assert "mx1.example.com" in rendered and "preference 10" in rendered

        await pilot.press("slash")
        await pilot.press(*"noaddr.example.com", "enter")
        await workers_settled(app, pilot)
        plain = [text for _, text in labels(tree.root)]
        assert plain[0].startswith("noaddr.example.com")
        assert "10 · 1 host" in plain and "30 · 1 host" in plain
        assert any(t.startswith("ghost.noaddr.example.com") for t in plain)
        assert any("192.0.2.10" in t and t.startswith("IPv4") for t in plain)
        assert any("has no address" in t for t in plain)

        await pilot.press("slash")
        box = app.query_one("#domain", Input)
        box.value = "broken.example.com"  # typing: see above
        await pilot.press("enter")
        await workers_settled(app, pilot)
        assert "SERVFAIL" in tree.root.label.plain
        first = app.resolved_plan
        assert first is not None and first.domain == "broken.example.com"
        await pilot.press("r")
        await workers_settled(app, pilot)
        assert app.resolved_plan is not None and app.resolved_plan is not first  # asked again
        assert "SERVFAIL" in tree.root.label.plain
        assert box.value == "broken.example.com"  # r was a key, not a letter typed in the box

        await pilot.press("slash")
        box.value = "exa mple..com"
        await pilot.press("enter")
        await workers_settled(app, pilot)
        assert "space" in tree.root.label.plain
        assert app.is_running


HOSTILE_ZONE = r"""$ORIGIN evil.test.
$TTL 60
@ SOA ns hm 1 60 60 60 60
@ MX 10 [bold\032red]x[/].evil.test.
@ MX 20 [@click=app.quit]boom[/].evil.test.
@ MX 30 \027]0\059PWNED\007.evil.test.
@ MX 40 \226\128\174rtl.evil.test.
"""


async def test_hostile_dns_names_are_shown_literally_through_the_real_tree():
    app = make_app(lab=Lab(HOSTILE_ZONE, domain="evil.test", faults={}), dns_timeout=1)
    async with drive(app, size=(160, 40)) as pilot:  # wide: every pane on screen
        await workers_settled(app, pilot)
        tree = app.query_one(MXTree)
        plain = "\n".join(t for _, t in labels(tree.root))
        assert "[bold" in plain and "x[/]" in plain  # markup stayed text
        assert "PWNED" in plain
        assert "click=app.quit]boom[/]" in plain
        assert "\x1b" not in plain and "\x07" not in plain and "\u202e" not in plain
        assert all(isinstance(node.label, Text) for node in [tree.root, *tree.root.children])
        await pilot.press(*["down"] * 12)  # walk over every node: the detail pane renders each
        assert app.is_running
        svg = app.export_screenshot()
        assert "PWNED" in svg and "\x1b" not in svg and "\x07" not in svg
