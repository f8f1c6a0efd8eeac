"""OpenSMTPD: like qmail in most cells, but EHLO falls back to HELO and a rejected banner
penalises the route; retries at 400·k² s, expires at 4 days."""

from __future__ import annotations

from dataclasses import dataclass

from mxtui.model import Evidence
from mxtui.policy.cells import S, c
from mxtui.policy.profiles.base import (
    D,
    DsnFlavour,
    H,
    Ordering,
    Profile,
    ProfileParams,
    RetrySchedule,
    setting,
    until,
)


# fmt: off
@dataclass(frozen=True)
class OpensmtpdParams(ProfileParams):
    queue_ttl: int = setting(
        4 * D, "duration", "smtpd.conf(5) queue ttl",
        "how long a message may stay queued (expires at ctime + ttl)")
    bounce_warn_interval: int = setting(
        4 * H, "duration", "smtpd.conf(5) bounce warn-interval",
        "when the sender is told of a delay")
# fmt: on


OS = "OpenSMTPD mta_session.c"
OSQ = "reference §3: OpenSMTPD follows the qmail column"
FIRST_DIGIT = "OpenSMTPD: a first digit 5 is permanent, anything else temporary."

CELLS = {
    (S.CONNECT, "fail"): c("NX", "I", OSQ),
    (S.GREETING, "drop"): c("RQ", "I", OSQ),
    (S.GREETING, "unexpected"): c("RQ", "I", OSQ),
    (S.GREETING, "4xx"): c("RQ", "V", OS, "The route is penalised and the envelope tempfailed."),
    (S.GREETING, "5xx"): c("RQ", "V", OS, "A rejected banner penalises the route; never "
                           "bounced."),
    (S.EHLO, "421"): c("RQ", "I", OSQ),
    (S.EHLO, "4xx"): c("H", "V", OS, "OpenSMTPD falls back to HELO."),
    (S.EHLO, "drop"): c("RQ", "I", OSQ),
    (S.HELO, "4xx"): c("RQ", "V", OS, "A rejected HELO penalises the route; never bounced."),
    (S.HELO, "5xx"): c("RQ", "V", OS, "A rejected HELO penalises the route; never bounced."),
    (S.HELO, "drop"): c("RQ", "I", OSQ),
    (S.HELO, "unexpected"): c("RQ", "I", OSQ),
    (S.STARTTLS, "refused"): c("PLAIN", "I", OS),
    (S.STARTTLS, "drop"): c("RQ", "I", OSQ),
    (S.STARTTLS, "req-4xx"): c("RQ", "I", OSQ),
    (S.STARTTLS, "req-5xx"): c("RQ", "I", OSQ),
    (S.AUTH, "4xx"): c("RQ", "I", OSQ),
    (S.AUTH, "5xx"): c("RQ", "I", OSQ),
    (S.AUTH, "drop"): c("RQ", "I", OSQ),
    (S.MAIL, "4xx"): c("RQ", "V", OS),
    (S.MAIL, "drop"): c("RQ", "I", OSQ),
    (S.MAIL, "unexpected"): c("RQ", "I", OS, FIRST_DIGIT),
    (S.RCPT, "4xx"): c("r-RQ", "V", OS),
    (S.RCPT, "552"): c("r-NDR", "V", OS),
    (S.RCPT, "drop"): c("RQ", "I", OSQ),
    (S.RCPT, "unexpected"): c("r-RQ", "I", OS, FIRST_DIGIT),
    (S.DATA, "4xx"): c("RQ", "V", OS),
    (S.DATA, "drop"): c("RQ", "I", OSQ),
    (S.DATA, "unexpected"): c("RQ", "I", OS, FIRST_DIGIT),
    (S.DOT, "4xx"): c("RQ", "V", OS),
    (S.DOT, "drop"): c("RQ", "I", OSQ),
    (S.DOT, "unexpected"): c("RQ", "I", OS, FIRST_DIGIT),
    (S.DNS, "nxdomain"): c("NDR", "I", OSQ),
    (S.DNS, "null-mx"): c("NDR", "I", OSQ),
    (S.DNS, "tempfail"): c("RQ", "I", OSQ),
}  # fmt: skip


def _schedule(p: OpensmtpdParams) -> tuple[tuple[int, ...], int, str]:
    attempts, give_up = until(lambda _t, k: 400 * k * k, p.queue_ttl, at_lifetime=True)
    return attempts, give_up, "next = ctime + 400·k² s; expires at ctime + queue ttl"


PROFILE = Profile(
    name="opensmtpd",
    display="OpenSMTPD 7",
    description="Like qmail, but EHLO falls back to HELO and a rejected banner penalises the "
    "route; retries at 400·k² s.",
    mta="OpenSMTPD",
    params_type=OpensmtpdParams,
    cells=CELLS,
    retry=RetrySchedule(
        _schedule,
        "bounce_warn_interval",
        "OpenSMTPD scheduler_ramqueue.c; smtpd.conf(5)",
        Evidence.TESTED,
        "OpenSMTPD 6.8.0p2",
    ),
    dsn=DsnFlavour(
        "Mailer Daemon",
        "MAILER-DAEMON",
        "Delivery status notification: error",
        "Delivery status notification: delay",
        "Hi! This is the MAILER-DAEMON, please DO NOT REPLY to this email.",
        "An error has occurred while attempting to deliver a message for the following "
        "list of recipients:",
        "Delivery of your message has been delayed for {age} for the following recipients; it "
        "will be retried until {until}:",
    ),
    ordering=Ordering(),
    sources="OpenSMTPD mta_session.c, scheduler_ramqueue.c; smtpd.conf(5)",
    models="OpenSMTPD 7.8.0p1 (source)",
)
