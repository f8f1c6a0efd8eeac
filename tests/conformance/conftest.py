"""The real-MTA runs behind the conformance tests: one `mxtui conformance --json` for the session.

When the tests are collected, the (MTA, case) pairs they name are noted; the conformance tests
are moved to the end of the session, and the first of them starts one run of the command for
every pair (about two minutes: the cases run side by side, each in its own namespaces). It
starts then, not earlier, so its load never slows the rest of the suite's timing-sensitive
tests. Each test then reads its own pair from the command's JSON.

Without root, namespaces or an unpacked MTA the tests skip with the command's reason, unless
MXTUI_REQUIRE_CONFORMANCE=1 (set by .ci/run), which makes any of that a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from mxtui.conformance.cases import known_differences

REQUIRE = os.environ.get("MXTUI_REQUIRE_CONFORMANCE") == "1"
WAIT_S = 900
"""The longest the tests wait for the command (it takes about two minutes here)."""

_KEY = pytest.StashKey["Batch"]()


class Batch:
    """One background `mxtui conformance --json` for the pairs the session's tests need."""

    def __init__(self, mtas: list[str], cases: list[str]) -> None:
        self.mtas, self.cases = mtas, cases
        self.folder = Path(tempfile.mkdtemp(prefix="mxtui-conformance-tests-"))
        self.folder.chmod(0o755)  # the MTAs' own users must reach their spools under it
        self.out = self.folder / "out.json"
        self.err = self.folder / "err.txt"
        self.proc: subprocess.Popen[bytes] | None = None
        self._data: dict[str, Any] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        if self.proc is None:
            args = [sys.executable, "-m", "mxtui", "conformance", "--json",
                    "--workdir", str(self.folder / "work")]  # fmt: skip
            for mta in self.mtas:
                args += ["--mta", mta]
            for case in self.cases:
                args += ["--case", case]
            with open(self.out, "wb") as out, open(self.err, "wb") as err:
                self.proc = subprocess.Popen(args, stdout=out, stderr=err)
        return self.proc

    def data(self) -> dict[str, Any]:
        if self._data is None:
            self.start()
            assert self.proc is not None
            try:
                code = self.proc.wait(timeout=WAIT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                pytest.fail(f"mxtui conformance took over {WAIT_S} s")
            why = self.err.read_text(errors="replace").strip().splitlines()
            if code == 2:
                reason = why[-1] if why else "mxtui conformance could not run"
                self._data = {"cannot": reason}
            else:
                try:
                    self._data = json.loads(self.out.read_text())
                except json.JSONDecodeError:
                    pytest.fail("mxtui conformance printed no JSON: " + " / ".join(why[-5:]))
        return self._data

    def result(self, mta: str, case: str) -> dict[str, Any]:
        data = self.data()
        if "cannot" in data:
            _missing(data["cannot"])
        if mta in data.get("skipped", {}):
            _missing(f"{mta}: {data['skipped'][mta]}")
        for result in data["results"]:
            if result["mta"] == mta and result["case"] == case:
                return result
        pytest.fail(f"mxtui conformance gave no result for {case} / {mta}")

    def results(self, mta: str) -> list[dict[str, Any]]:
        """Every result of one MTA in the run (skips as `result` does when it could not run)."""
        data = self.data()
        if "cannot" in data:
            _missing(data["cannot"])
        if mta in data.get("skipped", {}):
            _missing(f"{mta}: {data['skipped'][mta]}")
        return [r for r in data["results"] if r["mta"] == mta]

    def check(self, mta: str, case: str) -> None:
        """Fail, showing the MTA's log beside the walk's, unless the pair agrees. A known
        difference (cases.toml [[known]]) is an expected failure until the profile changes;
        a known difference that has gone fails too, so its entry is removed."""
        result = self.result(mta, case)
        known = known_differences().get((mta, case))
        if result.get("error"):
            pytest.fail(explain(result), pytrace=False)
        if not result["agrees"]:
            if known is not None:
                pytest.xfail(f"known difference, profile rule to change: {known.rule}")
            pytest.fail(explain(result), pytrace=False)
        if known is not None:
            pytest.fail(
                f"{case} / {mta} agrees now: remove it from its [[known]] entry in "
                f"mxtui/conformance/cases.toml ({known.why})",
                pytrace=False,
            )

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _missing(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"MXTUI_REQUIRE_CONFORMANCE=1 but {reason}")
    pytest.skip(reason)


def _pair(item: pytest.Item) -> tuple[str, str] | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None or "conformance_case" not in callspec.params:
        return None
    return item.module.MTA, callspec.params["conformance_case"]  # type: ignore[attr-defined]


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:  # fmt: skip
    """Real-MTA tests go last: their runs start with the first of them and load the machine.
    So do the tests that read the whole run (the `conformance` fixture without a pair)."""

    def real(item: pytest.Item) -> bool:
        return _pair(item) is not None or "conformance" in getattr(item, "fixturenames", ())

    if any(real(i) for i in items):
        items[:] = [i for i in items if not real(i)] + [i for i in items if real(i)]


def pytest_collection_finish(session: pytest.Session) -> None:
    pairs = [p for i in session.items if (p := _pair(i)) is not None]
    if not pairs:
        return
    mtas = sorted({m for m, _ in pairs})
    cases = sorted({c for _, c in pairs})
    session.config.stash[_KEY] = Batch(mtas, cases)


def pytest_sessionfinish(session: pytest.Session) -> None:
    batch = session.config.stash.get(_KEY, None)
    if batch is not None:
        batch.close()


@pytest.fixture
def conformance(request: pytest.FixtureRequest) -> Batch:
    batch = request.config.stash.get(_KEY, None)
    if batch is None:
        pytest.skip("no conformance run was started for this session")
    return batch


def explain(result: dict[str, Any]) -> str:
    """A disagreement for a person: the differences, then the MTA's log lines next to the
    walk's, run by run."""
    lines = [f"{result['case']} / {result['mta']}: the real MTA and the walk differ"]
    lines += [f"  - {d}" for d in result["differences"]]
    if result.get("error"):
        lines.append(f"  error: {result['error']}")
    for n, (mta, walk) in enumerate(zip(result["mta_runs"], result["walk_runs"],
                                        strict=False), 1):  # fmt: skip
        lines.append(f"--- run {n}: {result['mta']}'s log ---")
        lines += [f"  {line}" for line in mta["log"][-80:]]
        lines.append(f"--- run {n}: the walk ---")
        lines += [f"  {line}" for line in walk["log"]]
    return "\n".join(lines)
