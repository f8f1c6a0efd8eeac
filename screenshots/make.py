"""Make the README's screenshots from the lab demo (run by hand: python screenshots/make.py).

Every image is the real app driven by Textual's Pilot against the built-in lab; nothing is drawn
by hand. The SVGs land beside this script.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from mxtui.lab.scenarios import load_scenario
from mxtui.model import Stage
from mxtui.ui.app import MXTuiApp, make_app
from mxtui.ui.explain import ExplainPanel
from mxtui.ui.mx_tree import MXTree
from mxtui.ui.session_pane import SessionPane

HERE = Path(__file__).parent
SIZE = (150, 42)


async def _settle(app: MXTuiApp, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def _connect(app: MXTuiApp, pilot, label_start: str) -> None:
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
    await _settle(app, pilot)


async def _step_to(app: MXTuiApp, pilot, stage: Stage, rcpt_steps: int = 1) -> None:
    pane = app.query_one(SessionPane)
    seen = 0
    for _ in range(30):
        steps = pane.session.steps if pane.session else []
        if steps and steps[-1].stage is stage:
            seen += 1
            if stage is not Stage.RCPT or seen >= rcpt_steps:
                return
        await pilot.press("n")
        await _settle(app, pilot)
    raise RuntimeError(f"never reached {stage}")


async def mx_tree() -> None:
    app = make_app(dns_timeout=2)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await pilot.press("slash", *"noaddr.example.com", "enter")
        await _settle(app, pilot)
        await pilot.press("down", "down")
        await pilot.pause()
        app.save_screenshot("mx-tree.svg", path=str(HERE))


async def stepping() -> None:
    app = make_app(dns_timeout=2)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        pane = app.query_one(SessionPane)
        pane.set_envelope(
            replace(pane.envelope, recipients=("alice@example.com", "nobody@example.com"))
        )
        await _connect(app, pilot, "IPv4  192.0.2.10")
        await _step_to(app, pilot, Stage.RCPT, rcpt_steps=2)  # the second RCPT: 550 5.1.1
        app.save_screenshot("stepping.svg", path=str(HERE))


async def greylist_profiles() -> None:
    app = make_app(dns_timeout=2)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await _connect(app, pilot, "IPv4  192.0.2.11")
        await _step_to(app, pilot, Stage.RCPT)
        app.query_one(ExplainPanel).set_profile("qmail")  # as `p` would: requeue, and its timeline
        await pilot.pause()
        app.save_screenshot("greylist-qmail.svg", path=str(HERE))


async def ndr_preview() -> None:
    app = make_app(dns_timeout=2)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        pane = app.query_one(SessionPane)
        pane.set_envelope(replace(pane.envelope, recipients=("nobody@example.com",)))
        await _connect(app, pilot, "IPv4  192.0.2.10")
        await _step_to(app, pilot, Stage.RCPT)
        await pilot.press("b")
        await pilot.pause()
        app.save_screenshot("ndr-preview.svg", path=str(HERE))


async def _walk_to_end(app: MXTuiApp, pilot) -> None:
    for _ in range(400):
        state = app.walk_state
        if state is not None and state.ended and not app._walk_active:
            return
        await pilot.pause(0.05)
    raise RuntimeError("the walk did not end")


async def delivery_walk() -> None:
    scenario = load_scenario("greylist-primary")
    app = make_app(scenario=scenario, envelope=scenario.envelope, profile="postfix")
    app.walk_delay = 0.0
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await pilot.press("g")
        await _walk_to_end(app, pilot)
        await pilot.pause()
        app.save_screenshot("walk.svg", path=str(HERE))


async def probe_matrix() -> None:
    app = make_app(dns_timeout=2)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await pilot.press("P")
        for _ in range(200):
            await pilot.pause(0.05)
            if not app.screen.running and app.screen.report is not None:
                break
        await pilot.press("enter")  # the first row's details: greeting, extensions, certificate
        await pilot.pause()
        app.save_screenshot("probe-matrix.svg", path=str(HERE))


async def main() -> None:
    for make in (mx_tree, stepping, greylist_profiles, ndr_preview, delivery_walk, probe_matrix):
        await make()
        print(f"made {make.__name__}")


if __name__ == "__main__":
    asyncio.run(main())
