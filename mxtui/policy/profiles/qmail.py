"""qmail (notqmail): moves on only when the connection fails; HELO only, no TLS; no delay
notices. Retries at birth + (⌊√age⌋ + 20)² s, about 400·k²."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mxtui.policy.cells import S, c
from mxtui.policy.profiles.base import (
    DsnFlavour,
    Ordering,
    Profile,
    ProfileParams,
    RetrySchedule,
    setting,
    until,
)


# fmt: off
@dataclass(frozen=True)
class QmailParams(ProfileParams):
    queuelifetime: int = setting(
        604800, "duration", "qmail-send(8) control/queuelifetime",
        "how long a message may stay queued before a temporary failure becomes permanent")
# fmt: on


QM = "notqmail qmail-remote.c"
NA_QM = c("NA", "V", QM, "qmail-remote speaks HELO only and has no STARTTLS or AUTH.")

CELLS = {
    (S.CONNECT, "fail"): c("NX", "V", f"{QM}; timeoutconnect=60",
                           "A failed connection is the only thing that makes qmail move on."),
    (S.GREETING, "drop"): c("RQ", "V", QM, "Once connected, qmail never tries another host (Z)."),
    (S.GREETING, "unexpected"): c("RQ", "V", QM, "Any non-220 greeting: Z."),
    (S.GREETING, "4xx"): c("RQ", "V", QM,
                           "qmail uses another MX only when it cannot connect at all."),
    (S.GREETING, "5xx"): c("RQ", "V", QM,
                           "Any non-220 greeting, even 5xx, is temporary for qmail (Z)."),
    **{(S.EHLO, o): NA_QM for o in ("2xx", "421", "4xx", "5xx", "drop", "unexpected")},
    (S.HELO, "4xx"): c("RQ", "V", QM, "A non-250 HELO reply: Z."),
    (S.HELO, "5xx"): c("RQ", "V", QM, "A non-250 HELO reply: Z."),
    (S.HELO, "drop"): c("RQ", "V", QM),
    (S.HELO, "unexpected"): c("RQ", "V", QM, "A non-250 HELO reply: Z."),
    **{(S.STARTTLS, o): NA_QM for o in ("2xx", "refused", "drop", "req-4xx", "req-5xx")},
    **{(S.AUTH, o): NA_QM for o in ("2xx", "3xx", "4xx", "5xx", "drop")},
    (S.MAIL, "4xx"): c("RQ", "V", QM, "MAIL 4xx: Z."),
    (S.MAIL, "5xx"): c("NDR", "V", QM, "MAIL 5xx: D."),
    (S.MAIL, "drop"): c("RQ", "V", QM),
    (S.MAIL, "unexpected"): c("NDR", "I", QM,
                              "qmail-remote compares the code with 400 and 500 only."),
    (S.RCPT, "4xx"): c("r-RQ", "V", QM, "RCPT 4xx: s (this recipient only)."),
    (S.RCPT, "552"): c("r-NDR", "V", QM, "RCPT 5xx: h."),
    (S.RCPT, "5xx"): c("r-NDR", "V", QM, "RCPT 5xx: h."),
    (S.RCPT, "drop"): c("RQ", "V", QM),
    (S.DATA, "4xx"): c("RQ", "V", QM, "DATA 4xx: Z."),
    (S.DATA, "5xx"): c("NDR", "V", QM, "DATA 5xx: D."),
    (S.DATA, "drop"): c("RQ", "V", QM),
    (S.DATA, "unexpected"): c("RQ", "I", QM, "qmail-remote wants 354 exactly; anything else "
                              "below 500 is temporary."),
    (S.DOT, "4xx"): c("RQ", "V", QM, "'.' 4xx: Z."),
    (S.DOT, "5xx"): c("NDR", "V", QM, "'.' 5xx: D."),
    (S.DOT, "drop"): c("RQ", "V", QM, "qmail flags it 'Possible duplicate!'."),
    (S.DOT, "unexpected"): c("RQ", "I", QM),
    (S.DNS, "nxdomain"): c("NDR", "M", QM, "qmail: 'Sorry, I couldn't find any host named "
                           "...'."),
    (S.DNS, "null-mx"): c("NDR", "M", QM),
    (S.DNS, "tempfail"): c("RQ", "M", QM, "qmail: 'CNAME lookup failed temporarily "
                           "(#4.4.3)'."),
}  # fmt: skip


def _schedule(p: QmailParams) -> tuple[tuple[int, ...], int, str]:
    attempts, give_up = until(
        lambda t, _k: (math.isqrt(t) + 20) ** 2, p.queuelifetime, at_lifetime=False
    )
    return (
        attempts,
        give_up,
        (
            "next = birth + (floor(sqrt(age)) + 20)^2 s (qmail-send nextretry, chanskip 20); "
            f"after queuelifetime={p.queuelifetime} s one more attempt, whose temporary failure is "
            "final"
        ),
    )


PROFILE = Profile(
    name="qmail",
    display="qmail (notqmail)",
    description="Moves on only when the connection fails; HELO only, no TLS; no delay notices.",
    mta="qmail",
    params_type=QmailParams,
    cells=CELLS,
    retry=RetrySchedule(_schedule, None, "notqmail qmail-send.c (nextretry)"),
    dsn=DsnFlavour(
        "",
        "MAILER-DAEMON",
        "failure notice",
        "",
        "Hi. This is the qmail-send program at {mta}.",
        "I'm afraid I wasn't able to deliver your message to the following addresses. This is "
        "a permanent error; I've given up. Sorry it didn't work out. (qmail itself sends this "
        "as plain text in its own bounce format, without the delivery-status part; it is shown "
        "here in RFC 3464 form for comparison.)",
        "",
    ),
    ordering=Ordering(),
    sends_delay_notice=False,
    sources="notqmail qmail-remote.c, qmail-send.c",
    models="notqmail 1.09 (source only: no Debian package to run)",
)
