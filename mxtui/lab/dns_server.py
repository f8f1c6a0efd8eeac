"""An authoritative DNS server on loopback for the lab, speaking the real wire protocol.

The lab must show what a sending MTA sees from DNS (answers, NODATA, NXDOMAIN, CNAME chains,
SERVFAIL, silence, slowness, truncation), so the resolver under test talks to a real server over
real UDP and TCP sockets rather than to a mock object. The server runs in the caller's asyncio
loop (no threads), answers from zone-file texts parsed by dnspython, and can be told to misbehave
per owner name with a `Fault`. It refuses to bind anything but a loopback address.

Zones can be signed when the server is made (`sign`): keys are made then and kept in memory, and
a query with the DO bit gets RRSIGs and NSEC/NSEC3 proofs (see `mxtui.lab.dnssec_zone`); the
trust anchors a validator needs are in `trust_anchors`.

What it does not do, because lab scenarios do not need it: wildcards, delegations below a zone's
origin (an NS record under the origin is served as plain data), DNAME, zone transfers.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DS
import dns.rdtypes.ANY.SOA
import dns.rrset
import dns.zone

from mxtui.lab.dnssec_zone import SignedZone, sign
from mxtui.lab.tlsa_tokens import expand_tlsa
from mxtui.text import printable

__all__ = ["Fault", "LabDNSServer"]

UDP_PAYLOAD_WITHOUT_EDNS = 512
"""RFC 1035 §4.2.1: a UDP answer to a query without EDNS must fit in 512 bytes."""

OUR_EDNS_PAYLOAD = 1232
"""The UDP payload size we advertise, the DNS Flag Day 2020 value that avoids fragmentation."""

TCP_IDLE_TIMEOUT = 30.0
"""Seconds an idle TCP connection is kept open (RFC 7766 §6.2.3 asks servers to time them out)."""

MAX_CNAME_CHAIN = 16
"""How many CNAMEs are followed inside the served zones before the chain is cut (loop guard)."""

_BIND_ATTEMPTS = 20
_ORIGIN_LINE = re.compile(r"^\$ORIGIN[ \t]+(\S+)", re.IGNORECASE | re.MULTILINE)
_DNSPYTHON_LINE = re.compile(r"^<string>:(\d+): (.*)$", re.DOTALL)

Send = Callable[[bytes], Awaitable[None]]


@dataclass
class Fault:
    """A way for the server to misbehave when asked about one owner name.

    Several faults matching one query combine: any `silent` drops it, any `servfail` answers
    SERVFAIL, and the delays add up (plus the server-wide delay).
    """

    servfail: bool = False
    """Answer SERVFAIL instead of the data."""
    silent: bool = False
    """Never answer: the client times out, as with a dead or firewalled name server."""
    delay_ms: int = 0
    """Answer after this many milliseconds, without holding up other queries."""
    rdtype: str | None = None
    """Apply only to queries of this type ("A", "AAAA", "MX", ...); None means any type."""
    unsigned: bool = False
    """In a signed zone, answer without the signatures: a validator finds the answer bogus."""

    def __post_init__(self) -> None:
        if self.delay_ms < 0:
            raise ValueError(f"fault delay_ms must be zero or more, not {self.delay_ms}")
        if self.rdtype is not None:
            _rdtype_from_text(self.rdtype)

    def matches(self, rdtype: dns.rdatatype.RdataType) -> bool:
        """True when this fault applies to a query of type `rdtype`."""
        return self.rdtype is None or _rdtype_from_text(self.rdtype) == rdtype


def _rdtype_from_text(text: str) -> dns.rdatatype.RdataType:
    try:
        return dns.rdatatype.from_text(text)
    except dns.rdatatype.UnknownRdatatype:
        raise ValueError(f"unknown DNS record type {text!r} in a fault") from None


@dataclass(frozen=True)
class _ServedZone:
    """One parsed zone with what answering needs precomputed."""

    origin: dns.name.Name
    zone: dns.zone.Zone
    negative_soa: dns.rrset.RRset
    """The SOA for the authority section of negative answers, TTL per RFC 2308 §5."""
    names: frozenset[dns.name.Name]
    """Every owner name plus every empty non-terminal: a name here never gets NXDOMAIN."""
    signed: SignedZone | None = None


def _zone_label(text: str, index: int) -> str:
    match = _ORIGIN_LINE.search(text)
    return match.group(1) if match else f"#{index + 1}"


def _parse_zone(text: str, index: int) -> dns.zone.Zone:
    """Parse one zone-file text, turning every failure into a ValueError naming zone and line."""
    label = _zone_label(text, index)
    try:
        zone = dns.zone.from_text(text, origin=None, relativize=False, check_origin=False)
    except dns.zone.UnknownOrigin:
        raise ValueError(
            f"zone {label}: no $ORIGIN line (each zone text must name its origin)"
        ) from None
    except (dns.exception.DNSException, ValueError, UnicodeError) as exc:
        message = str(exc)
        match = _DNSPYTHON_LINE.match(message)
        if match:
            line = _faulty_line(text, int(match.group(1)))
            source = printable(text.splitlines()[line - 1].strip())[:80]
            message = f"line {line}: {match.group(2)} ({source})"
        raise ValueError(f"zone {label}: {message}") from None
    origin = zone.origin
    assert origin is not None  # from_text sets it or raises UnknownOrigin
    if zone.get_rdataset(origin, dns.rdatatype.SOA) is None:
        raise ValueError(f"zone {origin}: no SOA record at the origin")
    return zone


def _served(zone: dns.zone.Zone, signing: SignedZone | None) -> _ServedZone:
    """What answering needs, computed once the zone is final (signed or not)."""
    origin = zone.origin
    assert origin is not None
    soa_set = zone.get_rdataset(origin, dns.rdatatype.SOA)
    assert soa_set is not None
    soa = soa_set[0]
    assert isinstance(soa, dns.rdtypes.ANY.SOA.SOA)
    negative_soa = dns.rrset.from_rdata_list(origin, min(soa_set.ttl, soa.minimum), [soa])
    names: set[dns.name.Name] = set()
    for name in zone.nodes:
        while name not in names and name.is_subdomain(origin):
            names.add(name)
            if name == origin:
                break
            name = name.parent()
    names = {n for n in names if not _nsec3_only(zone, n)}
    return _ServedZone(origin, zone, negative_soa, frozenset(names), signing)


def _sign_all(
    zones: dict[dns.name.Name, dns.zone.Zone], wanted: set[dns.name.Name], nsec3: bool
) -> dict[dns.name.Name, SignedZone]:
    """Sign the wanted zones, children first, each child's DS put in its parent before the
    parent is signed: served together, they form a chain of trust (RFC 4035 §5)."""
    signed: dict[dns.name.Name, SignedZone] = {}
    for origin in sorted(wanted, key=len, reverse=True):
        zone = zones[origin]
        if zone.get_rdataset(origin, dns.rdatatype.NS) is None:
            raise ValueError(f"zone {origin}: a signed zone needs an NS record at its origin")
        for child, child_signed in signed.items():
            parent = max(
                (o for o in zones if child != o and child.is_subdomain(o)), key=len, default=None
            )
            if parent == origin and zone.get_rdataset(child, dns.rdatatype.NS) is not None:
                with zone.writer() as txn:
                    txn.add(child, 3600, child_signed.ds)
        signed[origin] = sign(zone, nsec3=nsec3)
    return signed


def _nsec3_only(zone: dns.zone.Zone, name: dns.name.Name) -> bool:
    """An NSEC3 record's hashed owner is no name of the zone's own (RFC 5155 §7.2.8)."""
    node = zone.get_node(name)
    return node is not None and all(
        r.rdtype == dns.rdatatype.NSEC3 or r.covers == dns.rdatatype.NSEC3 for r in node.rdatasets
    )


def _faulty_line(text: str, reported: int) -> int:
    """The line a zone syntax error is really on.

    dnspython reports the tokenizer's line, which is one past the faulty record when the error is
    found after its end of line was read; parsing the text up to the line before tells which.
    """
    lines = text.splitlines()
    reported = min(reported, len(lines))
    if reported <= 1:
        return max(reported, 1)
    try:
        dns.zone.from_text(
            "\n".join(lines[: reported - 1]) + "\n",
            origin=None,
            relativize=False,
            check_origin=False,
        )
    except dns.exception.SyntaxError:
        return reported - 1
    except (dns.exception.DNSException, ValueError, UnicodeError):
        return reported
    return reported


def _formerr_header(data: bytes) -> bytes | None:
    """A bare FORMERR reply to a query too broken to parse, or None when not even its id is."""
    if len(data) < 2:
        return None
    flags2 = data[2] if len(data) > 2 else 0
    first = 0x80 | (flags2 & 0x78) | (flags2 & 0x01)  # QR, the query's opcode, its RD bit
    return data[:2] + bytes([first, dns.rcode.FORMERR]) + bytes(8)


_BUILT_LIMIT = 10_000


@dataclass(frozen=True)
class _Built:
    """A finished answer for one question, with what the log shows for it."""

    qname: dns.name.Name
    qtype: dns.rdatatype.RdataType
    shown_name: str
    shown_type: str
    wire: bytes


class _UDPProtocol(asyncio.DatagramProtocol):
    """Hands each datagram to the server as its own task, so a slow answer delays nothing else."""

    def __init__(self, server: LabDNSServer) -> None:
        self._server = server
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        async def send(wire: bytes) -> None:
            if self._transport is not None and not self._transport.is_closing():
                self._transport.sendto(wire, addr)

        self._server._spawn(self._server._serve(data, "udp", send))

    def error_received(self, exc: Exception) -> None:
        """ICMP errors (a client gone away) concern one client, never the server."""


class LabDNSServer:
    """An authoritative server for the given zones on one loopback port, UDP and TCP.

    `queries` counts every message received and `log` holds one (transport, qname, qtype) entry
    per message (qname without its final dot, made printable; both empty when the message could
    not be parsed); tests and the benchmark may reset either. `errors` collects internal failures
    that were answered with SERVFAIL instead of crashing the server.
    """

    def __init__(
        self,
        zones: str | Iterable[str],
        *,
        faults: Mapping[str, Fault | Sequence[Fault]] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        delay_ms: int = 0,
        sign: bool | Iterable[str] = False,
        nsec3: bool = False,
    ) -> None:
        texts = [expand_tlsa(t) for t in ([zones] if isinstance(zones, str) else list(zones))]
        if not texts:
            raise ValueError("the lab DNS server needs at least one zone")
        to_sign = (
            None
            if isinstance(sign, bool)
            else {dns.name.from_text(z.strip().rstrip(".") + ".") for z in sign}
        )
        parsed: dict[dns.name.Name, dns.zone.Zone] = {}
        for index, text in enumerate(texts):
            zone = _parse_zone(text, index)
            assert zone.origin is not None
            if zone.origin in parsed:
                raise ValueError(f"zone {zone.origin} is given twice")
            parsed[zone.origin] = zone
        if to_sign is None:
            # sign=True: every zone that can be signed, that is one with an NS record at its
            # origin (a DNSKEY set needs a zone cut above it to mean anything).
            wanted = {o for o, z in parsed.items() if sign and z.get_rdataset(o, "NS") is not None}
        else:
            wanted = to_sign
        unknown = wanted - set(parsed)
        if unknown:
            raise ValueError(f"cannot sign {sorted(unknown)[0]}: no such zone is served")
        signed = _sign_all(parsed, wanted, nsec3)
        # Most specific origin first, so a child zone wins over its parent.
        self._zones = sorted(
            (_served(zone, signed.get(origin)) for origin, zone in parsed.items()),
            key=lambda z: len(z.origin),
            reverse=True,
        )
        self._host = _loopback_host(host)
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, not {port}")
        if delay_ms < 0:
            raise ValueError(f"delay_ms must be zero or more, not {delay_ms}")
        self._port = port
        self.delay_ms = delay_ms
        self._faults: dict[dns.name.Name, tuple[Fault, ...]] = {}
        self._built: dict[tuple[bytes, str], _Built] = {}
        for name, fault in (faults or {}).items():
            self.set_fault(name, fault)
        self.queries = 0
        self.log: list[tuple[str, str, str]] = []
        self.errors: list[str] = []
        # `_built`: answers already built, by (query without its id, transport): the zones never
        # change while the server runs, so a repeated question costs a dict lookup, not a parse.
        self._bound: tuple[str, int] | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._connections: set[asyncio.Task[Any]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Bind UDP and TCP on one port (with port 0, a free port both protocols can use)."""
        if self._udp is not None:
            raise RuntimeError("the lab DNS server is already running")
        loop = asyncio.get_running_loop()
        attempts = _BIND_ATTEMPTS if self._port == 0 else 1
        for attempt in range(attempts):
            udp, _ = await loop.create_datagram_endpoint(
                lambda: _UDPProtocol(self), local_addr=(self._host, self._port)
            )
            port = int(udp.get_extra_info("sockname")[1])
            try:
                tcp = await asyncio.start_server(self._handle_tcp, self._host, port)
            except OSError:
                udp.close()
                if attempt == attempts - 1:
                    raise
                continue  # the free UDP port was taken for TCP: try another one
            self._udp, self._tcp, self._bound = udp, tcp, (self._host, port)
            return

    async def stop(self) -> None:
        """Close the sockets, end open TCP connections and drop answers still waiting."""
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
        for writer in list(self._writers):
            writer.close()
        pending = [*self._tasks, *self._connections]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        if self._tcp is not None:
            await self._tcp.wait_closed()
        self._udp, self._tcp, self._bound = None, None, None

    async def __aenter__(self) -> LabDNSServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def trust_anchors(self) -> dict[dns.name.Name, tuple[dns.rdtypes.ANY.DS.DS, ...]]:
        """The DS of every signed zone, by origin: what a validator trusts for the lab."""
        return {z.origin: (z.signed.ds,) for z in self._zones if z.signed is not None}

    @property
    def signed_zones(self) -> tuple[SignedZone, ...]:
        return tuple(z.signed for z in self._zones if z.signed is not None)

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) actually bound; only known once started."""
        if self._bound is None:
            raise RuntimeError("the lab DNS server is not running")
        return self._bound

    # ---------------------------------------------------------------- faults

    def set_fault(self, name: str, fault: Fault | Sequence[Fault] | None) -> None:
        """Make queries for `name` misbehave (or behave again with None); works while running.

        `name` is case-insensitive with an optional final dot. A name without a final dot that
        is not inside a served zone is also taken relative to every zone's origin ("mx1" is
        mx1.<origin> in each zone; "@" is each origin).
        """
        faults: tuple[Fault, ...] = ()
        if isinstance(fault, Fault):
            faults = (fault,)
        elif fault is not None:
            faults = tuple(fault)
            if not all(isinstance(f, Fault) for f in faults):
                raise ValueError(f"faults for {name!r} must be Fault objects")
        for key in self._fault_keys(name):
            if faults:
                self._faults[key] = faults
            else:
                self._faults.pop(key, None)
        self._built.clear()  # answers built under the old faults must not be served again

    def _fault_keys(self, name: str) -> list[dns.name.Name]:
        text = name.strip()
        if not text:
            raise ValueError("a fault needs an owner name")
        if text == "@":
            return [zone.origin for zone in self._zones]
        try:
            absolute = dns.name.from_text(text)
            if text.endswith(".") or self._zone_for(absolute) is not None:
                return [absolute]
            relative = dns.name.from_text(text, origin=None)
            return [absolute] + [relative.concatenate(z.origin) for z in self._zones]
        except dns.exception.DNSException as exc:
            raise ValueError(f"bad owner name {name!r} for a fault: {exc}") from None

    # ---------------------------------------------------------------- transports

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _handle_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve length-framed queries on one connection until EOF or idle timeout (RFC 7766)."""
        current = asyncio.current_task()
        if current is not None:
            self._connections.add(current)
        self._writers.add(writer)
        mine: set[asyncio.Task[None]] = set()

        async def send(wire: bytes) -> None:
            if not writer.is_closing():
                writer.write(len(wire).to_bytes(2, "big") + wire)
                with contextlib.suppress(ConnectionError):
                    await writer.drain()

        try:
            while True:
                try:
                    header = await asyncio.wait_for(reader.readexactly(2), TCP_IDLE_TIMEOUT)
                    size = int.from_bytes(header, "big")
                    data = await asyncio.wait_for(reader.readexactly(size), TCP_IDLE_TIMEOUT)
                except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
                    break
                task = self._spawn(self._serve(data, "tcp", send))
                mine.add(task)
                task.add_done_callback(mine.discard)
            if mine:  # the client stopped sending: still give it the answers it is owed
                await asyncio.gather(*mine, return_exceptions=True)
        except asyncio.CancelledError:
            # `stop` ends the connection. Ending quietly matters: asyncio's stream callback asks
            # a cancelled handler task for its exception and logs a traceback (Python 3.11).
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            if current is not None:
                self._connections.discard(current)

    # ---------------------------------------------------------------- one query

    async def _serve(self, data: bytes, transport: str, send: Send) -> None:
        """Parse one message, apply faults and delay, answer it (or not)."""
        self.queries += 1
        if len(data) > 2 and data[2] & 0x80:
            self.log.append((transport, "", ""))
            return  # a response, not a query: answering it could start a packet loop
        key = (data[2:], transport)
        built = self._built.get(key)
        if built is not None:
            faults = self._faults_for(built.qname, built.qtype)
            if not any(f.silent or f.servfail for f in faults):
                self.log.append((transport, built.shown_name, built.shown_type))
                await self._sleep(self.delay_ms + sum(f.delay_ms for f in faults))
                await send(data[:2] + built.wire[2:])
                return
        try:
            query = dns.message.from_wire(data)
        except Exception:  # untrusted bytes: any parse failure means a malformed query
            self.log.append((transport, "", ""))
            reply = _formerr_header(data)
            if reply is not None:
                await self._sleep(self.delay_ms)
                await send(reply)
            return
        qname: dns.name.Name | None = None
        qtype: dns.rdatatype.RdataType | None = None
        if query.question:
            qname, qtype = query.question[0].name, query.question[0].rdtype
        self.log.append(
            (
                transport,
                printable(qname.to_text(omit_final_dot=True)) if qname is not None else "",
                dns.rdatatype.to_text(qtype) if qtype is not None else "",
            )
        )
        faults = self._faults_for(qname, qtype)
        if any(f.silent for f in faults):
            return
        # The answer is built before the delay, which stands for the network: a delayed answer
        # then costs the delay and nothing more, however many are in flight.
        try:
            servfail = any(f.servfail for f in faults)
            response = self._respond(
                query, servfail=servfail, unsigned=any(f.unsigned for f in faults)
            )
            limit = 65535 if transport == "tcp" else self._udp_limit(query)
            # Records in zone-file order, not shuffled: the lab answers the same way every time,
            # so a trainee (and a snapshot) sees a stable "answer order".
            wire = response.to_wire(max_size=limit, prefer_truncation=True, want_shuffle=False)
            if not servfail and qname is not None and qtype is not None:
                if len(self._built) >= _BUILT_LIMIT:
                    self._built.clear()  # random questions must not grow memory without end
                shown = self.log[-1]
                self._built[key] = _Built(qname, qtype, shown[1], shown[2], wire)
        except Exception as exc:  # a bug must cost one answer, never the server
            self.errors.append(printable(f"{type(exc).__name__}: {exc}"))
            response = dns.message.make_response(query, our_payload=OUR_EDNS_PAYLOAD)
            response.set_rcode(dns.rcode.SERVFAIL)
            wire = response.to_wire(max_size=512, prefer_truncation=True)
        await self._sleep(self.delay_ms + sum(f.delay_ms for f in faults))
        await send(wire)

    @staticmethod
    async def _sleep(delay_ms: int) -> None:
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)

    @staticmethod
    def _udp_limit(query: dns.message.Message) -> int:
        """RFC 6891 §6.2.5: the client's EDNS payload size, never below 512; 512 without EDNS."""
        if query.edns < 0:
            return UDP_PAYLOAD_WITHOUT_EDNS
        return min(65535, max(UDP_PAYLOAD_WITHOUT_EDNS, query.payload))

    def _faults_for(
        self, qname: dns.name.Name | None, qtype: dns.rdatatype.RdataType | None
    ) -> tuple[Fault, ...]:
        if qname is None or qtype is None:
            return ()
        return tuple(f for f in self._faults.get(qname, ()) if f.matches(qtype))

    def _zone_for(self, name: dns.name.Name) -> _ServedZone | None:
        for zone in self._zones:
            if name.is_subdomain(zone.origin):
                return zone
        return None

    def _respond(
        self, query: dns.message.Message, *, servfail: bool, unsigned: bool = False
    ) -> dns.message.Message:
        response = dns.message.make_response(query, our_payload=OUR_EDNS_PAYLOAD)
        dnssec = query.edns >= 0 and bool(query.ednsflags & dns.flags.DO)
        if dnssec:
            response.ednsflags |= dns.flags.DO  # RFC 3225 §3: the DO bit is copied back
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
        elif query.edns > 0:
            response.set_rcode(dns.rcode.BADVERS)  # RFC 6891 §6.1.3: we speak EDNS version 0
        elif len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
        elif servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
        else:
            question = query.question[0]
            if question.rdclass != dns.rdataclass.IN or question.rdtype in (
                dns.rdatatype.AXFR,
                dns.rdatatype.IXFR,
            ):
                response.set_rcode(dns.rcode.REFUSED)
            else:
                self._answer(
                    question.name, question.rdtype, response, dnssec=dnssec and not unsigned
                )
        return response

    def _answer(
        self,
        qname: dns.name.Name,
        qtype: dns.rdatatype.RdataType,
        response: dns.message.Message,
        *,
        dnssec: bool = False,
    ) -> None:
        """Fill in an authoritative answer, following CNAMEs through the served zones.

        With `dnssec` (the query's DO bit), each RRset from a signed zone goes with its RRSIG,
        and a negative answer with its NSEC/NSEC3 proof (RFC 4035 §3.1).
        """

        def signatures(zone: _ServedZone, name: dns.name.Name, rdtype: int) -> None:
            if dnssec and zone.signed is not None:
                sigs = zone.signed.signatures(name, rdtype)
                if sigs is not None:
                    response.answer.append(sigs)

        def negative(zone: _ServedZone, name: dns.name.Name, *, exists: bool) -> None:
            response.authority.append(zone.negative_soa)
            if dnssec and zone.signed is not None:
                sigs = zone.signed.signatures(zone.origin, dns.rdatatype.SOA)
                if sigs is not None:
                    response.authority.append(sigs)
                response.authority.extend(zone.signed.denial(name, exists=exists))

        zone = self._zone_for(qname)
        if zone is None:
            response.set_rcode(dns.rcode.REFUSED)
            return
        if qtype == dns.rdatatype.DS and qname == zone.origin and qname != dns.name.root:
            # RFC 4035 §3.1.4.1: the DS of a zone cut is the parent's to answer, when served.
            zone = self._zone_for(qname.parent()) or zone
        response.flags |= dns.flags.AA
        name = qname
        followed: set[dns.name.Name] = set()
        while True:
            node = zone.zone.get_node(name)
            if node is None or not node.rdatasets or name not in zone.names:
                exists = name in zone.names
                if not exists:
                    # RFC 6604: after a CNAME the rcode describes the last name of the chain.
                    response.set_rcode(dns.rcode.NXDOMAIN)
                negative(zone, name, exists=exists)
                return
            if qtype == dns.rdatatype.ANY:
                for rdataset in node.rdatasets:
                    if rdataset.rdtype == dns.rdatatype.RRSIG and not dnssec:
                        continue
                    response.answer.append(
                        dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset))
                    )
                return
            rdataset = node.get_rdataset(dns.rdataclass.IN, qtype)
            if rdataset is not None:
                response.answer.append(
                    dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset))
                )
                signatures(zone, name, qtype)
                if qtype == dns.rdatatype.MX:
                    self._add_mx_addresses(rdataset, response)
                return
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None:  # NODATA: the name exists, the type does not
                negative(zone, name, exists=True)
                return
            response.answer.append(dns.rrset.from_rdata_list(name, cname.ttl, list(cname)))
            signatures(zone, name, dns.rdatatype.CNAME)
            followed.add(name)
            target: dns.name.Name = cname[0].target
            next_zone = self._zone_for(target)
            if next_zone is None or target in followed or len(followed) >= MAX_CNAME_CHAIN:
                return  # leads outside our zones (the client resolves on) or loops: stop here
            zone, name = next_zone, target

    def _add_mx_addresses(self, mx_set: Any, response: dns.message.Message) -> None:
        """Put the A and AAAA records of in-zone MX targets in the additional section."""
        seen: set[tuple[dns.name.Name, int]] = set()
        for mx in mx_set:
            target: dns.name.Name = mx.exchange
            zone = self._zone_for(target)
            if zone is None:
                continue
            for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                if (target, rdtype) in seen:
                    continue
                seen.add((target, rdtype))
                rdataset = zone.zone.get_rdataset(target, rdtype)
                if rdataset is not None:
                    response.additional.append(
                        dns.rrset.from_rdata_list(target, rdataset.ttl, list(rdataset))
                    )


def _loopback_host(host: str) -> str:
    """Accept only a loopback address literal: the lab must never listen beyond this machine."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise ValueError(
            f"the lab DNS server binds only to a loopback address (127.0.0.0/8 or ::1), "
            f"not {host!r}"
        )
    return str(address)
