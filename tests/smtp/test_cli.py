"""`mxtui smtp` headless: the JSON contract, exit statuses, the held dot, masking, bad input."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import pytest

from mxtui.cli import main
from mxtui.lab.hosts import HostBehaviour, LabSMTP
from mxtui.model import Stage


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command in a thread (it runs its own event loop) while the lab serves here."""
    code = await asyncio.to_thread(main, ["smtp", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
async def lab() -> Any:
    hosts = {
        "accept": HostBehaviour(kind="accept", auth=("bob", "pa55word")),
        "users": HostBehaviour(kind="known-users", users=("alice",)),
        "grey": HostBehaviour(kind="greylist"),
        "down": HostBehaviour(kind="refuse"),
    }
    async with LabSMTP(hosts) as running:
        yield {name: f"127.0.0.1:{port}" for name, (_, port) in running.endpoints.items()}


BASE = ("--from", "a@example.org", "--to", "alice@example.com", "--timeout", "3")


async def test_json_contract_keys_and_stage_vocabulary(lab: dict[str, str], capsys) -> None:
    code, out, _ = await cli(capsys, "--server", lab["accept"], *BASE, "--send", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["outcome"] == "ok" and doc["server"] == lab["accept"]
    assert {"server", "transcript", "steps", "outcome"} <= set(doc)
    for line in doc["transcript"]:
        assert {"dir", "text", "t_ms"} <= set(line) and line["dir"] in ("sent", "recv", "info",
                                                                        "tls")  # fmt: skip
    for step in doc["steps"]:
        assert {"stage", "sent", "reply", "ms"} <= set(step)
        assert step["reply"] is None or {"code", "enhanced", "lines"} <= set(step["reply"])
    assert [s["stage"] for s in doc["steps"]] == [
        "connect", "greeting", "ehlo", "mail", "rcpt", "data", "dot", "quit"
    ]  # fmt: skip
    assert doc["steps"][0]["reply"] is None and doc["steps"][1]["reply"]["code"] == 220


async def test_without_send_the_dot_is_held_and_exit_is_5(lab: dict[str, str], capsys) -> None:
    code, out, err = await cli(capsys, "--server", lab["accept"], *BASE)
    assert code == 5 and "--send" in err
    assert "<-  354 " in out and "held:" in out and "<-  250 2.0.0 Ok: queued" not in out


async def test_quit_after_rcpt_stops_and_quits(lab: dict[str, str], capsys) -> None:
    code, out, _ = await cli(capsys, "--server", lab["accept"], *BASE, "--quit-after", "rcpt",
                             "--json")  # fmt: skip
    stages = [s["stage"] for s in json.loads(out)["steps"]]
    assert code == 0 and stages[-2:] == ["rcpt", "quit"] and "data" not in stages


async def test_quit_after_banner_and_tls(lab: dict[str, str], capsys) -> None:
    _, out, _ = await cli(capsys, "--server", lab["accept"], *BASE, "-q", "banner", "--json")
    assert [s["stage"] for s in json.loads(out)["steps"]] == ["connect", "greeting", "quit"]
    _, out, _ = await cli(capsys, "--server", lab["accept"], *BASE, "--tls", "-q", "tls",
                          "--json")  # fmt: skip
    doc = json.loads(out)
    assert [s["stage"] for s in doc["steps"]][-2:] == ["tls", "quit"]
    assert doc["tls"]["subject"].endswith("CN=mx.lab.test")
    assert any(line["dir"] == "tls" for line in doc["transcript"])


async def test_permanent_and_temporary_failures_exit_differently(
    lab: dict[str, str], capsys
) -> None:
    code, out, _ = await cli(capsys, "--server", lab["users"], "--from", "a@x.org",
                             "--to", "bob@example.com", "-q", "rcpt", "--json")  # fmt: skip
    assert code == 1 and json.loads(out)["outcome"] == "permanent"
    code, out, _ = await cli(capsys, "--server", lab["grey"], *BASE, "-q", "rcpt", "--json")
    assert code == 3 and json.loads(out)["outcome"] == "temporary"
    code, out, _ = await cli(capsys, "--server", lab["down"], *BASE, "--json")
    assert code == 4 and json.loads(out)["outcome"] == "refused"


async def test_auth_password_is_in_no_output(lab: dict[str, str], capsys) -> None:
    for fmt in ("--json", "--jsonl", None):
        args = [
            "--server",
            lab["accept"],
            *BASE,
            "-au",
            "bob",
            "-ap",
            "pa55word",
            "-q",
            "auth",
            "--auth-cleartext",
        ]
        code, out, err = await cli(capsys, *args, *([fmt] if fmt else []))
        assert code == 0, out
        assert "pa55word" not in out + err and "cGE1NXdvcmQ" not in out
        assert "AGJvYgBwYTU1d29yZA" not in out and "AUTH PLAIN ****" in out


async def test_data_from_a_file_is_sent(lab: dict[str, str], capsys, tmp_path) -> None:
    msg = tmp_path / "m.eml"
    msg.write_bytes(b"Subject: from a file\r\n\r\nhello\r\n.leading dot\r\n")
    code, out, _ = await cli(capsys, "--server", lab["accept"], *BASE, "--data", f"@{msg}",
                             "--send")  # fmt: skip
    assert code == 0 and " -> Subject: from a file" in out and " -> ..leading dot" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--server", "127.0.0.1:99999", "--to", "a@b"), "port must be"),
        (("--server", "127.0.0.1", "--to", "a@b", "--auth-user", "x"), "AUTH needs a password"),
        (("--server", "127.0.0.1", "--to", "a@b", "--timeout", "0"), "--timeout"),
        (("--server", "127.0.0.1", "--to", "a@b", "--data", "@/nonexistent/x"), "cannot read"),
        (("--server", "127.0.0.1"), "--to"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], message: str, capsys) -> None:
    assert main(["smtp", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_quit_after_rejects_unknown_stage(capsys) -> None:
    assert main(["smtp", "--server", "127.0.0.1", "--to", "a@b", "--quit-after", "lunch"]) == 2
    err = capsys.readouterr().err
    assert "choose one of" in err and len(err.strip().splitlines()) == 1


def test_every_quit_after_point_is_a_set_of_session_stages() -> None:
    from mxtui.commands.smtp import _BEFORE, QUIT_AFTER

    assert set(_BEFORE) == set(QUIT_AFTER)
    assert _BEFORE["dot"] == {
        Stage.CONNECT, Stage.GREETING, Stage.EHLO, Stage.HELO, Stage.STARTTLS, Stage.XCLIENT,
        Stage.AUTH, Stage.MAIL, Stage.RCPT, Stage.DATA, Stage.DOT,
    }  # fmt: skip
    order = [_BEFORE[point] for point in QUIT_AFTER]
    assert all(a <= b for a, b in itertools.pairwise(order))
