"""RFC 5321 §5.1 and RFC 7505 MX resolution into an `MXPlan`.

Two round trips at most for the usual case: the MX question, then the A and AAAA questions of
every target at once. The plan is reported in steps (`MXAnswered`, `HostResolved`,
`PlanResolved`) so the tree can fill in as answers arrive.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from mxtui.dns.names import normalise_domain
from mxtui.dns.problems import (
    address_lookup_failed,
    cname_loop,
    cname_target,
    implicit_mx,
    ip_literal_target,
    lookup_failed,
    no_address,
    no_mail_records,
    no_usable_host,
    null_mx,
    null_mx_mixed,
    nxdomain,
    plan_failure,
)
from mxtui.dns.query import CNAME_LOOP, Answer, NoNameserver, Querier
from mxtui.endpoint import Endpoint
from mxtui.model import (
    Address,
    HostResolved,
    HostState,
    MXAnswered,
    MXGroup,
    MXHost,
    MXPlan,
    PlanResolved,
    PlanStatus,
    Problem,
    ResolveEvent,
)
from mxtui.text import printable

EventSink = Callable[[ResolveEvent], None]

_FAILURE_STATUS = {"SERVFAIL": PlanStatus.SERVFAIL, "TIMEOUT": PlanStatus.TIMEOUT}


async def resolve_mx(
    domain: str,
    *,
    nameservers: Sequence[tuple[str, int]] = (),
    timeout: float = 5.0,
    on_event: EventSink | None = None,
) -> MXPlan:
    """Resolve `domain` to its MX plan.

    Raises `DomainError` (before any I/O) when the domain cannot be a mail domain; every DNS
    outcome, failures included, comes back as a plan.
    """
    name = normalise_domain(domain)
    started = time.perf_counter()
    emit = on_event or (lambda _event: None)
    base = MXPlan(domain=name.ascii, display_domain=name.display, status=PlanStatus.MX)
    if name.note:
        base = replace(base, problems=(Problem("input-note", name.note, "", "info"),))
    try:
        querier = Querier(nameservers, timeout=timeout)
    except NoNameserver as exc:
        plan = replace(base, status=PlanStatus.ERROR, problems=(plan_failure("ERROR", str(exc)),))
        emit(PlanResolved(plan))
        return plan
    base = replace(base, nameservers=tuple(str(Endpoint(h, p)) for h, p in querier.nameservers))
    try:
        return await _plan(name.ascii, base, querier, emit, started)
    finally:
        querier.close()


async def _plan(
    domain: str, base: MXPlan, querier: Querier, emit: EventSink, started: float
) -> MXPlan:
    """The MX question, then the addresses of every target at once."""

    def finish(plan: MXPlan) -> MXPlan:
        plan = replace(
            plan,
            queries=querier.queries,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            problems=base.problems + plan.problems,
        )
        emit(PlanResolved(plan))
        return plan

    mx = await querier.ask(domain, "MX")
    if mx.rcode == "NXDOMAIN":
        return finish(
            replace(base, status=PlanStatus.NXDOMAIN, ttl=mx.negative_ttl, problems=(nxdomain(),))
        )
    if mx.temporary:
        return finish(
            replace(
                base,
                status=_FAILURE_STATUS.get(mx.rcode, PlanStatus.ERROR),
                problems=(plan_failure(mx.rcode, printable(mx.error), mx.waited),),
            )
        )
    if not mx.ok:
        return finish(await _implicit(base, querier, emit))

    records: list[tuple[int, str]] = [r.data for r in mx.records]  # type: ignore[misc]
    null_records = [r for r in records if r[1] in ("", ".")]
    if null_records and len(records) == 1 and records[0][0] == 0:
        host = MXHost(".", 0, state=HostState.RESOLVED, problems=(null_mx(),))
        plan = replace(
            base,
            status=PlanStatus.NULL_MX,
            ttl=mx.ttl,
            groups=(MXGroup(0, (host,)),),
            problems=(null_mx(),),
        )
        return finish(plan)

    plan_problems: list[Problem] = []
    if null_records:
        plan_problems.append(null_mx_mixed())
    pending: dict[tuple[int, str], MXHost] = {}
    for preference, target in records:
        key = (preference, target)
        if key in pending:
            continue
        if target in ("", "."):
            pending[key] = MXHost(
                ".", preference, state=HostState.FAILED, problems=(null_mx_mixed(),)
            )
        elif _is_ip_literal(target):
            pending[key] = MXHost(
                printable(target),
                preference,
                state=HostState.FAILED,
                ip_literal=True,
                problems=(ip_literal_target(printable(target)),),
            )
        else:
            pending[key] = MXHost(printable(target), preference)
    skeleton = replace(
        base,
        status=PlanStatus.MX,
        ttl=mx.ttl,
        groups=_group(list(pending.values())),
        problems=tuple(plan_problems),
    )
    emit(MXAnswered(skeleton))

    async def lookup(key: tuple[int, str], host: MXHost) -> None:
        resolved, _ = await _resolve_host(querier, host.name, host.preference)
        pending[key] = resolved
        emit(HostResolved(resolved))

    await asyncio.gather(
        *(lookup(k, h) for k, h in list(pending.items()) if h.state is HostState.PENDING)
    )
    hosts = list(pending.values())
    if not any(h.usable for h in hosts):
        failed = any(p.code in ("lookup-failed", "cname-loop") for h in hosts for p in h.problems)
        plan_problems.append(address_lookup_failed() if failed else no_usable_host())
    return finish(replace(skeleton, groups=_group(hosts), problems=tuple(plan_problems)))


async def _implicit(base: MXPlan, querier: Querier, emit: EventSink) -> MXPlan:
    """No MX records: the domain itself is the mail host, preference 0 (RFC 5321 §5.1)."""
    pending = MXHost(base.domain, 0)
    emit(MXAnswered(replace(base, status=PlanStatus.IMPLICIT_MX, groups=(MXGroup(0, (pending,)),))))
    host, answers = await _resolve_host(querier, base.domain, 0, implicit=True)
    emit(HostResolved(host))
    if host.usable:
        ttl = min((a.ttl for a in host.addresses if a.ttl is not None), default=None)
        return replace(
            base,
            status=PlanStatus.IMPLICIT_MX,
            ttl=ttl,
            groups=(MXGroup(0, (host,)),),
            problems=(implicit_mx(),),
        )
    failed = next((a for a in answers if a.temporary), None)
    if failed is not None:
        return replace(
            base,
            status=_FAILURE_STATUS.get(failed.rcode, PlanStatus.ERROR),
            groups=(MXGroup(0, (host,)),),
            problems=(plan_failure(failed.rcode, printable(failed.error), failed.waited),),
        )
    if all(a.rcode == "NXDOMAIN" for a in answers):
        return replace(base, status=PlanStatus.NXDOMAIN, problems=(nxdomain(),))
    return replace(base, status=PlanStatus.NO_MAIL_RECORDS, problems=(no_mail_records(),))


async def _resolve_host(
    querier: Querier, name: str, preference: int, *, implicit: bool = False
) -> tuple[MXHost, tuple[Answer, Answer]]:
    """Look up A and AAAA of one host at the same time."""
    a, aaaa = await asyncio.gather(querier.ask(name, "A"), querier.ask(name, "AAAA"))
    addresses: list[Address] = []
    problems: list[Problem] = []
    for answer, family in ((a, 4), (aaaa, 6)):
        addresses.extend(
            Address(printable(str(r.data)), family, r.ttl)  # type: ignore[arg-type]
            for r in answer.records
        )
    chain = tuple(printable(c) for c in (a.chain or aaaa.chain))
    loop = next((x for x in (a, aaaa) if x.rcode == CNAME_LOOP), None)
    if loop is not None:
        problems.append(cname_loop(name, printable(loop.error)))
    elif chain and not implicit:
        problems.append(cname_target(name, chain))
    temporary = [x for x in (a, aaaa) if x.temporary]
    for answer in temporary:
        if answer.rcode != CNAME_LOOP:
            problems.append(
                lookup_failed(answer.rdtype, answer.rcode, printable(answer.error), bool(addresses))
            )
    if not addresses and not temporary:
        problems.append(no_address(name, nxdomain=a.rcode == "NXDOMAIN", implicit=implicit))
    host = MXHost(
        name=name,
        preference=preference,
        addresses=tuple(addresses),
        problems=tuple(problems),
        state=HostState.RESOLVED if addresses or not temporary else HostState.FAILED,
        cname_chain=chain,
    )
    return host, (a, aaaa)


def _group(hosts: list[MXHost]) -> tuple[MXGroup, ...]:
    """Preference groups in ascending order; hosts keep the order of the answer."""
    prefs = sorted({h.preference for h in hosts})
    return tuple(MXGroup(p, tuple(h for h in hosts if h.preference == p)) for p in prefs)


def _is_ip_literal(target: str) -> bool:
    text = target.strip("[]")
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
