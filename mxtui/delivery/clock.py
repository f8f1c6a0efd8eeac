"""Simulated time for a delivery walk: seconds since the message was queued."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

ARRIVAL = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
"""When the simulated message was queued (simulated time 0): NDR dates count from here, so a
preview is reproducible."""


class SimClock:
    """Simulated seconds since the message was queued, shared by the walk and the lab hosts.

    It is a plain callable returning a float, which is what `LabSMTPHost(clock=...)` takes, so a
    greylisting host sees the retry happen at the profile's retry time, not the wall clock's.
    It never runs backwards. Listeners hear every move, so a lab host with a schedule
    (`up_after_s`) is up or down before the next connection is made. The network gives it to
    its hosts (`mxtui.network.Network.attach`); the walk never reaches the lab itself.
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = float(start)
        self.listeners: list[Callable[[], None]] = []

    def __call__(self) -> float:
        return self.now

    def advance_to(self, t: float) -> None:
        moved = float(t) > self.now
        self.now = max(self.now, float(t))
        if moved:
            for listener in list(self.listeners):
                listener()
