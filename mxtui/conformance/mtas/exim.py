"""Exim 4.96 as a sender: Debian's exim4-daemon-light, unpacked (see `packages`), run per message.

Each message is delivered in the foreground (`-odf`) with `-v`, which prints every
"Connecting to NAME [ADDRESS]:25" and the dialogue; the mainlog has one `=>` (delivered), `**`
(bounced) or `==` (deferred) line per recipient. The spool is fresh for every message: Exim
keeps per-host retry hints there, and a later message would skip a host whose retry time has
not come. The first retry is read from those hints (`exim_dumpdb ... retry`).

The configuration is Exim's own defaults with what loopback needs: no `ignore_target_hosts`
(Debian's and upstream's drop every MX on 127.0.0.0/8), `local_interfaces = 127.0.0.1` (so ::1
is not "self"), a router that files bounces for the sender's domain, the default retry rule
written out, and shorter connect and command timeouts on the smtp transport.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path

from mxtui.conformance.cases import SENDER_DOMAIN, Case
from mxtui.conformance.observe import Dial, MtaRun, RecipientSeen, read_dsn_statuses
from mxtui.conformance.packages import Unpacked, add_users, loader_cache
from mxtui.conformance.world import SELF_ADDRESS, message

USER = "Debian-exim"
TIMEOUTS = {"connect_timeout": "5s", "command_timeout": "5s"}
"""The smtp transport's timeouts (5 minutes each by default): time only, not outcomes."""
RETRY_RULE = "*  *  F,2h,15m; G,16h,1h,1.5; F,4d,6h"

_CONNECTING = re.compile(r"Connecting to (?P<host>\S+) \[(?P<address>[^\]]+)\]:\d+")
_FAILED = re.compile(r"Connecting to (?P<host>\S+) \[(?P<address>[^\]]+)\]:\d+\s*\.\.\.\s*"
                     r"(?P<why>(?!connected).+)$")  # fmt: skip
_REPLY = re.compile(r"^\s*SMTP<< ")
_NO_REPLY = re.compile(r"^\s*SMTP\((?P<why>[^)]*)\)<<")
_TIMEOUT = re.compile(
    r"SMTP timeout after initial connection|Connection timed out|"
    r"timed out"
)
_LINE = re.compile(
    r"^\S+ \S+ (?P<id>\S+) (?P<flag>=>|\*\*|==|->) (?P<rcpt>[^\s:]+):?(?: <(?P<orig>[^>]+)>)?"
    r"(?P<rest>.*)$"
)
_TIME = re.compile(r"(\d\d-\w\w\w-\d{4} \d\d:\d\d:\d\d)")


class Exim(Unpacked):
    NAME = "exim"
    PROFILE = "exim"
    TITLE = "Exim"
    BINARY = "usr/sbin/exim4"
    PACKAGE = "exim4-base"

    def prepare(self, folder: Path) -> None:
        add_users(folder, (USER,))
        loader_cache(folder, [self.root() / "usr/lib/x86_64-linux-gnu"])

    def expected_seconds(self, case: Case) -> float:
        holes = sum(h.get("kind") == "blackhole" for h in case.hosts.values())
        silent = sum(h.get("kind") == "silent" for h in case.hosts.values())
        return case.runs * (1 + 3 * holes + 5 * silent)

    def _config(self, d: Path) -> Path:
        timeouts = "".join(f"  {k} = {v}\n" for k, v in TIMEOUTS.items())
        text = f"""\
primary_hostname = mta.{SENDER_DOMAIN}
qualify_domain = {SENDER_DOMAIN}
exim_path = {self.binary()}
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
local_interfaces = {SELF_ADDRESS}
domainlist local_domains = {SENDER_DOMAIN}
keep_environment =
host_lookup =
rfc1413_hosts =
log_selector = +smtp_connection +outgoing_port

begin routers

bounces:
  driver = accept
  domains = +local_domains
  transport = bounce_file

outbound:
  driver = dnslookup
  transport = remote_smtp
  no_more

begin transports

remote_smtp:
  driver = smtp
  port = 25
{timeouts}
bounce_file:
  driver = appendfile
  file = {d}/mail/bounces
  user = {USER}
  mode = 0644

begin retry

{RETRY_RULE}
"""
        path = d / "exim.conf"
        path.write_text(text)
        os.chmod(path, 0o644)
        return path

    async def deliver(self, case: Case, sender: str, folder: Path) -> MtaRun:
        for sub in ("spool", "log", "mail"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o755)
        for sub in ("spool", "log", "mail"):
            shutil.chown(folder / sub, USER, USER)
        conf = self._config(folder)
        recipients = case.addresses()
        arrival = time.time()
        done = await asyncio.to_thread(
            subprocess.run,
            [str(self.binary()), "-C", str(conf), "-odf", "-v", "-f", sender, *recipients],
            input=message(case, sender, recipients), capture_output=True, timeout=180,
        )  # fmt: skip
        verbose = (done.stdout + done.stderr).decode("utf-8", "replace")
        mainlog = folder / "log" / "mainlog"
        seen: dict[str, RecipientSeen] = {}
        deadline = time.monotonic() + 20
        while True:
            text = mainlog.read_text(errors="replace") if mainlog.exists() else ""
            seen = parse_mainlog(text, recipients)
            bounced = any(s.state == "bounced" for s in seen.values())
            if (len(seen) == len(recipients) and (not bounced or (folder / "mail/bounces")
                    .exists())) or time.monotonic() > deadline:  # fmt: skip
                break
            await asyncio.sleep(0.2)
        statuses = read_dsn_statuses(folder / "mail")
        for rcpt, status in statuses.items():
            if rcpt in seen:
                seen[rcpt] = seen[rcpt].with_bounce_status(status)
        retry = None
        if any(s.state == "deferred" for s in seen.values()):
            retry = self._retry(conf, folder, arrival)
        log = [ln for ln in verbose.splitlines() if ln.strip()] + text.splitlines()
        return MtaRun(dials=parse_verbose(verbose), recipients=seen, retry=retry, log=log)

    def _retry(self, conf: Path, folder: Path, arrival: float) -> tuple[int, int] | None:
        """The earliest "next try" in the retry hints: Exim's first retry, for a queue runner
        that comes by on time (Debian's runs every 30 minutes)."""
        dump = subprocess.run(
            [str(self.root() / "usr/sbin/exim_dumpdb"), str(folder / "spool"), "retry"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        times = [round(t - arrival) for t in next_tries(dump.stdout)]
        if not times:
            return None
        first = min(times)
        return first, first


def next_tries(dump: str) -> list[float]:
    """The "next try" times in `exim_dumpdb SPOOL retry` output, as Unix times. Each hint is two
    lines: the key and the error, then three times with no labels (exim_dumpdb.c): first
    failed, last tried, next try (an expired hint adds " *")."""
    out = []
    for line in dump.splitlines():
        found = _TIME.findall(line)
        if len(found) == 3:
            out.append(datetime.strptime(found[2], "%d-%b-%Y %H:%M:%S").timestamp())
    return out


def parse_verbose(text: str) -> list[Dial]:
    """The connections, in order, from `exim -v`: "Connecting to NAME [ADDRESS]:25 ...", then
    either a reply ("SMTP<< 220 ...") or the failure ("SMTP(Connection refused)<<", with TCP
    Fast Open the failure shows only at the first read)."""
    dials: list[Dial] = []
    replied = True
    for line in text.splitlines():
        if m := _CONNECTING.search(line):
            failed = _FAILED.search(line)
            why = failed["why"].strip() if failed and "TFO" not in failed["why"] else ""
            dials.append(Dial(m["host"].rstrip("."), m["address"], why))
            replied = False
        elif dials and not replied:
            if _REPLY.match(line):
                replied = True
            elif (m := _NO_REPLY.match(line)) and m["why"] not in ("shutdown", "close"):
                dials[-1] = Dial(dials[-1].host, dials[-1].address, m["why"])
                replied = True
            elif (m := _TIMEOUT.search(line)) and not dials[-1].error:
                dials[-1] = Dial(dials[-1].host, dials[-1].address, m.group(0))
    return dials


def parse_mainlog(text: str, recipients: tuple[str, ...]) -> dict[str, RecipientSeen]:
    wanted = {r.lower() for r in recipients}
    seen: dict[str, RecipientSeen] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        rcpt = (m["orig"] or m["rcpt"]).lower()
        if rcpt not in wanted or rcpt in seen:
            continue
        state = {"=>": "delivered", "->": "delivered", "**": "bounced", "==": "deferred"}
        # No status of Exim's own is logged: a code in the line is the remote server's, and
        # Exim's DSNs say 5.0.0 / 4.0.0 whatever it was. The bounce's Status is read instead.
        seen[rcpt] = RecipientSeen(state[m["flag"]], "", m["rest"].strip())
    return seen
