"""The conformance table: case × MTA → agree / differ, as text, JSON and CONFORMANCE.md.

All three come from the same list of `CaseResult`s, so the committed CONFORMANCE.md is exactly
what `mxtui conformance --markdown CONFORMANCE.md` printed on the day it was made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from mxtui.conformance.cases import Case, known_differences, load_cases
from mxtui.conformance.harness import CaseResult
from mxtui.policy.tested import ProfileTested

NOTES: dict[str, str] = {
    "qmail": "qmail has no Debian package, so no real qmail runs here: its profile stays "
    "source-verified against notqmail (qmail-remote.c, qmail-send.c, dns.c).",
}


HOW_TO_READ = (
    "How the MTAs' own words are read: a recipient's end from each MTA's log (Postfix's "
    "`status=` lines, Exim's `=>`/`**`/`==` lines, OpenSMTPD's `mta delivery ... result=`, "
    "Sendmail's `-v` result lines), the bounce's `Status:` from the DSN it delivered to the "
    "sender's mailbox (Sendmail's from its queue), the addresses tried from `smtp -v` "
    '("trying: NAME[ADDRESS]"), `exim -v` ("Connecting to"), OpenSMTPD\'s `-T mta` trace '
    '("mta connecting") and Sendmail\'s `-d16.1` ("makeconnection"), what was said from the '
    "lab hosts' own transcripts. The first retry: Postfix's from its deferred queue file "
    "(eligible at its time, taken by the next scan up to `queue_run_delay` later), Exim's from "
    'its retry hints ("next try", for a queue runner that comes on time), OpenSMTPD\'s from '
    "its scheduler's wait; Sendmail's comes with its queue runner's next run (`-q`) and is not "
    "measured. Only the MTAs' timeouts are shortened (connect and greeting 5 s), and each "
    "case's namespace gives up on an unanswered SYN after 3 s; outcomes do not depend on either."
)


def cell(result: CaseResult | None) -> str:
    """agree, differ, known (a difference listed in cases.toml, not yet fixed in the profile),
    error (the case could not be run), or – (not run for this MTA)."""
    if result is None:
        return "–"
    if result.error:
        return "error"
    if result.agrees:
        return "agree"
    return "known" if (result.mta, result.case) in known_differences() else "differ"


def by_pair(results: Iterable[CaseResult]) -> dict[tuple[str, str], CaseResult]:
    return {(r.case, r.mta): r for r in results}


def counts(results: Iterable[CaseResult], mtas: Iterable[str]) -> dict[str, tuple[int, int]]:
    """MTA → (cases that agree, cases run)."""
    out: dict[str, tuple[int, int]] = {}
    listed = list(results)
    for mta in mtas:
        mine = [r for r in listed if r.mta == mta]
        out[mta] = (sum(r.agrees for r in mine), len(mine))
    return out


def to_text(
    results: list[CaseResult],
    mtas: list[str],
    versions: Mapping[str, str],
    skipped: Mapping[str, str],
) -> str:
    cases = _cases(results)
    pairs = by_pair(results)
    width = max([len(c.id) for c in cases] + [4])
    lines = ["case".ljust(width) + "  " + "  ".join(m.ljust(9) for m in mtas)]
    for case in cases:
        lines.append(case.id.ljust(width) + "  " + "  ".join(
            cell(pairs.get((case.id, m))).ljust(9) for m in mtas))  # fmt: skip
    lines.append("")
    for mta, (agree, total) in counts(results, mtas).items():
        known = sum(cell(r) == "known" for r in results if r.mta == mta)
        lines.append(f"{versions.get(mta, mta)}: {agree} of {total} cases agree"
                     + (f" ({known} known differences)" if known else ""))  # fmt: skip
    for mta, why in skipped.items():
        lines.append(f"{mta}: not run ({why})")
    differing = [r for r in results if not r.agrees]
    if differing:
        lines += ["", "differences:"]
        for r in differing:
            lines.append(f"  {r.case} / {r.mta}:")
            for d in r.verdict.differences if r.verdict else []:
                lines.append(f"    {d}")
            if r.error:
                lines.append(f"    error: {r.error.splitlines()[0]}")
    return "\n".join(lines)


def to_json(
    results: list[CaseResult],
    mtas: list[str],
    versions: Mapping[str, str],
    skipped: Mapping[str, str],
) -> dict[str, Any]:
    return {
        "date": date.today().isoformat(),
        "mtas": {
            m: {"version": versions.get(m, ""), "agree": a, "cases": t}
            for m, (a, t) in counts(results, mtas).items()
        },
        "skipped": dict(skipped),
        "cases": [{"id": c.id, "title": c.title, "source": c.source} for c in _cases(results)],
        "results": [r.to_json() for r in results],
        "notes": NOTES,
    }


def to_markdown(
    results: list[CaseResult],
    mtas: list[str],
    versions: Mapping[str, str],
    skipped: Mapping[str, str],
    *,
    findings: Iterable[str] = (),
    proven: Mapping[str, ProfileTested] | None = None,
) -> str:
    cases = _cases(results)
    pairs = by_pair(results)
    today = date.today().isoformat()
    out = [
        "# Conformance: mxtui's profiles against the real sending MTAs",
        "",
        f"Generated by `mxtui conformance --markdown CONFORMANCE.md` on {today}. Each case was "
        "delivered by the real MTA (its first delivery attempt) and by `mxtui walk` under the "
        "MTA's profile, in the same loopback world: the lab's DNS server and SMTP hosts, in a "
        "network namespace of the case's own. Compared: each recipient's end (delivered, "
        "deferred, bounced), the bounce's `Status:`, the addresses tried (as a pattern where "
        "the MTA shuffles), what was said on each connection, and the first retry.",
        "",
        "| MTA | version | agree | known differences | other differences |",
        "|---|---|---|---|---|",
    ]
    for mta, (agree, total) in counts(results, mtas).items():
        mine = [cell(r) for r in results if r.mta == mta]
        out.append(
            f"| {mta} | {versions.get(mta, '')} | {agree} of {total} | "
            f"{mine.count('known')} | {mine.count('differ') + mine.count('error')} |"
        )
    for mta, why in skipped.items():
        out.append(f"| {mta} | not run | {why} |")
    out += ["", NOTES["qmail"], "", HOW_TO_READ, ""]
    out += [
        "`known`: a difference the harness found and cases.toml lists, with the rule of "
        "the profile to change; it stays in the table until the profile agrees.",
        "",
    ]
    findings = list(findings)
    if findings:
        out += ["## Where the real run and the reference disagree", ""]
        out += [f"- {f}" for f in findings]
        out.append("")
    if proven is not None:
        out += cells_proven(proven)
    out += ["## The table", "", "| case | " + " | ".join(mtas) + " |",
            "|---|" + "---|" * len(mtas)]  # fmt: skip
    for case in cases:
        row = [cell(pairs.get((case.id, m))) for m in mtas]
        out.append(f"| `{case.id}` | " + " | ".join(row) + " |")
    differing = [r for r in results if not r.agrees]
    if differing:
        out += ["", "## Every difference, case by case", ""]
        for r in differing:
            out.append(f"- `{r.case}` / {r.mta}:")
            for d in r.verdict.differences if r.verdict else []:
                out.append(f"  - {_md(d)}")
            if r.error:
                out.append(f"  - error: {_md(r.error.splitlines()[0])}")
    known = sorted({id(k): k for k in known_differences().values()}.values(),
                   key=lambda k: (k.mta, k.cases))  # fmt: skip
    ran = {(r.mta, r.case) for r in results if not r.agrees}
    shown = [k for k in known if any((k.mta, c) in ran for c in k.cases)]
    if shown:
        out += ["", "## Known differences, and the profile rule to change", ""]
        for k in shown:
            named = ", ".join(f"`{c}`" for c in k.cases if (k.mta, c) in ran)
            out.append(f"- **{k.mta}** ({named}): {_md(k.why)} Rule: {_md(k.rule)}.")
    out += ["", "## The cases", ""]
    for case in cases:
        out.append(f"- `{case.id}`: {case.title} ({case.source})")
        for mta, why in case.skip.items():
            out.append(f"  - not run for {mta}: {why}")
    return "\n".join(out) + "\n"


RULE_WORDS = {"ordering": "ordering", "moving": "moving on", "retry": "first retry",
              "dsn": "bounce status"}  # fmt: skip


def cells_proven(proven: Mapping[str, ProfileTested]) -> list[str]:
    """The "Cells proven" section: per profile, how many cells of the decision table are known
    each way once the agreeing cases are counted (`mxtui/policy/tested.json`)."""
    from mxtui.conformance.evidence import KINDS, cell_counts, proven_rules
    from mxtui.policy import PROFILES

    out = [
        "## Cells proven",
        "",
        "Each agreeing case proves the cells of the decision table the walk went through "
        "(`mxtui conformance --evidence mxtui/policy/tested.json` writes which; `mxtui explain` "
        "and the side panel read it): those cells become `T`, tested against the version run, "
        "with the cases named. The others keep how they were known before: `V` read in a "
        "source (file:line or document section), `M` recalled, `I` inferred, `?` unknown. "
        "A move-on cell counts as `T` here when a case went through it, final (the last "
        "address) or not; `mxtui explain` says `T` only for the kind of decision a case "
        "showed.",
        "",
        "| profile | tested against | cells | "
        + " | ".join(f"`{k}`" for k in KINDS)
        + " | profile rules tested |",
        "|---|---|---|" + "---|" * len(KINDS) + "---|",
    ]
    untested = []
    for name, prof in PROFILES.items():
        counts = cell_counts(name, proven)
        entry = proven.get(name)
        against = f"{entry.tested_with} ({entry.date})" if entry else "–"
        rules = ", ".join(RULE_WORDS[r] for r in proven_rules(name, proven)) or "–"
        out.append(f"| {name} | {against} | {sum(counts.values())} | "
                   + " | ".join(str(counts[k]) for k in KINDS) + f" | {rules} |")  # fmt: skip
        if prof.untested and entry is None:
            untested.append(f"- {name}: {_md(prof.untested)}.")
    out.append("")
    if untested:
        out += ["Not run here, so never `T`:", "", *untested, ""]
    return out


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def _cases(results: Iterable[CaseResult]) -> list[Case]:
    ran = {r.case for r in results}
    return [c for c in load_cases() if c.id in ran]
