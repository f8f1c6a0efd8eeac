"""The situations of the decision table: one per (stage, outcome class), shared by every MTA.

This is section 3 of ../shared/reference/delivery-decisions.md, with the rows the reference
leaves out (EHLO/HELO drops, AUTH, odd codes) added. A situation says what happened in plain
words; what each MTA does there is that MTA's cell, in its own profile module
(`mxtui.policy.profiles.*`). Where every MTA gives the standard answer (a 220 greeting goes
on, a 5xx to RCPT bounces that recipient), the situation carries that answer as its `default`
and a profile module lists only the cells where it differs or is known better.
"""

from __future__ import annotations

from dataclasses import dataclass

from mxtui.policy.cells import Cell, RowKey, S, c


@dataclass(frozen=True)
class Situation:
    """One line of the table, without its cells: the stage, the outcome class ("4xx", "drop",
    …), a label, the meaning in plain words, and the cell every profile shares unless its
    module says otherwise (None: each profile must give its own)."""

    stage: S
    outcome: str
    label: str
    meaning: str
    default: Cell | None = None

    @property
    def key(self) -> RowKey:
        return (self.stage, self.outcome)


def _s(stage: S, outcome: str, label: str, meaning: str, default: Cell | None = None) -> Situation:
    return Situation(stage, outcome, label, meaning, default)


SITUATIONS: tuple[Situation, ...] = (
    # ---------------------------------------------------------------- connect
    _s(S.CONNECT, "fail", "connect refused / timeout",
       "The connection could not be made: the host refused it or never answered."),
    # ---------------------------------------------------------------- greeting
    _s(S.GREETING, "drop", "greeting: drop / timeout",
       "The connection opened but the server closed it, or said nothing, before its greeting; "
       "RFC 5321 §3.8 says to treat that like a 451 (temporary) reply."),
    _s(S.GREETING, "2xx", "greeting 2xx", "The server is ready to talk (220).",
       c("C", "V", "RFC 5321 §4.3.2")),
    _s(S.GREETING, "unexpected", "greeting 3xx (or a code outside 2-5)",
       "A greeting must be 220 or 554 (RFC 5321 §4.3.2); anything else is a protocol error."),
    _s(S.GREETING, "4xx", "greeting 421 / 4xx",
       "The server will not take mail now (temporary); a 421 also closes the connection."),
    _s(S.GREETING, "5xx", "greeting 5xx / 554 / 521",
       "The server refuses to take mail from this client (554, or 521: host accepts no mail)."),
    # ---------------------------------------------------------------- EHLO
    _s(S.EHLO, "2xx", "EHLO 2xx", "The server accepts EHLO and lists its extensions.",
       c("C", "V", "RFC 5321 §4.1.1.1")),
    _s(S.EHLO, "421", "EHLO 421", "The server answers EHLO with 421 and closes the connection."),
    _s(S.EHLO, "4xx", "EHLO other 4xx", "The server refuses EHLO for now (temporary)."),
    _s(S.EHLO, "5xx", "EHLO 5xx",
       "The server does not know EHLO (an old server) or refuses it.",
       c("H", "V", "RFC 5321 §3.2")),
    _s(S.EHLO, "drop", "EHLO timeout / drop",
       "The connection was lost, or timed out, waiting for the EHLO reply (treated as 451)."),
    _s(S.EHLO, "unexpected", "EHLO 3xx (or a code outside 2-5)",
       "EHLO is answered with 250 or an error; any other code is a protocol error.",
       c("H", "I", "RFC 5321 §4.2, §4.3.2")),
    # ---------------------------------------------------------------- HELO
    _s(S.HELO, "2xx", "HELO 2xx", "The server accepts HELO.", c("C", "V", "RFC 5321 §4.1.1.1")),
    _s(S.HELO, "4xx", "HELO 4xx / 421", "The server refuses HELO for now (temporary)."),
    _s(S.HELO, "5xx", "HELO 5xx", "The server refuses HELO for good."),
    _s(S.HELO, "drop", "HELO timeout / drop",
       "The connection was lost, or timed out, waiting for the HELO reply (treated as 451)."),
    _s(S.HELO, "unexpected", "HELO 3xx (or a code outside 2-5)",
       "HELO is answered with 250 or an error; any other code is a protocol error."),
    # ---------------------------------------------------------------- STARTTLS
    _s(S.STARTTLS, "2xx", "STARTTLS 220", "The server is ready to start TLS.",
       c("C", "V", "RFC 3207 §4")),
    _s(S.STARTTLS, "refused", "STARTTLS 4xx/5xx (opportunistic)",
       "The server will not start TLS, and this sender does not require it."),
    _s(S.STARTTLS, "drop", "STARTTLS handshake failure / drop (opportunistic)",
       "The TLS handshake failed or the connection was lost; this sender does not require TLS."),
    _s(S.STARTTLS, "req-4xx", "STARTTLS fail, TLS required (4xx or drop)",
       "TLS is required for this destination and could not be started (temporary)."),
    _s(S.STARTTLS, "req-5xx", "STARTTLS fail, TLS required (5xx)",
       "TLS is required for this destination and the server refuses it for good."),
    # The sender's TLS policy at work (DANE, RFC 7672; MTA-STS, RFC 8461): the default cell
    # is the standards' answer for a sender that applies them; a profile that does not apply
    # them says NA ("never reaches this situation") with its reason.
    _s(S.STARTTLS, "not-offered", "TLS required by policy, STARTTLS not offered",
       "The host's TLSA records (DANE) or the domain's MTA-STS policy demand TLS, and the "
       "server does not offer STARTTLS: sending in clear is not allowed.",
       c("NX", "M", "RFC 7672 §2.2 (usable TLSA: TLS mandatory); RFC 8461 §5.1 (enforce: "
         "do not deliver to this MX, try the next; temporary failure when none is left)")),
    _s(S.STARTTLS, "dane-fail", "DANE: the certificate matches no TLSA record",
       "After STARTTLS, the server's certificate chain matches none of its usable TLSA "
       "records: the server is not authenticated, so nothing may be sent to it.",
       c("NX", "M", "RFC 7672 §2.2, §3 (authentication failure: do not deliver to this "
         "host; try the next MX, defer when none is left)")),
    _s(S.STARTTLS, "sts-fail", "MTA-STS (or a verify level): the certificate does not verify",
       "The domain's MTA-STS policy is in enforce mode and the server's certificate does not "
       "verify (PKIX) for its MX name: the policy forbids delivering there.",
       c("NX", "M", "RFC 8461 §4.2, §5.1 (enforce: do not deliver to this MX; try the next, "
         "a temporary failure when none is left)")),
    _s(S.STARTTLS, "sts-not-listed", "MTA-STS: the MX host is not in the policy",
       "The domain's MTA-STS policy is in enforce mode and lists no mx pattern matching this "
       "MX host: the policy forbids delivering there (it is not even dialled).",
       c("NX", "M", "RFC 8461 §4.1, §5.1 (enforce: an MX host not in the policy is not used; "
         "the next one is tried)")),
    _s(S.STARTTLS, "tlsa-error", "DANE: the TLSA lookup failed or was bogus",
       "The host's TLSA records could not be had securely (SERVFAIL, a timeout, or answers "
       "whose DNSSEC signatures are wrong): a DANE sender must not use the host now.",
       c("NX", "M", "RFC 7672 §2.1, §2.2 (a failed or bogus TLSA lookup: do not use this "
         "host; try the next, defer when none is left)")),
    # ---------------------------------------------------------------- AUTH (not in the reference)
    _s(S.AUTH, "2xx", "AUTH 235", "The server accepts the credentials.",
       c("C", "V", "RFC 4954 §6")),
    _s(S.AUTH, "3xx", "AUTH 334", "The server sends a challenge; the exchange goes on.",
       c("C", "V", "RFC 4954 §4")),
    _s(S.AUTH, "4xx", "AUTH 4xx (e.g. 454 4.7.0)", "Authentication failed for now (temporary)."),
    _s(S.AUTH, "5xx", "AUTH 5xx (e.g. 535 5.7.8)", "The server rejects the credentials."),
    _s(S.AUTH, "drop", "AUTH timeout / drop",
       "The connection was lost, or timed out, during AUTH (treated as 451)."),
    # ---------------------------------------------------------------- MAIL
    _s(S.MAIL, "2xx", "MAIL 2xx", "The server accepts the sender.",
       c("C", "V", "RFC 5321 §4.1.1.2")),
    _s(S.MAIL, "4xx", "MAIL 4xx / 421", "The server refuses the sender for now (temporary)."),
    _s(S.MAIL, "5xx", "MAIL 5xx", "The server refuses the sender for good.",
       c("NDR", "V", "RFC 5321 §4.2.1, §4.5.4")),
    _s(S.MAIL, "drop", "MAIL timeout / drop",
       "The connection was lost, or timed out, waiting for the MAIL reply (treated as 451)."),
    _s(S.MAIL, "3xx", "MAIL 3xx",
       "MAIL is answered with 250 or an error; a 3xx is out of place (RFC 5321 §4.3.2). "
       "Senders differ: a protocol error, a temporary failure, or read as success.",
       c("NDR", "I", "RFC 5321 §4.2, §4.3.2")),
    _s(S.MAIL, "unexpected", "MAIL: a code outside 2-5",
       "A first digit outside 2-5 should be fatal to the transaction (RFC 5321 §4.2.1).",
       c("NDR", "I", "RFC 5321 §4.2, §4.3.2")),
    # ---------------------------------------------------------------- RCPT
    _s(S.RCPT, "2xx", "RCPT 2xx", "The server accepts this recipient.",
       c("C", "V", "RFC 5321 §4.1.1.3")),
    _s(S.RCPT, "4xx", "RCPT 4xx (incl. 452)",
       "The server cannot take this recipient now (temporary), e.g. greylisting or 452."),
    _s(S.RCPT, "552", "RCPT 552 (too many recipients)",
       "RFC 5321 §4.5.3.1.10: a 552 to RCPT should be treated as temporary, like 452; the "
       "rest are sent in a later transaction."),
    _s(S.RCPT, "5xx", "RCPT 5xx",
       "The server refuses this recipient for good, e.g. no such user.",
       c("r-NDR", "V", "RFC 5321 §4.2.1")),
    _s(S.RCPT, "drop", "RCPT timeout / drop / 421",
       "The connection was lost (or 421 closed it) with recipients pending; each is treated "
       "as if 451 had been received (RFC 5321 §3.8)."),
    _s(S.RCPT, "3xx", "RCPT 3xx",
       "RCPT is answered with 250/251 or an error; a 3xx is out of place (RFC 5321 §4.3.2). "
       "Senders differ: fatal to that recipient, temporary, or read as accepted.",
       c("r-NDR", "I", "RFC 5321 §4.2, §4.3.2")),
    _s(S.RCPT, "unexpected", "RCPT: a code outside 2-5",
       "A first digit outside 2-5 should be fatal (RFC 5321 §4.2.1); here, to that recipient.",
       c("r-NDR", "I", "RFC 5321 §4.2, §4.3.2")),
    # ---------------------------------------------------------------- DATA
    _s(S.DATA, "3xx", "DATA 354", "The server is ready for the message.",
       c("C", "V", "RFC 5321 §4.1.1.4")),
    _s(S.DATA, "4xx", "DATA 4xx / 421",
       "The server will not take the message now (temporary)."),
    _s(S.DATA, "5xx", "DATA 5xx", "The server refuses the message for good.",
       c("NDR", "V", "RFC 5321 §4.2.1")),
    _s(S.DATA, "drop", "DATA timeout / drop",
       "The connection was lost, or timed out, waiting for the DATA reply (treated as 451)."),
    _s(S.DATA, "2xx", "DATA 2xx (where 354 is due)",
       "DATA must be answered with 354 or an error (RFC 5321 §4.3.2); a 2xx is out of place. "
       "Senders differ: a protocol error, a temporary failure, or go on and send the message.",
       c("NDR", "I", "RFC 5321 §4.3.2")),
    _s(S.DATA, "unexpected", "DATA: a code outside 2-5",
       "A first digit outside 2-5 should be fatal to the transaction (RFC 5321 §4.2.1).",
       c("NDR", "I", "RFC 5321 §4.3.2")),
    # ---------------------------------------------------------------- end of data
    _s(S.DOT, "2xx", "end-of-data 2xx",
       "The server has taken the message: from now on delivering it is the server's job.",
       c("DLV", "V", "RFC 5321 §4.2.5")),
    _s(S.DOT, "4xx", "end-of-data 4xx",
       "The server did not take the message (temporary); the sender keeps responsibility."),
    _s(S.DOT, "5xx", "end-of-data 5xx",
       "The server refuses the message for good; the sender must not try again (§4.2.5).",
       c("NDR", "V", "RFC 5321 §4.2.5")),
    _s(S.DOT, "drop", "end-of-data timeout / drop",
       "The connection was lost after the message was sent but before the reply: the server "
       "may have taken it, so a retry risks a duplicate."),
    _s(S.DOT, "3xx", "end-of-data 3xx",
       "The end of data is answered with 250 or an error (RFC 5321 §4.3.2); a 3xx is out of "
       "place. Senders differ: a protocol error, a temporary failure, or read as delivered.",
       c("NDR", "I", "RFC 5321 §4.2, §4.3.2")),
    _s(S.DOT, "unexpected", "end-of-data: a code outside 2-5",
       "A first digit outside 2-5 should be fatal to the transaction (RFC 5321 §4.2.1).",
       c("NDR", "I", "RFC 5321 §4.2, §4.3.2")),
    # ---------------------------------------------------------------- QUIT
    _s(S.QUIT, "any", "QUIT (any reply / none)",
       "The transaction is already over; the answer to QUIT changes nothing.",
       c("IGN", "V", "RFC 5321 §4.1.1.10")),
    # ---------------------------------------------------------------- DNS
    _s(S.DNS, "nxdomain", "DNS: NXDOMAIN",
       "The recipient's domain does not exist, so there is nowhere to deliver."),
    _s(S.DNS, "null-mx", "DNS: null MX",
       "The domain publishes a null MX ('MX 0 .'): it accepts no mail, so a sender that knows "
       "RFC 7505 bounces without connecting anywhere."),
    _s(S.DNS, "no-address", "DNS: no address to dial",
       "The MX hosts have no address records this sender can use (or the domain has neither MX "
       "nor address records): there is nowhere to connect. RFC 5321 §5.1: MX records present "
       "but none usable is an error."),
    _s(S.DNS, "tempfail", "DNS temporary failure",
       "The DNS lookup failed for now (SERVFAIL or timeout); nothing is known about the "
       "domain."),
    _s(S.DNS, "2xx", "DNS stage: a 2xx code",
       "DNS gives no SMTP reply codes; this code is read by its first digit only: success.",
       c("C", "I", "RFC 5321 §4.2")),
    _s(S.DNS, "4xx", "DNS stage: a 4xx code",
       "DNS gives no SMTP reply codes; this code is read by its first digit only: temporary.",
       c("RQ", "I", "RFC 5321 §4.2, §5.1")),
    _s(S.DNS, "5xx", "DNS stage: a 5xx code",
       "DNS gives no SMTP reply codes; this code is read by its first digit only: permanent.",
       c("NDR", "I", "RFC 5321 §4.2, §5.1")),
    _s(S.DNS, "unexpected", "DNS stage: a code outside 2, 4, 5",
       "DNS gives no SMTP reply codes, and this one has no meaning; the lookup is retried.",
       c("RQ", "I", "RFC 5321 §4.2")),
)  # fmt: skip

SITUATION_KEYS: frozenset[RowKey] = frozenset(s.key for s in SITUATIONS)
