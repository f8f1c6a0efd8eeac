"""Postfix 2.0 and earlier: uses a more distant MX only when closer ones could not be contacted.

Modelled from recall and the reference's §5 more than from the 2.0 source; each cell says so.
The queue had today's parameters with slower defaults, and none of the MX limits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mxtui.model import Evidence
from mxtui.policy.cells import S, c
from mxtui.policy.profiles import postfix
from mxtui.policy.profiles.base import (
    D,
    Profile,
    ProfileParams,
    RetrySchedule,
    setting,
)


# fmt: off
@dataclass(frozen=True)
class Postfix20Params(ProfileParams):
    soft_bounce: bool = setting(
        False, "bool", "postconf(5) soft_bounce",
        "every bounce becomes a deferral (the mail stays queued)")
    maximal_queue_lifetime: int = setting(
        5 * D, "duration", "postconf(5) maximal_queue_lifetime",
        "how long a message may stay queued before it is returned")
    delay_warning_time: int = setting(
        0, "duration", "postconf(5) delay_warning_time",
        "when to warn the sender of a delay (0 = never)")
    minimal_backoff_time: int = setting(
        1000, "duration", "Postfix 2.0 default (1000s) [M]", "shortest wait between attempts")
    maximal_backoff_time: int = setting(
        4000, "duration", "postconf(5) maximal_backoff_time", "longest wait between attempts")
    queue_run_delay: int = setting(
        1000, "duration", "Postfix 2.0 default (1000s) [M]",
        "how often the deferred queue is scanned")

    def softens_bounces(self) -> bool:
        return self.soft_bounce
# fmt: on


P20 = "Postfix 2.0 smtp(8); reference §5"
NA_P20 = c("NA", "M", "Postfix 2.2 release notes", "Postfix got built-in TLS only in 2.2.")

CELLS = {
    (S.CONNECT, "fail"): c("NX", "M", P20),
    (S.GREETING, "drop"): c("NX", "M", f"{P20}; smtp_helo_timeout",
                            "A server that never greets counts as not contacted, so Postfix 2.0 "
                            "moves on."),
    (S.GREETING, "unexpected"): c("NDR", "I", P20),
    (S.GREETING, "4xx"): c("RQ", "M", P20,
                           "Postfix 2.0 and earlier used a more distant MX only when closer "
                           "ones could not be contacted at all."),
    (S.GREETING, "5xx"): c("NDR", "I", P20),
    (S.EHLO, "421"): c("RQ", "I", P20),
    (S.EHLO, "4xx"): c("H", "M", P20),
    (S.EHLO, "drop"): c("RQ", "I", P20),
    (S.HELO, "4xx"): c("RQ", "I", P20),
    (S.HELO, "5xx"): c("NDR", "I", P20),
    (S.HELO, "drop"): c("RQ", "I", P20),
    (S.HELO, "unexpected"): c("NDR", "I", P20),
    (S.STARTTLS, "2xx"): NA_P20,
    (S.STARTTLS, "refused"): NA_P20,
    (S.STARTTLS, "drop"): NA_P20,
    (S.STARTTLS, "req-4xx"): NA_P20,
    (S.STARTTLS, "req-5xx"): NA_P20,
    (S.AUTH, "4xx"): c("RQ", "I", P20),
    (S.AUTH, "5xx"): c("NDR", "I", P20, "Before smtp_sasl_auth_soft_bounce (2.5) this bounced."),
    (S.AUTH, "drop"): c("RQ", "I", P20),
    (S.MAIL, "4xx"): c("RQ", "M", P20),
    (S.MAIL, "5xx"): c("NDR", "I", P20),
    (S.MAIL, "drop"): c("RQ", "I", P20),
    (S.RCPT, "4xx"): c("r-RQ", "I", P20),
    (S.RCPT, "552"): c("r-RQ", "I", P20),
    (S.RCPT, "5xx"): c("r-NDR", "I", P20),
    (S.RCPT, "drop"): c("RQ", "I", P20),
    (S.DATA, "4xx"): c("RQ", "I", P20),
    (S.DATA, "5xx"): c("NDR", "I", P20),
    (S.DATA, "drop"): c("RQ", "I", P20),
    (S.DOT, "4xx"): c("RQ", "I", P20),
    (S.DOT, "5xx"): c("NDR", "I", P20),
    (S.DOT, "drop"): c("RQ", "I", P20),
    (S.DNS, "nxdomain"): c("NDR", "M", P20),
    (S.DNS, "null-mx"): c("NDR", "I", P20, "Postfix 2.0 predates RFC 7505: the '.' target has "
                          "no address, so the mail bounces as undeliverable."),
    (S.DNS, "tempfail"): c("RQ", "M", P20),
}  # fmt: skip

PROFILE = Profile(
    name="postfix-2.0",
    display="Postfix 2.0",
    description="Postfix 2.0 and earlier: uses a more distant MX only when closer ones could "
    "not be contacted at all.",
    mta="Postfix 2.0",
    params_type=Postfix20Params,
    cells=CELLS,
    retry=RetrySchedule(
        postfix.schedule,
        "delay_warning_time",
        "Postfix 2.0 postconf(5) defaults",
        Evidence.RECALLED,
    ),
    dsn=replace(postfix.DSN, null_mx_status="5.1.10"),
    sources="Postfix 2.0 smtp(8) [M]; reference §5",
    models="Postfix 2.0",
)
