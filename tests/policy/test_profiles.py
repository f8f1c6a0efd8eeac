"""A profile is one object: cells, typed parameters, ordering and move-on rules, retry schedule,
DSN flavour and evidence, in one module per MTA; the engine and the walk never test its name."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

import mxtui
from mxtui.model import (
    Action,
    Address,
    DecisionContext,
    Evidence,
    HostState,
    MXGroup,
    MXHost,
    MXPlan,
    Outcome,
    PlanStatus,
    Proof,
    Reply,
    Stage,
)
from mxtui.policy import PROFILES, ROWS, ProfileError, decide, ndr_preview, retry_timeline
from mxtui.policy.cells import S, c
from mxtui.policy.profiles import base as profile_base
from mxtui.policy.profiles import get_profile, parse_params, resolve_params, with_defaults
from mxtui.policy.profiles.base import (
    DsnFlavour,
    Profile,
    ProfileParams,
    RetrySchedule,
    setting,
    until,
)
from mxtui.policy.rows import SITUATIONS

ROOT = Path(mxtui.__file__).parent


def test_engine_and_walk_code_never_test_a_profile_s_name():
    """The done-when of issue 10: `grep -n 'profile.name ==' mxtui` finds nothing there."""
    walk_code = [ROOT / "policy" / "engine.py", *sorted((ROOT / "policy").glob("*.py"))]
    walk_code += sorted(ROOT.glob("delivery*.py")) + sorted(ROOT.glob("delivery/*.py"))
    pattern = re.compile(r"(profile|prof)\.name\s*(==|!=|in\b)|\.name\s*==\s*\"(postfix|exim)")
    for path in walk_code:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not pattern.search(line), f"{path.name}:{number}: {line.strip()}"


def test_each_profile_lives_in_its_own_module_and_has_every_part():
    modules = {profile.params_type.__module__ for profile in PROFILES.values()}
    assert len(modules) == len(PROFILES)  # one module each
    for name, profile in PROFILES.items():
        assert profile.params_type.__module__.startswith("mxtui.policy.profiles."), name
        assert profile.ordering.rule and profile.moving.rule
        assert profile.ordering.evidence.source and profile.moving.evidence.source
        assert isinstance(profile.retry, RetrySchedule) and profile.retry.reference
        assert isinstance(profile.dsn, DsnFlavour) and profile.dsn.subject_failed
        assert profile.models, f"{name} does not say which version it models"
        assert set(profile.cells) == {s.key for s in SITUATIONS}, name


def test_every_cell_carries_its_evidence_and_a_tested_cell_names_the_program():
    for row in ROWS:
        for name, cell in row.cells.items():
            proof = cell.proof
            assert proof.kind is cell.evidence and proof.source, (row.label, name)
            if proof.kind is Evidence.TESTED:
                assert re.search(r"\d", proof.tested_with), (row.label, name)


def test_a_tested_cell_must_say_what_it_was_tested_with():
    with pytest.raises(ValueError, match="tested with"):
        c("NX", "T", "smtp_connect.c")


def test_a_conformance_result_turns_a_cell_into_a_tested_one_keeping_its_source():
    cell = c("NX", "V", "Postfix smtp_connect.c:42", cases=("a",))
    tested = cell.confirmed("Postfix 3.7.11", ("b", "a"))
    assert tested.evidence is Evidence.TESTED
    assert (tested.source, tested.tested_with, tested.cases) == (
        "Postfix smtp_connect.c:42", "Postfix 3.7.11", ("b", "a")
    )  # fmt: skip
    assert tested.proof.plain() == (
        "tested against Postfix 3.7.11 in 2 cases; read in Postfix smtp_connect.c:42"
    )
    assert tested.proof.cases_text(1) == "b and 1 more"


@pytest.mark.parametrize(
    ("proof", "words"),
    [
        (
            Proof(Evidence.TESTED, "smtp_proto.c:1", "Postfix 3.7.11"),
            "tested against Postfix 3.7.11",
        ),
        (Proof(Evidence.VERIFIED, "smtp_proto.c:1"), "read in smtp_proto.c:1"),
        (Proof(Evidence.RECALLED, "smtp(8)"), "recalled, not checked (smtp(8))"),
        (Proof(Evidence.INFERRED, "RFC 5321 §3.8"), "inferred, not documented (RFC 5321 §3.8)"),
        (Proof(Evidence.UNKNOWN, "nothing"), "no source: the likeliest reading (nothing)"),
    ],
)
def test_evidence_in_plain_words(proof, words):
    assert proof.plain().startswith(words)


def test_a_decision_carries_the_cell_s_proof():
    decision = decide(Stage.CONNECT, Outcome.REFUSED, "postfix")
    key = (S.CONNECT, "fail")
    cell = PROFILES["postfix"].cells[key]
    assert decision.proof == PROFILES["postfix"].proven(key, cell, final=False)
    assert decision.proof.source == cell.source
    data = decision.to_json()
    assert set(data["evidence"]) >= {"kind", "source", "tested_with"}
    assert data["evidence_mark"] == str(decision.evidence)


# ------------------------------------------------------------------ parameters, parsed once


def test_parameters_are_parsed_once_into_a_typed_object():
    params = parse_params("postfix", {"smtp_mx_address_limit": "3", "soft_bounce": "yes"})
    assert params.smtp_mx_address_limit == 3 and params.soft_bounce is True
    assert params["smtp_mx_address_limit"] == 3 and params.get("nosuch") is None
    assert resolve_params("postfix", params) == params.as_dict()
    assert parse_params("postfix", params) is params  # passes through, not parsed again
    assert parse_params("sendmail").get("Timeout.queuereturn") == 5 * 86400


def test_decide_with_parsed_parameters_reads_no_text(monkeypatch):
    params = parse_params("postfix", {"smtp_mx_address_limit": "1"})
    calls = []
    monkeypatch.setattr(profile_base, "parse_value", lambda *a: calls.append(a))
    decision = decide(Stage.MAIL, Reply(451), "postfix", DecisionContext(), params)
    retry_timeline("postfix", params)
    assert decision.action is Action.REQUEUE  # the limit of 1 was applied
    assert calls == []


def test_parameters_of_another_profile_are_refused():
    with pytest.raises(ProfileError, match="another profile"):
        decide(Stage.MAIL, Reply(451), "exim", params=parse_params("postfix"))


# ------------------------------------------------------------------ adding an MTA is one module


@dataclass(frozen=True)
class _ToyParams(ProfileParams):
    lifetime: int = setting(3600, "duration", "toy.conf lifetime", "how long to keep trying")


_NEEDED = {s.key for s in SITUATIONS if s.default is None}


def _toy_profile() -> Profile:
    """What a new MTA module holds: a cell for each situation without a shared default, its
    parameters, schedule and flavour; nothing elsewhere changes."""
    cells = {key: c("RQ", "I", "toy.c") for key in _NEEDED}
    cells[(S.CONNECT, "fail")] = c("NX", "V", "toy.c:10")

    def schedule(p: _ToyParams):
        attempts, give_up = until(lambda t, _k: t + 600, p.lifetime, at_lifetime=True)
        return attempts, give_up, "every 600 s"

    flavour = replace(PROFILES["rfc"].dsn, subject_failed="Toy bounce")
    return Profile("toy", "Toy MTA", "For the test.", "Toy", _ToyParams, cells,
                   RetrySchedule(schedule, None, "toy(8)"), flavour, models="Toy 1.0")  # fmt: skip


def test_a_new_mta_is_one_module_the_engine_walk_and_notices_accept_as_is():
    toy = with_defaults(_toy_profile())
    assert decide(Stage.CONNECT, Outcome.REFUSED, toy).action is Action.NEXT_ADDRESS
    assert decide(Stage.RCPT, Reply(550), toy).action is Action.NDR  # the shared default
    assert decide(Stage.GREETING, Reply(421), toy, DecisionContext()).action is Action.REQUEUE
    assert retry_timeline(toy, {"lifetime": "1h"}).attempts_s == (0, 600, 1200, 1800, 2400, 3000)
    notice = ndr_preview(decide(Stage.RCPT, Reply(550), toy), profile=toy)
    assert notice["Subject"] == "Toy bounce"
    plan = MXPlan("toy.test", PlanStatus.MX, (MXGroup(10, (
        MXHost("mx.toy.test", 10, (Address("192.0.2.1", 4),), state=HostState.RESOLVED),
    )),))  # fmt: skip
    assert [t.address for t in toy.ordering.order(plan, random.Random(1))] == ["192.0.2.1"]


def test_a_profile_missing_a_situation_or_naming_an_unknown_one_fails_at_registration():
    toy = _toy_profile()
    missing = dict(toy.cells)
    missing.pop((S.CONNECT, "fail"))
    with pytest.raises(ValueError, match="lacks a cell"):
        with_defaults(replace(toy, cells=missing))
    with pytest.raises(ValueError, match="unknown rows"):
        with_defaults(replace(toy, cells={**toy.cells, (S.RCPT, "6xx"): c("C", "I", "x")}))


def test_get_profile_names_the_known_ones():
    with pytest.raises(ProfileError, match="postfix"):
        get_profile("smail")
    assert get_profile(PROFILES["qmail"]) is PROFILES["qmail"]
