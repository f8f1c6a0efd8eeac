"""The network a command or the app talks to: the lab on loopback, or the real one.

A `Network` is everything that differs between the two: which DNS servers to ask, the dialer that
turns an MX address into a connection, which hosts relay (a lab backup MX stores and forwards),
whether an address is a lab host (the end-of-data dot goes to one without asking), how the hosts
follow a simulated clock, and how often a host may be dialled. `Lab` (in `mxtui.lab.runtime`) and
`RealNetwork` implement it, so no command and no widget asks "is this the lab?" itself.

Real servers are not to be hammered: simulated time is free in the lab, but against real hosts a
`Pacer` allows at most `SESSIONS_PER_MINUTE` new sessions per address per minute, and a retry
waits real time (see `mxtui.desk.walk`). A real server's greylist needs real minutes.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from mxtui.endpoint import Endpoint
from mxtui.smtp.dialer import Dialer, RealDialer

if TYPE_CHECKING:
    from mxtui.tlspolicy.lookup import TlsSetup

SESSIONS_PER_MINUTE = 3
"""New SMTP sessions per real host address in any 60 seconds (the lab has no limit)."""


class Clock(Protocol):
    """What a lab host reads for "now" (the walk's `SimClock`): seconds, and move listeners."""

    listeners: list[Callable[[], None]]

    def __call__(self) -> float: ...


class Pacer:
    """At most `limit` new sessions per address in any `window` seconds.

    It does not sleep itself: `delay(address)` says how long to wait before the next session
    may start (0 when it may start now), and `note(address)` records one that starts, so the
    caller can show a countdown and let the user cancel.
    """

    def __init__(
        self,
        limit: int = SESSIONS_PER_MINUTE,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._started: dict[str, deque[float]] = {}

    def _recent(self, address: str) -> deque[float]:
        started = self._started.setdefault(address, deque())
        now = self.clock()
        while started and started[0] <= now - self.window:
            started.popleft()
        return started

    def delay(self, address: str) -> float:
        """Seconds until a new session to `address` is allowed (0: now)."""
        started = self._recent(address)
        if len(started) < self.limit:
            return 0.0
        return max(0.0, started[0] + self.window - self.clock())

    def note(self, address: str) -> None:
        """A session to `address` starts now."""
        self._recent(address).append(self.clock())


class Network(Protocol):
    """Where DNS questions and SMTP sessions go (see the module docstring)."""

    label: str
    """A few words for the screen: "lab · example.com", "DNS 192.0.2.53:53", "system resolver"."""
    domain: str
    """The domain to open with ("" when the user must type one)."""
    examples: tuple[tuple[str, str], ...]
    """(domain, what it shows) pairs worth trying (the lab's demo cases)."""
    simulated: bool
    """True when time may be simulated (lab hosts read the walk's clock); False for real hosts,
    whose retries take real time."""
    pacer: Pacer | None
    """The limit on new sessions per host, or None where there is none (the lab)."""
    tls_setup: TlsSetup | None
    """How TLS-policy lookups trust and reach the network's hosts (the lab's keys, CA and policy
    hosts), or None for the real world's defaults."""
    trust_pem: bytes | None
    """Certificates a probe trusts besides the system's (the lab's CA), or None."""

    @property
    def nameservers(self) -> tuple[Endpoint, ...]:
        """DNS servers to ask; empty means the system resolver."""
        ...

    @property
    def dialer(self) -> Dialer: ...

    @property
    def relays(self) -> Mapping[str, str]:
        """Relay hosts by address → the profile of their onward delivery (a lab backup MX)."""
        ...

    def is_lab_host(self, address: str, port: int | None = None) -> bool: ...

    def attach(self, clock: Clock) -> None:
        """Make the network's hosts read `clock` (and follow its moves), and forget what they
        remember from an earlier walk (a greylist must not have seen this one before)."""
        ...

    def dns_timeout(self, requested: float) -> float:
        """The DNS timeout to use for `requested` seconds (the lab answers at once or never)."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class RealNetwork:
    """The real network: the given DNS servers (or the system resolver), real SMTP hosts on
    `port`, no relays of our own, a `Pacer` per host, and real time."""

    simulated = False
    tls_setup: TlsSetup | None = None
    trust_pem: bytes | None = None
    examples: tuple[tuple[str, str], ...] = ()

    def __init__(
        self,
        nameservers: tuple[Endpoint, ...] | list[tuple[str, int]] = (),
        port: int = 25,
        *,
        domain: str = "",
        pacer: Pacer | None = None,
    ) -> None:
        self._nameservers = tuple(Endpoint(h, p) for h, p in nameservers)
        self.port = port
        self.domain = domain
        self.pacer: Pacer | None = pacer or Pacer()
        self._dialer = RealDialer(port)
        self.label = (
            "DNS " + ", ".join(map(str, self._nameservers))
            if self._nameservers
            else "system resolver"
        )

    @property
    def nameservers(self) -> tuple[Endpoint, ...]:
        return self._nameservers

    @property
    def dialer(self) -> Dialer:
        return self._dialer

    @property
    def relays(self) -> Mapping[str, str]:
        return {}

    def is_lab_host(self, address: str, port: int | None = None) -> bool:
        return False

    def attach(self, clock: Clock) -> None:
        """Real hosts keep their own time."""

    def dns_timeout(self, requested: float) -> float:
        return requested

    async def start(self) -> None:
        """Nothing to start: the network is there."""

    async def stop(self) -> None:
        """Nothing to stop."""

    async def __aenter__(self) -> RealNetwork:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
