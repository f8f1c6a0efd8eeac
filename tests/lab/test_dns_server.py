"""The lab DNS server answers like a real authoritative server, over real loopback sockets."""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import AsyncIterator

import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.resolver
import pytest

from mxtui.lab import dns_server
from mxtui.lab.dns_server import Fault, LabDNSServer

BIG_MX_COUNT = 40

EXAMPLE_COM = """$ORIGIN example.com.
$TTL 300
@        IN SOA  ns1 hostmaster 2026112301 3600 600 86400 60
@        IN NS   ns1
@        IN MX   10 mx1
@        IN MX   20 mx2
@        IN MX   30 mx.example.net.
ns1      IN A    192.0.2.53
mx1      IN A    192.0.2.1
mx1      IN AAAA 2001:db8::1
mx2      IN A    192.0.2.2
www      IN CNAME web
web      IN CNAME mx1
away     IN CNAME host.elsewhere.test.
dangling IN CNAME missing
loop1    IN CNAME loop2
loop2    IN CNAME loop1
to-net   IN CNAME mx.example.net.
deep.ent IN A    192.0.2.77
txt      IN TXT  "v=spf1 -all"
"""

EXAMPLE_NET = """$ORIGIN example.net.
$TTL 600
@   IN SOA ns1 hostmaster 1 3600 600 86400 120
mx  IN A   198.51.100.25
"""


def big_zone() -> str:
    lines = ["$ORIGIN big.test.", "$TTL 300", "@ IN SOA ns hostmaster 1 3600 600 86400 60"]
    for i in range(BIG_MX_COUNT):
        lines.append(f"@ IN MX {i} mx-{i:02d}")
        lines.append(f"mx-{i:02d} IN A 192.0.2.{i + 1}")
    return "\n".join(lines) + "\n"


@pytest.fixture
async def server() -> AsyncIterator[LabDNSServer]:
    async with LabDNSServer([EXAMPLE_COM, EXAMPLE_NET, big_zone()]) as srv:
        yield srv


def resolver_for(srv: LabDNSServer, lifetime: float = 2.0) -> dns.asyncresolver.Resolver:
    host, port = srv.address
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = port
    resolver.lifetime = lifetime
    resolver.timeout = lifetime
    return resolver


async def udp(
    srv: LabDNSServer, name: str, rdtype: str = "A", timeout: float = 2.0, **query_kw: object
) -> dns.message.Message:
    host, port = srv.address
    query = dns.message.make_query(name, rdtype, **query_kw)  # type: ignore[arg-type]
    return await dns.asyncquery.udp(query, host, port=port, timeout=timeout)


async def tcp(srv: LabDNSServer, name: str, rdtype: str = "A") -> dns.message.Message:
    host, port = srv.address
    return await dns.asyncquery.tcp(
        dns.message.make_query(name, rdtype), host, port=port, timeout=2
    )


async def raw_udp(srv: LabDNSServer, payload: bytes, timeout: float = 2.0) -> bytes:
    """Send bytes in one datagram and return the reply datagram (TimeoutError if none)."""
    host, port = srv.address
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    loop = asyncio.get_running_loop()
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        await loop.sock_sendto(sock, payload, (host, port))
        data, _ = await asyncio.wait_for(loop.sock_recvfrom(sock, 65535), timeout)
        return data


def texts(response: dns.message.Message, section: str = "answer") -> list[str]:
    return sorted(str(rr) for rrset in getattr(response, section) for rr in [rrset])


def answer_types(response: dns.message.Message) -> list[tuple[str, str]]:
    return [
        (rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype)) for rrset in response.answer
    ]


# ------------------------------------------------------------------------------ answers


async def test_resolver_gets_authoritative_a_record(server: LabDNSServer) -> None:
    answer = await resolver_for(server).resolve("mx1.example.com", "A")
    assert [r.address for r in answer] == ["192.0.2.1"]
    assert answer.response.flags & dns.flags.AA
    assert answer.rrset is not None and answer.rrset.ttl == 300


async def test_existing_name_without_the_type_is_nodata_with_soa(server: LabDNSServer) -> None:
    response = await udp(server, "mx2.example.com", "AAAA")
    assert response.rcode() == dns.rcode.NOERROR
    assert response.answer == []
    assert response.flags & dns.flags.AA
    (soa,) = response.authority
    assert soa.rdtype == dns.rdatatype.SOA and soa.name == dns.name.from_text("example.com")
    assert soa.ttl == 60  # RFC 2308: min(SOA TTL, SOA minimum)
    with pytest.raises(dns.resolver.NoAnswer):
        await resolver_for(server).resolve("mx2.example.com", "AAAA")


async def test_missing_name_is_nxdomain_with_soa(server: LabDNSServer) -> None:
    response = await udp(server, "nobody.example.com", "MX")
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert response.flags & dns.flags.AA
    assert [rrset.rdtype for rrset in response.authority] == [dns.rdatatype.SOA]
    with pytest.raises(dns.resolver.NXDOMAIN):
        await resolver_for(server).resolve("nobody.example.com", "MX")


async def test_empty_non_terminal_is_nodata_not_nxdomain(server: LabDNSServer) -> None:
    response = await udp(server, "ent.example.com", "A")
    assert response.rcode() == dns.rcode.NOERROR
    assert response.answer == []


async def test_cname_chain_is_followed_to_the_final_records(server: LabDNSServer) -> None:
    response = await udp(server, "www.example.com", "A")
    assert response.rcode() == dns.rcode.NOERROR
    assert answer_types(response) == [
        ("www.example.com.", "CNAME"),
        ("web.example.com.", "CNAME"),
        ("mx1.example.com.", "A"),
    ]
    answer = await resolver_for(server).resolve("www.example.com", "A")
    assert [r.address for r in answer] == ["192.0.2.1"]
    assert answer.canonical_name == dns.name.from_text("mx1.example.com")


async def test_cname_chain_crosses_into_another_served_zone(server: LabDNSServer) -> None:
    response = await udp(server, "to-net.example.com", "A")
    assert answer_types(response) == [("to-net.example.com.", "CNAME"), ("mx.example.net.", "A")]


async def test_cname_leading_outside_the_zones_stops_with_noerror(server: LabDNSServer) -> None:
    response = await udp(server, "away.example.com", "A")
    assert response.rcode() == dns.rcode.NOERROR
    assert answer_types(response) == [("away.example.com.", "CNAME")]


async def test_cname_to_a_missing_name_is_nxdomain_with_the_chain(server: LabDNSServer) -> None:
    response = await udp(server, "dangling.example.com", "A")
    assert response.rcode() == dns.rcode.NXDOMAIN  # RFC 6604: the rcode of the last name
    assert answer_types(response) == [("dangling.example.com.", "CNAME")]
    assert [rrset.rdtype for rrset in response.authority] == [dns.rdatatype.SOA]


async def test_cname_loop_is_cut_without_hanging(server: LabDNSServer) -> None:
    response = await udp(server, "loop1.example.com", "A")
    assert response.rcode() == dns.rcode.NOERROR
    assert answer_types(response) == [
        ("loop1.example.com.", "CNAME"),
        ("loop2.example.com.", "CNAME"),
    ]


async def test_asking_for_the_cname_itself_does_not_follow_it(server: LabDNSServer) -> None:
    response = await udp(server, "www.example.com", "CNAME")
    assert answer_types(response) == [("www.example.com.", "CNAME")]


async def test_mx_answer_carries_in_zone_target_addresses(server: LabDNSServer) -> None:
    response = await udp(server, "example.com", "MX")
    assert len(response.answer[0]) == 3
    assert texts(response, "additional") == sorted(
        [
            "mx1.example.com. 300 IN A 192.0.2.1",
            "mx1.example.com. 300 IN AAAA 2001:db8::1",
            "mx2.example.com. 300 IN A 192.0.2.2",
            "mx.example.net. 600 IN A 198.51.100.25",
        ]
    )


async def test_txt_and_ns_records_are_served(server: LabDNSServer) -> None:
    response = await udp(server, "txt.example.com", "TXT")
    assert texts(response) == ['txt.example.com. 300 IN TXT "v=spf1 -all"']
    response = await udp(server, "example.com", "NS")
    assert texts(response) == ["example.com. 300 IN NS ns1.example.com."]


async def test_names_outside_the_zones_are_refused_without_aa(server: LabDNSServer) -> None:
    response = await udp(server, "example.org", "A")
    assert response.rcode() == dns.rcode.REFUSED
    assert not response.flags & dns.flags.AA
    assert response.answer == []


async def test_several_zones_are_served_and_the_closest_origin_wins() -> None:
    child = "$ORIGIN sub.example.com.\n$TTL 60\n@ IN SOA ns h 1 2 3 4 5\nhost IN A 192.0.2.200\n"
    async with LabDNSServer([EXAMPLE_COM, child, EXAMPLE_NET]) as srv:
        assert texts(await udp(srv, "mx.example.net")) == ["mx.example.net. 600 IN A 198.51.100.25"]
        assert texts(await udp(srv, "host.sub.example.com")) == [
            "host.sub.example.com. 60 IN A 192.0.2.200"
        ]
        nx = await udp(srv, "other.sub.example.com")
        assert nx.rcode() == dns.rcode.NXDOMAIN
        assert nx.authority[0].name == dns.name.from_text("sub.example.com")


# ------------------------------------------------------------------------------ sizes and EDNS


async def test_big_mx_set_over_udp_without_edns_is_truncated(server: LabDNSServer) -> None:
    query = dns.message.make_query("big.test", "MX")
    wire = await raw_udp(server, query.to_wire())
    assert len(wire) <= 512
    response = dns.message.from_wire(wire)
    assert response.flags & dns.flags.TC
    assert sum(len(rrset) for rrset in response.answer) < BIG_MX_COUNT


async def test_big_mx_set_over_tcp_is_complete(server: LabDNSServer) -> None:
    response = await tcp(server, "big.test", "MX")
    assert not response.flags & dns.flags.TC
    assert len(response.answer[0]) == BIG_MX_COUNT
    assert len(response.additional) == BIG_MX_COUNT


async def test_resolver_retries_a_truncated_answer_over_tcp(server: LabDNSServer) -> None:
    answer = await resolver_for(server).resolve("big.test", "MX")
    assert len(answer) == BIG_MX_COUNT
    assert ("tcp", "big.test", "MX") in server.log


async def test_edns_1232_fits_the_set_without_tc_and_echoes_edns(server: LabDNSServer) -> None:
    query = dns.message.make_query("big.test", "MX", use_edns=0, payload=1232)
    wire = await raw_udp(server, query.to_wire())
    assert 512 < len(wire) <= 1232
    response = dns.message.from_wire(wire)
    assert not response.flags & dns.flags.TC
    assert len(response.answer[0]) == BIG_MX_COUNT
    assert response.edns == 0
    # The additional section did not all fit: it is cut silently (RFC 2181 §9), never with TC.
    assert len(response.additional) < BIG_MX_COUNT


async def test_no_edns_in_the_answer_when_the_query_had_none(server: LabDNSServer) -> None:
    response = await udp(server, "mx1.example.com", "A")
    assert response.edns == -1


async def test_edns_version_above_zero_gets_badvers(server: LabDNSServer) -> None:
    response = await udp(server, "mx1.example.com", "A", use_edns=1)
    assert response.rcode() == dns.rcode.BADVERS


async def test_several_queries_share_one_tcp_connection(server: LabDNSServer) -> None:
    host, port = server.address
    reader, writer = await asyncio.open_connection(host, port)
    try:
        first = dns.message.make_query("mx1.example.com", "A")
        second = dns.message.make_query("mx2.example.com", "A")
        writer.write(first.to_wire(prepend_length=True) + second.to_wire(prepend_length=True))
        replies = {}
        for _ in range(2):
            size = int.from_bytes(await asyncio.wait_for(reader.readexactly(2), 2), "big")
            reply = dns.message.from_wire(await asyncio.wait_for(reader.readexactly(size), 2))
            replies[reply.id] = texts(reply)
    finally:
        writer.close()
    assert replies == {
        first.id: ["mx1.example.com. 300 IN A 192.0.2.1"],
        second.id: ["mx2.example.com. 300 IN A 192.0.2.2"],
    }


# ------------------------------------------------------------------------------ faults


async def test_servfail_fault_answers_servfail(server: LabDNSServer) -> None:
    server.set_fault("mx1.example.com", Fault(servfail=True))
    response = await udp(server, "mx1.example.com", "A")
    assert response.rcode() == dns.rcode.SERVFAIL
    with pytest.raises(dns.resolver.NoNameservers):
        await resolver_for(server).resolve("mx1.example.com", "A")


async def test_silent_fault_makes_the_client_time_out(server: LabDNSServer) -> None:
    server.set_fault("mx1.example.com.", Fault(silent=True))
    with pytest.raises(dns.exception.Timeout):
        await udp(server, "mx1.example.com", "A", timeout=0.3)
    assert server.log[-1] == ("udp", "mx1.example.com", "A")


async def test_delayed_answer_does_not_hold_up_other_queries(server: LabDNSServer) -> None:
    server.set_fault("mx1.example.com", Fault(delay_ms=600))
    started = time.monotonic()
    slow = asyncio.ensure_future(udp(server, "mx1.example.com", "A"))
    fast = asyncio.ensure_future(udp(server, "mx2.example.com", "A"))
    done, _ = await asyncio.wait({slow, fast}, return_when=asyncio.FIRST_COMPLETED)
    assert done == {fast}
    response = await slow
    assert time.monotonic() - started >= 0.55
    assert texts(response) == ["mx1.example.com. 300 IN A 192.0.2.1"]


async def test_server_wide_delay_applies_to_every_answer() -> None:
    async with LabDNSServer(EXAMPLE_COM, delay_ms=300) as srv:
        started = time.monotonic()
        await udp(srv, "mx1.example.com", "A")
        assert time.monotonic() - started >= 0.25


async def test_fault_limited_to_one_type_leaves_other_types_alone(server: LabDNSServer) -> None:
    server.set_fault("MX1.Example.Com", Fault(servfail=True, rdtype="aaaa"))
    assert (await udp(server, "mx1.example.com", "AAAA")).rcode() == dns.rcode.SERVFAIL
    assert texts(await udp(server, "mx1.example.com", "A")) == [
        "mx1.example.com. 300 IN A 192.0.2.1"
    ]


async def test_faults_given_at_construction_accept_relative_names_and_lists() -> None:
    faults = {
        "mx1": [Fault(servfail=True, rdtype="A"), Fault(silent=True, rdtype="AAAA")],
        "@": Fault(servfail=True, rdtype="MX"),
    }
    async with LabDNSServer(EXAMPLE_COM, faults=faults) as srv:
        assert (await udp(srv, "mx1.example.com", "A")).rcode() == dns.rcode.SERVFAIL
        with pytest.raises(dns.exception.Timeout):
            await udp(srv, "mx1.example.com", "AAAA", timeout=0.3)
        assert (await udp(srv, "example.com", "MX")).rcode() == dns.rcode.SERVFAIL
        assert (await udp(srv, "example.com", "NS")).rcode() == dns.rcode.NOERROR


async def test_clearing_a_fault_while_running_restores_answers(server: LabDNSServer) -> None:
    server.set_fault("mx2.example.com", Fault(servfail=True))
    assert (await udp(server, "mx2.example.com")).rcode() == dns.rcode.SERVFAIL
    server.set_fault("mx2.example.com", None)
    assert (await udp(server, "mx2.example.com")).rcode() == dns.rcode.NOERROR


async def test_fault_applies_over_tcp_too(server: LabDNSServer) -> None:
    server.set_fault("mx2.example.com", Fault(servfail=True))
    assert (await tcp(server, "mx2.example.com")).rcode() == dns.rcode.SERVFAIL


def test_bad_faults_are_value_errors() -> None:
    with pytest.raises(ValueError, match="unknown DNS record type 'BOGUS'"):
        Fault(rdtype="BOGUS")
    with pytest.raises(ValueError, match="delay_ms"):
        Fault(delay_ms=-1)
    srv = LabDNSServer(EXAMPLE_COM)
    with pytest.raises(ValueError, match="owner name"):
        srv.set_fault("a..b", Fault(silent=True))


# ------------------------------------------------------------------------------ robustness


async def test_malformed_query_gets_formerr_and_the_server_keeps_answering(
    server: LabDNSServer,
) -> None:
    garbage = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xff\xff\xff"
    reply = await raw_udp(server, garbage)
    assert reply[:2] == b"\x12\x34"
    assert reply[2] & 0x80  # QR
    assert reply[3] & 0x0F == dns.rcode.FORMERR
    with pytest.raises(TimeoutError):
        await raw_udp(server, b"\x01", timeout=0.3)  # not even an id: ignored
    assert texts(await udp(server, "mx1.example.com")) == ["mx1.example.com. 300 IN A 192.0.2.1"]
    assert server.errors == []


async def test_malformed_query_over_tcp_gets_formerr(server: LabDNSServer) -> None:
    host, port = server.address
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(b"\x00\x05\xab\xcd\x01\x00\x00")
        size = int.from_bytes(await asyncio.wait_for(reader.readexactly(2), 2), "big")
        reply = await asyncio.wait_for(reader.readexactly(size), 2)
    finally:
        writer.close()
    assert reply[:2] == b"\xab\xcd" and reply[3] & 0x0F == dns.rcode.FORMERR
    assert texts(await tcp(server, "mx2.example.com")) == ["mx2.example.com. 300 IN A 192.0.2.2"]


async def test_random_datagrams_never_break_the_server(server: LabDNSServer) -> None:
    host, port = server.address
    rng = random.Random(5321)
    header = dns.message.make_query("mx1.example.com", "A").to_wire()[:12]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for i in range(600):
            # Half pure noise, half a valid header followed by noise (reaches the deeper parser).
            prefix = header if i % 2 else b""
            sock.sendto(prefix + rng.randbytes(rng.randint(0, 64)), (host, port))
            await asyncio.sleep(0)  # let the server read, so no datagram is lost to a full buffer
    assert texts(await udp(server, "mx1.example.com")) == ["mx1.example.com. 300 IN A 192.0.2.1"]
    assert server.errors == []
    assert server.queries == 601


async def test_an_internal_error_costs_one_servfail_not_the_server(
    server: LabDNSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(server, "_answer", broken)
    assert (await udp(server, "mx1.example.com")).rcode() == dns.rcode.SERVFAIL
    assert server.errors == ["KeyError: 'boom'"]
    monkeypatch.undo()
    assert (await udp(server, "mx1.example.com")).rcode() == dns.rcode.NOERROR


async def test_idle_tcp_connections_are_closed(
    server: LabDNSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dns_server, "TCP_IDLE_TIMEOUT", 0.2)
    host, port = server.address
    reader, writer = await asyncio.open_connection(host, port)
    try:
        assert await asyncio.wait_for(reader.read(1), 3) == b""  # EOF from the server
    finally:
        writer.close()


async def test_a_response_sent_to_the_server_is_not_answered(server: LabDNSServer) -> None:
    response = dns.message.make_response(dns.message.make_query("mx1.example.com", "A"))
    with pytest.raises(TimeoutError):
        await raw_udp(server, response.to_wire(), timeout=0.3)


async def test_query_counter_and_log_cover_udp_and_tcp(server: LabDNSServer) -> None:
    await udp(server, "mx1.example.com", "A")
    await tcp(server, "example.com", "MX")
    await raw_udp(server, b"\x00\x07\x01\x00")
    assert server.queries == 3
    assert server.log == [
        ("udp", "mx1.example.com", "A"),
        ("tcp", "example.com", "MX"),
        ("udp", "", ""),
    ]
    server.queries = 0
    server.log.clear()
    await udp(server, "mx2.example.com", "A")
    assert server.queries == 1 and server.log == [("udp", "mx2.example.com", "A")]


async def test_stop_drops_answers_still_waiting_and_frees_the_port() -> None:
    srv = LabDNSServer(EXAMPLE_COM, faults={"mx1": Fault(delay_ms=5000)})
    await srv.start()
    host, port = srv.address
    pending = asyncio.ensure_future(udp(srv, "mx1.example.com", "A", timeout=0.5))
    await asyncio.sleep(0.1)
    await srv.stop()
    with pytest.raises(dns.exception.Timeout):
        await pending
    with pytest.raises(RuntimeError):
        _ = srv.address
    async with LabDNSServer(EXAMPLE_COM, host=host, port=port) as again:
        assert again.address == (host, port)
        assert (await udp(again, "mx1.example.com")).rcode() == dns.rcode.NOERROR


# ------------------------------------------------------------------------------ binding and zones


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "localhost", "example.com"])
def test_non_loopback_bind_is_refused(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        LabDNSServer(EXAMPLE_COM, host=host)


def _ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback_available(), reason="::1 is not available here")
async def test_serves_on_ipv6_loopback() -> None:
    async with LabDNSServer(EXAMPLE_COM, host="::1") as srv:
        assert srv.address[0] == "::1"
        answer = await resolver_for(srv).resolve("mx1.example.com", "AAAA")
        assert [r.address for r in answer] == ["2001:db8::1"]
        assert texts(await tcp(srv, "mx2.example.com")) == ["mx2.example.com. 300 IN A 192.0.2.2"]


def test_zone_syntax_error_names_the_zone_and_the_line() -> None:
    bad = "$ORIGIN broken.test.\n$TTL 60\n@ IN SOA ns h 1 2 3 4 5\nwww IN A not-an-address\n"
    with pytest.raises(ValueError, match=r"zone broken\.test\.: line 4: "):
        LabDNSServer([EXAMPLE_COM, bad])


def test_zone_without_origin_or_soa_is_refused() -> None:
    with pytest.raises(ValueError, match=r"zone #2: no \$ORIGIN"):
        LabDNSServer([EXAMPLE_COM, "$TTL 60\nwww IN A 192.0.2.1\n"])
    with pytest.raises(ValueError, match=r"zone nosoa\.test\.: no SOA"):
        LabDNSServer("$ORIGIN nosoa.test.\n$TTL 60\nwww IN A 192.0.2.1\n")
    with pytest.raises(ValueError, match="given twice"):
        LabDNSServer([EXAMPLE_COM, EXAMPLE_COM])
    with pytest.raises(ValueError, match="at least one zone"):
        LabDNSServer([])
