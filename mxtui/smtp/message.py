"""The message as a session sends it: a default test message, and its form on the wire."""

from __future__ import annotations

import email.utils

from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

from mxtui.model import Envelope


def default_message(envelope: Envelope) -> bytes:
    """A short test message like swaks's, so a session can reach the dot with no typing."""
    now = email.utils.formatdate(localtime=True)
    domain = envelope.ehlo_name or "localhost"
    lines = [
        f"Date: {now}",
        f"To: {', '.join(envelope.recipients)}",
        f"From: {envelope.mail_from}",
        f"Subject: test {now}",
        f"Message-Id: {email.utils.make_msgid('mxtui', domain=domain)}",
        "X-Mailer: mxtui",
        "",
        "This is a test mailing",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")


def wire_message(message: bytes) -> bytes:
    """The message as it goes after DATA: CRLF line ends, dot-stuffed, ending in ``.CRLF``.

    aiosmtplib's regular expressions do the work; they are skipped when counting (C speed)
    shows there is nothing to change, which is the usual case and saves most of the time on a
    message of many megabytes.
    """
    crlf = message.count(b"\r\n")
    if not (crlf == message.count(b"\n") == message.count(b"\r") and message.endswith(b"\r\n")):
        message = normalize_message_line_endings(message)
    if message.startswith(b".") or b"\n." in message:
        message = PERIOD_REGEX.sub(b"..", message)
    return message + b".\r\n"
