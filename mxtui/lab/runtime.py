"""The running lab: its DNS server and its mail hosts, in the caller's event loop.

`Lab` is the lab's `mxtui.network.Network`: its nameserver is the lab DNS server, its dialer
maps the zone's documentation addresses to the mail hosts on loopback, its store-and-forward
hosts are relays, and its hosts read the walk's simulated clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType

from mxtui.endpoint import Endpoint
from mxtui.lab.certs import lab_ca
from mxtui.lab.demo import (
    DEMO_DOMAIN,
    DEMO_DOMAINS,
    DEMO_FAULTS,
    DEMO_HOSTS,
    DEMO_POLICIES,
    DEMO_ZONE,
)
from mxtui.lab.dns_server import Fault, LabDNSServer
from mxtui.lab.hosts import HostBehaviour, LabSMTP, relay_profiles
from mxtui.lab.tls_policy import PolicyHost, PolicySpec
from mxtui.network import Clock, Pacer
from mxtui.smtp.dialer import LabDialer
from mxtui.tlspolicy.lookup import TlsSetup

HTTPS_PORT = 443
LAB_DNS_TIMEOUT = 2.0
"""The lab DNS server answers at once or, on purpose, never: a longer wait only slows a demo."""


class Lab:
    """A scenario brought to life on loopback: a DNS server serving its zone, and one mail host
    per address the zone names (documentation addresses, reached only through `dialer`)."""

    simulated = True
    pacer: Pacer | None = None

    def __init__(
        self,
        zone: str = DEMO_ZONE,
        *,
        domain: str = DEMO_DOMAIN,
        faults: Mapping[str, Fault | list[Fault]] | None = None,
        hosts: Mapping[str, HostBehaviour] | None = None,
        examples: tuple[tuple[str, str], ...] = DEMO_DOMAINS,
        sign: bool = True,
        policies: Mapping[str, PolicySpec] | None = None,
    ) -> None:
        self.domain = domain
        self.examples = examples
        # The zone is signed (DNSSEC, keys made now) and its TLSA tokens name lab certificates.
        self.dns = LabDNSServer(zone, faults=DEMO_FAULTS if faults is None else faults, sign=sign)
        self.policies = dict(DEMO_POLICIES if policies is None else policies)
        """MTA-STS policy hosts by the address of their mta-sts.DOMAIN name."""
        self.policy_host = PolicyHost(self.policies)
        self.behaviours = dict(DEMO_HOSTS if hosts is None else hosts)
        self.smtp = LabSMTP(self.behaviours)
        self.dialer = LabDialer({})

    @property
    def trust_pem(self) -> bytes:
        """The lab CA: a probe trusts it as it trusts a real host's CA through the system."""
        return lab_ca().cert_pem

    @property
    def label(self) -> str:
        return f"lab · {self.domain}"

    @property
    def nameservers(self) -> tuple[Endpoint, ...]:
        return (Endpoint(*self.dns.address),)

    @property
    def relays(self) -> dict[str, str]:
        return relay_profiles(self.behaviours)

    def is_lab_host(self, address: str, port: int | None = None) -> bool:
        return self.dialer.is_lab(address, port)

    def attach(self, clock: Clock) -> None:
        """Every host reads `clock` (and follows its moves) and forgets an earlier walk."""
        self.smtp.attach(clock)

    def dns_timeout(self, requested: float) -> float:
        return min(requested, LAB_DNS_TIMEOUT)

    @property
    def tls_setup(self) -> TlsSetup:
        """How the TLS-policy lookups trust and reach the lab: its zone keys as trust anchors,
        its CA, and its policy hosts' loopback ports behind (address, 443)."""
        connect = {
            (address, HTTPS_PORT): (self.policy_host.host, self.policy_host.port_for(spec.domain))
            for address, spec in self.policies.items()
        }
        return TlsSetup(self.dns.trust_anchors, (lab_ca().cert_pem,), connect, "lab")

    async def start(self) -> None:
        await self.dns.start()
        try:
            await self.smtp.start()
            await self.policy_host.start()
        except BaseException:
            await self.smtp.stop()
            await self.dns.stop()
            raise
        self.dialer = LabDialer(dict(self.smtp.endpoints))

    async def stop(self) -> None:
        await self.policy_host.stop()
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
