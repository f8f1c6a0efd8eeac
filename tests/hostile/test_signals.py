"""Signals against the real program (issue 11 item 9): a real process, a real pseudo-terminal.

SIGTERM and SIGHUP (an SSH session closing) left the terminal in the alternate screen with mouse
tracking on, and the lab's private keys in `mxtui-lab-tls-*` folders after TERM, HUP and KILL.
Now the app stops as if q was pressed, the lab keys never rest on disk, a folder a killed older
run left is removed by the next one, and Ctrl-C in a headless command says so in one line
(`probe` prints what it found first).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import hostile_support as hs
import pytest

ZONE = [
    "slow.test. 60 IN SOA ns.slow.test. h.slow.test. 1 60 60 60 60",
    "slow.test. 60 IN MX 10 fast.slow.test.",
    "slow.test. 60 IN MX 20 stuck.slow.test.",
    "fast.slow.test. 60 IN A 127.0.0.1",
    "stuck.slow.test. 60 IN A 127.0.0.2",
]


def lab_folders(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.glob("mxtui-lab-tls-*"))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_stop_signal_restores_the_terminal_and_leaves_no_key(tmp_path, sig) -> None:
    hs.tried("signal", 1)
    with hs.Terminal(env=hs.child_env({"TMPDIR": str(tmp_path)})) as term:
        assert term.wait_for(b"example.com", 30), term.output[-1000:]
        time.sleep(1.5)  # the lab is up, its hosts hold their TLS contexts
        assert hs.left_on(term.output, hs.ALT_SCREEN_ON, hs.ALT_SCREEN_OFF)
        term.signal(sig)
        status = term.wait(20)
        out = term.output
        mode = term.mode()
    assert status == 128 + sig, out[-1000:]
    assert not hs.left_on(out, hs.ALT_SCREEN_ON, hs.ALT_SCREEN_OFF)
    assert not hs.left_on(out, hs.MOUSE_ON, hs.MOUSE_OFF)
    assert mode[3] & termios.ICANON and mode[3] & termios.ECHO  # line mode, echo: a shell's
    assert f"stopped by {sig.name}".encode() in out and b"Traceback" not in out
    assert lab_folders(tmp_path) == []


def test_a_hangup_after_the_terminal_is_gone_ends_the_app(tmp_path) -> None:
    """What an SSH disconnect does: the terminal's other end closes, then SIGHUP."""
    hs.tried("signal", 1)
    with hs.Terminal(env=hs.child_env({"TMPDIR": str(tmp_path)})) as term:
        assert term.wait_for(b"example.com", 30)
        time.sleep(1)
        os.close(term.master)
        term.master = os.open(os.devnull, os.O_RDONLY)  # so close() has something to close
        term.signal(signal.SIGHUP)
        status = term.wait(20)
    assert status is not None, "the app kept running with no terminal"
    assert lab_folders(tmp_path) == []


def test_sigkill_leaves_no_key_on_disk(tmp_path) -> None:
    hs.tried("signal", 1)
    with hs.Terminal(env=hs.child_env({"TMPDIR": str(tmp_path)})) as term:
        assert term.wait_for(b"example.com", 30)
        time.sleep(1.5)
        term.signal(signal.SIGKILL)
        assert term.wait(20) == -signal.SIGKILL
    assert lab_folders(tmp_path) == []


def test_key_folders_of_dead_runs_are_removed_at_the_next_start(tmp_path) -> None:
    hs.tried("signal", 1)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    for name in (f"mxtui-lab-tls-{dead.stdout.strip()}-a1b2c3", "mxtui-lab-tls-k3j2x9a1",
                 f"mxtui-lab-tls-{os.getpid()}-alive1"):  # fmt: skip
        (tmp_path / name).mkdir()
        (tmp_path / name / "mx.lab.test.key").write_text("-----BEGIN PRIVATE KEY-----\n")
    run = hs.run_mxtui(
        "walk", "--lab", "example.com", "--to", "bob@example.com", "--seed", "1",
        env=hs.child_env({"TMPDIR": str(tmp_path)}), timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.describe()
    assert lab_folders(tmp_path) == [f"mxtui-lab-tls-{os.getpid()}-alive1"]  # a live run's stays


def test_ctrl_c_in_a_headless_command_is_one_line(peer, hostile_dns) -> None:
    hs.tried("signal", 1)
    stuck = peer({"GREETING": hs.SILENT})
    ns = hostile_dns(hs.static_zone([z.replace("127.0.0.2", "127.0.0.1") for z in ZONE]))
    run = hs.run_mxtui(
        "walk", "slow.test", "--nameserver", ns.nameserver, "--port", str(stuck.port),
        "--to", "u@slow.test", "--timeout", "30", signals=[(2.5, signal.SIGINT)], timeout=40,
    )  # fmt: skip
    assert run.returncode == 130, run.describe()
    assert run.stderr.endswith(b"mxtui walk: interrupted (Ctrl-C)\n"), run.describe()
    assert b"Traceback" not in run.stderr and run.seconds < 15


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_ctrl_c_in_probe_prints_the_results_it_has(peer, hostile_dns, fmt) -> None:
    hs.tried("signal", 1)
    fast = peer()
    peer({"GREETING": hs.SILENT}, host="127.0.0.2", port=fast.port)
    ns = hostile_dns(hs.static_zone(ZONE))
    run = hs.run_mxtui(
        "probe", "slow.test", "--nameserver", ns.nameserver, "--port", str(fast.port),
        "--timeout", "30", *(["--json"] if fmt == "json" else []),
        signals=[(3.0, signal.SIGINT)], timeout=40,
    )  # fmt: skip
    assert run.returncode == 130, run.describe()
    assert b"interrupted (Ctrl-C) after 1 of 2 addresses" in run.stderr, run.describe()
    if fmt == "json":
        doc = json.loads(run.stdout)
        assert doc["interrupted"] is True
        assert [h["address"] for h in doc["hosts"]] == ["127.0.0.1"], doc
    else:
        assert b"127.0.0.1" in run.stdout and b"127.0.0.2" not in run.stdout, run.describe()
