"""Words for an MX plan, shared by the text output of `mxtui mx` and the tree in the app."""

from __future__ import annotations

from mxtui.model import Address, MXGroup, MXHost, MXPlan, PlanStatus, Problem
from mxtui.text import span

STATUS_WORDS: dict[PlanStatus, str] = {
    PlanStatus.MX: "MX records",
    PlanStatus.IMPLICIT_MX: "no MX: implicit MX (the domain's own addresses)",
    PlanStatus.NULL_MX: "null MX: accepts no mail",
    PlanStatus.NXDOMAIN: "NXDOMAIN: the domain does not exist",
    PlanStatus.NO_MAIL_RECORDS: "no MX, A or AAAA records",
    PlanStatus.SERVFAIL: "SERVFAIL: the DNS server failed",
    PlanStatus.TIMEOUT: "timeout: no DNS answer",
    PlanStatus.ERROR: "lookup error",
}


def ttl_words(ttl: int | None) -> str:
    if ttl is None:
        return ""
    if ttl >= 120:
        return f"TTL {ttl}s ({span(ttl)})"  # the record's own seconds, then mxtui's one form
    return f"TTL {ttl}s"


def group_label(group: MXGroup, status: PlanStatus = PlanStatus.MX) -> str:
    n = len(group.hosts)
    words = [str(group.preference), f"{n} host" + ("" if n == 1 else "s")]
    if status is PlanStatus.IMPLICIT_MX:
        words.append("implicit")
    elif n > 1:
        words.append("tried in random order")
    return " · ".join(words)


def address_label(address: Address) -> str:
    ttl = ttl_words(address.ttl)
    return f"IPv{address.family}  {address.address}" + (f"  {ttl}" if ttl else "")


def host_summary(host: MXHost) -> str:
    if host.state.value == "pending":
        return "looking up…"
    n4 = sum(1 for a in host.addresses if a.family == 4)
    n6 = sum(1 for a in host.addresses if a.family == 6)
    if not host.addresses:
        return "no address"
    parts = []
    if n4:
        parts.append(f"{n4} IPv4")
    if n6:
        parts.append(f"{n6} IPv6")
    return ", ".join(parts)


def plan_headline(plan: MXPlan) -> str:
    shown = plan.display_domain or plan.domain
    if plan.display_domain and plan.display_domain != plan.domain:
        shown = f"{plan.display_domain} ({plan.domain})"
    ttl = ttl_words(plan.ttl)
    return f"{shown} — {STATUS_WORDS[plan.status]}" + (f", {ttl}" if ttl else "")


def _reference(problem: Problem) -> str:
    return f" [{problem.reference}]" if problem.reference else ""


def plan_text(plan: MXPlan) -> str:
    """The indented tree printed by `mxtui mx`."""
    lines = [plan_headline(plan)]
    for problem in plan.problems:
        lines.append(f"  ! {problem.message}{_reference(problem)}")
    for group in plan.groups:
        lines.append(f"  {group_label(group, plan.status)}")
        for host in group.hosts:
            lines.append(f"    {host.name}  ({host_summary(host)})")
            for address in host.addresses:
                lines.append(f"      {address_label(address)}")
            for problem in host.problems:
                lines.append(f"      ! {problem.message}{_reference(problem)}")
    lines.append(
        f"  {plan.queries} quer{'y' if plan.queries == 1 else 'ies'}, {plan.elapsed_ms:.0f} ms"
        + (f", asked {', '.join(plan.nameservers)}" if plan.nameservers else "")
    )
    return "\n".join(lines)
