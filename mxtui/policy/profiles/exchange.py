"""Microsoft Exchange: fails over on connection and session-setup failures; 2-day expiry.

Its per-stage handling of MAIL, RCPT and DATA replies is unverified: no source describes it
(reference §0, §2), and each such cell says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from mxtui.model import Evidence
from mxtui.policy.cells import S, c
from mxtui.policy.profiles.base import (
    D,
    DsnFlavour,
    H,
    HostShuffle,
    MoveOn,
    Profile,
    ProfileParams,
    RetrySchedule,
    setting,
    until,
)
from mxtui.policy.profiles.tls import StandardTls, TlsDemand
from mxtui.text import span

if TYPE_CHECKING:
    from mxtui.tlspolicy.model import TlsPolicy


# fmt: off
@dataclass(frozen=True)
class ExchangeParams(ProfileParams):
    queue_glitch_retry_count: int = setting(
        4, "int", "Set-TransportService -QueueGlitchRetryCount", "quick retries after a glitch",
        name="QueueGlitchRetryCount")
    queue_glitch_retry_interval: int = setting(
        60, "duration", "Set-TransportService", "wait between glitch retries",
        name="QueueGlitchRetryInterval")
    transient_failure_retry_count: int = setting(
        6, "int", "Set-TransportService", "retries after a transient failure",
        name="TransientFailureRetryCount")
    transient_failure_retry_interval: int = setting(
        300, "duration", "Set-TransportService (Edge: 600)",
        "wait between transient-failure retries", name="TransientFailureRetryInterval")
    outbound_connection_failure_retry_interval: int = setting(
        600, "duration", "Set-TransportService (Edge: 1800)", "wait between retries after that",
        name="OutboundConnectionFailureRetryInterval")
    message_expiration_timeout: int = setting(
        2 * D, "duration", "Set-TransportService",
        "how long a message may stay queued before an NDR", name="MessageExpirationTimeout")
    delay_notification_timeout: int = setting(
        4 * H, "duration", "Set-TransportService", "when the sender is told of a delay",
        name="DelayNotificationTimeout")
    microsoft_365: bool = setting(
        False, "bool", "Microsoft Learn: 'How SMTP DANE works' and 'Enhancing mail flow with "
        "MTA-STS' (Exchange Online)",
        "the sender is Exchange Online (Microsoft 365), which validates DANE and MTA-STS on "
        "outbound mail; Exchange Server does neither")
# fmt: on


class ExchangeTls(StandardTls):
    """Exchange Online (Microsoft 365) sending: DANE where the TLSA records are secure, else
    the MTA-STS policy, as the standards say (recalled from Microsoft's documentation, not
    checked: no Microsoft source or program is at hand). Exchange Server (on premises)
    applies neither."""

    knobs = "microsoft_365 (Exchange Online) or not (Exchange Server)"
    dane = True
    mta_sts = True
    source = "Microsoft Learn (Exchange Online outbound DANE and MTA-STS)"
    evidence = Evidence.RECALLED

    def wants_policy(self, params: ProfileParams) -> bool:
        return bool(params.get("microsoft_365"))

    def demand(self, params: ProfileParams, policy: TlsPolicy | None, host: str) -> TlsDemand:
        if not params.get("microsoft_365"):
            return TlsDemand("may", "Exchange Server applies neither DANE nor MTA-STS to "
                             "outbound mail (set microsoft_365=yes for Exchange Online)",
                             self.source, Evidence.RECALLED)  # fmt: skip
        found = super().demand(params, policy, host)
        return replace(found, why="Exchange Online: " + found.why, source=self.source)


MS = "Exchange KB 4051498 / KB 4495258"
MSI = "no Exchange source (unverified)"
M365 = "Microsoft Learn: Exchange Online outbound DANE (4.7.323-4.7.325) and MTA-STS"

CELLS = {
    (S.CONNECT, "fail"): c("NX", "V", MS, "Exchange fails over to an alternate host."),
    (S.GREETING, "drop"): c("NX", "I", MSI),
    (S.GREETING, "unexpected"): c("NX", "I", MSI),
    (S.GREETING, "4xx"): c("NX", "V", MS, "KB 4051498: '421 ... Attempted failover to "
                           "alternate host'."),
    (S.GREETING, "5xx"): c("NDR", "I", MSI),
    (S.EHLO, "421"): c("NX", "I", MSI),
    (S.EHLO, "4xx"): c("H", "I", MSI),
    (S.EHLO, "5xx"): c("H", "I", MSI),
    (S.EHLO, "drop"): c("NX", "I", MSI),
    (S.HELO, "4xx"): c("NX", "I", MSI),
    (S.HELO, "5xx"): c("NDR", "I", MSI),
    (S.HELO, "drop"): c("NX", "I", MSI),
    (S.HELO, "unexpected"): c("NDR", "I", MSI),
    (S.STARTTLS, "refused"): c("PLAIN", "I", MSI),
    (S.STARTTLS, "drop"): c("NX", "I", MSI),
    (S.STARTTLS, "req-4xx"): c("NX", "V", MS, "TLS failures fail over to another host."),
    (S.STARTTLS, "req-5xx"): c("NX", "I", MS),
    **{
        (S.STARTTLS, key): c(
            "NA", "M", M365, "Exchange Server does not apply DANE or MTA-STS; Exchange Online "
            "does (microsoft_365=yes).",
            microsoft_365__yes=c("NX", "M", M365, "Exchange Online does not deliver to the "
                                 "host and tries another; the message waits in the queue when "
                                 "none is left (4.7.32x), then an NDR."))
        for key in ("not-offered", "dane-fail", "sts-fail", "sts-not-listed", "tlsa-error")
    },
    (S.AUTH, "4xx"): c("NX", "V", MS, "Auth 4xx fails over to another host."),
    (S.AUTH, "5xx"): c("NX", "I", MS),
    (S.AUTH, "drop"): c("NX", "I", MS),
    (S.MAIL, "4xx"): c("RQ", "I", MSI),
    (S.MAIL, "5xx"): c("NDR", "I", MSI),
    (S.MAIL, "drop"): c("RQ", "I", MSI),
    (S.RCPT, "2xx"): c("C", "V", "reference §5",
                       "Exchange long answered 250 to every RCPT and bounced unknown users "
                       "afterwards (accept-then-bounce), the source of backscatter."),
    (S.RCPT, "4xx"): c("r-RQ", "I", MSI),
    (S.RCPT, "552"): c("r-NDR", "I", MSI),
    (S.RCPT, "5xx"): c("r-NDR", "I", MSI),
    (S.RCPT, "drop"): c("RQ", "I", MSI),
    (S.DATA, "4xx"): c("RQ", "I", MSI),
    (S.DATA, "5xx"): c("NDR", "I", MSI),
    (S.DATA, "drop"): c("RQ", "I", MSI),
    (S.DOT, "4xx"): c("RQ", "I", MSI),
    (S.DOT, "5xx"): c("NDR", "I", MSI),
    (S.DOT, "drop"): c("RQ", "I", MSI),
    (S.QUIT, "any"): c("IGN", "I", MSI),
    (S.DNS, "nxdomain"): c("NDR", "M", "Exchange NDR 5.4.4 SMTPSEND.DNS.NonExistentDomain"),
    (S.DNS, "null-mx"): c("NDR", "I", MSI),
    (S.DNS, "no-address"): c("NDR", "I", MSI),
    (S.DNS, "tempfail"): c("RQ", "V", "Exchange docs (451 4.4.0)"),
}  # fmt: skip


def _schedule(p: ExchangeParams) -> tuple[tuple[int, ...], int, str]:
    glitch_n, glitch_i = p.queue_glitch_retry_count, p.queue_glitch_retry_interval
    trans_n, trans_i = p.transient_failure_retry_count, p.transient_failure_retry_interval
    then_i = p.outbound_connection_failure_retry_interval

    def next_after(t: int, k: int) -> int:
        if k <= glitch_n:
            return t + glitch_i
        if k <= glitch_n + trans_n:
            return t + trans_i
        return t + then_i

    attempts, give_up = until(next_after, p.message_expiration_timeout, at_lifetime=True)
    return (
        attempts,
        give_up,
        (
            f"{glitch_n} glitch retries every {span(glitch_i)}, {trans_n} transient retries every "
            f"{span(trans_i)}, then every {span(then_i)}; NDR at MessageExpirationTimeout"
        ),
    )


PROFILE = Profile(
    name="exchange",
    display="Microsoft Exchange",
    description="Fails over to another host on connection and session-setup failures; 2-day "
    "expiry. Stage handling partly unverified.",
    mta="Exchange",
    params_type=ExchangeParams,
    cells=CELLS,
    retry=RetrySchedule(
        _schedule,
        "DelayNotificationTimeout",
        "Exchange Set-TransportService docs (MessageRetryInterval conflicting)",
    ),
    tls=ExchangeTls(),
    dsn=DsnFlavour(
        "Microsoft Outlook",
        "postmaster",
        "Undeliverable: {subject}",
        "Delivery delayed: {subject}",
        "Delivery has failed to these recipients or groups:",
        "Your message couldn't be delivered. The server that tried to deliver it gave the "
        "error shown below.",
        "Delivery is delayed to these recipients or groups. The server will keep trying to "
        "deliver this message until {until}.",
    ),
    ordering=HostShuffle(),
    moving=MoveOn(flat_list=False),
    sources="Microsoft Exchange docs; KB 4051498, KB 4495258",
    models="Exchange Server 2016/2019 (documentation only)",
    untested="Exchange cannot run here (a Windows server product): its cells come from its "
    "documentation, never tested",
)
