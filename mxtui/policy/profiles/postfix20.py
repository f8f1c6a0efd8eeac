"""Postfix 2.0 (and earlier): uses a more distant MX only when the closer ones could not be
contacted, or would not greet.

smtp_connect.c tries each address until one connects and greets with neither 4xx
(smtp_skip_4xx_greeting, default yes) nor 5xx (smtp_skip_5xx_greeting, default yes); once a
server has greeted, "we never try alternative mail exchangers" (smtp_connect.c:305-310): every
later failure defers or bounces. 2.1 removed smtp_skip_4xx_greeting (always on) and added
failover *after* a successful greeting; the reference's history note "2.1 and later try the next
MX after a failed greeting" was wrong (reference §0). Only A records are looked up: no IPv6
(IPv6 came with 2.2), no TLS (2.2), no delivery status notifications (2.3).

Sources: github.com/vdukhovni/postfix at tag v2.0.20, postfix/src/...; line numbers are that
tag's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mxtui.model import Evidence, Proof
from mxtui.policy.cells import S, c
from mxtui.policy.profiles import postfix
from mxtui.policy.profiles.base import (
    D,
    Ordering,
    Profile,
    ProfileParams,
    RetrySchedule,
    setting,
)


# fmt: off
@dataclass(frozen=True)
class Postfix20Params(ProfileParams):
    smtp_skip_4xx_greeting: bool = setting(
        True, "bool", "Postfix 2.0 mail_params.h:738-739; smtp_connect.c:249-255",
        "a 4xx greeting: skip this server and try the next address")
    smtp_skip_5xx_greeting: bool = setting(
        True, "bool", "Postfix 2.0 mail_params.h:742-743; smtp_connect.c:260-266",
        "a 5xx greeting: skip this server and try the next address (defer when none is left)")
    soft_bounce: bool = setting(
        False, "bool", "postconf(5) soft_bounce",
        "every bounce becomes a deferral (the mail stays queued)")
    maximal_queue_lifetime: int = setting(
        5 * D, "duration", "Postfix 2.0 mail_params.h:515 (5d)",
        "how long a message may stay queued before it is returned")
    delay_warning_time: int = setting(
        0, "duration", "Postfix 2.0 mail_params.h:519 (0h)",
        "when to warn the sender of a delay (0 = never)")
    minimal_backoff_time: int = setting(
        1000, "duration", "Postfix 2.0 mail_params.h:507 (1000s); qmgr_active.c:460-463",
        "shortest wait between attempts")
    maximal_backoff_time: int = setting(
        4000, "duration", "Postfix 2.0 mail_params.h:511 (4000s); qmgr_active.c:458-459",
        "longest wait between attempts")
    queue_run_delay: int = setting(
        1000, "duration", "Postfix 2.0 mail_params.h:504 (1000s); qmgr.c:293-301",
        "how often the deferred queue is scanned")
    queue_scan_phase: int = setting(500, "duration", postfix.PHASE, "the scan timer's phase (φ)")

    def softens_bounces(self) -> bool:
        return self.soft_bounce
# fmt: on


class Postfix20Ordering(Ordering):
    """smtp_addr.c: A records only (205), every MX name's addresses appended (238-242, no
    merging), shuffled and sorted by preference (419-421)."""

    families = frozenset({4})
    merge_duplicates = False
    rule = (
        "one flat list of the IPv4 addresses of every MX name (Postfix 2.0 looks up A records "
        "only), lowest preference first, equal preferences shuffled, an address listed under "
        "several MX names dialled once per name"
    )
    evidence = Proof(Evidence.VERIFIED, "Postfix 2.0 smtp_addr.c:205, 238-242, 419-421")


CONN = "Postfix 2.0 smtp_connect.c"
PROTO = "Postfix 2.0 smtp_proto.c"
ONCE = f"{CONN}:305-310 (once a server greets, no other MX is tried)"
HARD = "smtp_trouble.c:116 (only a 4xx is soft; anything else bounces)"
NA_TLS = c("NA", "V", "Postfix 2.0.20 src/smtp has no STARTTLS (TLS came with 2.2)",
           "Postfix got built-in TLS only in 2.2.")  # fmt: skip

CELLS = {
    (S.CONNECT, "fail"): c("NX", "V", f"{CONN}:213-219, 312-319 (the next address)"),
    (S.GREETING, "drop"): c("NX", "V", f"{CONN}:224-242 (no greeting: the next address)",
                            "A server that never greets counts as not contacted, so Postfix 2.0 "
                            "moves on."),
    (S.GREETING, "unexpected"): c("NDR", "V", f"{PROTO}:184-187; {HARD}"),
    (S.GREETING, "4xx"): c(
        "NX", "V", f"{CONN}:249-255; smtp_skip_4xx_greeting=yes",
        "smtp_skip_4xx_greeting=yes (the default from snapshot 20000506 to 2.0.x; always on "
        "from 2.1): a server that greets with 4xx counts as not contacted, so Postfix 2.0 tries "
        "the next address.",
        smtp_skip_4xx_greeting__no=c(
            "RQ", "V", f"{PROTO}:184-187; {ONCE}; smtp_skip_4xx_greeting=no")),
    (S.GREETING, "5xx"): c(
        "NX>RQ", "V", f"{CONN}:260-266; smtp_skip_5xx_greeting=yes",
        "smtp_skip_5xx_greeting=yes: the next address; when none is left the mail is deferred, "
        "not bounced.",
        smtp_skip_5xx_greeting__no=c("NDR", "V", f"{PROTO}:184-187; smtp_skip_5xx_greeting=no")),
    (S.EHLO, "421"): c("RQ", "V", f"{PROTO}:222-231 (HELO on a closed connection); {ONCE}"),
    (S.EHLO, "4xx"): c("H", "V", f"{PROTO}:222-225 (any non-2xx EHLO: HELO)"),
    (S.EHLO, "5xx"): c("H", "V", f"{PROTO}:222-225"),
    (S.EHLO, "drop"): c("RQ", "V", f"{PROTO}:178-179 (lost connection: soft); {ONCE}"),
    (S.EHLO, "unexpected"): c("H", "V", f"{PROTO}:222-225"),
    (S.HELO, "4xx"): c("RQ", "V", f"{PROTO}:227-231; {ONCE}"),
    (S.HELO, "5xx"): c("NDR", "V", f"{PROTO}:227-231; {HARD}"),
    (S.HELO, "drop"): c("RQ", "V", f"{PROTO}:178-179; {ONCE}"),
    (S.HELO, "unexpected"): c("NDR", "V", f"{PROTO}:227-231; {HARD}"),
    **{(S.STARTTLS, o): NA_TLS for o in ("2xx", "refused", "drop", "req-4xx", "req-5xx")},
    (S.AUTH, "4xx"): c("RQ", "I", f"Postfix 2.0 smtp_sasl_proto.c; {ONCE}"),
    (S.AUTH, "5xx"): c("NDR", "I", "Postfix 2.0 smtp_sasl_proto.c",
                       "Before smtp_sasl_auth_soft_bounce (2.5) this bounced."),
    (S.AUTH, "drop"): c("RQ", "I", f"Postfix 2.0 smtp_sasl_proto.c; {ONCE}"),
    (S.MAIL, "4xx"): c("RQ", "V", f"{PROTO}:608-614; {ONCE}"),
    (S.MAIL, "3xx"): c("NDR", "V", f"{PROTO}:608-614; {HARD}"),
    (S.MAIL, "5xx"): c("NDR", "V", f"{PROTO}:608-614; {HARD}"),
    (S.MAIL, "drop"): c("RQ", "V", f"{PROTO} (lost connection: soft); {ONCE}"),
    (S.MAIL, "unexpected"): c("NDR", "V", f"{PROTO}:608-614; {HARD}"),
    (S.RCPT, "4xx"): c("r-RQ", "V", f"{PROTO}:638-645; {ONCE}"),
    (S.RCPT, "552"): c("r-NDR", "V", f"{PROTO}:626-645",
                       "The 552→452 rewrite is compiled out (#ifdef notdef), so a 552 bounces "
                       "that recipient."),
    (S.RCPT, "3xx"): c("r-NDR", "V", f"{PROTO}:638-645; {HARD}"),
    (S.RCPT, "5xx"): c("r-NDR", "V", f"{PROTO}:638-645; {HARD}"),
    (S.RCPT, "drop"): c("RQ", "V", f"{PROTO} (lost connection: soft); {ONCE}"),
    (S.RCPT, "unexpected"): c("r-NDR", "V", f"{PROTO}:638-645; {HARD}"),
    (S.DATA, "4xx"): c("RQ", "V", f"{PROTO}:659-665; {ONCE}"),
    (S.DATA, "2xx"): c("NDR", "V", f"{PROTO}:659-665 (not 3xx); {HARD}"),
    (S.DATA, "5xx"): c("NDR", "V", f"{PROTO}:659-665; {HARD}"),
    (S.DATA, "drop"): c("RQ", "V", f"{PROTO} (lost connection: soft); {ONCE}"),
    (S.DATA, "unexpected"): c("NDR", "V", f"{PROTO}:659-665; {HARD}"),
    (S.DOT, "4xx"): c("RQ", "V", f"{PROTO}:681-690; {ONCE}"),
    (S.DOT, "3xx"): c("NDR", "V", f"{PROTO}:681-690; {HARD}"),
    (S.DOT, "5xx"): c("NDR", "V", f"{PROTO}:681-690; {HARD}"),
    (S.DOT, "drop"): c("RQ", "V", f"{PROTO} (lost connection: soft); {ONCE}"),
    (S.DOT, "unexpected"): c("NDR", "V", f"{PROTO}:681-690; {HARD}"),
    (S.DNS, "nxdomain"): c("NDR", "V", "Postfix 2.0 smtp_addr.c:214-216 (host not found: "
                           "SMTP_FAIL)"),
    (S.DNS, "null-mx"): c("RQ", "I", "Postfix 2.0 smtp_addr.c:205-216, 392-396",
                          "Postfix 2.0 predates RFC 7505: the '.' target has no A record, so "
                          "'no MX host has a valid A record' defers the mail, again at every "
                          "retry, until the queue lifetime ends."),
    (S.DNS, "no-address"): c("RQ", "V", "Postfix 2.0 smtp_addr.c:392-396 ('no MX host for … "
                             "has a valid A record': SMTP_RETRY)"),
    (S.DNS, "tempfail"): c("RQ", "V", "Postfix 2.0 smtp_addr.c:377-382 (SMTP_RETRY)"),
    **{
        (S.STARTTLS, key): c("NA", "V", "postconf(5) smtp_tls_security_level: DANE is "
                             "available with Postfix 2.11 and later",
                             "Postfix 2.0 predates DANE (2.11) and MTA-STS.")
        for key in ("not-offered", "dane-fail", "sts-fail", "sts-not-listed", "tlsa-error")
    },
}  # fmt: skip

PROFILE = Profile(
    name="postfix-2.0",
    display="Postfix 2.0",
    description="Postfix 2.0 and earlier: uses a more distant MX only when closer ones could "
    "not be contacted or would not greet.",
    mta="Postfix 2.0",
    params_type=Postfix20Params,
    cells=CELLS,
    retry=RetrySchedule(
        postfix.schedule,
        "delay_warning_time",
        "Postfix 2.0 qmgr_active.c:457-463, qmgr.c:293-301; mail_params.h:504-519",
        Evidence.VERIFIED,
        windows=postfix.windows,
    ),
    dsn=replace(postfix.DSN, statuses={"null-mx": "5.4.4"}),
    ordering=Postfix20Ordering(),
    sources="Postfix 2.0.20 smtp_connect.c, smtp_proto.c, smtp_addr.c, smtp_trouble.c, "
    "qmgr_active.c",
    models="Postfix 2.0.20",
    untested="Postfix 2.0 is no longer packaged; only Postfix 3.7.11 runs here: its cells are "
    "read in the 2.0.20 source, never tested",
)
