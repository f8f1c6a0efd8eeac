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
from mxtui.dns.window import START, Window
from mxtui.dns.wire import CNAME, SOA, Record, Response, WireError

MAX_CNAME_HOPS = 8

# Outcomes that are not DNS rcodes.
TIMEOUT = "TIMEOUT"
NETWORK_ERROR = "ERROR"
CNAME_LOOP = "CNAME_LOOP"


class NoNameserver(RuntimeError):
    """Neither --nameserver nor a system resolver configuration: nobody to ask."""


@dataclass(frozen=True)
class Answer:
    """What came back for one (name, type) question, after following CNAMEs."""

    name: str
    rdtype: str
    rcode: str
    """``NOERROR``, ``NXDOMAIN``, ``SERVFAIL``, ... or ``TIMEOUT`` / ``ERROR`` (no answer) or
    ``CNAME_LOOP`` (the alias chain loops or is too long to follow)."""
    records: tuple[Record, ...] = ()
    """The records of the asked type at the end of the chain, in answer order."""
    chain: tuple[str, ...] = ()
    """The names a CNAME chain went through after `name`, in order (empty without CNAME)."""
    negative_ttl: int | None = None
    queries: int = 0
    used_tcp: bool = False
    error: str = ""
    waited: float = 0.0
    """Seconds from the first send to the answer (or to giving up)."""

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


TRIES_PER_SERVER = 3
"""Sends of one question to each nameserver at most (a lost UDP packet is sent again), always
within the question's timeout."""


class Querier:
    """Asks a list of nameservers, moving to the next one on a timeout, SERVFAIL or REFUSED.

    One Querier serves one lookup. It remembers which servers stayed silent: a server that left a
    question unanswered while another server answered it is asked last for the rest of the lookup
    (it is "demoted"), so a dead first nameserver costs its timeout once, not on every question.
    """

    def __init__(
        self,
        nameservers: Sequence[tuple[str, int]] = (),
        *,
        timeout: float = 5.0,
        try_timeout: float = 2.0,
        window: int = START,
    ) -> None:
        self.nameservers = list(nameservers) or system_nameservers()
        self.timeout = timeout
        self.try_timeout = try_timeout
        self.queries = 0
        self.udp = UDPClient()
        self.window = Window(window)
        self._demoted: set[int] = set()
        self._last_heard = time.monotonic()  # when any server last answered anything
        self._unanswered = 0  # tries that timed out since then

    def close(self) -> None:
        self.udp.close()

    @property
    def demoted(self) -> list[tuple[str, int]]:
        """The nameservers asked last because they stayed silent while another answered."""
        return [self.nameservers[i] for i in sorted(self._demoted)]

    def _order(self) -> list[int]:
        """The servers in the order to ask them: as given, the silent ones last."""
        indexes = range(len(self.nameservers))
        return [i for i in indexes if i not in self._demoted] + sorted(self._demoted)

    async def ask(self, name: str, rdtype: str) -> Answer:
        """Ask for `rdtype` at `name`, following a CNAME chain across answers if needed.

        A chain that comes back to a name it went through is a loop (RFC 1034 §3.6.2 asks that
        loops be signalled as an error): the answer says so with the ``CNAME_LOOP`` outcome and
        the chain up to the repeated name, instead of going round until a hop limit.
        """
        chain: list[str] = []
        seen = {name.lower().rstrip(".")}
        current = name
        total_queries = 0
        used_tcp = False
        waited = 0.0
        while True:  # each round adds to `chain` or ends; a chain over MAX_CNAME_HOPS ends it
            answer = await self._ask_once(current, rdtype)
            total_queries += answer.queries
            waited += answer.waited
            used_tcp = used_tcp or answer.used_tcp
            loop = False
            for target in answer.chain:
                chain.append(target)
                key = target.lower().rstrip(".")
                if key in seen:
                    loop = True
                    break
                seen.add(key)
            if loop or (not answer.ok and len(chain) > MAX_CNAME_HOPS):
                why = "loops" if loop else f"is longer than {MAX_CNAME_HOPS} aliases"
                return Answer(
                    name=name,
                    rdtype=rdtype,
                    rcode=CNAME_LOOP,
                    chain=tuple(chain),
                    queries=total_queries,
                    used_tcp=used_tcp,
                    error=f"the alias chain {why}: " + " → ".join((name, *chain)),
                    waited=waited,
                )
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
            waited=waited,
        )

    async def _ask_once(self, name: str, rdtype: str) -> Answer:
        await self.window.acquire()
        try:
            return await self._ask_servers(name, rdtype)
        finally:
            self.window.release()

    async def _ask_servers(self, name: str, rdtype: str) -> Answer:
        """Go round the servers until one answers usefully, the tries are used up or time is.

        The question's time starts when it is first sent (not while it waits for a free slot),
        so "no answer within 5 s" is what happened on the wire.
        """
        qname = dns.name.from_text(name)
        qtype = dns.rdatatype.from_text(rdtype)
        silence = time.monotonic() - self._last_heard
        if self._unanswered and silence >= self.timeout:
            # Every server has been silent for a whole timeout while questions were out: the
            # rest of the lookup is not asked, so a dead server costs one timeout in all, not
            # one for each of 2000 questions.
            return Answer(
                name,
                rdtype,
                TIMEOUT,
                error=f"not asked: no nameserver has answered for {silence:.0f} s",
            )
        started = time.monotonic()
        deadline = started + self.timeout
        queries = 0
        used_tcp = False
        last = Answer(name, rdtype, TIMEOUT, error="no answer")
        silent: set[int] = set()
        order = self._order()
        tries = TRIES_PER_SERVER * len(order)
        attempt = 0
        while attempt < tries and (remaining := deadline - time.monotonic()) > 0.001:
            index = order[attempt % len(order)]
            attempt += 1
            where, port = self.nameservers[index]
            queries += 1
            self.queries += 1
            epoch = self.window.epoch
            try:
                response, tcp = await self.udp.exchange(
                    qname, qtype, where, port, min(self.try_timeout, remaining)
                )
            except dns.exception.Timeout:
                self.window.lost(epoch)
                self._unanswered += 1
                silent.add(index)
                last = Answer(name, rdtype, TIMEOUT, error=f"no answer from {where} port {port}")
                continue
            except (OSError, EOFError, WireError, dns.exception.DNSException) as exc:
                last = Answer(name, rdtype, NETWORK_ERROR, error=f"{where} port {port}: {exc}")
                continue
            self._last_heard = time.monotonic()
            self._unanswered = 0
            self._demoted.discard(index)  # it answers again
            self._demoted.update(silent - {index})
            if tcp:
                queries += 1
                self.queries += 1
                used_tcp = True
            rcode = dns.rcode.to_text(response.rcode)
            if rcode in ("SERVFAIL", "REFUSED", "NOTIMP", "FORMERR"):
                last = Answer(name, rdtype, rcode, error=f"{where} answered {rcode}")
                if attempt >= len(order):
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
                waited=time.monotonic() - started,
            )
        return Answer(
            name=name,
            rdtype=rdtype,
            rcode=last.rcode,
            queries=queries,
            used_tcp=used_tcp,
            error=last.error,
            waited=time.monotonic() - started,
        )


def _follow(
    response: Response, qname: str, qtype: int
) -> tuple[tuple[Record, ...], tuple[str, ...]]:
    """Walk the answer section from qname through CNAMEs to the records asked for."""
    name = qname.lower().rstrip(".") or "."
    chain: list[str] = []
    seen = {name}
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
        if name in seen:
            break  # a loop: the chain ends at the repeated name, and `ask` names it
        seen.add(name)
    return (), tuple(chain)


def _negative_ttl(response: Response) -> int | None:
    """RFC 2308 §5: a negative answer is cached for min(SOA TTL, SOA MINIMUM)."""
    for record in response.authority:
        if record.rdtype == SOA and isinstance(record.data, int):
            return min(record.ttl, record.data)
    return None
