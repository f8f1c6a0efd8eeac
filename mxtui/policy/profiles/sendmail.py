"""Sendmail 8.17: moves to the next MX host on most failures; retries at every queue run."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from mxtui.model import Evidence, Proof, TryTarget
from mxtui.policy.cells import S, c
from mxtui.policy.profiles.base import (
    D,
    DsnFlavour,
    H,
    HostShuffle,
    MoveOn,
    Profile,
    ProfileParams,
    RetrySchedule,
    ipv4_after,
    setting,
    until,
)
from mxtui.text import span


# fmt: off
@dataclass(frozen=True)
class SendmailParams(ProfileParams):
    queue_interval: int = setting(
        30 * 60, "duration", "sendmail -q30m (op guide; Debian 10m)",
        "how often the queue runner retries every queued message")
    timeout_queuereturn: int = setting(
        5 * D, "duration", "sendmail cf/README Timeout.queuereturn",
        "how long a message may stay queued before it is returned",
        name="Timeout.queuereturn")
    timeout_queuewarn: int = setting(
        4 * H, "duration", "sendmail cf/README Timeout.queuewarn",
        "when to warn the sender of a delay (cf default; binary default 0)",
        name="Timeout.queuewarn")
# fmt: on


SM = "Sendmail deliver.c (goto tryhost)"
TESTED = "Sendmail 8.17.1.9"
"""The version run as a sender (Debian 12's sendmail-bin, in tests/conformance)."""


class SendmailOrdering(HostShuffle):
    """domain.c getmxrr: MX hosts by preference, ties broken by mxrand (1119-1145), a hash of
    the host name with a seed taken from the clock once per process, so equal-preference hosts
    come in a new order at every delivery attempt; every MX name is kept, so an address listed
    under several names is dialled once per name. daemon.c makeconnection looks a host up in
    InetMode first (2163, 2433-2442), AF_INET6 whenever the machine can open an IPv6 socket
    (conf.c:403-409): a host's IPv6 addresses before its IPv4 ones."""

    merge_duplicates = False
    rule = (
        "MX hosts lowest preference first, hosts of equal preference in a new random order at "
        "each attempt, each host's addresses together, IPv6 first; an address listed under "
        "several MX names is dialled once per name"
    )
    evidence = Proof(
        Evidence.TESTED,
        "Sendmail domain.c:795-830, 1119-1145; daemon.c:2163, 2433-2442; conf.c:403-409",
        TESTED,
        ("dual-stack-host-order", "dual-stack-v6-refuses", "one-address-three-names",
         "one-address-five-names-then-backup", "equal-preference-shuffle"),
    )  # fmt: skip

    def group(self, preference: int, hosts: list[Any], rng: random.Random) -> list[TryTarget]:
        hosts = list(hosts)
        rng.shuffle(hosts)
        return [t for h in hosts for t in sorted(h.targets(preference), key=ipv4_after)]


CELLS = {
    (S.CONNECT, "fail"): c("NX", "V", SM),
    (S.GREETING, "drop"): c("NX", "V", SM),
    (S.GREETING, "unexpected"): c("NX>NDR", "V", SM),
    (S.GREETING, "4xx"): c("NX", "V", SM),
    (S.GREETING, "5xx"): c("NX>NDR", "I", SM, "When no host is left the status is "
                           "EX_UNAVAILABLE."),
    (S.EHLO, "421"): c("NX", "V", f"{SM}; usersmtp.c",
                       "Sendmail sends QUIT and treats 421 as a tempfail."),
    (S.EHLO, "4xx"): c("NX", "V", "Sendmail usersmtp.c", "Sendmail treats EHLO 4xx as a "
                       "tempfail."),
    (S.EHLO, "drop"): c("NX", "I", SM),
    (S.HELO, "4xx"): c("NX", "V", SM),
    (S.HELO, "5xx"): c("NX>NDR", "I", SM),
    (S.HELO, "drop"): c("NX", "V", SM),
    (S.HELO, "unexpected"): c("NX>NDR", "I", SM),
    (S.STARTTLS, "refused"): c("PLAIN", "?", "Sendmail usersmtp.c (unverified)"),
    (S.STARTTLS, "drop"): c("NX", "?", "Sendmail (unverified)"),
    (S.STARTTLS, "req-4xx"): c("NX", "?", "Sendmail (unverified)"),
    (S.STARTTLS, "req-5xx"): c("NX", "?", "Sendmail (unverified)"),
    (S.AUTH, "4xx"): c("NX", "I", "Sendmail usersmtp.c"),
    (S.AUTH, "5xx"): c("C", "I", "Sendmail usersmtp.c"),
    (S.AUTH, "drop"): c("NX", "I", SM),
    (S.MAIL, "4xx"): c("NX", "V", SM),
    (S.MAIL, "drop"): c("NX", "V", SM),
    (S.RCPT, "4xx"): c("r-NX", "V", SM, "'try them on the next host'."),
    (S.RCPT, "552"): c("r-NDR", "I", SM),
    (S.RCPT, "drop"): c("NX", "V", SM),
    (S.DATA, "4xx"): c("NX", "V", SM, "Only after at least one recipient was accepted."),
    (S.DATA, "drop"): c("NX", "I", SM),
    (S.DOT, "4xx"): c("NX", "V", SM),
    (S.DOT, "drop"): c("NX", "V", SM),
    (S.DNS, "nxdomain"): c("NDR", "M", "Sendmail deliver.c (host unknown)"),
    (S.DNS, "null-mx"): c("NDR", "V", "Sendmail deliver.c (556 5.1.10)"),
    (S.DNS, "no-address"): c("NDR", "M", "Sendmail deliver.c (host unknown)"),
    (S.DNS, "tempfail"): c("RQ", "M", "Sendmail domain.c"),
    **{
        (S.STARTTLS, key): c("NA", "M", "sendmail 8.17 (not checked)",
                             "This profile models sendmail without DANE or MTA-STS "
                             "(sendmail's own DANE support is a build option, not modelled).")
        for key in ("not-offered", "dane-fail", "sts-fail", "sts-not-listed", "tlsa-error")
    },
}  # fmt: skip


def _schedule(p: SendmailParams) -> tuple[tuple[int, ...], int, str]:
    interval = p.queue_interval
    attempts, give_up = until(lambda t, _k: t + interval, p.timeout_queuereturn,
                              at_lifetime=False)  # fmt: skip
    return (
        attempts,
        give_up,
        (
            f"every queue run (-q{span(interval)}) retries every job, no backoff; returned once "
            f"older than Timeout.queuereturn={span(p.timeout_queuereturn)}"
        ),
    )


PROFILE = Profile(
    name="sendmail",
    display="Sendmail 8.17",
    description="Moves to the next MX host on most failures; retries at every queue run.",
    mta="Sendmail",
    params_type=SendmailParams,
    cells=CELLS,
    retry=RetrySchedule(_schedule, "Timeout.queuewarn", "Sendmail envelope.c; cf/README Timeout.*"),
    dsn=DsnFlavour(
        "Mail Delivery Subsystem",
        "MAILER-DAEMON",
        "Returned mail: see transcript for details",
        "Warning: could not send message for past {age}",
        "The original message was received at {arrival} from the sender.",
        "The following addresses had permanent fatal errors.",
        "This is only a warning message; you do not need to resend your message. It will be "
        "retried until it is {lifetime} old.",
        # deliver.c:4270-4271: a host that does not resolve (EX_NOHOST) is 5.1.2.
        statuses={"nxdomain": "5.1.2", "no-address": "5.1.2"},
        # A 5xx greeting sets 5.5.0 itself (usersmtp.c:309); a 5xx to DATA returns
        # EX_UNAVAILABLE (usersmtp.c:2733-2738), written as 5.5.0 (deliver.c:4281-4285).
        stage_statuses={(S.GREETING, "5xx"): "5.5.0", (S.DATA, "5xx"): "5.5.0"},
        evidence=Proof(
            Evidence.TESTED,
            "Sendmail deliver.c:4255-4295, usersmtp.c:309, 2733-2738",
            TESTED,
            ("only-greets-554", "data-554", "domain-nxdomain", "rcpt-550"),
        ),
    ),
    ordering=SendmailOrdering(),
    moving=MoveOn(flat_list=False),
    sources="Sendmail deliver.c, usersmtp.c, domain.c; cf/README",
    models="Sendmail 8.17.1.9",
)
