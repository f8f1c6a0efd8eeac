"""`mxtui mx`: the JSON contract, the text tree, and the exit statuses, over the lab DNS."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mxtui.cli import main
from mxtui.lab.demo import DEMO_FAULTS, DEMO_ZONE
from mxtui.lab.dns_server import LabDNSServer

CONTRACT_KEYS = {"domain", "status", "ttl", "groups", "problems", "queries", "elapsed_ms"}


@pytest.fixture
def lab_server():
    """A lab DNS server running in a thread of its own, so that sync main() can ask it."""
    import asyncio
    import threading

    ready = threading.Event()
    state: dict = {}

    def serve() -> None:
        async def run() -> None:
            async with LabDNSServer(DEMO_ZONE, faults=DEMO_FAULTS) as server:
                state["address"] = server.address
                state["stop"] = asyncio.Event()
                state["loop"] = asyncio.get_running_loop()
                ready.set()
                await state["stop"].wait()

        asyncio.run(run())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    host, port = state["address"]
    yield f"{host}:{port}"
    state["loop"].call_soon_threadsafe(state["stop"].set)
    thread.join(10)


@pytest.mark.parametrize(
    ("domain", "status", "exit_code"),
    [
        ("example.com", "mx", 0),
        ("implicit.example.com", "implicit-mx", 0),
        ("null.example.com", "null-mx", 1),
        ("missing.example.com", "nxdomain", 1),
        ("nowhere.example.com", "no-mail-records", 1),
        ("broken.example.com", "servfail", 3),
        ("silent.example.com", "timeout", 3),
        ("literal.example.com", "mx", 1),
    ],
)
def test_json_contract_and_exit_status_for_every_case(
    lab_server, capsys, domain, status, exit_code
):
    timeout = ["--timeout", "0.5"] if status == "timeout" else []
    code = main(["mx", "--nameserver", lab_server, "--json", *timeout, domain])
    out = json.loads(capsys.readouterr().out)
    assert code == exit_code
    assert out.keys() >= CONTRACT_KEYS
    assert out["status"] == status
    for group in out["groups"]:
        assert {"preference", "hosts"} <= group.keys()
        for host in group["hosts"]:
            assert {"name", "addresses", "problems"} <= host.keys()
            for address in host["addresses"]:
                assert set(address) >= {"address", "family", "ttl"}
                assert address["family"] in (4, 6)


def test_problem_codes_appear_in_json(lab_server, capsys):
    main(["mx", "--nameserver", lab_server, "--json", "cname.example.com"])
    out = json.loads(capsys.readouterr().out)
    host = out["groups"][0]["hosts"][0]
    assert [p["code"] for p in host["problems"]] == ["cname-target"]


def test_text_output_is_an_indented_tree(lab_server, capsys):
    assert main(["mx", "--nameserver", lab_server, "example.com"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("example.com — MX records")
    assert "  10 · 2 hosts · tried in random order" in out
    assert "    mx1.example.com  (1 IPv4, 1 IPv6)" in out
    assert any(line.startswith("      IPv6  2001:db8::10") for line in out)


def test_bad_domain_gives_a_message_and_exit_2_without_traceback(capsys):
    assert main(["mx", "--nameserver", "127.0.0.1:9", "exa mple.com"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mxtui mx: ") and "Traceback" not in err


def test_bad_nameserver_is_a_usage_error_on_one_line(capsys):
    assert main(["mx", "--nameserver", "127.0.0.1:99999", "example.com"]) == 2
    err = capsys.readouterr().err
    assert "port must be a number" in err and len(err.strip().splitlines()) == 1


def test_lab_flag_needs_no_server_and_the_script_runs_as_a_subprocess():
    done = subprocess.run(
        [sys.executable, "-m", "mxtui", "mx", "--lab", "--json", "example.com"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "mx"


def test_help_documents_exit_statuses(capsys):
    with pytest.raises(SystemExit):
        main(["mx", "--help"])
    out = capsys.readouterr().out
    assert "exit status" in out and "SERVFAIL" in out
