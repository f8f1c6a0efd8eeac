"""The six scenes of the README's screenshots as snapshots of the screen's text.

Each scene (screenshots/scenes.py) is played and the screen compared, line by line, with
`scenes/NAME.txt`; what changes from run to run (times, dates, loopback ports,
certificate dates) has its digits zeroed first, keeping every column where it was. After a
change meant to show, write the files again with ``MXTUI_SNAPSHOT_UPDATE=1 pytest tests/ui``
and review the diff.
"""

from __future__ import annotations

import io
import os
import re
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console
from ui_support import drive

ROOT = Path(__file__).parents[2]
sys.path.insert(0, str(ROOT / "screenshots"))

from scenes import SCENES, SIZE  # noqa: E402

STORED = Path(__file__).parent / "scenes"
VOLATILE = re.compile(
    r"\+\d+\.\d{3}s"  # transcript time stamps
    r"|\d+(?:\.\d+)? ?ms\b"  # latencies
    r"|probed in \d+\.\d s"
    r"|port \d{4,5}|127\.0\.0\.1[:\]]? ?\d{4,5}|'127\.0\.0\.1', \d+"  # the lab's loopback ports
    r"|\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}:\d{2})?"  # dates (certificates are made today)
    r"|[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2} \d{4}"  # dates as OpenSSL writes them
)


def screen_text(app) -> str:
    """The screen as plain text, as the terminal shows it."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, legacy_windows=False,
        color_system="truecolor", force_terminal=True,
    )  # fmt: skip
    update = app.screen._compositor.render_update(full=True)
    console.print(update)
    return console.export_text(styles=False)


SEPARATOR = re.compile(r"\d+\.\d ms ─+")
"""A step separator: its dashes fill what the latency leaves, so they go with it."""


PROBE_SUMMARY = re.compile(r"slowest \S+ \d+ ms · elapsed (?:\d+\.\d s|\d+ ms|under 1 ms)")
"""Which address answered last, and how long the probe took: a race, not a property."""


LOOKUP_TIME = re.compile(r"queries in \d+ ms to\s*")
"""The detail pane's lookup time: its width moves the padding after it."""


def stable(text: str) -> str:
    text = SEPARATOR.sub("0.0 ms ──", text)
    text = LOOKUP_TIME.sub("queries in 0 ms to ", text)
    text = PROBE_SUMMARY.sub("slowest … · elapsed …", text)
    return VOLATILE.sub(lambda m: re.sub(r"\d", "0", m.group()), text)


@pytest.mark.parametrize("name", list(SCENES))
async def test_scene_looks_as_it_did(name: str) -> None:
    make, play = SCENES[name]
    app = make()
    async with drive(app, size=SIZE) as pilot:
        await play(app, pilot)
        if name == "probe-matrix":  # the latency column sizes itself to the numbers
            screen = app.screen
            screen.results = [r and replace(r, ms=1.0, total_ms=1.0) for r in screen.results]
            screen._rebuild(force=True)
            await pilot.pause()
        text = stable(screen_text(app))
    stored = STORED / f"{name}.txt"
    if os.environ.get("MXTUI_SNAPSHOT_UPDATE") == "1" or not stored.exists():
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_text(text, encoding="utf-8")
        if os.environ.get("MXTUI_SNAPSHOT_UPDATE") != "1":
            pytest.fail(f"no snapshot of {name} yet: written to {stored}, review it")
    lines = [line.rstrip() for line in text.splitlines()]
    assert lines == [line.rstrip() for line in stored.read_text(encoding="utf-8").splitlines()]
