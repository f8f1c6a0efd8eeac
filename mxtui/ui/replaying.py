"""Replay a recording in the app: the tree, the transcript, the walk and the explanations come
back at the recorded pace (or faster), through the same handlers a live walk uses.

For demos where the network cannot be trusted: nothing is dialled and no lab is started. The
keys a presenter already knows keep their meaning: g pauses and resumes, n plays up to the next
step and stops, R plays it again from the start, +/- change the speed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.widgets import Input

from mxtui.model import (
    DataProgress,
    Envelope,
    HostResolved,
    MXAnswered,
    PlanResolved,
    StepDone,
    StepResult,
    TranscriptLine,
)
from mxtui.text import printable
from mxtui.ui.explain import ExplainPanel
from mxtui.ui.mx_tree import MXTree
from mxtui.ui.session_pane import SessionPane
from mxtui.ui.walk_state import WalkState

if TYPE_CHECKING:
    from mxtui.record import Player, Recording
    from mxtui.ui.walking import WalkingMixin

    _Base = WalkingMixin
else:
    _Base = object

REPLAY_SPEEDS = (0.5, 1.0, 2.0, 4.0, 10.0, 0.0)
"""Replay speeds, slowest first; 0 means as fast as the screen can take it."""


def speed_words(speed: float) -> str:
    return "full speed" if speed == 0 else f"×{speed:g}"


class ReplayingMixin(_Base):
    """Replay behaviour of `MXTuiApp` (see the module docstring)."""

    def _init_replaying(self, recording: Recording | None, speed: float) -> None:
        self.recording: Recording | None = recording
        self.replaying = recording is not None
        self.replay_speed = speed
        self.player: Player | None = None
        self._replay_stepping = False
        self._replay_done = False

    def start_replay(self) -> None:
        """Play the recording from its start."""
        from mxtui.record import Player

        recording = self.recording
        assert recording is not None
        self.workers.cancel_group(self, "replay")  # type: ignore[arg-type]
        header = recording.header
        domain = str(header.get("domain") or "")
        profile = header.get("profile")
        if isinstance(profile, str):
            try:
                self.query_one(ExplainPanel).set_profile(profile)
            except ValueError:
                self.notify(
                    f"The recording names an unknown profile {printable(profile)!r}.",
                    markup=False,
                )
        self.query_one("#domain", Input).value = domain
        self.query_one(MXTree).begin(printable(domain) or "(recording)")
        pane = self.query_one(SessionPane)
        envelope = header.get("envelope")
        if isinstance(envelope, dict):  # the recorded envelope, for the status line
            recipients = envelope.get("to") or ()
            pane.set_envelope(
                Envelope(
                    mail_from=printable(str(envelope.get("from") or "")),
                    recipients=tuple(printable(str(r)) for r in recipients)
                    if isinstance(recipients, list)
                    else (),
                    ehlo_name=printable(str(envelope.get("ehlo") or "")) or "(not recorded)",
                )
            )
        what = "walk" if header.get("kind") == "walk" else "session"
        pane.begin_external(f"Replay of a recorded {what} · {printable(domain)}")
        self.walk_state = WalkState() if what == "walk" else None
        self.player = Player(recording, speed=self.replay_speed)
        self._replay_stepping = False
        self._replay_done = False
        self._replay_worker(self.player)
        self._show_walk_status()

    def stop_replay(self) -> None:
        self.workers.cancel_group(self, "replay")  # type: ignore[arg-type]
        self.replaying = False
        self.recording = None
        self.player = None
        self.query_one(SessionPane).end_external()

    @work(group="replay", exclusive=True, exit_on_error=False)
    async def _replay_worker(self, player: Player) -> None:
        async for entry in player:
            self._replay_apply(entry.event)
        self._replay_done = True
        self._show_walk_status()
        self.notify("End of the replay: R plays it again.", markup=False)

    def _replay_apply(self, event: Any) -> None:
        tree = self.query_one(MXTree)
        pane = self.query_one(SessionPane)
        step_like = False
        if isinstance(event, MXAnswered | HostResolved | PlanResolved):
            tree.apply(event)
            if isinstance(event, PlanResolved):
                self.resolved_plan = event.plan  # type: ignore[attr-defined]
                self.call_after_refresh(self._show_cursor_detail)  # type: ignore[attr-defined]
        elif isinstance(event, TranscriptLine | DataProgress):
            pane.feed(event)
        elif isinstance(event, StepResult):
            pane.feed(event)
            if self.walk_state is None:  # a session recording: explain each step
                self.query_one(ExplainPanel).show_step(event)
                step_like = True
        else:
            self.show_walk_event(event)
            step_like = isinstance(event, StepDone)
        if step_like and self._replay_stepping and self.player is not None:
            self._replay_stepping = False
            self.player.pause()
            self._show_walk_status()

    # ---- keys ---------------------------------------------------------------------------

    def replay_toggle(self) -> None:
        player = self.player
        if player is None or self._replay_done:
            self.replay_restart()
            return
        if player.paused:
            player.resume()
        else:
            player.pause()
        self._replay_stepping = False
        self._show_walk_status()

    def replay_step(self) -> None:
        """n: play on to the next step, then pause."""
        player = self.player
        if player is None or self._replay_done:
            self.notify("The replay is over: R plays it again.")
            return
        self._replay_stepping = True
        player.resume()

    def replay_restart(self) -> None:
        if self.recording is None:
            return
        self.start_replay()

    def replay_speed_step(self, step: int) -> None:
        speeds = REPLAY_SPEEDS
        i = speeds.index(self.replay_speed) if self.replay_speed in speeds else 1
        self.replay_speed = speeds[min(max(i + step, 0), len(speeds) - 1)]
        if self.player is not None:
            self.player.speed = self.replay_speed
        self.notify(f"Replay speed: {speed_words(self.replay_speed)}.", markup=False)
        self._show_walk_status()

    def replay_mode_words(self) -> tuple[str, str]:
        speed = speed_words(self.replay_speed)
        if self._replay_done:
            return "replay ended", "R play again · b NDR"
        if self.player is not None and self.player.paused:
            return f"replay paused ({speed})", "g play · n next step · R restart · +/- speed"
        return f"replay {speed}", "g pause · n stop at next step · +/- speed"
