"""One DNS question, asked the way mxtui needs: EDNS on, TCP on truncation, every try counted.

dnspython's resolver hides the rcode of a failed answer behind exceptions and retries in ways we
cannot count. Asking on the wire ourselves (`mxtui.dns.transport`) keeps everything visible: the
rcode, the CNAME chain, the TTLs, whether TCP was needed and how many queries went out.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver

from mxtui.dns.transport import UDPClient
from mxtui.dns.wire import CNAME, SOA, Record, Response, WireError

MAX_CNAME_HOPS = 8

# Outcomes that are not DNS rcodes.
TIMEOUT = "TIMEOUT"
NETWORK_ERROR = "ERROR"


class NoNameserver(RuntimeError):
    """Neither --nameserver nor a system resolver configuration: nobody to ask."""


@dataclass(frozen=True)
class Answer:
    """What came back for one (name, type) question, after following CNAMEs."""

    name: str
    rdtype: str
    rcode: str
    """``NOERROR``, ``NXDOMAIN``, ``SERVFAIL``, ... or ``TIMEOUT`` / ``ERROR`` (no answer)."""
    records: tuple[Record, ...] = ()
    """The records of the asked type at the end of the chain, in answer order."""
    chain: tuple[str, ...] = ()
    """The names a CNAME chain went through after `name`, in order (empty without CNAME)."""
    negative_ttl: int | None = None
    queries: int = 0
    used_tcp: bool = False
    error: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.records)

    @property
    def ttl(self) -> int | None:
        """The RRset's TTL (the smallest, should the records disagree)."""
        return min((r.ttl for r in self.records), default=None)

    @property
    def temporary(self) -> bool:
        """The answer is unknown (not "no such record"): a sender would try again later."""
        return self.rcode not in ("NOERROR", "NXDOMAIN")


def system_nameservers() -> list[tuple[str, int]]:
    try:
        resolver = dns.resolver.Resolver(configure=True)
    except dns.resolver.NoResolverConfiguration as exc:
        raise NoNameserver(
            "no system resolver is configured; give one with --nameserver HOST[:PORT]"
        ) from exc
    servers = [
        (str(ns), resolver.nameserver_ports.get(str(ns), resolver.port))
        for ns in resolver.nameservers
    ]
    if not servers:
        raise NoNameserver("the system resolver lists no nameservers; use --nameserver")
    return servers


class Querier:
    """Asks a list of nameservers, moving to the next one on a timeout, SERVFAIL or REFUSED."""

    def __init__(
        self,
        nameservers: Sequence[tuple[str, int]] = (),
        *,
        timeout: float = 5.0,
        try_timeout: float = 2.0,
    ) -> None:
        self.nameservers = list(nameservers) or system_nameservers()
        self.timeout = timeout
        self.try_timeout = try_timeout
        self.queries = 0
        self.udp = UDPClient()

    def close(self) -> None:
        self.udp.close()

    async def ask(self, name: str, rdtype: str) -> Answer:
        """Ask for `rdtype` at `name`, following a CNAME chain across answers if needed."""
        deadline = time.monotonic() + self.timeout
        chain: list[str] = []
        current = name
        total_queries = 0
        used_tcp = False
        for _ in range(MAX_CNAME_HOPS):
            answer = await self._ask_once(current, rdtype, deadline)
            total_queries += answer.queries
            used_tcp = used_tcp or answer.used_tcp
            chain.extend(answer.chain)
            if answer.ok or answer.rcode != "NOERROR" or not answer.chain:
                break
            # The server gave a CNAME but not what it leads to: ask for the target ourselves.
            current = answer.chain[-1]
        return Answer(
            name=name,
            rdtype=rdtype,
            rcode=answer.rcode,
            records=answer.records,
            chain=tuple(chain),
            negative_ttl=answer.negative_ttl,
            queries=total_queries,
            used_tcp=used_tcp,
            error=answer.error,
        )

    async def _ask_once(self, name: str, rdtype: str, deadline: float) -> Answer:
        qname = dns.name.from_text(name)
        qtype = dns.rdatatype.from_text(rdtype)
        queries = 0
        used_tcp = False
        last = Answer(name, rdtype, TIMEOUT, error="no answer")
        attempt = 0
        # Go round the nameservers until one answers usefully or time runs out; a second round
        # covers a lost UDP packet.
        while time.monotonic() < deadline and attempt < 2 * len(self.nameservers):
            where, port = self.nameservers[attempt % len(self.nameservers)]
            attempt += 1
            remaining = deadline - time.monotonic()
            queries += 1
            self.queries += 1
            try:
                response, tcp = await self.udp.exchange(
                    qname, qtype, where, port, min(self.try_timeout, remaining)
                )
            except dns.exception.Timeout:
                last = Answer(name, rdtype, TIMEOUT, error=f"no answer from {where} port {port}")
                continue
            except (OSError, EOFError, WireError, dns.exception.DNSException) as exc:
                last = Answer(name, rdtype, NETWORK_ERROR, error=f"{where} port {port}: {exc}")
                continue
            if tcp:
                queries += 1
                self.queries += 1
                used_tcp = True
            rcode = dns.rcode.to_text(response.rcode)
            if rcode in ("SERVFAIL", "REFUSED", "NOTIMP", "FORMERR"):
                last = Answer(name, rdtype, rcode, error=f"{where} answered {rcode}")
                if attempt >= len(self.nameservers):
                    break  # every server said so: that is the answer
                continue
            records, chain = _follow(response, name, int(qtype))
            return Answer(
                name=name,
                rdtype=rdtype,
                rcode=rcode,
                records=records,
                chain=chain,
                negative_ttl=None if records else _negative_ttl(response),
                queries=queries,
                used_tcp=used_tcp,
            )
        return Answer(
            name=name,
            rdtype=rdtype,
            rcode=last.rcode,
            queries=queries,
            used_tcp=used_tcp,
            error=last.error,
        )


def _follow(
    response: Response, qname: str, qtype: int
) -> tuple[tuple[Record, ...], tuple[str, ...]]:
    """Walk the answer section from qname through CNAMEs to the records asked for."""
    name = qname.lower().rstrip(".") or "."
    chain: list[str] = []
    for _ in range(MAX_CNAME_HOPS):
        found = tuple(r for r in response.answer if r.key == name and r.rdtype == qtype)
        if found:
            return found, tuple(chain)
        cname = next((r for r in response.answer if r.key == name and r.rdtype == CNAME), None)
        if cname is None:
            break
        target = str(cname.data)
        chain.append(target)
        name = target.lower()
    return (), tuple(chain)


def _negative_ttl(response: Response) -> int | None:
    """RFC 2308 §5: a negative answer is cached for min(SOA TTL, SOA MINIMUM)."""
    for record in response.authority:
        if record.rdtype == SOA and isinstance(record.data, int):
            return min(record.ttl, record.data)
    return None
