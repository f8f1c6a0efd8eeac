"""The fields a person gives for a conversation, checked once at the edge, before anything connects.

An SMTP command is one line: a control character in an address or an EHLO name either splits it
(CR, LF: a second command the person never meant) or is refused by the session at the moment it
would be sent, long after the connection was made. So `mxtui smtp`, `mxtui walk` and the scenario
loader all check their fields here first, and a bad one is a one-line error (exit 2) that shows
the value in printable form, never raw.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from mxtui.errors import UsageError
from mxtui.text import printable

MAX_FIELD_BYTES = 998
"""The longest text an SMTP line can carry after its command word (RFC 5321 §4.5.3.1.6 allows
1000 octets with CRLF; RFC 5322 §2.1.1 the same for a header line)."""


class FieldError(UsageError):
    """A field that cannot go into an SMTP conversation; the message says which and why."""


def forbidden_character(value: str) -> str | None:
    """The first character of `value` that no SMTP line may carry, or None.

    Those are the control characters (C0 with TAB, CR and LF, DEL, C1 with NEL) and the Unicode
    line and paragraph separators, which some software treats as line ends.
    """
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            return ch
    return None


def check_field(flag: str, value: str, *, allow_tab: bool = False) -> str:
    """`value` if it can go on an SMTP line; FieldError naming `flag` otherwise."""
    bad = forbidden_character(value.replace("\t", "") if allow_tab else value)
    if bad is not None:
        raise FieldError(
            f"{flag} {_shown(value)}: contains a control character ({printable(bad)}), "
            "which cannot go on an SMTP line"
        )
    if len(value.encode("utf-8", "surrogatepass")) > MAX_FIELD_BYTES:
        raise FieldError(
            f"{flag} {_shown(value)}: longer than an SMTP line can carry ({MAX_FIELD_BYTES} bytes)"
        )
    return value


def check_address(flag: str, value: str) -> str:
    """An envelope address (MAIL FROM, RCPT TO): one SMTP line's worth of visible text."""
    return check_field(flag, value)


def check_name(flag: str, value: str) -> str:
    """A host name given by hand (EHLO/HELO, a server): no control characters, no spaces."""
    check_field(flag, value)
    if any(ch.isspace() for ch in value):
        raise FieldError(f"{flag} {_shown(value)}: a host name cannot contain spaces")
    return value


def check_header(flag: str, value: str) -> str:
    """A header line ``Name: value`` to add to a message (TAB allowed in the value)."""
    check_field(flag, value, allow_tab=True)
    name, colon, _ = value.partition(":")
    if not colon or not name or any(not (33 <= ord(c) <= 126) for c in name):
        raise FieldError(
            f"{flag} {_shown(value)}: expected 'Name: value' with a printable ASCII name"
        )
    return value


def check_envelope(
    mail_from: str,
    recipients: Iterable[str],
    *,
    ehlo: str | None = None,
    headers: Iterable[str] = (),
    flags: tuple[str, str, str, str] = ("--from", "--to", "--ehlo", "--header"),
) -> None:
    """Check every field of an envelope at once (the order the conversation would use them)."""
    from_flag, to_flag, ehlo_flag, header_flag = flags
    if ehlo is not None:
        check_name(ehlo_flag, ehlo)
    check_address(from_flag, mail_from)
    for recipient in recipients:
        check_address(to_flag, recipient)
    for header in headers:
        check_header(header_flag, header)


def _shown(value: str, limit: int = 80) -> str:
    """The value quoted and printable, cut when long (an error message is one line)."""
    text = printable(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return f"'{text}'"
