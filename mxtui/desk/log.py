"""What happened on the desk, kept for a recording: the plan's lookup, then a walk or a session.

Every event shown goes through `SessionLog.add`; `w` saves the log as a recording (through
`mxtui.record`'s codec and file format, with the envelope and the message size in the header),
which `mxtui replay` plays back exactly as it was shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from mxtui.desk.choices import Choices
from mxtui.model.dns import HostResolved, MXAnswered, PlanResolved
from mxtui.model.smtp import Envelope
from mxtui.record import Kind, Recorder, envelope_header, registry
from mxtui.smtp.message import default_message

_RESOLVE = (MXAnswered, HostResolved, PlanResolved)


def _recordable(event: object) -> bool:
    """A model event (what a recording can hold), not one of the desk's own."""
    return type(event).__name__ in registry()


class SessionLog:
    """The events of the current walk or session, after the lookup of the plan they used."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._resolve: list[object] = []
        self._events: list[tuple[float, object]] = []
        self.kind: Kind | None = None
        self.domain = ""
        self._t0 = 0.0

    def add(self, event: object) -> None:
        """One event as it is shown. A lookup's events are kept as the plan (a recording begins
        with them); others count only while a walk or a session is being recorded."""
        if not _recordable(event):
            return  # the desk's own notices and status changes are not part of the story
        if isinstance(event, _RESOLVE):
            self._resolve.append(event)
            if isinstance(event, PlanResolved):
                self.domain = event.plan.domain
            return
        if self.kind is not None:
            self._events.append((self._clock() - self._t0, event))

    def new_lookup(self) -> None:
        """A new lookup starts: its events replace the last plan's."""
        self._resolve = []

    def begin(self, kind: Kind) -> None:
        """A new walk or session: the log restarts from the plan's lookup."""
        self.kind = kind
        self._t0 = self._clock()
        self._events = []

    def stop(self) -> None:
        """Nothing is recorded until the next `begin` (a replay is on screen)."""
        self.kind = None
        self._events = []

    @property
    def count(self) -> int:
        """Events recorded after the lookup."""
        return len(self._events)

    def save(
        self,
        base: Path,
        choices: Choices,
        *,
        domain: str = "",
        seed: int | None = None,
        envelope: Envelope | None = None,
    ) -> Path | None:
        """Write the log beside an export (`base`.mxrec.jsonl); None when there is nothing to
        save. The header names the profile, seed, scenario and the envelope (`envelope`: the one a
        walk carried, its message made; else the choices') with its size."""
        if self.kind is None or not self._events:
            return None
        envelope = envelope or choices.envelope
        size = len(envelope.message or default_message(envelope))
        path = base.with_name(base.name + ".mxrec.jsonl")
        with Recorder(
            path,
            kind=self.kind,
            domain=domain or self.domain,
            profile=choices.profile.name,
            seed=seed,
            scenario=choices.scenario,
            lab=choices.lab,
            envelope=envelope_header(envelope, size),
        ) as recorder:
            for event in self._resolve:
                recorder.write(event, t=0.0)
            for t, event in self._events:
                recorder.write(event, t=t)
        return path
