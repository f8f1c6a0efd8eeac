"""A case's world inside its namespace: the lab DNS server on port 53 and the MX hosts on port 25.

Everything listens where a real sender looks: DNS at `DNS_ADDRESS`:53 (named in the
resolv.conf bind-mounted over /etc/resolv.conf), every lab host on port 25 of its own address,
127.0.x.y or ::1. An address the case lists with kind "blackhole" takes no connection at all (the
SYN goes unanswered, as behind a firewall that drops); an address with no host refuses.

The hosts are the lab's own (`mxtui.lab.hosts`), each keeping a transcript of every
connection, so what each sender said and heard is read the same way for every MTA and for the
walk.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

from mxtui.conformance.cases import SENDER_DOMAIN, Case
from mxtui.lab.dns_server import LabDNSServer
from mxtui.lab.hosts import LabSMTPHost, behaviour_from_dict

DNS_ADDRESS = "127.0.0.53"
SMTP_PORT = 25
SELF_ADDRESS = "127.0.0.1"
"""The sending MTA's own address (its `inet_interfaces`); no case may use it for an MX."""


class BlackHole:
    """An address whose SYNs go unanswered: a listening socket with a full accept queue.

    With a backlog of 0 the kernel queues one connection; two of our own fill the queue, and
    from then on the kernel drops every SYN to the address, so a sender's connect times out.
    """

    def __init__(self, address: str, port: int = SMTP_PORT) -> None:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.bind((address, port))
        self.listener.listen(0)
        self.fillers: list[socket.socket] = []
        for _ in range(2):
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((address, port))
            self.fillers.append(s)

    def close(self) -> None:
        for s in [*self.fillers, self.listener]:
            s.close()


class World:
    """The DNS server and the case's hosts, started in the running loop of the namespace."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.dns = LabDNSServer(case.zones(), host=DNS_ADDRESS, port=53)
        self.hosts: dict[str, LabSMTPHost] = {}
        self.holes: list[BlackHole] = []

    async def start(self) -> None:
        await self.dns.start()
        for address, settings in self.case.hosts.items():
            if settings.get("kind") == "blackhole":
                self.holes.append(BlackHole(address))
                continue
            settings = {"starttls": False, "hostname": f"mx-{address}.lab", **settings}
            host = LabSMTPHost(address, behaviour_from_dict(settings), host=address,
                               port=SMTP_PORT)  # fmt: skip
            await host.start()
            self.hosts[address] = host
        # Let the holes' own connections reach the queue before anybody dials.
        await asyncio.sleep(0.05)

    async def stop(self) -> None:
        for hole in self.holes:
            hole.close()
        await asyncio.gather(*(h.stop() for h in self.hosts.values()), return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.dns.stop()

    def transcripts(self) -> dict[str, list[list[list[str]]]]:
        """Every connection each host took since the last `forget`, by address."""
        return {a: [list(map(list, t)) for t in h.transcripts] for a, h in self.hosts.items()}

    def forget(self) -> None:
        for host in self.hosts.values():
            host.forget()

    async def __aenter__(self) -> World:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def write_resolv_conf(folder: Path) -> Path:
    path = folder / "resolv.conf"
    path.write_text(f"nameserver {DNS_ADDRESS}\noptions timeout:2 attempts:2\n")
    return path


def message(case: Case, sender: str, recipients: tuple[str, ...]) -> bytes:
    """The test message every sender carries: short, plain, naming the case."""
    return (
        f"From: <{sender}>\r\nTo: {', '.join(f'<{r}>' for r in recipients)}\r\n"
        f"Subject: mxtui conformance {case.id}\r\nMessage-ID: <{case.id}.{sender}>\r\n\r\n"
        f"Case {case.id}: {case.title}\r\n"
    ).encode()


__all__ = ["DNS_ADDRESS", "SENDER_DOMAIN", "SMTP_PORT", "BlackHole", "World", "message"]
