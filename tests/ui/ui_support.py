"""Helpers for the Pilot tests (imported by name: the folder is on sys.path, see conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from textual import events
from textual.app import App, _character_to_key, _get_unicode_name_from_key
from textual.keys import REPLACED_KEYS
from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerFailed

from mxtui.lab.scenarios import load_scenario
from mxtui.ui.app import MXTuiApp
from mxtui.ui.factory import make_app

SIZE = (130, 40)


class SettlingPilot(Pilot[Any]):
    """Textual's Pilot, which after a key or a pause waits until the app has done what it was
    asked, not until the CPU looks idle.

    Textual's own Pilot decides the app is done when, over at least two 20 ms sleeps per key,
    the process used little CPU: 40 ms a key however little there was to do (911 such waits
    were 46 s of the 77 s that tests/ui took), and a guess that a loaded machine can fool.
    Here the app has settled when every widget on the screen has handled the messages queued
    before the check and those they caused (Textual's `_wait_for_screen`, repeated until no
    queue has anything left), the screen has no layout, recompose or after-refresh callback
    pending (made to happen now, as the screen's 60 Hz timer would), no resize waits for the
    app's 1/120 s resize timer (sent on now, as that timer would), and no animation runs.
    What the app does in the background (DNS, SMTP, a walk's timers) is not waited for: a test
    waits for it with `until`, on what the screen should show. Textual's private names used
    here are those of the Textual this project pins (< 9), and only here."""

    async def press(self, *keys: str) -> None:
        app = self.app
        for key in keys:  # as Textual's App._press_keys makes the events, without its sleeps
            if len(key) == 1 and not key.isalnum():
                key = _character_to_key(key)
            original = REPLACED_KEYS.get(key, key)
            try:
                char: str | None = unicodedata.lookup(_get_unicode_name_from_key(original))
            except KeyError:
                char = key if len(key) == 1 else None
            event = events.Key(key, char)
            event.set_sender(app)
            assert app._driver is not None
            app._driver.send_message(event)
            await self.settle()

    async def pause(self, delay: float | None = None) -> None:
        if delay is not None:
            await super().pause(delay)
            return
        await self.settle()
        self.app.screen._on_timer_update()

    async def settle(self, rounds: int = 200) -> None:
        """Until the screen's widgets have nothing left to do (at most `rounds` rounds: an app
        that keeps itself busy, a walk running, is let go and waited for with `until`)."""
        app = self.app
        for _ in range(rounds):
            await asyncio.sleep(0)  # a key sent from "outside" reaches the app's queue
            await self._wait_for_screen()
            if app._resize_timer is not None:
                app._check_resize()  # a resize waits 1/120 s for the next; its timer's work now
                continue
            screen = app.screen
            if (
                screen._callbacks
                or screen._layout_required
                or screen._recompose_required
                or screen._scroll_required
            ):
                screen._on_timer_update()  # what the screen's refresh timer would do next
                continue
            pumps = [app, *screen.walk_children(with_self=True)]
            if all(p._message_queue.empty() and not p._next_callbacks for p in pumps):
                break
        await app.animator.wait_until_complete()


@asynccontextmanager
async def drive(
    app: App[Any], size: tuple[int, int] = SIZE, **options: Any
) -> AsyncIterator[SettlingPilot]:
    """`app.run_test(size=…)`, driven by a SettlingPilot."""
    async with app.run_test(size=size, **options):
        yield SettlingPilot(app)


def scenario_app(name: str, profile: str | None = None) -> MXTuiApp:
    """The app on a lab scenario, its walk without pauses between steps."""
    scenario = load_scenario(name)
    app = make_app(scenario=scenario, profile=profile or scenario.profile)
    app.driver.delay = 0.0  # the tests wait for events, not for time
    return app


async def until(pilot: Any, condition: Any, what: str, limit: float = 15.0) -> None:
    """Let the app run until `condition()` holds (a deadline only against hanging for ever)."""
    for _ in range(int(limit / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def ended(app: MXTuiApp) -> bool:
    state = app.driver.state
    return state is not None and state.ended and not app.driver.active


async def workers_settled(app: App[Any], pilot: Any) -> None:
    """Every worker the app runs has ended (DNS, SMTP steps, probes), then the app settled. A
    worker cancelled or failed ends it too: a failure the app does not handle still ends the
    test, raised by `run_test` when the app closes."""
    with contextlib.suppress(WorkerCancelled, WorkerFailed):
        await app.workers.wait_for_complete()
    await pilot.pause()


async def resolved(pilot: Any, app: MXTuiApp) -> None:
    await until(pilot, lambda: app.resolved_plan is not None, "the MX plan")
