"""Simulated time for a delivery walk: seconds since the message was queued."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

ARRIVAL = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
"""When the simulated message was queued (simulated time 0): NDR dates count from here, so a
preview is reproducible."""


class SimClock:
    """Simulated seconds since the message was queued, shared by the walk and the lab hosts.

    It is a plain callable returning a float, which is what `LabSMTPHost(clock=...)` takes, so a
    greylisting host sees the retry happen at the profile's retry time, not the wall clock's.
    It never runs backwards. Listeners hear every move, so a lab host with a schedule
    (`up_after_s`) is up or down before the next connection is made.
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

    def attach(self, lab: Any) -> None:
        """Make every host of a `Lab` (or `LabSMTP`) read this clock (and follow its moves)."""
        smtp = getattr(lab, "smtp", lab)
        for host in smtp.hosts.values():
            host.clock = self
            sync = getattr(host, "sync_schedule", None)
            if sync is not None:
                self.listeners.append(sync)
