"""DNS over UDP through one socket per address family, with TCP when an answer is truncated.

dnspython's ``asyncquery.udp`` opens a socket and builds a `Message` for every query; with the
A and AAAA questions of forty MX hosts in flight at once, that work costs more than a round trip
on loopback. Here every query of a lookup shares one socket, a query's wire form is built
directly, answers are read by `mxtui.dns.wire`, and matched to their questions by id, source
and question.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import secrets
import struct

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype

from mxtui.dns.wire import QR, Response, WireError, parse

EDNS_PAYLOAD = 1232  # DNS Flag Day 2020: large MX sets fit without a TCP retry

_HEADER = struct.Struct("!HHHHHH")
# An OPT pseudo-record (RFC 6891): root name, type 41, class = UDP payload, TTL 0, no options.
_OPT = b"\x00" + struct.pack("!HHIH", 41, EDNS_PAYLOAD, 0, 0)


def query_wire(qid: int, qname: dns.name.Name, qtype: dns.rdatatype.RdataType) -> bytes:
    """A recursion-desired query with EDNS, as `dns.message.make_query(..., use_edns=0)` makes."""
    header = _HEADER.pack(qid, dns.flags.RD, 1, 0, 0, 1)
    question = qname.to_wire() + struct.pack("!HH", qtype, dns.rdataclass.IN)
    return header + question + _OPT


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.waiting: dict[tuple[int, tuple[str, int]], asyncio.Future[bytes]] = {}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if len(data) < 12:
            return
        source = (_canonical(str(addr[0]).split("%")[0]), int(addr[1]))
        future = self.waiting.get((int.from_bytes(data[:2], "big"), source))
        if future is not None and not future.done():
            future.set_result(data)  # whether it answers our question is checked by the asker

    def error_received(self, exc: Exception) -> None:
        # An ICMP error (port unreachable) cannot be tied to one query: all waiting ones fail.
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(exc or ConnectionError("socket closed"))


class UDPClient:
    """Shared UDP sockets (one per family, opened on first use) for one lookup."""

    def __init__(self) -> None:
        self._protocols: dict[int, _Protocol] = {}
        self._opening: dict[int, asyncio.Lock] = {4: asyncio.Lock(), 6: asyncio.Lock()}

    async def _protocol(self, family: int) -> _Protocol:
        async with self._opening[family]:
            protocol = self._protocols.get(family)
            if protocol is None or protocol.transport is None or protocol.transport.is_closing():
                loop = asyncio.get_running_loop()
                local = ("0.0.0.0", 0) if family == 4 else ("::", 0)
                _, protocol = await loop.create_datagram_endpoint(_Protocol, local_addr=local)
                self._protocols[family] = protocol
            return protocol

    async def exchange(
        self,
        qname: dns.name.Name,
        qtype: dns.rdatatype.RdataType,
        where: str,
        port: int,
        timeout: float,
    ) -> tuple[Response, bool]:
        """Ask once; return the answer and whether it had to come over TCP.

        Raises `dns.exception.Timeout`, `OSError`, `WireError` (a malformed answer over TCP) or
        a `dns.exception.DNSException`.
        """
        canonical = _canonical(where)
        protocol = await self._protocol(6 if ":" in canonical else 4)
        destination = (canonical, port)
        wanted = (qname.to_text(omit_final_dot=True).lower() or ".", int(qtype))
        qid = secrets.randbits(16)
        while (qid, destination) in protocol.waiting:  # ids of queries in flight stay unique
            qid = secrets.randbits(16)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        protocol.waiting[(qid, destination)] = future
        try:
            assert protocol.transport is not None
            protocol.transport.sendto(query_wire(qid, qname, qtype), destination)
            try:
                async with asyncio.timeout(timeout):
                    while True:
                        wire = await future
                        try:
                            response = parse(wire)
                        except WireError:
                            response = None  # garbage with our id: not an answer; keep waiting
                        if response is not None and _answers(response, wanted):
                            break
                        # Same id, other question: not ours (a spoof or a stray); keep waiting.
                        future = asyncio.get_running_loop().create_future()
                        protocol.waiting[(qid, destination)] = future
            except TimeoutError:
                raise dns.exception.Timeout(timeout=timeout) from None
        finally:
            protocol.waiting.pop((qid, destination), None)
        if not response.truncated:
            return response, False
        query = dns.message.make_query(qname, qtype, use_edns=0, payload=EDNS_PAYLOAD)
        message = await dns.asyncquery.tcp(query, where, timeout=timeout, port=port)
        return parse(message.to_wire()), True

    def close(self) -> None:
        for protocol in self._protocols.values():
            if protocol.transport is not None:
                with contextlib.suppress(Exception):
                    protocol.transport.close()
        self._protocols.clear()


@functools.lru_cache(maxsize=256)
def _canonical(address: str) -> str:
    """One spelling per address, so a reply's source matches the address we sent to."""
    return str(ipaddress.ip_address(address))


def _answers(response: Response, wanted: tuple[str, int]) -> bool:
    if not response.flags & QR or response.question is None:
        return False
    name, rdtype = response.question
    return (name.lower(), rdtype) == wanted
