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
import socket
import struct

import dns.exception
import dns.flags
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


READS_PER_WAKEUP = 256
"""Datagrams read each time the socket is readable: enough to empty a receive buffer, never an
unbounded loop."""


class _Socket:
    """One non-blocking UDP socket and the questions waiting on it.

    The socket is read with `loop.add_reader`, and every read takes all the datagrams waiting (up
    to `READS_PER_WAKEUP`), not one per wakeup as asyncio's datagram transport does: after the
    loop was busy (the app drawing a 1000-host tree), answers that arrived in the meantime are
    all taken before any question is given up, and `drain` lets an asker read them at its
    deadline.
    """

    def __init__(self, family: int) -> None:
        self.sock = socket.socket(
            socket.AF_INET if family == 4 else socket.AF_INET6, socket.SOCK_DGRAM
        )
        self.sock.setblocking(False)
        self.sock.bind(("0.0.0.0", 0) if family == 4 else ("::", 0))
        self.waiting: dict[tuple[int, tuple[str, int]], asyncio.Future[bytes]] = {}
        self.loop = asyncio.get_running_loop()
        self.loop.add_reader(self.sock.fileno(), self.drain)
        self.closed = False

    def drain(self) -> None:
        for _ in range(READS_PER_WAKEUP):
            try:
                data, addr = self.sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # An ICMP error (port unreachable) cannot be tied to one query: all waiting fail.
                for future in self.waiting.values():
                    if not future.done():
                        future.set_exception(exc)
                return
            if len(data) < 12:
                continue
            source = (_canonical(str(addr[0]).split("%")[0]), int(addr[1]))
            future = self.waiting.get((int.from_bytes(data[:2], "big"), source))
            if future is not None and not future.done():
                future.set_result(data)  # whether it answers our question is checked by the asker

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            self.loop.remove_reader(self.sock.fileno())
        self.sock.close()
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(ConnectionError("socket closed"))


class UDPClient:
    """Shared UDP sockets (one per family, opened on first use) for one lookup."""

    def __init__(self) -> None:
        self._sockets: dict[int, _Socket] = {}

    def _socket(self, family: int) -> _Socket:
        udp = self._sockets.get(family)
        if udp is None or udp.closed:
            udp = self._sockets[family] = _Socket(family)
        return udp

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
        udp = self._socket(6 if ":" in canonical else 4)
        destination = (canonical, port)
        wanted = (qname.to_text(omit_final_dot=True).lower() or ".", int(qtype))
        qid = secrets.randbits(16)
        while (qid, destination) in udp.waiting:  # ids of queries in flight stay unique
            qid = secrets.randbits(16)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes] = loop.create_future()
        udp.waiting[(qid, destination)] = future
        deadline = loop.time() + timeout
        try:
            await loop.sock_sendto(udp.sock, query_wire(qid, qname, qtype), destination)
            while True:
                if not future.done():
                    await asyncio.wait((future,), timeout=max(0.0, deadline - loop.time()))
                if not future.done():
                    udp.drain()  # the loop may have been too busy to read what did arrive
                if not future.done():
                    raise dns.exception.Timeout(timeout=timeout)
                wire = future.result()
                try:
                    response = parse(wire)
                except WireError:
                    response = None  # garbage with our id: not an answer; keep waiting
                if response is not None and _answers(response, wanted):
                    break
                # Same id, other question: not ours (a spoof or a stray); keep waiting.
                future = loop.create_future()
                udp.waiting[(qid, destination)] = future
        finally:
            udp.waiting.pop((qid, destination), None)
        if not response.truncated:
            return response, False
        return await tcp_exchange(qname, qtype, canonical, port, timeout), True

    def close(self) -> None:
        for udp in self._sockets.values():
            udp.close()
        self._sockets.clear()


async def tcp_exchange(
    qname: dns.name.Name, qtype: dns.rdatatype.RdataType, where: str, port: int, timeout: float
) -> Response:
    """One question over TCP (RFC 7766), its answer read off the wire as it came.

    The answer is parsed from the bytes received, never re-rendered: an answer that fills a TCP
    message (1000 MX records and their addresses) would not fit once rendered again.
    """
    qid = secrets.randbits(16)
    query = query_wire(qid, qname, qtype)
    wanted = (qname.to_text(omit_final_dot=True).lower() or ".", int(qtype))
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(where, port)
            try:
                writer.write(len(query).to_bytes(2, "big") + query)
                await writer.drain()
                size = int.from_bytes(await reader.readexactly(2), "big")
                wire = await reader.readexactly(size)  # at most 65535 bytes: the length is 16 bits
            finally:
                writer.close()
    except TimeoutError:
        raise dns.exception.Timeout(timeout=timeout) from None
    response = parse(wire)
    if response.id != qid or not _answers(response, wanted):
        raise WireError("the TCP answer is not for the question asked")
    return response


@functools.lru_cache(maxsize=256)
def _canonical(address: str) -> str:
    """One spelling per address, so a reply's source matches the address we sent to."""
    return str(ipaddress.ip_address(address))


def _answers(response: Response, wanted: tuple[str, int]) -> bool:
    if not response.flags & QR or response.question is None:
        return False
    name, rdtype = response.question
    return (name.lower(), rdtype) == wanted
