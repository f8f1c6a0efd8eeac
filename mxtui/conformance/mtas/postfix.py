"""Postfix 3.7 as a sender: a second instance of the system package, run with `-c DIR`.

Debian's postfix package is what the other tests use as a peer, so it is installed, not
unpacked. The instance is send-only (no smtpd listener), keeps its queue, data and log in the
case's folder, runs its services unchrooted (a chrooted smtp client would read the queue
directory's copy of resolv.conf, not the namespace's) and logs with `smtp -v`, so the log shows
each address list and each connection. Its own address is 127.0.0.1 (`inet_interfaces`), so
every other loopback address, ::1 included, is an ordinary remote host.

Only timeouts are shortened (a black-holed address, a silent greeting); every parameter that
decides an outcome keeps its default. Bounces come back to a virtual mailbox of the sender's
domain, a Maildir read afterwards.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from mxtui.conformance.cases import SENDER_DOMAIN, Case
from mxtui.conformance.isolation import bind
from mxtui.conformance.observe import Dial, MtaRun, RecipientSeen, read_dsn_statuses
from mxtui.conformance.world import SELF_ADDRESS, message

NAME = "postfix"
PROFILE = "postfix"
SETTINGS = {
    "smtp_connect_timeout": "5s",
    "smtp_helo_timeout": "5s",
}
"""What differs from Postfix's defaults, besides paths and logging: timeouts only."""

SERVICES = """\
pickup    unix  n  -  n  60    1  pickup
cleanup   unix  n  -  n  -     0  cleanup
qmgr      unix  n  -  n  300   1  qmgr
rewrite   unix  -  -  n  -     -  trivial-rewrite
bounce    unix  -  -  n  -     0  bounce
defer     unix  -  -  n  -     0  bounce
trace     unix  -  -  n  -     0  bounce
verify    unix  -  -  n  -     1  verify
flush     unix  n  -  n  1000? 0  flush
proxymap  unix  -  -  n  -     -  proxymap
proxywrite unix -  -  n  -     1  proxymap
smtp      unix  -  -  n  -     -  smtp -v
relay     unix  -  -  n  -     -  smtp -v
showq     unix  n  -  n  -     -  showq
error     unix  -  -  n  -     -  error
retry     unix  -  -  n  -     -  error
discard   unix  -  -  n  -     -  discard
local     unix  -  n  n  -     -  local
virtual   unix  -  n  n  -     -  virtual
anvil     unix  -  -  n  -     1  anvil
scache    unix  -  -  n  -     1  scache
postlog   unix-dgram n - n -   1  postlogd
"""

QUEUE = "/var/spool/postfix"
"""Where the run's queue folder is mounted in the case's namespace (the system instance's queue
folder, hidden there and untouched)."""

MAILBOX_UID = 65534
"""Bounces are written to the Maildir as `nobody` (the virtual agent refuses uid 0)."""

WAIT_S = 60.0
"""Longest wait for a first attempt to end (the slowest case, many black holes, takes ~20 s)."""


def _main_cf(d: Path) -> str:
    settings = "".join(f"{k} = {v}\n" for k, v in SETTINGS.items())
    return f"""\
compatibility_level = 3.6
queue_directory = {QUEUE}
data_directory = {d}/data
maillog_file = {d}/log/postfix.log
maillog_file_prefixes = {d}
myhostname = mta.{SENDER_DOMAIN}
mydomain = {SENDER_DOMAIN}
myorigin = {SENDER_DOMAIN}
mydestination =
inet_interfaces = {SELF_ADDRESS}
mynetworks = {SELF_ADDRESS}/32
default_transport = smtp
relay_transport = smtp
virtual_mailbox_domains = {SENDER_DOMAIN}
virtual_mailbox_base = {d}/mail
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:{MAILBOX_UID}
virtual_gid_maps = static:{MAILBOX_UID}
virtual_minimum_uid = 1
biff = no
{settings}"""


def _write(d: Path) -> Path:
    conf = d / "conf"
    for sub in ("conf", "queue", "data", "log", "mail"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    # The queue holds Postfix's UNIX sockets, whose paths may not exceed 107 bytes: in the case's
    # own mount namespace the run's queue folder is seen at a short path instead.
    bind(d / "queue", QUEUE)
    (conf / "main.cf").write_text(_main_cf(d))
    (conf / "master.cf").write_text(SERVICES)
    os.chmod(d, 0o755)
    shutil.chown(d / "data", "postfix", "postfix")
    os.chown(d / "mail", MAILBOX_UID, MAILBOX_UID)
    return conf


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60)


_STATUS = re.compile(
    r"\b(?P<qid>[0-9A-F]{6,}): to=<(?P<rcpt>[^>]*)>,.*?\bdsn=(?P<dsn>[\d.]+), "
    r"status=(?P<status>sent|deferred|bounced) \((?P<text>.*)\)$"
)
_TRYING = re.compile(r"smtp_connect_addr: trying: (?P<host>[^\[\s]+)\[(?P<address>[^\]]+)\]")
_CONNECT_FAIL = re.compile(r"connect to (?P<host>[^\[\s]+)\[(?P<address>[^\]]+)\]:\d+: (?P<why>.*)")
_INTERESTING = re.compile(
    r"trying: |begin .*address list|pref \d+ host|connect to |status=|< \S+\[|> \S+\[|"
    r"lost connection|refused to talk|said: |fatal|warning|panic|error"
)


def parse_log(
    text: str, recipients: tuple[str, ...]
) -> tuple[list[Dial], dict[str, RecipientSeen]]:
    """The connections the smtp client made, in order, and each recipient's first status."""
    dials: list[Dial] = []
    seen: dict[str, RecipientSeen] = {}
    wanted = {r.lower() for r in recipients}
    for line in text.splitlines():
        if m := _STATUS.search(line):
            rcpt = m["rcpt"].lower()
            if rcpt in wanted and rcpt not in seen:
                state = {"sent": "delivered", "deferred": "deferred", "bounced": "bounced"}
                seen[rcpt] = RecipientSeen(state[m["status"]], m["dsn"], m["text"])
        elif m := _TRYING.search(line):
            dials.append(Dial(m["host"].rstrip("."), m["address"]))
        elif (m := _CONNECT_FAIL.search(line)) and dials and dials[-1].address == m["address"]:
            dials[-1] = Dial(dials[-1].host, dials[-1].address, m["why"])
    return dials, seen


def interesting(text: str) -> list[str]:
    """The log lines worth showing beside the walk: addresses, connections, dialogue, results."""
    out = []
    for line in text.splitlines():
        if _INTERESTING.search(line) and "smtp_stream" not in line and "vstream" not in line:
            out.append(line.split(" postfix/", 1)[-1])
    return out


class Postfix:
    NAME = NAME
    PROFILE = PROFILE

    def missing(self) -> str | None:
        if shutil.which("postfix") is None and not Path("/usr/sbin/postfix").exists():
            return "Postfix is not installed (apt-get install postfix)"
        if not Path(QUEUE).is_dir():
            return f"{QUEUE} is missing (the postfix package makes it)"
        return None

    def version(self) -> str:
        done = subprocess.run(["postconf", "-h", "-d", "mail_version"], capture_output=True,
                              text=True, timeout=20)  # fmt: skip
        return f"Postfix {done.stdout.strip()}" if done.returncode == 0 else "Postfix"

    def prepare(self, folder: Path) -> None:
        """Nothing to mount: the system package is installed."""

    def expected_seconds(self, case: Case) -> float:
        holes = sum(h.get("kind") == "blackhole" for h in case.hosts.values())
        silent = sum(h.get("kind") == "silent" for h in case.hosts.values())
        return case.runs * (3 + 3 * holes + 5 * silent)

    async def deliver(self, case: Case, sender: str, folder: Path) -> MtaRun:
        return await deliver(case, sender, folder)


async def deliver(case: Case, sender: str, folder: Path) -> MtaRun:
    """Start a fresh instance, send one message, wait for its first attempt, read the log."""
    conf = _write(folder)
    log = folder / "log" / "postfix.log"
    started = await asyncio.to_thread(_run, "postfix", "-c", str(conf), "start")
    if started.returncode != 0:
        said = (started.stderr + started.stdout).strip()
        log_text = log.read_text(errors="replace") if log.exists() else ""
        raise RuntimeError(f"postfix did not start ({started.returncode}): {said} "
                           f"{' / '.join(log_text.splitlines()[-5:])}")  # fmt: skip
    try:
        recipients = case.addresses()
        inject = await asyncio.to_thread(
            subprocess.run,
            ["sendmail", "-C", str(conf), "-f", sender, *recipients],
            input=message(case, sender, recipients), capture_output=True, timeout=60,
        )  # fmt: skip
        if inject.returncode != 0:
            raise RuntimeError(f"sendmail -C failed: {inject.stderr.decode(errors='replace')}")
        arrival = time.time()
        seen: dict[str, RecipientSeen] = {}
        dials: list[Dial] = []
        text = ""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            text = log.read_text(errors="replace") if log.exists() else ""
            dials, seen = parse_log(text, recipients)
            bounced = any(s.state == "bounced" for s in seen.values())
            if len(seen) == len(recipients) and (not bounced or _bounce_in(folder)):
                break
        retry = (
            _retry_window(conf, arrival)
            if any(s.state == "deferred" for s in seen.values())
            else None
        )
        await asyncio.sleep(0.1)
        text = log.read_text(errors="replace") if log.exists() else ""
        dials, seen = parse_log(text, recipients)
        statuses = read_dsn_statuses(folder / "mail")
        for rcpt, status in statuses.items():
            if rcpt in seen:
                seen[rcpt] = seen[rcpt].with_bounce_status(status)
        return MtaRun(dials=dials, recipients=seen, retry=retry, log=interesting(text))
    finally:
        await asyncio.to_thread(_run, "postfix", "-c", str(conf), "abort")


def _bounce_in(folder: Path) -> bool:
    return any((folder / "mail").glob("box/new/*"))


def _retry_window(conf: Path, arrival: float) -> tuple[int, int] | None:
    """When the deferred message becomes eligible again (its queue file's time) and the
    latest it is tried: Postfix takes it at the queue manager's next deferred-queue scan,
    `queue_run_delay` (300 s) later at most."""
    queue = conf.parent / "queue" / "deferred"  # the same folder as QUEUE/deferred
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        files = [p for p in queue.rglob("*") if p.is_file()]
        if files:
            eligible = round(files[0].stat().st_mtime - arrival)
            return eligible, eligible + 300
        time.sleep(0.1)
    return None
