"""What the conformance runs proved: `tested.json` beside this module, read when first needed.

`mxtui conformance --evidence mxtui/policy/tested.json` writes that file from a run of the real
senders (see `mxtui.conformance.evidence`); nobody edits it by hand, and
tests/conformance/test_evidence.py checks it against cases.toml and the profiles. For each
profile a real MTA was run under, it names the rows of the decision table the walk went through
in a case where it agreed with the real MTA (with the cell code it used there), split by whether
that decision was the last address's (`final`, where a move-on cell requeues or bounces) or
not; and the profile-level rules those cases exercised (address ordering, moving on, the first
retry, the bounce's status). Each with the version run, the cases and the date.

A profile turns a cell into a `T` cell from it (`Profile.proven`): the source citation stays,
the kind becomes T, the version and the cases are added. The file is read on the first such
question, not when mxtui starts (`mxtui --help` never reads it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mxtui.model import Evidence, Proof, Stage
from mxtui.policy.cells import Cell, RowKey

TESTED_FILE = Path(__file__).with_name("tested.json")

RULES = ("ordering", "moving", "retry", "dsn")
"""The profile-level rules a case can prove besides its rows: the address ordering, the
move-on rule (limits and final server), the retry schedule (its first retry) and the status the
bounce carries."""


def row_name(key: RowKey) -> str:
    """A row as the file names it: "greeting/4xx", "dns/null-mx"."""
    stage, outcome = key
    return f"{Stage(stage).value}/{outcome}"


def row_key(name: str) -> RowKey:
    """The inverse of `row_name`; ValueError for a name that is not stage/outcome."""
    stage, sep, outcome = name.partition("/")
    if not sep or not outcome:
        raise ValueError(f"row {name!r}: expected STAGE/OUTCOME")
    return Stage(stage), outcome


@dataclass(frozen=True)
class Proven:
    """One row or rule shown right by real runs: the program and version, the date of the run,
    the cases, and for a row the cell code the walk used there and the cases where that
    decision was final (the last address: a move-on cell requeued or bounced instead)."""

    tested_with: str
    date: str
    cases: tuple[str, ...] = ()
    final: tuple[str, ...] = ()
    code: str = ""

    def shown_by(self, final: bool | None = None) -> tuple[str, ...]:
        """The cases that showed the decision as taken: not final, final, or either (None)."""
        if final is None:
            return tuple(dict.fromkeys((*self.cases, *self.final)))
        return self.final if final else self.cases


@dataclass(frozen=True)
class ProfileTested:
    """What the runs proved for one profile: the MTA run, its version (`tested_with`, the
    upstream version; `package` the Debian package's), the date, the rows and the rules."""

    mta: str
    tested_with: str
    date: str
    package: str = ""
    rows: Mapping[RowKey, Proven] = field(default_factory=dict)
    rules: Mapping[str, Proven] = field(default_factory=dict)


def proof_of(cell: Cell, found: Proven | None, final: bool | None = None) -> Proof:
    """How `cell` is known once the runs are counted: `T` with the version and the cases when
    `found` (the row's entry) used this very cell code in a decision like this one (`final` or
    not; None: either), else the cell's own proof."""
    if found is None or found.code != cell.code:
        return cell.proof
    cases = found.shown_by(final)
    if not cases:
        return cell.proof
    return cell.confirmed(found.tested_with, cases).proof


def rule_proof(own: Proof, found: Proven | None) -> Proof:
    """A profile-level rule's proof (`own`, from the profile) made `T` by the runs, if any."""
    if found is None or not found.cases:
        return own
    cases = tuple(dict.fromkeys((*found.cases, *own.cases)))
    return Proof(Evidence.TESTED, own.source, found.tested_with, cases)


def parse(data: Any) -> dict[str, ProfileTested]:
    """The file's JSON as objects; ValueError naming the entry that does not fit."""
    if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
        raise ValueError("tested.json: expected an object with 'profiles'")
    out: dict[str, ProfileTested] = {}
    for name, entry in data["profiles"].items():
        try:
            version = str(entry["tested_with"])
            date = str(entry["date"])
            rows = {row_key(key): _proven(value, version, date, row=True)
                    for key, value in entry.get("rows", {}).items()}  # fmt: skip
            rules = {}
            for rule, value in entry.get("rules", {}).items():
                if rule not in RULES:
                    raise ValueError(f"unknown rule {rule!r}")
                rules[rule] = _proven(value, version, date, row=False)
            out[name] = ProfileTested(
                str(entry["mta"]), version, date, str(entry.get("package", "")),
                MappingProxyType(rows), MappingProxyType(rules),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"tested.json: profile {name!r}: {exc}") from None
    return out


def _proven(value: Any, version: str, date: str, *, row: bool) -> Proven:
    cases = tuple(str(c) for c in value.get("cases", ()))
    final = tuple(str(c) for c in value.get("final", ())) if row else ()
    if not cases and not final:
        raise ValueError("an entry without cases")
    return Proven(version, date, cases, final, str(value["code"]) if row else "")


def to_json(data: Mapping[str, ProfileTested]) -> dict[str, Any]:
    """The inverse of `parse`: the file's JSON, rows and profiles sorted by name and cases in
    the order they were run (cases.toml's), so a new run's diff is small."""
    profiles: dict[str, Any] = {}
    for name in sorted(data):
        entry = data[name]
        rows: dict[str, Any] = {}
        for key in sorted(entry.rows, key=row_name):
            p = entry.rows[key]
            rows[row_name(key)] = {"code": p.code, "cases": list(p.cases)} | (
                {"final": list(p.final)} if p.final else {})  # fmt: skip
        profiles[name] = {
            "mta": entry.mta,
            "tested_with": entry.tested_with,
            "package": entry.package,
            "date": entry.date,
            "rows": rows,
            "rules": {r: {"cases": list(entry.rules[r].cases)} for r in RULES if r in entry.rules},
        }
    return {
        "about": "Which cells of the decision table each real MTA's agreeing conformance cases "
        "went through. Written by `mxtui conformance --evidence FILE`; do not edit.",
        "profiles": profiles,
    }


def dumps(data: Mapping[str, ProfileTested]) -> str:
    """The file's text: one line per row or rule, so a diff shows which cells a run moved."""
    doc = to_json(data)
    lines = ["{", f' "about": {json.dumps(doc["about"])},', ' "profiles": {']
    names = list(doc["profiles"])
    for n, name in enumerate(names):
        entry = doc["profiles"][name]
        lines.append(f"  {json.dumps(name)}: {{")
        for key in ("mta", "tested_with", "package", "date"):
            lines.append(f"   {json.dumps(key)}: {json.dumps(entry[key])},")
        for part, comma in (("rows", ","), ("rules", "")):
            items = list(entry[part].items())
            lines.append(f"   {json.dumps(part)}: {{")
            lines += [f"    {json.dumps(k)}: {json.dumps(v)}" + ("," if i < len(items) - 1 else "")
                      for i, (k, v) in enumerate(items)]  # fmt: skip
            lines.append("   }" + comma)
        lines.append("  }" + ("," if n < len(names) - 1 else ""))
    lines += [" }", "}"]
    return "\n".join(lines) + "\n"


@cache
def load(path: Path = TESTED_FILE) -> Mapping[str, ProfileTested]:
    """Every profile's proven rows and rules (an empty mapping when the file is absent, as in
    a checkout where no run has written it yet)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return MappingProxyType({})
    return MappingProxyType(parse(json.loads(text)))


def for_profile(profile: str) -> ProfileTested | None:
    return load().get(profile)


def row(profile: str, key: RowKey) -> Proven | None:
    """The proof of one row for one profile, if a run gave one."""
    tested = load().get(profile)
    return tested.rows.get((Stage(key[0]), key[1])) if tested else None


def rule(profile: str, name: str) -> Proven | None:
    """The proof of one profile-level rule (`RULES`), if a run gave one."""
    tested = load().get(profile)
    return tested.rules.get(name) if tested else None
