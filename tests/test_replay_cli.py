"""`mxtui walk --record` writes a replayable recording without changing the walk's output, and
`mxtui replay --print` plays it back as text at the asked speed; bad input exits 2 in one line."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mxtui.cli import main
from mxtui.commands import replay
from mxtui.model import Reply, TranscriptLine, WalkEnded, WalkStarted
from mxtui.record import Recorder, load_recording

WALK = ["walk", "example.com", "--lab", "--from", "a@example.org", "--to", "alice@example.com"]
WALK += ["--to", "nobody@example.com", "--seed", "3"]


def _outcome(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("outcome: "))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, int]:
    """One lab walk recorded, with its stdout and status (module-wide: the tests only read it)."""
    path = tmp_path_factory.mktemp("rec") / "walk.jsonl"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main([*WALK, "--record", str(path)])
    return path, out.getvalue(), status


def test_walk_output_is_the_same_with_and_without_record(
    recorded: tuple[Path, str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    _path, out, status = recorded
    assert main(WALK) == status == 4  # partial: alice delivered, nobody bounced
    plain = capsys.readouterr().out

    def stable(text: str) -> list[str]:
        # A refused connection names the lab's loopback port, and the NDR returns the test
        # message's own Date, Subject and Message-Id: all differ from run to run.
        varying = ("Date:", "Subject: test", "Message-Id:")
        return [line for line in text.splitlines()
                if "127.0.0.1" not in line and not line.startswith(varying)]  # fmt: skip

    assert _outcome(plain) == _outcome(out) == "outcome: partial"
    assert stable(plain) == stable(out)


def test_the_recording_holds_resolve_walk_and_session_events(
    recorded: tuple[Path, str, int],
) -> None:
    path, out, _status = recorded
    loaded = load_recording(path)
    header = loaded.header
    assert (header["kind"], header["domain"], header["profile"], header["seed"]) == (
        "walk", "example.com", "postfix", 3,
    )  # fmt: skip
    assert header["envelope"]["to"] == ["alice@example.com", "nobody@example.com"]
    kinds = [type(e.event).__name__ for e in loaded.entries]
    assert kinds[0] == "MXAnswered" and "PlanResolved" in kinds
    assert {"WalkStarted", "AttemptStarted", "StepDone", "RecipientState", "AttemptEnded"} <= set(
        kinds
    )
    assert {"TranscriptLine", "StepResult"} <= set(kinds) and kinds[-1] == "WalkEnded"
    times = [e.t for e in loaded.entries]
    assert times == sorted(times)
    started = next(e.event for e in loaded.entries if isinstance(e.event, WalkStarted))
    assert f"(seed {started.seed})" in out.splitlines()[0]
    ended = loaded.entries[-1].event
    assert isinstance(ended, WalkEnded) and ended.result.outcome == "partial"


def test_replay_print_at_speed_zero_ends_with_the_walk_s_outcome(
    recorded: tuple[Path, str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    path, out, _status = recorded
    assert main(["replay", str(path), "--print", "--speed", "0"]) == 0
    text = capsys.readouterr().out
    assert _outcome(text) == _outcome(out)
    lines = text.splitlines()
    assert lines[0].startswith("replay of a recorded walk: example.com")
    assert "MX plan for example.com: mx" in lines
    rejected = "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown"
    assert f"<~  {rejected}" in lines  # received inside TLS, with swaks's marker
    assert any(line.startswith("decision at rcpt: ndr (") for line in lines)
    assert "recipient alice@example.com: delivered (" in text
    assert "NDR the sender would get:" in text


def test_replay_print_honours_speed(
    recorded: tuple[Path, str, int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, _out, _status = recorded
    recording = load_recording(path)
    slept: dict[float, list[float]] = {}
    for speed in (1.0, 4.0):
        slept[speed] = []

        async def fake(seconds: float, into: list[float] = slept[speed]) -> None:
            into.append(seconds)

        monkeypatch.setattr(replay, "_sleep", fake)
        assert main(["replay", str(path), "--print", "--speed", str(speed)]) == 0
    capsys.readouterr()
    assert slept[1.0] and sum(slept[1.0]) == pytest.approx(recording.duration, abs=1e-6)
    assert slept[4.0] == pytest.approx([s / 4 for s in slept[1.0]])


def test_walk_record_to_an_unwritable_path_exits_2_before_walking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no" / "such" / "dir.jsonl"
    assert main([*WALK, "--record", str(target)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("mxtui walk: cannot write the recording")
    assert captured.err.count("\n") == 1


def test_walk_record_with_a_bad_domain_leaves_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "r.jsonl"
    args = ["walk", "bad..domain", "--lab", "--to", "a@b", "--record", str(target)]
    assert main(args) == 2
    assert not target.exists()
    assert capsys.readouterr().err.startswith("mxtui walk: ")


@pytest.mark.parametrize("print_flag", [["--print"], []])
def test_replay_of_a_bad_file_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], print_flag: list[str]
) -> None:
    missing = tmp_path / "missing.jsonl"
    assert main(["replay", str(missing), *print_flag]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mxtui replay: cannot read") and err.count("\n") == 1
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not a recording\n")
    assert main(["replay", str(junk), *print_flag]) == 2
    err = capsys.readouterr().err
    assert "not an mxtui recording" in err and err.count("\n") == 1


def test_replay_refuses_a_negative_speed(
    recorded: tuple[Path, str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _out, _status = recorded
    for speed in ("-1", "nan", "inf", "fast"):
        assert main(["replay", str(path), "--print", "--speed", speed]) == 2
        err = capsys.readouterr().err
        assert err.startswith("mxtui replay: argument --speed: ") and err.count("\n") == 1


def _hostile_file(path: Path) -> None:
    with Recorder(path, kind="session", domain="evil.example") as rec:
        rec.write(TranscriptLine("recv", "250 ok", 0.0), t=0)
    lines = path.read_text().splitlines()
    event: dict[str, Any] = json.loads(lines[1])
    event["event"]["text"] = "\x1b]0;pwned\x07\x1b[31m[bold]red[/] \u202eevil"
    header = json.loads(lines[0])
    header["domain"] = "evil\x1b[2J.example"
    path.write_text("\n".join(json.dumps(x) for x in (header, event)) + "\n")


def test_replay_print_of_a_hostile_file_writes_no_control_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hostile.jsonl"
    _hostile_file(path)
    assert main(["replay", str(path), "--print", "--speed", "0"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "<-  \\x1b]0;pwned\\x07\\x1b[31m[bold]red[/] \\u202eevil" in out.splitlines()


def test_replay_print_says_when_the_recording_was_cut_short(
    recorded: tuple[Path, str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _out, _status = recorded
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(path.read_bytes()[:-40])
    assert main(["replay", str(cut), "--print", "--speed", "0"]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("mxtui replay: note: line ")
    assert "outcome: " not in captured.out  # the last event (WalkEnded) was the one cut


def test_replay_print_does_not_import_textual(recorded: tuple[Path, str, int]) -> None:
    path, _out, _status = recorded
    code = (
        "import contextlib, io, sys\n"
        "from mxtui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['replay', {str(path)!r}, '--print', '--speed', '0']) == 0\n"
        "print('textual' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_a_reply_in_a_recording_is_decoded_as_a_reply(recorded: tuple[Path, str, int]) -> None:
    path, _out, _status = recorded
    replies = [
        e.event.step.reply
        for e in load_recording(path).entries
        if type(e.event).__name__ == "StepDone" and e.event.step and e.event.step.reply
    ]
    assert replies and all(isinstance(r, Reply) and r.lines for r in replies)
