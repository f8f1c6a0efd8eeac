"""A scenario's lab and a walk driver over it, for the desk tests (imported by name: the
folder is on sys.path, see conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from mxtui.desk.choices import Choices
from mxtui.desk.driver import scheduler_for_asyncio
from mxtui.desk.walk import WalkDriver
from mxtui.dns import resolve_mx
from mxtui.lab.scenarios import load_scenario


class Desk:
    """A scenario's lab, its plan, and a walk driver over it, with every event kept."""

    def __init__(self, name: str, profile: str | None = None) -> None:
        self.scenario = load_scenario(name)
        self.lab = self.scenario.lab()
        self.events: list[object] = []
        self.choices = Choices.make(
            self.scenario.domain, lab=True, profile=profile or self.scenario.profile,
            envelope=self.scenario.envelope, scenario=name,
        )  # fmt: skip
        self.driver: WalkDriver

    async def __aenter__(self) -> Desk:
        await self.lab.start()
        self.driver = WalkDriver(self.lab, self.choices, self.events.append,
                                 scheduler_for_asyncio())  # fmt: skip
        self.driver.delay = 0.0  # no pause between steps: the tests wait for events
        plan = await resolve_mx(self.scenario.domain, nameservers=self.lab.nameservers, timeout=2)
        self.driver.set_plan(plan)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.driver.stop()
        await self.lab.stop()

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


async def until(condition: Callable[[], bool], what: str, limit: float = 15.0) -> None:
    for _ in range(int(limit / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def ended(driver: WalkDriver) -> bool:
    return driver.state is not None and driver.state.ended and not driver.active
