"""Stepping a conversation in the app: tree → Enter → n … through RCPT and DATA to the dot, in the
lab; the explanation follows; a real host's dot waits for confirmation; hostile servers stay text.
"""

from __future__ import annotations

from dataclasses import replace

from ui_support import drive

from mxtui.lab.hostile import MARKUP_PAYLOADS, HostileHost
from mxtui.lab.runtime import Lab
from mxtui.model import Stage, Timeouts
from mxtui.smtp import LabDialer
from mxtui.ui.explain import ExplainPanel
from mxtui.ui.factory import make_app
from mxtui.ui.mx_tree import MXTree
from mxtui.ui.screens import ConfirmSendScreen
from mxtui.ui.session_pane import SessionPane
from mxtui.ui.transcript import TranscriptView


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def step_until(app, pilot, stage: Stage, limit: int = 20) -> None:
    pane = app.query_one(SessionPane)
    for _ in range(limit):
        if pane.session.steps and pane.session.steps[-1].stage is stage:
            return
        await pilot.press("n")
        await settle(app, pilot)
    raise AssertionError(f"never reached {stage}: {[s.stage for s in pane.session.steps]}")


def tree_node(tree: MXTree, label_start: str):
    stack = [tree.root]
    while stack:
        node = stack.pop()
        if node.label.plain.startswith(label_start):
            return node
        stack.extend(node.children)
    raise AssertionError(label_start)


async def connect_to(app, pilot, label_start: str) -> None:
    tree = app.query_one(MXTree)
    node = tree_node(tree, label_start)
    tree.focus()
    tree.move_cursor(node)
    await pilot.pause()
    await pilot.press("enter")
    await settle(app, pilot)


async def test_a_newcomer_steps_the_demo_from_the_tree_to_the_dot():
    app = make_app(dns_timeout=1)
    async with drive(app, size=(120, 34)) as pilot:
        await settle(app, pilot)
        await connect_to(app, pilot, "IPv4  192.0.2.10")
        pane = app.query_one(SessionPane)
        assert pane.session is not None and pane.session.lab
        assert pane.session.steps[0].stage is Stage.CONNECT
        await step_until(app, pilot, Stage.RCPT)
        assert pane.session.steps[-1].reply.code == 250
        explain = app.query_one(ExplainPanel)
        assert explain.decision is not None and explain.decision.stage is Stage.RCPT
        assert str(explain.decision.action) == "continue"
        await step_until(app, pilot, Stage.DOT)
        assert pane.session.steps[-1].reply.code == 250  # a lab host: no confirmation needed
        transcript = app.query_one(TranscriptView)
        exported = transcript.export_text()
        assert " -> STARTTLS" in exported  # offered by mx1, taken as MTAs do
        assert " ~> MAIL FROM:<sender@client.lab.test>" in exported  # then inside TLS
        assert "<~  250 2.0.0" in exported
        assert app.network.smtp.hosts["192.0.2.10"].messages  # the lab host really got it


async def test_an_unknown_recipient_is_explained_as_a_bounce():
    app = make_app(dns_timeout=1)
    async with drive(app, size=(120, 34)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(SessionPane)
        pane.set_envelope(replace(pane.envelope, recipients=("nobody@example.com",)))
        await connect_to(app, pilot, "IPv4  192.0.2.10")
        await step_until(app, pilot, Stage.RCPT)
        step = pane.session.steps[-1]
        assert step.reply.code == 550 and step.reply.enhanced == "5.1.1"
        explain = app.query_one(ExplainPanel)
        assert explain.decision is not None
        assert str(explain.decision.action) == "ndr"


async def test_the_dot_to_a_real_host_waits_for_confirmation():
    """A lab host reached through a dialer that does not call it a lab host: it stands for a
    real server, so the dot is held and a dialog asks first."""
    lab = Lab()
    app = make_app(lab=lab, dns_timeout=1)
    async with drive(app, size=(120, 34)) as pilot:
        await settle(app, pilot)

        class RealLookingDialer(LabDialer):
            def is_lab(self, address, port=None):
                return False

            def route(self, address, port=None):
                route = super().route(address, port)
                return type(route)(route.host, route.port, lab=False)

        lab.dialer = RealLookingDialer(dict(lab.smtp.endpoints))
        await connect_to(app, pilot, "IPv4  192.0.2.20")
        await step_until(app, pilot, Stage.DOT)
        await pilot.pause()
        assert isinstance(app.screen, ConfirmSendScreen)
        assert not lab.smtp.hosts["192.0.2.20"].messages  # nothing delivered yet
        await pilot.press("n")  # don't send
        await pilot.pause()
        assert not lab.smtp.hosts["192.0.2.20"].messages


HOSTILE = [
    ("markup", {}),
    ("long-line", {"stage": "greeting"}),
    ("endless", {"stage": "ehlo"}),
    ("random", {"seed": 7}),
    ("close-at", {"stage": "after-ehlo"}),
]


async def test_hostile_servers_through_the_real_widgets():
    """Each hostile server in turn, in one app (a new connection for each): the app keeps
    running and nothing it was sent reaches the terminal raw."""
    lab = Lab()
    app = make_app(lab=lab, dns_timeout=1, timeouts=Timeouts(connect=2, reply=2))
    async with drive(app, size=(120, 34)) as pilot:
        await settle(app, pilot)
        for kind, params in HOSTILE:
            async with HostileHost(kind, **params) as hostile:
                lab.dialer = LabDialer({"192.0.2.10": hostile.address})
                await connect_to(app, pilot, "IPv4  192.0.2.10")
                assert hostile.connections == 1, kind
                for _ in range(6):
                    await pilot.press("n")
                    await settle(app, pilot)
                assert app.is_running, kind
                svg = app.export_screenshot()
                assert "\x1b" not in svg and "\x07" not in svg and "\u202e" not in svg, kind
                if kind == "markup":
                    exported = app.query_one(TranscriptView).export_text()
                    assert "[@click=app.quit]" in exported
                    assert any(p in exported for p in MARKUP_PAYLOADS if "[" in p)


async def test_switching_profile_by_key_and_palette_reexplains_the_reply():
    app = make_app(dns_timeout=1)
    async with drive(app, size=(120, 34)) as pilot:
        await settle(app, pilot)
        await connect_to(app, pilot, "IPv4  192.0.2.10")
        await step_until(app, pilot, Stage.GREETING)
        explain = app.query_one(ExplainPanel)
        profile = app.choices.profile.name
        assert profile == "postfix" and explain.decision.stage is Stage.GREETING
        app.query_one(MXTree).focus()
        await pilot.press("p")
        await pilot.pause()
        profile = app.choices.profile.name
        assert profile != "postfix" and explain.decision.profile == profile
        titles = {c.title: c for c in app.get_system_commands(app.screen)}
        titles["Profile: qmail (notqmail)"].callback()
        await pilot.pause()
        assert app.choices.profile.name == "qmail" and explain.decision.profile == "qmail"
        assert "NDR preview" in titles and "Export transcript" in titles


async def test_at_80x24_the_panes_take_turns_with_1_2_3():
    app = make_app(dns_timeout=1)
    async with drive(app, size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.has_class("-narrow")
        tree, pane, explain = (
            app.query_one(MXTree),
            app.query_one(SessionPane),
            app.query_one(ExplainPanel),
        )
        assert tree.region.width > 60 and pane.region.width == 0 and explain.region.width == 0
        await connect_to(app, pilot, "IPv4  192.0.2.10")  # Enter brings the session forward
        await pilot.pause()
        assert pane.region.width > 60 and tree.region.width == 0
        await pilot.press("3")
        await pilot.pause()
        assert explain.region.width > 60 and pane.region.width == 0
        assert explain.decision is not None and explain.decision.stage is Stage.GREETING
        await pilot.press("1")
        await pilot.pause()
        assert tree.region.width > 60


async def test_the_greeting_sits_under_the_connect_separator_not_above_it():
    app = make_app(dns_timeout=1)
    async with drive(app, size=(120, 34)) as pilot:
        await settle(app, pilot)
        await connect_to(app, pilot, "IPv4  192.0.2.10")
        await step_until(app, pilot, Stage.GREETING)
        view = app.query_one(TranscriptView)
        rows = view._rows
        greeting = next(i for i, r in enumerate(rows) if getattr(r, "text", "").startswith("220"))
        connect_separator = view._step_rows[0]
        assert view.steps[0].stage is Stage.CONNECT
        assert connect_separator < greeting, "the 220 was drawn inside the connect step"
