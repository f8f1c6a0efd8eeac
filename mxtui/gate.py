"""Pause, resume and single-step for work that goes in steps: a delivery walk, a replay.

Both are driven from the app by the same keys (g runs or pauses, n takes one step), so both
wait at the same kind of gate. `on_wait` tells whoever paces the work that it is waiting for a
step, which is how the app releases one step at a time with a pause between them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class StepGate:
    """A gate that is open (running), closed (paused), or lets exactly N more steps through."""

    def __init__(self) -> None:
        self._running = True
        self._budget = 0
        self._wake = asyncio.Event()
        self.on_wait: Callable[[], None] | None = None
        """Called each time the paused work stops at its gate, before it waits for a step."""

    def pause(self) -> None:
        """Stop before the next step (the step in progress finishes)."""
        self._running = False

    def resume(self) -> None:
        self._running = True
        self._wake.set()

    def step_once(self) -> None:
        """Let exactly one more step happen, then stay paused."""
        self._running = False
        self._budget += 1
        self._wake.set()

    @property
    def paused(self) -> bool:
        return not self._running

    async def wait(self) -> None:
        """Wait here before each step while paused (a step released by `step_once` passes)."""
        await self._gate()

    async def _gate(self) -> None:
        """`wait`, under the name subclasses (the replay player) call it by."""
        while not self._running:
            if self._budget > 0:
                self._budget -= 1
                return
            self._wake.clear()
            if self.on_wait is not None:
                self.on_wait()
            await self._wake.wait()
