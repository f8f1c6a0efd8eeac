"""Stepping a conversation in the app: tree → Enter → n … through RCPT and DATA to the dot, in the
lab; the explanation follows; a real host's dot waits for confirmation; hostile servers stay text.

Two app starts serve it all: the demo lab, walked as a newcomer does from an 80x24 terminal to a
wider one and back (where the connection dialog, E, is tried), and a lab whose dialer is swapped
for hosts that are not the lab's own.
"""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Checkbox, Input
from ui_support import drive, until, workers_settled

from mxtui.desk.connection import Connection
from mxtui.lab.hostile import MARKUP_PAYLOADS, HostileHost
from mxtui.lab.runtime import Lab
from mxtui.model import Stage, Timeouts
from mxtui.smtp import LabDialer
from mxtui.ui.explain import ExplainPanel
from mxtui.ui.factory import make_app
from mxtui.ui.mx_tree import MXTree
from mxtui.ui.screens import ConfirmSendScreen, ConnectionScreen
from mxtui.ui.session_pane import SessionPane
from mxtui.ui.transcript import TranscriptView


async def step_until(app, pilot, stage: Stage, limit: int = 20) -> None:
    pane = app.query_one(SessionPane)
    for _ in range(limit):
        if pane.session.steps and pane.session.steps[-1].stage is stage:
            return
        await pilot.press("n")
        await workers_settled(app, pilot)
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
    await workers_settled(app, pilot)


async def test_a_newcomer_steps_the_demo_to_the_dot_a_bounce_and_an_lmtp_session() -> None:
    """One demo app, started at 80x24 and then made 120x34, proves in turn:
    - at 80x24 the panes take turns with 1 2 3: the tree alone first, Enter brings the session
      forward, 3 the explanation (of the greeting), 1 the tree again;
    - the greeting sits under the connect step's separator, not above it;
    - a newcomer steps from the tree to the dot: CONNECT first, RCPT 250 explained as
      "continue", the dot 250 without a confirmation (a lab host), STARTTLS taken as MTAs do and
      MAIL FROM inside TLS, and the lab host really got the message;
    - an unknown recipient (a new connection) is a 550 5.1.1 explained as a bounce ("ndr");
    - switching the profile by key (p) and by the palette re-explains the reply shown, and the
      palette also offers "NDR preview" and "Export transcript";
    - back at 80x24, the connection dialog (E) fits with every field, refuses what `mxtui smtp`
      refuses in its words (--tls-key without --tls-cert), saves LMTP with PIPELINING, and the
      next session obeys: it says LHLO and its status names the choice."""
    app = make_app(dns_timeout=1)
    async with drive(app, size=(80, 24)) as pilot:
        await workers_settled(app, pilot)
        assert app.has_class("-narrow")
        tree, pane, explain = (
            app.query_one(MXTree),
            app.query_one(SessionPane),
            app.query_one(ExplainPanel),
        )
        assert tree.region.width > 60 and pane.region.width == 0 and explain.region.width == 0
        await connect_to(app, pilot, "IPv4  192.0.2.10")  # Enter brings the session forward
        assert pane.region.width > 60 and tree.region.width == 0
        await pilot.press("3")
        assert explain.region.width > 60 and pane.region.width == 0
        assert explain.decision is not None and explain.decision.stage is Stage.GREETING
        await pilot.press("1")
        assert tree.region.width > 60

        await pilot.resize_terminal(120, 34)
        await pilot.pause()
        assert not app.has_class("-narrow")
        session = pane.session
        assert session is not None and session.lab
        assert [s.stage for s in session.steps] == [Stage.CONNECT, Stage.GREETING]
        view = app.query_one(TranscriptView)
        greeting = next(
            i for i, r in enumerate(view._rows) if getattr(r, "text", "").startswith("220")
        )
        assert view.steps[0].stage is Stage.CONNECT
        assert view._step_rows[0] < greeting, "the 220 was drawn inside the connect step"

        await step_until(app, pilot, Stage.RCPT)
        assert pane.session.steps[-1].reply.code == 250
        assert explain.decision is not None and explain.decision.stage is Stage.RCPT
        assert str(explain.decision.action) == "continue"
        await step_until(app, pilot, Stage.DOT)
        assert not isinstance(app.screen, ConfirmSendScreen)
        assert pane.session.steps[-1].reply.code == 250  # a lab host: no confirmation needed
        exported = view.export_text()
        assert " -> STARTTLS" in exported  # offered by mx1, taken as MTAs do
        assert " ~> MAIL FROM:<sender@client.lab.test>" in exported  # then inside TLS
        assert "<~  250 2.0.0" in exported
        assert app.network.smtp.hosts["192.0.2.10"].messages  # the lab host really got it

        pane.set_envelope(replace(pane.envelope, recipients=("nobody@example.com",)))
        await connect_to(app, pilot, "IPv4  192.0.2.10")
        assert pane.session is not session and pane.session.steps[0].stage is Stage.CONNECT
        await step_until(app, pilot, Stage.RCPT)
        step = pane.session.steps[-1]
        assert step.reply.code == 550 and step.reply.enhanced == "5.1.1"
        assert explain.decision is not None and explain.decision.stage is Stage.RCPT
        assert str(explain.decision.action) == "ndr"

        assert app.choices.profile.name == "postfix" and explain.decision.profile == "postfix"
        assert app.shown_pane == "session"  # connecting brought the session forward
        tree.focus()  # as a click on the tree beside it does: no 1 pressed
        await pilot.pause()
        assert tree.has_focus
        await pilot.press("p")
        profile = app.choices.profile.name
        assert profile != "postfix" and explain.decision.profile == profile
        assert explain.decision.stage is Stage.RCPT  # the same reply, explained again
        titles = {c.title: c for c in app.get_system_commands(app.screen)}
        titles["Profile: qmail (notqmail)"].callback()
        await pilot.pause()
        assert app.choices.profile.name == "qmail" and explain.decision.profile == "qmail"
        assert "NDR preview" in titles and "Export transcript" in titles

        # the tree has the focus, so at 80x24 it is the pane kept on screen, with the keys (a
        # narrowing that hid it left them to the domain box, where E is a letter typed)
        assert app.shown_pane == "session" and tree.has_focus
        await pilot.resize_terminal(80, 24)
        assert app.has_class("-narrow") and app.shown_pane == "mx"
        assert tree.region.width > 60 and tree.has_focus
        await pilot.press("E")
        await until(pilot, lambda: isinstance(app.screen, ConnectionScreen), "the dialog")
        screen, area = app.screen, app.screen.region
        assert area.width == 80 and area.height == 24
        for field in [*screen.query(Input), *screen.query(Checkbox)]:
            assert area.contains_region(field.region), field.id  # every field at 80x24
        screen.query_one("#conn-tls_key", Input).value = "client.key"
        await pilot.press("f2")
        assert app.screen is screen  # refused in mxtui smtp's words
        assert "--tls-key goes with --tls-cert" in str(
            screen.query_one("#connection-error").render()
        )
        screen.query_one("#conn-tls_key", Input).value = ""
        screen.query_one("#conn-protocol", Input).value = "lmtp"
        screen.query_one("#conn-pipeline", Checkbox).value = True
        await pilot.press("f2")
        await until(pilot, lambda: not isinstance(app.screen, ConnectionScreen), "saved")
        assert app.choices.connection == Connection(protocol="LMTP", pipeline=True)
        assert tree.region.width > 60 and tree.has_focus  # back where E was pressed
        session = pane.session
        tree.move_cursor(tree._address_nodes["192.0.2.10"][0])
        await pilot.press("enter")  # connects and reads the greeting
        await until(pilot, lambda: pane.session is not session and not pane.busy, "the greeting")
        await pilot.press("n")
        await until(pilot, lambda: len(pane.session.steps) >= 3 and not pane.busy, "the hello")
        assert pane.session.steps[2].sent == ("LHLO client.lab.test",)
        assert " · LMTP PIPELINING (E)" in str(app.query_one("#session-status").render())


FAST = Timeouts(connect=2, reply=2)  # a bound only: these servers answer at once or hang up
HOSTILE = [  # kind, its settings, the timeouts, how the session ends ("": it plays along)
    ("markup", {}, FAST, ""),
    # A 1 MB line with no end, under the reply byte limit (1 MiB): the reply timeout ends it,
    # and what matters here is what the widgets show of it, so that wait is kept short.
    ("long-line", {"stage": "greeting"}, Timeouts(connect=2, reply=0.25), "no reply within"),
    ("endless", {"stage": "ehlo"}, FAST, "went past 200 lines"),
    ("random", {"seed": 7}, FAST, "not an SMTP reply"),
    ("close-at", {"stage": "after-ehlo"}, FAST, "closed the connection"),
]


class RealLookingDialer(LabDialer):
    """Dials the lab's hosts but does not call them lab hosts: they stand for real servers."""

    def is_lab(self, address, port=None):
        return False

    def route(self, address, port=None):
        route = super().route(address, port)
        return type(route)(route.host, route.port, lab=False)


async def test_hosts_that_are_not_the_labs_own_a_real_dot_waits_and_hostile_servers_stay_text():
    """One app on a lab whose dialer is swapped, proving in turn:
    - the dot to a real host waits for confirmation: a lab host reached through a dialer that
      does not call it a lab host holds the dot behind a dialog, and "n" sends nothing;
    - hostile servers through the real widgets, each in turn (a new connection for each): the
      session ends the way that server deserves, the app keeps running and nothing it was sent
      reaches the terminal raw (markup stays text in the transcript)."""
    lab = Lab()
    app = make_app(lab=lab, dns_timeout=1, timeouts=FAST)
    async with drive(app, size=(120, 34)) as pilot:
        await workers_settled(app, pilot)
        lab.dialer = RealLookingDialer(dict(lab.smtp.endpoints))
        await connect_to(app, pilot, "IPv4  192.0.2.20")
        await step_until(app, pilot, Stage.DOT)
        assert isinstance(app.screen, ConfirmSendScreen)
        assert not lab.smtp.hosts["192.0.2.20"].messages  # nothing delivered yet
        await pilot.press("n")  # don't send
        assert not isinstance(app.screen, ConfirmSendScreen)
        assert not lab.smtp.hosts["192.0.2.20"].messages

        pane = app.query_one(SessionPane)
        for kind, params, timeouts, ending in HOSTILE:
            async with HostileHost(kind, **params) as hostile:
                app.timeouts = timeouts  # read by the next connection
                lab.dialer = LabDialer({"192.0.2.10": hostile.address})
                await connect_to(app, pilot, "IPv4  192.0.2.10")
                assert hostile.connections == 1, kind
                for _ in range(6):
                    await pilot.press("n")
                    await workers_settled(app, pilot)
                assert app.is_running, kind
                last = pane.session.steps[-1]
                if not ending:  # it plays along to the end
                    assert last.stage is Stage.QUIT and last.reply.code == 221, last
                else:
                    assert last.reply is None and ending in last.error, (kind, last)
                svg = app.export_screenshot()
                assert "\x1b" not in svg and "\x07" not in svg and "\u202e" not in svg, kind
                exported = app.query_one(TranscriptView).export_text()
                if kind == "markup":
                    assert "[@click=app.quit]" in exported
                    assert any(p in exported for p in MARKUP_PAYLOADS if "[" in p)
                if kind == "long-line":
                    assert "more bytes]" in exported  # the megabyte line, cut with a marker
