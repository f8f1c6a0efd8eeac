"""One runner per real MTA: how to start it in a case's world, send, and read its log.

A runner knows its MTA's name, the walk profile it is compared with, whether it can run here
(`missing`: None, or why not), its version, what to set up once per namespace (`prepare`:
users, loader cache, folders bind-mounted for an unpacked package), and how to make one
delivery (`deliver`). Each module holds one MTA; adding an MTA means adding one module and a
line in `RUNNERS`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from mxtui.conformance.cases import Case
from mxtui.conformance.observe import MtaRun


class Runner(Protocol):
    NAME: str
    PROFILE: str

    def missing(self) -> str | None: ...

    def version(self) -> str: ...

    def prepare(self, folder: Path) -> None: ...

    async def deliver(self, case: Case, sender: str, folder: Path) -> MtaRun: ...

    def expected_seconds(self, case: Case) -> float: ...


def _runners() -> dict[str, Runner]:
    from mxtui.conformance.mtas.exim import Exim
    from mxtui.conformance.mtas.opensmtpd import OpenSMTPD
    from mxtui.conformance.mtas.postfix import Postfix
    from mxtui.conformance.mtas.sendmail import Sendmail

    return {r.NAME: r for r in (Postfix(), Exim(), OpenSMTPD(), Sendmail())}


RUNNERS: dict[str, Runner] = _runners()
MTAS: tuple[str, ...] = tuple(RUNNERS)
