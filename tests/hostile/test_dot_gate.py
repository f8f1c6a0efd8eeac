"""No message reaches a real host without a yes: the dot step and the raw command line go
through the same gate (`Session._held`), so declining the confirmation and then typing "." (or
BDAT … LAST) on the raw line sends nothing.

The "real" host is a scripted peer on loopback reached through the real dialer (not a lab host).
"""

from __future__ import annotations

import asyncio

import hostile_support as hs
import pytest

from mxtui.model import Envelope, Stage
from mxtui.smtp import RealDialer, Session
from mxtui.smtp.session import completes_message

ENVELOPE = Envelope("a@example.org", ("b@example.com",), "client.example.org")
ZONE = ["real.test. 60 IN MX 10 mx.real.test.", "mx.real.test. 60 IN A 127.0.0.1"]


async def to_data(session: Session) -> None:
    """Connect and step to the 354 of DATA."""
    for _ in range(12):
        if session.next_stage() is Stage.DOT:
            return
        await session.step()
    raise AssertionError("never reached DATA")


@pytest.mark.parametrize("line", [".", " . ", "BDAT 10 LAST", "bdat 0 last"])
async def test_a_raw_line_that_ends_a_message_is_held_until_confirmed(peer, line) -> None:
    hs.tried("raw end of message", 1)
    server = peer()
    async with Session("127.0.0.1", ENVELOPE, dialer=RealDialer(server.port)) as session:
        assert not session.lab
        await to_data(session)
        held = await session.raw(line)
        assert held.failure == "held" and held.reply is None
        await asyncio.sleep(0.1)
        assert server.log.dots == 0 and not any(b"BDAT" in c.upper() for c in server.log.commands)
        if line == ".":
            sent = await session.raw(line, confirm_send=True)
            assert sent.reply is not None and sent.reply.code == 250
            await asyncio.sleep(0.1)
            assert server.log.dots == 1


def test_only_lines_that_end_a_message_are_gated() -> None:
    hs.tried("raw line kinds", 6)
    assert completes_message(".") and completes_message("BDAT 3 LAST")
    for line in ("..", "VRFY bob", "BDAT 3", "DATA", "QUIT", ". x"):
        assert not completes_message(line), line


async def test_declining_the_dot_then_typing_a_dot_on_the_raw_line_sends_nothing(
    peer, hostile_dns
) -> None:
    """The bypass found in the adversarial run: n (held, declined), then : . Enter."""
    from mxtui.ui.factory import make_app
    from mxtui.ui.mx_tree import MXTree
    from mxtui.ui.screens import ConfirmSendScreen
    from mxtui.ui.session_pane import SessionPane

    hs.tried("raw dot after declining", 1)
    server = peer()
    dns = hostile_dns(hs.static_zone(ZONE))
    app = make_app(domain="real.test", nameservers=[("127.0.0.1", dns.port)], port=server.port)
    async with app.run_test(size=(130, 40)) as pilot:
        for _ in range(200):
            if app.resolved_plan is not None:
                break
            await pilot.pause(0.02)
        tree = app.query_one(MXTree)
        node = next(n for n in tree._address_nodes["127.0.0.1"])
        tree.focus()
        tree.move_cursor(node)
        await pilot.press("enter")
        pane = app.query_one(SessionPane)
        for _ in range(15):  # step to the dot: held, and the confirmation opens
            await pilot.pause(0.05)
            if isinstance(app.screen, ConfirmSendScreen):
                break
            if not pane.busy:
                await pilot.press("n")
        assert isinstance(app.screen, ConfirmSendScreen)
        await pilot.press("n")  # don't send
        await pilot.pause(0.1)
        await pilot.press("colon")
        await pilot.press("full_stop", "enter")  # ":" "." Enter on the raw line
        for _ in range(40):
            await pilot.pause(0.05)
            if isinstance(app.screen, ConfirmSendScreen):
                break
        assert isinstance(app.screen, ConfirmSendScreen)  # asked again, not sent
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert server.log.dots == 0
