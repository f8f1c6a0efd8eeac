"""Lab SMTP hosts: aiosmtpd servers on loopback, each playing one scripted behaviour.

The lab stands in for the MX hosts of a scenario, so a trainee can watch a sender meet a refusal,
a greylist, an unknown user or a dropped connection without touching the network. Each host is an
``aiosmtpd.smtp.SMTP`` subclass served with ``loop.create_server`` in the caller's own event loop
(not aiosmtpd's threaded Controller): the app and the tests run everything in one loop, and a
simulated clock must be able to clear a greylist without real waiting.

Every 2xx/4xx/5xx reply after the greeting and EHLO carries an RFC 3463 enhanced status code,
like a modern MTA's, because the session and the decision engine read them; a host that plays an
MTA without them (Exim: no ENHANCEDSTATUSCODES) sets ``enhanced_codes = false``.

Options that work with any kind (they are what issue 5's scenarios needed beyond one behaviour
per host):

- ``rcpt_replies``: RCPT answered per recipient from a map (local part or full address →
  ``"accept"`` or a reply such as ``"450 4.2.1 ..."`` / ``"550 5.1.1 ..."``); a recipient not in
  the map gets the kind's own answer (accept, for most kinds).
- ``replies``: the reply to MAIL, RCPT (every recipient not in ``rcpt_replies``), DATA or the
  end-of-data dot, by stage (``{ mail = "451 4.3.0 ...", dot = "554 5.7.1 ..." }``): a 4xx or
  5xx where a real MTA would refuse there, whatever the kind.
- ``up_after_s``: the host is down (connection refused, like `refuse`) until its clock reaches
  this many seconds, then plays its kind. Its clock is simulated time when a walk's `SimClock`
  is attached, else seconds since the host was made.
- ``relay`` / ``relay_profile``: a store-and-forward host (a backup MX). The host itself only
  accepts; the delivery walk, told about relays (`relay_profiles`), makes the host's own onward
  delivery as a second hop, under `relay_profile`.

Every host keeps a transcript of each connection (`LabSMTPHost.transcripts`: the commands and
the first line of each reply), which is how the conformance harness sees what a real MTA said.

The package: `behaviour` (what a host does, from a scenario table), `codes` (enhanced status
codes for aiosmtpd's replies), `protocol` (the aiosmtpd protocol and handler), `host` (hosts on
loopback ports, alone or as a group).
"""

from mxtui.lab.hosts.behaviour import (
    DROP_STAGES,
    KINDS,
    DropStage,
    HostBehaviour,
    Kind,
    ReceivedMessage,
    behaviour_from_dict,
    relay_profiles,
)
from mxtui.lab.hosts.codes import with_enhanced_code, without_enhanced_code
from mxtui.lab.hosts.host import LabSMTP, LabSMTPHost, check_loopback
from mxtui.lab.hosts.protocol import (
    DEFAULT_SIZE,
    IDLE_TIMEOUT_S,
    SILENT_CLOSE_S,
    quiet_aiosmtpd,
    reset_connection,
)

__all__ = [
    "DEFAULT_SIZE",
    "DROP_STAGES",
    "IDLE_TIMEOUT_S",
    "KINDS",
    "SILENT_CLOSE_S",
    "DropStage",
    "HostBehaviour",
    "Kind",
    "LabSMTP",
    "LabSMTPHost",
    "ReceivedMessage",
    "behaviour_from_dict",
    "check_loopback",
    "quiet_aiosmtpd",
    "relay_profiles",
    "reset_connection",
    "with_enhanced_code",
    "without_enhanced_code",
]
