"""What the walk and replay keys drive: one `Driver` protocol, and the events a driver adds.

The app routes g, n, R, +, - to whichever driver is open (a `WalkDriver` or a `ReplayDriver`)
and shows whatever it emits through one callback. Timers are not the driver's own: it gets a
`Schedule` (the app passes Textual's ``set_timer``; tests pass a fake clock), so pacing is
plain code that a test can step through without a terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from mxtui.desk.walk_state import WalkState

Cancel = Callable[[], object]
"""Stops a scheduled callback (what `Schedule` returns)."""
Schedule = Callable[[float, Callable[[], None]], Cancel]
"""``schedule(delay, callback)``: call `callback` after `delay` seconds; returns a canceller."""
Emit = Callable[[object], None]
"""Where a driver sends every event: model events, and the `Notice` / `StatusChanged` below."""

Severity = Literal["information", "warning", "error"]


@dataclass(frozen=True)
class Notice:
    """Something to tell the person in a sentence (plain text, never markup)."""

    text: str
    severity: Severity = "information"


@dataclass(frozen=True)
class StatusChanged:
    """The driver's status line changed (mode, countdown); nothing else happened."""


@dataclass(frozen=True)
class DriverStatus:
    """What the status line says: the mode in a word or two, the keys that apply now."""

    mode: str
    hint: str
    active: bool
    """Something is in progress (a walk attempt, a replay that has not ended)."""


class Driver(Protocol):
    """The keys' target: a walk or a replay."""

    state: WalkState | None
    """The walk as folded from the events so far (None for a session's replay)."""

    def run(self) -> None:
        """Start (or start again) and run."""

    def toggle(self) -> None:
        """g: pause or resume; start again when it has ended."""

    def step(self) -> None:
        """n: one step, then pause."""

    def restart(self) -> None:
        """R: start over (a walk with a new shuffle, a replay from its first event)."""

    def faster(self) -> None: ...

    def slower(self) -> None: ...

    def status(self) -> DriverStatus: ...

    def stop(self) -> None:
        """Cancel whatever runs (its session closes); what is on screen stays."""


def scheduler_for_asyncio() -> Schedule:
    """A `Schedule` on the running asyncio loop (for code outside the app)."""
    import asyncio

    def schedule(delay: float, callback: Callable[[], None]) -> Cancel:
        handle = asyncio.get_running_loop().call_later(delay, callback)
        return handle.cancel

    return schedule
