"""From agreeing cases to proven cells: what `mxtui conformance --evidence FILE` writes.

A case where the real MTA and the walk under its profile agree proves the cells the walk went
through: every decision the walk took (`observe.Passed`: the row, the cell code, whether it was
final) was compared, through its effect, with what the real program did (where it went next,
what it said, each recipient's end). Those rows become `T` for that profile, with the MTA's
version and the cases, in `mxtui/policy/tested.json` (read by `mxtui.policy.tested`). So do the
profile-level rules a case exercised: the address ordering (two or more addresses to choose
from), moving on (the walk moved to another address, or the profile's limit stopped it), the
first retry (both retry windows were measured) and the bounce's status (both bounced with a
status).

The reply to QUIT is not among them: the comparison leaves QUIT out. A case that differs, errs
or was not run proves nothing. A run of some MTAs only replaces
those MTAs' profiles and keeps the others' entries as the file had them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from mxtui.conformance.cases import Case, get_case
from mxtui.conformance.compare import IGNORED_COMMANDS
from mxtui.conformance.harness import CaseResult
from mxtui.conformance.mtas import RUNNERS
from mxtui.model import Evidence
from mxtui.policy import PROFILES
from mxtui.policy.cells import RowKey
from mxtui.policy.tested import RULES, ProfileTested, Proven, proof_of, row_key

MOVE_ON = frozenset({"NX", "NX>NDR", "NX>RQ", "r-NX"})
"""The cells that move on: what they do depends on whether the address was the last one."""

_DEBIAN_REVISION = re.compile(r"^(?P<up>\S+ [^\s-]+)-[0-9][0-9A-Za-z.+~]*$")


def upstream(version: str) -> str:
    """The program's own version without the Debian revision: "Exim 4.96-15+deb12u11" gives
    "Exim 4.96", "OpenSMTPD 6.8.0p2-4" "OpenSMTPD 6.8.0p2"; "Postfix 3.7.11" stays."""
    found = _DEBIAN_REVISION.match(version.strip())
    return found.group("up") if found else version.strip()


@dataclass
class CaseProof:
    """What one agreeing case proves: row → (cell code, shown not final, shown final), and
    the profile-level rules it exercised."""

    rows: dict[RowKey, tuple[str, bool, bool]] = field(default_factory=dict)
    rules: set[str] = field(default_factory=set)


def case_proof(result: CaseResult, case: Case) -> CaseProof:
    """The rows and rules one (case, MTA) result proves; nothing unless it agrees."""
    out = CaseProof()
    if not result.agrees:
        return out
    for walk in result.walk_runs:
        for passed in walk.decisions:
            if passed.stage.upper() in IGNORED_COMMANDS:
                continue  # the comparison skips QUIT: what follows its reply is not compared
            key = row_key(f"{passed.stage}/{passed.outcome}")
            code, moved, final = out.rows.get(key, (passed.cell, False, False))
            if code != passed.cell:
                raise ValueError(f"{case.id} / {result.mta}: row {key} used cells {code} and "
                                 f"{passed.cell}")  # fmt: skip
            out.rows[key] = (code, moved or not passed.final, final or bool(passed.final))
            if passed.final == "limit" or (passed.cell in MOVE_ON and not passed.final):
                out.rules.add("moving")
        if len(set(walk.order)) >= 2:
            out.rules.add("ordering")
    for mta, walk in zip(result.mta_runs, result.walk_runs, strict=False):
        if mta.retry is not None and walk.retry is not None:
            out.rules.add("retry")
        for rcpt, seen in mta.recipients.items():
            ours = walk.recipients.get(rcpt)
            if (
                seen.state == "bounced"
                and ours is not None
                and ours.state == "bounced"
                and (seen.bounce_status or seen.dsn)
                and (ours.bounce_status or ours.dsn)
            ):
                out.rules.add("dsn")
    return out


def build(
    results: Iterable[CaseResult],
    versions: Mapping[str, str],
    date: str,
    old: Mapping[str, ProfileTested] | None = None,
) -> dict[str, ProfileTested]:
    """Every profile's proven rows and rules: from `results` for the MTAs they ran (`versions`
    names those, as their runners report them), from `old` for the others."""
    listed = list(results)
    out = {name: entry for name, entry in (old or {}).items()
           if entry.mta not in versions}  # fmt: skip
    for mta, version in versions.items():
        rows: dict[RowKey, tuple[str, list[str], list[str]]] = {}
        rules: dict[str, list[str]] = {}
        for result in listed:
            if result.mta != mta:
                continue
            proof = case_proof(result, get_case(result.case))
            for key, (code, moved, final) in proof.rows.items():
                known, cases, finals = rows.setdefault(key, (code, [], []))
                if known != code:
                    raise ValueError(f"{mta}: row {key} used cells {known} and {code}")
                if moved:
                    cases.append(result.case)
                if final:
                    finals.append(result.case)
            for rule in proof.rules:
                rules.setdefault(rule, []).append(result.case)
        tested_with = upstream(version)
        out[RUNNERS[mta].PROFILE] = ProfileTested(
            mta, tested_with, date, version,
            MappingProxyType({k: Proven(tested_with, date, tuple(c), tuple(f), code)
                              for k, (code, c, f) in rows.items()}),
            MappingProxyType({r: Proven(tested_with, date, tuple(rules[r]))
                              for r in RULES if r in rules}),
        )  # fmt: skip
    return out


KINDS = (Evidence.TESTED, Evidence.VERIFIED, Evidence.RECALLED, Evidence.INFERRED,
         Evidence.UNKNOWN)  # fmt: skip


def cell_counts(profile: str, data: Mapping[str, ProfileTested]) -> dict[Evidence, int]:
    """How many of a profile's cells are known each way once `data` is counted (a cell is
    `T` when a case went through it, final or not)."""
    prof = PROFILES[profile]
    entry = data.get(profile)
    counts = dict.fromkeys(KINDS, 0)
    for key, cell in prof.cells.items():
        found = entry.rows.get(key) if entry else None
        counts[proof_of(cell, found).kind] += 1
    return counts


def proven_rules(profile: str, data: Mapping[str, ProfileTested]) -> list[str]:
    """The profile-level rules that are `T` once `data` is counted, in `RULES` order."""
    prof = PROFILES[profile]
    entry = data.get(profile)
    out = []
    for rule in RULES:
        if prof.own_rule_proof(rule).kind is Evidence.TESTED or (entry and rule in entry.rules):
            out.append(rule)
    return out
