"""Lab hosts on loopback ports, served in the running event loop, alone or as a group."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from mxtui.lab.certs import host_context
from mxtui.lab.hosts.behaviour import HostBehaviour, ReceivedMessage
from mxtui.lab.hosts.protocol import _LabSMTP

if TYPE_CHECKING:
    from mxtui.network import Clock

STOP_GRACE_S = 2.0


def _since(start: float) -> Callable[[], float]:
    """A clock of seconds since `start` on the monotonic clock (a host's default)."""
    return lambda: time.monotonic() - start


def check_loopback(host: str) -> None:
    """Lab servers never listen beyond the machine: refuse any address that is not loopback."""
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"lab hosts listen on loopback only; {host!r} is not a loopback address")


class LabSMTPHost:
    """One lab SMTP host on a loopback port, served in the running event loop.

    `address` is known after `start()`; `messages` and `connections` show what it received.
    A `refuse` host holds its port bound but not listening, so a connect gets ECONNREFUSED and
    no other process can take the port meanwhile. A host with `up_after_s` does the same while
    its clock is short of that time, and listens on that same port once it is reached
    (`sync_schedule`, called by a `SimClock` as it moves, and by a timer for real time).
    """

    def __init__(
        self,
        name: str,
        behaviour: HostBehaviour,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        check_loopback(host)
        self.name = name
        self.behaviour = behaviour
        self.host = host
        self.port = port
        self._clock: Callable[[], float] = clock or _since(time.monotonic())
        self.messages: list[ReceivedMessage] = []
        self.transcripts: list[list[list[str]]] = []
        """One list per connection of [command, first line of its reply] pairs ("greeting" and
        "DOT" for the replies no command word names; "" for a command left unanswered)."""
        self.connections = 0
        """Connections accepted (a `refuse` host cannot count the attempts it turns away)."""
        self.address: tuple[str, int] = ("", 0)
        self._server: asyncio.Server | None = None
        self._reserved: socket.socket | None = None
        self._live: set[_LabSMTP] = set()
        self._greylist: dict[tuple[str, str, str], float] = {}
        self._starting: asyncio.Task[asyncio.Server] | None = None
        self._starting_sock: socket.socket | None = None
        self._timer: asyncio.TimerHandle | None = None

    @property
    def clock(self) -> Callable[[], float]:
        """Seconds as this host sees them (greylist and `up_after_s`); setting it re-checks the
        schedule at once, so a fresh walk's clock at 0 puts a scheduled host down again."""
        return self._clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.sync_schedule()

    @property
    def running(self) -> bool:
        return self._server is not None or self._reserved is not None or self._starting is not None

    @property
    def up(self) -> bool:
        """Whether the host takes connections at its clock's time now."""
        kind = self.behaviour.kind
        return kind != "refuse" and self.clock() >= self.behaviour.up_after_s

    def sync_schedule(self) -> None:
        """Listen or refuse, whichever the clock's time now says (a host with `up_after_s`).

        Synchronous on purpose: a `SimClock` calls it as it jumps, and the very next connect
        must already meet the new state. Going up, the reserved socket starts listening at once
        (the kernel completes connections into the backlog) and the server is attached to it in
        a task; going down, the server closes and the port is held unlistened again.
        """
        if not self.behaviour.up_after_s or not self.running:
            return
        listening = self._reserved is None
        if self.up and not listening:
            sock, self._reserved = self._reserved, None
            assert sock is not None
            # Connections it accepts inherit this, so the port can be held again when the host
            # goes down while they are still open.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.listen(100)
            loop = asyncio.get_running_loop()
            task = loop.create_task(loop.create_server(self._protocol, sock=sock))
            self._starting, self._starting_sock = task, sock
            task.add_done_callback(self._served)
        elif not self.up and listening:
            self._cancel_start()
            if self._server is not None:
                self._server.close()
                self._server = None
            self._reserved = self._bind(again=True)
            self._arm_timer()

    def _served(self, task: asyncio.Task[asyncio.Server]) -> None:
        if self._starting is task:
            self._starting = None
            if not task.cancelled() and task.exception() is None:
                self._server = task.result()

    def _cancel_start(self) -> None:
        task, self._starting = self._starting, None
        if task is None:
            return
        if not task.done():
            task.cancel()
            if self._starting_sock is not None:  # never handed to a server: ours to close
                self._starting_sock.close()
        elif not task.cancelled() and task.exception() is None:
            task.result().close()

    def _bind(self, *, again: bool = False) -> socket.socket:
        """A socket bound to the host's port but not listening: connections to it are refused.

        Without SO_REUSEADDR, so no other program can take the port while it is not listening;
        with it only when the host goes down `again` and the kernel still holds the port for
        connections just closed (TIME_WAIT).
        """
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        where = self.address if self.address[1] else (self.host, self.port)
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            try:
                sock.bind(where)
            except OSError:
                if not again:
                    raise
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(where)
        except OSError:
            sock.close()
            raise
        return sock

    def _arm_timer(self) -> None:
        """In real time nothing moves the clock: wake when the host is due to come up."""
        if self._timer is not None:
            self._timer.cancel()
        wait = self.behaviour.up_after_s - self.clock()
        self._timer = asyncio.get_running_loop().call_later(max(wait, 0) + 0.01, self._wake)

    def _wake(self) -> None:
        self._timer = None
        self.sync_schedule()
        if self._reserved is not None and self.behaviour.up_after_s:
            self._arm_timer()  # still down (a simulated clock behind real time): look again

    async def start(self) -> None:
        if self.running:
            raise RuntimeError(f"lab host {self.name!r} is already running")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        if not self.up:
            self._reserved = sock = self._bind()
            self.address = sock.getsockname()[:2]
            if self.behaviour.up_after_s:
                if self.behaviour.starttls:
                    host_context(self.behaviour.hostname, self.behaviour.certificate)
                self._arm_timer()
            return
        if self.behaviour.starttls:
            # made now, not per client
            host_context(self.behaviour.hostname, self.behaviour.certificate)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, host=self.host, port=self.port, family=family
        )
        self.address = self._server.sockets[0].getsockname()[:2]

    def _protocol(self) -> _LabSMTP:
        self.connections += 1
        return _LabSMTP(self)

    def _transcript(self) -> list[list[str]]:
        said: list[list[str]] = []
        self.transcripts.append(said)
        return said

    def _opened(self, proto: _LabSMTP) -> None:
        self._live.add(proto)

    def _closed(self, proto: _LabSMTP) -> None:
        self._live.discard(proto)

    def forget(self) -> None:
        """Forget every client seen and message taken, as if the lab had just started (a walk
        started over must meet a greylisting host that has never seen it)."""
        self._greylist.clear()
        self.messages.clear()
        self.transcripts.clear()

    def _greylist_passes(self, triplet: tuple[str, str, str]) -> bool:
        now = self.clock()
        first = self._greylist.setdefault(triplet, now)
        return now - first >= self.behaviour.greylist_delay_s

    async def stop(self) -> None:
        """Stop listening and cut the connections still open, so no task outlives the host."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._reserved is not None:
            self._reserved.close()
            self._reserved = None
        starting, self._starting = self._starting, None
        if starting is not None:
            with contextlib.suppress(BaseException):
                self._server = self._server or await starting
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = []
        for proto in list(self._live):
            raw = proto._original_transport or proto.transport
            if raw is not None:
                raw.abort()
            if proto._handler_coroutine is not None:
                tasks.append(proto._handler_coroutine)
        self._live.clear()
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_GRACE_S)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), STOP_GRACE_S)

    async def __aenter__(self) -> LabSMTPHost:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class LabSMTP:
    """A group of lab hosts (a scenario's MX hosts) started and stopped together."""

    def __init__(
        self,
        hosts: Mapping[str, HostBehaviour],
        *,
        host: str = "127.0.0.1",
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.hosts: dict[str, LabSMTPHost] = {
            name: LabSMTPHost(name, behaviour, host=host, clock=clock)
            for name, behaviour in hosts.items()
        }

    @property
    def endpoints(self) -> dict[str, tuple[str, int]]:
        return {name: h.address for name, h in self.hosts.items()}

    def forget(self) -> None:
        """Every host forgets what it has seen (see `LabSMTPHost.forget`)."""
        for h in self.hosts.values():
            h.forget()

    def attach(self, clock: Clock) -> None:
        """A new walk: every host forgets an earlier one (a greylist must not have seen this
        walk before) and reads `clock`, following its moves (a host down until `up_after_s`
        is up or down before the next connection). The one way a clock reaches the hosts
        (`Lab.attach`, the lab's side of `mxtui.network.Network.attach`)."""
        self.forget()
        for host in self.hosts.values():
            host.clock = clock
            clock.listeners.append(host.sync_schedule)

    async def start(self) -> None:
        try:
            for h in self.hosts.values():
                await h.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        await asyncio.gather(*(h.stop() for h in self.hosts.values()), return_exceptions=True)

    async def __aenter__(self) -> LabSMTP:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
