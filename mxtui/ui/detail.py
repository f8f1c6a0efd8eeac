"""The detail pane under the MX tree: everything about the highlighted node, in full sentences."""

from __future__ import annotations

from textual.content import Content

from mxtui.dns.describe import address_label, group_label, host_summary, plan_headline, ttl_words
from mxtui.model import Address, MXGroup, MXHost, MXPlan, PlanStatus, Problem
from mxtui.tlspolicy import TlsPolicy
from mxtui.tlspolicy.describe import HostPolicy, policy_lines
from mxtui.ui.steady import SteadyStatic

_NO_PLAN = MXPlan(domain="", status=PlanStatus.MX)
"""A plan without hosts: the domain's TLS-policy node describes the policy, not each host."""

_SEVERITY_STYLE = {"error": "bold $error", "warning": "bold $warning", "info": "bold $accent"}


def _problem_lines(problems: tuple[Problem, ...]) -> list[Content]:
    lines = []
    for p in problems:
        ref = f"  [{p.reference}]" if p.reference else ""
        lines.append(
            Content.assemble((f"{p.severity.upper()} {p.code}: ", _SEVERITY_STYLE[p.severity]))
            + Content(p.message)
            + Content.styled(ref, "dim")
        )
    return lines


def describe(data: object, *, examples: tuple[tuple[str, str], ...] = ()) -> Content:
    """Full text for one tree node's data. Every value is literal text (Content, not markup)."""
    lines: list[Content] = []
    if isinstance(data, MXPlan):
        lines.append(Content.styled(plan_headline(data), "bold"))
        lines.extend(_problem_lines(data.problems))
        hosts = data.hosts
        usable = sum(1 for h in hosts if h.usable)
        lines.append(
            Content(
                f"{len(data.groups)} preference group(s), {len(hosts)} host(s), {usable} with "
                f"addresses; {data.queries} DNS queries in {data.elapsed_ms:.0f} ms"
                + (f" to {', '.join(data.nameservers)}" if data.nameservers else "")
            )
        )
        if examples:
            lines.append(Content.styled("Lab domains to try:", "bold"))
            lines.extend(Content(f"  {name:<24} {what}") for name, what in examples)
    elif isinstance(data, MXGroup):
        lines.append(Content.styled(f"Preference {group_label(data)}", "bold"))
        if len(data.hosts) > 1:
            lines.append(
                Content(
                    "Hosts of equal preference are tried in random order, spreading the load "
                    "(RFC 5321 §5.1: the sender MUST randomise them). A lower number is tried "
                    "first; higher numbers are fallbacks."
                )
            )
        else:
            lines.append(
                Content(
                    "Lower preference numbers are tried first; this group is tried only after "
                    "every lower-numbered one failed (RFC 5321 §5.1)."
                )
            )
    elif isinstance(data, MXHost):
        lines.append(
            Content.assemble((data.name, "bold"), f"  preference {data.preference}  ")
            + Content.styled(host_summary(data), "dim")
        )
        if data.cname_chain:
            lines.append(Content("alias chain: " + " → ".join((data.name, *data.cname_chain))))
        lines.extend(Content("  " + address_label(a)) for a in data.addresses)
        lines.extend(_problem_lines(data.problems))
        if data.addresses:
            lines.append(
                Content.styled(
                    "A sender tries these addresses in this order before moving to the next host. "
                    "Enter connects to the first one.",
                    "dim",
                )
            )
    elif isinstance(data, Address):
        family = "IPv4 (A record)" if data.family == 4 else "IPv6 (AAAA record)"
        lines.append(Content.assemble((data.address, "bold"), f"  {family}"))
        if data.ttl is not None:
            lines.append(Content(f"Cached by resolvers for {ttl_words(data.ttl)}."))
        lines.append(Content.styled("Enter connects to this address; n steps the session.", "dim"))
    elif isinstance(data, Problem):
        lines.extend(_problem_lines((data,)))
    elif isinstance(data, TlsPolicy):
        plan_lines = policy_lines(data, _NO_PLAN)
        lines.append(Content.styled(plan_lines[0], "bold"))
        lines.extend(Content(line.strip()) for line in plan_lines[1:])
        lines.append(Content.styled(
            "Each MX host's own node says whether the policy lists it and what its TLSA records "
            "are; a walk applies the chosen profile's TLS settings to them (p: profile).", "dim"
        ))  # fmt: skip
    elif isinstance(data, HostPolicy):
        host_lines = data.lines()
        lines.append(Content.styled(host_lines[0], "bold"))
        lines.extend(Content(line) for line in host_lines[1:])
    else:
        lines.append(Content("Type a domain in the box above and press Enter."))
        if examples:
            lines.append(Content.styled("Lab domains to try:", "bold"))
            lines.extend(Content(f"  {name:<24} {what}") for name, what in examples)
    return Content("\n").join(lines)


class NodeDetail(SteadyStatic):
    BORDER_TITLE = "Details"

    def show(self, data: object, *, examples: tuple[tuple[str, str], ...] = ()) -> None:
        self.update(describe(data, examples=examples))
