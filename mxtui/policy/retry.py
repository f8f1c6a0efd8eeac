"""Retry schedules per profile: when the next attempts come, when the sender is warned, when
the message is returned.

Each schedule is the MTA's own formula (reference section 4) run forward from the first attempt
(t = 0), assuming every attempt fails and the queue runner is ideal (or, where the MTA's own
scan interval is part of its design, as Postfix's queue_run_delay is, attempts wait for a scan).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from mxtui.model import Evidence, RetryTimeline
from mxtui.policy.profiles import ParamValue, get_profile, resolve_params

_H = 3600
_D = 86400
_MAX_ATTEMPTS = 10_000  # a guard: every schedule here reaches give-up long before this


def _ceil_to(t: int, quantum: int) -> int:
    return t if quantum <= 0 else -(-t // quantum) * quantum


def _until(next_after: Callable[[int, int], int], give_up: int, *, at_lifetime: bool) -> tuple:
    """Attempts from t=0 by `next_after(t, k)`; stop at the give-up rule.

    With `at_lifetime` the message expires exactly at `give_up` without a further attempt
    (OpenSMTPD, Exchange, the RFC's "give up after"); otherwise the first attempt at or after
    `give_up` is the last one and its failure returns the message (Postfix, qmail, Sendmail,
    Exim), so give-up is that attempt's time.
    """
    attempts = [0]
    for k in range(1, _MAX_ATTEMPTS):
        t = next_after(attempts[-1], k)
        if at_lifetime and t >= give_up:
            return tuple(attempts), give_up
        attempts.append(t)
        if not at_lifetime and t >= give_up:
            return tuple(attempts), t
    raise RuntimeError("retry schedule did not reach give-up")  # pragma: no cover


def _postfix(p: Mapping[str, ParamValue]) -> tuple[tuple[int, ...], int, str]:
    lo, hi, scan = (
        int(p["minimal_backoff_time"]),
        int(p["maximal_backoff_time"]),
        int(p["queue_run_delay"]),
    )
    attempts, give_up = _until(
        lambda t, _k: _ceil_to(t + min(max(t, lo), hi), scan),
        int(p["maximal_queue_lifetime"]),
        at_lifetime=False,
    )
    formula = (
        f"next = now + clamp(age, {lo}, {hi}) s, taken at the next queue scan (every {scan} s); "
        f"returned after the first failed attempt at age >= {p['maximal_queue_lifetime']} s"
    )
    return attempts, give_up, formula


def _exim(p: Mapping[str, ParamValue]) -> tuple[tuple[int, ...], int, str]:
    quantum = int(p["queue_run_interval"])
    state = {"gap": 0}

    def next_after(t: int, _k: int) -> int:
        if t <= 2 * _H:  # F,2h,15m
            gap = 15 * 60
        elif t <= 16 * _H:  # G,16h,1h,1.5: previous gap × 1.5, at least 1h
            gap = max(_H, state["gap"] * 3 // 2)
        else:  # F,4d,6h
            gap = 6 * _H
        gap = min(gap, 24 * _H)  # retry_interval_max
        state["gap"] = gap
        return _ceil_to(t + gap, quantum)

    attempts, give_up = _until(next_after, 4 * _D, at_lifetime=False)
    formula = (
        "retry rule * * F,2h,15m; G,16h,1h,1.5; F,4d,6h from the first failure; after the 4d "
        "cutoff the next failure bounces (delay_after_cutoff=true)"
    )
    return attempts, give_up, formula


def _qmail(p: Mapping[str, ParamValue]) -> tuple[tuple[int, ...], int, str]:
    attempts, give_up = _until(
        lambda t, _k: (math.isqrt(t) + 20) ** 2, int(p["queuelifetime"]), at_lifetime=False
    )
    return (
        attempts,
        give_up,
        (
            "next = birth + (floor(sqrt(age)) + 20)^2 s (qmail-send nextretry, chanskip 20); "
            f"after queuelifetime={p['queuelifetime']} s one more attempt, whose temporary "
            "failure is final"
        ),
    )


def _sendmail(p: Mapping[str, ParamValue]) -> tuple[tuple[int, ...], int, str]:
    interval = int(p["queue_interval"])
    attempts, give_up = _until(
        lambda t, _k: t + interval, int(p["Timeout.queuereturn"]), at_lifetime=False
    )
    return (
        attempts,
        give_up,
        (
            f"every queue run (-q, {interval} s) retries every job, no backoff; returned once "
            f"older than Timeout.queuereturn={p['Timeout.queuereturn']} s"
        ),
    )


def _exchange(p: Mapping[str, ParamValue]) -> tuple[tuple[int, ...], int, str]:
    glitch_n, glitch_i = int(p["QueueGlitchRetryCount"]), int(p["QueueGlitchRetryInterval"])
    trans_n, trans_i = int(p["TransientFailureRetryCount"]), int(p["TransientFailureRetryInterval"])
    then_i = int(p["OutboundConnectionFailureRetryInterval"])

    def next_after(t: int, k: int) -> int:
        if k <= glitch_n:
            return t + glitch_i
        if k <= glitch_n + trans_n:
            return t + trans_i
        return t + then_i

    attempts, give_up = _until(next_after, int(p["MessageExpirationTimeout"]), at_lifetime=True)
    return (
        attempts,
        give_up,
        (
            f"{glitch_n} glitch retries every {glitch_i} s, {trans_n} transient retries every "
            f"{trans_i} s, then every {then_i} s; NDR at MessageExpirationTimeout"
        ),
    )


def _opensmtpd(p: Mapping[str, ParamValue]) -> tuple[tuple[int, ...], int, str]:
    attempts, give_up = _until(lambda _t, k: 400 * k * k, int(p["queue_ttl"]), at_lifetime=True)
    return attempts, give_up, "next = ctime + 400·k² s; expires at ctime + queue ttl"


def _rfc(p: Mapping[str, ParamValue]) -> tuple[tuple[int, ...], int, str]:
    first, every = int(p["first_retry"]), int(p["retry_interval"])

    def next_after(t: int, k: int) -> int:
        return t + first if k <= 2 else t + every  # two attempts in the first hour

    attempts, give_up = _until(next_after, int(p["give_up"]), at_lifetime=True)
    return (
        attempts,
        give_up,
        (
            f"retry after {first} s twice (two attempts in the first hour), then every {every} s; "
            f"give up after {p['give_up']} s (RFC 5321 §4.5.4.1 suggestions)"
        ),
    )


_SCHEDULES = {
    "rfc": (_rfc, None, "RFC 5321 §4.5.4.1", Evidence.VERIFIED),
    "postfix": (_postfix, "delay_warning_time", "Postfix qmgr_active.c; postconf(5)",
                Evidence.VERIFIED),
    "postfix-2.0": (_postfix, "delay_warning_time", "Postfix 2.0 postconf(5) defaults",
                    Evidence.RECALLED),
    "exim": (_exim, "delay_warning", "Exim retry.c; spec ch. 32 (retry configuration)",
             Evidence.VERIFIED),
    "sendmail": (_sendmail, "Timeout.queuewarn", "Sendmail envelope.c; cf/README Timeout.*",
                 Evidence.VERIFIED),
    "qmail": (_qmail, None, "notqmail qmail-send.c (nextretry)", Evidence.VERIFIED),
    "exchange": (_exchange, "DelayNotificationTimeout",
                 "Exchange Set-TransportService docs (MessageRetryInterval conflicting)",
                 Evidence.VERIFIED),
    "opensmtpd": (_opensmtpd, "bounce_warn_interval",
                  "OpenSMTPD scheduler_ramqueue.c; smtpd.conf(5)", Evidence.VERIFIED),
}  # fmt: skip


def retry_timeline(profile: str, params: Mapping[str, object] | None = None) -> RetryTimeline:
    """The profile's attempts, delay notice and give-up, in seconds after the first attempt."""
    prof = get_profile(profile)
    values = resolve_params(prof, params)
    schedule, warn_param, reference, evidence = _SCHEDULES[prof.name]
    attempts, give_up, formula = schedule(values)
    warn = int(values[warn_param]) if warn_param else 0
    return RetryTimeline(
        profile=prof.name,
        attempts_s=attempts,
        delay_dsn_s=warn if warn and warn < give_up else None,
        give_up_s=give_up,
        formula=formula,
        reference=reference,
        evidence=evidence,
    )


def timeline_strip(timeline: RetryTimeline, width: int = 48) -> str:
    """The timeline as one line of plain text for a compact chart, on a logarithmic time axis.

    "│" marks a column holding at least one attempt, "▲" the delay notice, "✕" give-up, "─"
    empty time; a log axis keeps the first minutes and the last days both visible. The result
    is plain text (no markup), exactly `width` characters long.
    """
    width = max(width, 8)
    end = max(timeline.give_up_s, 1)
    scale = math.log1p(end / 60)

    def column(t: int) -> int:
        return min(width - 1, round(math.log1p(max(t, 0) / 60) / scale * (width - 1)))

    cells = ["─"] * width
    for t in timeline.attempts_s:
        cells[column(t)] = "│"
    if timeline.delay_dsn_s is not None:
        cells[column(timeline.delay_dsn_s)] = "▲"
    cells[width - 1] = "✕"
    return "".join(cells)
