"""Run one conformance case in a private world: its own network, mount and PID namespaces.

A real MTA resolves through /etc/resolv.conf (port 53 only) and relays to port 25 (OpenSMTPD
cannot be told otherwise), and it treats its own addresses as itself. In a fresh network
namespace all of that is ours: the lab DNS server answers on 127.0.0.53:53, the lab hosts listen
on port 25 of any 127.0.0.0/8 address and of ::1, and nothing another case or the machine does
can collide with it. A private mount namespace lets a file of ours stand in for
/etc/resolv.conf (and /etc/passwd, /etc/ld.so.cache, whole folders) for every process of the
case, while the rest of the machine sees its own. A PID namespace makes clean-up certain: when
the case's first process exits, the kernel ends every daemon the MTA left behind. A UTS namespace
gives the sending host one name in every case.

The namespace's own TCP settings are ours too: `tcp_syn_retries = 1` makes a black-holed
address give up after about 3 s instead of the kernel's 130 s, which changes only how long a
case takes, not what the MTA decides (it sees "connection timed out" either way).

Linux only, and root only (unshare(2) of these namespaces needs CAP_SYS_ADMIN).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1

_libc: ctypes.CDLL | None = None


class IsolationError(RuntimeError):
    """The private world could not be made (not root, no namespaces); the message says why."""


def _lib() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise IsolationError(f"{what}: {os.strerror(code)}")


def unshare(flags: int) -> None:
    _check(_lib().unshare(flags), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int) -> None:
    _check(
        _lib().mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            None,
        ),
        f"mount {source} on {target}",
    )


def bind(source: Path | str, target: str) -> None:
    """Make `target` show `source` (a file over a file, a folder over a folder)."""
    mount(str(source), target, None, MS_BIND | MS_REC)


def loopback_up() -> None:
    """Bring up `lo` in a fresh network namespace: 127.0.0.0/8 and ::1 come with it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        name = b"lo".ljust(16, b"\0")
        flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, name + bytes(24))[:18])[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH", name, flags | IFF_UP) + bytes(22))


def set_sysctl(name: str, value: str) -> None:
    Path("/proc/sys", *name.split(".")).write_text(value)


def available() -> str | None:
    """None when cases can run here, else one line saying why not."""
    if not hasattr(os, "fork") or not Path("/proc/self/ns/net").exists():
        return "needs Linux namespaces (unshare), which this system does not have"
    if os.geteuid() != 0:
        return "needs root: each case runs in its own network and mount namespace"
    if shutil.which("ip") is None:
        return "needs the ip command (Debian package iproute2)"
    return None


CONFIGURED_ADDRESSES = ("127.0.0.2/32", "fd6d:7874:7569::1/128")
"""Put on `lo` only so that "is IPv4 / IPv6 configured?" says yes: a resolver asked with
AI_ADDRCONFIG (OpenSMTPD's asr) ignores 127.0.0.1 and ::1, and with nothing else would look up
no A or AAAA record at all. Nothing listens on or dials these addresses."""


HOSTNAME = "mta.sender.test"
"""The sending MTA's host name in every case (its own UTS namespace): fully qualified and in the
case's DNS, so no MTA waits to learn its own name (Sendmail sleeps a minute when it cannot)."""


def _enter_world() -> None:
    """In the case's first process: private mounts, its own /proc, loopback up, its name."""
    socket.sethostname(HOSTNAME)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("proc", "/proc", "proc", 0)
    loopback_up()
    for address in CONFIGURED_ADDRESSES:
        subprocess.run(["ip", "address", "add", address, "dev", "lo"], check=True,
                       capture_output=True, timeout=10)  # fmt: skip
    set_sysctl("net.ipv4.tcp_syn_retries", "1")


@dataclass
class Job:
    """One case to run isolated: `fn(*args)` returns a JSON-able result, written to `out`."""

    key: str
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    out: Path
    timeout: float


def _run_job(job: Job) -> int:
    """In the forked child: enter new namespaces, run the job in the PID namespace's first
    process, and kill that namespace (every process in it) if it overruns."""
    try:
        unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWUTS)
    except IsolationError as exc:
        job.out.write_text(json.dumps({"error": str(exc)}))
        return 1
    pid = os.fork()
    if pid == 0:  # pid 1 of the case's namespace
        code = 0
        try:
            _enter_world()
            result = job.fn(*job.args)
            job.out.write_text(json.dumps({"result": result}))
        except BaseException as exc:  # reported to the parent, never raised past the fork
            job.out.write_text(
                json.dumps(
                    {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
                )
            )
            code = 1
        os._exit(code)
    fd = os.pidfd_open(pid)
    ready, _, _ = select.select([fd], [], [], job.timeout)
    if not ready:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        job.out.write_text(json.dumps({"error": f"the case took over {job.timeout:g} s"}))
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return 0 if os.waitstatus_to_exitcode(status) == 0 else 1


def run_jobs(
    jobs: Iterable[Job],
    *,
    parallel: int,
    on_done: Callable[[Job, dict[str, Any]], None] | None = None,
    on_start: Callable[[Job], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run every job isolated, `parallel` at a time, in the order given; return each job's
    output ({"result": ...} or {"error": ...}) by key.

    The parent stays single-threaded and forks each job's process itself, so nothing it holds
    (a lock, a thread) can be half-copied into a child.
    """
    pending = list(jobs)
    running: dict[int, Job] = {}
    results: dict[str, dict[str, Any]] = {}
    while pending or running:
        while pending and len(running) < max(parallel, 1):
            job = pending.pop(0)
            job.out.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                job.out.unlink()
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    code = _run_job(job)
                finally:
                    os._exit(code)
            running[pid] = job
            if on_start is not None:
                on_start(job)
        try:
            pid, _status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        job = running.pop(pid, None)  # type: ignore[assignment]
        if job is None:
            continue
        results[job.key] = _read_output(job)
        if on_done is not None:
            on_done(job, results[job.key])
    return results


def _read_output(job: Job) -> dict[str, Any]:
    for _ in range(3):
        try:
            data = json.loads(job.out.read_text())
        except FileNotFoundError:
            return {"error": "the case's process ended without a result"}
        except json.JSONDecodeError:
            time.sleep(0.05)  # written as the process ended: read again
            continue
        return data if isinstance(data, dict) else {"error": "unreadable result"}
    return {"error": "unreadable result"}


__all__ = ["IsolationError", "Job", "available", "bind", "run_jobs"]
