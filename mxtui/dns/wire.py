"""Reading DNS answers off the wire: just what an MX lookup needs, quickly and defensively.

dnspython's full message parser costs about 60 µs an answer; with the A and AAAA answers of forty
MX hosts arriving at once that is most of a round trip on a fast network. This reader takes only
the header, the question, the answer and authority records an MX lookup uses (A, AAAA, MX, CNAME,
SOA) and the EDNS extended rcode, and skips the rest. Every length and pointer is checked: the
bytes come from the network, and a bad packet raises `WireError`, never anything else.
Names are rendered as dnspython renders them (`\\DDD` escapes for unusual bytes).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

A, NS, CNAME, SOA, MX, AAAA, OPT = 1, 2, 5, 6, 15, 28, 41
IN = 1
QR, TC = 0x8000, 0x0200

_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_U16 = struct.Struct("!H")
_SOA_TAIL = struct.Struct("!IIIII")
_SPECIAL = frozenset(b'"().;\\@$')
_MAX_POINTERS = 64


class WireError(ValueError):
    """The bytes are not a well-formed DNS message."""


@dataclass(frozen=True, slots=True)
class Record:
    name: str
    """As received, without the final dot ("." for the root)."""
    rdtype: int
    ttl: int
    data: object
    """A/AAAA: the address text; MX: (preference, exchange); CNAME: target; SOA: minimum;
    anything else: None."""

    @property
    def key(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Response:
    id: int
    flags: int
    rcode: int
    question: tuple[str, int] | None
    answer: tuple[Record, ...]
    authority: tuple[Record, ...]

    @property
    def truncated(self) -> bool:
        return bool(self.flags & TC)


def _label_text(label: bytes) -> str:
    out = []
    for b in label:
        if b in _SPECIAL:
            out.append("\\" + chr(b))
        elif 0x20 < b < 0x7F:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03d}")
    return "".join(out)


def read_name(wire: bytes, offset: int) -> tuple[str, int]:
    """Read a possibly compressed name at `offset`; return its text and the offset after it."""
    labels: list[str] = []
    end = -1
    pointers = 0
    length = 0
    position = offset
    while True:
        if position >= len(wire):
            raise WireError("name runs past the end of the message")
        size = wire[position]
        if size & 0xC0 == 0xC0:
            if position + 1 >= len(wire):
                raise WireError("truncated compression pointer")
            target = ((size & 0x3F) << 8) | wire[position + 1]
            if end < 0:
                end = position + 2
            pointers += 1
            if pointers > _MAX_POINTERS or target >= position:
                raise WireError("compression pointer loop")
            position = target
            continue
        if size & 0xC0:
            raise WireError("unknown label type")
        position += 1
        if size == 0:
            break
        if position + size > len(wire):
            raise WireError("label runs past the end of the message")
        length += size + 1
        if length > 255:
            raise WireError("name longer than 255 octets")
        labels.append(_label_text(wire[position : position + size]))
        position += size
    return (".".join(labels) or "."), (end if end >= 0 else position)


def _rdata(wire: bytes, rdtype: int, start: int, size: int) -> object:
    end = start + size
    if rdtype == A:
        if size != 4:
            raise WireError("A record of the wrong length")
        return socket.inet_ntop(socket.AF_INET, wire[start:end])
    if rdtype == AAAA:
        if size != 16:
            raise WireError("AAAA record of the wrong length")
        return socket.inet_ntop(socket.AF_INET6, wire[start:end])
    if rdtype == MX:
        if size < 3:
            raise WireError("MX record too short")
        (preference,) = _U16.unpack_from(wire, start)
        exchange, after = read_name(wire, start + 2)
        if after != end:
            raise WireError("MX record of the wrong length")
        return preference, exchange
    if rdtype == CNAME:
        target, after = read_name(wire, start)
        if after != end:
            raise WireError("CNAME record of the wrong length")
        return target
    if rdtype == SOA:
        _, after = read_name(wire, start)
        _, after = read_name(wire, after)
        if after + _SOA_TAIL.size != end:
            raise WireError("SOA record of the wrong length")
        return _SOA_TAIL.unpack_from(wire, after)[4]  # MINIMUM
    return None


def parse(wire: bytes) -> Response:
    if len(wire) < _HEADER.size:
        raise WireError("message shorter than a DNS header")
    qid, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(wire)
    position = _HEADER.size
    question = None
    for index in range(qdcount):
        name, position = read_name(wire, position)
        if position + 4 > len(wire):
            raise WireError("truncated question")
        (qtype,) = _U16.unpack_from(wire, position)
        position += 4
        if index == 0:
            question = (name, qtype)
    sections: list[list[Record]] = [[], [], []]
    extended_rcode = 0
    for section, count in ((0, ancount), (1, nscount), (2, arcount)):
        for _ in range(count):
            name, position = read_name(wire, position)
            if position + _RR.size > len(wire):
                raise WireError("truncated record")
            rdtype, rdclass, ttl, size = _RR.unpack_from(wire, position)
            position += _RR.size
            if position + size > len(wire):
                raise WireError("record data runs past the end of the message")
            if rdtype == OPT:
                extended_rcode = ttl >> 24
            elif section < 2 and rdclass == IN:
                data = _rdata(wire, rdtype, position, size)
                sections[section].append(Record(name, rdtype, ttl & 0x7FFFFFFF, data))
            position += size
    return Response(
        id=qid,
        flags=flags,
        rcode=(flags & 0xF) | (extended_rcode << 4),
        question=question,
        answer=tuple(sections[0]),
        authority=tuple(sections[1]),
    )
