"""The wire reader against dnspython's writer, and against garbage."""

from __future__ import annotations

import contextlib

import dns.message
import dns.rrset
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mxtui.dns.wire import AAAA, CNAME, MX, SOA, WireError, parse, read_name


def response(qname: str, qtype: str, *rrsets: dns.rrset.RRset, authority=()) -> bytes:
    message = dns.message.make_response(
        dns.message.make_query(qname, qtype, use_edns=0, payload=1232)
    )
    message.answer.extend(rrsets)
    message.authority.extend(authority)
    return message.to_wire(want_shuffle=False)


def test_reads_what_dnspython_writes_including_compression():
    wire = response(
        "example.com",
        "MX",
        dns.rrset.from_text("example.com.", 300, "IN", "MX", "10 mx1.example.com.", "20 ."),
    )
    parsed = parse(wire)
    assert parsed.question == ("example.com", MX)
    assert [r.data for r in parsed.answer] == [(10, "mx1.example.com"), (20, ".")]
    assert {r.ttl for r in parsed.answer} == {300}


def test_addresses_cnames_and_the_negative_ttl():
    wire = response(
        "a.test",
        "AAAA",
        dns.rrset.from_text("a.test.", 60, "IN", "CNAME", "b.test."),
        dns.rrset.from_text("b.test.", 30, "IN", "AAAA", "2001:db8::1"),
        authority=[dns.rrset.from_text("test.", 900, "IN", "SOA", "ns.test. hm.test. 1 2 3 4 120")],
    )
    parsed = parse(wire)
    assert [(r.rdtype, r.data) for r in parsed.answer] == [
        (CNAME, "b.test"),
        (AAAA, "2001:db8::1"),
    ]
    assert parsed.authority[0].rdtype == SOA and parsed.authority[0].data == 120


def test_unusual_bytes_in_names_are_escaped_as_dnspython_does():
    name = dns.name.Name([b"a b\x1b[@", b"test", b""])
    wire = response("x.test", "MX", dns.rrset.from_text("x.test.", 1, "IN", "MX", "1 x.test."))
    wire = wire.replace(b"\x01x\x04test\x00", name.to_wire(), 1)
    assert read_name(wire, 12)[0] == name.to_text(omit_final_dot=True)


def test_a_compression_loop_is_an_error_not_a_hang():
    wire = bytes(12) + b"\xc0\x0c"
    with pytest.raises(WireError):
        read_name(wire, 12)


@settings(max_examples=400)
@given(st.binary(max_size=200))
def test_garbage_raises_only_wire_error(data):
    with contextlib.suppress(WireError):
        parse(data)


@settings(max_examples=200)
@given(st.integers(min_value=12, max_value=80), st.binary(min_size=1, max_size=4))
def test_a_damaged_real_answer_raises_only_wire_error(position, junk):
    wire = response(
        "example.com",
        "MX",
        dns.rrset.from_text("example.com.", 1, "IN", "MX", "10 mx.example.com."),
    )
    damaged = wire[:position] + junk + wire[position + len(junk) :]
    with contextlib.suppress(WireError):
        parse(damaged)


async def test_query_ids_in_flight_never_collide_even_when_the_random_source_repeats(monkeypatch):
    """A repeated random id must be drawn again, not spin: the client once hung this way."""
    import asyncio

    from mxtui.dns import transport
    from mxtui.lab.demo import DEMO_ZONE
    from mxtui.lab.dns_server import LabDNSServer

    draws = iter([7, 7, 7, 9, 11, 13])
    monkeypatch.setattr(transport.secrets, "randbits", lambda _bits: next(draws))
    client = transport.UDPClient()
    async with LabDNSServer(DEMO_ZONE) as server:
        host, port = server.address
        names = [dns.name.from_text(n) for n in ("mx1.example.com", "mx2.example.com")]
        answers = await asyncio.wait_for(
            asyncio.gather(*(client.exchange(n, 1, host, port, 2) for n in names)), 5
        )
    client.close()
    assert [a.answer[0].data for a, _ in answers] == ["192.0.2.10", "192.0.2.11"]
