"""Exim 4: tries the next host on any deferral; retry rule F,2h,15m; G,16h,1h,1.5; F,4d,6h.

hosts_max_try counts addresses, but once it is reached Exim still tries one address of each
worse preference (up to hosts_max_try_hardlimit): the spec's "How the limits for the number
of hosts to try are used".
"""

from __future__ import annotations

from dataclasses import dataclass

from mxtui.model import DecisionContext
from mxtui.policy.cells import S, c
from mxtui.policy.profiles.base import (
    D,
    DsnFlavour,
    H,
    MoveOn,
    Ordering,
    Profile,
    ProfileParams,
    RetrySchedule,
    ceil_to,
    setting,
    until,
)


# fmt: off
@dataclass(frozen=True)
class EximParams(ProfileParams):
    hosts_max_try: int = setting(
        5, "int", "Exim spec, smtp transport hosts_max_try",
        "IP addresses tried per delivery attempt (one of each worse preference still tried)")
    hosts_max_try_hardlimit: int = setting(
        50, "int", "Exim spec, smtp transport",
        "absolute cap on addresses tried per delivery attempt")
    delay_warning: int = setting(
        24 * H, "duration", "Exim spec, main option delay_warning",
        "when to warn the sender of a delay (0 = never)")
    queue_run_interval: int = setting(
        0, "duration", "exim -qNm (Debian: 30m)",
        "queue runner interval; 0 = an ideal runner that retries exactly on time")
# fmt: on


class EximLimits(MoveOn):
    """hosts_max_try within a preference, at least one address of every worse preference,
    hosts_max_try_hardlimit in all (spec, smtp transport)."""

    rule = (
        "tries up to hosts_max_try addresses, then still one address of each worse "
        "preference, never more than hosts_max_try_hardlimit"
    )

    def final_reason(self, params: ProfileParams, ctx: DecisionContext) -> str:
        assert isinstance(params, EximParams)
        if ctx.addresses_tried >= params.hosts_max_try_hardlimit:
            return f"hosts_max_try_hardlimit={params.hosts_max_try_hardlimit} is reached"
        if ctx.addresses_tried >= params.hosts_max_try and not ctx.next_is_higher_preference:
            return f"hosts_max_try={params.hosts_max_try} is reached"
        return ""

    def skips_rest_of_preference(self, params: ProfileParams, dialled: int) -> bool:
        assert isinstance(params, EximParams)
        return dialled >= params.hosts_max_try


EX = "Exim transports/smtp.c; spec §49.2"

CELLS = {
    (S.CONNECT, "fail"): c("NX", "V", EX, "Exim also keeps a retry record for that IP address."),
    (S.GREETING, "drop"): c("NX", "V", EX),
    (S.GREETING, "unexpected"): c("NX", "V", EX, "A non-2xx greeting is a host error."),
    (S.GREETING, "4xx"): c("NX", "V", EX),
    (S.GREETING, "5xx"): c("NX>NDR", "V", f"{EX} (FAILED: only on the last host)"),
    (S.EHLO, "421"): c("H", "V", EX, "Exim falls back to HELO after any non-2xx EHLO; after a "
                       "421 the connection is gone, so that fails and Exim moves on (H→NX)."),
    (S.EHLO, "4xx"): c("H", "V", EX),
    (S.EHLO, "drop"): c("NX", "V", EX),
    (S.HELO, "4xx"): c("NX", "V", EX),
    (S.HELO, "5xx"): c("NX>NDR", "V", f"{EX} (FAILED: only on the last host)"),
    (S.HELO, "drop"): c("NX", "V", EX),
    (S.HELO, "unexpected"): c("NX>NDR", "I", EX),
    (S.STARTTLS, "refused"): c("PLAIN", "V", f"{EX}; tls_tempfail_tryclear=true"),
    (S.STARTTLS, "drop"): c("RECON", "V", EX),
    (S.STARTTLS, "req-4xx"): c("NX", "V", f"{EX}; hosts_require_tls"),
    (S.STARTTLS, "req-5xx"): c("NX", "V", f"{EX}; hosts_require_tls"),
    (S.AUTH, "4xx"): c("NX", "M", "Exim spec, smtp transport AUTH"),
    (S.AUTH, "5xx"): c("C", "M", "Exim spec, smtp transport hosts_require_auth",
                       "Unless the host is in hosts_require_auth, Exim carries on "
                       "unauthenticated."),
    (S.AUTH, "drop"): c("NX", "M", EX),
    (S.MAIL, "4xx"): c("NX", "V", EX, "Exim tries the next host in the same run."),
    (S.MAIL, "drop"): c("NX", "V", EX),
    (S.RCPT, "4xx"): c("r-NX", "V", EX, "The reference cell reads 'r-RQ, other hosts tried': "
                       "Exim defers the address on this host and tries it on the next host in "
                       "the same run."),
    (S.RCPT, "552"): c("r-NDR", "I", EX),
    (S.RCPT, "drop"): c("NX", "V", EX, "All addresses are deferred."),
    (S.DATA, "4xx"): c("NX", "V", EX),
    (S.DATA, "drop"): c("NX", "I", EX),
    (S.DOT, "4xx"): c("NX", "V", EX),
    (S.DOT, "drop"): c("NX", "V", EX),
    (S.DNS, "nxdomain"): c("NDR", "M", "Exim dnslookup router (unrouteable)"),
    (S.DNS, "null-mx"): c("NDR", "I", "Exim dnslookup router declines (unrouteable)"),
    (S.DNS, "tempfail"): c("RQ", "M", "Exim dnslookup router"),
}  # fmt: skip


def _schedule(p: EximParams) -> tuple[tuple[int, ...], int, str]:
    quantum = p.queue_run_interval
    state = {"gap": 0}

    def next_after(t: int, _k: int) -> int:
        if t <= 2 * H:  # F,2h,15m
            gap = 15 * 60
        elif t <= 16 * H:  # G,16h,1h,1.5: previous gap × 1.5, at least 1h
            gap = max(H, state["gap"] * 3 // 2)
        else:  # F,4d,6h
            gap = 6 * H
        gap = min(gap, 24 * H)  # retry_interval_max
        state["gap"] = gap
        return ceil_to(t + gap, quantum)

    attempts, give_up = until(next_after, 4 * D, at_lifetime=False)
    formula = (
        "retry rule * * F,2h,15m; G,16h,1h,1.5; F,4d,6h from the first failure; after the 4d "
        "cutoff the next failure bounces (delay_after_cutoff=true)"
    )
    return attempts, give_up, formula


PROFILE = Profile(
    name="exim",
    display="Exim 4",
    description="Tries the next host on any deferral; retry rules F,2h,15m; G,16h,1h,1.5; F,4d,6h.",
    mta="Exim",
    params_type=EximParams,
    cells=CELLS,
    retry=RetrySchedule(
        _schedule, "delay_warning", "Exim retry.c; spec ch. 32 (retry configuration)"
    ),
    dsn=DsnFlavour(
        "Mail Delivery System",
        "Mailer-Daemon",
        "Mail delivery failed: returning message to sender",
        "Warning: message delayed {age}",
        "This message was created automatically by mail delivery software.",
        "A message that you sent could not be delivered to one or more of its recipients. "
        "This is a permanent error.",
        "A message that you sent has not yet been delivered to one or more of its recipients "
        "after more than {age} on the queue. No action is required on your part; delivery "
        "attempts will continue for some time.",
    ),
    ordering=Ordering(),
    moving=EximLimits(),
    sources="Exim transports/smtp.c, retry.c; spec ch. 30, 32, 49",
    models="Exim 4.96",
)
