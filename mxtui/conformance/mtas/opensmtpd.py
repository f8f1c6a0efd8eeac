"""OpenSMTPD 6.8 as a sender: Debian's opensmtpd, unpacked, one fresh daemon per message.

The daemon runs in the foreground with traces of its mail transfer agent and scheduler
(`smtpd -d -v -T mta -T scheduler`), so its output has every "mta connecting
address=smtp://ADDRESS:25", every "mta error reason=..." and each envelope's result. It keeps
route errors and penalties between messages, so every message gets a fresh daemon and spool.

OpenSMTPD relays by MX to port 25 only, which is why the world listens on port 25 (in a network
namespace that port is free). In the namespace, folders of the case are bind-mounted where the
package expects its own: /var/spool (its queue), /run (its control socket), /var/lib (the empty
folder it chroots into) and /usr/libexec (its delivery helpers, from the unpacked package).
It has no setting for its connect and greeting timeouts: a black hole costs the namespace's
shortened SYN retries (3 s), a host that never greets costs 5 minutes, so such cases are not
run for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import smtplib
import subprocess
import time
from pathlib import Path

from mxtui.conformance.cases import SENDER_DOMAIN, Case
from mxtui.conformance.isolation import bind
from mxtui.conformance.observe import Dial, MtaRun, RecipientSeen, read_dsn_statuses
from mxtui.conformance.packages import Unpacked, add_users, loader_cache
from mxtui.conformance.world import SELF_ADDRESS, message

USERS = ("opensmtpd", "opensmtpq")
MAILBOX_USER = "nobody"
INJECT_PORT = 10025
"""The listener messages are injected through; each message of a case uses the next port, so a
daemon of the message before, still going away, cannot answer for the new one."""
WAIT_S = 45.0
"""How long a first attempt may take. A few refusing MX hosts take 12 s; on forty it went on
cycling among the first eight for over four minutes: a recipient without a result by then is
deferred (still queued), and its first pass over the routes is its first attempt."""

_CONNECTING = re.compile(
    r"mta connecting address=smtp://(?:\[(?P<v6>[^\]]+)\]|(?P<v4>[^:\s]+)):\d+"
)
_ERROR = re.compile(r"mta error reason=(?P<why>.*)$")
_RESULT = re.compile(
    r"mta delivery evpid=\S+ from=<[^>]*> to=<(?P<rcpt>[^>]*)>.*?"
    r"result=\"?(?P<result>Ok|TempFail|PermFail|Loop)\"? stat=\"?(?P<stat>.*?)\"?$"
)
_ROUTE_FAIL = re.compile(
    r"(?:smtp-out|mta): .*?(?:No MX found|Domain does not exist|Temporary failure in MX "
    r"lookup|Network error|No valid route).*"
)
_BOUNCE_RESULT = re.compile(
    r"delivery evpid=\S+ from=<[^>]*> to=<(?P<rcpt>[^>]*)>.*?"
    r"result=\"?(?P<result>TempFail|PermFail)\"? stat=\"?(?P<stat>.*?)\"?$"
)
_WAIT = re.compile(r"scheduler: got r=0, delay=(?P<delay>\d+)")
_TEMPFAIL = re.compile(r'result="?TempFail')


class OpenSMTPD(Unpacked):
    NAME = "opensmtpd"
    PROFILE = "opensmtpd"
    TITLE = "OpenSMTPD"
    BINARY = "usr/sbin/smtpd"
    PACKAGE = "opensmtpd"

    def prepare(self, folder: Path) -> None:
        add_users(folder, USERS)
        loader_cache(folder, [])
        for sub, target in (("spool", "/var/spool"), ("run", "/run"), ("varlib", "/var/lib")):
            (folder / sub).mkdir(parents=True, exist_ok=True)
            bind(folder / sub, target)
        bind(self.root() / "usr/libexec", "/usr/libexec")
        bind(folder / "resolv.conf", "/etc/resolv.conf")  # again, in case it lived under /run

    def expected_seconds(self, case: Case) -> float:
        holes = sum(h.get("kind") == "blackhole" for h in case.hosts.values())
        if case.zone.upper().count(" MX ") > 8:
            return WAIT_S  # it cycles among its routes until the wait is over
        return case.runs * (2 + 12 + 3 * holes)

    def _fresh(self, folder: Path) -> None:
        """An empty spool, control-socket folder and chroot for this message's daemon."""
        for path in (Path("/var/spool/smtpd"), Path("/run/smtpd"),
                     Path("/var/lib/opensmtpd")):  # fmt: skip
            shutil.rmtree(path, ignore_errors=True)
        Path("/var/spool/smtpd").mkdir(mode=0o711)
        os.chmod("/var/spool/smtpd", 0o711)
        Path("/var/lib/opensmtpd/empty").mkdir(parents=True)
        (folder / "mail").mkdir(parents=True, exist_ok=True)
        shutil.chown(folder / "mail", MAILBOX_USER)

    def _config(self, folder: Path, port: int) -> Path:
        text = f"""\
table vusers {{ "@" = "{MAILBOX_USER}" }}
listen on {SELF_ADDRESS} port {port}
action "out" relay helo mta.{SENDER_DOMAIN}
action "bounces" maildir "{folder}/mail" user {MAILBOX_USER} virtual <vusers>
match from any for domain "{SENDER_DOMAIN}" action "bounces"
match from any for any action "out"
"""
        path = folder / "smtpd.conf"
        path.write_text(text)
        os.chmod(path, 0o644)
        return path

    async def deliver(self, case: Case, sender: str, folder: Path) -> MtaRun:
        folder.mkdir(parents=True, exist_ok=True)
        self._fresh(folder)
        self.runs = getattr(self, "runs", 0) + 1
        port = INJECT_PORT + self.runs
        conf = self._config(folder, port)
        log_path = folder / "smtpd.log"
        recipients = case.addresses()
        with open(log_path, "wb") as log_file:
            proc = await asyncio.create_subprocess_exec(
                str(self.binary()), "-d", "-v", "-T", "mta", "-T", "scheduler", "-f", str(conf),
                stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        try:
            await self._wait_listening(proc, port)
            arrival = time.time()
            data = message(case, sender, recipients)
            await asyncio.to_thread(_inject, port, sender, recipients, data)
            seen: dict[str, RecipientSeen] = {}
            deadline = time.monotonic() + WAIT_S
            text = ""
            while time.monotonic() < deadline:
                await asyncio.sleep(0.25)
                text = log_path.read_text(errors="replace")
                seen, _ = parse_log(text, recipients)
                bounced = any(s.state == "bounced" for s in seen.values())
                if len(seen) == len(recipients) and (
                    not bounced or any((folder / "mail").rglob("new/*"))
                ):
                    break
            await asyncio.sleep(0.3)
            text = log_path.read_text(errors="replace")
            seen, dials = parse_log(text, recipients)
            cycling = [r.lower() for r in recipients if r.lower() not in seen]
            for rcpt in cycling:
                seen[rcpt] = RecipientSeen(
                    "deferred", text=f"no result after {WAIT_S:g} s: still cycling among the "
                    "routes it first tried; the message stays queued")  # fmt: skip
            retry = None
            if cycling:
                dials = first_pass(dials)
            elif any(s.state == "deferred" for s in seen.values()):
                retry = first_retry(text, time.time() - arrival)
        finally:
            # The daemon and the processes it forked share the session it was started in.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        statuses = read_dsn_statuses(folder / "mail")
        for rcpt, status in statuses.items():
            if rcpt in seen:
                seen[rcpt] = seen[rcpt].with_bounce_status(status)
        return MtaRun(dials=dials, recipients=seen, retry=retry, log=interesting(text))

    async def _wait_listening(self, proc: asyncio.subprocess.Process, port: int) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError(f"smtpd exited with status {proc.returncode}")
            try:
                _, writer = await asyncio.open_connection(SELF_ADDRESS, port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            return
        raise RuntimeError("smtpd did not listen within 15 s")


def first_retry(text: str, elapsed: float) -> tuple[int, int] | None:
    """The scheduler's wait after the first temporary failure ("got r=0, delay=400"), counted
    from arrival (the log has no times; the attempt came within `elapsed` seconds of it)."""
    after = _TEMPFAIL.search(text)
    if after is None:
        return None
    m = _WAIT.search(text, after.end())
    if m is None:
        return None
    delay = int(m["delay"])
    return delay, delay + round(elapsed)


def _inject(port: int, sender: str, recipients: tuple[str, ...], data: bytes) -> None:
    with smtplib.SMTP(SELF_ADDRESS, port, local_hostname="inject.sender.test",
                      timeout=30) as client:  # fmt: skip
        client.sendmail(sender, list(recipients), data)


def parse_log(text: str, recipients: tuple[str, ...]) -> tuple[dict[str, RecipientSeen], list]:
    """Each recipient's first result, and the connections in order ("mta connecting"), each
    with the error that followed it before any other connection, if any."""
    wanted = {r.lower() for r in recipients}
    seen: dict[str, RecipientSeen] = {}
    dials: list[Dial] = []
    for line in text.splitlines():
        if m := _CONNECTING.search(line):
            dials.append(Dial("", m["v6"] or m["v4"]))
        elif (m := _ERROR.search(line)) and dials and not dials[-1].error:
            why = m["why"]
            if "onnection" in why or "timeout" in why.lower() or "refused" in why.lower():
                dials[-1] = Dial("", dials[-1].address, why)
        elif m := _RESULT.search(line) or _BOUNCE_RESULT.search(line):
            rcpt = m["rcpt"].lower()
            if rcpt in wanted and rcpt not in seen:
                state = {"Ok": "delivered", "TempFail": "deferred", "PermFail": "bounced",
                         "Loop": "bounced"}[m["result"]]  # fmt: skip
                # `stat` quotes the remote server; OpenSMTPD's own status (its DSN's) is
                # 5.0.0 / 4.0.0 whatever it was, read from the bounce instead.
                seen[rcpt] = RecipientSeen(state, "", m["stat"])
    return seen, dials


def first_pass(dials: list[Dial]) -> list[Dial]:
    """The connections up to the first that goes back to an address already tried.

    While its routes keep failing OpenSMTPD has no end to an attempt: it disables each failed
    route for 15 s, opens a connection every 2 s, and goes back to the first route once it is
    usable again, cycling among its first eight MX addresses for minutes. Its first pass over
    the routes is what a delivery attempt is for the others (and for its profile).
    """
    seen: set[str] = set()
    out = []
    for dial in dials:
        if dial.address in seen:
            break
        seen.add(dial.address)
        out.append(dial)
    return out


_SHOW = re.compile(r"mta |scheduler|smtp-out|delivery|relay|error|warn|fatal", re.IGNORECASE)


def interesting(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if _SHOW.search(ln)][:400]
