"""DNS questions for the TLS-policy lookups: DNSSEC records asked for, nothing validated by them.

The MX tree's own client (`mxtui.dns.query`) reads only what an MX lookup needs, for speed. The
TLS-policy lookups need the signatures and denial records as well (RRSIG, DNSKEY, DS, NSEC,
NSEC3), so each question sets DO (RFC 3225) to get them and CD (RFC 4035 §3.2.2) so that a
validating resolver hands over even data it finds bogus: whether an answer is secure is decided
by `mxtui.tlspolicy.dnssec`, never by trusting the resolver's AD bit. Answers are parsed by
dnspython in full; these questions are few (a dozen per MX host at most), so its cost is small.

Every question is bounded: a timeout per try and per question, a number of tries per server, a
number of questions per lookup (`budget`), a number in flight at once, and answers are cached
for the lookup so that the DNSKEY of a zone shared by 1000 hosts is asked once.
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
import dns.rdatatype

from mxtui.text import printable

EDNS_PAYLOAD = 1232
TRIES_PER_SERVER = 2
DEFAULT_BUDGET = 5000
IN_FLIGHT = 32


@dataclass(frozen=True)
class Reply:
    """One answer (or why there is none)."""

    message: dns.message.Message | None
    error: str = ""

    @property
    def rcode(self) -> str:
        """``NOERROR``, ``NXDOMAIN``, ``SERVFAIL``… or ``TIMEOUT`` / ``ERROR`` without an answer."""
        if self.message is None:
            return "TIMEOUT" if self.error.startswith("no answer") else "ERROR"
        return dns.rcode.to_text(self.message.rcode())


class SecureQuerier:
    """Asks the given nameservers with DO and CD set, caching every answer for one lookup."""

    def __init__(
        self,
        nameservers: Sequence[tuple[str, int]],
        *,
        timeout: float = 5.0,
        try_timeout: float = 2.0,
        budget: int = DEFAULT_BUDGET,
    ) -> None:
        if not nameservers:
            raise ValueError("no nameserver to ask")
        self.nameservers = list(nameservers)
        self.timeout = timeout
        self.try_timeout = try_timeout
        self.budget = budget
        self.queries = 0
        self._cache: dict[tuple[dns.name.Name, int], asyncio.Future[Reply]] = {}
        self._slots = asyncio.Semaphore(IN_FLIGHT)
        self._last_heard = time.monotonic()
        self._unanswered = 0

    async def ask(self, name: dns.name.Name | str, rdtype: str | int) -> Reply:
        qname = dns.name.from_text(name) if isinstance(name, str) else name
        qtype = dns.rdatatype.RdataType.make(rdtype)
        key = (qname.canonicalize(), int(qtype))
        task = self._cache.get(key)
        if task is None:
            task = self._cache[key] = asyncio.ensure_future(self._ask(qname, qtype))
        # Shielded: one asker giving up does not take the answer from the others waiting on it.
        return await asyncio.shield(task)

    def close(self) -> None:
        """Stop questions still on the way (a lookup that was abandoned)."""
        for task in self._cache.values():
            task.cancel()

    async def _ask(self, qname: dns.name.Name, qtype: dns.rdatatype.RdataType) -> Reply:
        if self.queries >= self.budget:
            return Reply(None, f"not asked: this lookup's {self.budget} questions are used up")
        silence = time.monotonic() - self._last_heard
        if self._unanswered and silence >= self.timeout:
            # No server has answered anything for a whole timeout: a dead or hostile server
            # costs one timeout for the whole lookup, not one per question of its chain.
            return Reply(None, f"no answer: no nameserver has answered for {silence:.0f} s")
        query = dns.message.make_query(qname, qtype, want_dnssec=True, payload=EDNS_PAYLOAD)
        query.flags |= dns.flags.CD
        deadline = time.monotonic() + self.timeout
        last = "no answer"
        async with self._slots:
            for attempt in range(TRIES_PER_SERVER * len(self.nameservers)):
                remaining = deadline - time.monotonic()
                if remaining <= 0.001:
                    break
                where, port = self.nameservers[attempt % len(self.nameservers)]
                self.queries += 1
                wait = min(self.try_timeout, remaining)
                try:
                    message = await dns.asyncquery.udp(
                        query, where, timeout=wait, port=port, ignore_unexpected=True
                    )
                    if message.flags & dns.flags.TC:
                        self.queries += 1
                        message = await dns.asyncquery.tcp(
                            query, where, timeout=max(0.1, deadline - time.monotonic()), port=port
                        )
                except dns.exception.Timeout:
                    last = f"no answer from {where} port {port}"
                    self._unanswered += 1
                    continue
                except (OSError, EOFError, dns.exception.DNSException, ValueError) as exc:
                    last = printable(f"{where} port {port}: {exc}")[:200]
                    continue
                self._last_heard = time.monotonic()
                self._unanswered = 0
                rcode = message.rcode()
                if rcode in (dns.rcode.SERVFAIL, dns.rcode.REFUSED) and attempt + 1 < len(
                    self.nameservers
                ):
                    last = f"{where} answered {dns.rcode.to_text(rcode)}"
                    continue  # another server may know
                return Reply(message)
        return Reply(None, last)
