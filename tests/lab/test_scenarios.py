"""Lab scenarios: every file loads, serves its domain and starts its hosts; the loader's errors
name file and key; `mxtui lab` lists, describes, opens the app and serves a scenario."""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mxtui.cli import main
from mxtui.delivery import Walk, walk
from mxtui.desk.choices import Choices
from mxtui.desk.envelope import LAB_EHLO
from mxtui.dns import resolve_mx
from mxtui.lab.certs import lab_ca
from mxtui.lab.hosts import relay_profiles
from mxtui.lab.runtime import Lab
from mxtui.lab.scenarios import (
    OUTCOMES,
    Scenario,
    list_scenarios,
    load_scenario,
    load_scenario_file,
    parse_scenario,
    scenario_names,
)
from mxtui.model import HopEnded, HopStarted, PlanStatus, StepDone, Timeouts, TranscriptLine
from mxtui.policy import PROFILES
from mxtui.tlspolicy import lookup_tls_policy

NAMES = scenario_names()

REQUIRED_SITUATIONS = {
    "backup-mx",
    "nolisting",
    "greylist-primary",
    "unknown-user",
    "accept-then-bounce",
    "forward-failure",
    "all-down",
    "null-mx",
    "implicit-mx",
    "cname-mx",
    "equal-preference",
    "mixed-recipients",
}

GREETING_BY_KIND = {"greet-421": "421", "greet-554": "554", "greet-521": "521"}


def test_the_issue_s_situations_all_have_a_scenario() -> None:
    assert set(NAMES) >= REQUIRED_SITUATIONS


def test_list_scenarios_loads_every_file_sorted_by_name() -> None:
    scenarios = list_scenarios()
    assert [s.name for s in scenarios] == NAMES
    for s in scenarios:
        assert s.profile in s.expect
        assert set(s.expect) <= set(PROFILES)
        assert set(s.expect.values()) <= set(OUTCOMES)
        assert s.narrative and s.title


def test_every_scenario_greets_as_the_lab_client_not_as_localhost() -> None:
    """A scenario names its sender and recipients; the rest of its envelope is the lab's one
    default (mxtui.desk.envelope), so the app, the walk and a replay all say EHLO
    client.lab.test, never Envelope's bare "localhost"."""
    for s in list_scenarios():
        assert s.envelope.ehlo_name == LAB_EHLO, s.name
    choices = Choices.make(
        "users.example.net", lab=True, envelope=load_scenario("unknown-user").envelope,
        scenario="unknown-user",
    )  # fmt: skip
    assert choices.envelope.ehlo_name == LAB_EHLO
    assert choices.envelope.mail_from == "trainer@example.org"


async def _greeting(address: tuple[str, int]) -> str:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(*address), 5)
    try:
        return (await asyncio.wait_for(reader.readline(), 5)).decode()
    finally:
        writer.close()


@pytest.mark.parametrize("name", NAMES)
async def test_scenario_serves_its_domain_and_starts_its_hosts(name: str) -> None:
    scenario = load_scenario(name)
    lab = scenario.lab()
    assert isinstance(lab, Lab) and lab.domain == scenario.domain
    async with lab:
        plan = await resolve_mx(scenario.domain, nameservers=lab.nameservers, timeout=2)
        assert plan.status == scenario.plan_status
        # Every address the plan dials has a scripted host: no failure in a scenario is accidental.
        dialled = {a.address for h in plan.hosts for a in h.addresses}
        if scenario.plan_status in (PlanStatus.MX, PlanStatus.IMPLICIT_MX):
            assert dialled and dialled <= set(scenario.hosts)
        for address, behaviour in scenario.hosts.items():
            endpoint = lab.smtp.hosts[address].address
            if behaviour.kind == "refuse" or behaviour.up_after_s:  # down (for now)
                with pytest.raises(ConnectionRefusedError):
                    await _greeting(endpoint)
            else:
                line = await _greeting(endpoint)
                assert line.startswith(GREETING_BY_KIND.get(behaviour.kind, "220")), line


async def test_a_scenario_lab_serves_its_own_faults_not_the_demo_s() -> None:
    async with load_scenario("dns-servfail").lab() as lab:
        plan = await resolve_mx("broken.example.net", nameservers=lab.nameservers, timeout=2)
        assert plan.status == PlanStatus.SERVFAIL
    # The demo zone's "broken.example.com" fault must not leak into a scenario without faults.
    async with load_scenario("backup-mx").lab() as lab:
        plan = await resolve_mx("backup.example.net", nameservers=lab.nameservers, timeout=2)
        assert plan.status == PlanStatus.MX
        assert lab.examples == (("backup.example.net", load_scenario("backup-mx").title),)


# --------------------------------------------------------------------------------------------
# Loader errors
# --------------------------------------------------------------------------------------------

GOOD = """\
name = "tiny"
title = "A tiny scenario"
domain = "tiny.example.net"
profile = "postfix"
narrative = "One host accepts."
zone = '''
$ORIGIN tiny.example.net.
@   3600 SOA ns.tiny.example.net. h.tiny.example.net. 1 3600 600 86400 300
@   3600 NS  ns
ns  3600 A   192.0.2.53
@   3600 MX  10 mx
mx  3600 A   192.0.2.10
'''
[hosts."192.0.2.10"]
kind = "accept"
[envelope]
from = "a@example.org"
to = ["b@tiny.example.net"]
[expect]
postfix = "delivered"
"""


def _parse(text: str) -> Scenario:
    return parse_scenario(text, source="tiny.toml")


def test_a_well_formed_file_parses() -> None:
    s = _parse(GOOD)
    assert (s.name, s.domain, s.plan_status) == ("tiny", "tiny.example.net", PlanStatus.MX)
    assert s.envelope.recipients == ("b@tiny.example.net",)
    assert s.hosts["192.0.2.10"].kind == "accept"
    assert s.profiles == ("postfix",)


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        ('title = "A tiny scenario"', 'title = "x"\ncolour = "red"', "colour", "unknown key"),
        ('title = "A tiny scenario"\n', "", "title", "missing"),
        ('name = "tiny"', 'name = "other"', "name", "does not match"),
        ('kind = "accept"', 'kind = "teapot"', "hosts.192.0.2.10", "unknown host kind"),
        ('kind = "accept"', 'kind = "accept"\ncolour = 1', "hosts.192.0.2.10", "colour"),
        (
            'kind = "accept"',
            'kind = "accept"\nrcpt_replies = { bob = "later" }',
            "hosts.192.0.2.10",
            "rcpt_replies: 'bob' must map",
        ),
        (
            'kind = "accept"',
            'kind = "accept"\nup_after_s = "soon"',
            "hosts.192.0.2.10",
            "up_after_s",
        ),
        ('[hosts."192.0.2.10"]', '[hosts."8.8.8.8"]', "hosts.8.8.8.8", "documentation"),
        ("mx  3600 A   192.0.2.10", "mx 3600 A 10.1.2.3", "zone", "10.1.2.3"),
        ("mx  3600 A   192.0.2.10", "mx 3600 A", "zone", "line"),
        ('domain = "tiny.example.net"', 'domain = "other.example"', "domain", "not inside"),
        ('postfix = "delivered"', 'postfix = "sent"', "expect.postfix", "'sent'"),
        ('postfix = "delivered"', 'sendmial = "delivered"', "expect.sendmial", "unknown"),
        ('profile = "postfix"', 'profile = "qmail"', "profile", "no expected outcome"),
        ('to = ["b@tiny.example.net"]', "to = []", "envelope.to", "non-empty"),
        ('narrative = "One host accepts."', 'narrative = " "', "narrative", "sentences"),
        ('profile = "postfix"', 'profile = "postfix"\nplan_status = "mxx"', "plan_status", "mxx"),
        (
            "[envelope]",
            '[faults."mx"]\nservfail = "yes please"\n[envelope]',
            "faults",
            "servfail",
        ),
        ("[envelope]", '[faults."mx"]\nloud = true\n[envelope]', "faults.mx", "loud"),
    ],
)
def test_a_bad_file_names_the_file_and_the_key(old: str, new: str, key: str, words: str) -> None:
    assert old in GOOD
    with pytest.raises(ValueError) as info:
        _parse(GOOD.replace(old, new, 1))
    message = str(info.value)
    assert message.startswith(f"tiny.toml: {key}"), message
    assert words in message
    assert "\n" not in message


def test_invalid_toml_names_the_file() -> None:
    with pytest.raises(ValueError, match=r"^tiny\.toml: not valid TOML"):
        _parse(GOOD + "\nname = ")


def test_an_unknown_scenario_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown scenario 'nope'; choose one of: .*backup-mx"):
        load_scenario("nope")


def test_a_trainer_s_own_file_loads_under_any_name(tmp_path: Path) -> None:
    path = tmp_path / "class-3.toml"
    path.write_text(GOOD)
    assert load_scenario_file(path).name == "tiny"
    with pytest.raises(ValueError, match=r"missing\.toml: cannot read"):
        load_scenario_file(tmp_path / "missing.toml")


# --------------------------------------------------------------------------------------------
# mxtui lab
# --------------------------------------------------------------------------------------------


def test_list_prints_one_scenario_a_line_name_first(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == NAMES
    for line, scenario in zip(lines, list_scenarios(), strict=True):
        assert line.endswith(scenario.title)


def test_describe_shows_envelope_expectations_and_narrative(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["lab", "greylist-primary", "--describe"]) == 0
    out = capsys.readouterr().out
    assert "postfix delivered, qmail deferred" in out
    assert "<alice@grey.example.net>" in out
    assert load_scenario("greylist-primary").narrative in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["lab", "nope"], "unknown scenario 'nope'"),
        (["lab"], "give a scenario NAME"),
        (["lab", "null-mx", "--list"], "--list takes no NAME"),
        (["lab", "/nonexistent/x.toml"], "cannot read"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("mxtui lab: ") and words in err
    assert err.count("\n") == 1


def test_lab_name_opens_the_app_on_the_scenario_s_lab(monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.theme import BUILTIN_THEMES

    import mxtui.ui.launch

    opened: list[Lab] = []
    started_with: list[dict[str, object]] = []

    class FakeApp:
        return_code = None
        available_themes = BUILTIN_THEMES

        def run(self) -> None:
            pass

    def fake_make_app(*, lab: Lab, **options: object) -> FakeApp:
        opened.append(lab)
        started_with.append(options)
        return FakeApp()

    monkeypatch.setattr(mxtui.ui.launch, "make_app", fake_make_app)
    assert main(["lab", "busy-primary"]) == 0
    scenario = load_scenario("busy-primary")
    [lab] = opened
    assert lab.domain == scenario.domain
    assert lab.behaviours == dict(scenario.hosts)
    assert started_with == [
        {
            "envelope": scenario.envelope,
            "profile": scenario.profile,
            "scenario": scenario,
            "timeouts": Timeouts(),
            "dns_timeout": 5.0,
        }
    ]


def test_the_lab_command_does_not_import_textual() -> None:
    code = "import sys, mxtui.commands.lab; assert 'textual' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def _first_line(proc: subprocess.Popen[str], timeout: float = 30) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "mxtui lab --serve printed nothing"
    return proc.stdout.readline()


def _endpoint(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_serve_prints_where_it_listens_then_stops_cleanly(
    stop_signal: signal.Signals,
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mxtui", "lab", "busy-primary", "--serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "0"},
    )
    try:
        ready = json.loads(_first_line(proc))
        assert {"domain", "dns", "hosts"} <= set(ready)  # the contract; added keys are fine
        assert ready["trust_anchors"][0].startswith("busy.example.net. IN DS ")
        assert ready["domain"] == "busy.example.net"
        plan = await resolve_mx(ready["domain"], nameservers=[_endpoint(ready["dns"])], timeout=2)
        assert plan.status == PlanStatus.MX
        assert [h.name for h in plan.hosts] == ["mx1.busy.example.net", "backup.busy.example.net"]
        assert set(ready["hosts"]) == {"198.51.100.40", "198.51.100.41"}
        assert (await _greeting(_endpoint(ready["hosts"]["198.51.100.40"]))).startswith("421")
        assert (await _greeting(_endpoint(ready["hosts"]["198.51.100.41"]))).startswith("220")
        proc.send_signal(stop_signal)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err


# --------------------------------------------------------------------------------------------
# Each scenario under the profiles it names, through the delivery walk
# --------------------------------------------------------------------------------------------

EXPECTED = [(s.name, p, outcome) for s in list_scenarios() for p, outcome in s.expect.items()]


@pytest.mark.parametrize(("name", "profile", "outcome"), EXPECTED)
async def test_the_first_attempt_ends_as_the_scenario_expects(
    name: str, profile: str, outcome: str
) -> None:
    scenario = load_scenario(name)
    async with scenario.lab() as lab:
        plan = await resolve_mx(scenario.domain, nameservers=lab.nameservers, timeout=2)
        # The TLS policy is looked up for every scenario, and each profile runs with the
        # settings the scenario gives it ([params.NAME]), as `mxtui walk --scenario` does.
        policy = await lookup_tls_policy(plan, lab.nameservers, setup=lab.tls_setup, timeout=2)
        result = await walk(
            plan, scenario.envelope, dialer=lab.dialer, profile=profile, seed=1,
            params=scenario.params_for(profile), tls_policy=policy, trust_pem=lab_ca().cert_pem,
        )  # fmt: skip
    assert str(result.outcome) == outcome


async def _walk(name: str, profile: str) -> tuple[Walk, Lab]:
    scenario = load_scenario(name)
    lab = scenario.lab()
    await lab.start()
    plan = await resolve_mx(scenario.domain, nameservers=lab.nameservers, timeout=2)
    w = Walk(plan, scenario.envelope, dialer=lab.dialer, profile=profile, seed=1)
    lab.attach(w.clock)
    return w, lab


async def test_greylist_primary_narrative_qmail_is_delivered_at_its_retry() -> None:
    w, lab = await _walk("greylist-primary", "qmail")
    try:
        assert str((await w.run()).outcome) == "deferred"
        assert str((await w.fast_forward_to_next_retry()).outcome) == "delivered"
    finally:
        await lab.stop()


@pytest.mark.parametrize("profile", ["postfix", "qmail"])
async def test_mixed_recipients_narrative_one_250_one_450_one_550_on_one_host(
    profile: str,
) -> None:
    w, lab = await _walk("mixed-recipients", profile)
    try:
        result = await w.run()
        retried = await w.fast_forward_to_next_retry()
        [host] = lab.smtp.hosts.values()
    finally:
        await lab.stop()
    assert len(result.attempts) == 1  # one host said all three things
    codes = {r.partition("@")[0]: s.reply.code for r, s in result.recipients.items() if s.reply}
    assert codes == {"alice": 250, "bob": 450, "nobody": 550}
    states = {r.partition("@")[0]: str(s.state) for r, s in result.recipients.items()}
    assert states == {"alice": "delivered", "bob": "deferred", "nobody": "bounced"}
    assert list(result.ndrs) == ["nobody@mixed.example.net"]
    # The retry meets the same 450: bob stays queued, alice is not sent again.
    assert str(retried.recipients["bob@mixed.example.net"].state) == "deferred"
    assert [m.recipients for m in host.messages] == [("alice@mixed.example.net",)]


async def test_forward_failure_host_answers_rcpt_as_exim_does() -> None:
    w, lab = await _walk("forward-failure", "exim")
    try:
        result = await w.run()
    finally:
        await lab.stop()
    reply = result.recipients["bob@exim.example.net"].reply
    assert reply is not None and (reply.code, reply.text) == (550, "Unrouteable address")
    assert result.outcome == "bounced" and "550 Unrouteable address" in (result.ndr or "")


async def _backup_walk(profile: str = "postfix") -> tuple[Walk, Lab, list[object], list[object]]:
    scenario = load_scenario("backup-mx")
    lab = scenario.lab()
    await lab.start()
    plan = await resolve_mx(scenario.domain, nameservers=lab.nameservers, timeout=2)
    events: list[object] = []
    lines: list[object] = []
    w = Walk(
        plan, scenario.envelope, dialer=lab.dialer, profile=profile, seed=1,
        relays=relay_profiles(scenario.hosts), on_event=events.append,
        on_session_event=lines.append,
    )  # fmt: skip
    lab.attach(w.clock)
    return w, lab, events, lines


@pytest.mark.parametrize("profile", ["postfix", "qmail", "sendmail"])
async def test_backup_mx_narrative_the_second_hop_is_shown_until_mx1_is_back(
    profile: str,
) -> None:
    w, lab, events, lines = await _backup_walk(profile)
    try:
        first = await w.run()
        results = [first]
        while results[-1].next_retry_any_s is not None and len(results) < 10:
            results.append(await w.fast_forward_to_next_retry())
        mx1 = [lab.smtp.hosts[a] for a in ("198.51.100.10", "2001:db8:51::10")]
        backup = lab.smtp.hosts["198.51.100.20"]
    finally:
        await lab.stop()
    # The sender's walk: delivered to the backup, at once, and that never changes.
    assert [str(r.outcome) for r in results] == ["delivered"] * len(results)
    assert first.attempts[-1].target.address == "198.51.100.20"
    assert len(backup.messages) == 1
    # The backup, as Postfix, tries mx1 only (preference 10 < its own 20) at 0 and 450 s (its
    # queue scan, phase 150 s), while mx1 is down, and delivers at 1050 s, once mx1 is back
    # (from 1000 s).
    starts = [e for e in events if isinstance(e, HopStarted)]
    assert [(e.hop, e.from_host, e.profile, e.clock_s) for e in starts] == [
        (2, "backup.backup.example.net", "postfix", t) for t in (0, 450, 1050)
    ]
    assert all({t.host for t in e.order} == {"mx1.backup.example.net"} for e in starts)
    ends = [e for e in events if isinstance(e, HopEnded)]
    assert [str(e.result.outcome) for e in ends] == ["deferred"] * 2 + ["delivered"]
    hop = results[-1].hops[0]
    assert (hop.hop, hop.relay.address, str(hop.result.outcome)) == (2, "198.51.100.20",
                                                                     "delivered")  # fmt: skip
    assert sum(len(h.messages) for h in mx1) == 1
    [received] = [m for h in mx1 for m in h.messages]
    assert received.helo == "backup.backup.example.net"
    assert received.mail_from == "trainer@example.org"
    assert results[-1].to_json()["hops"][0]["outcome"] == "delivered"
    # The hop's own events are marked as hop 2 and its transcript reached the session sink.
    hop_steps = [e for e in events if isinstance(e, StepDone) and e.hop == 2]
    assert hop_steps and {e.target.host for e in hop_steps if e.target} == {
        "mx1.backup.example.net"
    }
    said = [ln.text for ln in lines if isinstance(ln, TranscriptLine) and ln.dir == "sent"]
    assert any("EHLO backup.backup.example.net" in t for t in said)


async def test_backup_mx_without_relays_keeps_the_message_at_the_backup() -> None:
    scenario = load_scenario("backup-mx")
    async with scenario.lab() as lab:
        plan = await resolve_mx(scenario.domain, nameservers=lab.nameservers, timeout=2)
        w = Walk(plan, scenario.envelope, dialer=lab.dialer, seed=1)
        lab.attach(w.clock)
        result = await w.run()
    assert result.outcome == "delivered" and result.hops == ()
    assert result.next_retry_any_s is None and result.to_json()["hops"] == []
