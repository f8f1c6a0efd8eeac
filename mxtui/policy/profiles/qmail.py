"""qmail, as notqmail 1.09 does it (source only: qmail has no Debian package to run).

qmail-remote moves to another address only when the connection fails; once connected there is
no failover (Z). It speaks HELO only, no EHLO, no STARTTLS, no AUTH, and tells replies apart
only by comparing the code with 500 and 400: a 3xx to MAIL goes on, a 3xx to RCPT counts as
accepted, a 2xx to DATA sends the message, a 3xx after the dot counts as delivered. dns.c
shuffles the MX *hosts* of equal preference and keeps each host's addresses together; it looks
up A records only (no IPv6), so an MX host with only AAAA records contributes nothing. No delay
notices; retries at birth + (⌊√age⌋ + 20)² s, about 400·k².

Sources: github.com/notqmail/notqmail at tag notqmail-1.09: qmail-remote.c, dns.c,
qmail-send.c; line numbers are that tag's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mxtui.model import Evidence, Proof
from mxtui.policy.cells import S, c
from mxtui.policy.profiles.base import (
    DsnFlavour,
    HostShuffle,
    Profile,
    ProfileParams,
    RetrySchedule,
    setting,
    until,
)
from mxtui.text import span


# fmt: off
@dataclass(frozen=True)
class QmailParams(ProfileParams):
    queuelifetime: int = setting(
        604800, "duration", "qmail-send(8) control/queuelifetime",
        "how long a message may stay queued before a temporary failure becomes permanent")
# fmt: on


class QmailOrdering(HostShuffle):
    """dns.c:355-384 (dns_mxip): among the MX hosts of the lowest preference left, one is
    picked at random and all its addresses appended (dns_ipplus, A records only: 273-287);
    no address is merged, so an address listed twice is dialled twice (qmail-remote.c:
    390-406)."""

    families = frozenset({4})
    merge_duplicates = False
    rule = (
        "MX hosts lowest preference first, hosts of equal preference shuffled, each host's "
        "IPv4 addresses together (qmail looks up A records only); an address listed under two "
        "MX names is dialled twice"
    )
    evidence = Proof(Evidence.VERIFIED, "notqmail dns.c:273-287, 355-384; qmail-remote.c:390-406")


QR = "notqmail qmail-remote.c"
NA_QM = c(
    "NA",
    "V",
    f"{QR}:226-230 (HELO only)",
    "qmail-remote speaks HELO only and has no STARTTLS or AUTH.",
)
Z = "Z: deferred; once connected qmail never tries another host"
BY_400_500 = "qmail-remote compares the code with 500 and 400 only; anything below 400 is success."

CELLS = {
    (S.CONNECT, "fail"): c("NX", "V", f"{QR}:390-406; timeoutconnect=60",
                           "A failed connection is the only thing that makes qmail move on."),
    (S.GREETING, "drop"): c("RQ", "V", f"{QR}:98-105 (dropped: Z 4.4.2)",
                            "Once connected, qmail never tries another host: the message "
                            "waits for a retry."),
    (S.GREETING, "2xx"): c("C", "V", f"{QR}:224", "qmail wants exactly 220; any other greeting, "
                           "even another 2xx, defers the message."),
    (S.GREETING, "unexpected"): c("RQ", "V", f"{QR}:224 ({Z})",
                                  "Any greeting but 220 defers the message."),
    (S.GREETING, "4xx"): c("RQ", "V", f"{QR}:224 ({Z})",
                           "qmail uses another MX only when it cannot connect at all."),
    (S.GREETING, "5xx"): c("RQ", "V", f"{QR}:224 ({Z})",
                           "Any greeting but 220, even a 5xx, is temporary for qmail: it defers."),
    **{(S.EHLO, o): NA_QM for o in ("2xx", "421", "4xx", "5xx", "drop", "unexpected")},
    (S.HELO, "2xx"): c("C", "V", f"{QR}:230", "qmail wants exactly 250 to HELO."),
    (S.HELO, "4xx"): c("RQ", "V", f"{QR}:230 ({Z})", "Any HELO reply but 250 defers the message."),
    (S.HELO, "5xx"): c("RQ", "V", f"{QR}:230 ({Z})", "Any HELO reply but 250 defers the message."),
    (S.HELO, "drop"): c("RQ", "V", f"{QR}:98-105 ({Z})"),
    (S.HELO, "unexpected"): c("RQ", "V", f"{QR}:230 ({Z})",
                              "Any HELO reply but 250 defers the message."),
    **{(S.STARTTLS, o): NA_QM for o in ("2xx", "refused", "drop", "req-4xx", "req-5xx")},
    **{(S.AUTH, o): NA_QM for o in ("2xx", "3xx", "4xx", "5xx", "drop")},
    (S.MAIL, "4xx"): c("RQ", "V", f"{QR}:238 ({Z})", "A 4xx to MAIL defers the message."),
    (S.MAIL, "3xx"): c("C", "V", f"{QR}:236-238", BY_400_500),
    (S.MAIL, "5xx"): c("NDR", "V", f"{QR}:237 (D)", "A 5xx to MAIL fails the message for good."),
    (S.MAIL, "drop"): c("RQ", "V", f"{QR}:98-105 ({Z})"),
    (S.MAIL, "unexpected"): c("NDR", "V", f"{QR}:236-238",
                              "A code of 600 or more counts as 500 and up: a permanent "
                              "failure. (One below 200 would count as success.) " + BY_400_500),
    (S.RCPT, "4xx"): c("r-RQ", "V", f"{QR}:251-254 (s)",
                        "A 4xx to RCPT fails this recipient only, for now: it waits for a retry."),
    (S.RCPT, "552"): c("r-NDR", "V", f"{QR}:247-250 (h)",
                        "A 5xx to RCPT fails this recipient only, for good: it bounces."),
    (S.RCPT, "3xx"): c("C", "V", f"{QR}:246-258 (r: accepted)", BY_400_500),
    (S.RCPT, "5xx"): c("r-NDR", "V", f"{QR}:247-250 (h)",
                        "A 5xx to RCPT fails this recipient only, for good: it bounces."),
    (S.RCPT, "drop"): c("RQ", "V", f"{QR}:98-105 ({Z})"),
    (S.RCPT, "unexpected"): c("r-NDR", "V", f"{QR}:246-258",
                              "A code of 600 or more counts as 500 and up: this recipient "
                              "fails for good. (One below 200 would count as accepted.) "
                              + BY_400_500),
    (S.DATA, "4xx"): c("RQ", "V", f"{QR}:265 ({Z})", "A 4xx to DATA defers the message."),
    (S.DATA, "2xx"): c("C", "V", f"{QR}:263-267 (anything below 400: the message is sent)",
                       BY_400_500),
    (S.DATA, "5xx"): c("NDR", "V", f"{QR}:264 (D)", "A 5xx to DATA fails the message for good."),
    (S.DATA, "drop"): c("RQ", "V", f"{QR}:98-105 ({Z})"),
    (S.DATA, "unexpected"): c("NDR", "V", f"{QR}:263-267",
                              "A code of 600 or more counts as 500 and up: a permanent "
                              "failure. (One below 200 would send the message.) " + BY_400_500),
    (S.DOT, "4xx"): c("RQ", "V", f"{QR}:271 ({Z})", "A 4xx after the message defers it."),
    (S.DOT, "3xx"): c("DLV", "V", f"{QR}:268-272 (K: accepted)", BY_400_500),
    (S.DOT, "5xx"): c("NDR", "V", f"{QR}:270 (D)", "A 5xx after the message fails it for good."),
    (S.DOT, "drop"): c("RQ", "V", f"{QR}:96-105 (flagcritical)",
                       "qmail flags it 'Possible duplicate!'."),
    (S.DOT, "unexpected"): c("NDR", "V", f"{QR}:268-272",
                             "A code of 600 or more counts as 500 and up: a permanent "
                             "failure. (One below 200 would count as delivered.) " + BY_400_500),
    (S.DNS, "nxdomain"): c("NDR", "V", f"{QR}:78-81, 369; dns.c:326-331",
                           "qmail: 'Sorry, I couldn't find any host named ... (#5.1.2)'."),
    (S.DNS, "null-mx"): c("NDR", "I", f"{QR}:82-84, 374; dns.c:355-387",
                          "notqmail knows no null MX: the '.' target has no A record, so no "
                          "address is found: 'Sorry, I couldn't find a mail exchanger or IP "
                          "address. (#5.4.4)'."),
    (S.DNS, "no-address"): c("NDR", "V", f"{QR}:82-84, 374; dns.c:273-287, 355-387",
                             "No MX host has an A record (AAAA ones are never looked up): "
                             "'Sorry, I couldn't find a mail exchanger or IP address. "
                             "(#5.4.4)'."),
    (S.DNS, "tempfail"): c("RQ", "V", f"{QR}:68-69, 366-368",
                           "qmail: 'Sorry, I couldn't find any host by that name. (#4.1.2)'."),
    **{
        (S.STARTTLS, key): c("NA", "V", "netqmail 1.06 qmail-remote.c (no STARTTLS at all)",
                             "qmail sends no STARTTLS, so no TLS policy applies.")
        for key in ("not-offered", "dane-fail", "sts-fail", "sts-not-listed", "tlsa-error")
    },
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
            f"after queuelifetime ({span(p.queuelifetime)}) one more attempt, whose temporary "
            "failure is final"
        ),
    )


PROFILE = Profile(
    name="qmail",
    display="qmail (notqmail)",
    description="Moves on only when the connection fails; HELO only, no TLS, no IPv6; no "
    "delay notices.",
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
        statuses={
            "nxdomain": "5.1.2",
            "null-mx": "5.4.4",
            "no-address": "5.4.4",
            "tempfail": "4.1.2",
        },
    ),
    ordering=QmailOrdering(),
    sends_delay_notice=False,
    sources="notqmail 1.09 qmail-remote.c, dns.c, qmail-send.c",
    models="notqmail 1.09 (source only: no Debian package to run)",
    untested="qmail has no Debian package, so no real qmail runs here: its cells are read in the "
    "notqmail source, never tested",
)
