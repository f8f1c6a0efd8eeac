"""Run cases: each (case, MTA) in a private world, the real MTA first, then the walk.

`run_all` is what the command and the tests call: it forks one isolated process per (case,
MTA) pair, several at a time (most of a case's time is spent waiting on timeouts, not on the
CPU), and returns a `CaseResult` per pair with the comparison made. Inside each process,
`run_case` starts the world, lets the MTA make its first attempt for each message of the case,
then walks the same message under the MTA's profile, with a different envelope sender (a
greylisting host keys on it), after the hosts have forgotten the MTA's visit.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mxtui.conformance import isolation
from mxtui.conformance.cases import SENDER_DOMAIN, Case, get_case, load_cases
from mxtui.conformance.compare import Verdict, compare
from mxtui.conformance.mtas import RUNNERS, Runner
from mxtui.conformance.observe import MtaRun, attach_sessions
from mxtui.conformance.walkside import plan_for, seed_for, walk_case
from mxtui.conformance.world import DNS_ADDRESS, World, message, write_resolv_conf

CASE_TIMEOUT_S = 240.0
"""A case that runs longer than this is stopped (its whole namespace) and reported."""


@dataclass
class CaseResult:
    """One (case, MTA) pair: what the MTA did, what the walk did, and the verdict."""

    case: str
    mta: str
    verdict: Verdict | None
    mta_runs: list[MtaRun] = field(default_factory=list)
    walk_runs: list[MtaRun] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0

    @property
    def agrees(self) -> bool:
        return self.verdict is not None and self.verdict.agrees and not self.error

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "mta": self.mta,
            "profile": RUNNERS[self.mta].PROFILE if self.mta in RUNNERS else "",
            "agrees": self.agrees,
            "differences": self.verdict.differences if self.verdict else [],
            "error": self.error,
            "seconds": round(self.seconds, 1),
            "mta_runs": [r.to_json() for r in self.mta_runs],
            "walk_runs": [r.to_json() for r in self.walk_runs],
        }


def result_from_json(data: dict[str, Any]) -> CaseResult:
    """A `CaseResult` back from its JSON (`CaseResult.to_json`, as `mxtui conformance --json`
    prints it), for what is built from a finished run (the proven cells)."""
    return CaseResult(
        str(data["case"]), str(data["mta"]), Verdict(list(data.get("differences", []))),
        [MtaRun.from_json(r) for r in data.get("mta_runs", [])],
        [MtaRun.from_json(r) for r in data.get("walk_runs", [])],
        error=str(data.get("error") or ""), seconds=float(data.get("seconds", 0.0)),
    )  # fmt: skip


def sender_for(who: str, case: Case, run: int) -> str:
    """A distinct envelope sender per sender, case and run (greylisting keys on it)."""
    return f"{who}-{case.id}-{run}@{SENDER_DOMAIN}"


async def _in_world(case: Case, runner: Runner, folder: Path) -> dict[str, Any]:
    isolation.bind(write_resolv_conf(folder), "/etc/resolv.conf")
    runner.prepare(folder)
    mta_runs: list[MtaRun] = []
    walk_runs: list[MtaRun] = []
    async with World(case) as world:
        for n in range(case.runs):
            world.forget()
            sender = sender_for(runner.NAME, case, n)
            run = await runner.deliver(case, sender, folder / f"run{n}")
            run.sessions = attach_sessions(run.dials, world.transcripts())
            mta_runs.append(run)
        plan = await plan_for(case.mail_domain, (DNS_ADDRESS, 53))
        for n, mta_run in enumerate(mta_runs):
            world.forget()
            sender = sender_for("walk", case, n)
            seed = seed_for(plan, runner.PROFILE, [d.address for d in mta_run.dials])
            recipients = case.addresses()
            walk_run, _ = await walk_case(
                plan, runner.PROFILE, sender, recipients, 0 if seed is None else seed,
                message(case, sender, recipients),
            )  # fmt: skip
            walk_run.sessions = attach_sessions(walk_run.dials, world.transcripts())
            walk_runs.append(walk_run)
    verdict = compare(case, runner.PROFILE, mta_runs, walk_runs, who=runner.NAME, plan=plan)
    return {
        "mta_runs": [r.to_json() for r in mta_runs],
        "walk_runs": [r.to_json() for r in walk_runs],
        "differences": verdict.differences,
    }


def run_case(case_id: str, mta: str, folder: str) -> dict[str, Any]:
    """In the case's namespace: the whole case, as JSON (see `CaseResult`)."""
    case = get_case(case_id)
    runner = RUNNERS[mta]
    path = Path(folder)
    # A case starts from nothing: an old spool would hold retry hints, an old log old lines.
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.chmod(path, 0o755)
    return asyncio.run(_in_world(case, runner, path))


def pairs(mtas: Iterable[str], cases: Iterable[Case] | None = None) -> list[tuple[Case, str]]:
    """Every (case, MTA) to run, the slowest cases first so they overlap the rest."""
    chosen = [(c, m) for m in mtas for c in (cases or load_cases()) if c.applies_to(m)]
    return sorted(chosen, key=lambda cm: -RUNNERS[cm[1]].expected_seconds(cm[0]))


def run_all(
    mtas: Iterable[str],
    *,
    cases: Iterable[Case] | None = None,
    parallel: int = 12,
    workdir: Path | None = None,
    on_result: Callable[[CaseResult], None] | None = None,
) -> list[CaseResult]:
    """Run every applicable (case, MTA) pair isolated and compare; results in table order."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="mxtui-conformance-") as tmp:
            return run_all(mtas, cases=cases, parallel=parallel, workdir=Path(tmp),
                           on_result=on_result)  # fmt: skip
    todo = pairs(list(mtas), cases)
    root = workdir
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    started: dict[str, float] = {}
    jobs = []
    for case, mta in todo:
        key = f"{mta}/{case.id}"
        folder = root / mta / case.id
        jobs.append(isolation.Job(key, run_case, (case.id, mta, str(folder)),
                                  root / "results" / f"{mta}-{case.id}.json",
                                  CASE_TIMEOUT_S))  # fmt: skip
    results: dict[str, CaseResult] = {}

    def done(job: isolation.Job, output: dict[str, Any]) -> None:
        mta, case_id = job.key.split("/", 1)
        result = _result(get_case(case_id), mta, output)
        result.seconds = time.monotonic() - started[job.key]
        results[job.key] = result
        if on_result is not None:
            on_result(result)

    def start(job: isolation.Job) -> None:
        started[job.key] = time.monotonic()

    isolation.run_jobs(jobs, parallel=parallel, on_done=done, on_start=start)
    order = {c.id: i for i, c in enumerate(cases or load_cases())}
    return sorted(results.values(), key=lambda r: (r.mta, order.get(r.case, 0)))


def _result(case: Case, mta: str, output: dict[str, Any]) -> CaseResult:
    if "error" in output:
        detail = output.get("traceback", "")
        return CaseResult(case.id, mta, None, error=str(output["error"]) + (
            f"\n{detail}" if detail else ""))  # fmt: skip
    data = output["result"]
    mta_runs = [MtaRun.from_json(r) for r in data["mta_runs"]]
    walk_runs = [MtaRun.from_json(r) for r in data["walk_runs"]]
    verdict = Verdict(list(data["differences"]))
    return CaseResult(case.id, mta, verdict, mta_runs, walk_runs)
