"""Fixtures for the hostile-input suite: hostile peers, a hostile DNS server, bounded runs.

Each file in this folder attacks one class of input; helpers add their own files and use these
fixtures (or `hostile_support` directly) without touching the others'. After the run the
terminal summary prints how many hostile inputs the suite tried (`hostile_support.tried`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import hostile_support as hs


@pytest.fixture
def peer() -> Iterator[Callable[..., hs.ScriptedPeer]]:
    """``peer(script, **kw)``: a started `ScriptedPeer`, stopped after the test."""
    started: list[hs.ScriptedPeer] = []

    def start(script: dict[str, str] | None = None, **kw: Any) -> hs.ScriptedPeer:
        p = hs.ScriptedPeer(script, **kw).__enter__()
        started.append(p)
        return p

    yield start
    for p in started:
        p.__exit__(None, None, None)


@pytest.fixture
def hostile_dns() -> Iterator[Callable[..., hs.HostileDNS]]:
    """``hostile_dns(handler, **kw)``: a started `HostileDNS`, stopped after the test."""
    started: list[hs.HostileDNS] = []

    def start(handler: hs.DNSHandler, **kw: Any) -> hs.HostileDNS:
        server = hs.HostileDNS(handler, **kw).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)


@pytest.fixture
def mxtui() -> Callable[..., hs.Run]:
    """``mxtui(*args, **kw)``: a bounded run of the real program (see `hs.run_mxtui`)."""
    return hs.run_mxtui


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if hs.TRIED:
        total = sum(hs.TRIED.values())
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(hs.TRIED.items()))
        terminalreporter.write_line(f"hostile inputs tried: {total} ({kinds})")
