"""Fixtures for the session tests: lab hosts, a session factory, and a real Postfix."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mxtui.lab.hosts import HostBehaviour, LabSMTP

sys.path.insert(0, str(Path(__file__).parent))
import postfix_peer
from smtp_support import SessionFactory


@pytest.fixture
async def lab_hosts() -> AsyncIterator[Callable[..., Any]]:
    """`async with lab_hosts(name=behaviour, ...)` style: returns a started LabSMTP."""
    started: list[LabSMTP] = []

    async def start(**hosts: HostBehaviour) -> LabSMTP:
        lab = LabSMTP(hosts)
        await lab.start()
        started.append(lab)
        return lab

    yield start
    for lab in started:
        await lab.stop()


@pytest.fixture
async def accept_lab() -> AsyncIterator[SessionFactory]:
    lab = LabSMTP({"accept": HostBehaviour(kind="accept")})
    await lab.start()
    yield SessionFactory(lab)
    await lab.stop()


@pytest.fixture(scope="session")
def postfix_available() -> None:
    """Skips the test when Postfix cannot run here, unless MXTUI_REQUIRE_POSTFIX=1."""
    if os.geteuid() != 0 or not postfix_peer.available():
        if os.environ.get("MXTUI_REQUIRE_POSTFIX") == "1":
            pytest.fail("Postfix is required (MXTUI_REQUIRE_POSTFIX=1) but cannot run here")
        pytest.skip("Postfix is not installed (or not running as root)")


@pytest.fixture(scope="session")
def postfix(postfix_available: None) -> Iterator[postfix_peer.Postfix]:
    """A running Postfix; skipped when it is not installed, unless MXTUI_REQUIRE_POSTFIX=1."""
    with postfix_peer.Postfix() as instance:
        yield instance
