"""Exim 4 (as Exim 4.96, Debian 12): tries the next host on any deferral; fails an address only
on a reply whose first digit is 5; retry rule F,2h,15m; G,16h,1h,1.5; F,4d,6h.

Equal-preference MX hosts are shuffled and, within one preference, IPv6 addresses go first
(host.c); a duplicate address is dialled once. hosts_max_try counts addresses, but once it is
reached Exim still tries one address of each worse preference (up to hosts_max_try_hardlimit):
the spec's "How the limits for the number of hosts to try are used". Its notices say
Status: 5.0.0 (failed) and 4.0.0 (delayed), whatever the server said (deliver.c).

Sources: github.com/Exim/exim at tag exim-4.96, src/src/...; "smtp.c" is
src/src/transports/smtp.c, "dnslookup.c" src/src/routers/dnslookup.c; line numbers are that
tag's. Run as a sender: Exim 4.96 (reference §0, real-senders.md).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mxtui.model import DecisionContext, Evidence, MXPlan, Outcome, Proof, TryTarget
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
from mxtui.policy.profiles.tls import TlsDemand, TlsRules

if TYPE_CHECKING:
    from mxtui.tlspolicy.model import TlsPolicy

TESTED = "Exim 4.96"


# fmt: off
@dataclass(frozen=True)
class EximParams(ProfileParams):
    hosts_max_try: int = setting(
        5, "int", "Exim spec, smtp transport hosts_max_try; smtp.c:5658",
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
    hosts_try_dane: bool = setting(
        True, "bool", "smtp transport hosts_try_dane (default * since 4.93: ChangeLog JH/22); "
        "smtp.c:176",
        "DANE for every host whose address lookup is DNSSEC-validated (* or unset)")
    hosts_require_dane: bool = setting(
        False, "bool", "smtp transport hosts_require_dane; smtp.c:2239-2254",
        "DANE required for every host (*): a host without secure TLSA records is not used")
    dnssec_request_domains: bool = setting(
        True, "bool", "main option dnssec_request_domains (default * since 4.93: ChangeLog "
        "HS/06)", "ask for DNSSEC on lookups (*): without it no lookup is DNSSEC, so no DANE")
# fmt: on


class EximOrdering(Ordering):
    """host.c (exim-4.96): MX hosts sorted by preference·1000 + a random weight below 500
    (2796-2800, 2834-2896: equal preferences shuffled); a host's own addresses by a random key,
    AAAA below 500, A from 500 (2326-2329, 2435, 2460: IPv6 first within a host); then one pass
    that swaps an IPv4 address followed by an IPv6 one of the same preference (3105-3138), and
    the later copies of a duplicate address removed (3149, 1464-1490)."""

    rule = (
        "MX hosts lowest preference first, equal preferences shuffled; each host's IPv6 "
        "addresses before its IPv4 ones, and one pass moving IPv6 addresses ahead of IPv4 "
        "within a preference; an address listed twice dialled once"
    )
    evidence = Proof(
        Evidence.TESTED,
        "Exim host.c:2326-2329, 2435, 2460, 2796-2800, 3105-3149",
        TESTED,
        ("errata:ipv6-first-within-preference",),
    )

    def order(
        self, plan: MXPlan, rng: random.Random, params: ProfileParams | None = None
    ) -> tuple[TryTarget, ...]:
        listed: list[TryTarget] = []
        for group in sorted(plan.groups, key=lambda g: g.preference):
            hosts = [h for h in group.hosts if h.addresses]
            weighted = sorted(((rng.randrange(500), i, h) for i, h in enumerate(hosts)),
                              key=lambda w: (w[0], w[1]))  # fmt: skip
            for _, _, host in weighted:
                keyed = [
                    (rng.randrange(500) + (0 if t.family == 6 else 500), i, t)
                    for i, t in enumerate(host.targets(group.preference))
                ]
                listed.extend(t for _, _, t in sorted(keyed, key=lambda k: (k[0], k[1])))
        for i in range(len(listed) - 1):  # one pass, as host.c does it
            here, there = listed[i], listed[i + 1]
            if here.preference == there.preference and here.family == 4 and there.family == 6:
                listed[i], listed[i + 1] = there, here
        seen: set[str] = set()
        order = []
        for target in listed:
            if target.address not in seen:
                seen.add(target.address)
                order.append(target)
        return tuple(order)

    def group(self, preference: int, hosts: list[Any], rng: random.Random) -> list[TryTarget]:
        raise NotImplementedError  # pragma: no cover - `order` does the whole list


class EximLimits(MoveOn):
    """hosts_max_try within a preference, at least one address of every worse preference,
    hosts_max_try_hardlimit in all (spec, smtp transport; smtp.c:5263-5301, 5658)."""

    rule = (
        "tries up to hosts_max_try addresses, then still one address of each worse "
        "preference, never more than hosts_max_try_hardlimit"
    )
    evidence = Proof(Evidence.VERIFIED, "Exim smtp.c:5263-5301, 5658; spec, smtp transport")

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


SMTP = "Exim smtp.c"
NEXT = "smtp.c:5855-5860 (a deferral tries the next host in the same run)"


class EximTls(TlsRules):
    """smtp.c (exim-4.96) smtp_setup_conn: DANE is tried for a host whose address lookup was
    DNSSEC-validated (2239-2244) when hosts_try_dane or hosts_require_dane names it;
    check_force_dane_conn (2029-2060) and host.c tlsa_lookup (3196-3246) then: secure TLSA →
    DANE (TLS forced, no retry in clear); TLSA present but not DNSSEC → logged, no DANE; none
    → no DANE; a temporary lookup failure → the host is deferred. Exim has no MTA-STS."""

    knobs = "hosts_try_dane, hosts_require_dane, dnssec_request_domains"
    dane = True
    source = SMTP
    evidence = Evidence.VERIFIED

    def wants_policy(self, params: ProfileParams) -> bool:
        assert isinstance(params, EximParams)
        return params.hosts_try_dane or params.hosts_require_dane

    def demand(self, params: ProfileParams, policy: TlsPolicy | None, host: str) -> TlsDemand:
        assert isinstance(params, EximParams)
        required = params.hosts_require_dane
        found = policy.host(host) if policy is not None else None
        secure_host = (
            params.dnssec_request_domains
            and found is not None
            and found.address_dnssec.value == "secure"
        )
        if not (params.hosts_try_dane or required):
            return TlsDemand("may", "neither hosts_try_dane nor hosts_require_dane names this "
                             "host: opportunistic TLS", SMTP, Evidence.VERIFIED)  # fmt: skip
        if not secure_host:
            if required:
                return TlsDemand("may", f"hosts_require_dane: 'DANE error: {host} lookup not "
                                 "DNSSEC'; the host is not used", f"{SMTP}:2245-2254",
                                 Evidence.VERIFIED, skip=Outcome.TLSA_ERROR)  # fmt: skip
            return TlsDemand("may", f"the address lookup of {host} is not DNSSEC-validated: "
                             "'lack of DNSSEC traceability precludes DANE'", f"{SMTP}:2255",
                             Evidence.VERIFIED)  # fmt: skip
        assert found is not None
        where = "host.c:3196-3246 (tlsa_lookup); smtp.c:2029-2060"
        if found.state == "error" or found.dnssec.value in ("bogus", "indeterminate"):
            return TlsDemand("may", f"the TLSA lookup of {host} failed ('DANE error: tlsa lookup "
                             "DEFER'): the host is deferred, the next one tried", where,
                             Evidence.VERIFIED, skip=Outcome.TLSA_ERROR)  # fmt: skip
        if found.state != "present" or not found.validated:
            why = ("has no TLSA records" if found.state != "present"
                   else "has TLSA records that are not DNSSEC-validated ('DANE error: TLSA "
                   "lookup … not DNSSEC')")  # fmt: skip
            if required:
                return TlsDemand("may", f"{host} {why}: hosts_require_dane does not use it",
                                 where, Evidence.VERIFIED, skip=Outcome.TLSA_ERROR)  # fmt: skip
            return TlsDemand("may", f"{host} {why}: no DANE, opportunistic TLS", where,
                             Evidence.VERIFIED)  # fmt: skip
        if not any(r.usable for r in found.records):
            return TlsDemand("encrypt", f"{host}'s TLSA records are secure but none is DANE-TA "
                             "or DANE-EE: TLS is forced, nothing can match", where,
                             Evidence.INFERRED)  # fmt: skip
        return TlsDemand("dane", f"{host} has secure TLSA records: DANE, TLS forced "
                         "(tls_tempfail_tryclear off), the certificate must match", where,
                         Evidence.VERIFIED, tlsa=found.records)  # fmt: skip


SETUP = f"{SMTP}:3154-3163 (setup failure: fail only on a 5 and only on the last host); {NEXT}"
MSG = f"{SMTP}:4434-4520 (message error: a first digit 5 fails, anything else defers); {NEXT}"
FIRST_DIGIT = (
    "Exim fails an address only on a reply whose first digit is 5; anything else it reads as "
    "temporary and tries the next host (smtp.c:4508-4511)."
)

CELLS = {
    (S.CONNECT, "fail"): c("NX", "V", f"{SETUP}", "Exim also keeps a retry record for that IP "
                           "address."),
    (S.GREETING, "drop"): c("NX", "V", f"{SMTP}:2366-2371, 3083-3111; {SETUP}"),
    (S.GREETING, "unexpected"): c("NX", "V", f"{SMTP}:2366-2371; {SETUP}",
                                  "A non-2xx greeting is a host error; not a 5, so deferred even "
                                  "on the last host."),
    (S.GREETING, "4xx"): c("NX", "V", f"{SMTP}:2366-2371; {SETUP}"),
    (S.GREETING, "5xx"): c("NX>NDR", "V", f"{SMTP}:2366-2371; {SETUP}"),
    (S.EHLO, "421"): c("H", "V", f"{SMTP}:742-756, 3121-3127",
                       "Exim falls back to HELO after any non-2xx EHLO; after a 421 the "
                       "connection is gone, so that fails and Exim moves on (H→NX)."),
    (S.EHLO, "4xx"): c("H", "V", f"{SMTP}:742-756 (any non-2xx EHLO: HELO)"),
    (S.EHLO, "5xx"): c("H", "V", f"{SMTP}:742-756"),
    (S.EHLO, "drop"): c("NX", "V", f"{SMTP}:746-752; {SETUP}"),
    (S.EHLO, "unexpected"): c("H", "V", f"{SMTP}:742-756"),
    (S.HELO, "4xx"): c("NX", "V", f"{SMTP}:2503-2528; {SETUP}"),
    (S.HELO, "5xx"): c("NX>NDR", "V", f"{SMTP}:2503-2528; {SETUP}"),
    (S.HELO, "drop"): c("NX", "V", f"{SMTP}:2516-2524; {SETUP}"),
    (S.HELO, "unexpected"): c("NX", "V", f"{SMTP}:2503-2528; {SETUP}",
                              "Not a 5, so deferred even on the last host."),
    (S.STARTTLS, "refused"): c("PLAIN", "V", f"{SMTP}:2679-2696; tls_tempfail_tryclear=true"),
    (S.STARTTLS, "drop"): c("RECON", "V", f"{SMTP}:5702-5722 (again in clear, new "
                            "connection)"),
    (S.STARTTLS, "req-4xx"): c("NX", "V", f"{SMTP}:3135-3137 (TLS_FAILED: code 4); "
                               "hosts_require_tls"),
    (S.STARTTLS, "req-5xx"): c("NX", "V", f"{SMTP}:3135-3137 (TLS_FAILED: code 4); "
                               "hosts_require_tls"),
    (S.STARTTLS, "not-offered"): c("NX", "I", f"{SMTP}:2029-2060 (DANE forces TLS); "
                                   "3135-3137 (TLS_FAILED: code 4); {NEXT}"),
    (S.STARTTLS, "dane-fail"): c("NX", "V", f"{SMTP}:2712-2730 ('DANE attempt failed'; "
                                 f"TLS_FAILED, no retry in clear); {NEXT}"),
    (S.STARTTLS, "sts-fail"): c("NA", "V", "Exim 4.96 src: no MTA-STS code",
                                "Exim does not apply MTA-STS policies."),
    (S.STARTTLS, "sts-not-listed"): c("NA", "V", "Exim 4.96 src: no MTA-STS code",
                                      "Exim does not apply MTA-STS policies."),
    (S.STARTTLS, "tlsa-error"): c("NX", "V", f"{SMTP}:2029-2060 (check_force_dane_conn: "
                                  "DEFER); ChangeLog 4.88 JH/03 (further hosts are tried)"),
    (S.AUTH, "4xx"): c("NX", "M", "Exim spec, smtp transport AUTH"),
    (S.AUTH, "5xx"): c("C", "M", "Exim spec, smtp transport hosts_require_auth",
                       "Unless the host is in hosts_require_auth, Exim carries on "
                       "unauthenticated."),
    (S.AUTH, "drop"): c("NX", "M", SMTP),
    (S.MAIL, "4xx"): c("NX", "V", f"{SMTP}:1217-1249; {MSG}",
                       "Exim tries the next host in the same run."),
    (S.MAIL, "3xx"): c("NX", "V", f"{SMTP}:1217-1249; {MSG}", FIRST_DIGIT),
    (S.MAIL, "5xx"): c("NDR", "V", f"{SMTP}:1217-1249, 4508-4509"),
    (S.MAIL, "drop"): c("NX", "V", f"{SMTP}:4454-4456 (timeout after MAIL: message error); "
                        f"{NEXT}"),
    (S.MAIL, "unexpected"): c("NX", "V", f"{SMTP}:1217-1249; {MSG}", FIRST_DIGIT),
    (S.RCPT, "4xx"): c("r-NX", "V", f"{SMTP}:1336-1350 (DEFER); {NEXT}",
                       "Exim defers the address on this host and tries it on the next host in "
                       "the same run (the reference's table cell 'r-RQ' is wrong, its prose "
                       "right: reference §0)."),
    (S.RCPT, "552"): c("r-NDR", "V", f"{SMTP}:1336-1340 (a 5: FAIL)"),
    (S.RCPT, "3xx"): c("r-NX", "V", f"{SMTP}:1336-1350 (not a 5: DEFER); {NEXT}", FIRST_DIGIT),
    (S.RCPT, "5xx"): c("r-NDR", "V", f"{SMTP}:1336-1340 (a 5: FAIL)"),
    (S.RCPT, "drop"): c("NX", "V", f"{SMTP} (I/O error: host error, all deferred); {NEXT}",
                        "All addresses are deferred."),
    (S.RCPT, "unexpected"): c("r-NX", "V", f"{SMTP}:1336-1350; {NEXT}", FIRST_DIGIT),
    (S.DATA, "4xx"): c("NX", "V", f"{SMTP}:1425-1440; {MSG}"),
    (S.DATA, "2xx"): c("NX", "V", f"{SMTP}:1425-1440; {MSG}", FIRST_DIGIT),
    (S.DATA, "5xx"): c("NDR", "V", f"{SMTP}:1425-1440, 4508-4509"),
    (S.DATA, "drop"): c("NX", "V", f"{SMTP}:4460-4462 (a drop before the dot: host error); "
                        f"{NEXT}"),
    (S.DATA, "unexpected"): c("NX", "V", f"{SMTP}:1425-1440; {MSG}", FIRST_DIGIT),
    (S.DOT, "4xx"): c("NX", "V", f"{SMTP}:4194-4200; {MSG}"),
    (S.DOT, "3xx"): c("NX", "V", f"{SMTP}:4194-4200; {MSG}", FIRST_DIGIT),
    (S.DOT, "5xx"): c("NDR", "V", f"{SMTP}:4194-4200, 4508-4509"),
    (S.DOT, "drop"): c("NX", "V", f"{SMTP}:4454-4462 (timeout or drop after the dot: message "
                       f"error); {NEXT}"),
    (S.DOT, "unexpected"): c("NX", "V", f"{SMTP}:4194-4200; {MSG}", FIRST_DIGIT),
    (S.DNS, "nxdomain"): c("NDR", "M", "Exim dnslookup router (unrouteable)"),
    (S.DNS, "null-mx"): c("NDR", "V", "Exim dnslookup.c:365-369 ('an MX or SRV record "
                          "indicated no SMTP service'); no RFC 7505 code in 4.96",
                          "Exim 4.96 knows no null MX: the '.' target has no address, the "
                          "router declines and the address is unrouteable."),
    (S.DNS, "no-address"): c("NDR", "V", "Exim dnslookup.c:365-386 ('all relevant MX records "
                             "point to non-existent hosts': DECLINE)"),
    (S.DNS, "tempfail"): c("RQ", "V", "Exim dnslookup.c:324-333 (HOST_FIND_AGAIN: DEFER)"),
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
    description="Tries the next host on any deferral; fails only on a 5; retry rules "
    "F,2h,15m; G,16h,1h,1.5; F,4d,6h.",
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
        bounce_status="5.0.0",
        delay_status="4.0.0",
        expiry_status="5.0.0",
        evidence=Proof(
            Evidence.TESTED,
            "Exim deliver.c:7863 (failed: 5.0.0), 8386 (delayed: 4.0.0)",
            TESTED,
            ("errata:exim-bounce-status",),
        ),
    ),
    ordering=EximOrdering(),
    moving=EximLimits(),
    tls=EximTls(),
    sources="Exim 4.96 transports/smtp.c, host.c, deliver.c, routers/dnslookup.c, retry.c; "
    "spec ch. 30, 32, 49",
    models="Exim 4.96",
)
