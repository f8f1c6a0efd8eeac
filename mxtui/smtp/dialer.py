"""The one seam through which a session reaches the network (DESIGN.md, "Dialer seam").

A session names the address an MX lookup gave (say 192.0.2.10); the dialer decides where that
really goes. `RealDialer` connects to it. `LabDialer` sends it to a lab host on loopback, so lab
scenarios can use documentation addresses and nothing ever leaves the machine. The dialer also
says whether a target is a lab host, which is what lets the session send the end-of-data dot
without asking.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

SMTP_PORT = 25


@dataclass(frozen=True)
class Route:
    """Where a dial really goes: `host`:`port`, and whether that is a lab host."""

    host: str
    port: int
    lab: bool


def _norm(address: str) -> str:
    address = address.strip()
    if address.startswith("[") and address.endswith("]"):
        address = address[1:-1]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address.lower().rstrip(".")


class Dialer(Protocol):
    """Turns an (address, port) into a connection; `port=None` means the dialer's default."""

    def route(self, address: str, port: int | None = None) -> Route: ...

    def is_lab(self, address: str, port: int | None = None) -> bool: ...

    async def connect(
        self,
        address: str,
        port: int | None,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        *,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]: ...


async def _open(
    route: Route,
    protocol_factory: Callable[[], asyncio.BaseProtocol],
    ssl_context: ssl.SSLContext | None,
    server_hostname: str | None,
    family: int = 0,
    local_address: str | None = None,
) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:
    loop = asyncio.get_running_loop()
    return await loop.create_connection(
        protocol_factory,
        host=route.host,
        port=route.port,
        ssl=ssl_context,
        server_hostname=server_hostname if ssl_context is not None else None,
        family=family,
        local_addr=(local_address, 0) if local_address else None,
    )


class _RoutingDialer:
    """Dials wherever `route` says; subclasses decide the route."""

    family: int = 0
    local_address: str | None = None

    def route(self, address: str, port: int | None = None) -> Route:
        raise NotImplementedError

    async def connect(
        self,
        address: str,
        port: int | None,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        *,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:
        return await _open(
            self.route(address, port),
            protocol_factory,
            ssl_context,
            server_hostname,
            self.family,
            self.local_address,
        )


class RealDialer(_RoutingDialer):
    """Connects to the address itself (port 25 unless told otherwise). Never a lab host.

    `family` (socket.AF_INET or AF_INET6) limits a host name to its IPv4 or IPv6 addresses
    (swaks' -4 / -6); `local_address` binds the connection to one of this machine's addresses
    (swaks' --local-interface).
    """

    def __init__(
        self, port: int = SMTP_PORT, *, family: int = 0, local_address: str | None = None
    ) -> None:
        self.port = port
        self.family = family
        self.local_address = local_address

    def route(self, address: str, port: int | None = None) -> Route:
        return Route(_norm(address), port or self.port, lab=False)

    def is_lab(self, address: str, port: int | None = None) -> bool:
        return False


class LabDialer(_RoutingDialer):
    """Maps addresses to lab hosts on loopback; an address it does not know is refused.

    Keys are an address (meaning its port 25) or an ``(address, port)`` pair; values are the
    lab host's ``(host, port)``, e.g. ``LabSMTP.endpoints[name]``.
    """

    def __init__(self, mapping: Mapping[str | tuple[str, int], tuple[str, int]]) -> None:
        self._map: dict[tuple[str, int], tuple[str, int]] = {}
        for key, endpoint in mapping.items():
            address, port = (key, SMTP_PORT) if isinstance(key, str) else key
            self._map[(_norm(address), port)] = endpoint

    def route(self, address: str, port: int | None = None) -> Route:
        found = self._map.get((_norm(address), port or SMTP_PORT))
        if found is None:
            raise ConnectionRefusedError(
                f"no lab host answers at {address} port {port or SMTP_PORT}"
            )
        return Route(found[0], found[1], lab=True)

    def is_lab(self, address: str, port: int | None = None) -> bool:
        return (_norm(address), port or SMTP_PORT) in self._map

    async def connect(
        self,
        address: str,
        port: int | None,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        *,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:
        """Dial the lab host behind `address`; a failure names `address` and its port (what
        the zone says and what a trainee looks for), never the lab's random loopback port."""
        try:
            return await super().connect(
                address,
                port,
                protocol_factory,
                ssl_context=ssl_context,
                server_hostname=server_hostname,
            )
        except ssl.SSLError:
            raise  # about the certificate or the handshake, not where it went
        except OSError as exc:
            raise _dialled(exc, address, port or SMTP_PORT) from exc


def _dialled(exc: OSError, address: str, port: int) -> OSError:
    """`exc` told about the address that was dialled rather than the loopback it routes to:
    ``Connect call failed ('127.0.0.1', 52311)`` becomes ``192.0.2.10 port 25``."""
    where = f"{_norm(address)} port {port}"
    if isinstance(exc, ConnectionRefusedError):
        return ConnectionRefusedError(where)
    reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
    return type(exc)(f"{where}: {reason}")
