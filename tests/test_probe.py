"""The probe core and `mxtui probe`, against lab hosts of every behaviour (all on loopback)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest

from mxtui.cli import main
from mxtui.dns import resolve_mx
from mxtui.lab.hostile import HostileHost
from mxtui.lab.hosts import HostBehaviour
from mxtui.lab.runtime import Lab
from mxtui.model import Address, HostState, MXGroup, MXHost, MXPlan, PlanStatus, Reply
from mxtui.probe import ProbeResult, probe
from mxtui.smtp.dialer import LabDialer
from mxtui.text import elapsed_text

ZONE = """\
$ORIGIN probe.test.
$TTL 300
@        SOA   ns.probe.test. hostmaster.probe.test. 1 3600 600 86400 300
@        NS    ns.probe.test.
ns       A     192.0.2.53
@        MX    10 good.probe.test.
@        MX    20 bad.probe.test.
good     A     192.0.2.1
good     AAAA  2001:db8::1
bad      A     192.0.2.2
"""

# One lab host per behaviour a probe can meet; the address is the key a test probes.
HOSTS: dict[str, HostBehaviour] = {
    "192.0.2.1": HostBehaviour("accept", hostname="good.probe.test"),
    "2001:db8::1": HostBehaviour("accept", hostname="good.probe.test", starttls=False),
    "192.0.2.2": HostBehaviour("silent", hostname="bad.probe.test"),
    "198.51.100.1": HostBehaviour("refuse"),
    "198.51.100.2": HostBehaviour("greet-421"),
    "198.51.100.3": HostBehaviour("greet-554"),
    "198.51.100.4": HostBehaviour("drop", drop_at="greeting"),
    "198.51.100.5": HostBehaviour("drop", drop_at="ehlo"),
    "198.51.100.6": HostBehaviour("slow", delay_s=0.05),
    "198.51.100.7": HostBehaviour("silent"),
    "198.51.100.8": HostBehaviour("silent"),
    "198.51.100.9": HostBehaviour("silent"),
    "198.51.100.10": HostBehaviour("silent"),
}

SHORT = 0.4  # seconds: the timeout for tests that meet a silent host


@pytest.fixture
async def lab() -> AsyncIterator[Lab]:
    async with Lab(ZONE, domain="probe.test", faults={}, hosts=HOSTS) as running:
        yield running


def plan_of(*addresses: str, host: str = "mx.probe.test") -> MXPlan:
    """A plan with one MX host holding `addresses` (each test names what it probes)."""
    mx = MXHost(
        host,
        10,
        tuple(Address(a, 6 if ":" in a else 4) for a in addresses),
        state=HostState.RESOLVED,
    )
    return MXPlan("probe.test", PlanStatus.MX, (MXGroup(10, (mx,)),))


async def probe_one(lab: Lab, address: str, timeout: float = 5.0) -> ProbeResult:
    report = await probe(plan_of(address), lab.dialer, timeout=timeout)
    (result,) = report.results
    return result


async def test_accepting_host_shows_greeting_extensions_and_certificate(lab: Lab) -> None:
    result = await probe_one(lab, "192.0.2.1")
    assert result.reachable and not result.error
    assert result.greeting is not None and result.greeting.code == 220
    assert "STARTTLS" in result.extensions
    assert any(e.startswith("SIZE ") for e in result.extensions)
    assert result.tls is not None
    assert result.tls.subject.endswith("CN=good.probe.test")  # the lab host's own name
    assert result.tls.hostname == "mx.probe.test"
    assert not result.tls.verified  # self-signed, and it names good.probe.test, not this MX
    assert result.tls.not_after


async def test_certificate_is_checked_against_the_mx_host_name(lab: Lab) -> None:
    plan = plan_of("192.0.2.1", host="good.probe.test")
    (result,) = (await probe(plan, lab.dialer, timeout=5)).results
    assert result.tls is not None
    assert result.tls.subject.endswith("CN=good.probe.test")
    assert result.tls.hostname == "good.probe.test"
    assert "self-signed" in result.tls.verify_error  # names the host, but nobody vouches for it


async def test_probe_never_sends_mail_only_ehlo_starttls_quit(lab: Lab) -> None:
    result = await probe_one(lab, "192.0.2.1")
    assert result.commands == ("EHLO localhost", "STARTTLS", "QUIT")
    assert lab.smtp.hosts["192.0.2.1"].messages == []


async def test_host_without_starttls_has_no_tls(lab: Lab) -> None:
    result = await probe_one(lab, "2001:db8::1")
    assert result.reachable
    assert "STARTTLS" not in result.extensions
    assert result.tls is None
    assert result.commands == ("EHLO localhost", "QUIT")


async def test_refused_connection_is_unreachable_without_greeting(lab: Lab) -> None:
    result = await probe_one(lab, "198.51.100.1")
    assert not result.reachable
    assert result.greeting is None
    assert "refused" in result.error
    assert result.commands == ()


async def test_silent_host_times_out_at_the_greeting(lab: Lab) -> None:
    result = await probe_one(lab, "198.51.100.7", timeout=SHORT)
    assert not result.reachable and result.greeting is None
    assert result.error.startswith("greeting:") and "no reply within" in result.error
    assert result.ms >= SHORT * 1000 * 0.9


async def test_greet_421_is_unreachable_but_its_greeting_is_kept(lab: Lab) -> None:
    result = await probe_one(lab, "198.51.100.2")
    assert not result.reachable
    assert result.greeting is not None and result.greeting.code == 421
    assert "421" in result.error
    assert result.commands == ()  # the server closed: no EHLO, not even QUIT


async def test_greet_554_gets_a_polite_quit(lab: Lab) -> None:
    result = await probe_one(lab, "198.51.100.3")
    assert not result.reachable
    assert result.greeting is not None and result.greeting.code == 554
    assert result.commands == ("QUIT",)


async def test_drop_at_greeting_is_unreachable(lab: Lab) -> None:
    result = await probe_one(lab, "198.51.100.4")
    assert not result.reachable and result.greeting is None
    assert "closed the connection" in result.error


async def test_drop_at_ehlo_is_reachable_with_the_error_said(lab: Lab) -> None:
    result = await probe_one(lab, "198.51.100.5")
    assert result.reachable
    assert result.extensions == ()
    assert result.error.startswith("ehlo:") and "closed the connection" in result.error


async def test_slow_host_within_the_timeout_is_reachable(lab: Lab) -> None:
    result = await probe_one(lab, "198.51.100.6", timeout=5)
    assert result.reachable and result.tls is not None and not result.error
    assert result.ms >= 40  # the greeting waited for the host's delay


async def test_hostile_greeting_reaches_the_result_printable() -> None:
    async with HostileHost("markup") as host:
        dialer = LabDialer({"203.0.113.9": host.address})
        report = await probe(plan_of("203.0.113.9"), dialer, timeout=5)
    (result,) = report.results
    assert result.greeting is not None
    shown = json.dumps(report.to_json(), ensure_ascii=False)
    assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
    assert "\\x1b" in result.greeting.text or "\\x1b" in " ".join(result.extensions)


async def test_results_keep_plan_order_and_each_is_reported_once(lab: Lab) -> None:
    addresses = ("198.51.100.7", "192.0.2.1", "198.51.100.1", "198.51.100.2")
    seen: list[str] = []
    report = await probe(
        plan_of(*addresses), lab.dialer, timeout=SHORT, on_result=lambda r: seen.append(r.address)
    )
    assert tuple(r.address for r in report.results) == addresses
    assert sorted(seen) == sorted(addresses)
    assert seen[-1] == "198.51.100.7"  # the silent one finished last, yet is listed first
    assert report.reachable == 1


async def test_silent_hosts_wait_side_by_side_not_in_series(lab: Lab) -> None:
    silent = ("198.51.100.7", "198.51.100.8", "198.51.100.9", "198.51.100.10")
    timeout = 0.5
    started = time.perf_counter()
    await probe(plan_of(*silent), lab.dialer, timeout=timeout, concurrency=len(silent))
    elapsed = time.perf_counter() - started
    assert elapsed < timeout * len(silent) * 0.75  # in series it would take 2.0 s


async def test_concurrency_bounds_how_many_wait_at_once(lab: Lab) -> None:
    silent = ("198.51.100.7", "198.51.100.8", "198.51.100.9", "198.51.100.10")
    timeout = 0.3
    started = time.perf_counter()
    await probe(plan_of(*silent), lab.dialer, timeout=timeout, concurrency=2)
    assert time.perf_counter() - started >= 2 * timeout * 0.95  # two waves of two


async def test_bad_concurrency_or_timeout_is_refused(lab: Lab) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        await probe(plan_of("192.0.2.1"), lab.dialer, concurrency=0)
    with pytest.raises(ValueError, match="timeout"):
        await probe(plan_of("192.0.2.1"), lab.dialer, timeout=0)


async def test_targets_cover_every_address_of_every_host_in_preference_order(lab: Lab) -> None:
    plan = await resolve_mx("probe.test", nameservers=lab.nameservers, timeout=2)
    targets = plan.targets
    assert [(t.host, t.address, t.preference) for t in targets] == [
        ("good.probe.test", "192.0.2.1", 10),
        ("good.probe.test", "2001:db8::1", 10),
        ("bad.probe.test", "192.0.2.2", 20),
    ]
    report = await probe(plan, lab.dialer, timeout=SHORT)
    assert [r.reachable for r in report.results] == [True, True, False]


# -- the command --------------------------------------------------------------------------------

HOST_KEYS = {"host", "address", "reachable", "greeting", "extensions", "tls", "ms", "error"}


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["probe", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_json_contract_over_the_lab_demo(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "--lab", "--json", "--timeout", "2", "example.com")
    data = json.loads(out)
    assert {"domain", "hosts"} <= set(data)
    assert data["domain"] == "example.com"
    assert len(data["hosts"]) == 5
    for host in data["hosts"]:
        assert set(host) >= HOST_KEYS
        assert isinstance(host["extensions"], list)
        if host["reachable"]:
            assert set(host["greeting"]) == {"code", "enhanced", "text"}
            assert {"subject", "issuer", "not_after", "verified"} <= set(host["tls"])
            assert host["error"] is None
    refused = [h for h in data["hosts"] if h["address"] == "2001:db8::11"]
    assert refused[0]["reachable"] is False and refused[0]["greeting"] is None
    assert status == 1  # some unreachable


def test_exit_0_when_every_address_is_reachable(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "--lab", "--timeout", "2", "cname.example.com")
    assert status == 0
    assert "2 of 2 addresses reachable" in out
    assert "REACHABLE" in out.splitlines()[1]


def test_exit_3_when_no_address_is_reachable(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "--lab", "--timeout", str(SHORT), "implicit.example.com")
    assert status == 3
    assert "0 of 2 addresses reachable" in out
    assert "421" in out and "no reply within" in out


def test_exit_3_and_empty_hosts_when_dns_gives_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(capsys, "--lab", "--json", "null.example.com")
    assert status == 3
    assert json.loads(out)["hosts"] == []
    assert "null-mx" in err


def test_mx_hosts_without_address_are_named_not_hidden(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run_cli(capsys, "--lab", "--json", "--timeout", "2", "noaddr.example.com")
    data = json.loads(out)
    assert data["without_address"] == ["ghost.noaddr.example.com", "empty.noaddr.example.com"]
    assert {h["host"] for h in data["hosts"]} == {"mx1.example.com"}
    assert status == 0  # every address there was answered
    status, out, _ = run_cli(capsys, "--lab", "--timeout", "2", "noaddr.example.com")
    assert "no address to probe: ghost.noaddr.example.com, empty.noaddr.example.com" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--lab", "not a domain!"), "mxtui probe:"),
        (("--lab", "--concurrency", "0", "example.com"), "--concurrency"),
        (("--lab", "--timeout", "0", "example.com"), "--timeout"),
        (("--port", "70000", "example.com"), "--port"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    status, out, err = run_cli(capsys, *argv)
    assert status == 2
    assert out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_probe_is_registered_and_explains_its_exit_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["probe", "--help"])
    out = capsys.readouterr().out
    assert "exit status" in out and "no address is reachable" in out
    assert "--concurrency" in out and "--lab" in out


def test_a_greeting_keeps_its_enhanced_code_in_the_table_the_detail_and_the_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ("--lab", "--timeout", str(SHORT), "implicit.example.com")
    _, out, _ = run_cli(capsys, *argv)
    row = next(line for line in out.splitlines() if "192.0.2.30" in line)
    assert " 421 4.3.2 " in row  # the GREETING column: what went wrong, not only its class
    assert "    greeting: 421 4.3.2 implicit.example.com Service not available" in out
    _, out, _ = run_cli(capsys, "--json", *argv)
    [host] = [h for h in json.loads(out)["hosts"] if h["address"] == "192.0.2.30"]
    assert host["greeting"]["code"] == 421 and host["greeting"]["enhanced"] == "4.3.2"


def test_a_quick_probe_says_how_quick_instead_of_0_0_s(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(capsys, "--lab", "--timeout", "2", "cname.example.com")
    summary = out.splitlines()[-1]
    assert summary.startswith("2 of 2 addresses reachable, probed in ")
    assert "0.0 s" not in summary and summary.endswith(" ms")


def test_elapsed_text_and_a_replys_first_line() -> None:
    assert [elapsed_text(ms) for ms in (0.4, 12.3, 999.4, 1500)] == [
        "under 1 ms", "12 ms", "999 ms", "1.5 s"
    ]  # fmt: skip
    reply = Reply(421, "busy\nsecond line", "4.3.2", ("421-4.3.2 busy", "421 4.3.2 second line"))
    assert reply.first_line() == "421 4.3.2 busy"
    assert Reply(220, "ready").first_line() == "220 ready"
    assert Reply(250).first_line() == "250"
