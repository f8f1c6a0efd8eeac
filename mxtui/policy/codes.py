"""What reply codes and enhanced status codes mean, digit by digit (how they are read from text
is `mxtui.smtp.replies`, the one grammar).

A trainee reads "550 5.1.1" as two codes that each say something: the basic code's first digit
decides what the sender does (RFC 5321 §4.2.1), the enhanced code says what went wrong (RFC 3463
and the IANA registry kept under RFC 5248). Both tables are data so they can be checked line by
line against the RFCs.
"""

from __future__ import annotations

from mxtui.model import CodeMeaning, EnhancedMeaning, Reply
from mxtui.smtp.replies import enhanced_parts

# RFC 5321 §4.2.1: the first digit.
CLASS_MEANINGS: dict[int, str] = {
    2: "positive completion: the command was done",
    3: "positive intermediate: go on with the next part (only 354 after DATA, 334 in AUTH)",
    4: "transient negative: not done now, the same command may work later",
    5: "permanent negative: not done, and repeating it unchanged will fail again",
}
ODD_CLASS = (
    "not an SMTP reply class: a client reads unknown codes by the first digit alone, and a first "
    "digit outside 2-5 should be treated as fatal to the transaction (RFC 5321 §4.2, §4.3.2)"
)

# RFC 5321 §4.2.1: the second digit.
SUBJECT_MEANINGS: dict[int, str] = {
    0: "syntax",
    1: "information",
    2: "connections (the transmission channel)",
    3: "unspecified",
    4: "unspecified",
    5: "mail system (the receiver's state)",
}

# RFC 5321 §4.2.2/§4.2.3, RFC 7504 (521, 556), RFC 4954 (AUTH), RFC 3030/3207 where noted.
USUAL_TEXT: dict[int, tuple[str, str]] = {
    211: ("System status, or system help reply", "RFC 5321 §4.2.3"),
    214: ("Help message", "RFC 5321 §4.2.3"),
    220: ("<domain> Service ready (or: ready to start TLS, RFC 3207)", "RFC 5321 §4.2.3"),
    221: ("<domain> Service closing transmission channel", "RFC 5321 §4.2.3"),
    235: ("Authentication succeeded", "RFC 4954 §6"),
    250: ("Requested mail action okay, completed", "RFC 5321 §4.2.3"),
    251: ("User not local; will forward to <forward-path>", "RFC 5321 §4.2.3"),
    252: ("Cannot VRFY user, but will accept message and attempt delivery", "RFC 5321 §4.2.3"),
    334: ("Server challenge (AUTH continues)", "RFC 4954 §4"),
    354: ("Start mail input; end with <CRLF>.<CRLF>", "RFC 5321 §4.2.3"),
    421: ("<domain> Service not available, closing transmission channel", "RFC 5321 §4.2.3"),
    432: ("A password transition is needed", "RFC 4954 §6"),
    450: ("Requested mail action not taken: mailbox unavailable", "RFC 5321 §4.2.3"),
    451: ("Requested action aborted: local error in processing", "RFC 5321 §4.2.3"),
    452: ("Requested action not taken: insufficient system storage", "RFC 5321 §4.2.3"),
    454: ("Temporary authentication failure (or: TLS not available)", "RFC 4954 §6, RFC 3207"),
    455: ("Server unable to accommodate parameters", "RFC 5321 §4.2.3"),
    500: ("Syntax error, command unrecognized", "RFC 5321 §4.2.3"),
    501: ("Syntax error in parameters or arguments", "RFC 5321 §4.2.3"),
    502: ("Command not implemented", "RFC 5321 §4.2.3"),
    503: ("Bad sequence of commands", "RFC 5321 §4.2.3"),
    504: ("Command parameter not implemented", "RFC 5321 §4.2.3"),
    521: ("Host does not accept mail", "RFC 7504 §3"),
    530: ("Authentication required (or: must issue STARTTLS first)", "RFC 4954 §6"),
    534: ("Authentication mechanism is too weak", "RFC 4954 §6"),
    535: ("Authentication credentials invalid", "RFC 4954 §6"),
    538: ("Encryption required for requested authentication mechanism", "RFC 4954 §6"),
    550: ("Requested action not taken: mailbox unavailable", "RFC 5321 §4.2.3"),
    551: ("User not local; please try <forward-path>", "RFC 5321 §4.2.3"),
    552: ("Requested mail action aborted: exceeded storage allocation", "RFC 5321 §4.2.3"),
    553: ("Requested action not taken: mailbox name not allowed", "RFC 5321 §4.2.3"),
    554: ("Transaction failed (greeting: no SMTP service here)", "RFC 5321 §4.2.3"),
    555: ("MAIL FROM/RCPT TO parameters not recognized or not implemented", "RFC 5321 §4.2.3"),
    556: ("Domain does not accept mail", "RFC 7504 §3"),
}


def code_meaning(code: int) -> CodeMeaning:
    """Read a basic reply code digit by digit; never fails, whatever the number."""
    klass, subject = (code // 100) % 10, (code // 10) % 10
    usual, ref = USUAL_TEXT.get(code, ("", "RFC 5321 §4.2.1"))
    return CodeMeaning(
        code=code,
        klass=klass,
        class_meaning=CLASS_MEANINGS.get(klass, ODD_CLASS) if 100 <= code <= 999 else ODD_CLASS,
        subject=subject,
        subject_meaning=SUBJECT_MEANINGS.get(subject, "not defined by RFC 5321"),
        usual_text=usual,
        reference=ref if usual else "RFC 5321 §4.2.1",
    )


# RFC 3463 §2: the class digit of an enhanced code.
ENHANCED_CLASSES: dict[int, str] = {
    2: "success",
    4: "persistent transient failure: may succeed if sent again later",
    5: "permanent failure: will not succeed if sent again unchanged",
}

# RFC 3463 §2 (and later registrations): the subject.
ENHANCED_SUBJECTS: dict[int, str] = {
    0: "other or undefined status",
    1: "addressing status",
    2: "mailbox status",
    3: "mail system status",
    4: "network and routing status",
    5: "mail delivery protocol status",
    6: "message content or media status",
    7: "security or policy status",
}

# (subject, detail) -> (meaning, reference). RFC 3463 §3.1-§3.8 whole, plus the IANA "Enumerated
# Status Codes" registry (RFC 5248) entries from later RFCs.
ENHANCED_DETAILS: dict[tuple[int, int], tuple[str, str]] = {
    (0, 0): ("Other undefined status", "RFC 3463 §3.1"),
    (1, 0): ("Other address status", "RFC 3463 §3.2"),
    (1, 1): ("Bad destination mailbox address (no such user)", "RFC 3463 §3.2"),
    (1, 2): ("Bad destination system address (no such host or domain)", "RFC 3463 §3.2"),
    (1, 3): ("Bad destination mailbox address syntax", "RFC 3463 §3.2"),
    (1, 4): ("Destination mailbox address ambiguous", "RFC 3463 §3.2"),
    (1, 5): ("Destination address valid", "RFC 3463 §3.2"),
    (1, 6): ("Destination mailbox has moved, no forwarding address", "RFC 3463 §3.2"),
    (1, 7): ("Bad sender's mailbox address syntax", "RFC 3463 §3.2"),
    (1, 8): ("Bad sender's system address", "RFC 3463 §3.2"),
    (1, 9): ("Message relayed to non-compliant mailer", "RFC 3886"),
    (1, 10): ("Recipient address has null MX: the domain accepts no mail", "RFC 7505 §3"),
    (2, 0): ("Other or undefined mailbox status", "RFC 3463 §3.3"),
    (2, 1): ("Mailbox disabled, not accepting messages", "RFC 3463 §3.3"),
    (2, 2): ("Mailbox full", "RFC 3463 §3.3"),
    (2, 3): ("Message length exceeds administrative limit", "RFC 3463 §3.3"),
    (2, 4): ("Mailing list expansion problem", "RFC 3463 §3.3"),
    (3, 0): ("Other or undefined mail system status", "RFC 3463 §3.4"),
    (3, 1): ("Mail system full", "RFC 3463 §3.4"),
    (3, 2): ("System not accepting network messages", "RFC 3463 §3.4"),
    (3, 3): ("System not capable of selected features", "RFC 3463 §3.4"),
    (3, 4): ("Message too big for system", "RFC 3463 §3.4"),
    (3, 5): ("System incorrectly configured", "RFC 3463 §3.4"),
    (3, 6): ("Requested priority was changed", "RFC 6710"),
    (4, 0): ("Other or undefined network or routing status", "RFC 3463 §3.5"),
    (4, 1): ("No answer from host", "RFC 3463 §3.5"),
    (4, 2): ("Bad connection", "RFC 3463 §3.5"),
    (4, 3): ("Directory server failure (for example DNS)", "RFC 3463 §3.5"),
    (4, 4): ("Unable to route", "RFC 3463 §3.5"),
    (4, 5): ("Mail system congestion", "RFC 3463 §3.5"),
    (4, 6): ("Routing loop detected", "RFC 3463 §3.5"),
    (4, 7): ("Delivery time expired", "RFC 3463 §3.5"),
    (5, 0): ("Other or undefined protocol status", "RFC 3463 §3.6"),
    (5, 1): ("Invalid command", "RFC 3463 §3.6"),
    (5, 2): ("Syntax error", "RFC 3463 §3.6"),
    (5, 3): ("Too many recipients", "RFC 3463 §3.6"),
    (5, 4): ("Invalid command arguments", "RFC 3463 §3.6"),
    (5, 5): ("Wrong protocol version", "RFC 3463 §3.6"),
    (5, 6): ("Authentication exchange line is too long", "RFC 4954 §4"),
    (6, 0): ("Other or undefined media error", "RFC 3463 §3.7"),
    (6, 1): ("Media not supported", "RFC 3463 §3.7"),
    (6, 2): ("Conversion required and prohibited", "RFC 3463 §3.7"),
    (6, 3): ("Conversion required but not supported", "RFC 3463 §3.7"),
    (6, 4): ("Conversion with loss performed", "RFC 3463 §3.7"),
    (6, 5): ("Conversion failed", "RFC 3463 §3.7"),
    (6, 6): ("Message content not available", "RFC 4468"),
    (6, 7): ("Non-ASCII addresses not permitted for that sender/recipient", "RFC 6531"),
    (6, 8): ("UTF-8 string reply is required, but not permitted by the client", "RFC 6531"),
    (6, 9): ("UTF-8 header message cannot be transferred to one or more recipients", "RFC 6531"),
    (7, 0): ("Other or undefined security status", "RFC 3463 §3.8"),
    (7, 1): ("Delivery not authorized, message refused", "RFC 3463 §3.8"),
    (7, 2): ("Mailing list expansion prohibited", "RFC 3463 §3.8"),
    (7, 3): ("Security conversion required but not possible", "RFC 3463 §3.8"),
    (7, 4): ("Security features not supported", "RFC 3463 §3.8"),
    (7, 5): ("Cryptographic failure", "RFC 3463 §3.8"),
    (7, 6): ("Cryptographic algorithm not supported", "RFC 3463 §3.8"),
    (7, 7): ("Message integrity failure", "RFC 3463 §3.8"),
    (7, 8): ("Authentication credentials invalid", "RFC 4954 §6"),
    (7, 9): ("Authentication mechanism is too weak", "RFC 4954 §6"),
    (7, 10): ("Encryption needed", "RFC 5248"),
    (7, 11): ("Encryption required for requested authentication mechanism", "RFC 4954 §6"),
    (7, 12): ("A password transition is needed", "RFC 4954 §6"),
    (7, 13): ("User account disabled", "RFC 5248"),
    (7, 14): ("Trust relationship required", "RFC 5248"),
    (7, 15): ("Priority level is too low", "RFC 6710"),
    (7, 16): ("Message is too big for the specified priority", "RFC 6710"),
    (7, 17): ("Mailbox owner has changed", "RFC 7293"),
    (7, 18): ("Domain owner has changed", "RFC 7293"),
    (7, 19): ("RRVS test cannot be completed", "RFC 7293"),
    (7, 20): ("No passing DKIM signature found", "RFC 7372"),
    (7, 21): ("No acceptable DKIM signature found", "RFC 7372"),
    (7, 22): ("No valid author-matched DKIM signature found", "RFC 7372"),
    (7, 23): ("SPF validation failed", "RFC 7372"),
    (7, 24): ("SPF validation error", "RFC 7372"),
    (7, 25): ("Reverse DNS validation failed", "RFC 7372"),
    (7, 26): ("Multiple authentication checks failed", "RFC 7372"),
    (7, 27): ("Sender address has null MX: it can receive no replies", "RFC 7505 §4"),
    (7, 29): ("ARC validation failure", "RFC 8617"),
    (7, 30): ("REQUIRETLS support required", "RFC 8689"),
}

# Special readings of a whole code, where the registry (or the RFC that uses it) says more than the
# subject/detail pair does on its own.
ENHANCED_SPECIAL: dict[str, tuple[str, str]] = {
    "4.7.0": (
        "Other security status (with 454: temporary authentication failure)",
        "RFC 3463 §3.8; RFC 4954 §6",
    ),
    "5.7.0": (
        "Other security status (with 530: authentication required)",
        "RFC 3463 §3.8; RFC 4954 §6",
    ),
}


def parse_enhanced(text: str) -> tuple[int, int, int] | None:
    """Return (class, subject, detail) if `text` is or starts with an enhanced status code
    (the lenient reading of `mxtui.smtp.replies`, the one grammar of reply text)."""
    return enhanced_parts(text)


def enhanced_meaning(code: str, *, reply_class: int | None = None, from_text: bool = False):
    """Explain an enhanced status code; None when `code` is not of the form class.subject.detail.

    Unknown subjects or details are named as such instead of failing, since servers invent codes.
    """
    parts = parse_enhanced(code)
    if parts is None:
        return None
    klass, subject, detail = parts
    norm = f"{klass}.{subject}.{detail}"
    special = ENHANCED_SPECIAL.get(norm)
    if special:
        detail_meaning, ref = special
    elif (subject, detail) in ENHANCED_DETAILS:
        detail_meaning, ref = ENHANCED_DETAILS[(subject, detail)]
    else:
        detail_meaning = "not in the registry: read it by its class and subject"
        ref = "RFC 3463 §2 (class and subject only)"
    return EnhancedMeaning(
        code=norm,
        class_meaning=ENHANCED_CLASSES[klass],
        subject_meaning=ENHANCED_SUBJECTS.get(subject, "not defined by RFC 3463"),
        detail_meaning=detail_meaning,
        reference=ref,
        from_text=from_text,
        matches_reply=reply_class is None or reply_class == klass,
    )


def reply_enhanced(reply: Reply) -> EnhancedMeaning | None:
    """The enhanced code of a reply: the parsed one, or one found at the start of its text.

    Sessions that did not see ENHANCEDSTATUSCODES leave `Reply.enhanced` empty although the text
    often starts with one; the text of the first line (without the basic code) is tried too.
    """
    if reply.enhanced:
        return enhanced_meaning(reply.enhanced, reply_class=reply.klass)
    candidates = [reply.text]
    if reply.lines:
        first = reply.lines[0]
        candidates.append(first[4:] if first[:3].isdigit() else first)
    for text in candidates:
        if text and enhanced_parts(text):
            return enhanced_meaning(text, reply_class=reply.klass, from_text=True)
    return None
