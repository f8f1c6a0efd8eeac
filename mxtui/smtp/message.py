"""The message as a session sends it: a default test message, and its form on the wire."""

from __future__ import annotations

import os
import time

from mxtui.model import Envelope
from mxtui.smtp.protocol import normalize_message_line_endings


def default_headers(envelope: Envelope) -> list[tuple[str, str]]:
    """The headers of swaks' test message, in its order."""
    now = message_date()
    domain = envelope.ehlo_name or "localhost"
    return [
        ("Date", now),
        ("To", ", ".join(envelope.recipients)),
        ("From", envelope.mail_from),
        ("Subject", f"test {now}"),
        ("Message-Id", message_id("mxtui", domain)),
        ("X-Mailer", "mxtui"),
    ]


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def message_date(timeval: float | None = None) -> str:
    """An RFC 5322 date in local time, as ``email.utils.formatdate(localtime=True)`` writes it
    (English names whatever the locale), without the email package: importing it costs more
    than the rest of a short ``mxtui smtp`` run's message."""
    t = time.localtime(time.time() if timeval is None else timeval)
    offset = t.tm_gmtoff or 0
    sign = "-" if offset < 0 else "+"
    hours, rest = divmod(abs(offset), 3600)
    minutes, seconds = divmod(rest, 60)
    zone = f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {zone}"
    )


def message_id(idstring: str, domain: str) -> str:
    """A Message-Id as ``email.utils.make_msgid(idstring, domain=domain)`` makes one:
    time in hundredths of a second, process id, 64 random bits."""
    randint = int.from_bytes(os.urandom(8), "big")
    return f"<{int(time.time() * 100)}.{os.getpid()}.{randint}.{idstring}@{domain}>"


def default_message(envelope: Envelope) -> bytes:
    """A short test message like swaks's, so a session can reach the dot with no typing."""
    lines = [f"{name}: {value}" for name, value in default_headers(envelope)]
    lines += ["", "This is a test mailing", ""]
    return "\r\n".join(lines).encode("utf-8")


END_OF_DATA = b".\r\n"
"""What ends DATA after the message (whose last line already ends in CRLF)."""


def wire_message(message: bytes) -> bytes:
    """The message as it goes after DATA: CRLF line ends, dot-stuffed, ending in ``.CRLF``."""
    return wire_body(message)[0] + END_OF_DATA


def wire_body(message: bytes) -> tuple[bytes, int]:
    """The message as it goes after DATA, up to the end-of-data dot (`END_OF_DATA`): CRLF line
    ends, dot-stuffed (RFC 5321 §4.5.2); and how many lines it has.

    A message of many megabytes should cost a few passes at C speed, not a regular expression's
    walk: the line ends are counted (and rewritten by aiosmtplib's expression only when they are
    not all CRLF already), and the dots are doubled by `bytes.replace`, which returns the very
    same object when no line starts with one. The line count comes from the counting, so the
    transcript's "N more lines" costs no further pass; the terminator is left for the writer to
    send after the body, so no copy of the whole message is made for it.
    """
    lines = _crlf_lines(message)
    if lines is None:
        message = normalize_message_line_endings(message)
        lines = message.count(b"\n")
    if message.startswith(b"."):
        message = b"." + message
    return message.replace(b"\r\n.", b"\r\n.."), lines


def _crlf_lines(message: bytes) -> int | None:
    """The number of lines when every line ends in CRLF, the last one included; else None.
    Single-byte counts are the quick ones; the two-byte count that proves the pairs is needed
    only when they agree."""
    if not message.endswith(b"\r\n"):
        return None
    lf = message.count(b"\n")
    if lf != message.count(b"\r") or lf != message.count(b"\r\n"):
        return None
    return lf


def bdat_message(message: bytes) -> bytes:
    """The message as BDAT sends it (RFC 3030 §2): CRLF line ends, no dot-stuffing, no dot."""
    return message if _crlf_lines(message) is not None else normalize_message_line_endings(message)


def xtext(text: str) -> str:
    """RFC 3461 §4 xtext: "+", "=" and anything outside "!".."~" as "+XX" (UTF-8 bytes)."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        out.append(f"+{byte:02X}" if byte < 33 or byte > 126 or char in "+=" else char)
    return "".join(out)
