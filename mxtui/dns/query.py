"""One DNS question, asked the way mxtui needs: EDNS on, TCP on truncation, every try counted.

dnspython's resolver hides the rcode of a failed answer behind exceptions and retries in ways we
cannot count. Asking with ``dns.asyncquery`` directly keeps the wire visible: the rcode, the CNAME
chain, the TTLs, whether TCP was needed and how many queries went out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset

EDNS_PAYLOAD = 1232  # the DNS Flag Day 2020 size: large MX sets fit without a TCP retry
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
    rrset: dns.rrset.RRset | None = None
    chain: tuple[str, ...] = ()
    """The names a CNAME chain went through after `name`, in order (empty without CNAME)."""
    negative_ttl: int | None = None
    queries: int = 0
    used_tcp: bool = False
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.rrset is not None

    @property
    def nodata(self) -> bool:
        return self.rcode == "NOERROR" and self.rrset is None

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
            rrset=answer.rrset,
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
            query = dns.message.make_query(qname, qtype, use_edns=0, payload=EDNS_PAYLOAD)
            queries += 1
            self.queries += 1
            try:
                response, tcp = await dns.asyncquery.udp_with_fallback(
                    query, where, timeout=min(self.try_timeout, remaining), port=port
                )
            except dns.exception.Timeout:
                last = Answer(name, rdtype, TIMEOUT, error=f"no answer from {where} port {port}")
                continue
            except (OSError, EOFError, dns.exception.DNSException) as exc:
                last = Answer(name, rdtype, NETWORK_ERROR, error=f"{where} port {port}: {exc}")
                continue
            if tcp:
                queries += 1
                self.queries += 1
                used_tcp = True
            rcode = dns.rcode.to_text(response.rcode())
            if rcode in ("SERVFAIL", "REFUSED", "NOTIMP", "FORMERR"):
                last = Answer(name, rdtype, rcode, error=f"{where} answered {rcode}")
                if attempt >= len(self.nameservers):
                    break  # every server said so: that is the answer
                continue
            rrset, chain = _follow(response, qname, qtype)
            return Answer(
                name=name,
                rdtype=rdtype,
                rcode=rcode,
                rrset=rrset,
                chain=chain,
                negative_ttl=_negative_ttl(response) if rrset is None else None,
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
    response: dns.message.Message, qname: dns.name.Name, qtype: dns.rdatatype.RdataType
) -> tuple[dns.rrset.RRset | None, tuple[str, ...]]:
    """Walk the answer section from qname through CNAMEs to the records asked for."""
    name = qname
    chain: list[str] = []
    for _ in range(MAX_CNAME_HOPS):
        for rrset in response.answer:
            if rrset.name == name and rrset.rdtype == qtype:
                return rrset, tuple(chain)
        cname = next(
            (r for r in response.answer if r.name == name and r.rdtype == dns.rdatatype.CNAME),
            None,
        )
        if cname is None:
            break
        name = cname[0].target
        chain.append(name.to_text(omit_final_dot=True))
    return None, tuple(chain)


def _negative_ttl(response: dns.message.Message) -> int | None:
    """RFC 2308 §5: a negative answer is cached for min(SOA TTL, SOA MINIMUM)."""
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
            return min(rrset.ttl, rrset[0].minimum)
    return None


async def ask_many(querier: Querier, questions: Sequence[tuple[str, str]]) -> list[Answer]:
    """Ask several questions at once (all in flight together)."""
    return list(await asyncio.gather(*(querier.ask(n, t) for n, t in questions)))
