"""The replay driver: a recording played back through the same events a live walk emits.

For demos where the network cannot be trusted: nothing is dialled and no lab is started. The
keys a presenter already knows keep their meaning: g plays and pauses, n plays up to the next
step and stops, R plays it again from the start, +/- change the speed. A replay opens paused
(unless told to play), so a walk recorded in a second does not end before anyone can press a key.
The recording is read as it is played (`mxtui.record.open_recording`), never loaded whole.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from mxtui.desk.driver import DriverStatus, Emit, Notice, StatusChanged
from mxtui.desk.walk_state import WalkState
from mxtui.model.dns import PlanResolved
from mxtui.model.smtp import Envelope, StepResult
from mxtui.model.walk import StepDone
from mxtui.record import (
    Entry,
    Player,
    Recording,
    RecordingError,
    RecordingReader,
    envelope_from_header,
)
from mxtui.record.player import Sleep

REPLAY_SPEEDS = (0.5, 1.0, 2.0, 4.0, 10.0, 0.0)
"""Replay speeds, slowest first; 0 means as fast as the screen can take it."""


def speed_words(speed: float) -> str:
    return "full speed" if speed == 0 else f"×{speed:g}"


class ReplayDriver:
    """Plays `source` (a file being read, or a loaded recording) into `emit`."""

    def __init__(
        self,
        source: RecordingReader | Recording,
        emit: Emit,
        *,
        speed: float = 1.0,
        paused: bool = True,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.source = source
        self.header = source.header
        self.emit = emit
        self.speed = speed
        self.start_paused = paused
        self._sleep = sleep
        self.envelope: Envelope | None
        self.envelope, self.size = envelope_from_header(self.header)
        self.walk = self.header.get("kind") == "walk"
        self.state: WalkState | None = None
        self.player: Player | None = None
        self._task: asyncio.Task[None] | None = None
        self._stepping = False
        self._hold = False
        self.done = False

    def _entries(self) -> Iterable[Entry]:
        if isinstance(self.source, Recording):
            return self.source.entries
        return self.source  # read again from the first event

    # ---- keys -----------------------------------------------------------------------------

    def start(self, *, paused: bool) -> None:
        """Play from the first event (held at it when `paused`)."""
        self.stop()
        self.state = WalkState() if self.walk else None
        self.player = Player(self._entries(), speed=self.speed, sleep=self._sleep)
        self._hold = paused  # the plan's lookup plays at once, then the replay waits for g
        self._stepping = False
        self.done = False
        player = self.player

        async def play() -> None:
            try:
                async for entry in player:
                    self._show(entry.event)
            except RecordingError as exc:  # a line further down is broken: say so, stop there
                self.emit(Notice(f"The replay stopped: {exc}", "error"))
            if self.player is player:
                self.done = True
                self.emit(Notice("End of the replay: R plays it again."))
                self.emit(StatusChanged())

        self._task = asyncio.get_running_loop().create_task(play())
        self.emit(StatusChanged())

    def run(self) -> None:
        self.start(paused=False)

    def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    def toggle(self) -> None:
        player = self.player
        if player is None or self.done:
            self.restart()
            return
        if player.paused:
            player.resume()
        else:
            player.pause()
        self._stepping = False
        self.emit(StatusChanged())

    def step(self) -> None:
        """n: play on to the next step, then pause."""
        player = self.player
        if player is None or self.done:
            self.emit(Notice("The replay is over: R plays it again."))
            return
        self._stepping = True
        player.resume()
        self.emit(StatusChanged())

    def restart(self) -> None:
        self.start(paused=False)

    def faster(self) -> None:
        self._change_speed(+1)

    def slower(self) -> None:
        self._change_speed(-1)

    def _change_speed(self, step: int) -> None:
        i = REPLAY_SPEEDS.index(self.speed) if self.speed in REPLAY_SPEEDS else 1
        self.speed = REPLAY_SPEEDS[min(max(i + step, 0), len(REPLAY_SPEEDS) - 1)]
        if self.player is not None:
            self.player.speed = self.speed
        self.emit(Notice(f"Replay speed: {speed_words(self.speed)}."))
        self.emit(StatusChanged())

    # ---- events ---------------------------------------------------------------------------

    def _show(self, event: object) -> None:
        if self.state is not None:
            self.state.apply(event)
        self.emit(event)
        if self._hold and isinstance(event, PlanResolved) and self.player is not None:
            self._hold = False  # the tree is on screen: wait for the presenter
            self.player.pause()
            self.emit(StatusChanged())
        step_like = isinstance(event, StepDone) or (
            self.state is None and isinstance(event, StepResult)
        )
        if step_like and self._stepping and self.player is not None:
            self._stepping = False
            self.player.pause()
            self.emit(StatusChanged())

    def status(self) -> DriverStatus:
        speed = speed_words(self.speed)
        if self.done:
            return DriverStatus("replay ended", "R play again · b NDR", False)
        if self.player is not None and self.player.paused and not self._stepping:
            return DriverStatus(
                f"replay paused ({speed})", "g play · n next step · R restart · +/- speed", True
            )
        return DriverStatus(f"replay {speed}", "g pause · n stop at next step · +/- speed", True)
