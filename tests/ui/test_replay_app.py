"""Record a walk in the app, replay it in another app with no lab and no network: the same
tree marks, walk status, transcript and explanations come back."""

from __future__ import annotations

from pathlib import Path

from mxtui.record import load_recording
from mxtui.ui.app import make_app
from mxtui.ui.explain import ExplainPanel
from mxtui.ui.session_pane import SessionPane
from mxtui.ui.transcript import TranscriptView
from tests.ui.test_walk_app import SIZE, ended, resolved, scenario_app, until


async def walk_and_save(pilot, app) -> None:
    """Walk the scenario to its end, then w: the export and the recording land in the cwd."""
    await resolved(pilot, app)
    await pilot.press("g")
    await until(pilot, lambda: ended(app), "the live walk")
    await pilot.press("w")
    await pilot.pause()


async def test_a_recorded_walk_replays_the_same_without_a_lab(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    live = scenario_app("greylist-primary", profile="postfix")
    async with live.run_test(size=SIZE) as pilot:
        await walk_and_save(pilot, live)
        marks = dict(live.walk_state.marks)
        outcome = live.walk_state.result.outcome
        lines = live.query_one(TranscriptView).export_text()
        headline = live.query_one(ExplainPanel).decision.headline
    [saved] = tmp_path.glob("*.mxrec.jsonl")
    recording = load_recording(saved)
    assert recording.kind == "walk" and recording.header["scenario"] == "greylist-primary"

    replay = make_app(replay=recording, replay_speed=0)
    assert replay.lab is None  # nothing is started, nothing is dialled
    async with replay.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: replay._replay_done, "the end of the replay")
        state = replay.walk_state
        assert state.result is not None and state.result.outcome == outcome
        assert state.marks == marks
        assert replay.query_one(TranscriptView).export_text() == lines
        assert replay.query_one(ExplainPanel).decision.headline == headline
        assert "replay ended" in str(replay.query_one("#walk-status").render())
        envelope = replay.query_one(SessionPane).envelope  # the recorded one, not a default
        assert envelope.recipients == ("alice@grey.example.net",)
        assert envelope.mail_from == "trainer@example.org"


async def test_a_replay_pauses_and_steps(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    live = scenario_app("unknown-user")
    async with live.run_test(size=SIZE) as pilot:
        await walk_and_save(pilot, live)
        total = live.walk_state.steps
    [saved] = tmp_path.glob("*.mxrec.jsonl")

    replay = make_app(replay=load_recording(saved), replay_speed=1)  # at the recorded pace
    async with replay.run_test(size=SIZE) as pilot:
        replay.player.pause()
        await pilot.pause(0.1)
        before = replay.walk_state.steps
        await pilot.press("n")  # plays on to the next step, then stops
        await until(pilot, lambda: replay.walk_state.steps == before + 1, "one step")
        await pilot.pause(0.2)
        assert replay.walk_state.steps == before + 1
        assert replay.player.paused
        replay.player.speed = 0
        await pilot.press("g")  # and the rest
        await until(pilot, lambda: replay._replay_done, "the end of the replay")
        assert replay.walk_state.steps == total


def test_a_bad_recording_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    from mxtui.cli import main

    bad = tmp_path / "x.jsonl"
    bad.write_text('{"not": "a recording"}\n')
    assert main(["replay", str(bad)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


async def test_a_recorded_session_replays_its_transcript_and_explanations(
    tmp_path: Path, monkeypatch
) -> None:
    from mxtui.model import Stage
    from tests.ui.test_session_app import connect_to, step_until

    monkeypatch.chdir(tmp_path)
    live = make_app(dns_timeout=1)
    async with live.run_test(size=SIZE) as pilot:
        await resolved(pilot, live)
        await connect_to(live, pilot, "IPv4  192.0.2.10")
        await step_until(live, pilot, Stage.MAIL)
        await pilot.press("w")
        await pilot.pause()
        lines = live.query_one(TranscriptView).export_text()
    [saved] = tmp_path.glob("*.mxrec.jsonl")
    recording = load_recording(saved)
    assert recording.kind == "session"

    replay = make_app(replay=recording, replay_speed=0)
    async with replay.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: replay._replay_done, "the end of the replay")
        assert replay.query_one(TranscriptView).export_text() == lines
        assert replay.query_one(ExplainPanel).decision is not None
        assert replay.walk_state is None
