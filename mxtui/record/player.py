"""Play a recording's entries at their recorded pace (or faster), with pause and single steps."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Iterable, Iterator

from mxtui.gate import StepGate
from mxtui.record.file import Entry, Recording

MAX_GAP = 5.0
"""Longest pause a replay keeps, in recorded seconds: a recording that sat idle (a presenter
talking, a paused walk) must not stall the demo that replays it."""

Sleep = Callable[[float], Awaitable[object]]


class Player(StepGate):
    """The entries of a recording, released at the recorded pace divided by `speed`.

    An async iterator (``async for entry in Player(rec, speed=2)``) over a loaded `Recording` or
    any iterable of entries (an `open_recording` reader streams them from the file). `speed` 0
    or infinity means no waiting at all. Each recorded gap is capped at `max_gap` seconds (5 by
    default) before the speed applies, so a recording that sat idle does not stall a demo. A
    change of `speed` applies from the next gap. `pause()` holds the next entry (an entry
    already waiting out its gap is held when the gap ends); `step_once()` releases exactly one
    entry and stays paused; `resume()` plays on. `sleep` is injectable so tests need no real
    time.
    """

    def __init__(
        self,
        recording: Recording | Iterable[Entry],
        speed: float = 1.0,
        *,
        sleep: Sleep = asyncio.sleep,
        max_gap: float = MAX_GAP,
    ) -> None:
        super().__init__()  # pause / resume / step_once, as a walk has
        entries = recording.entries if isinstance(recording, Recording) else recording
        self._entries: Iterator[Entry] = iter(entries)
        self._next: Entry | None = None
        self._done = False
        self.speed = speed
        self.max_gap = max_gap
        self._sleep = sleep
        self._index = 0
        self._last_t = 0.0

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if not value >= 0:  # also refuses NaN
            raise ValueError("speed must be 0 or more")
        self._speed = float(value)

    @property
    def position(self) -> int:
        """How many entries have been released."""
        return self._index

    @property
    def done(self) -> bool:
        """Every entry has been released (known once the one after the last was asked for)."""
        return self._done

    def wait_for(self, entry: Entry) -> float:
        """Seconds to wait before `entry`, after the one released before it."""
        if self._speed == 0 or math.isinf(self._speed):
            return 0.0
        gap = min(max(entry.t - self._last_t, 0.0), self.max_gap)
        return gap / self._speed

    def __aiter__(self) -> Player:
        return self

    async def __anext__(self) -> Entry:
        if self._next is None:
            entry = next(self._entries, None)
            if entry is None:
                self._done = True
                raise StopAsyncIteration
            self._next = entry
        entry = self._next
        if self._running:
            wait = self.wait_for(entry)
            if wait > 0:
                await self._sleep(wait)
        await self._gate()
        self._next = None
        self._index += 1
        self._last_t = entry.t
        return entry
