"""The replay driver without a terminal: a walk recorded through the session log plays back the
same state, opens paused, steps to the next decision, restarts, and reads the file as it goes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from desk_support import Desk, ended, until

from mxtui.desk.driver import Notice, scheduler_for_asyncio
from mxtui.desk.log import SessionLog
from mxtui.desk.replay import ReplayDriver
from mxtui.model import PlanResolved
from mxtui.record import RecordingReader, open_recording


async def record(name: str, folder: Path) -> tuple[Path, Desk]:
    """Walk scenario `name` to its end, every event through a session log, and save it."""
    async with Desk(name) as desk:
        log = SessionLog()
        desk.driver.emit = lambda event: (log.add(event), desk.events.append(event))
        assert desk.driver.plan is not None
        log.add(PlanResolved(desk.driver.plan))  # the lookup comes first in a recording
        log.begin("walk")
        desk.driver.run()
        await until(lambda: ended(desk.driver), "the live walk")
        walk = desk.driver.walk
        assert walk is not None
        path = log.save(folder / "walk", desk.choices, seed=walk.seed, envelope=walk.envelope)
    assert path is not None
    return path, desk


async def test_a_recorded_walk_replays_to_the_same_state_and_opens_paused(tmp_path) -> None:
    path, live = await record("greylist-primary", tmp_path)
    reader = open_recording(path)
    assert isinstance(reader, RecordingReader) and reader.kind == "walk"
    shown: list[object] = []
    replay = ReplayDriver(reader, shown.append, speed=0)
    assert replay.envelope is not None and replay.envelope.recipients == ("alice@grey.example.net",)
    assert live.driver.walk is not None
    assert replay.size == len(live.driver.walk.envelope.message) > 100  # not "0 bytes"
    replay.start(paused=True)
    await asyncio.sleep(0.1)
    # the recorded MX plan is on screen, nothing of the walk yet: it waits for the presenter
    assert any(isinstance(e, PlanResolved) for e in shown)
    assert replay.state is not None and replay.state.attempt < 0
    assert replay.player is not None and replay.player.paused
    assert replay.status().mode.startswith("replay paused")
    replay.step()  # plays to the first decision, then pauses again
    await until(lambda: replay.state is not None and replay.state.steps == 1, "one step")
    await asyncio.sleep(0.1)
    assert replay.state.steps == 1 and replay.player.paused
    replay.toggle()
    await until(lambda: replay.done, "the end of the replay")
    assert replay.state.result is not None and live.driver.state is not None
    assert replay.state.result.outcome == live.driver.state.result.outcome
    assert replay.state.marks == live.driver.state.marks
    assert any(isinstance(e, Notice) and "End of the replay" in e.text for e in shown)
    assert replay.status().mode == "replay ended"
    replay.restart()  # the file is read again from its first event
    await until(lambda: replay.done and replay.state.result is not None, "the second play")
    assert replay.state.marks == live.driver.state.marks


async def test_a_broken_line_further_down_stops_the_replay_with_a_notice(tmp_path) -> None:
    path, _live = await record("unknown-user", tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(
        "".join(lines[:8]) + '{"t": 1, "event": {"type": "Nope"}}\n' + "".join(lines[8:])
    )
    shown: list[object] = []
    replay = ReplayDriver(open_recording(path), shown.append, speed=0, paused=False)
    replay.start(paused=False)
    await until(lambda: replay.done, "the replay to stop")
    errors = [e for e in shown if isinstance(e, Notice) and e.severity == "error"]
    assert errors and "unknown event type 'Nope'" in errors[0].text


async def test_speed_changes_stay_within_the_replay_speeds(tmp_path) -> None:
    path, _live = await record("unknown-user", tmp_path)
    replay = ReplayDriver(open_recording(path), lambda e: None)
    for _ in range(10):
        replay.faster()
    assert replay.speed == 0.0  # full speed
    for _ in range(10):
        replay.slower()
    assert replay.speed == 0.5


def test_the_schedule_helper_runs_a_callback_on_the_loop() -> None:
    async def go() -> list[str]:
        seen: list[str] = []
        scheduler_for_asyncio()(0.01, lambda: seen.append("ran"))
        cancel = scheduler_for_asyncio()(0.01, lambda: seen.append("cancelled"))
        cancel()
        await asyncio.sleep(0.05)
        return seen

    assert asyncio.run(go()) == ["ran"]
