"""A lab DNS server per test, serving the demo zone (and any extra zones a test gives)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping

import pytest

from mxtui.lab.demo import DEMO_FAULTS, DEMO_ZONE
from mxtui.lab.dns_server import Fault, LabDNSServer

StartServer = Callable[..., "LabDNSServer"]


@pytest.fixture
async def lab_dns() -> AsyncIterator[LabDNSServer]:
    async with LabDNSServer(DEMO_ZONE, faults=DEMO_FAULTS) as server:
        yield server


@pytest.fixture
async def dns_server() -> AsyncIterator[Callable[..., object]]:
    """Start servers on demand: `server = await dns_server(zones, faults=...)`."""
    started: list[LabDNSServer] = []

    async def start(
        zones: str | list[str], faults: Mapping[str, Fault | list[Fault]] | None = None, **kw
    ) -> LabDNSServer:
        server = LabDNSServer(zones, faults=faults, **kw)
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()
