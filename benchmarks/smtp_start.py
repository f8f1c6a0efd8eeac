"""Whole-process time of `mxtui smtp` beside swaks, on the same real Postfix, paired runs.

    python3 benchmarks/smtp_start.py [--runs 21] [--mb 20] [--entry script|module]

Each round runs swaks and then mxtui (the order alternates from round to round, so neither
always meets a warm server) on the same message to the same local Postfix (tests/smtp's peer),
timing the whole process from fork to exit: interpreter start, imports, connection, the message
and QUIT. The table gives each client's median and the median of the per-round ratios
mxtui/swaks, for one small message (swaks' default test message, which mxtui sends too) and a
large one (`--mb`, from a file; swaks with ``--suppress-data``, mxtui's transcript keeps only the
first 50 message lines anyway). Goals (issue 14): ≤ 2.0× for the small message, ≤ 0.85× for the
large one. The machine's other load shows in the spread column (interquartile range of the
ratios) and in the load averages printed before and after.

mxtui starts as users start it: the ``mxtui`` console script installed beside the interpreter
(``--entry script``, the default), or ``python -m mxtui`` (``--entry module``, which also imports
runpy).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "smtp"))

from postfix_peer import USER, Postfix, available  # noqa: E402

FROM = "bench@example.org"
GOALS = {"small": 2.0, "large": 0.85}


def make_message(path: Path, megabytes: int) -> None:
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789\r\n"
    head = f"From: {FROM}\r\nTo: {USER}\r\nSubject: benchmark\r\n\r\n".encode()
    path.write_bytes(head + line * (megabytes * 1024 * 1024 // len(line)))


def mxtui_command(entry: str) -> list[str]:
    """How mxtui is started: its console script (as users run it) or ``python -m mxtui``."""
    if entry == "module":
        return [sys.executable, "-m", "mxtui"]
    script = Path(sys.executable).parent / "mxtui"
    if not script.exists():
        found = shutil.which("mxtui")
        if found is None:
            raise SystemExit("no mxtui console script beside this Python; try --entry module")
        script = Path(found)
    return [str(script)]


def commands(port: int, message: Path | None, entry: str) -> dict[str, list[str]]:
    server = f"127.0.0.1:{port}"
    swaks = ["swaks", "--server", server, "--from", FROM, "--to", USER,
             "--helo", "bench.example.org", "--timeout", "120"]  # fmt: skip
    mxtui = [*mxtui_command(entry), "smtp", "--server", server, "--from", FROM,
             "--to", USER, "--ehlo", "bench.example.org", "--timeout", "120", "--send"]  # fmt: skip
    if message is not None:
        swaks += ["--data", f"@{message}", "--suppress-data"]
        mxtui += ["--data", f"@{message}"]
    return {"swaks": swaks, "mxtui": mxtui}


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or "250 2.0.0 Ok: queued" not in done.stdout:
        raise RuntimeError(f"{cmd[0]} failed ({done.returncode}): {done.stdout[-400:]}"
                           f"{done.stderr[-400:]}")  # fmt: skip
    return elapsed


def measure(cmds: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"swaks": [], "mxtui": [], "ratio": []}
    for cmd in cmds.values():  # one warm-up each: page cache, Postfix's first smtpd
        timed(cmd, env)
    for i in range(runs):
        order = ["swaks", "mxtui"] if i % 2 == 0 else ["mxtui", "swaks"]
        got = {name: timed(cmds[name], env) for name in order}
        out["swaks"].append(got["swaks"])
        out["mxtui"].append(got["mxtui"])
        out["ratio"].append(got["mxtui"] / got["swaks"])
    return out


def iqr(values: list[float]) -> float:
    q = statistics.quantiles(values, n=4)
    return q[2] - q[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--mb", type=int, default=20)
    ap.add_argument("--entry", choices=("script", "module"), default="script")
    args = ap.parse_args()
    if shutil.which("swaks") is None or not available() or os.geteuid() != 0:
        print("needs swaks, Postfix and root (to run Postfix)", file=sys.stderr)
        return 2
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="0")
    print(f"mxtui: {' '.join(mxtui_command(args.entry))}; load average before: {_load()}")
    print(f"| message | {'swaks s':>9} | {'mxtui s':>9} | {'ratio':>6} | {'spread':>6} | goal   |")
    print("|---------|-----------|-----------|--------|--------|--------|")
    with tempfile.TemporaryDirectory() as tmp, Postfix() as pf:
        big = Path(tmp) / "big.eml"
        make_message(big, args.mb)
        for label, message in (("small", None), ("large", big)):
            got = measure(commands(pf.port, message, args.entry), args.runs, env)
            ratio = statistics.median(got["ratio"])
            goal = GOALS[label]
            verdict = "met" if ratio <= goal else "missed"
            print(f"| {label + (f' {args.mb}MB' if message else ''):<7} "
                  f"| {statistics.median(got['swaks']):9.3f} "
                  f"| {statistics.median(got['mxtui']):9.3f} | {ratio:5.2f}x "
                  f"| {iqr(got['ratio']):6.2f} | ≤{goal:.2f} {verdict} |", flush=True)  # fmt: skip
    print(f"load average after: {_load()}")
    return 0


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
