"""The TLS-policy lookups beside the MX tree: MTA-STS, TLS-RPT, and each MX host's TLSA records.

Run after `resolve_mx`, on its plan: the ``_mta-sts`` TXT record and, when there is one, the
policy over HTTPS (RFC 8461 §3); the ``_smtp._tls`` TXT record (RFC 8460 §3); the security of
the MX RRset and of each host's addresses, and each host's ``_25._tcp`` TLSA records with
whether DNSSEC validates them (RFC 7672 §2.2). All of it at once, through one bounded
`SecureQuerier` and one `Validator`, so a zone's keys are asked for once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import dns.rdtypes.ANY.TLSA

from mxtui.dns.query import Querier
from mxtui.model import MXPlan, PlanStatus
from mxtui.text import printable
from mxtui.tlspolicy.dnsclient import SecureQuerier
from mxtui.tlspolicy.dnssec import Anchors, Lookup, Security, Validator, root_anchors, weakest
from mxtui.tlspolicy.fetch import fetch_policy, policy_url
from mxtui.tlspolicy.model import HostTls, MtaSts, TlsPolicy, TlsRpt
from mxtui.tlspolicy.records import RecordError, parse_policy, pick_sts_record, pick_tlsrpt_record
from mxtui.tlspolicy.tlsa import MAX_RECORDS, TlsaRecord

BUDGET_TIMEOUTS = 3
"""Each part of the lookup (and each host) gets at most this many `timeout`s in all."""
MAX_HOSTS = 100
"""MX hosts whose TLSA records are looked up at most; the rest are marked "not asked"."""
HOSTS_AT_ONCE = 16
T = TypeVar("T")


@dataclass(frozen=True)
class TlsSetup:
    """What the lookups trust and how they reach the policy host: the root's keys and the
    system's CAs for real domains; the lab's zone keys, its CA and its loopback map in the lab."""

    anchors: Anchors = field(default_factory=root_anchors)
    trust_pem: tuple[bytes, ...] = ()
    connect: Mapping[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    label: str = "root"


async def lookup_tls_policy(
    plan: MXPlan,
    nameservers: Sequence[tuple[str, int]],
    *,
    setup: TlsSetup | None = None,
    timeout: float = 5.0,
) -> TlsPolicy | None:
    """The TLS policy of `plan`'s domain, or None when the plan has no MX host to apply it to."""
    if plan.status not in (PlanStatus.MX, PlanStatus.IMPLICIT_MX) or not nameservers:
        return None
    setup = setup or TlsSetup()
    querier = SecureQuerier(nameservers, timeout=timeout)
    validator = Validator(querier, setup.anchors)
    domain = plan.domain
    budget = BUDGET_TIMEOUTS * timeout
    late = f"no complete answer within {budget:g} s"
    try:
        mx_type = "MX" if plan.status is PlanStatus.MX else "A"
        mx, sts, rpt, hosts = await asyncio.gather(
            _within(budget, validator.lookup(domain, mx_type),
                    Lookup(domain, mx_type, "TIMEOUT", None, Security.INDETERMINATE, late)),
            # The policy fetch has its own timeout (twice `timeout`) after the DNS part.
            _within(budget + 2 * timeout, _mta_sts(validator, domain, nameservers, setup, timeout),
                    MtaSts("dns-error", detail=late, dnssec=Security.INDETERMINATE)),
            _within(budget, _tls_rpt(validator, domain), TlsRpt("dns-error", detail=late)),
            _hosts(validator, plan, budget),
        )  # fmt: skip
    finally:
        querier.close()
    return TlsPolicy(
        domain=domain,
        mx_dnssec=mx.security,
        mta_sts=sts,
        tls_rpt=rpt,
        hosts=hosts,
        queries=querier.queries,
        anchors=setup.label,
    )


def _texts(lookup: Lookup) -> list[str]:
    from mxtui.tlspolicy.records import txt_text

    return [txt_text(tuple(r.strings)) for r in lookup.records]


async def _mta_sts(
    validator: Validator,
    domain: str,
    nameservers: Sequence[tuple[str, int]],
    setup: TlsSetup,
    timeout: float,
) -> MtaSts:
    txt = await validator.lookup(f"_mta-sts.{domain}", "TXT")
    if txt.rcode not in ("NOERROR", "NXDOMAIN"):
        return MtaSts(
            "dns-error", detail=f"the TXT lookup failed ({txt.rcode})", dnssec=txt.security
        )
    texts = _texts(txt)
    if not any(t.startswith("v=STSv1") for t in texts):
        return MtaSts("absent", dnssec=txt.security)
    try:
        record = pick_sts_record(texts)
    except RecordError as exc:
        return MtaSts("invalid-record", detail=str(exc), dnssec=txt.security)
    url = policy_url(domain)

    async def resolve(host: str) -> list[str]:
        querier = Querier(nameservers, timeout=timeout)
        try:
            a, aaaa = await asyncio.gather(querier.ask(host, "A"), querier.ask(host, "AAAA"))
        finally:
            querier.close()
        return [str(r.data) for r in (*a.records, *aaaa.records)]

    fetched = await fetch_policy(
        domain, resolve, timeout=timeout * 2, trust_pem=setup.trust_pem, connect=setup.connect
    )
    base = {"record": record.text, "id": record.id, "url": url, "dnssec": txt.security}
    if fetched.body is None:
        return MtaSts("fetch-failed", detail=fetched.error, **base)  # type: ignore[arg-type]
    try:
        policy = parse_policy(fetched.body)
    except RecordError as exc:
        return MtaSts("invalid-policy", detail=str(exc), **base)  # type: ignore[arg-type]
    return MtaSts("ok", policy=policy, **base)  # type: ignore[arg-type]


async def _tls_rpt(validator: Validator, domain: str) -> TlsRpt:
    txt = await validator.lookup(f"_smtp._tls.{domain}", "TXT")
    if txt.rcode not in ("NOERROR", "NXDOMAIN"):
        return TlsRpt("dns-error", detail=f"the TXT lookup failed ({txt.rcode})")
    texts = _texts(txt)
    if not any(t.startswith("v=TLSRPTv1") for t in texts):
        return TlsRpt("absent")
    try:
        record = pick_tlsrpt_record(texts)
    except RecordError as exc:
        return TlsRpt("invalid", detail=str(exc))
    return TlsRpt("ok", record.text, tuple(printable(u) for u in record.rua))


async def _within(seconds: float, work: Awaitable[T], instead: T) -> T:
    """`work`'s result, or `instead` once `seconds` have gone by: every part of the lookup is
    bounded in time as a whole, whatever its chain of questions."""
    try:
        async with asyncio.timeout(seconds):
            return await work
    except TimeoutError:
        return instead


async def _hosts(validator: Validator, plan: MXPlan, budget: float) -> dict[str, HostTls]:
    names: list[tuple[str, tuple[str, ...]]] = []
    for host in plan.hosts:
        usable = host.name != "." and not host.ip_literal and host.addresses
        if usable and all(n != host.name for n, _ in names):
            names.append((host.name, host.cname_chain))
    gate = asyncio.Semaphore(HOSTS_AT_ONCE)

    async def one(name: str, chain: tuple[str, ...]) -> HostTls:
        async with gate:
            late = HostTls(name, f"_25._tcp.{name}", "error", dnssec=Security.INDETERMINATE,
                           detail=f"no complete answer within {budget:g} s")  # fmt: skip
            return await _within(budget, _host(validator, name, chain), late)

    checked = await asyncio.gather(*(one(n, c) for n, c in names[:MAX_HOSTS]))
    out = {h.host: h for h in checked}
    for name, _ in names[MAX_HOSTS:]:
        out[name] = HostTls(
            name,
            f"_25._tcp.{name}",
            "not-asked",
            detail=f"only the first {MAX_HOSTS} MX hosts are checked",
        )
    return out


async def _host(validator: Validator, name: str, chain: tuple[str, ...]) -> HostTls:
    a, aaaa = await asyncio.gather(validator.lookup(name, "A"), validator.lookup(name, "AAAA"))
    with_records = [x.security for x in (a, aaaa) if x.records]
    address = weakest(*with_records) if with_records else weakest(a.security, aaaa.security)
    # RFC 7672 §2.2.3: the CNAME-expanded name first when its addresses are secure, then the
    # name in the MX record.
    bases = ([chain[-1]] if chain and address is Security.SECURE else []) + [name]
    tlsa: Lookup | None = None
    base = name
    for base in bases:
        tlsa = await validator.lookup(f"_25._tcp.{base}", "TLSA")
        if tlsa.records or tlsa.rcode not in ("NOERROR", "NXDOMAIN"):
            break
    assert tlsa is not None
    owner = f"_25._tcp.{base}"
    if tlsa.rcode not in ("NOERROR", "NXDOMAIN"):
        return HostTls(
            name, owner, "error", dnssec=tlsa.security, address_dnssec=address,
            detail=f"the TLSA lookup failed ({tlsa.rcode}{': ' + tlsa.why if tlsa.why else ''})",
        )  # fmt: skip
    records = tuple(
        TlsaRecord(r.usage, r.selector, r.mtype, bytes(r.cert))
        for r in tlsa.records[:MAX_RECORDS]
        if isinstance(r, dns.rdtypes.ANY.TLSA.TLSA)
    )
    return HostTls(
        name,
        owner,
        "present" if records else "absent",
        records,
        dnssec=tlsa.security,
        address_dnssec=address,
        detail=printable(tlsa.why),
    )
