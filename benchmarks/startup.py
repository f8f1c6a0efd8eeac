"""What starting mxtui costs a user: `mxtui --help` and `mxtui mx --help` beyond Python's own
start (goal <= 0.25 s each), and the time until the lab demo's MX tree is on screen in a real
terminal (tmux, 120x35; goal <= 1.5 s).

The console script is run directly (the one next to this interpreter), not through a version
manager's shim, so that the number is mxtui's and not the shim's; `python -c pass` is run with the
same interpreter.  The terminal time runs from `tmux new-session` until `tmux capture-pane` shows
the demo's "10 · 2 hosts" line, polled every 20 ms, so it includes tmux's own start and up to one
poll interval.

Run by hand: python benchmarks/startup.py [--runs 15] [--screen-runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL_HELP = 0.25
GOAL_SCREEN = 1.5
SCREEN_TEXT = "10 · 2 hosts"
SESSION = "mxtui-startup-bench"


def console_script() -> str:
    """The installed `mxtui` script for this interpreter (falls back to PATH)."""
    beside = Path(sys.executable).parent / "mxtui"
    if beside.exists():
        return str(beside)
    found = shutil.which("mxtui")
    if found is None:
        sys.exit("startup.py: no `mxtui` script installed (pip install -e .)")
    return found


def median_run(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _tmux(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tmux", *argv], capture_output=True, text=True, check=False)


def time_to_tree(script: str, timeout: float = 30.0) -> float:
    """Seconds from starting the app in a fresh tmux session until the MX tree line shows."""
    _tmux("kill-session", "-t", SESSION)
    started = time.perf_counter()
    _tmux("new-session", "-d", "-s", SESSION, "-x", "120", "-y", "35", script)
    try:
        while time.perf_counter() - started < timeout:
            screen = _tmux("capture-pane", "-p", "-t", SESSION).stdout
            if SCREEN_TEXT in screen:
                return time.perf_counter() - started
            time.sleep(0.02)
        raise SystemExit(f"startup.py: {SCREEN_TEXT!r} not on screen after {timeout} s")
    finally:
        _tmux("kill-session", "-t", SESSION)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per help command")
    parser.add_argument("--screen-runs", type=int, default=5, help="runs of the app in tmux")
    args = parser.parse_args()

    script = console_script()
    python = median_run([sys.executable, "-c", "pass"], args.runs)
    rows = [("python -c pass (baseline)", python, None, None)]
    for label, argv in [("mxtui --help", ["--help"]), ("mxtui mx --help", ["mx", "--help"])]:
        took = median_run([script, *argv], args.runs)
        rows.append((label, took, took - python, GOAL_HELP))
    if shutil.which("tmux"):
        screens = [time_to_tree(script) for _ in range(args.screen_runs)]
        rows.append(
            (
                f"lab demo MX tree on screen (tmux, {args.screen_runs} runs)",
                statistics.median(screens),
                None,
                GOAL_SCREEN,
            )
        )
    else:
        print("tmux not installed: the on-screen row is skipped", file=sys.stderr)

    print(f"{'what':<44} {'median s':>9} {'minus py':>9} {'goal s':>7}  ok")
    for label, took, extra, goal in rows:
        measured = took if extra is None else extra
        extra_text = "" if extra is None else f"{extra:.3f}"
        goal_text = "" if goal is None else f"{goal:.2f}"
        ok = "" if goal is None else ("yes" if measured <= goal else "NO")
        print(f"{label:<44} {took:>9.3f} {extra_text:>9} {goal_text:>7}  {ok}")
    print(f"(help: {args.runs} runs each; script {script}; python {sys.executable})")


if __name__ == "__main__":
    main()
