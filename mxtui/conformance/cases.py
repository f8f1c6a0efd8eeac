"""The conformance cases, as data: `cases.toml` beside this module, loaded and checked here.

A case is one delivery situation: a zone for the destination domain, the behaviour of the host
on each address, and the recipients. Every MTA and the walk meet the same case in a world of
its own (see `isolation`), so addresses are written literally in the zone and may repeat from
case to case. What a case expects is not written down: the walk under the MTA's profile says
what should happen, the real MTA what does.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from mxtui.lab.hosts import behaviour_from_dict

CASES_FILE = Path(__file__).with_name("cases.toml")
SENDER_DOMAIN = "sender.test"
"""The senders' own domain: every MTA keeps mail for it (its bounces) locally."""
RESERVED = {"127.0.0.1", "127.0.0.2", "127.0.0.53"}
"""The sending MTA's own addresses and the DNS server's: no MX host may use them."""
EXTRA_KINDS = ("blackhole",)
"""Host kinds the conformance world adds to the lab's: "blackhole" drops every SYN."""

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


@dataclass(frozen=True)
class Case:
    """One situation to deliver into, with where it comes from."""

    id: str
    title: str
    source: str
    zone: str
    """Records relative to the case's domain (`domain`), in zone-file syntax."""
    hosts: dict[str, dict[str, Any]]
    """Address → lab host settings (`mxtui.lab.hosts.behaviour_from_dict`), or
    {"kind": "blackhole"}. An address with no host refuses connections."""
    recipients: tuple[str, ...] = ("alice",)
    """Local parts at the case's domain."""
    runs: int = 1
    """Messages sent in the case (each its own delivery), for cases about address order."""
    mtas: tuple[str, ...] = ()
    """Only these MTAs (empty: all); a case an MTA cannot meet in time says so in `skip`."""
    skip: dict[str, str] = field(default_factory=dict)
    """MTA → why the case is not run for it."""
    extra_zone: str = ""
    """Further zones (full zone-file texts with $ORIGIN), for CNAME targets elsewhere."""

    @property
    def domain(self) -> str:
        return f"{self.id}.test"

    @property
    def mail_domain(self) -> str:
        """The recipients' domain (the case's own, unless the case names another)."""
        return self.addresses()[0].rpartition("@")[2]

    def addresses(self, recipients: tuple[str, ...] | None = None) -> tuple[str, ...]:
        return tuple(r if "@" in r else f"{r}@{self.domain}"
                     for r in (recipients or self.recipients))  # fmt: skip

    def zones(self) -> list[str]:
        """The zone texts the case's DNS server serves."""
        head = (
            f"$ORIGIN {self.domain}.\n$TTL 300\n"
            f"@ SOA ns.{self.domain}. hostmaster.{self.domain}. 1 3600 600 86400 300\n"
            f"@ NS ns\nns A 127.0.0.53\n"
        )
        sender = (
            f"$ORIGIN {SENDER_DOMAIN}.\n$TTL 300\n"
            f"@ SOA ns.{SENDER_DOMAIN}. hostmaster.{SENDER_DOMAIN}. 1 3600 600 86400 300\n"
            f"@ NS ns\nns A 127.0.0.53\n@ A 127.0.0.1\nmta A 127.0.0.1\n"
        )
        zones = [head + self.zone.strip() + "\n", sender]
        if self.extra_zone.strip():
            zones.append(self.extra_zone.strip() + "\n")
        return zones

    def applies_to(self, mta: str) -> bool:
        return (not self.mtas or mta in self.mtas) and mta not in self.skip


def _case(raw: dict[str, Any]) -> Case:
    ident = raw.get("id")
    if not isinstance(ident, str) or not _ID.match(ident):
        raise ValueError(f"case id {ident!r}: lower-case letters, digits and hyphens")
    known = {"id", "title", "source", "zone", "hosts", "to", "runs", "mtas", "skip",
             "extra_zone"}  # fmt: skip
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"case {ident}: unknown key(s) {', '.join(sorted(unknown))}")
    hosts: dict[str, dict[str, Any]] = {}
    for address, settings in (raw.get("hosts") or {}).items():
        ip = ipaddress.ip_address(address)
        if not ip.is_loopback or str(ip) in RESERVED:
            raise ValueError(f"case {ident}: host {address} must be a free loopback address")
        if settings.get("kind") not in EXTRA_KINDS:
            behaviour_from_dict(settings)  # a bad setting fails at load, naming the case
        hosts[str(ip)] = dict(settings)
    return Case(
        id=ident,
        title=str(raw.get("title", "")),
        source=str(raw.get("source", "")),
        zone=str(raw.get("zone", "")),
        hosts=hosts,
        recipients=tuple(raw.get("to") or ("alice",)),
        runs=int(raw.get("runs", 1)),
        mtas=tuple(raw.get("mtas") or ()),
        skip=dict(raw.get("skip") or {}),
        extra_zone=str(raw.get("extra_zone", "")),
    )


@cache
def load_cases(path: Path = CASES_FILE) -> tuple[Case, ...]:
    """Every case in the file, in the file's order; a bad case is a ValueError naming it."""
    data = tomllib.loads(path.read_text())
    cases = tuple(_case(raw) for raw in data.get("case", []))
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise ValueError(f"case {case.id} is given twice")
        seen.add(case.id)
    return cases


@dataclass(frozen=True)
class Known:
    """A difference between a real MTA and its profile that is understood and not yet fixed in
    the profile: which cases show it, why, and the rule of the profile to change (with the
    MTA's source where it says so). Its tests are expected to fail until the profile changes,
    and fail loudly once they agree (the entry must then go)."""

    mta: str
    cases: tuple[str, ...]
    why: str
    rule: str


@cache
def known_differences(path: Path = CASES_FILE) -> dict[tuple[str, str], Known]:
    """(MTA, case) → the known difference it shows."""
    data = tomllib.loads(path.read_text())
    out: dict[tuple[str, str], Known] = {}
    for raw in data.get("known", []):
        known = Known(str(raw["mta"]), tuple(raw["cases"]), str(raw["why"]),
                      str(raw.get("rule", "")))  # fmt: skip
        for case in known.cases:
            out[(known.mta, case)] = known
    return out


@cache
def load_findings(path: Path = CASES_FILE) -> tuple[str, ...]:
    """Where real runs showed the reference (delivery-decisions.md) wrong or silent: one
    sentence each, with the cases that show it, for CONFORMANCE.md."""
    data = tomllib.loads(path.read_text())
    out = []
    for raw in data.get("finding", []):
        cases = ", ".join(f"`{c}`" for c in raw.get("cases", []))
        out.append(f"{raw['text']}" + (f" (cases {cases})" if cases else ""))
    return tuple(out)


def get_case(ident: str) -> Case:
    for case in load_cases():
        if case.id == ident:
            return case
    raise KeyError(ident)
