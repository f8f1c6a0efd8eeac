"""A real postgrey (Debian's greylisting policy server) on a loopback TCP port, as a test peer.

Run in the foreground (no --daemonize, so its log goes to a file we read and its pid is ours to
stop), as the `postgrey` user the package creates, with a database directory, whitelist files
and settings of its own, so nothing of a system postgrey (its /var/lib database, the
/etc/postgrey whitelists that exempt postmaster@ and big providers) is read or written:
- `--delay=1`: postgrey turns 0 into its default of 300 (`$opt{delay} || 300`), so one
  second is the shortest; a retry passes once `now - first_seen >= delay` in whole seconds.
- `--auto-whitelist-clients=0`: otherwise the client is whitelisted after 5 passes and
  greylisting stops for it.
- empty `--whitelist-clients` / `--whitelist-recipients` files.
A Postfix uses it with `check_policy_service inet:127.0.0.1:PORT`; greylisted recipients get
"450 4.2.0 <rcpt>: Recipient address rejected: Greylisted, see ...". The triplet is client
network / sender / recipient: a test that wants a fresh greylist uses a sender of its own.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from postfix_peer import Peer, free_port, read_log

DELAY_S = 1
POSTGREY = "/usr/sbin/postgrey"


def available() -> bool:
    return shutil.which("postgrey") is not None or Path(POSTGREY).exists()


class Postgrey(Peer):
    """`with Postgrey() as pg:` then point Postfix at `pg.policy_service`; killed on exit."""

    def __init__(self, delay_s: int = DELAY_S) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="mxtui-postgrey-"))
        self.delay_s = delay_s
        self.port = free_port()
        self.policy_service = f"inet:127.0.0.1:{self.port}"
        self.log = self.dir / "postgrey.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        db = self.dir / "db"
        db.mkdir()
        for name in ("whitelist_clients", "whitelist_recipients"):
            (self.dir / name).write_text("")
        # postgrey drops to its own user before opening the database.
        self.dir.chmod(0o755)
        shutil.chown(db, "postgrey", "postgrey")
        command = [
            shutil.which("postgrey") or POSTGREY,
            f"--inet=127.0.0.1:{self.port}",
            f"--dbdir={db}",
            f"--delay={self.delay_s}",
            "--user=postgrey",
            "--group=postgrey",
            "--auto-whitelist-clients=0",
            f"--whitelist-clients={self.dir / 'whitelist_clients'}",
            f"--whitelist-recipients={self.dir / 'whitelist_recipients'}",
            "--hostname=greylist.postfix.test",
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgrey exited: {self.log_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"postgrey did not listen on port {self.port}: {self.log_text()}")

    def log_text(self) -> str:
        return read_log(self.log)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)
