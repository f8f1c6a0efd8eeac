"""The running lab: its DNS server and its mail hosts, in the caller's event loop."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType

from mxtui.lab.demo import DEMO_DOMAIN, DEMO_DOMAINS, DEMO_FAULTS, DEMO_HOSTS, DEMO_ZONE
from mxtui.lab.dns_server import Fault, LabDNSServer
from mxtui.lab.hosts import HostBehaviour, LabSMTP
from mxtui.smtp.dialer import LabDialer


class Lab:
    """A scenario brought to life on loopback: a DNS server serving its zone, and one mail host
    per address the zone names (documentation addresses, reached only through `dialer`)."""

    def __init__(
        self,
        zone: str = DEMO_ZONE,
        *,
        domain: str = DEMO_DOMAIN,
        faults: Mapping[str, Fault | list[Fault]] | None = None,
        hosts: Mapping[str, HostBehaviour] | None = None,
        examples: tuple[tuple[str, str], ...] = DEMO_DOMAINS,
    ) -> None:
        self.domain = domain
        self.examples = examples
        self.dns = LabDNSServer(zone, faults=DEMO_FAULTS if faults is None else faults)
        self.behaviours = dict(DEMO_HOSTS if hosts is None else hosts)
        self.smtp = LabSMTP(self.behaviours)
        self.dialer = LabDialer({})

    @property
    def nameservers(self) -> list[tuple[str, int]]:
        return [self.dns.address]

    async def start(self) -> None:
        await self.dns.start()
        try:
            await self.smtp.start()
        except BaseException:
            await self.dns.stop()
            raise
        self.dialer = LabDialer(dict(self.smtp.endpoints))

    async def stop(self) -> None:
        await self.smtp.stop()
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
