"""Postfix (2.1 and later; defaults of 3.7): moves on after soft failures, bounces on 5xx.

One flat list of MX addresses capped by smtp_mx_address_limit, sessions capped by
smtp_mx_session_limit; the last address either limit allows is the "final server", where a
soft failure defers instead of moving on. Retries come from the queue manager's scans.
"""

from __future__ import annotations

from dataclasses import dataclass

from mxtui.model import DecisionContext
from mxtui.policy.cells import S, c
from mxtui.policy.profiles.base import (
    D,
    DsnFlavour,
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
class PostfixParams(ProfileParams):
    smtp_skip_5xx_greeting: bool = setting(
        True, "bool", "postconf(5) smtp_skip_5xx_greeting",
        "a 5xx greeting is read as 4xx: move on, and defer (not bounce) on the last MX")
    soft_bounce: bool = setting(
        False, "bool", "postconf(5) soft_bounce",
        "every bounce becomes a deferral (the mail stays queued)")
    smtp_mx_address_limit: int = setting(
        5, "int", "postconf(5) smtp_mx_address_limit",
        "how many MX addresses one delivery attempt may try")
    smtp_mx_session_limit: int = setting(
        2, "int", "postconf(5) smtp_mx_session_limit",
        "how many sessions that got through EHLO/TLS one attempt may use")
    maximal_queue_lifetime: int = setting(
        5 * D, "duration", "postconf(5) maximal_queue_lifetime",
        "how long a message may stay queued before it is returned")
    delay_warning_time: int = setting(
        0, "duration", "postconf(5) delay_warning_time",
        "when to warn the sender of a delay (0 = never)")
    minimal_backoff_time: int = setting(
        300, "duration", "postconf(5) minimal_backoff_time", "shortest wait between attempts")
    maximal_backoff_time: int = setting(
        4000, "duration", "postconf(5) maximal_backoff_time", "longest wait between attempts")
    queue_run_delay: int = setting(
        300, "duration", "postconf(5) queue_run_delay", "how often the deferred queue is scanned")

    def softens_bounces(self) -> bool:
        return self.soft_bounce
# fmt: on


class PostfixLimits(MoveOn):
    """The final server: the last address smtp_mx_address_limit or smtp_mx_session_limit
    allows (smtp_connect.c)."""

    rule = (
        "tries the flat address list until smtp_mx_address_limit addresses or "
        "smtp_mx_session_limit sessions are used; the last one allowed is the final server"
    )

    def final_reason(self, params: ProfileParams, ctx: DecisionContext) -> str:
        assert isinstance(params, PostfixParams)
        if ctx.addresses_tried >= params.smtp_mx_address_limit:
            return f"smtp_mx_address_limit={params.smtp_mx_address_limit} is reached"
        if ctx.sessions_used >= params.smtp_mx_session_limit:
            return f"smtp_mx_session_limit={params.smtp_mx_session_limit} is reached"
        return ""


PF = "Postfix"
TESTED = "Postfix 3.7.11"
"""The version run as a sender against the lab (reference §0, real-senders.md)."""

CELLS = {
    (S.CONNECT, "fail"): c("NX", "T", f"{PF} smtp_connect.c; smtp_connect_timeout=30s",
                           tested_with=TESTED, cases=("errata:five-mx-names-one-address",)),
    (S.GREETING, "drop"): c("NX", "V", f"{PF} smtp_connect.c; smtp_helo_timeout"),
    (S.GREETING, "unexpected"): c("NDR", "V", f"{PF} smtp_proto.c",
                                  "Postfix calls it a protocol error (5.5.0)."),
    (S.GREETING, "4xx"): c("NX", "V", f"{PF} smtp_proto.c, smtp_trouble.c",
                           "Postfix 2.1 and later try the next MX after a failed greeting."),
    (S.GREETING, "5xx"): c(
        "NX>RQ", "V", f"{PF} smtp_proto.c; smtp_skip_5xx_greeting=yes",
        "smtp_skip_5xx_greeting=yes reads the 5xx as 4xx, so on the last MX Postfix defers "
        "instead of bouncing.",
        smtp_skip_5xx_greeting__no=c(
            "NDR", "V", f"{PF} smtp_proto.c; smtp_skip_5xx_greeting=no",
            "With smtp_skip_5xx_greeting=no the 5xx greeting bounces the message.")),
    (S.EHLO, "421"): c("NX", "V", f"{PF} smtp_proto.c"),
    (S.EHLO, "4xx"): c("H", "V", f"{PF} smtp_proto.c"),
    (S.EHLO, "drop"): c("NX", "M", f"{PF} smtp_trouble.c"),
    (S.EHLO, "unexpected"): c("H", "V", f"{PF} smtp_proto.c", "Any non-2xx EHLO → HELO."),
    (S.HELO, "4xx"): c("NX", "V", f"{PF} smtp_proto.c"),
    (S.HELO, "5xx"): c("NDR", "V", f"{PF} smtp_proto.c"),
    (S.HELO, "drop"): c("NX", "M", f"{PF} smtp_trouble.c"),
    (S.HELO, "unexpected"): c("NDR", "I", f"{PF} smtp_proto.c"),
    (S.STARTTLS, "refused"): c("PLAIN", "V", f"{PF} smtp_proto.c; smtp_tls_security_level=may"),
    (S.STARTTLS, "drop"): c("RECON", "V", f"{PF} smtp_connect.c; smtp_tls_security_level=may"),
    (S.STARTTLS, "req-4xx"): c("NX", "V", f"{PF} smtp_proto.c; smtp_tls_security_level=encrypt"),
    (S.STARTTLS, "req-5xx"): c("NDR", "V",
                               f"{PF} smtp_proto.c; smtp_tls_security_level=encrypt"),
    (S.AUTH, "4xx"): c("NX", "M", f"{PF} smtp_sasl_proto.c"),
    (S.AUTH, "5xx"): c("NX", "M", f"{PF} postconf(5) smtp_sasl_auth_soft_bounce=yes",
                       "Postfix reads a 535 as a soft error, so it moves on and never bounces "
                       "for it."),
    (S.AUTH, "drop"): c("NX", "M", f"{PF} smtp_trouble.c"),
    (S.MAIL, "4xx"): c("NX", "V", f"{PF} smtp_proto.c, smtp_trouble.c"),
    (S.MAIL, "drop"): c("NX", "V", f"{PF} smtp_trouble.c"),
    (S.RCPT, "4xx"): c("r-NX", "V", f"{PF} smtp_proto.c",
                       "The recipient is retried on the next address in the same attempt, and "
                       "deferred on the final server."),
    (S.RCPT, "552"): c("r-NX", "M", f"{PF} smtp_proto.c", "Postfix reads 552 at RCPT as 452."),
    (S.RCPT, "drop"): c("NX", "V", f"{PF} smtp_trouble.c"),
    (S.DATA, "4xx"): c("NX", "V", f"{PF} smtp_proto.c"),
    (S.DATA, "drop"): c("NX", "V", f"{PF} smtp_trouble.c"),
    (S.DOT, "4xx"): c("NX", "V", f"{PF} smtp_proto.c"),
    (S.DOT, "drop"): c("NX", "V", f"{PF} smtp_proto.c; smtp_data_done_timeout=600s",
                       "Postfix logs a possible-duplicate warning."),
    (S.QUIT, "any"): c("IGN", "V", f"{PF} smtp_skip_quit_response=yes",
                       "Postfix does not even wait for the reply."),
    (S.DNS, "nxdomain"): c("NDR", "V", f"{PF} smtp_addr.c (5.4.4)"),
    (S.DNS, "null-mx"): c("NDR", "V", f"{PF} smtp_addr.c (5.1.0)"),
    (S.DNS, "tempfail"): c("RQ", "V", f"{PF} smtp_addr.c (4.4.3); ignore_mx_lookup_error=no"),
}  # fmt: skip


def schedule(p: PostfixParams) -> tuple[tuple[int, ...], int, str]:
    """Postfix's queue: next = now + clamp(age, minimal, maximal backoff), at the next scan."""
    lo, hi, scan = p.minimal_backoff_time, p.maximal_backoff_time, p.queue_run_delay
    attempts, give_up = until(
        lambda t, _k: ceil_to(t + min(max(t, lo), hi), scan),
        p.maximal_queue_lifetime,
        at_lifetime=False,
    )
    formula = (
        f"next = now + clamp(age, {lo}, {hi}) s, taken at the next queue scan (every {scan} s); "
        f"returned after the first failed attempt at age >= {p.maximal_queue_lifetime} s"
    )
    return attempts, give_up, formula


DSN = DsnFlavour(
    "Mail Delivery System", "MAILER-DAEMON",
    "Undelivered Mail Returned to Sender", "Delayed Mail (still being retried)",
    "This is the mail system at host {mta}.",
    "I'm sorry to have to inform you that your message could not be delivered to one or "
    "more recipients. It's attached below.",
    "Your message could not be delivered for {age}. It will be retried until it is "
    "{lifetime} old.",
    null_mx_status="5.1.0",
)  # fmt: skip

PROFILE = Profile(
    name="postfix",
    display="Postfix (current)",
    description="Postfix 2.1 and later: moves on after soft failures, bounces on 5xx.",
    mta="Postfix",
    params_type=PostfixParams,
    cells=CELLS,
    retry=RetrySchedule(schedule, "delay_warning_time", "Postfix qmgr_active.c; postconf(5)"),
    dsn=DSN,
    ordering=Ordering(),
    moving=PostfixLimits(),
    sources="Postfix smtp_connect.c, smtp_proto.c, smtp_trouble.c; postconf(5)",
    models="Postfix 3.7.11",
)
