"""The seven scenes of the README's screenshots, each a function of a Pilot on the app it makes.

`make.py` saves them as SVGs; `tests/ui/test_scenes.py` keeps each as a snapshot of the screen's
text (with the parts that change from run to run — times, dates, loopback ports — made stable),
so a change to how a scene looks is a reviewed change, not a surprise in the README.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from textual.widgets import Input

from mxtui.lab.scenarios import load_scenario
from mxtui.model import Stage
from mxtui.ui.app import MXTuiApp
from mxtui.ui.factory import make_app
from mxtui.ui.mx_tree import MXTree
from mxtui.ui.session_pane import SessionPane

SIZE = (160, 45)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MESSAGE = b"Subject: a scene\r\n\r\nThe message of the README's screenshots.\r\n"
"""A fixed message: the default one carries today's date."""

Scene = tuple[Callable[[], MXTuiApp], Callable[[MXTuiApp, Any], Awaitable[None]]]


async def settle(app: MXTuiApp, pilot: Any) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def resolved(app: MXTuiApp, pilot: Any) -> None:
    for _ in range(400):
        if app.resolved_plan is not None:
            break
        await pilot.pause(0.02)
    await settle(app, pilot)


async def connect(app: MXTuiApp, pilot: Any, label_start: str) -> None:
    tree = app.query_one(MXTree)
    stack = [tree.root]
    while stack:
        node = stack.pop()
        if node.label.plain.startswith(label_start):
            break
        stack.extend(node.children)
    else:
        raise LookupError(label_start)
    tree.focus()
    tree.move_cursor(node)
    await pilot.press("enter")
    await settle(app, pilot)


async def step_to(app: MXTuiApp, pilot: Any, stage: Stage, rcpt_steps: int = 1) -> None:
    pane = app.query_one(SessionPane)
    seen = 0
    for _ in range(30):
        steps = pane.session.steps if pane.session else []
        if steps and steps[-1].stage is stage:
            seen += 1
            if stage is not Stage.RCPT or seen >= rcpt_steps:
                return
        await pilot.press("n")
        await settle(app, pilot)
    raise RuntimeError(f"never reached {stage}")


def demo() -> MXTuiApp:
    return make_app(dns_timeout=2)


def with_recipients(app: MXTuiApp, *recipients: str) -> None:
    envelope = app.choices.envelope
    app.set_envelope(replace(envelope, recipients=recipients, message=MESSAGE))


async def mx_tree(app: MXTuiApp, pilot: Any) -> None:
    await resolved(app, pilot)
    await pilot.press("slash")
    app.query_one("#domain", Input).value = "noaddr.example.com"
    await pilot.press("enter")
    await resolved(app, pilot)
    await pilot.press("down", "down")
    await pilot.pause()


async def stepping(app: MXTuiApp, pilot: Any) -> None:
    await resolved(app, pilot)
    with_recipients(app, "alice@example.com", "nobody@example.com")
    await connect(app, pilot, "IPv4  192.0.2.10")
    await step_to(app, pilot, Stage.RCPT, rcpt_steps=2)  # the second RCPT: 550 5.1.1


async def greylist_profiles(app: MXTuiApp, pilot: Any) -> None:
    await resolved(app, pilot)
    with_recipients(app, "alice@example.com")
    await connect(app, pilot, "IPv4  192.0.2.11")
    await step_to(app, pilot, Stage.RCPT)
    app.set_profile("qmail")  # as `p` would: requeue, and its timeline
    await pilot.pause()


async def ndr_preview(app: MXTuiApp, pilot: Any) -> None:
    app.clock = lambda: NOW  # the notice's Date
    await resolved(app, pilot)
    with_recipients(app, "nobody@example.com")
    await connect(app, pilot, "IPv4  192.0.2.10")
    await step_to(app, pilot, Stage.RCPT)
    await pilot.press("b")
    await pilot.pause()


def scenario_walk(name: str) -> MXTuiApp:
    """A scenario's app as Postfix, with a fixed seed and message and no pause between steps:
    `walk` is greylist-primary, `dane-walk` dane-rotated-cert as a DANE-validating Postfix
    (the scenario's settings)."""
    scenario = load_scenario(name)
    app = make_app(scenario=scenario, profile="postfix")
    app.choices = app.choices.with_seed(7).with_envelope(
        replace(scenario.envelope, message=MESSAGE)
    )
    app.driver.use(app.choices)
    app.driver.delay = 0.0
    return app


async def delivery_walk(app: MXTuiApp, pilot: Any) -> None:
    await resolved(app, pilot)
    await pilot.press("g")
    for _ in range(400):
        state = app.driver.state
        if state is not None and state.ended and not app.driver.active:
            break
        await pilot.pause(0.05)
    else:
        raise RuntimeError("the walk did not end")
    app.clear_notifications()
    await pilot.pause()


async def probe_matrix(app: MXTuiApp, pilot: Any) -> None:
    await resolved(app, pilot)
    await pilot.press("P")
    for _ in range(200):
        await pilot.pause(0.05)
        screen: Any = app.screen
        if not screen.running and screen.report is not None:
            break
    await pilot.press("enter")  # the first row's details: greeting, extensions, certificate
    await pilot.pause()


async def dane_policy_walk(app: MXTuiApp, pilot: Any) -> None:
    await resolved(app, pilot)
    for _ in range(200):  # the TLS policy (TLSA, DNSSEC) follows the MX answer
        if app.query_one(MXTree).policy is not None:
            break
        await pilot.pause(0.02)
    await pilot.pause()
    await delivery_walk(app, pilot)


SCENES: dict[str, Scene] = {
    "mx-tree": (demo, mx_tree),
    "stepping": (demo, stepping),
    "greylist-qmail": (demo, greylist_profiles),
    "ndr-preview": (demo, ndr_preview),
    "walk": (partial(scenario_walk, "greylist-primary"), delivery_walk),
    "probe-matrix": (demo, probe_matrix),
    "dane-walk": (partial(scenario_walk, "dane-rotated-cert"), dane_policy_walk),
}
"""Scene name (the SVG's) → (the app to make, what to do with it before the picture)."""
