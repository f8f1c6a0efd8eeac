"""OpenSMTPD, as OpenSMTPD 6.8.0p2 (Debian 12) does it.

Until a session is ready for mail (greeting, EHLO/HELO, STARTTLS, AUTH) a failure only
disables that route (the source–MX address pair) and the next route is tried in the same
attempt; once a message is under way, a first digit 5 fails the envelope and anything else
tempfails it for a later retry (mta_session.c). The MX list is kept in preference order as DNS
gave it, with no shuffle, so the first MX of a preference level is tried first every time
(mta.c). No usable MX — a null MX, MX hosts without addresses, no MX and no address — is a
temporary failure ("No MX found for domain"), not a bounce. Retries at 400·k² s, expiry 4 d.

Sources: github.com/OpenSMTPD/OpenSMTPD at tag v6.8.0p2, usr.sbin/smtpd/...; line numbers are
that tag's. Run as a sender: OpenSMTPD 6.8.0p2 (reference §0, real-senders.md).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from mxtui.model import DecisionContext, Evidence, Proof, TryTarget
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
    ipv4_after,
    setting,
    until,
)
from mxtui.text import span

TESTED = "OpenSMTPD 6.8.0p2"

ROUTE_DISABLED_S = 15
"""mta.c:57, 1341: DELAY_ROUTE_BASE·penalty², a route whose first connection failed is
disabled for 15 s (penalty 1, mta.c:574-575)."""
CONNDELAY_RELAY_S = 2
"""limit.c:53, mta.c:1234-1238: a relay starts a new connection at most every 2 s."""
CYCLE = ROUTE_DISABLED_S // CONNDELAY_RELAY_S + 1
"""Routes dialled before the first disabled one is back: 8."""


# fmt: off
@dataclass(frozen=True)
class OpensmtpdParams(ProfileParams):
    queue_ttl: int = setting(
        4 * D, "duration", "smtpd.conf(5) queue ttl",
        "how long a message may stay queued (expires at ctime + ttl)")
    bounce_warn_interval: int = setting(
        4 * H, "duration", "smtpd.conf(5) bounce warn-interval",
        "when the sender is told of a delay")
# fmt: on


class OpensmtpdOrdering(Ordering):
    """mta.c:258-276: each address joins the MX list after those of lower or equal preference
    (no shuffle); mta_find_route (1521-1666) takes, at the lowest preference with a usable
    route, the first route with the fewest connections: the first MX of a level first, every
    time. An address listed under two MX names is one host, one route (mta_host). A host's
    addresses come from libasr's getaddrinfo, which asks for AAAA before A (asr.c:491-493, the
    default unless built with ASR_IPV4_BEFORE_IPV6; Debian's is not): its IPv6 addresses first,
    tested with OpenSMTPD 6.8.0p2 (conformance cases dual-stack-host-order, 14 of 14 runs, and
    dual-stack-v6-refuses)."""

    rule = (
        "MX addresses lowest preference first, in the order DNS gave them, never shuffled: "
        "the first MX of a preference level is always tried first, a host's IPv6 addresses "
        "before its IPv4 ones; an address listed twice is one route"
    )
    evidence = Proof(
        Evidence.TESTED,
        "OpenSMTPD mta.c:258-276, 1521-1666; libasr asr.c:491-493",
        TESTED,
        ("errata:first-mx-first", "dual-stack-host-order", "dual-stack-v6-refuses"),
    )

    def group(self, preference: int, hosts: list[Any], rng: random.Random) -> list[TryTarget]:
        return [t for h in hosts for t in sorted(h.targets(preference), key=ipv4_after)]


class OpensmtpdRoutes(MoveOn):
    """A failed route is disabled for 15 s and a new connection starts every 2 s, so after
    eight failed routes the first is usable again and OpenSMTPD goes back to it: with many
    refusing MX hosts it cycles among the first eight (measured with 40, reference §0)."""

    rule = (
        "moves to the next route (MX address) after any failure before the session is ready; "
        f"with more than {CYCLE} failing routes it cycles among the first {CYCLE}"
    )
    evidence = Proof(
        Evidence.TESTED,
        "OpenSMTPD mta.c:57, 574-575, 1234-1238, 1341; limit.c:53",
        TESTED,
        ("errata:forty-refusing-mx",),
    )

    def final_reason(self, params: ProfileParams, ctx: DecisionContext) -> str:
        if ctx.addresses_tried >= CYCLE:
            return (
                f"the first route is usable again after {span(ROUTE_DISABLED_S)}, so OpenSMTPD "
                f"cycles among the first {CYCLE} and never reaches the next"
            )
        return ""


SESS = "OpenSMTPD mta_session.c"
NOT_READY = (
    "mta.c:574-575 (the route is disabled), 1521-1666 (the next route, same attempt); "
    "mta.c:1120-1140 (no route left: TempFail)"
)
READY = f"{SESS}:1576-1577 (with a task: TempFail)"
FIRST_DIGIT = "OpenSMTPD: a first digit 5 is permanent, anything else temporary."
BEFORE_READY = (
    "Before the session is ready for mail no envelope is touched: the route is disabled and "
    "the next MX tried in the same attempt."
)

CELLS = {
    (S.CONNECT, "fail"): c("NX", "T", f"{SESS}:1566-1571; {NOT_READY}", tested_with=TESTED,
                           cases=("errata:forty-refusing-mx",)),
    (S.GREETING, "drop"): c("NX", "T", f"{SESS}:1371-1379, 1400-1408; {NOT_READY}",
                            BEFORE_READY, tested_with=TESTED,
                            cases=("errata:greeting-timeout",)),
    (S.GREETING, "unexpected"): c("NX", "V", f"{SESS}:908-912 (BANNER rejected); {NOT_READY}",
                                  BEFORE_READY),
    (S.GREETING, "4xx"): c("NX", "T", f"{SESS}:908-912 (BANNER rejected); {NOT_READY}",
                           BEFORE_READY, tested_with=TESTED, cases=("errata:greeting-421",)),
    (S.GREETING, "5xx"): c("NX", "T", f"{SESS}:908-912 (BANNER rejected); {NOT_READY}",
                           "Never bounced: a 554 greeting is a bad route, not a bad message. "
                           + BEFORE_READY, tested_with=TESTED, cases=("errata:greeting-554",)),
    (S.EHLO, "421"): c("H", "V", f"{SESS}:930-940 (HELO), 1400-1408; {NOT_READY}",
                       "OpenSMTPD falls back to HELO; after a 421 the connection is gone, so "
                       "the route fails and the next MX is tried (H→NX)."),
    (S.EHLO, "4xx"): c("H", "V", f"{SESS}:930-940", "OpenSMTPD falls back to HELO."),
    (S.EHLO, "5xx"): c("H", "V", f"{SESS}:930-940", "OpenSMTPD falls back to HELO."),
    (S.EHLO, "drop"): c("NX", "V", f"{SESS}:1400-1408; {NOT_READY}", BEFORE_READY),
    (S.EHLO, "unexpected"): c("H", "V", f"{SESS}:930-940"),
    (S.HELO, "4xx"): c("NX", "V", f"{SESS}:948-952 (HELO rejected); {NOT_READY}",
                       BEFORE_READY),
    (S.HELO, "5xx"): c("NX", "V", f"{SESS}:948-952 (HELO rejected); {NOT_READY}",
                       "Never bounced. " + BEFORE_READY),
    (S.HELO, "drop"): c("NX", "V", f"{SESS}:1400-1408; {NOT_READY}", BEFORE_READY),
    (S.HELO, "unexpected"): c("NX", "V", f"{SESS}:948-952; {NOT_READY}", BEFORE_READY),
    (S.STARTTLS, "refused"): c("PLAIN", "V", f"{SESS}:966-970 (not required: go on in clear)"),
    (S.STARTTLS, "drop"): c("RECON", "V", f"{SESS}:1385-1393, 510-513 (opportunistic TLS "
                            "failed: the same address again in plaintext)"),
    (S.STARTTLS, "req-4xx"): c("NX", "V", f"{SESS}:971-975 (STARTTLS rejected); {NOT_READY}",
                               BEFORE_READY),
    (S.STARTTLS, "req-5xx"): c("NX", "V", f"{SESS}:971-975 (STARTTLS rejected); {NOT_READY}",
                               BEFORE_READY),
    (S.AUTH, "4xx"): c("NX", "V", f"{SESS}:978-986 (AUTH rejected); {NOT_READY}",
                       BEFORE_READY),
    (S.AUTH, "5xx"): c("NX", "V", f"{SESS}:978-986 (AUTH rejected); {NOT_READY}",
                       BEFORE_READY),
    (S.AUTH, "drop"): c("NX", "V", f"{SESS}:1400-1408; {NOT_READY}", BEFORE_READY),
    (S.MAIL, "4xx"): c("RQ", "V", f"{SESS}:1023-1031 (TempFail)"),
    (S.MAIL, "3xx"): c("RQ", "V", f"{SESS}:1023-1031 (not a 5: TempFail)", FIRST_DIGIT),
    (S.MAIL, "5xx"): c("NDR", "V", f"{SESS}:1023-1031 (a 5: PermFail)"),
    (S.MAIL, "drop"): c("RQ", "V", READY),
    (S.MAIL, "unexpected"): c("RQ", "V", f"{SESS}:1023-1031", FIRST_DIGIT),
    (S.RCPT, "4xx"): c("r-RQ", "V", f"{SESS}:1059-1066 (TempFail for this envelope)"),
    (S.RCPT, "552"): c("r-NDR", "V", f"{SESS}:1059-1066 (a 5: PermFail)"),
    (S.RCPT, "3xx"): c("r-RQ", "V", f"{SESS}:1059-1066 (not a 5: TempFail)", FIRST_DIGIT),
    (S.RCPT, "5xx"): c("r-NDR", "V", f"{SESS}:1059-1066 (a 5: PermFail)"),
    (S.RCPT, "drop"): c("RQ", "V", READY),
    (S.RCPT, "unexpected"): c("r-RQ", "V", f"{SESS}:1059-1066", FIRST_DIGIT),
    (S.DATA, "4xx"): c("RQ", "V", f"{SESS}:1133-1148 (TempFail)"),
    (S.DATA, "2xx"): c("C", "T", f"{SESS}:1134-1137 (a 2 or a 3: send the message)",
                       "OpenSMTPD takes a 2xx to DATA as a go-ahead and sends the message.",
                       tested_with=TESTED, cases=("errata:data-2xx",)),
    (S.DATA, "5xx"): c("NDR", "V", f"{SESS}:1140-1141 (a 5: PermFail)"),
    (S.DATA, "drop"): c("RQ", "V", READY),
    (S.DATA, "unexpected"): c("RQ", "V", f"{SESS}:1133-1148", FIRST_DIGIT),
    (S.DOT, "4xx"): c("RQ", "V", f"{SESS}:1153-1171 (TempFail)"),
    (S.DOT, "3xx"): c("RQ", "V", f"{SESS}:1153-1171 (not a 2 or 5: TempFail)", FIRST_DIGIT),
    (S.DOT, "5xx"): c("NDR", "V", f"{SESS}:1159-1160 (a 5: PermFail)"),
    (S.DOT, "drop"): c("RQ", "V", READY),
    (S.DOT, "unexpected"): c("RQ", "V", f"{SESS}:1153-1171", FIRST_DIGIT),
    (S.DNS, "nxdomain"): c("NDR", "V", "OpenSMTPD dns.c:260-266, mta.c:1011-1014 (DNS_ENONAME: "
                           "PermFail 'Domain does not exist')"),
    (S.DNS, "null-mx"): c("RQ", "T", "OpenSMTPD dns.c:280-294 (the '.' target has no address), "
                          "mta.c:1015-1020 (DNS_ENOTFOUND: TempFail 'No MX found for domain')",
                          "OpenSMTPD 6.8 knows no null MX: the message is deferred, and retried "
                          "until it expires.", tested_with=TESTED, cases=("errata:null-mx",)),
    (S.DNS, "no-address"): c("RQ", "T", "OpenSMTPD dns.c:223-244, 292-294 (no address: "
                             "DNS_ENOTFOUND), mta.c:1015-1020 (TempFail 'No MX found for "
                             "domain')", "Deferred, not bounced: retried until it expires.",
                             tested_with=TESTED, cases=("errata:mx-without-address",
                                                        "errata:no-mx-no-a")),
    (S.DNS, "tempfail"): c("RQ", "V", "OpenSMTPD mta.c:1003-1006 (DNS_RETRY: TempFail)"),
    **{
        (S.STARTTLS, key): c("NA", "M", "OpenSMTPD 6.8 smtpd.conf(5) (not checked)",
                             "OpenSMTPD applies neither DANE nor MTA-STS.")
        for key in ("not-offered", "dane-fail", "sts-fail", "sts-not-listed", "tlsa-error")
    },
}  # fmt: skip


def _schedule(p: OpensmtpdParams) -> tuple[tuple[int, ...], int, str]:
    attempts, give_up = until(lambda _t, k: 400 * k * k, p.queue_ttl, at_lifetime=True)
    return attempts, give_up, "next = ctime + 400·k² s; expires at ctime + queue ttl"


PROFILE = Profile(
    name="opensmtpd",
    display="OpenSMTPD 6.8",
    description="Moves to the next MX on any failure before the session is ready, never "
    "bounces for a rejected greeting or a missing MX; retries at 400·k² s.",
    mta="OpenSMTPD",
    params_type=OpensmtpdParams,
    cells=CELLS,
    retry=RetrySchedule(
        _schedule,
        "bounce_warn_interval",
        "OpenSMTPD scheduler_ramqueue.c; smtpd.conf(5)",
        Evidence.TESTED,
        TESTED,
    ),
    dsn=DsnFlavour(
        "Mailer Daemon",
        "MAILER-DAEMON",
        "Delivery status notification: error",
        "Delivery status notification: delay",
        "Hi! This is the MAILER-DAEMON, please DO NOT REPLY to this email.",
        "An error has occurred while attempting to deliver a message for the following "
        "list of recipients:",
        "Delivery of your message has been delayed for {age} for the following recipients; it "
        "will be retried until {until}:",
        bounce_status="5.0.0",
        delay_status="4.0.0",
        expiry_status="4.4.7",
        evidence=Proof(
            Evidence.VERIFIED,
            "OpenSMTPD mta.c:772-788 (ESC_OTHER_STATUS: X.0.0), "
            "queue.c:218-219 (expired: 4.4.7), bounce.c:523-532",
        ),
    ),
    ordering=OpensmtpdOrdering(),
    moving=OpensmtpdRoutes(),
    sources="OpenSMTPD 6.8.0p2 mta.c, mta_session.c, dns.c, limit.c, scheduler_ramqueue.c; "
    "smtpd.conf(5)",
    models="OpenSMTPD 6.8.0p2",
)
