"""The decision table: one row per (stage, outcome class), one cell per profile.

This is section 3 of ../shared/reference/delivery-decisions.md turned into data, with the rows
the reference leaves out (EHLO/HELO drops, AUTH, odd codes) added and marked as inference. Read
a row against the reference: the cell codes are the reference's own.

Cell codes:
  NX      move on (next address / next MX); on the last address allowed → requeue
  NX>NDR  move on; on the last address allowed → bounce
  NX>RQ   move on; on the last address allowed → requeue
  RQ      requeue the message          NDR     bounce the message
  r-NX    this recipient moves on (then r-RQ)
  r-RQ    requeue this recipient       r-NDR   bounce this recipient
  C       continue                     H       retry with HELO
  DLV     delivered (continue)         IGN     QUIT: nothing changes
  PLAIN   continue without TLS         RECON   reconnect to the same address without TLS
  NA      the profile never sends this command
Evidence marks as in the reference: V read in a source, M recalled, I inferred, ? unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from mxtui.model import Evidence, Stage

CELL_CODES = frozenset(
    {"NX", "NX>NDR", "NX>RQ", "RQ", "NDR", "r-NX", "r-RQ", "r-NDR", "C", "H", "DLV", "IGN",
     "PLAIN", "RECON", "NA"}
)  # fmt: skip


@dataclass(frozen=True)
class Cell:
    """What one profile does in one row, with its source and evidence mark.

    `alt` holds the cell that applies instead when a parameter has a given value, e.g. Postfix's
    greeting 5xx with smtp_skip_5xx_greeting=no.
    """

    code: str
    evidence: Evidence
    source: str
    note: str = ""
    alt: Mapping[tuple[str, object], Cell] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in CELL_CODES:
            raise ValueError(f"unknown cell code {self.code!r}")


@dataclass(frozen=True)
class Row:
    """One line of the table: the situation in plain words and what each profile does."""

    stage: Stage
    outcome: str
    label: str
    meaning: str
    cells: Mapping[str, Cell]


def c(code: str, evidence: str, source: str, note: str = "", **alt: Cell) -> Cell:
    """Shorthand for a cell; `alt` keys are "param__value" (e.g. smtp_skip_5xx_greeting__no)."""
    alts: dict[tuple[str, object], Cell] = {}
    for key, cell in alt.items():
        name, _, value = key.partition("__")
        alts[(name, {"yes": True, "no": False}.get(value, value))] = cell
    return Cell(code, Evidence(evidence), source, note, MappingProxyType(alts))


# Source shorthands, so each cell says where it comes from without repeating long strings.
RFC = "RFC 5321"
PF = "Postfix"
P20 = "Postfix 2.0 smtp(8); reference §5"
EX = "Exim transports/smtp.c; spec §49.2"
SM = "Sendmail deliver.c (goto tryhost)"
QM = "notqmail qmail-remote.c"
MS = "Exchange KB 4051498 / KB 4495258"
MSI = "no Exchange source (unverified)"
OS = "OpenSMTPD mta_session.c"
OSQ = "reference §3: OpenSMTPD follows the qmail column"
NA_QM = c("NA", "V", QM, "qmail-remote speaks HELO only and has no STARTTLS or AUTH.")
NA_P20 = c("NA", "M", "Postfix 2.2 release notes", "Postfix got built-in TLS only in 2.2.")

PROFILE_KEYS = ("rfc", "postfix", "postfix-2.0", "exim", "sendmail", "qmail", "exchange",
                "opensmtpd")  # fmt: skip


def row(stage: Stage, outcome: str, label: str, meaning: str, **cells: Cell) -> Row:
    named = {k.replace("postfix20", "postfix-2.0"): v for k, v in cells.items()}
    missing = set(PROFILE_KEYS) - set(named)
    if missing:
        raise ValueError(f"row {label!r} lacks cells for {sorted(missing)}")
    return Row(stage, outcome, label, meaning, MappingProxyType(named))


_KWARGS = ("rfc", "postfix", "postfix20", "exim", "sendmail", "qmail", "exchange", "opensmtpd")


def _all(code: str, evidence: str, source: str, note: str = "", **over: Cell) -> dict[str, Cell]:
    """The same cell for every profile (keyword names as in `row`), with per-profile overrides."""
    cells = {kw: c(code, evidence, source, note) for kw in _KWARGS}
    cells.update(over)
    return cells


S = Stage
ROWS: tuple[Row, ...] = (
    # ---------------------------------------------------------------- connect
    row(S.CONNECT, "fail", "connect refused / timeout",
        "The connection could not be made: the host refused it or never answered.",
        rfc=c("NX", "V", "RFC 5321 §5.1", "A client must be able to try each address in turn."),
        postfix=c("NX", "V", f"{PF} smtp_connect.c; smtp_connect_timeout=30s"),
        postfix20=c("NX", "M", P20),
        exim=c("NX", "V", EX, "Exim also keeps a retry record for that IP address."),
        sendmail=c("NX", "V", SM),
        qmail=c("NX", "V", f"{QM}; timeoutconnect=60",
                "A failed connection is the only thing that makes qmail move on."),
        exchange=c("NX", "V", MS, "Exchange fails over to an alternate host."),
        opensmtpd=c("NX", "I", OSQ)),
    # ---------------------------------------------------------------- greeting
    row(S.GREETING, "drop", "greeting: drop / timeout",
        "The connection opened but the server closed it, or said nothing, before its greeting; "
        "RFC 5321 §3.8 says to treat that like a 451 (temporary) reply.",
        rfc=c("NX", "I", "RFC 5321 §3.8, §5.1"),
        postfix=c("NX", "V", f"{PF} smtp_connect.c; smtp_helo_timeout"),
        postfix20=c("NX", "M", f"{P20}; smtp_helo_timeout",
                    "A server that never greets counts as not contacted, so Postfix 2.0 moves on."),
        exim=c("NX", "V", EX), sendmail=c("NX", "V", SM),
        qmail=c("RQ", "V", QM, "Once connected, qmail never tries another host (Z)."),
        exchange=c("NX", "I", MSI), opensmtpd=c("RQ", "I", OSQ)),
    row(S.GREETING, "2xx", "greeting 2xx", "The server is ready to talk (220).",
        **_all("C", "V", "RFC 5321 §4.3.2")),
    row(S.GREETING, "unexpected", "greeting 3xx (or a code outside 2-5)",
        "A greeting must be 220 or 554 (RFC 5321 §4.3.2); anything else is a protocol error.",
        rfc=c("NX", "I", "RFC 5321 §4.2, §4.3.2"),
        postfix=c("NDR", "V", f"{PF} smtp_proto.c", "Postfix calls it a protocol error (5.5.0)."),
        postfix20=c("NDR", "I", P20),
        exim=c("NX", "V", EX, "A non-2xx greeting is a host error."),
        sendmail=c("NX>NDR", "V", SM), qmail=c("RQ", "V", QM, "Any non-220 greeting: Z."),
        exchange=c("NX", "I", MSI), opensmtpd=c("RQ", "I", OSQ)),
    row(S.GREETING, "4xx", "greeting 421 / 4xx",
        "The server will not take mail now (temporary); a 421 also closes the connection.",
        rfc=c("NX", "I", "RFC 5321 §3.8, §5.1",
              "Moving on and requeueing are both valid readings of RFC 5321."),
        postfix=c("NX", "V", f"{PF} smtp_proto.c, smtp_trouble.c",
                  "Postfix 2.1 and later try the next MX after a failed greeting."),
        postfix20=c("RQ", "M", P20,
                    "Postfix 2.0 and earlier used a more distant MX only when closer ones could "
                    "not be contacted at all."),
        exim=c("NX", "V", EX), sendmail=c("NX", "V", SM),
        qmail=c("RQ", "V", QM, "qmail uses another MX only when it cannot connect at all."),
        exchange=c("NX", "V", MS, "KB 4051498: '421 ... Attempted failover to alternate host'."),
        opensmtpd=c("RQ", "V", OS, "The route is penalised and the envelope tempfailed.")),
    row(S.GREETING, "5xx", "greeting 5xx / 554 / 521",
        "The server refuses to take mail from this client (554, or 521: host accepts no mail).",
        rfc=c("NX>NDR", "I", "RFC 5321 §4.3.2; RFC 7504 §3"),
        postfix=c("NX>RQ", "V", f"{PF} smtp_proto.c; smtp_skip_5xx_greeting=yes",
                  "smtp_skip_5xx_greeting=yes reads the 5xx as 4xx, so on the last MX Postfix "
                  "defers instead of bouncing.",
                  smtp_skip_5xx_greeting__no=c(
                      "NDR", "V", f"{PF} smtp_proto.c; smtp_skip_5xx_greeting=no",
                      "With smtp_skip_5xx_greeting=no the 5xx greeting bounces the message.")),
        postfix20=c("NDR", "I", P20),
        exim=c("NX>NDR", "V", f"{EX} (FAILED: only on the last host)"),
        sendmail=c("NX>NDR", "I", SM, "When no host is left the status is EX_UNAVAILABLE."),
        qmail=c("RQ", "V", QM, "Any non-220 greeting, even 5xx, is temporary for qmail (Z)."),
        exchange=c("NDR", "I", MSI),
        opensmtpd=c("RQ", "V", OS, "A rejected banner penalises the route; never bounced.")),
    # ---------------------------------------------------------------- EHLO
    row(S.EHLO, "2xx", "EHLO 2xx", "The server accepts EHLO and lists its extensions.",
        **_all("C", "V", "RFC 5321 §4.1.1.1", qmail=NA_QM)),
    row(S.EHLO, "421", "EHLO 421", "The server answers EHLO with 421 and closes the connection.",
        rfc=c("NX", "I", "RFC 5321 §3.8"), postfix=c("NX", "V", f"{PF} smtp_proto.c"),
        postfix20=c("RQ", "I", P20),
        exim=c("H", "V", EX, "Exim falls back to HELO after any non-2xx EHLO; after a 421 the "
               "connection is gone, so that fails and Exim moves on (H→NX)."),
        sendmail=c("NX", "V", f"{SM}; usersmtp.c", "Sendmail sends QUIT and treats 421 as a "
                   "tempfail."),
        qmail=NA_QM, exchange=c("NX", "I", MSI), opensmtpd=c("RQ", "I", OSQ)),
    row(S.EHLO, "4xx", "EHLO other 4xx", "The server refuses EHLO for now (temporary).",
        rfc=c("H", "I", "RFC 5321 §3.2"), postfix=c("H", "V", f"{PF} smtp_proto.c"),
        postfix20=c("H", "M", P20), exim=c("H", "V", EX),
        sendmail=c("NX", "V", "Sendmail usersmtp.c", "Sendmail treats EHLO 4xx as a tempfail."),
        qmail=NA_QM, exchange=c("H", "I", MSI),
        opensmtpd=c("H", "V", OS, "OpenSMTPD falls back to HELO.")),
    row(S.EHLO, "5xx", "EHLO 5xx", "The server does not know EHLO (an old server) or refuses it.",
        **_all("H", "V", "RFC 5321 §3.2", qmail=NA_QM, exchange=c("H", "I", MSI))),
    row(S.EHLO, "drop", "EHLO timeout / drop",
        "The connection was lost, or timed out, waiting for the EHLO reply (treated as 451).",
        rfc=c("NX", "I", "RFC 5321 §3.8"), postfix=c("NX", "M", f"{PF} smtp_trouble.c"),
        postfix20=c("RQ", "I", P20), exim=c("NX", "V", EX), sendmail=c("NX", "I", SM),
        qmail=NA_QM, exchange=c("NX", "I", MSI), opensmtpd=c("RQ", "I", OSQ)),
    row(S.EHLO, "unexpected", "EHLO 3xx (or a code outside 2-5)",
        "EHLO is answered with 250 or an error; any other code is a protocol error.",
        **_all("H", "I", "RFC 5321 §4.2, §4.3.2", qmail=NA_QM,
               postfix=c("H", "V", f"{PF} smtp_proto.c", "Any non-2xx EHLO → HELO."))),
    # ---------------------------------------------------------------- HELO
    row(S.HELO, "2xx", "HELO 2xx", "The server accepts HELO.",
        **_all("C", "V", "RFC 5321 §4.1.1.1")),
    row(S.HELO, "4xx", "HELO 4xx / 421", "The server refuses HELO for now (temporary).",
        rfc=c("NX", "I", "RFC 5321 §4.2.1, §5.1"), postfix=c("NX", "V", f"{PF} smtp_proto.c"),
        postfix20=c("RQ", "I", P20), exim=c("NX", "V", EX), sendmail=c("NX", "V", SM),
        qmail=c("RQ", "V", QM, "A non-250 HELO reply: Z."), exchange=c("NX", "I", MSI),
        opensmtpd=c("RQ", "V", OS, "A rejected HELO penalises the route; never bounced.")),
    row(S.HELO, "5xx", "HELO 5xx", "The server refuses HELO for good.",
        rfc=c("NX>NDR", "I", "RFC 5321 §4.2.1"), postfix=c("NDR", "V", f"{PF} smtp_proto.c"),
        postfix20=c("NDR", "I", P20),
        exim=c("NX>NDR", "V", f"{EX} (FAILED: only on the last host)"),
        sendmail=c("NX>NDR", "I", SM), qmail=c("RQ", "V", QM, "A non-250 HELO reply: Z."),
        exchange=c("NDR", "I", MSI),
        opensmtpd=c("RQ", "V", OS, "A rejected HELO penalises the route; never bounced.")),
    row(S.HELO, "drop", "HELO timeout / drop",
        "The connection was lost, or timed out, waiting for the HELO reply (treated as 451).",
        rfc=c("NX", "I", "RFC 5321 §3.8"), postfix=c("NX", "M", f"{PF} smtp_trouble.c"),
        postfix20=c("RQ", "I", P20), exim=c("NX", "V", EX), sendmail=c("NX", "V", SM),
        qmail=c("RQ", "V", QM), exchange=c("NX", "I", MSI), opensmtpd=c("RQ", "I", OSQ)),
    row(S.HELO, "unexpected", "HELO 3xx (or a code outside 2-5)",
        "HELO is answered with 250 or an error; any other code is a protocol error.",
        rfc=c("NX>NDR", "I", "RFC 5321 §4.2, §4.3.2"), postfix=c("NDR", "I", f"{PF} smtp_proto.c"),
        postfix20=c("NDR", "I", P20), exim=c("NX>NDR", "I", EX), sendmail=c("NX>NDR", "I", SM),
        qmail=c("RQ", "V", QM, "A non-250 HELO reply: Z."), exchange=c("NDR", "I", MSI),
        opensmtpd=c("RQ", "I", OSQ)),
    # ---------------------------------------------------------------- STARTTLS
    row(S.STARTTLS, "2xx", "STARTTLS 220", "The server is ready to start TLS.",
        **_all("C", "V", "RFC 3207 §4", qmail=NA_QM, postfix20=NA_P20)),
    row(S.STARTTLS, "refused", "STARTTLS 4xx/5xx (opportunistic)",
        "The server will not start TLS, and this sender does not require it.",
        rfc=c("PLAIN", "M", "RFC 3207 §4.1"),
        postfix=c("PLAIN", "V", f"{PF} smtp_proto.c; smtp_tls_security_level=may"),
        postfix20=NA_P20,
        exim=c("PLAIN", "V", f"{EX}; tls_tempfail_tryclear=true"),
        sendmail=c("PLAIN", "?", "Sendmail usersmtp.c (unverified)"),
        qmail=NA_QM, exchange=c("PLAIN", "I", MSI), opensmtpd=c("PLAIN", "I", OS)),
    row(S.STARTTLS, "drop", "STARTTLS handshake failure / drop (opportunistic)",
        "The TLS handshake failed or the connection was lost; this sender does not require TLS.",
        rfc=c("NX", "I", "RFC 5321 §3.8; RFC 3207"),
        postfix=c("RECON", "V", f"{PF} smtp_connect.c; smtp_tls_security_level=may"),
        postfix20=NA_P20,
        exim=c("RECON", "V", EX), sendmail=c("NX", "?", "Sendmail (unverified)"),
        qmail=NA_QM, exchange=c("NX", "I", MSI), opensmtpd=c("RQ", "I", OSQ)),
    row(S.STARTTLS, "req-4xx", "STARTTLS fail, TLS required (4xx or drop)",
        "TLS is required for this destination and could not be started (temporary).",
        rfc=c("NX", "I", "RFC 3207 §4.1; RFC 5321 §5.1"),
        postfix=c("NX", "V", f"{PF} smtp_proto.c; smtp_tls_security_level=encrypt"),
        postfix20=NA_P20, exim=c("NX", "V", f"{EX}; hosts_require_tls"),
        sendmail=c("NX", "?", "Sendmail (unverified)"), qmail=NA_QM,
        exchange=c("NX", "V", MS, "TLS failures fail over to another host."),
        opensmtpd=c("RQ", "I", OSQ)),
    row(S.STARTTLS, "req-5xx", "STARTTLS fail, TLS required (5xx)",
        "TLS is required for this destination and the server refuses it for good.",
        rfc=c("NX", "I", "RFC 3207 §4.1; RFC 5321 §5.1"),
        postfix=c("NDR", "V", f"{PF} smtp_proto.c; smtp_tls_security_level=encrypt"),
        postfix20=NA_P20, exim=c("NX", "V", f"{EX}; hosts_require_tls"),
        sendmail=c("NX", "?", "Sendmail (unverified)"), qmail=NA_QM,
        exchange=c("NX", "I", MS), opensmtpd=c("RQ", "I", OSQ)),
    # ---------------------------------------------------------------- AUTH (not in the reference)
    row(S.AUTH, "2xx", "AUTH 235", "The server accepts the credentials.",
        **_all("C", "V", "RFC 4954 §6", qmail=NA_QM)),
    row(S.AUTH, "3xx", "AUTH 334", "The server sends a challenge; the exchange goes on.",
        **_all("C", "V", "RFC 4954 §4", qmail=NA_QM)),
    row(S.AUTH, "4xx", "AUTH 4xx (e.g. 454 4.7.0)", "Authentication failed for now (temporary).",
        rfc=c("NX", "I", "RFC 4954 §6"), postfix=c("NX", "M", f"{PF} smtp_sasl_proto.c"),
        postfix20=c("RQ", "I", P20), exim=c("NX", "M", "Exim spec, smtp transport AUTH"),
        sendmail=c("NX", "I", "Sendmail usersmtp.c"), qmail=NA_QM,
        exchange=c("NX", "V", MS, "Auth 4xx fails over to another host."),
        opensmtpd=c("RQ", "I", OSQ)),
    row(S.AUTH, "5xx", "AUTH 5xx (e.g. 535 5.7.8)", "The server rejects the credentials.",
        rfc=c("C", "I", "RFC 4954 §4",
              "The client may go on unauthenticated; the server may then refuse MAIL."),
        postfix=c("NX", "M", f"{PF} postconf(5) smtp_sasl_auth_soft_bounce=yes",
                  "Postfix reads a 535 as a soft error, so it moves on and never bounces for it."),
        postfix20=c("NDR", "I", P20, "Before smtp_sasl_auth_soft_bounce (2.5) this bounced."),
        exim=c("C", "M", "Exim spec, smtp transport hosts_require_auth",
               "Unless the host is in hosts_require_auth, Exim carries on unauthenticated."),
        sendmail=c("C", "I", "Sendmail usersmtp.c"), qmail=NA_QM,
        exchange=c("NX", "I", MS), opensmtpd=c("RQ", "I", OSQ)),
    row(S.AUTH, "drop", "AUTH timeout / drop",
        "The connection was lost, or timed out, during AUTH (treated as 451).",
        rfc=c("NX", "I", "RFC 5321 §3.8"), postfix=c("NX", "M", f"{PF} smtp_trouble.c"),
        postfix20=c("RQ", "I", P20), exim=c("NX", "M", EX), sendmail=c("NX", "I", SM),
        qmail=NA_QM, exchange=c("NX", "I", MS), opensmtpd=c("RQ", "I", OSQ)),
    # ---------------------------------------------------------------- MAIL
    row(S.MAIL, "2xx", "MAIL 2xx", "The server accepts the sender.",
        **_all("C", "V", "RFC 5321 §4.1.1.2")),
    row(S.MAIL, "4xx", "MAIL 4xx / 421", "The server refuses the sender for now (temporary).",
        rfc=c("RQ", "V", "RFC 5321 §4.2.1, §4.5.4.1",
              "Trying the next MX at once is also allowed."),
        postfix=c("NX", "V", f"{PF} smtp_proto.c, smtp_trouble.c"),
        postfix20=c("RQ", "M", P20), exim=c("NX", "V", EX, "Exim tries the next host in the "
                                                           "same run."),
        sendmail=c("NX", "V", SM), qmail=c("RQ", "V", QM, "MAIL 4xx: Z."),
        exchange=c("RQ", "I", MSI), opensmtpd=c("RQ", "V", OS)),
    row(S.MAIL, "5xx", "MAIL 5xx", "The server refuses the sender for good.",
        **_all("NDR", "V", "RFC 5321 §4.2.1, §4.5.4", postfix20=c("NDR", "I", P20),
               exchange=c("NDR", "I", MSI), qmail=c("NDR", "V", QM, "MAIL 5xx: D."))),
    row(S.MAIL, "drop", "MAIL timeout / drop",
        "The connection was lost, or timed out, waiting for the MAIL reply (treated as 451).",
        rfc=c("RQ", "V", "RFC 5321 §3.8"), postfix=c("NX", "V", f"{PF} smtp_trouble.c"),
        postfix20=c("RQ", "I", P20), exim=c("NX", "V", EX), sendmail=c("NX", "V", SM),
        qmail=c("RQ", "V", QM), exchange=c("RQ", "I", MSI), opensmtpd=c("RQ", "I", OSQ)),
    row(S.MAIL, "unexpected", "MAIL 3xx (or a code outside 2-5)",
        "MAIL is answered with 250 or an error; any other code is fatal to the transaction "
        "(RFC 5321 §4.3.2).",
        **_all("NDR", "I", "RFC 5321 §4.2, §4.3.2",
               qmail=c("NDR", "I", QM, "qmail-remote compares the code with 400 and 500 only."),
               opensmtpd=c("RQ", "I", OS, "OpenSMTPD: a first digit 5 is permanent, anything "
                           "else temporary."))),
    # ---------------------------------------------------------------- RCPT
    row(S.RCPT, "2xx", "RCPT 2xx", "The server accepts this recipient.",
        **_all("C", "V", "RFC 5321 §4.1.1.3",
               exchange=c("C", "V", "reference §5",
                          "Exchange long answered 250 to every RCPT and bounced unknown users "
                          "afterwards (accept-then-bounce), the source of backscatter."))),
    row(S.RCPT, "4xx", "RCPT 4xx (incl. 452)",
        "The server cannot take this recipient now (temporary), e.g. greylisting or 452.",
        rfc=c("r-RQ", "V", "RFC 5321 §4.2.1, §4.5.3.1.10"),
        postfix=c("r-NX", "V", f"{PF} smtp_proto.c", "The recipient is retried on the next "
                  "address in the same attempt, and deferred on the final server."),
        postfix20=c("r-RQ", "I", P20),
        exim=c("r-NX", "V", EX, "The reference cell reads 'r-RQ, other hosts tried': Exim defers "
               "the address on this host and tries it on the next host in the same run."),
        sendmail=c("r-NX", "V", SM, "'try them on the next host'."),
        qmail=c("r-RQ", "V", QM, "RCPT 4xx: s (this recipient only)."),
        exchange=c("r-RQ", "I", MSI), opensmtpd=c("r-RQ", "V", OS)),
    row(S.RCPT, "552", "RCPT 552 (too many recipients)",
        "RFC 5321 §4.5.3.1.10: a 552 to RCPT should be treated as temporary, like 452; the "
        "rest are sent in a later transaction.",
        rfc=c("r-RQ", "V", "RFC 5321 §4.5.3.1.10"),
        postfix=c("r-NX", "M", f"{PF} smtp_proto.c", "Postfix reads 552 at RCPT as 452."),
        postfix20=c("r-RQ", "I", P20), exim=c("r-NDR", "I", EX), sendmail=c("r-NDR", "I", SM),
        qmail=c("r-NDR", "V", QM, "RCPT 5xx: h."), exchange=c("r-NDR", "I", MSI),
        opensmtpd=c("r-NDR", "V", OS)),
    row(S.RCPT, "5xx", "RCPT 5xx", "The server refuses this recipient for good, e.g. no such user.",
        **_all("r-NDR", "V", "RFC 5321 §4.2.1", postfix20=c("r-NDR", "I", P20),
               exchange=c("r-NDR", "I", MSI), qmail=c("r-NDR", "V", QM, "RCPT 5xx: h."))),
    row(S.RCPT, "drop", "RCPT timeout / drop / 421",
        "The connection was lost (or 421 closed it) with recipients pending; each is treated "
        "as if 451 had been received (RFC 5321 §3.8).",
        rfc=c("RQ", "V", "RFC 5321 §3.8"), postfix=c("NX", "V", f"{PF} smtp_trouble.c"),
        postfix20=c("RQ", "I", P20), exim=c("NX", "V", EX, "All addresses are deferred."),
        sendmail=c("NX", "V", SM), qmail=c("RQ", "V", QM), exchange=c("RQ", "I", MSI),
        opensmtpd=c("RQ", "I", OSQ)),
    row(S.RCPT, "unexpected", "RCPT 3xx (or a code outside 2-5)",
        "RCPT is answered with 250/251 or an error; any other code is fatal to that recipient.",
        **_all("r-NDR", "I", "RFC 5321 §4.2, §4.3.2",
               opensmtpd=c("r-RQ", "I", OS, "OpenSMTPD: a first digit 5 is permanent, anything "
                           "else temporary."))),
    # ---------------------------------------------------------------- DATA
    row(S.DATA, "3xx", "DATA 354", "The server is ready for the message.",
        **_all("C", "V", "RFC 5321 §4.1.1.4")),
    row(S.DATA, "4xx", "DATA 4xx / 421", "The server will not take the message now (temporary).",
        rfc=c("RQ", "V", "RFC 5321 §4.2.1"), postfix=c("NX", "V", f"{PF} smtp_proto.c"),
        postfix20=c("RQ", "I", P20), exim=c("NX", "V", EX),
        sendmail=c("NX", "V", SM, "Only after at least one recipient was accepted."),
        qmail=c("RQ", "V", QM, "DATA 4xx: Z."), exchange=c("RQ", "I", MSI),
        opensmtpd=c("RQ", "V", OS)),
    row(S.DATA, "5xx", "DATA 5xx", "The server refuses the message for good.",
        **_all("NDR", "V", "RFC 5321 §4.2.1", postfix20=c("NDR", "I", P20),
               exchange=c("NDR", "I", MSI), qmail=c("NDR", "V", QM, "DATA 5xx: D."))),
    row(S.DATA, "drop", "DATA timeout / drop",
        "The connection was lost, or timed out, waiting for the DATA reply (treated as 451).",
        rfc=c("RQ", "V", "RFC 5321 §3.8"), postfix=c("NX", "V", f"{PF} smtp_trouble.c"),
        postfix20=c("RQ", "I", P20), exim=c("NX", "I", EX), sendmail=c("NX", "I", SM),
        qmail=c("RQ", "V", QM), exchange=c("RQ", "I", MSI), opensmtpd=c("RQ", "I", OSQ)),
    row(S.DATA, "unexpected", "DATA 2xx (or another code where 354 is due)",
        "DATA must be answered with 354 or an error; anything else is a protocol error.",
        **_all("NDR", "I", "RFC 5321 §4.3.2",
               qmail=c("RQ", "I", QM, "qmail-remote wants 354 exactly; anything else below 500 "
                       "is temporary."),
               opensmtpd=c("RQ", "I", OS, "OpenSMTPD: a first digit 5 is permanent, anything "
                           "else temporary."))),
    # ---------------------------------------------------------------- end of data
    row(S.DOT, "2xx", "end-of-data 2xx",
        "The server has taken the message: from now on delivering it is the server's job.",
        **_all("DLV", "V", "RFC 5321 §4.2.5")),
    row(S.DOT, "4xx", "end-of-data 4xx",
        "The server did not take the message (temporary); the sender keeps responsibility.",
        rfc=c("RQ", "V", "RFC 5321 §4.2.5"), postfix=c("NX", "V", f"{PF} smtp_proto.c"),
        postfix20=c("RQ", "I", P20), exim=c("NX", "V", EX), sendmail=c("NX", "V", SM),
        qmail=c("RQ", "V", QM, "'.' 4xx: Z."), exchange=c("RQ", "I", MSI),
        opensmtpd=c("RQ", "V", OS)),
    row(S.DOT, "5xx", "end-of-data 5xx",
        "The server refuses the message for good; the sender must not try again (§4.2.5).",
        **_all("NDR", "V", "RFC 5321 §4.2.5", postfix20=c("NDR", "I", P20),
               exchange=c("NDR", "I", MSI), qmail=c("NDR", "V", QM, "'.' 5xx: D."))),
    row(S.DOT, "drop", "end-of-data timeout / drop",
        "The connection was lost after the message was sent but before the reply: the server "
        "may have taken it, so a retry risks a duplicate.",
        rfc=c("RQ", "V", "RFC 5321 §3.8, §4.2.5"),
        postfix=c("NX", "V", f"{PF} smtp_proto.c; smtp_data_done_timeout=600s",
                  "Postfix logs a possible-duplicate warning."),
        postfix20=c("RQ", "I", P20), exim=c("NX", "V", EX), sendmail=c("NX", "V", SM),
        qmail=c("RQ", "V", QM, "qmail flags it 'Possible duplicate!'."),
        exchange=c("RQ", "I", MSI), opensmtpd=c("RQ", "I", OSQ)),
    row(S.DOT, "unexpected", "end-of-data 3xx (or a code outside 2-5)",
        "The end of data is answered with 250 or an error; anything else is a protocol error.",
        **_all("NDR", "I", "RFC 5321 §4.2, §4.3.2",
               qmail=c("RQ", "I", QM), opensmtpd=c("RQ", "I", OS, "OpenSMTPD: a first digit 5 "
                                                   "is permanent, anything else temporary."))),
    # ---------------------------------------------------------------- QUIT
    row(S.QUIT, "any", "QUIT (any reply / none)",
        "The transaction is already over; the answer to QUIT changes nothing.",
        **_all("IGN", "V", "RFC 5321 §4.1.1.10", exchange=c("IGN", "I", MSI),
               postfix=c("IGN", "V", f"{PF} smtp_skip_quit_response=yes",
                         "Postfix does not even wait for the reply."))),
    # ---------------------------------------------------------------- DNS
    row(S.DNS, "nxdomain", "DNS: NXDOMAIN",
        "The recipient's domain does not exist, so there is nowhere to deliver.",
        rfc=c("NDR", "V", "RFC 5321 §5.1"), postfix=c("NDR", "V", f"{PF} smtp_addr.c (5.4.4)"),
        postfix20=c("NDR", "M", P20), exim=c("NDR", "M", "Exim dnslookup router (unrouteable)"),
        sendmail=c("NDR", "M", "Sendmail deliver.c (host unknown)"),
        qmail=c("NDR", "M", QM, "qmail: 'Sorry, I couldn't find any host named ...'."),
        exchange=c("NDR", "M", "Exchange NDR 5.4.4 SMTPSEND.DNS.NonExistentDomain"),
        opensmtpd=c("NDR", "I", OSQ)),
    row(S.DNS, "null-mx", "DNS: null MX",
        "The domain publishes a null MX ('MX 0 .'): it accepts no mail, so the sender bounces "
        "without connecting anywhere (RFC 7505).",
        rfc=c("NDR", "M", "RFC 7505 §3 (556 5.1.10)"),
        postfix=c("NDR", "V", f"{PF} smtp_addr.c (5.1.0)"),
        postfix20=c("NDR", "I", P20, "Postfix 2.0 predates RFC 7505: the '.' target has no "
                    "address, so the mail bounces as undeliverable."),
        exim=c("NDR", "I", "Exim dnslookup router declines (unrouteable)"),
        sendmail=c("NDR", "V", "Sendmail deliver.c (556 5.1.10)"),
        qmail=c("NDR", "M", QM), exchange=c("NDR", "I", MSI), opensmtpd=c("NDR", "I", OSQ)),
    row(S.DNS, "tempfail", "DNS temporary failure",
        "The DNS lookup failed for now (SERVFAIL or timeout); nothing is known about the domain.",
        rfc=c("RQ", "V", "RFC 5321 §5.1"),
        postfix=c("RQ", "V", f"{PF} smtp_addr.c (4.4.3); ignore_mx_lookup_error=no"),
        postfix20=c("RQ", "M", P20), exim=c("RQ", "M", "Exim dnslookup router"),
        sendmail=c("RQ", "M", "Sendmail domain.c"),
        qmail=c("RQ", "M", QM, "qmail: 'CNAME lookup failed temporarily (#4.4.3)'."),
        exchange=c("RQ", "V", "Exchange docs (451 4.4.0)"), opensmtpd=c("RQ", "I", OSQ)),
    row(S.DNS, "2xx", "DNS stage: a 2xx code",
        "DNS gives no SMTP reply codes; this code is read by its first digit only: success.",
        **_all("C", "I", "RFC 5321 §4.2")),
    row(S.DNS, "4xx", "DNS stage: a 4xx code",
        "DNS gives no SMTP reply codes; this code is read by its first digit only: temporary.",
        **_all("RQ", "I", "RFC 5321 §4.2, §5.1")),
    row(S.DNS, "5xx", "DNS stage: a 5xx code",
        "DNS gives no SMTP reply codes; this code is read by its first digit only: permanent.",
        **_all("NDR", "I", "RFC 5321 §4.2, §5.1")),
    row(S.DNS, "unexpected", "DNS stage: a code outside 2, 4, 5",
        "DNS gives no SMTP reply codes, and this one has no meaning; the lookup is retried.",
        **_all("RQ", "I", "RFC 5321 §4.2")),
)  # fmt: skip

TABLE: Mapping[tuple[Stage, str], Row] = MappingProxyType({(r.stage, r.outcome): r for r in ROWS})
