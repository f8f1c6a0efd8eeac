"""Every command's output on a terminal that is not UTF-8 (issue 11 item 12).

`PYTHONIOENCODING=latin-1 mxtui mx …` ended with a UnicodeEncodeError half way through its
output. Now a character the output cannot carry is written as its ASCII form (`->` for `→`),
or as the `\\uNNNN` escape the printable-text rule uses, and JSON stays valid and exact.
"""

from __future__ import annotations

import json

import hostile_support as hs
import pytest

ENCODINGS = ("latin-1", "ascii", "cp1252")

UNICODE_PEER = {
    "GREETING": "220 peer.hostile.test ESMTP — prêt → ok … 日本 \U0001f4e7",
    "EHLO": "250-peer.hostile.test — bonjour\r\n250 SIZE 1000000",
    "RCPT": "550 5.1.1 « unknown » — ✗",
}


def _commands(server: str, recording: str) -> dict[str, list[str]]:
    base = ["--from", "a@example.org", "--to", "bob@example.com"]
    return {
        "mx": ["mx", "--lab", "example.com"],
        "mx-idn": ["mx", "--lab", "bücher.example"],
        "mx-json": ["mx", "--lab", "bücher.example", "--json"],
        "walk": ["walk", "--lab", "example.com", *base, "--seed", "1"],
        "walk-json": ["walk", "--lab", "example.com", *base, "--seed", "1", "--json"],
        "walk-bounce": ["walk", "--scenario", "unknown-user"],
        "smtp": ["smtp", "--server", server, *base],
        "smtp-json": ["smtp", "--server", server, *base, "--json"],
        "smtp-jsonl": ["smtp", "--server", server, *base, "--jsonl"],
        "explain": ["explain", "--stage", "rcpt", "--reply", "550 5.1.1 — nein ✗"],
        "explain-json": ["explain", "--stage", "rcpt", "--reply", "450 4.2.0 → später", "--json"],
        "probe": ["probe", "--lab", "example.com", "--timeout", "3"],
        "lab-list": ["lab", "--list"],
        "lab-describe": ["lab", "greylist-primary", "--describe"],
        "replay": ["replay", recording, "--print", "--speed", "0"],
        "help": ["--help"],
        "walk-help": ["walk", "--help"],
    }


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("rec") / "walk.jsonl"
    run = hs.run_mxtui(
        "walk", "--lab", "example.com", "--from", "a@example.org", "--to", "bob@example.com",
        "--seed", "1", "--record", str(path), timeout=60,
    )  # fmt: skip
    assert run.returncode in (0, 1, 3, 4), run.describe()
    return str(path)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(
    "name",
    [
        "mx", "mx-idn", "mx-json", "walk", "walk-json", "walk-bounce", "smtp", "smtp-json",
        "smtp-jsonl", "explain", "explain-json", "probe", "lab-list", "lab-describe", "replay",
        "help", "walk-help",
    ],
)  # fmt: skip
def test_every_command_writes_its_output_in_a_narrow_encoding(
    peer, recording, name, encoding
) -> None:
    hs.tried("output encoding", 1)
    p = peer(UNICODE_PEER)
    argv = _commands(p.server, recording)[name]
    run = hs.run_mxtui(*argv, env=hs.child_env({"PYTHONIOENCODING": encoding}), timeout=60)
    assert b"Traceback" not in run.stderr and b"UnicodeEncodeError" not in run.stderr, (
        run.describe()
    )
    assert run.returncode != 120  # 120: Python could not flush its output at exit
    assert run.stdout, run.describe()
    run.stdout.decode(encoding)  # all of it in the encoding asked for
    if encoding == "ascii":
        assert run.stdout.isascii() and run.stderr.isascii()
    if name.endswith("-json"):
        json.loads(run.stdout.decode(encoding))
    if name == "smtp-jsonl":
        lines = [json.loads(line) for line in run.stdout.decode(encoding).splitlines()]
        assert any("prêt" in line["text"] or "pr\\xea" in line["text"] for line in lines)


def test_json_in_a_narrow_encoding_holds_the_same_text(peer) -> None:
    """Escaped, not replaced: the document decodes to exactly what a UTF-8 run prints."""
    hs.tried("output encoding", 1)
    docs = []
    for encoding in ("utf-8", "ascii"):
        run = hs.run_mxtui(
            "mx", "--lab", "bücher.example", "--json",
            env=hs.child_env({"PYTHONIOENCODING": encoding}),
        )  # fmt: skip
        doc = json.loads(run.stdout.decode(encoding))
        docs.append({k: v for k, v in doc.items() if k not in ("elapsed_ms", "nameservers")})
    assert docs[0] == docs[1] and docs[0]["display_domain"] == "bücher.example"
