"""Throughput of a 20 MB message, mxtui's session beside swaks, and step latency to a lab host.

    python3 benchmarks/smtp_data.py [--mb 20] [--runs 3] [--no-postfix]

Each server gets the same message file from both clients: a lab host (aiosmtpd, run in a child
process so client and server do not share one interpreter) and, when it can run here, Postfix
(tests/smtp/postfix.py starts it). Times are whole conversations (connect to QUIT), best of
`--runs`; MB/s is the message size over that time. swaks runs with ``--suppress-data`` so it does
not print 20 MB to a pipe (mxtui copies only the first 50 message lines to its transcript).
The step latency is the median over NOOP steps and over every step of short conversations.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "smtp"))

from mxtui.model import Envelope, Stage, Timeouts  # noqa: E402
from mxtui.smtp import LabDialer, RealDialer, Session  # noqa: E402

LAB_SERVER = """
import asyncio, sys
from mxtui.lab.hosts import HostBehaviour, LabSMTP
async def main():
    async with LabSMTP({"bench": HostBehaviour(kind="accept", starttls=False)}) as lab:
        print(lab.endpoints["bench"][1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
asyncio.run(main())
"""
FROM, TO = "bench@example.org", "alice@example.com"
TIMEOUTS = Timeouts(connect=10, reply=120)


def make_message(path: Path, megabytes: int) -> int:
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789\r\n"
    head = f"From: {FROM}\r\nTo: {TO}\r\nSubject: benchmark\r\n\r\n".encode()
    count = megabytes * 1024 * 1024 // len(line)
    path.write_bytes(head + line * count)
    return path.stat().st_size


async def mxtui_run(port: int, message: bytes, lab: bool) -> float:
    env = Envelope(FROM, (TO,), ehlo_name="bench.example.org", message=message)
    if lab:
        dialer = LabDialer({"192.0.2.10": ("127.0.0.1", port)})
        s = Session("192.0.2.10", env, dialer=dialer, tls="none", timeouts=TIMEOUTS)
    else:
        s = Session("127.0.0.1", env, dialer=RealDialer(port), tls="none", timeouts=TIMEOUTS)
    start = time.perf_counter()
    while (r := await s.step(confirm_send=True)) is not None:
        if r.stage is Stage.DOT and (r.reply is None or r.reply.code != 250):
            raise RuntimeError(f"mxtui: message not taken: {r}")
    return time.perf_counter() - start


def swaks_run(port: int, path: Path) -> float:
    cmd = ["swaks", "--server", f"127.0.0.1:{port}", "--from", FROM, "--to", TO,
           "--helo", "bench.example.org", "--data", f"@{path}", "--suppress-data",
           "--timeout", "120"]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or "250 2.0.0" not in done.stdout:
        raise RuntimeError(f"swaks failed: {done.stdout[-500:]}{done.stderr[-500:]}")
    return elapsed


async def latency(port: int) -> tuple[float, float]:
    """Median NOOP step and median step of short conversations (connect to QUIT), in ms."""
    dialer = LabDialer({"192.0.2.10": ("127.0.0.1", port)})
    env = Envelope(FROM, (TO,), ehlo_name="bench.example.org")
    s = Session("192.0.2.10", env, dialer=dialer, tls="none", timeouts=TIMEOUTS)
    await s.connect()
    await s.greeting()
    noops = [(await s.noop()).ms for _ in range(300)]
    await s.quit()
    steps: list[float] = []
    for _ in range(30):
        s = Session("192.0.2.10", env, dialer=dialer, tls="none", timeouts=TIMEOUTS)
        while (r := await s.step()) is not None:
            steps.append(r.ms)
    return statistics.median(noops), statistics.median(steps)


def row(server: str, client: str, size: int, seconds: list[float]) -> str:
    best = min(seconds)
    mb = size / (1024 * 1024)
    return f"| {server:<8} | {client:<6} | {mb:6.1f} | {best:8.3f} | {mb / best:8.1f} |"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-postfix", action="store_true")
    args = ap.parse_args()
    have_swaks = shutil.which("swaks") is not None
    with tempfile.TemporaryDirectory(prefix="mxtui-bench-") as tmp:
        path = Path(tmp) / "message.eml"
        size = make_message(path, args.mb)
        message = path.read_bytes()
        servers: list[tuple[str, int, bool]] = []
        lab = subprocess.Popen([sys.executable, "-c", LAB_SERVER], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, cwd=ROOT)  # fmt: skip
        pf = None
        try:
            assert lab.stdout is not None
            servers.append(("lab", int(lab.stdout.readline()), True))
            if not args.no_postfix:
                import postfix_peer as postfix

                if postfix.available():
                    pf = postfix.Postfix()
                    pf.start()
                    servers.append(("postfix", pf.port, False))
            print("| server   | client |     MB |   best s |     MB/s |")
            print("|----------|--------|--------|----------|----------|")
            for name, port, is_lab in servers:
                ours = [asyncio.run(mxtui_run(port, message, is_lab)) for _ in range(args.runs)]
                print(row(name, "mxtui", size, ours), flush=True)
                if have_swaks:
                    theirs = [swaks_run(port, path) for _ in range(args.runs)]
                    print(row(name, "swaks", size, theirs), flush=True)
            noop, step = asyncio.run(latency(servers[0][1]))
            print()
            print("| lab host step latency (median) |      ms |")
            print("|--------------------------------|---------|")
            print(f"| NOOP, 300 steps                | {noop:7.3f} |")
            print(f"| every step, 30 conversations   | {step:7.3f} |")
        finally:
            if lab.stdin is not None:
                lab.stdin.close()
            lab.wait(timeout=10)
            if pf is not None:
                pf.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
