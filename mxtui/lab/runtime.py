"""The running lab: its DNS server (and, later, its SMTP hosts) in the caller's event loop."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType

from mxtui.lab.demo import DEMO_DOMAIN, DEMO_DOMAINS, DEMO_FAULTS, DEMO_ZONE
from mxtui.lab.dns_server import Fault, LabDNSServer


class Lab:
    """A scenario brought to life on loopback: a DNS server serving its zone."""

    def __init__(
        self,
        zone: str = DEMO_ZONE,
        *,
        domain: str = DEMO_DOMAIN,
        faults: Mapping[str, Fault | list[Fault]] | None = None,
        examples: tuple[tuple[str, str], ...] = DEMO_DOMAINS,
    ) -> None:
        self.domain = domain
        self.examples = examples
        self.dns = LabDNSServer(zone, faults=DEMO_FAULTS if faults is None else faults)

    @property
    def nameservers(self) -> list[tuple[str, int]]:
        return [self.dns.address]

    async def start(self) -> None:
        await self.dns.start()

    async def stop(self) -> None:
        await self.dns.stop()

    async def __aenter__(self) -> Lab:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
