"""Hostile peers, a hostile DNS server, bounded runs of the real program, and a pseudo-terminal.

Shared by every file in `tests/hostile/` (and free for other helpers' files there): import it as
``import hostile_support`` (the folder's conftest puts it on the path) or use the fixtures in
`conftest.py`.

Everything here is bounded, so a regression in mxtui shows up as a failed test, never as a
machine that runs out of memory or a suite that hangs:

* `run_mxtui` runs ``python -m mxtui ARGS`` in a child process with an address-space limit
  (``resource.setrlimit(RLIMIT_AS)``), a file-size limit on its output (``RLIMIT_FSIZE``: its
  stdout and stderr go to files, so a runaway printer is killed by SIGXFSZ rather than filling
  this process's memory through a pipe), a CPU-time limit and a wall-clock timeout; it reports
  the child's peak RSS from ``wait4``.
* `ScriptedPeer` is an SMTP server in a thread that answers from a script (per verb), can close
  or reset at any point (even in the middle of the message), and ends each connection after a
  time limit and a command budget.
* `HostileDNS` is a UDP and TCP DNS server in a thread that answers through a handler function
  (or not at all), counting what it was asked.
* `Terminal` runs the program under a real pseudo-terminal, so signals and the terminal's state
  after them can be checked as a person's terminal would see them.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import pty
import re
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

# -- what the suite tries -----------------------------------------------------------------------

TRIED: Counter[str] = Counter()
"""Hostile inputs tried, by class; the folder's conftest prints the total after the run."""


def tried(kind: str, n: int = 1) -> None:
    """Count `n` hostile inputs of class `kind` (call once per input a test throws at mxtui)."""
    TRIED[kind] += n


CONTROL_PAYLOADS: tuple[str, ...] = (
    "\t",
    "\r",
    "\n",
    "\r\n",
    "\x00",
    "\x07",
    "\x08",
    "\x1b",
    "\x1b[31m",
    "\x1b]0;PWNED\x07",
    "\x1b[?1049h",
    "\x7f",
    "\x85",
    "\x9b",
)
"""Characters and sequences no SMTP command line, file-sourced label or output line may carry
raw: C0 controls, CR/LF (command injection), ESC sequences (recolour, retitle, switch screens),
DEL and C1 controls (0x9B is a one-byte CSI on some terminals)."""

MARKUP_PAYLOADS: tuple[str, ...] = ("[/]", "[/", "[bold red]x", "[@click=app.quit]x[/]", "[link=x]")
"""Text a markup parser would act on (or crash on): it must show as itself."""

BIDI_PAYLOADS: tuple[str, ...] = ("\u202e", "\u2066", "\u200b", "\u2028")
"""Format and separator characters that reorder or hide text."""

ESCAPE_BYTES = re.compile(rb"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]")
"""Bytes that must never appear in what mxtui prints from untrusted text (TAB, LF, CR allowed)."""


def raw_controls(data: bytes) -> list[bytes]:
    """The control bytes (C0 but TAB/LF/CR, DEL, UTF-8 C1) found in `data`."""
    return ESCAPE_BYTES.findall(data)


# -- bounded runs of the program ----------------------------------------------------------------

MIB = 1024 * 1024
DEFAULT_MEMORY_MB = 1536
"""Address-space cap for a child: far above what mxtui needs (about 250 MB of mappings for a
headless command), far below what a runaway could take from the machine."""
DEFAULT_OUTPUT_MB = 16


@dataclass
class Run:
    """What one bounded run did."""

    argv: list[str]
    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float
    max_rss_mb: float
    timed_out: bool

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    def describe(self) -> str:
        return (
            f"{[a[:200] for a in self.argv[1:]]} -> {self.returncode} in {self.seconds:.1f}s, "
            f"{self.max_rss_mb:.0f} MB{' (timed out)' if self.timed_out else ''}\n"
            f"stdout: {self.stdout[:800]!r}\nstderr: {self.stderr[:800]!r}"
        )


def _limits(memory_mb: int, output_mb: int, cpu_s: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * MIB, memory_mb * MIB))
        resource.setrlimit(resource.RLIMIT_FSIZE, (output_mb * MIB, output_mb * MIB))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
        os.setsid()  # its own process group, so a timeout kills anything it started

    return apply


def child_env(
    extra: Mapping[str, str] | None = None, *, home: Path | None = None
) -> dict[str, str]:
    """The environment for a child: no settings file of the machine's, UTF-8 unless changed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MXTUI_", "PYTHON"))}
    env["PYTHONIOENCODING"] = "utf-8"
    env["MXTUI_CONFIG"] = os.devnull
    env.setdefault("TERM", "xterm-256color")
    if home is not None:
        env["HOME"] = str(home)
        env["XDG_CONFIG_HOME"] = str(home / ".config")
    env.update(extra or {})
    return env


def run_mxtui(*args: str, **kw: Any) -> Run:
    """Run ``python -m mxtui ARGS`` bounded in memory, output, CPU and wall-clock time."""
    return run_bounded([sys.executable, "-m", "mxtui", *args], **kw)


def run_bounded(
    argv: list[str],
    *,
    timeout: float = 30.0,
    memory_mb: int = DEFAULT_MEMORY_MB,
    output_mb: int = DEFAULT_OUTPUT_MB,
    env: Mapping[str, str] | None = None,
    stdin: bytes = b"",
    cwd: str | Path | None = None,
    signals: Sequence[tuple[float, int]] = (),
) -> Run:
    """Run `argv` with an address-space, output-size and CPU limit and a wall-clock timeout;
    `signals` are sent at their times (seconds from the start) while it runs."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryFile() as inp,
    ):
        inp.write(stdin)
        inp.seek(0)
        start = time.monotonic()
        proc = subprocess.Popen(
            argv,
            stdin=inp,
            stdout=out,
            stderr=err,
            env=dict(env) if env is not None else child_env(),
            cwd=cwd,
            preexec_fn=_limits(memory_mb, output_mb, int(timeout) + 5),
        )
        timed_out = False
        for after, sig in signals:  # (seconds after the start, signal) in order
            status, usage = _wait4(proc.pid, max(0.0, start + after - time.monotonic()))
            if status is not None:
                break
            os.kill(proc.pid, sig)
        else:
            status, usage = _wait4(proc.pid, max(0.0, start + timeout - time.monotonic()))
        if status is None:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            status, usage = _wait4(proc.pid, 10.0)
        proc.returncode = _returncode(status)
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        return Run(
            argv,
            proc.returncode,
            out.read(4 * MIB),
            err.read(4 * MIB),
            seconds,
            usage.ru_maxrss / 1024 if usage is not None else 0.0,
            timed_out,
        )


def _wait4(pid: int, timeout: float) -> tuple[int | None, Any]:
    deadline = time.monotonic() + timeout
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage
        if time.monotonic() > deadline:
            return None, None
        time.sleep(0.02)


def _returncode(status: int | None) -> int:
    if status is None:
        return -signal.SIGKILL
    return os.waitstatus_to_exitcode(status)


# -- an SMTP peer from a script ------------------------------------------------------------------

CLOSE = "<close>"
"""Script action: close the connection (FIN) instead of answering."""
RESET = "<reset>"
"""Script action: reset the connection (RST) instead of answering."""
SILENT = "<silent>"
"""Script action: answer nothing, keep reading until the client leaves or time runs out."""

DEFAULT_SCRIPT: dict[str, str] = {
    "GREETING": "220 peer.hostile.test ESMTP",
    "EHLO": "250-peer.hostile.test\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n250 STARTTLS",
    "HELO": "250 peer.hostile.test",
    "STARTTLS": "454 4.7.0 TLS not available",
    "MAIL": "250 2.1.0 Ok",
    "RCPT": "250 2.1.5 Ok",
    "DATA": "354 End data with <CR><LF>.<CR><LF>",
    "DOT": "250 2.0.0 Ok: queued",
    "QUIT": "221 2.0.0 Bye",
    "RSET": "250 2.0.0 Ok",
    "NOOP": "250 2.0.0 Ok",
    "*": "502 5.5.2 Command not recognized",
}
"""A plain MTA. A script given to `ScriptedPeer` overrides these per verb; the value is the reply
text (lines joined by CRLF) or one of CLOSE, RESET, SILENT."""


@dataclass
class PeerLog:
    """What a `ScriptedPeer` saw: connections, command lines, message bytes."""

    connections: int = 0
    commands: list[bytes] = field(default_factory=list)
    message_bytes: int = 0
    dots: int = 0


class ScriptedPeer:
    """An SMTP server in a thread, on a loopback port, answering from a script.

    Bounds: each connection ends after `max_seconds` or `max_commands`, a message is read up to
    `max_message` bytes, and the listener stops with the context manager.

    ``close_in_data=N`` closes the connection once N bytes of the message have arrived (N=0:
    right after the 354, before the client writes anything), the dot never answered;
    ``reply_in_data`` is a reply sent just before that close (a ``421`` in the middle of the
    message, as a server shutting down sends it).
    """

    def __init__(
        self,
        script: Mapping[str, str] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        close_in_data: int | None = None,
        reply_in_data: str = "",
        max_seconds: float = 20.0,
        max_commands: int = 200,
        max_message: int = 8 * MIB,
    ) -> None:
        self.script = {**DEFAULT_SCRIPT, **(script or {})}
        self.host = host
        self.close_in_data = close_in_data
        self.reply_in_data = reply_in_data
        self.max_seconds = max_seconds
        self.max_commands = max_commands
        self.max_message = max_message
        self.log = PeerLog()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def server(self) -> str:
        """The ``--server`` argument that reaches this peer."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def __enter__(self) -> ScriptedPeer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.log.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        deadline = time.monotonic() + self.max_seconds
        conn.settimeout(0.5)
        buffer = bytearray()
        try:
            if not self._act(conn, self.script["GREETING"], deadline):
                return
            for _ in range(self.max_commands):
                line = self._line(conn, buffer, deadline)
                if line is None:
                    return
                self.log.commands.append(line)
                verb = line.split(b" ", 1)[0].split(b":", 1)[0].strip().upper().decode("latin-1")
                reply = self.script.get(verb, self.script["*"])
                if not self._act(conn, reply, deadline):
                    return
                if verb == "DATA" and reply.startswith("354"):
                    if not self._message(conn, buffer, deadline):
                        return
                    if not self._act(conn, self.script["DOT"], deadline):
                        return
                if verb == "QUIT":
                    return
        except OSError:
            pass
        finally:
            conn.close()

    def _act(self, conn: socket.socket, reply: str, deadline: float) -> bool:
        """Do one script action; False when the connection is over."""
        if reply == CLOSE:
            conn.shutdown(socket.SHUT_RDWR)
            return False
        if reply == RESET:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if reply == SILENT:
            while time.monotonic() < deadline and not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    if not conn.recv(65536):
                        return False
            return False
        conn.sendall(reply.encode("utf-8", "surrogateescape") + b"\r\n")
        return True

    def _line(self, conn: socket.socket, buffer: bytearray, deadline: float) -> bytes | None:
        while b"\n" not in buffer:
            if time.monotonic() > deadline or self._stop.is_set() or len(buffer) > 65536:
                return None
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return None
            buffer.extend(chunk)
        end = buffer.index(b"\n")
        line = bytes(buffer[:end]).rstrip(b"\r")
        del buffer[: end + 1]
        return line

    def _message(self, conn: socket.socket, buffer: bytearray, deadline: float) -> bool:
        """Read the message up to its dot, or close part way (`close_in_data`)."""
        received = 0
        while True:
            if self.close_in_data is not None and received + len(buffer) >= self.close_in_data:
                if self.reply_in_data:
                    conn.sendall(self.reply_in_data.encode() + b"\r\n")
                    time.sleep(0.05)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return False
            end = buffer.find(b"\r\n.\r\n")
            if buffer.startswith(b".\r\n"):
                end = -2
            if end != -1:
                taken = end + 5
                self.log.message_bytes += received + taken
                self.log.dots += 1
                del buffer[:taken]
                return True
            if time.monotonic() > deadline or received > self.max_message:
                return False
            keep = bytes(buffer[-4:])
            received += len(buffer) - len(keep)
            buffer[:] = keep
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return False
            buffer.extend(chunk)


# -- a DNS server from a handler -------------------------------------------------------------------

DNSHandler = Callable[[dns.message.Message], "dns.message.Message | bytes | None"]
"""Given a query, the answer to send (a message, raw bytes) or None for silence."""


class HostileDNS:
    """A DNS server in a thread on a loopback port (UDP and TCP, the same port), answering
    through `handler`. `queries` counts the questions, `in_flight_max` is not kept: a UDP
    server cannot see it; `received` lists (qname, qtype) in arrival order (bounded)."""

    MAX_KEPT = 100_000

    def __init__(
        self, handler: DNSHandler, *, host: str = "127.0.0.1", rcvbuf: int | None = None
    ) -> None:
        self.handler = handler
        self.host = host
        self.received: list[tuple[str, str]] = []
        self.errors: list[str] = []
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._udp = socket.socket(family, socket.SOCK_DGRAM)
        if rcvbuf is not None:
            self._udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self._udp.bind((host, 0))
        self.port: int = self._udp.getsockname()[1]
        self._tcp = socket.socket(family, socket.SOCK_STREAM)
        self._tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._tcp.bind((host, self.port))
        self._tcp.listen(16)
        self._udp.settimeout(0.2)
        self._tcp.settimeout(0.2)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._udp_loop, daemon=True),
            threading.Thread(target=self._tcp_loop, daemon=True),
        ]

    @property
    def nameserver(self) -> str:
        """The ``--nameserver`` argument that reaches this server."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def __enter__(self) -> HostileDNS:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(5)
        self._udp.close()
        self._tcp.close()

    def _answer(self, wire: bytes) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except Exception:
            return None
        if query.question and len(self.received) < self.MAX_KEPT:
            q = query.question[0]
            self.received.append((q.name.to_text(), dns.rdatatype.to_text(q.rdtype)))
        try:
            answer = self.handler(query)
        except Exception as exc:  # a broken test handler: silence, and say so once
            self.errors.append(repr(exc))
            return None
        if answer is None or isinstance(answer, bytes):
            return answer
        return answer.to_wire(max_size=65535)

    def _udp_loop(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self._udp.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            answer = self._answer(wire)
            if answer is not None:
                with contextlib.suppress(OSError):
                    self._udp.sendto(answer, peer)

    def _tcp_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._tcp.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._tcp_conn, args=(conn,), daemon=True).start()

    def _tcp_conn(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        with conn, contextlib.suppress(OSError):
            for _ in range(1000):
                head = conn.recv(2, socket.MSG_WAITALL)
                if len(head) < 2:
                    return
                wire = conn.recv(struct.unpack("!H", head)[0], socket.MSG_WAITALL)
                answer = self._answer(wire)
                if answer is None:
                    return
                conn.sendall(struct.pack("!H", len(answer)) + answer)


def reply_to(query: dns.message.Message, *records: str, rcode: int = dns.rcode.NOERROR) -> Any:
    """A response to `query` with answer records given as text (``"name 60 IN MX 10 mx."``)."""
    response = dns.message.make_response(query)
    response.set_rcode(rcode)
    response.flags |= dns.flags.AA
    for text in records:
        name, ttl, klass, rdtype, *data = text.split(None, 4)
        response.answer.append(dns.rrset.from_text(name, int(ttl), klass, rdtype, *data))
    return response


def static_zone(records: Sequence[str], *, soa_in_negative: bool = True) -> DNSHandler:
    """A handler answering from zone lines (``"name. 60 IN MX 10 mx.name."``): the records whose
    owner and type match the question; NXDOMAIN for a name that owns nothing. A negative answer
    carries the zone's SOA in its authority section (RFC 2308), unless `soa_in_negative` is
    false (a careless server)."""
    parsed = [line.split(None, 4) for line in records]
    soa = next((r for r in parsed if r[3].upper() == "SOA"), None)

    def handler(query: dns.message.Message) -> Any:
        q = query.question[0]
        owner = q.name.to_text().lower()
        rdtype = dns.rdatatype.to_text(q.rdtype)
        found = [r for r in parsed if r[0].lower() == owner and r[3].upper() == rdtype]
        owns = any(r[0].lower() == owner for r in parsed)
        response = reply_to(
            query,
            *(" ".join(r) for r in found),
            rcode=dns.rcode.NOERROR if owns else dns.rcode.NXDOMAIN,
        )
        if not found and soa is not None and soa_in_negative:
            response.authority.append(dns.rrset.from_text(soa[0], int(soa[1]), soa[2], "SOA",
                                                          soa[4]))  # fmt: skip
        return response

    return handler


def run_python(code: str, **kw: Any) -> Run:
    """Run a snippet in a bounded child (a library-level loop a test process must not host)."""
    return run_bounded([sys.executable, "-c", code], **kw)


# -- a pseudo-terminal ---------------------------------------------------------------------------


class Terminal:
    """``python -m mxtui ARGS`` on a pseudo-terminal of `size` (rows, cols), read in a thread.

    `output` is everything the program wrote to the terminal; `mode()` the terminal's state as
    the program left it (the termios flags a shell relies on).
    """

    def __init__(
        self,
        *args: str,
        size: tuple[int, int] = (30, 100),
        env: Mapping[str, str] | None = None,
        memory_mb: int = DEFAULT_MEMORY_MB,
        cwd: str | Path | None = None,
    ) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
        self.saved = termios.tcgetattr(slave)
        self._slave = slave

        def child() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_mb * MIB, memory_mb * MIB))
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mxtui", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=dict(env) if env is not None else child_env(),
            cwd=cwd,
            preexec_fn=child,
        )
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.1)
                if not ready:
                    if self.proc.poll() is not None and not self._pending():
                        return
                    continue
                chunk = os.read(self.master, 65536)
            except OSError as exc:
                if exc.errno in (errno.EIO, errno.EBADF):
                    return
                raise
            if not chunk:
                return
            with self._lock:
                if len(self._buf) < 32 * MIB:
                    self._buf.extend(chunk)

    def _pending(self) -> bool:
        ready, _, _ = select.select([self.master], [], [], 0)
        return bool(ready)

    @property
    def output(self) -> bytes:
        with self._lock:
            return bytes(self._buf)

    def wait_for(self, needle: bytes, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.output:
                return True
            if self.proc.poll() is not None:
                time.sleep(0.2)
                return needle in self.output
            time.sleep(0.05)
        return False

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 20.0) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def mode(self) -> list[Any]:
        return termios.tcgetattr(self._slave)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._reader.join(2)
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Terminal modes an app switches on and must switch off again before it leaves.
ALT_SCREEN_ON, ALT_SCREEN_OFF = b"\x1b[?1049h", b"\x1b[?1049l"
MOUSE_ON, MOUSE_OFF = b"\x1b[?1000h", b"\x1b[?1000l"


def left_on(output: bytes, on: bytes, off: bytes) -> bool:
    """Whether the last switch of a terminal mode in `output` left it on."""
    return output.rfind(on) > output.rfind(off)


@contextlib.contextmanager
def no_leftover(prefix: str, folder: str | None = None) -> Iterator[list[Path]]:
    """Collect files or folders named `prefix*` in the temp folder that appear in the block."""
    where = Path(folder or tempfile.gettempdir())
    before = set(where.glob(f"{prefix}*"))
    found: list[Path] = []
    yield found
    found.extend(sorted(set(where.glob(f"{prefix}*")) - before))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def argv_of(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "mxtui", *args]
