"""What one start of the app costs in-process, as every Pilot test pays it: from `make_app` until
the MX tree of the lab demo (or a scenario) is on screen, the screen idle, and the app closed.

    python benchmarks/app_start.py [--runs 15] [--size 130x40]

The app runs headless under Textual's Pilot (as in tests/ui), so the numbers leave out the
interpreter's start and the imports (benchmarks/startup.py measures those, in a real
terminal). CPU time is the process's (`time.process_time`), which other load on the machine
moves much less than the wall time; both are medians over `--runs` starts after one warm-up.
A focus change (the footer's rebuild) and a pane switch (the layout's restyle) are timed too.
The load average is printed with the table: the machine's other work shows in the wall column.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

from mxtui.lab.scenarios import load_scenario
from mxtui.ui.factory import make_app
from mxtui.ui.mx_tree import MXTree


async def until(pilot, condition, limit: float = 15.0) -> None:
    for _ in range(int(limit / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise SystemExit("app_start.py: the MX tree never showed")


async def one_start(scenario: str | None, size: tuple[int, int]) -> dict[str, float]:
    """Seconds (wall and CPU) to start, to move the focus and to switch panes, once."""
    wall, cpu = time.perf_counter(), time.process_time()
    if scenario is None:
        app = make_app(dns_timeout=1)
    else:
        found = load_scenario(scenario)
        app = make_app(scenario=found, profile=found.profile)
    took: dict[str, float] = {}
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.resolved_plan is not None)
        await pilot.pause()
        took["start wall"] = time.perf_counter() - wall
        took["start cpu"] = time.process_time() - cpu
        cpu = time.process_time()
        for _ in range(4):
            await pilot.press("tab")
        took["4 focus changes cpu"] = time.process_time() - cpu
        cpu = time.process_time()
        for pane in ("session", "explain", "mx"):
            app.action_show_pane(pane)
            await pilot.pause()
        took["3 pane switches cpu"] = time.process_time() - cpu
        assert app.query_one(MXTree).root.children, "the tree is empty"
    return took


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="starts per row (after a warm-up)")
    parser.add_argument("--size", default="130x40", help="terminal size, WIDTHxHEIGHT")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    load = os.getloadavg()
    print(f"{'app':<24} {'what':<22} {'median s':>9} {'min s':>7}")
    for label, scenario in [("lab demo", None), ("greylist-primary", "greylist-primary")]:
        await one_start(scenario, (width, height))
        runs = [await one_start(scenario, (width, height)) for _ in range(args.runs)]
        for what in runs[0]:
            values = [run[what] for run in runs]
            print(f"{label:<24} {what:<22} {statistics.median(values):>9.3f} {min(values):>7.3f}")
    after = os.getloadavg()[0]
    print(f"({args.runs} runs each at {width}x{height}; load average {load[0]:.2f} → {after:.2f})")


if __name__ == "__main__":
    asyncio.run(main())
