"""Sendmail 8.17 as a sender: Debian's sendmail-bin, unpacked, one message delivered in the
foreground (`-odi`) per run.

The configuration is made from an .mc file with the unpacked sendmail-cf and m4 (Debian's m4
package, which conflicts with nothing): the smtp mailers as shipped, the queue in the run's
folder, the connect and greeting timeouts shortened, no interface probing (so ::1 is not taken
for this host), and queue-only delivery for everything but the message itself, so a bounce is
made and queued but never sent: its delivery-status part is read from the queue. Sendmail logs
through syslog, which this machine does not run; the connections and the dialogue come from
its own output instead: `-v` prints the dialogue and each recipient's result, `-d16.1` each
connection's address. A deferred message waits for the next queue run (`-q`, a daemon option),
so no first retry is measured.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import shutil
import subprocess
from pathlib import Path

from mxtui.conformance.cases import SENDER_DOMAIN, Case
from mxtui.conformance.observe import Dial, MtaRun, RecipientSeen
from mxtui.conformance.packages import Unpacked, loader_cache
from mxtui.conformance.world import message
from mxtui.smtp.replies import ENHANCED

TIMEOUTS = {
    "confTO_CONNECT": "5s",
    "confTO_ICONNECT": "5s",
    "confTO_INITIAL": "5s",
    "confTO_HELO": "5s",
    "confTO_MAIL": "5s",
    "confTO_RCPT": "5s",
    "confTO_DATAINIT": "5s",
    "confTO_DATABLOCK": "5s",
    "confTO_DATAFINAL": "5s",
}
"""Sendmail's timeouts (5 minutes to an hour by default): time only, not outcomes."""

_CONNECT = re.compile(r"makeconnection \((?P<host>\S+) \[(?P<address>[^\]]+)\]")
_CONNECTING = re.compile(r"Connecting to (?P<host>\S+?)\.? (?:port \d+ )?via \w+")
_RESULT = re.compile(r"^(?P<rcpt><?[^\s<>]+@[^\s<>.]+(?:\.[^\s<>]+)*>?)\.\.\. (?P<what>.*)$")
_DSN = re.compile(rf"\b({ENHANCED})\b")
_FAILED = re.compile(r"^Connect failed \((?P<why>[^)]*)\)|^(?P<host>\S+?)\.?: (?P<why2>Connection "
                     r"(?:refused|timed out|reset by peer).*)$", re.IGNORECASE)  # fmt: skip


class Sendmail(Unpacked):
    NAME = "sendmail"
    PROFILE = "sendmail"
    TITLE = "Sendmail"
    BINARY = "usr/libexec/sendmail/sendmail"
    PACKAGE = "sendmail-bin"

    def missing(self) -> str | None:
        if (why := super().missing()) is not None:
            return why
        if shutil.which("m4") is None:
            return "m4 is not installed (apt-get install m4): the sendmail.cf is made with it"
        return None

    def prepare(self, folder: Path) -> None:
        loader_cache(folder, [self.root() / "usr/lib/x86_64-linux-gnu"])

    def expected_seconds(self, case: Case) -> float:
        holes = sum(h.get("kind") == "blackhole" for h in case.hosts.values())
        silent = sum(h.get("kind") == "silent" for h in case.hosts.values())
        return case.runs * (1 + 3 * holes + 5 * silent)

    def _config(self, d: Path) -> Path:
        cf = self.root() / "usr/share/sendmail/cf"
        timeouts = "".join(f"define(`{k}', `{v}')dnl\n" for k, v in TIMEOUTS.items())
        mc = f"""\
divert(-1)
include(`{cf}/m4/cf.m4')
divert(0)dnl
VERSIONID(`mxtui conformance')dnl
define(`confEBINDIR', `{self.root()}/usr/libexec/sendmail')dnl
define(`confDOMAIN_NAME', `mta.{SENDER_DOMAIN}')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`confDELIVERY_MODE', `queueonly')dnl
define(`QUEUE_DIR', `{d}/mqueue')dnl
undefine(`ALIAS_FILE')dnl
define(`STATUS_FILE', `{d}/sendmail.st')dnl
define(`confHOST_STATUS_DIRECTORY', `')dnl
define(`confFORWARD_PATH', `')dnl
{timeouts}LOCAL_DOMAIN(`{SENDER_DOMAIN}')dnl
FEATURE(`nocanonify')dnl
MAILER(`local')dnl
MAILER(`smtp')dnl
"""
        (d / "sendmail.mc").write_text(mc)
        made = subprocess.run(["m4", str(d / "sendmail.mc")], capture_output=True, text=True,
                              timeout=60)  # fmt: skip
        if made.returncode != 0:
            raise RuntimeError(f"m4 could not make sendmail.cf: {made.stderr.strip()[:300]}")
        path = d / "sendmail.cf"
        path.write_text(made.stdout)
        return path

    async def deliver(self, case: Case, sender: str, folder: Path) -> MtaRun:
        (folder / "mqueue").mkdir(parents=True, exist_ok=True)
        os.chmod(folder / "mqueue", 0o700)
        conf = self._config(folder)
        recipients = case.addresses()
        done = await asyncio.to_thread(
            subprocess.run,
            [str(self.binary()), "-C", str(conf), "-odi", "-v", "-d16.1", "-f", sender,
             *recipients],
            input=message(case, sender, recipients), capture_output=True, timeout=180,
        )  # fmt: skip
        text = (done.stdout + done.stderr).decode("utf-8", "replace")
        seen = parse_results(text, recipients)
        # The bounce is made and queued, never delivered (queue-only for all but the message
        # itself): its delivery-status part is read from the queue's data file.
        for rcpt, status in queued_dsn_statuses(folder / "mqueue").items():
            if rcpt in {r.lower() for r in recipients}:
                seen[rcpt] = seen.get(rcpt, RecipientSeen("bounced")).with_bounce_status(status)
        log = [ln for ln in text.splitlines() if ln.strip()]
        return MtaRun(dials=parse_dials(text), recipients=seen, retry=None, log=log)


_DSN_BLOCK = re.compile(
    r"^Final-Recipient:\s*rfc822;\s*<?(?P<rcpt>[^>\s]+)>?\s*$.*?^Status:\s*(?P<status>"
    rf"{ENHANCED})(?!\d)",
    re.IGNORECASE | re.MULTILINE | re.DOTALL,
)


def queued_dsn_statuses(queue: Path) -> dict[str, str]:
    """Recipient → `Status:` from every bounce waiting in the queue (its data file holds the
    multipart/report body; the headers are in the queue file)."""
    out: dict[str, str] = {}
    for data in sorted(queue.glob("df*")):
        text = data.read_text(errors="replace").replace("\r\n", "\n")
        for block in text.split("\n\n"):
            if m := _DSN_BLOCK.search(block):
                out[m["rcpt"].lower()] = m["status"]
    return out


def parse_dials(text: str) -> list[Dial]:
    """Each connection from `-d16.1` ("makeconnection (HOST [ADDRESS].25 ..."), with the
    failure `-v` reports after it before any other connection."""
    dials: list[Dial] = []
    for line in text.splitlines():
        if m := _CONNECT.search(line):
            address = str(ipaddress.ip_address(m["address"].removeprefix("IPv6:")))
            dials.append(Dial(m["host"].rstrip("."), address))
        elif dials and not dials[-1].error and (m := _FAILED.match(line.strip())):
            dials[-1] = Dial(dials[-1].host, dials[-1].address, m["why"] or m["why2"])
    return dials


def parse_results(text: str, recipients: tuple[str, ...]) -> dict[str, RecipientSeen]:
    """Each recipient's last result line from `-v`: "alice@x... Sent (...)", "... Deferred:
    ...", or a failure. A recipient refused with 5xx gets no line: its bounce says it."""
    wanted = {r.lower() for r in recipients}
    seen: dict[str, RecipientSeen] = {}
    for line in text.splitlines():
        m = _RESULT.match(line.strip())
        if not m:
            continue
        rcpt = m["rcpt"].strip("<>").lower()
        what = m["what"]
        if rcpt not in wanted or what.startswith(("Connecting", "Closing", "Recipient ok")):
            continue
        # The last line wins: "Deferred: 450 ..." on one MX, then "Sent" on the next.
        if what.startswith("Sent"):
            state = "delivered"
        elif what.startswith("Deferred") or what.startswith("Queued"):
            state = "deferred"
        else:
            state = "bounced"
        seen[rcpt] = RecipientSeen(state, "", what)
    return seen
