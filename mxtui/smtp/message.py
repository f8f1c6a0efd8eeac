"""The message as a session sends it: a default test message, and its form on the wire."""

from __future__ import annotations

import email.utils

from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

from mxtui.model import Envelope


def default_headers(envelope: Envelope) -> list[tuple[str, str]]:
    """The headers of swaks' test message, in its order."""
    now = email.utils.formatdate(localtime=True)
    domain = envelope.ehlo_name or "localhost"
    return [
        ("Date", now),
        ("To", ", ".join(envelope.recipients)),
        ("From", envelope.mail_from),
        ("Subject", f"test {now}"),
        ("Message-Id", email.utils.make_msgid("mxtui", domain=domain)),
        ("X-Mailer", "mxtui"),
    ]


def default_message(envelope: Envelope) -> bytes:
    """A short test message like swaks's, so a session can reach the dot with no typing."""
    lines = [f"{name}: {value}" for name, value in default_headers(envelope)]
    lines += ["", "This is a test mailing", ""]
    return "\r\n".join(lines).encode("utf-8")


def wire_message(message: bytes) -> bytes:
    """The message as it goes after DATA: CRLF line ends, dot-stuffed, ending in ``.CRLF``.

    aiosmtplib's regular expressions do the work; they are skipped when counting (C speed)
    shows there is nothing to change, which is the usual case and saves most of the time on a
    message of many megabytes.
    """
    if not _crlf_only(message):
        message = normalize_message_line_endings(message)
    if message.startswith(b".") or message.find(b"\n.") >= 0:  # find: memchr-fast, `in` is not
        message = PERIOD_REGEX.sub(b"..", message)
    return message + b".\r\n"


def _crlf_only(message: bytes) -> bool:
    """Every line ends in CRLF, the last one included. Single-byte counts run at memory speed;
    the two-byte count that proves the pairs is needed only when they agree."""
    if not message.endswith(b"\r\n"):
        return False
    lf = message.count(b"\n")
    return lf == message.count(b"\r") and lf == message.count(b"\r\n")


def bdat_message(message: bytes) -> bytes:
    """The message as BDAT sends it (RFC 3030 §2): CRLF line ends, no dot-stuffing, no dot."""
    return message if _crlf_only(message) else normalize_message_line_endings(message)


def xtext(text: str) -> str:
    """RFC 3461 §4 xtext: "+", "=" and anything outside "!".."~" as "+XX" (UTF-8 bytes)."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        out.append(f"+{byte:02X}" if byte < 33 or byte > 126 or char in "+=" else char)
    return "".join(out)
