"""A real Postfix, run from a config directory of its own on a loopback port, as a test peer.

Facts behind the settings are in /work/shared/reference/real-peers.md. The instance accepts mail
for one user (and postmaster) at example.com, rejects other example.com users with
550 5.1.1, refuses relaying elsewhere, offers STARTTLS with a lab certificate, and delivers
nothing: accepted mail is discarded, and every other transport is an error.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Self

from mxtui.lab.certs import lab_certificate

DOMAIN = "example.com"
USER = f"alice@{DOMAIN}"
HOSTNAME = "mx.postfix.test"
SERVICES = """\
pickup    unix  n  -  n  60    1  pickup
cleanup   unix  n  -  n  -     0  cleanup
qmgr      unix  n  -  n  300   1  qmgr
tlsmgr    unix  -  -  n  1000? 1  tlsmgr
rewrite   unix  -  -  n  -     -  trivial-rewrite
bounce    unix  -  -  n  -     0  bounce
defer     unix  -  -  n  -     0  bounce
trace     unix  -  -  n  -     0  bounce
verify    unix  -  -  n  -     1  verify
flush     unix  n  -  n  1000? 0  flush
proxymap  unix  -  -  n  -     -  proxymap
proxywrite unix -  -  n  -     1  proxymap
smtp      unix  -  -  n  -     -  smtp
relay     unix  -  -  n  -     -  smtp
showq     unix  n  -  n  -     -  showq
error     unix  -  -  n  -     -  error
retry     unix  -  -  n  -     -  error
discard   unix  -  -  n  -     -  discard
local     unix  -  n  n  -     -  local
virtual   unix  -  n  n  -     -  virtual
lmtp      unix  -  -  n  -     -  lmtp
anvil     unix  -  -  n  -     1  anvil
scache    unix  -  -  n  -     1  scache
postlog   unix-dgram n - n -   1  postlogd
"""


def read_log(path: Path) -> str:
    """A peer's log for an error message ("" when there is none yet)."""
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def available() -> bool:
    return shutil.which("postfix") is not None or Path("/usr/sbin/postfix").exists()


_handed_out: set[int] = set()


def free_port() -> int:
    """A free loopback port, never one handed out before in this process: instances made
    together (and started in parallel) get distinct ports even before any of them binds."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


class Peer:
    """A local server process for the tests: `with Peer() as p:` starts it, and it is stopped
    (and its files removed) on the way out, even when starting failed half-way."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Postfix(Peer):
    """`with Postfix() as pf:` then talk to `pf.address`; stopped and removed on exit."""

    def __init__(
        self,
        *,
        main_cf: str = "",
        files: Mapping[str, str] | None = None,
        greeting: bytes = b"220",
    ) -> None:
        """`main_cf`: extra main.cf lines, appended (a parameter set twice takes the last
        value, with a warning in the log). `files`: more files for the config directory, by
        name; `{conf}` in their text and in `main_cf` stands for that directory. `greeting`:
        how the first reply starts once the instance is up (say b"421" for one configured to
        turn every client away)."""
        self.dir = Path(tempfile.mkdtemp(prefix="mxtui-postfix-"))
        self.greeting = greeting
        self.extra_main_cf = main_cf
        self.extra_files = dict(files or {})
        self.port = free_port()
        self.address = ("127.0.0.1", self.port)
        self.cert = lab_certificate(HOSTNAME)
        self.log = self.dir / "log" / "postfix.log"

    def _write_config(self) -> None:
        d = self.dir
        for sub in ("conf", "queue", "data", "log"):
            (d / sub).mkdir(exist_ok=True)
        (d / "conf" / "cert.pem").write_bytes(self.cert.cert_pem)
        key = d / "conf" / "key.pem"
        key.touch(mode=0o600)
        key.write_bytes(self.cert.key_pem)
        (d / "conf" / "vmailbox").write_text(f"{USER} ok\npostmaster@{DOMAIN} ok\n")
        nowhere = "error:5.7.1 this test instance delivers nothing"
        (d / "conf" / "main.cf").write_text(
            f"""\
compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
maillog_file = {self.log}
maillog_file_prefixes = {d}
myhostname = {HOSTNAME}
mydomain = postfix.test
mydestination =
mynetworks = 192.0.2.1/32
inet_interfaces = loopback-only
inet_protocols = ipv4
smtpd_peername_lookup = no
smtpd_banner = $myhostname ESMTP mxtui test peer
smtpd_relay_restrictions = reject_unauth_destination
virtual_mailbox_domains = {DOMAIN}
virtual_mailbox_maps = texthash:{d}/conf/vmailbox
virtual_transport = discard:
default_transport = {nowhere}
relay_transport = {nowhere}
local_transport = {nowhere}
message_size_limit = 67108864
smtpd_tls_security_level = may
smtpd_tls_cert_file = {d}/conf/cert.pem
smtpd_tls_key_file = {d}/conf/key.pem
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
biff = no
"""
            + self.extra_main_cf.replace("{conf}", str(d / "conf"))
        )
        for name, text in self.extra_files.items():
            (d / "conf" / name).write_text(text.replace("{conf}", str(d / "conf")))
        (d / "conf" / "master.cf").write_text(
            f"127.0.0.1:{self.port} inet n - n - - smtpd\n" + SERVICES
        )
        os.chmod(d / "conf" / "key.pem", 0o600)
        # Postfix's own user must reach its data directory (mkdtemp makes a 0700 folder).
        os.chmod(d, 0o755)
        shutil.chown(d / "data", "postfix", "postfix")

    def _postfix(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["postfix", "-c", str(self.dir / "conf"), *args],
            capture_output=True,
            text=True,
            timeout=30,
        )

    def start(self) -> None:
        self._write_config()
        done = self._postfix("start")
        if done.returncode != 0:
            raise RuntimeError(f"postfix did not start: {done.stderr.strip() or done.stdout}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(self.address, timeout=1) as s:
                    s.settimeout(5)
                    if s.recv(1000).startswith(self.greeting):
                        with contextlib.suppress(OSError):  # a 421 greeting hangs up at once
                            s.sendall(b"QUIT\r\n")
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"postfix did not answer on port {self.port}: {self.log_text()}")

    def log_text(self) -> str:
        return read_log(self.log)

    def stop(self) -> None:
        self._postfix("stop")
        shutil.rmtree(self.dir, ignore_errors=True)
