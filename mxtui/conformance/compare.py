"""Compare what a real MTA did with what the walk under its profile did, in one case.

Five things are compared, in this order, and every difference is one line of plain words:

1. each recipient's end: delivered, deferred or bounced;
2. the status the sender gave it: the bounce's `Status:` (and a deferral's enhanced code where
   the MTA logs one);
3. the addresses tried, as a pattern: the runs of one MX preference in order, each run's
   addresses as a set (the MTA and the walk both shuffle equal preferences; when a run tried
   only some addresses of its level, only how many);
4. for each address tried, what was said there: the commands and the reply codes, or how the
   connection failed, and so the action the sender took after each reply (it went on to the
   next address, or it stopped there);
5. the first retry: the window in which it falls (Postfix's is as wide as its queue scan).

A case sent several times (`runs`) is also checked for order the other way round: an MTA that
started a preference level with the same address every time, where the profile would do so
only by a chance below `FIXED_ORDER_CHANCE`, differs from a profile that shuffles.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from mxtui.conformance.cases import Case
from mxtui.conformance.observe import Dial, MtaRun

IGNORED_COMMANDS = {"QUIT", "RSET", "NOOP"}
RETRY_TOLERANCE_S = 15
FIXED_ORDER_CHANCE = 0.002
ORDER_SAMPLES = 2000


@dataclass
class Verdict:
    """Agree, or differ with the differences in words."""

    differences: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.differences


def session_steps(transcript: list[list[str]]) -> list[str]:
    """A connection as "COMMAND code" steps, e.g. ["greeting 220", "EHLO 250", "MAIL 451"];
    "COMMAND -" for a command that got no reply (the peer hung up, or the sender stopped
    waiting)."""
    steps: list[str] = []
    rcpts: list[str] = []
    for verb, reply in transcript:
        if verb.upper() in IGNORED_COMMANDS:
            continue
        step = f"{verb} {reply[:3] if reply else '-'}"
        if verb.upper() == "RCPT":
            rcpts.append(step)
            continue
        # The order of the recipients is the sender's own (OpenSMTPD's follows its envelope
        # ids), not a decision: a run of RCPTs is compared as a sorted list.
        steps += [*sorted(rcpts), step]
        rcpts = []
    return steps + sorted(rcpts)


def dial_summary(dial: Dial, transcript: list[list[str]] | None) -> str:
    if transcript is None:
        return f"{dial.address}: no connection ({_failure(dial.error)})"
    if not transcript:
        return f"{dial.address}: connected, not greeted"
    return f"{dial.address}: " + ", ".join(session_steps(transcript))


def _failure(error: str) -> str:
    e = error.lower()
    if "refused" in e:
        return "refused"
    if "timed out" in e or "timeout" in e or "no connection within" in e:
        return "timed out"
    return error or "failed"


@dataclass(frozen=True)
class Levels:
    """The case's MX preferences as the walk's plan has them: name → preference, and each
    level's addresses."""

    by_name: dict[str, int]
    by_address: dict[str, int]
    level_size: dict[int, int]

    @classmethod
    def from_plan(cls, plan: Any) -> Levels:
        by_name: dict[str, int] = {}
        by_address: dict[str, int] = {}
        sizes: dict[int, set[str]] = {}
        for group in getattr(plan, "groups", ()):
            for host in group.hosts:
                by_name[host.name.rstrip(".").lower()] = group.preference
                for a in host.addresses:
                    by_address.setdefault(a.address, group.preference)
                    sizes.setdefault(group.preference, set()).add(a.address)
        return cls(by_name, by_address, {p: len(s) for p, s in sizes.items()})

    def preference(self, dial: Dial) -> int:
        name = dial.host.rstrip(".").lower()
        if name in self.by_name:
            return self.by_name[name]
        return self.by_address.get(dial.address, -1)


def pattern(dials: list[Dial], levels: Levels) -> list[tuple[int, Counter[str]]]:
    """Consecutive dials of one preference, merged: [(preference, addresses tried there)]."""
    runs: list[tuple[int, Counter[str]]] = []
    for dial in dials:
        pref = levels.preference(dial)
        if runs and runs[-1][0] == pref:
            runs[-1][1][dial.address] += 1
        else:
            runs.append((pref, Counter([dial.address])))
    return runs


def show_pattern(runs: list[tuple[int, Counter[str]]]) -> str:
    parts = []
    for pref, addresses in runs:
        shown = ", ".join(a if n == 1 else f"{a}×{n}" for a, n in sorted(addresses.items()))
        parts.append(f"pref {pref}: {{{shown}}}")
    return " → ".join(parts) or "nothing"


def compare_order(mta: MtaRun, walk: MtaRun, levels: Levels, who: str) -> list[str]:
    ours, theirs = pattern(walk.dials, levels), pattern(mta.dials, levels)
    same = len(ours) == len(theirs) and all(
        p == q and sum(a.values()) == sum(b.values())
        and (a == b or sum(a.values()) < levels.level_size.get(p, 0))
        for (p, a), (q, b) in zip(ours, theirs, strict=False)
    )  # fmt: skip
    if same:
        return []
    return [f"addresses tried: {who} {show_pattern(theirs)}; walk {show_pattern(ours)}"]


def compare_sessions(mta: MtaRun, walk: MtaRun, levels: Levels, who: str) -> list[str]:
    """Connection by connection, in the order tried, when both tried the same addresses;
    otherwise as a multiset (a shuffle within a level is no difference), naming the address
    only where the whole level was tried (else which of its addresses came up is chance)."""
    if [d.address for d in mta.dials] == [d.address for d in walk.dials]:
        out = []
        pairs = zip(_with_sessions(mta), _with_sessions(walk), strict=True)
        for n, ((d1, t1), (d2, t2)) in enumerate(pairs, 1):
            a, b = dial_summary(d1, t1), dial_summary(d2, t2)
            if a != b:
                out.append(f"connection {n}: {who} {a}; walk {b}")
        return out
    tried = Counter(levels.preference(d) for d in mta.dials)

    def keyed(run: MtaRun) -> Counter[str]:
        out: Counter[str] = Counter()
        for dial, transcript in _with_sessions(run):
            pref = levels.preference(dial)
            summary = dial_summary(dial, transcript)
            if tried[pref] < levels.level_size.get(pref, 0):
                summary = f"an address of preference {pref}" + summary[len(dial.address) :]
            out[summary] += 1
        return out

    theirs, ours = keyed(mta), keyed(walk)
    if theirs == ours:
        return []
    gone = _listing(theirs - ours)
    extra = _listing(ours - theirs)
    return [f"connections: {who} {gone}; walk {extra}"]


def _listing(counter: Counter[str]) -> str:
    if not counter:
        return "(no others)"
    return "; ".join(s if n == 1 else f"{s} (×{n})" for s, n in sorted(counter.items()))


def _with_sessions(run: MtaRun) -> list[tuple[Dial, list[list[str]] | None]]:
    sessions = run.sessions + [None] * (len(run.dials) - len(run.sessions))
    return list(zip(run.dials, sessions, strict=False))


def compare_recipients(mta: MtaRun, walk: MtaRun, who: str) -> list[str]:
    out = []
    for rcpt in sorted(set(mta.recipients) | set(walk.recipients)):
        m, w = mta.recipients.get(rcpt), walk.recipients.get(rcpt)
        if m is None or w is None:
            out.append(f"{rcpt}: {who} {m.state if m else 'no result'}; "
                       f"walk {w.state if w else 'no result'}")  # fmt: skip
            continue
        if m.state != w.state:
            out.append(f"{rcpt}: {who} {m.state} ({m.dsn} {m.text[:120]}); walk {w.state} "
                       f"({w.dsn} {w.text[:120]})")  # fmt: skip
            continue
        if m.state == "bounced":
            theirs = m.bounce_status or m.dsn
            ours = w.bounce_status or w.dsn
            if theirs and ours and theirs != ours:
                out.append(f"{rcpt}: bounce Status: {who} {theirs}; walk {ours}")
        elif m.state == "deferred" and m.dsn and w.dsn and m.dsn != w.dsn:
            out.append(f"{rcpt}: deferred with {who} {m.dsn}; walk {w.dsn}")
    return out


def compare_retry(mta: MtaRun, walk: MtaRun, who: str) -> list[str]:
    if mta.retry is None or walk.retry is None:
        return []
    (lo, hi), (wlo, whi) = mta.retry, walk.retry
    tol = RETRY_TOLERANCE_S
    if abs(lo - wlo) <= tol and abs(hi - whi) <= tol:
        return []
    return [f"first retry: {who} {_window(lo, hi)} after arrival; walk {_window(wlo, whi)}"]


def _window(lo: int, hi: int) -> str:
    return f"{lo} s" if lo == hi else f"{lo}–{hi} s"


def compare_fixed_order(
    mta_runs: list[MtaRun], plan: Any, profile: str, levels: Levels, who: str
) -> list[str]:
    """Over several runs: did the MTA start a level with one address every time, where the
    profile would do that only by a small chance?"""
    if len(mta_runs) < 2 or plan is None:
        return []
    from mxtui.delivery import try_order

    firsts: dict[int, Counter[str]] = {}
    for run in mta_runs:
        seen: set[int] = set()
        for dial in run.dials:
            pref = levels.preference(dial)
            if pref not in seen:
                seen.add(pref)
                firsts.setdefault(pref, Counter())[dial.address] += 1
    sample: dict[int, Counter[str]] = {}
    for seed in range(ORDER_SAMPLES):
        seen = set()
        for t in try_order(plan, profile, random.Random(seed)):
            if t.preference not in seen:
                seen.add(t.preference)
                sample.setdefault(t.preference, Counter())[t.address] += 1
    out = []
    for pref, counter in sorted(firsts.items()):
        if len(counter) != 1 or levels.level_size.get(pref, 0) < 2:
            continue
        ((address, n),) = counter.items()
        if n != len(mta_runs):
            continue
        chance = sample.get(pref, Counter())[address] / ORDER_SAMPLES
        if chance < 1 and chance**n < FIXED_ORDER_CHANCE:
            out.append(
                f"order at preference {pref}: {who} started with {address} in {n} of {n} runs; "
                f"the walk starts there {chance:.0%} of the time"
            )
    return out


def compare(
    case: Case,
    profile: str,
    mta_runs: list[MtaRun],
    walk_runs: list[MtaRun],
    *,
    who: str = "MTA",
    plan: Any = None,
    levels: Levels | None = None,
) -> Verdict:
    """Every difference between the MTA's runs and the walk's, run by run. `plan` is the
    resolved MX plan (for the preferences and the fixed-order check); without it the
    preferences are read from the case's zone text, or given as `levels`."""
    if levels is None:
        levels = Levels.from_plan(plan) if plan is not None else _levels_from_case(case)
    out: list[str] = []
    for n, (m, w) in enumerate(zip(mta_runs, walk_runs, strict=False)):
        prefix = f"run {n + 1}: " if len(mta_runs) > 1 else ""
        found = (
            compare_recipients(m, w, who)
            + compare_order(m, w, levels, who)
            + compare_sessions(m, w, levels, who)
            + compare_retry(m, w, who)
        )
        out += [prefix + f for f in found]
    out += compare_fixed_order(mta_runs, plan, profile, levels, who)
    if len(mta_runs) != len(walk_runs):
        out.append(f"{who} made {len(mta_runs)} runs, the walk {len(walk_runs)}")
    return Verdict(out)


def _levels_from_case(case: Case) -> Levels:
    """The preferences read from the case's zone text (when no resolved plan is at hand)."""
    by_name: dict[str, int] = {}
    names_addresses: dict[str, list[str]] = {}
    mx: list[tuple[int, str]] = []
    for line in case.zone.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[1].upper() == "MX":
            mx.append((int(parts[2]), _fqdn(parts[3], case.domain)))
        elif len(parts) >= 3 and parts[1].upper() in ("A", "AAAA"):
            names_addresses.setdefault(_fqdn(parts[0], case.domain), []).append(parts[2])
    if not mx:  # implicit MX: the domain's own addresses, preference 0
        mx = [(0, case.domain)]
    by_address: dict[str, int] = {}
    sizes: dict[int, set[str]] = {}
    for pref, name in sorted(mx):
        by_name.setdefault(name, pref)
        for a in names_addresses.get(name, []):
            by_address.setdefault(a, pref)
            sizes.setdefault(pref, set()).add(a)
    return Levels(by_name, by_address, {p: len(s) for p, s in sizes.items()})


def _fqdn(name: str, domain: str) -> str:
    if name == "@":
        return domain
    if name.endswith("."):
        return name.rstrip(".").lower()
    return f"{name}.{domain}".lower()
