"""Postfix (2.1 and later), as Postfix 3.7.11 (Debian 12) does it by default.

One flat list of MX addresses (smtp_addr.c), capped by smtp_mx_address_limit, sessions capped
by smtp_mx_session_limit; the last address either limit allows is the "final server", where a
soft failure defers instead of moving on (smtp_connect.c, smtp_trouble.c). An address listed
under several MX names is in the list once per name. Retries come from the queue manager's
scans of the deferred queue, so they land in windows, not at instants.

Sources: github.com/vdukhovni/postfix at tag v3.7.11, postfix/src/...; line numbers are that
tag's. Run as a sender: Postfix 3.7.11 (reference §0, real-senders.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from mxtui.model import DecisionContext, Evidence, Outcome, Proof, TryTarget
from mxtui.policy.cells import S, c
from mxtui.policy.profiles.base import (
    D,
    DsnFlavour,
    MoveOn,
    Ordering,
    Profile,
    ProfileParams,
    RetrySchedule,
    setting,
    until,
)
from mxtui.policy.profiles.tls import TlsDemand, TlsRules, dane_demand, sts_active
from mxtui.text import span

if TYPE_CHECKING:
    from mxtui.tlspolicy.model import TlsPolicy

TESTED = "Postfix 3.7.11"
"""The version run as a sender against the lab (reference §0, real-senders.md)."""

PHASE = (
    "not a Postfix setting: when the queue manager's scan timer fires, in seconds after the "
    "message arrived (mod queue_run_delay); real runs land anywhere in the window"
)


# fmt: off
@dataclass(frozen=True)
class PostfixParams(ProfileParams):
    smtp_skip_5xx_greeting: bool = setting(
        True, "bool", "postconf(5) smtp_skip_5xx_greeting; smtp_proto.c:370",
        "a 5xx greeting is read as 4xx: move on, and defer (not bounce) on the last MX")
    soft_bounce: bool = setting(
        False, "bool", "postconf(5) soft_bounce; smtp_trouble.c:222",
        "every bounce becomes a deferral (the 5xx is a soft error: Postfix moves on)")
    smtp_mx_address_limit: int = setting(
        5, "int", "postconf(5) smtp_mx_address_limit; smtp_connect.c:987",
        "how many MX addresses one delivery attempt may try")
    smtp_mx_session_limit: int = setting(
        2, "int", "postconf(5) smtp_mx_session_limit; smtp_connect.c:1059",
        "how many sessions that got through EHLO/TLS one attempt may use")
    smtp_balance_inet_protocols: bool = setting(
        True, "bool", "postconf(5) smtp_balance_inet_protocols; smtp_addr.c:378",
        "keep both IPv4 and IPv6 addresses within smtp_mx_address_limit")
    smtp_defer_if_no_mx_address_found: bool = setting(
        False, "bool", "postconf(5) smtp_defer_if_no_mx_address_found; smtp_addr.c:610",
        "defer (not bounce) when no MX host has an address")
    maximal_queue_lifetime: int = setting(
        5 * D, "duration", "postconf(5) maximal_queue_lifetime",
        "how long a message may stay queued before it is returned")
    delay_warning_time: int = setting(
        0, "duration", "postconf(5) delay_warning_time",
        "when to warn the sender of a delay (0 = never)")
    minimal_backoff_time: int = setting(
        300, "duration", "postconf(5) minimal_backoff_time; qmgr_active.c:561",
        "shortest wait between attempts")
    maximal_backoff_time: int = setting(
        4000, "duration", "postconf(5) maximal_backoff_time; qmgr_active.c:559",
        "longest wait between attempts")
    queue_run_delay: int = setting(
        300, "duration", "postconf(5) queue_run_delay; qmgr.c:538",
        "how often the deferred queue is scanned")
    queue_scan_phase: int = setting(150, "duration", PHASE, "the scan timer's phase (φ)")
    smtp_tls_security_level: str = setting(
        "may", "choice", "postconf(5) smtp_tls_security_level (Debian's main.cf: may; upstream "
        "default before 3.11: empty, no TLS); smtp_tls_policy.c",
        "TLS for every destination: none, may (opportunistic), encrypt, dane (DANE where the "
        "TLSA records are secure and usable, else may), dane-only, verify, secure",
        choices=("none", "may", "encrypt", "dane", "dane-only", "verify", "secure"))
    smtp_dns_support_level: str = setting(
        "", "choice", "postconf(5) smtp_dns_support_level; smtp_tls_policy.c:812-818",
        "dnssec is needed for the dane level: without it Postfix warns and uses may",
        choices=("", "disabled", "enabled", "dnssec"))
    mta_sts_resolver: bool = setting(
        False, "bool", "postfix-mta-sts-resolver (socketmap in smtp_tls_policy_maps); "
        "responder.py process_request",
        "ask the MTA-STS resolver: an enforce policy becomes 'secure match=<its mx patterns>' "
        "for the domain, which overrides smtp_tls_security_level")
    mta_sts_strict_testing: bool = setting(
        False, "bool", "postfix-mta-sts-resolver strict_testing",
        "the resolver treats testing policies like enforce ones")

    def softens_bounces(self) -> bool:
        return self.soft_bounce
# fmt: on


class PostfixOrdering(Ordering):
    """smtp_addr.c: every MX name's addresses appended in turn, duplicates kept (263-305,
    dns_rr_append in dns_rr.c:224 does not merge); shuffled, then sorted by preference
    (642-645); then, when both families are present and the list is longer than
    smtp_mx_address_limit, cut so that each family keeps its share (378-495)."""

    merge_duplicates = False
    rule = (
        "one flat list of the addresses of every MX name, lowest preference first, equal "
        "preferences shuffled; an address listed under several MX names is dialled once per "
        "name; with IPv4 and IPv6 both present, each family keeps its share of "
        "smtp_mx_address_limit"
    )
    evidence = Proof(
        Evidence.TESTED,
        "Postfix smtp_addr.c:263-305, 378-495, 642-648",
        TESTED,
        ("errata:five-mx-names-one-address",),
    )

    def finish(
        self, order: tuple[TryTarget, ...], params: ProfileParams | None
    ) -> tuple[TryTarget, ...]:
        if not isinstance(params, PostfixParams) or not params.smtp_balance_inet_protocols:
            return order
        return balance_inet_protocols(order, params.smtp_mx_address_limit)


def balance_inet_protocols(order: tuple[TryTarget, ...], limit: int) -> tuple[TryTarget, ...]:
    """smtp_balance_inet_proto (smtp_addr.c:378-495): keep the list's order, but when it holds
    both families and more than `limit` entries, keep `limit` of them so that neither family
    crowds the other out."""
    v4 = sum(t.family == 4 for t in order)
    v6 = len(order) - v4
    if limit <= 0 or not v4 or not v6 or v4 + v6 <= limit:
        return order
    if v6 <= limit // 2:
        v6_target, v4_target = v6, limit - v6
    elif v4 <= limit // 2:
        v4_target, v6_target = v4, limit - v4
    else:
        v4_target = (limit + (order[0].family == 4)) // 2
        v6_target = limit - v4_target
    kept: list[TryTarget] = []
    for target in order:
        if target.family == 4 and v4_target > 0:
            v4_target -= 1
            kept.append(target)
        elif target.family == 6 and v6_target > 0:
            v6_target -= 1
            kept.append(target)
    return tuple(kept)


class PostfixLimits(MoveOn):
    """The final server: the last address smtp_mx_address_limit or smtp_mx_session_limit
    allows (smtp_connect.c:985-1063). A soft_bounce 5xx is a soft error and moves on like a
    4xx (smtp_trouble.c:221-231 for the session, 391-405 for one recipient)."""

    soft_errors_move_on = True
    rule = (
        "tries the flat address list until smtp_mx_address_limit addresses or "
        "smtp_mx_session_limit sessions are used; the last one allowed is the final server"
    )
    evidence = Proof(
        Evidence.TESTED,
        "Postfix smtp_connect.c:985-1063; smtp_trouble.c:221-231",
        TESTED,
        ("errata:five-mx-names-one-address",),
    )

    def final_reason(self, params: ProfileParams, ctx: DecisionContext) -> str:
        assert isinstance(params, PostfixParams)
        if ctx.addresses_tried >= params.smtp_mx_address_limit:
            return f"smtp_mx_address_limit={params.smtp_mx_address_limit} is reached"
        if ctx.sessions_used >= params.smtp_mx_session_limit:
            return f"smtp_mx_session_limit={params.smtp_mx_session_limit} is reached"
        return ""


POLICY_C = "Postfix smtp_tls_policy.c"


class PostfixTls(TlsRules):
    """smtp_tls_policy.c (policy_create, dane_init) at v3.7.11: the level for one destination
    comes from smtp_tls_policy_maps when it has an entry (the MTA-STS resolver answers there),
    else smtp_tls_security_level; the dane level looks up TLSA records of secure hosts
    (tls_dane.c:670) and falls back to may without them, to encrypt when none is usable."""

    knobs = (
        "smtp_tls_security_level, smtp_dns_support_level, smtp_tls_policy_maps with "
        "postfix-mta-sts-resolver (mta_sts_resolver, mta_sts_strict_testing)"
    )
    dane = True
    mta_sts = True
    source = POLICY_C
    evidence = Evidence.VERIFIED

    def wants_policy(self, params: ProfileParams) -> bool:
        assert isinstance(params, PostfixParams)
        return params.mta_sts_resolver or params.smtp_tls_security_level in (
            "dane",
            "dane-only",
            "secure",
        )

    def demand(self, params: ProfileParams, policy: TlsPolicy | None, host: str) -> TlsDemand:
        assert isinstance(params, PostfixParams)
        level = params.smtp_tls_security_level
        if (
            policy is not None
            and params.mta_sts_resolver
            and sts_active(policy.mta_sts, strict_testing=params.mta_sts_strict_testing)
        ):
            assert policy.mta_sts.policy is not None
            names = tuple(p.removeprefix("*") for p in policy.mta_sts.policy.mx)
            return TlsDemand(
                "verify",
                f"the MTA-STS resolver answers 'secure match={':'.join(names)}' for "
                f"{policy.domain}: that policy-map entry overrides smtp_tls_security_level="
                f"{level}; TLS is required and the certificate must verify and name one of "
                "those (a host the policy does not list fails there)",
                "postfix-mta-sts-resolver responder.py; postconf(5) smtp_tls_policy_maps; "
                f"{PROTO}:1125-1129",
                Evidence.VERIFIED,
                names=names,
            )
        if level in ("dane", "dane-only"):
            if params.smtp_dns_support_level != "dnssec":
                why = (
                    f"smtp_tls_security_level={level} but smtp_dns_support_level is not "
                    "dnssec: Postfix warns 'configured with dnssec lookups disabled' and "
                    "uses may"
                )
                if level == "dane-only":
                    return TlsDemand("may", why + " (dane-only: the policy is invalid, the "
                                     "host is not used)", f"{POLICY_C}:812-818",
                                     Evidence.VERIFIED, skip=Outcome.TLSA_ERROR)  # fmt: skip
                return TlsDemand("may", why, f"{POLICY_C}:812-818", Evidence.VERIFIED)
            found = dane_demand(
                policy.host(host) if policy is not None else None,
                policy is not None and policy.mx_dnssec.value == "secure",
                source=f"{POLICY_C}:851-890; tls_dane.c:670",
                evidence=Evidence.VERIFIED,
            )
            if found is None:
                why = (
                    f"smtp_tls_security_level={level}: no secure TLSA records for {host} "
                    "('no TLSA records found'"
                )
                if level == "dane-only":
                    return TlsDemand("may", why + "): dane-only does not use the host",
                                     f"{POLICY_C}:851-869", Evidence.VERIFIED,
                                     skip=Outcome.TLSA_ERROR)  # fmt: skip
                where = f"{POLICY_C}:865-869; tls_dane.c:670"
                return TlsDemand("may", why + "), so opportunistic TLS (may)", where,
                                 Evidence.VERIFIED)  # fmt: skip
            return found
        if level == "none":
            return TlsDemand("none", "smtp_tls_security_level=none: no TLS at all",
                             POLICY_C, Evidence.VERIFIED)  # fmt: skip
        if level == "encrypt":
            return TlsDemand("encrypt", "smtp_tls_security_level=encrypt: TLS required, the "
                             "certificate not checked", POLICY_C, Evidence.VERIFIED)  # fmt: skip
        if level in ("verify", "secure"):
            names = (
                (host,)
                if level == "verify"
                else ((policy.domain, "." + policy.domain) if policy is not None else (host,))
            )
            return TlsDemand("verify", f"smtp_tls_security_level={level}: TLS required, the "
                             f"certificate must verify for {' or '.join(names)}",
                             f"{PROTO}:1125-1129", Evidence.VERIFIED, names=names)  # fmt: skip
        return TlsDemand("may", "smtp_tls_security_level=may: opportunistic TLS, plaintext "
                         "when STARTTLS is not offered", POLICY_C, Evidence.VERIFIED)  # fmt: skip


PROTO = "Postfix smtp_proto.c"
TROUBLE = "smtp_trouble.c:221-231 (a soft error moves on unless this is the final server)"
BAD_CODE = (
    "A reply whose first digit is not 4 or 5 where another was due is a protocol error: "
    "status 5.5.0 (smtp_chat.c:412, smtp_trouble.c:329-335), a bounce."
)
GREETING_FAIL = f"{PROTO}:366-378 (any non-2xx greeting: smtp_site_fail); {TROUBLE}"

CELLS = {
    (S.CONNECT, "fail"): c(
        "NX", "T", "Postfix smtp_connect.c:985-1022 (each address in turn; "
        "smtp_connect_timeout=30s)",
        tested_with=TESTED, cases=("errata:five-mx-names-one-address",)),
    (S.GREETING, "drop"): c("NX", "V", f"{PROTO}:366 (smtp_stream_except); {TROUBLE}"),
    (S.GREETING, "unexpected"): c("NDR", "V", f"{GREETING_FAIL}; smtp_chat.c:412",
                                  "Postfix calls it a protocol error (5.5.0)."),
    (S.GREETING, "4xx"): c("NX", "V", GREETING_FAIL),
    (S.GREETING, "5xx"): c(
        "NX>RQ", "V", f"{PROTO}:369-371; smtp_skip_5xx_greeting=yes",
        "smtp_skip_5xx_greeting=yes reads the 5xx as 4xx, so on the last MX Postfix defers "
        "instead of bouncing.",
        smtp_skip_5xx_greeting__no=c(
            "NDR", "V", f"{PROTO}:369-378; smtp_skip_5xx_greeting=no",
            "With smtp_skip_5xx_greeting=no the 5xx greeting bounces the message.")),
    (S.EHLO, "421"): c("NX", "V", f"{PROTO}:469-474 (EHLO 421: smtp_site_fail)"),
    (S.EHLO, "4xx"): c("H", "V", f"{PROTO}:469-476 (any other non-2xx EHLO: HELO)"),
    (S.EHLO, "drop"): c("NX", "V", f"{PROTO}:466 (smtp_stream_except); {TROUBLE}"),
    (S.EHLO, "unexpected"): c("H", "V", f"{PROTO}:469-476", "Any non-2xx EHLO → HELO."),
    (S.HELO, "4xx"): c("NX", "V", f"{PROTO}:481-486; {TROUBLE}"),
    (S.HELO, "5xx"): c("NDR", "V", f"{PROTO}:481-486 (smtp_site_fail, hard)"),
    (S.HELO, "drop"): c("NX", "V", f"{PROTO}:480 (smtp_stream_except); {TROUBLE}"),
    (S.HELO, "unexpected"): c("NDR", "V", f"{PROTO}:481-486; smtp_chat.c:412", BAD_CODE),
    (S.STARTTLS, "refused"): c("PLAIN", "V", f"{PROTO}; smtp_tls_security_level=may"),
    (S.STARTTLS, "drop"): c("RECON", "V",
                            "Postfix smtp_connect.c:1036-1046 (retry_plain: same address "
                            "again without TLS); smtp_tls_security_level=may"),
    (S.STARTTLS, "req-4xx"): c("NX", "V", f"{PROTO}; smtp_tls_security_level=encrypt"),
    (S.STARTTLS, "req-5xx"): c("NDR", "V", f"{PROTO}; smtp_tls_security_level=encrypt"),
    (S.STARTTLS, "not-offered"): c(
        "NX", "V", f"{PROTO}:818-821 ('TLS is required, but was not offered': smtp_site_fail "
        f"4.7.4); {TROUBLE}"),
    (S.STARTTLS, "dane-fail"): c(
        "NX", "T", f"{PROTO}:1125-1129 ('Server certificate not verified': smtp_site_fail "
        f"4.7.5); {TROUBLE}", tested_with=TESTED,
        cases=("dane-rotated-cert (tests/tlspolicy/test_real_postfix_dane.py, behind unbound)",)),
    (S.STARTTLS, "sts-fail"): c(
        "NX", "V", f"{PROTO}:1125-1129 ('Server certificate not verified', 4.7.5, at the "
        f"resolver's secure level); {TROUBLE}"),
    (S.STARTTLS, "sts-not-listed"): c(
        "NA", "V", "postfix-mta-sts-resolver responder.py (it returns match= patterns, not a "
        "host list)",
        "Postfix never checks the MX name against the policy: with the resolver, the "
        "certificate check does it (a host outside the policy fails as sts-fail)."),
    (S.STARTTLS, "tlsa-error"): c(
        "NX", "V", f"{POLICY_C}:858-863 ('TLSA lookup error', 4.7.5: the policy is invalid); "
        "smtp_connect.c:999-1003 (the address is skipped, the next one tried)"),
    (S.AUTH, "4xx"): c("NX", "M", "Postfix smtp_sasl_proto.c"),
    (S.AUTH, "5xx"): c("NX", "M", "Postfix postconf(5) smtp_sasl_auth_soft_bounce=yes",
                       "Postfix reads a 535 as a soft error, so it moves on and never bounces "
                       "for it."),
    (S.AUTH, "drop"): c("NX", "M", "Postfix smtp_trouble.c"),
    (S.MAIL, "4xx"): c("NX", "V", f"{PROTO}:1993-2000 (smtp_mesg_fail); {TROUBLE}"),
    (S.MAIL, "3xx"): c("NDR", "V", f"{PROTO}:1993-2000; smtp_trouble.c:329-335", BAD_CODE),
    (S.MAIL, "drop"): c("NX", "V", f"Postfix smtp_trouble.c (smtp_stream_except); {TROUBLE}"),
    (S.MAIL, "unexpected"): c("NDR", "V", f"{PROTO}:1993-2000; smtp_chat.c:412", BAD_CODE),
    (S.RCPT, "4xx"): c("r-NX", "V", f"{PROTO}:2067 (smtp_rcpt_fail); smtp_trouble.c:391-405",
                       "The recipient is retried on the next address in the same attempt, and "
                       "deferred on the final server."),
    (S.RCPT, "552"): c("r-NDR", "V", f"{PROTO}:2036-2049, 2067",
                       "The 552→452 rewrite RFC 5321 §4.5.3.1.10 asks for is compiled out "
                       "(#ifdef notdef): 'too much mail data' must not become a retry. So a 552 "
                       "bounces that recipient."),
    (S.RCPT, "3xx"): c("r-NDR", "V", f"{PROTO}:2050-2072; smtp_trouble.c:329-335", BAD_CODE),
    (S.RCPT, "drop"): c("NX", "V", f"Postfix smtp_trouble.c (smtp_stream_except); {TROUBLE}"),
    (S.RCPT, "unexpected"): c("r-NDR", "V", f"{PROTO}:2050-2072; smtp_chat.c:412", BAD_CODE),
    (S.DATA, "4xx"): c("NX", "V", f"{PROTO}:2087-2097; {TROUBLE}"),
    (S.DATA, "2xx"): c("NDR", "V", f"{PROTO}:2089-2097 (not 3xx); smtp_trouble.c:329-335",
                       BAD_CODE),
    (S.DATA, "drop"): c("NX", "V", f"Postfix smtp_trouble.c (smtp_stream_except); {TROUBLE}"),
    (S.DATA, "unexpected"): c("NDR", "V", f"{PROTO}:2089-2097; smtp_chat.c:412", BAD_CODE),
    (S.DOT, "4xx"): c("NX", "V", f"{PROTO}:2133-2142; {TROUBLE}"),
    (S.DOT, "3xx"): c("NDR", "V", f"{PROTO}:2133-2142; smtp_trouble.c:329-335", BAD_CODE),
    (S.DOT, "drop"): c("NX", "V", "Postfix smtp_proto.c; smtp_data_done_timeout=600s",
                       "Postfix logs a possible-duplicate warning."),
    (S.DOT, "unexpected"): c("NDR", "V", f"{PROTO}:2133-2142; smtp_chat.c:412", BAD_CODE),
    (S.QUIT, "any"): c("IGN", "V", "Postfix smtp_skip_quit_response=yes",
                       "Postfix does not even wait for the reply."),
    (S.DNS, "nxdomain"): c("NDR", "V", "Postfix smtp_addr.c:193-194 (DNS_NOTFOUND: 5.4.4)"),
    (S.DNS, "null-mx"): c("NDR", "V", "Postfix smtp_addr.c:590-592 (DNS_NULLMX: 5.1.0)"),
    (S.DNS, "no-address"): c(
        "NDR", "V", "Postfix smtp_addr.c:608-619; smtp_defer_if_no_mx_address_found=no",
        "'no MX host for … has a valid address record': a bounce, unless "
        "smtp_defer_if_no_mx_address_found=yes.",
        smtp_defer_if_no_mx_address_found__yes=c(
            "RQ", "V", "Postfix smtp_addr.c:610-614; smtp_defer_if_no_mx_address_found=yes")),
    (S.DNS, "tempfail"): c("RQ", "V", "Postfix smtp_addr.c:580-584 (4.4.3); "
                           "ignore_mx_lookup_error=no"),
}  # fmt: skip


def _postfix_attempts(
    lo: int, hi: int, scan: int, lifetime: int, phase: int
) -> tuple[tuple[int, ...], int]:
    """Failed attempts from arrival (t=0) until the first at or past `lifetime`: each makes the
    message eligible at now + clamp(age, lo, hi) (qmgr_active.c:558-564), and it is taken at
    the next scan of the deferred queue, which runs every `scan` s at `phase` (qmgr.c:530-538).
    """
    phase %= max(scan, 1)

    def next_after(t: int, _k: int) -> int:
        eligible = t + min(max(t, lo), hi)
        if scan <= 0:
            return eligible
        return phase + -(-(eligible - phase) // scan) * scan

    return until(next_after, lifetime, at_lifetime=False)


@lru_cache(maxsize=64)
def _windows(
    lo: int, hi: int, scan: int, lifetime: int, count: int
) -> tuple[tuple[tuple[int, int], ...], tuple[int, int]]:
    """Where each attempt (and give-up) can land over every scan phase 0 < φ < scan: from the
    earliest to the latest, the edges being the limits as φ nears 0 and the scan interval."""
    if scan <= 1:
        attempts, give_up = _postfix_attempts(lo, hi, scan, lifetime, 0)
        return tuple((t, t) for t in attempts[:count]), (give_up, give_up)
    step = max(1, scan // 60)
    phases = sorted({*range(1, scan, step), scan - 1})
    runs = [_postfix_attempts(lo, hi, scan, lifetime, phase) for phase in phases]
    windows = []
    for k in range(count):
        times = [attempts[k] for attempts, _ in runs if k < len(attempts)]
        windows.append((min(times) - 1 if k else 0, max(times) + 1 if k else 0))
    ends = [give_up for _, give_up in runs]
    return tuple(windows), (min(ends) - 1, max(ends) + 1)


def schedule(p: PostfixParams) -> tuple[tuple[int, ...], int, str]:
    """Postfix's queue: next = now + clamp(age, minimal, maximal backoff), at the next scan."""
    lo, hi, scan = p.minimal_backoff_time, p.maximal_backoff_time, p.queue_run_delay
    attempts, give_up = _postfix_attempts(lo, hi, scan, p.maximal_queue_lifetime,
                                          p.queue_scan_phase)  # fmt: skip
    formula = (
        f"eligible at now + clamp(age, {span(lo)}, {span(hi)}) (qmgr_active.c), taken at the "
        f"next scan of the deferred queue, every {span(scan)} at phase "
        f"φ={span(p.queue_scan_phase % max(scan, 1))} (qmgr.c), so each retry lands in a "
        f"window of {span(scan)}; returned after the first failed attempt at age >= "
        f"{span(p.maximal_queue_lifetime)}"
    )
    return attempts, give_up, formula


def windows(p: PostfixParams) -> tuple[tuple[tuple[int, int], ...], tuple[int, int]]:
    attempts, _, _ = schedule(p)
    return _windows(p.minimal_backoff_time, p.maximal_backoff_time, p.queue_run_delay,
                    p.maximal_queue_lifetime, len(attempts))  # fmt: skip


DSN = DsnFlavour(
    "Mail Delivery System", "MAILER-DAEMON",
    "Undelivered Mail Returned to Sender", "Delayed Mail (still being retried)",
    "This is the mail system at host {mta}.",
    "I'm sorry to have to inform you that your message could not be delivered to one or "
    "more recipients. It's attached below.",
    "Your message could not be delivered for {age}. It will be retried until it is "
    "{lifetime} old.",
    statuses={"null-mx": "5.1.0"},
)  # fmt: skip

PROFILE = Profile(
    name="postfix",
    display="Postfix (current)",
    description="Postfix 2.1 and later: moves on after soft failures, bounces on 5xx.",
    mta="Postfix",
    params_type=PostfixParams,
    cells=CELLS,
    retry=RetrySchedule(
        schedule,
        "delay_warning_time",
        "Postfix qmgr_active.c:558-564, qmgr.c:530-538; postconf(5)",
        Evidence.TESTED,
        f"{TESTED} (retries at 529 s and 1129 s)",
        windows,
    ),
    dsn=DSN,
    tls=PostfixTls(),
    ordering=PostfixOrdering(),
    moving=PostfixLimits(),
    sources="Postfix 3.7.11 smtp_addr.c, smtp_connect.c, smtp_proto.c, smtp_trouble.c, "
    "qmgr_active.c; postconf(5)",
    models="Postfix 3.7.11",
)
