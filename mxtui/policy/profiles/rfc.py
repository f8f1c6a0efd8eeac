"""The RFC 5321 baseline: what the standard requires or suggests, nothing more.

Not a program but a yardstick: each cell cites the section it rests on. Where the RFC allows
both moving on and requeueing, the cell takes the reading the RFC spells out and says the other
is also valid.
"""

from __future__ import annotations

from dataclasses import dataclass

from mxtui.policy.cells import S, c
from mxtui.policy.profiles.base import (
    D,
    DsnFlavour,
    H,
    Profile,
    ProfileParams,
    RetrySchedule,
    setting,
    until,
)
from mxtui.policy.profiles.tls import StandardTls
from mxtui.text import span


# fmt: off
@dataclass(frozen=True)
class RfcParams(ProfileParams):
    first_retry: int = setting(30 * 60, "duration", "RFC 5321 §4.5.4.1 (at least 30 min)",
                               "wait before the first retry")
    retry_interval: int = setting(3 * H, "duration", "RFC 5321 §4.5.4.1 (every 2-3 h)",
                                  "wait between later retries")
    give_up: int = setting(5 * D, "duration", "RFC 5321 §4.5.4.1 (at least 4-5 days)",
                           "how long to keep trying before returning the message")
    dane: bool = setting(True, "bool", "RFC 7672 §2.2, §3",
                         "apply DANE: secure, usable TLSA records make TLS and a matching "
                         "certificate mandatory")
    mta_sts: bool = setting(True, "bool", "RFC 8461 §4, §5",
                            "apply MTA-STS: an enforce policy's MX hosts only, with a "
                            "certificate valid for their names")
# fmt: on


CELLS = {
    (S.CONNECT, "fail"): c("NX", "V", "RFC 5321 §5.1",
                           "A client must be able to try each address in turn."),
    (S.GREETING, "drop"): c("NX", "I", "RFC 5321 §3.8, §5.1"),
    (S.GREETING, "unexpected"): c("NX", "I", "RFC 5321 §4.2, §4.3.2"),
    (S.GREETING, "4xx"): c("NX", "I", "RFC 5321 §3.8, §5.1",
                           "Moving on and requeueing are both valid readings of RFC 5321."),
    (S.GREETING, "5xx"): c("NX>NDR", "I", "RFC 5321 §4.3.2; RFC 7504 §3"),
    (S.EHLO, "421"): c("NX", "I", "RFC 5321 §3.8"),
    (S.EHLO, "4xx"): c("H", "I", "RFC 5321 §3.2"),
    (S.EHLO, "drop"): c("NX", "I", "RFC 5321 §3.8"),
    (S.HELO, "4xx"): c("NX", "I", "RFC 5321 §4.2.1, §5.1"),
    (S.HELO, "5xx"): c("NX>NDR", "I", "RFC 5321 §4.2.1"),
    (S.HELO, "drop"): c("NX", "I", "RFC 5321 §3.8"),
    (S.HELO, "unexpected"): c("NX>NDR", "I", "RFC 5321 §4.2, §4.3.2"),
    (S.STARTTLS, "refused"): c("PLAIN", "M", "RFC 3207 §4.1"),
    (S.STARTTLS, "drop"): c("NX", "I", "RFC 5321 §3.8; RFC 3207"),
    (S.STARTTLS, "req-4xx"): c("NX", "I", "RFC 3207 §4.1; RFC 5321 §5.1"),
    (S.STARTTLS, "req-5xx"): c("NX", "I", "RFC 3207 §4.1; RFC 5321 §5.1"),
    (S.AUTH, "4xx"): c("NX", "I", "RFC 4954 §6"),
    (S.AUTH, "5xx"): c("C", "I", "RFC 4954 §4",
                       "The client may go on unauthenticated; the server may then refuse MAIL."),
    (S.AUTH, "drop"): c("NX", "I", "RFC 5321 §3.8"),
    (S.MAIL, "4xx"): c("RQ", "V", "RFC 5321 §4.2.1, §4.5.4.1",
                       "Trying the next MX at once is also allowed."),
    (S.MAIL, "drop"): c("RQ", "V", "RFC 5321 §3.8"),
    (S.RCPT, "4xx"): c("r-RQ", "V", "RFC 5321 §4.2.1, §4.5.3.1.10"),
    (S.RCPT, "552"): c("r-RQ", "V", "RFC 5321 §4.5.3.1.10"),
    (S.RCPT, "drop"): c("RQ", "V", "RFC 5321 §3.8"),
    (S.DATA, "4xx"): c("RQ", "V", "RFC 5321 §4.2.1"),
    (S.DATA, "drop"): c("RQ", "V", "RFC 5321 §3.8"),
    (S.DOT, "4xx"): c("RQ", "V", "RFC 5321 §4.2.5"),
    (S.DOT, "drop"): c("RQ", "V", "RFC 5321 §3.8, §4.2.5"),
    (S.DNS, "nxdomain"): c("NDR", "V", "RFC 5321 §5.1"),
    (S.DNS, "null-mx"): c("NDR", "M", "RFC 7505 §3 (556 5.1.10)"),
    (S.DNS, "no-address"): c("NDR", "V", "RFC 5321 §5.1",
                             "'If MX records are present, but none of them are usable, or the "
                             "implicit MX is unusable, this situation MUST be reported as an "
                             "error.'"),
    (S.DNS, "tempfail"): c("RQ", "V", "RFC 5321 §5.1"),
}  # fmt: skip


def _schedule(p: RfcParams) -> tuple[tuple[int, ...], int, str]:
    first, every = p.first_retry, p.retry_interval

    def next_after(t: int, k: int) -> int:
        return t + first if k <= 2 else t + every  # two attempts in the first hour

    attempts, give_up = until(next_after, p.give_up, at_lifetime=True)
    return (
        attempts,
        give_up,
        (
            f"retry after {span(first)} twice (two attempts in the first hour), then every "
            f"{span(every)}; give up after {span(p.give_up)} (RFC 5321 §4.5.4.1 suggestions)"
        ),
    )


PROFILE = Profile(
    name="rfc",
    display="RFC 5321",
    description="What the standard requires or suggests, nothing more.",
    mta="an RFC 5321 client",
    params_type=RfcParams,
    cells=CELLS,
    retry=RetrySchedule(_schedule, None, "RFC 5321 §4.5.4.1"),
    tls=StandardTls(),
    dsn=DsnFlavour(
        "Mail Delivery System",
        "MAILER-DAEMON",
        "Delivery Status Notification (Failure)",
        "Delivery Status Notification (Delay)",
        "This is a delivery status notification (RFC 3464) from {mta}.",
        "Your message could not be delivered to the recipient below.",
        "Your message has not been delivered yet; delivery will be retried.",
    ),
    sends_delay_notice=False,
    sources="RFC 5321 §3.8, §4.2, §4.5.4, §5.1",
    models="RFC 5321 (October 2008)",
    untested="the RFC is a text, not a program: nothing to run",
)
