"""Python's cyclic garbage collector in the running app: its pauses per key and over a long
session, under each collector policy an entry point could choose.

    python benchmarks/gc_pauses.py [--runs 5] [--walks 6] [--policies default,freeze,...]

Each run is a fresh process (the collector's settings and its frozen set are process-wide):
the lab demo starts headless under Textual's Pilot at 130x40; after the first screen, the
journey a person makes: moves in the tree and across panes, a session of their own stepped
with n from the greeting to QUIT, the transcript keys, then `--walks` scenarios opened from the
picker (s, the name, Enter), each walked with g to its end (no pause between steps) and its
bounce preview opened and closed. Only the journey is measured, not the start:

- keys: wall ms from the key's arrival until the app has settled (every widget has handled what
  the key caused and the screen has redrawn), p50 / p95 / max. What runs in the background
  after a key (a reply on its way, a walk, a lab starting) is waited for but not in the key's
  time; its collections are in the counts below.
- the collections of generation 0, 1 and 2 (`gc.callbacks`): how many, total and longest ms,
  and "≥16 ms": collections long enough to cost a frame at 60 Hz;
- CPU s (the process's), peak RSS (`ru_maxrss`) and the RSS at the end (VmRSS).

The policies: `default` (Python's thresholds 700/10/10); `app` (what the app's entry point
does: `mxtui.ui.launch.tune_gc`); `freeze0` (`gc.freeze()` just before the app runs: the
imported modules leave the collector's sight); `freeze1` (`gc.freeze()` once the first screen
is up); `tNk` (`gc.set_threshold(N*1000, 10, 10)` before the app runs); combinations with `+`;
`lru` (Textual's `StylesCache.get_inner_outer` cache cleared after each walk: it pins up to 1024
StylesCache objects of gone widgets, Textual issue #6665). Rows are medians over `--runs`
processes, run in turn so that the machine's load falls on every row.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "ui"))

SIZE = (130, 40)
SCENARIOS = ("greylist-primary", "backup-mx", "mixed-recipients", "busy-primary")
POLICIES = "default,app,freeze0,freeze1,t5k,t10k,t50k,freeze0+t5k,freeze0+t10k,lru"


# ---- the child: one journey under one policy ------------------------------------------------


class Pauses:
    """Every collection's generation and duration, from `gc.callbacks`."""

    def __init__(self) -> None:
        self.done: list[tuple[int, float]] = []
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.done.append((info["generation"], (time.perf_counter() - self._start) * 1000))


def apply_before(policy: str) -> None:
    """The parts of `policy` an entry point applies before the app runs."""
    for part in policy.split("+"):
        if part.startswith("t") and part.endswith("k"):
            gc.set_threshold(int(part[1:-1]) * 1000, 10, 10)
        elif part == "freeze0":
            gc.freeze()
        elif part == "app":
            from mxtui.ui.launch import tune_gc

            tune_gc()


async def journey(policy: str, walks: int) -> dict[str, Any]:
    from textual._styles_cache import StylesCache
    from ui_support import drive  # tests/ui: the SettlingPilot the Pilot tests use

    from mxtui.model import Stage
    from mxtui.ui.factory import make_app
    from mxtui.ui.mx_tree import MXTree
    from mxtui.ui.session_pane import SessionPane
    from mxtui.ui.transcript import TranscriptView
    from mxtui.ui.walk_panel import ScenarioPicker

    apply_before(policy)
    app = make_app(dns_timeout=1)
    latencies: list[float] = []

    async def until(condition: Callable[[], object], what: str, limit: float = 30.0) -> None:
        for _ in range(int(limit / 0.005)):
            if condition():
                await pilot.settle()
                return
            await asyncio.sleep(0.005)
        raise SystemExit(f"gc_pauses.py: timed out waiting for {what}")

    async def press(key: str, then: Callable[[], object] | None = None) -> None:
        """Send `key` as the terminal would; its latency until settled; then wait for `then`."""
        started = time.perf_counter()
        await pilot.press(key)
        latencies.append((time.perf_counter() - started) * 1000)
        if then is not None:
            await until(then, f"the effect of {key}")

    async with drive(app, size=SIZE) as pilot:  # the Pilot tests' SettlingPilot
        await until(lambda: app.resolved_plan is not None, "the MX plan")
        if "freeze1" in policy.split("+"):
            gc.freeze()
        pauses = Pauses()
        gc.callbacks.append(pauses)
        cpu, wall = time.process_time(), time.perf_counter()

        for key in ["down"] * 12 + ["up"] * 6 + ["tab"] * 4 + ["2", "3", "1"]:
            await press(key)

        tree = app.query_one(MXTree)
        tree.focus()
        tree.move_cursor(tree._address_nodes["192.0.2.10"][0])
        pane = app.query_one(SessionPane)
        await press("enter", lambda: pane.session is not None and not pane.busy)
        for _ in range(20):
            steps = pane.session.steps
            if steps and steps[-1].stage is Stage.QUIT:
                break
            count = len(steps)
            await press("n", lambda c=count: not pane.busy and len(pane.session.steps) > c)
        else:
            raise SystemExit("gc_pauses.py: the session never reached QUIT")
        app.query_one(TranscriptView).focus()
        for key in ["home", "pagedown", "pagedown", "end"] + ["up"] * 10 + ["p", "p"]:
            await press(key)

        for n in range(walks):
            name = SCENARIOS[n % len(SCENARIOS)]
            await press("s", lambda: isinstance(app.screen, ScenarioPicker))
            for key in name:
                await press(key)

            def opened(name: str = name) -> bool:
                scenario = app.scenario
                return getattr(scenario, "name", "") == name and app.resolved_plan is not None

            await press("enter", opened)
            app.driver.delay = 0.0  # the walk without pauses between its steps
            await press("g", lambda: app.driver.state is not None and app.driver.state.ended)
            await until(lambda: not app.driver.active, "the walk's end")
            for key in ["b", "escape", "2", "1"]:
                await press(key)
            if "lru" in policy.split("+"):
                StylesCache.get_inner_outer.cache_clear()

        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        gc.callbacks.remove(pauses)

    with open("/proc/self/status", encoding="ascii") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    latencies.sort()
    row: dict[str, Any] = {
        "keys": len(latencies),
        "p50 ms": statistics.median(latencies),
        "p95 ms": latencies[int(0.95 * (len(latencies) - 1))],
        "max ms": latencies[-1],
    }
    for generation in (0, 1, 2):
        took = [ms for g, ms in pauses.done if g == generation]
        row[f"gen{generation} n"] = len(took)
        row[f"gen{generation} ms"] = sum(took)
        row[f"gen{generation} max"] = max(took, default=0.0)
    row["≥16 ms"] = sum(1 for _, ms in pauses.done if ms >= 16)
    row["CPU s"] = cpu
    row["wall s"] = wall
    row["peak MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row["end MB"] = rss / 1024
    return row


# ---- the parent: runs in turn, medians -----------------------------------------------------

COLUMNS = [
    ("p50 ms", 6, 1), ("p95 ms", 6, 1), ("max ms", 6, 0),
    ("gen0 n", 6, 0), ("gen0 ms", 7, 0), ("gen1 n", 6, 0), ("gen1 ms", 7, 0),
    ("gen2 n", 6, 0), ("gen2 ms", 7, 0), ("gen2 max", 8, 1), ("≥16 ms", 6, 0),
    ("CPU s", 6, 2), ("peak MB", 7, 0), ("end MB", 6, 0),
]  # fmt: skip


def one_run(policy: str, walks: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", policy, "--walks", str(walks)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"gc_pauses.py: the {policy} run failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="processes per policy")
    parser.add_argument("--walks", type=int, default=6, help="scenarios walked per run")
    parser.add_argument("--policies", default=POLICIES, help="comma-separated, see above")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(journey(args.child, args.walks))))
        return
    policies = args.policies.split(",")
    load = os.getloadavg()
    rows: dict[str, list[dict[str, Any]]] = {p: [] for p in policies}
    for _ in range(args.runs):
        for policy in policies:
            rows[policy].append(one_run(policy, args.walks))
    print(f"{'policy':<14}" + "".join(f" {name:>{width}}" for name, width, _ in COLUMNS))
    for policy in policies:
        runs = rows[policy]
        cells = [statistics.median(run[name] for run in runs) for name, _, _ in COLUMNS]
        print(
            f"{policy:<14}"
            + "".join(f" {v:>{w}.{d}f}" for v, (_, w, d) in zip(cells, COLUMNS, strict=True))
        )
    keys = rows[policies[0]][0]["keys"]
    print(
        f"(medians of {args.runs} processes each; {keys} keys and {args.walks} walks a run at "
        f"{SIZE[0]}x{SIZE[1]}; Python {sys.version.split()[0]}; "
        f"load average {load[0]:.2f} → {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    main()
