"""Helpers for the Pilot tests (imported by name: the folder is on sys.path, see conftest.py)."""

from __future__ import annotations

from typing import Any

from mxtui.lab.scenarios import load_scenario
from mxtui.ui.app import MXTuiApp
from mxtui.ui.factory import make_app

SIZE = (130, 40)


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


async def resolved(pilot: Any, app: MXTuiApp) -> None:
    await until(pilot, lambda: app.resolved_plan is not None, "the MX plan")
