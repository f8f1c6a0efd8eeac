"""The link from agreeing conformance cases to the cells they prove, without the real MTAs.

`mxtui/policy/tested.json` is written by `mxtui conformance --evidence` from a real run; these
check that the committed file still fits cases.toml and the profiles (a case renamed or
dropped, a cell changed since the run, a row that no longer exists all fail here), and that the
way a run's results become proven cells is right, from results built by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mxtui.cli import main
from mxtui.conformance.cases import load_cases
from mxtui.conformance.compare import Verdict
from mxtui.conformance.evidence import MOVE_ON, build, cell_counts, proven_rules, upstream
from mxtui.conformance.harness import CaseResult, result_from_json
from mxtui.conformance.mtas import MTAS, RUNNERS
from mxtui.conformance.observe import Dial, MtaRun, Passed, RecipientSeen
from mxtui.conformance.report import cells_proven
from mxtui.model import DecisionContext, Evidence, Outcome, Reply, Stage
from mxtui.policy import PROFILES, decide, tested

# --------------------------------------------------------------- the committed evidence file


def test_the_committed_evidence_file_fits_the_cases_and_the_profiles():
    """No stale case id, no unknown row, no cell that changed since the run proved it."""
    assert tested.TESTED_FILE.exists(), "run mxtui conformance --evidence mxtui/policy/tested.json"
    data = tested.load()
    cases = {c.id: c for c in load_cases()}
    assert {entry.mta for entry in data.values()} == set(MTAS)
    for name, entry in data.items():
        assert name in PROFILES and name == RUNNERS[entry.mta].PROFILE, name
        assert entry.tested_with[:1].isupper() and any(ch.isdigit() for ch in entry.tested_with)
        assert entry.package.startswith(entry.tested_with), name
        profile = PROFILES[name]
        for key, proven in entry.rows.items():
            where = f"{name} {tested.row_name(key)}"
            assert key in profile.cells, f"{where}: no such row"
            assert proven.code == profile.cells[key].code, (
                f"{where}: the run proved {proven.code}, the profile now says "
                f"{profile.cells[key].code}: run mxtui conformance --evidence again"
            )
            assert not proven.final or proven.code in MOVE_ON, where
            for case in proven.shown_by():
                assert case in cases, f"{where}: case {case} is not in cases.toml"
                assert cases[case].applies_to(entry.mta), f"{where}: {case} is not run for it"
        for rule, proven in entry.rules.items():
            assert rule in tested.RULES
            for case in proven.cases:
                assert case in cases and cases[case].applies_to(entry.mta), (name, rule, case)


def test_the_file_reads_back_as_written():
    data = tested.load()
    text = tested.dumps(data)
    assert tested.parse(json.loads(text)) == dict(data)
    assert tested.TESTED_FILE.read_text(encoding="utf-8") == text


def test_every_real_mta_proves_cells_and_the_unrun_profiles_none():
    data = tested.load()
    for name, profile in PROFILES.items():
        counts = cell_counts(name, data)
        assert sum(counts.values()) == len(profile.cells)
        if name in data:
            assert counts[Evidence.TESTED] >= 20, (name, counts)
            assert "ordering" in proven_rules(name, data), name
        else:
            assert profile.untested, f"{name} is never run: say why in Profile.untested"
            hand = sum(c.evidence is Evidence.TESTED for c in profile.cells.values())
            assert counts[Evidence.TESTED] == hand, name


# ------------------------------------------------------------------ from results to cells


def _run(decisions: list[Passed], order: list[str], **kw) -> MtaRun:
    dials = [Dial("mx", a) for a in order]
    kw.setdefault("recipients", {})
    return MtaRun(dials=dials, order=order, decisions=decisions, **kw)


def _result(case: str, mta: str, walk: MtaRun, real: MtaRun, agrees: bool = True) -> CaseResult:
    verdict = Verdict([] if agrees else ["alice: postfix deferred; walk bounced"])
    return CaseResult(case, mta, verdict, [real], [walk])


GREETED = [Passed("greeting", "2xx", "C"), Passed("ehlo", "2xx", "C")]


def test_an_agreeing_case_proves_the_rows_it_went_through_and_a_differing_one_nothing():
    bounced = {"alice@rcpt-550.test": RecipientSeen("bounced", "5.1.1", bounce_status="5.1.1")}
    walk = _run([*GREETED, Passed("mail", "2xx", "C"), Passed("rcpt", "5xx", "r-NDR"),
                 Passed("quit", "any", "IGN")], ["127.0.1.1"], recipients=bounced)  # fmt: skip
    real = _run([], ["127.0.1.1"], recipients=bounced)
    refused = _run([Passed("connect", "fail", "NX"), *GREETED], ["127.0.1.1", "127.0.1.2"])
    final = _run([*GREETED, Passed("mail", "4xx", "NX", "last")], ["127.0.1.1"],
                 retry=(300, 600))  # fmt: skip
    results = [
        _result("rcpt-550", "postfix", walk, real),
        _result("primary-refuses", "postfix", refused, refused),
        _result("mail-451-only", "postfix", final, final),
        _result("mail-451-then-backup", "postfix", final, final, agrees=False),
    ]
    data = build(results, {"postfix": "Postfix 3.7.11"}, "2026-12-02")
    entry = data["postfix"]
    rows = {tested.row_name(k): v for k, v in entry.rows.items()}
    assert rows["rcpt/5xx"].code == "r-NDR" and rows["rcpt/5xx"].cases == ("rcpt-550",)
    assert rows["greeting/2xx"].cases == ("rcpt-550", "primary-refuses", "mail-451-only")
    assert rows["mail/4xx"].cases == () and rows["mail/4xx"].final == ("mail-451-only",)
    assert "quit/any" not in rows  # the comparison leaves QUIT out
    assert all("mail-451-then-backup" not in p.shown_by() for p in entry.rows.values())
    rules = {r: p.cases for r, p in entry.rules.items()}
    assert rules == {"ordering": ("primary-refuses",), "moving": ("primary-refuses",),
                     "retry": ("mail-451-only",), "dsn": ("rcpt-550",)}  # fmt: skip


def test_a_run_of_some_mtas_keeps_the_others_entries():
    old = build([_result("primary-refuses", "exim", _run(GREETED, ["a"]), _run([], ["a"]))],
                {"exim": "Exim 4.96-15+deb12u11"}, "2026-12-01")  # fmt: skip
    assert old["exim"].tested_with == "Exim 4.96"
    assert old["exim"].package == "Exim 4.96-15+deb12u11"
    new = build([], {"postfix": "Postfix 3.7.11"}, "2026-12-02", old)
    assert new["exim"] == old["exim"] and new["postfix"].rows == {}


@pytest.mark.parametrize(
    ("package", "version"),
    [("Exim 4.96-15+deb12u11", "Exim 4.96"), ("OpenSMTPD 6.8.0p2-4", "OpenSMTPD 6.8.0p2"),
     ("Sendmail 8.17.1.9-2+deb12u2", "Sendmail 8.17.1.9"), ("Postfix 3.7.11", "Postfix 3.7.11")],
)  # fmt: skip
def test_the_version_named_is_the_program_s_own(package, version):
    assert upstream(package) == version


# ---------------------------------------------------------------- what a decision then says


def _fake(monkeypatch, rows: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]]) -> None:
    entry = tested.ProfileTested(
        "postfix", "Postfix 3.7.11", "2026-12-02", "Postfix 3.7.11",
        {tested.row_key(k): tested.Proven("Postfix 3.7.11", "2026-12-02", c, f, code)
         for k, (code, c, f) in rows.items()},
    )  # fmt: skip
    monkeypatch.setattr(tested, "load", lambda path=tested.TESTED_FILE: {"postfix": entry})


def test_a_cell_is_tested_only_for_the_kind_of_decision_a_case_showed(monkeypatch):
    """A move-on cell seen moving on is not proven for the last address, where it requeues."""
    _fake(monkeypatch, {"mail/4xx": ("NX", ("mail-451-then-backup",), ())})
    moved = decide(Stage.MAIL, Reply(451, "busy"), "postfix")
    assert moved.evidence is Evidence.TESTED
    assert moved.proof.cases == ("mail-451-then-backup",)
    last = decide(Stage.MAIL, Reply(451, "busy"), "postfix", DecisionContext(last_address=True))
    assert last.final and last.evidence is PROFILES["postfix"].cells[(Stage.MAIL, "4xx")].evidence


def test_a_row_proven_with_another_cell_or_a_parameter_s_cell_stays_as_it_was(monkeypatch):
    _fake(monkeypatch, {"greeting/5xx": ("NX>RQ", ("primary-greets-554",), ())})
    assert decide(Stage.GREETING, Reply(554, "no"), "postfix").evidence is Evidence.TESTED
    alt = decide(Stage.GREETING, Reply(554, "no"), "postfix",
                 params={"smtp_skip_5xx_greeting": "no"})  # fmt: skip
    assert alt.evidence is not Evidence.TESTED
    _fake(monkeypatch, {"greeting/5xx": ("NDR", ("primary-greets-554",), ())})
    assert decide(Stage.GREETING, Reply(554, "no"), "postfix").evidence is not Evidence.TESTED


def test_explain_json_names_the_version_and_the_cases_that_proved_the_cell(capsys):
    assert main(["explain", "--stage", "rcpt", "--reply", "450 4.2.1 busy", "--last-mx",
                 "--json"]) == 0  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    evidence = data["evidence"]
    assert set(evidence) >= {"kind", "source", "tested_with", "cases"}
    assert evidence["kind"] == "T" and evidence["tested_with"] == "Postfix 3.7.11"
    ids = {c.id for c in load_cases()}
    assert evidence["cases"] and set(evidence["cases"]) <= ids
    assert data["profile_detail"]["ordering"]["evidence"]["kind"] == "T"


def test_the_cells_proven_section_counts_every_profile():
    text = "\n".join(cells_proven(tested.load()))
    assert text.startswith("## Cells proven")
    for name, profile in PROFILES.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| {name} |"))
        assert f"| {len(profile.cells)} |" in row, row
    assert "qmail has no Debian package" in text


def test_evidence_for_some_cases_only_is_refused(capsys):
    code = main(["conformance", "--evidence", "x.json", "--case", "rcpt-550"])
    assert code == 2
    assert "--evidence needs every case" in capsys.readouterr().err


def test_outcome_words_for_a_proven_connection_failure():
    decision = decide(Stage.CONNECT, Outcome.REFUSED, "exim")
    assert decision.evidence is Evidence.TESTED
    assert decision.proof.tested_words().startswith("tested against Exim 4.96 in ")


def test_help_and_import_never_read_the_evidence_file():
    """The file is read on the first decision, not when mxtui starts or prints help."""
    code = (
        "import contextlib, io\n"
        "from mxtui.cli import main\n"
        "from mxtui.policy import PROFILES, tested\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['explain', '--help'])\n"
        "print(tested.load.cache_info().currsize)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    assert done.stdout.strip() == "0", done.stderr


# ------------------------------------------------------------- against the session's real run


@pytest.mark.parametrize("mta", MTAS)
def test_the_committed_file_proves_the_rows_this_run_proves(mta, conformance):
    """With the real MTAs (the session's run of tests/conformance): the rows and rules the
    agreeing cases prove now are the ones the committed file names, with the same cells. Which
    case shows a row may differ from run to run (an MTA that shuffles may not meet the refusing
    host first), so only the rows and rules are compared, and only when every case ran."""
    if set(conformance.cases) < {c.id for c in load_cases() if c.applies_to(mta)}:
        pytest.skip("only a full run of the MTA's cases says what it proves")
    results = [result_from_json(r) for r in conformance.results(mta)]
    now = build(results, {mta: "x 1"}, "today")[RUNNERS[mta].PROFILE]
    committed = tested.load()[RUNNERS[mta].PROFILE]
    rows_now = {tested.row_name(k): p.code for k, p in now.rows.items()}
    rows_then = {tested.row_name(k): p.code for k, p in committed.rows.items()}
    assert rows_now == rows_then, "run mxtui conformance --evidence mxtui/policy/tested.json"
    assert set(now.rules) == set(committed.rules)
