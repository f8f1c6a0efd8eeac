"""`mxtui conformance`: run the real sending MTAs through the conformance cases and compare.

Every case is delivered by the real MTA (Postfix from the system package; Exim, OpenSMTPD and
Sendmail unpacked from Debian's packages) and by the walk under its profile, each pair in
namespaces of its own, and the table says where they agree. Needs root (namespaces); the
unpacked MTAs come from `--fetch` (or `.ci/run`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from mxtui.errors import UsageError
from mxtui.netargs import whole_number

if TYPE_CHECKING:
    from mxtui.policy.tested import ProfileTested

DESCRIPTION = (
    "Prove the profiles against the real MTAs: deliver every conformance case with the real "
    "sender (Postfix, Exim, OpenSMTPD, Sendmail) and with `mxtui walk` under its profile, in "
    "a private loopback world, and print the table case × MTA → agree / differ (with the "
    "difference). Needs root."
)
EPILOG = """\
exit status:
  0  every case run agrees
  1  some case differs (or could not run)
  2  cannot run here (not root, no namespaces, an MTA missing), or bad input

examples:
  mxtui conformance                          # every MTA that can run here
  mxtui conformance --mta exim --case rcpt-mixed --json
  mxtui conformance --fetch --mta sendmail   # apt-get download + dpkg-deb -x first
  mxtui conformance --markdown CONFORMANCE.md --evidence mxtui/policy/tested.json
"""

EXIT_AGREE, EXIT_DIFFER = 0, 1
"""Every case agrees, or one does not; 2 is bad input (`mxtui.errors`), as for every command."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mxtui.conformance.mtas import MTAS

    parser.add_argument(
        "--mta", action="append", choices=MTAS, metavar="|".join(MTAS),
        help="run this MTA only (repeatable; default: every MTA that can run here)",
    )  # fmt: skip
    parser.add_argument(
        "--case", action="append", default=[], metavar="ID",
        help="run this case only (repeatable; --list shows them)",
    )  # fmt: skip
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--markdown", metavar="FILE",
        help="also write the table as Markdown to FILE (CONFORMANCE.md)",
    )  # fmt: skip
    parser.add_argument(
        "--evidence", metavar="FILE",
        help="also write which cells of the decision table the agreeing cases proved to FILE "
        "(mxtui/policy/tested.json; MTAs not run keep their entries there)",
    )  # fmt: skip
    parser.add_argument(
        "--fetch", action="store_true",
        help="download and unpack the chosen MTAs' Debian packages first (apt-get download)",
    )  # fmt: skip
    parser.add_argument(
        "--parallel", type=whole_number(1, 64), default=12, metavar="N",
        help="cases run side by side (default 12; most of a case is waiting)",
    )  # fmt: skip
    parser.add_argument(
        "--workdir", metavar="DIR",
        help="keep every case's files (configurations, logs, spools) under DIR",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from mxtui.conformance import isolation, packages
    from mxtui.conformance.cases import load_cases
    from mxtui.conformance.mtas import MTAS, RUNNERS

    cases = list(load_cases())
    if args.list:
        for case in cases:
            print(f"{case.id:<40} {case.title}")
        return EXIT_AGREE
    unknown = [c for c in args.case if c not in {x.id for x in cases}]
    if unknown:
        raise UsageError(f"unknown case {unknown[0]!r} (mxtui conformance --list)")
    if args.case:
        if args.evidence:
            raise UsageError("--evidence needs every case (it says what the whole run "
                             "proved); drop --case")  # fmt: skip
        cases = [c for c in cases if c.id in args.case]
    why = isolation.available()
    if why:
        raise UsageError(why)
    chosen = list(args.mta or MTAS)
    if args.fetch:
        for mta in chosen:
            if mta in packages.PACKAGES:
                try:
                    packages.fetch(mta)
                except (RuntimeError, OSError) as exc:
                    raise UsageError(f"could not fetch {mta}: {exc}") from None
    if args.workdir:
        closed = _closed_folder(Path(args.workdir).resolve())
        if closed:
            raise UsageError(
                f"--workdir: {closed} is closed to other users; the MTAs drop root "
                "and must reach their spools under it"
            )
    if args.evidence or args.markdown:
        from mxtui.policy.tested import TESTED_FILE

        _old_evidence(Path(args.evidence) if args.evidence else TESTED_FILE)
    skipped = {m: r for m in chosen if (r := RUNNERS[m].missing())}
    if args.mta and skipped:
        mta, why = next(iter(skipped.items()))
        raise UsageError(f"{mta} cannot run: {why}")
    mtas = [m for m in chosen if m not in skipped]
    if not mtas:
        raise UsageError(
            "no MTA can run here: " + "; ".join(f"{m}: {w}" for m, w in skipped.items())
        )
    return _run(args, cases, mtas, skipped)


def _proven(args: argparse.Namespace, results: list, versions: dict[str, str]) -> dict:
    """What the run proved, merged into the evidence file it replaces (or the one mxtui reads),
    written to --evidence FILE when given."""
    from datetime import date

    from mxtui.conformance.evidence import build
    from mxtui.policy import tested

    path = Path(args.evidence) if args.evidence else tested.TESTED_FILE
    old = _old_evidence(path)
    proven = build(results, versions, date.today().isoformat(), old)
    if args.evidence:
        try:
            path.write_text(tested.dumps(proven), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--evidence: cannot write {path}: {exc}") from None
    return proven


def _old_evidence(path: Path) -> Mapping[str, ProfileTested]:
    """The evidence file a run will merge into (read before the run, so a bad one stops it
    before minutes of work, not after)."""
    from mxtui.policy import tested

    try:
        return tested.load(path)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the evidence file {path}: {exc}") from None


def _closed_folder(path: Path) -> Path | None:
    """The first existing folder on the way to `path` that other users cannot enter."""
    for folder in [*reversed(path.parents), path]:
        if folder.exists() and not folder.stat().st_mode & 0o001:
            return folder
    return None


def _run(args: argparse.Namespace, cases: list, mtas: list[str], skipped: dict) -> int:
    from mxtui.conformance.harness import run_all
    from mxtui.conformance.mtas import RUNNERS
    from mxtui.conformance.report import to_json, to_markdown, to_text

    versions = {m: RUNNERS[m].version() for m in mtas}
    workdir = Path(args.workdir) if args.workdir else None
    progress = not args.json and sys.stderr.isatty()
    done = 0

    def tick(_result: object) -> None:
        nonlocal done
        done += 1
        if progress:
            print(f"\r{done} cases done", end="", file=sys.stderr, flush=True)

    results = run_all(mtas, cases=cases, parallel=args.parallel, workdir=workdir,
                      on_result=tick)  # fmt: skip
    if progress:
        print(file=sys.stderr)
    proven = _proven(args, results, versions) if args.markdown or args.evidence else None
    if args.markdown:
        from mxtui.conformance.cases import load_findings

        Path(args.markdown).write_text(to_markdown(
            results, mtas, versions, skipped, findings=load_findings(), proven=proven))  # fmt: skip
    if args.json:
        print(json.dumps(to_json(results, mtas, versions, skipped), indent=2, ensure_ascii=False))
    else:
        print(to_text(results, mtas, versions, skipped))
    return EXIT_AGREE if all(r.agrees for r in results) else EXIT_DIFFER
