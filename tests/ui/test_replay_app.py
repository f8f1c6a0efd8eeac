"""A recording replayed in the app: it opens paused (a presenter presses g), shows the recorded
envelope with its real message size, e does nothing, and the walk comes back as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from ui_support import SIZE, drive, until

from mxtui.cli import main
from mxtui.record import open_recording
from mxtui.ui.explain import ExplainPanel
from mxtui.ui.factory import make_app
from mxtui.ui.screens import EnvelopeScreen
from mxtui.ui.session_pane import SessionPane
from mxtui.ui.walk_panel import WalkStatus


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """`mxtui walk --record`: a walk that ends in well under a second."""
    path = tmp_path / "demo.jsonl"
    assert main(["walk", "--scenario", "unknown-user", "--seed", "1", "--record", str(path)]) == 1
    return path


async def test_a_walk_recorded_headless_replays_paused_with_its_real_size(recorded: Path) -> None:
    path = recorded
    app = make_app(replay=open_recording(path), replay_speed=0)
    async with drive(app, size=SIZE) as pilot:
        await until(pilot, lambda: app.resolved_plan is not None, "the recorded plan")
        await pilot.pause()
        player = app.driver.player
        assert player is not None and player.paused  # the plan is on screen, the walk waits
        assert app.resolved_plan is not None and app.driver.state.attempt < 0
        assert "replay paused" in str(app.query_one("#session-status").render())
        summary = str(app.query_one("#envelope-summary").render())
        assert "message 0 bytes" not in summary and "nobody@users.example.net" in summary
        assert f"message {app.driver.size} bytes" in summary and app.driver.size > 100
        await pilot.press("e")  # a replay's envelope is the recorded one
        assert not isinstance(app.screen, EnvelopeScreen)
        assert "its envelope is the recorded one" in " ".join(n.message for n in app._notifications)
        await pilot.press("n")  # to the first decision
        await until(pilot, lambda: app.driver.state is not None and app.driver.state.steps, "n")
        await pilot.press("g")
        await until(pilot, lambda: app.driver.done, "the end of the replay")
        assert app.driver.state.result.outcome == "bounced"
        assert "replay ended" in app.query_one(WalkStatus).text
        assert app.query_one(ExplainPanel).decision is not None
        assert app.query_one(SessionPane).session is None  # nothing was dialled
