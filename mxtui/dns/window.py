"""How many DNS questions of one lookup are on the wire at once: a window that halves on loss.

A domain with 1000 MX hosts asks 2000 A and AAAA questions. Sent at once, they overflow the
nameserver's receive buffer (Linux's default is 208 KiB) and the answers overflow ours when the
app is busy drawing the tree: more than half were lost, and the retries were lost the same way.
The window starts wide enough that the 40-host tree of `benchmarks/mx_resolve.py` goes out in one
round trip, and halves when a question sent at the current width goes unanswered, as TCP's
congestion window does (RFC 5681 §3.1): one halving per width, so a burst of losses from one
wave costs one halving, not one per lost packet.
"""

from __future__ import annotations

import asyncio
from collections import deque

START = 128
"""Questions in flight at first: measured on loopback with Linux's default buffers, 128 lose
nothing while the event loop is free; with the loop blocked 100 ms at a time (an app drawing)
about 5 % are lost and 64 lose none."""

FLOOR = 16
"""The window never narrows below this, so a lookup that loses packets for another reason
(a silent server, a bad link) is not slowed to a crawl."""


class Window:
    """A semaphore whose size can shrink while it is held, with an epoch per size."""

    def __init__(self, start: int = START, floor: int = FLOOR) -> None:
        if start < 1 or floor < 1:
            raise ValueError("the window needs room for at least one question")
        self.limit = start
        self.floor = min(floor, start)
        self.epoch = 0
        """Bumped at every halving: a loss counts only if its question went out at this width."""
        self.in_flight = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self.in_flight < self.limit and not self._waiting:
            self.in_flight += 1
            return
        future = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        try:
            await future  # `release` hands over its slot: in_flight already counts this one
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()
            else:
                self._waiting.remove(future)
            raise

    def release(self) -> None:
        self.in_flight -= 1
        while self._waiting and self.in_flight < self.limit:
            future = self._waiting.popleft()
            if not future.done():
                self.in_flight += 1
                future.set_result(None)

    def lost(self, epoch: int) -> None:
        """A question sent at `epoch` went unanswered: halve the window once for that width."""
        if epoch == self.epoch and self.limit > self.floor:
            self.limit = max(self.floor, self.limit // 2)
            self.epoch += 1
