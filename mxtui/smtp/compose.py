"""Build a test message from swaks-style parts: headers, a body, and MIME attachments.

swaks users shape the message with ``--header`` / ``--h-NAME`` (replace a header of the test
message, or add it), ``--add-header`` (always add), ``--body`` and ``--attach`` (with
``--attach-type`` / ``--attach-name``). This does the same, by hand rather than with the
``email`` package: the result is byte-for-byte predictable (CRLF line ends, base64 at 76
columns, a fixed boundary form), and the command starts faster without it.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from dataclasses import dataclass

from mxtui.model import Envelope
from mxtui.smtp.message import default_headers

DEFAULT_BODY = "This is a test mailing"


@dataclass(frozen=True)
class Attachment:
    """One attached file or text: its bytes, MIME type and file name."""

    data: bytes
    mime_type: str = "application/octet-stream"
    name: str = ""


def split_header(text: str) -> tuple[str, str]:
    """``"Name: value"`` → (name, value); ValueError for a line that is not a header."""
    name, sep, value = text.partition(":")
    name = name.strip()
    if not sep or not name or any(c.isspace() or ord(c) < 33 or ord(c) > 126 for c in name):
        raise ValueError(f"{text!r} is not a header line (Name: value)")
    if "\r" in value or "\n" in value:
        raise ValueError(f"header {name!r} must be one line")
    return name, value.strip()


def compose(
    envelope: Envelope,
    *,
    headers: Sequence[str] = (),
    add_headers: Sequence[str] = (),
    body: str | bytes | None = None,
    attachments: Sequence[Attachment] = (),
) -> bytes:
    """The test message with `headers` replacing (or added to) its own, `add_headers` added,
    `body` as its text, and `attachments` making it multipart/mixed (RFC 2046 §5.1)."""
    lines: list[tuple[str, str]] = list(default_headers(envelope))
    for text in headers:
        name, value = split_header(text)
        for i, (have, _) in enumerate(lines):
            if have.lower() == name.lower():
                lines[i] = (have, value)
                break
        else:
            lines.append((name, value))
    for text in add_headers:
        lines.append(split_header(text))
    raw_body = body if isinstance(body, bytes) else (body or DEFAULT_BODY).encode("utf-8")
    raw_body = _crlf(raw_body)
    if not attachments:
        head = "".join(f"{n}: {v}\r\n" for n, v in lines).encode("utf-8")
        return head + b"\r\n" + raw_body + (b"" if raw_body.endswith(b"\r\n") else b"\r\n")
    boundary = f"----=_MXTUI_{os.urandom(6).hex()}"
    lines = [(n, v) for n, v in lines if n.lower() not in ("mime-version", "content-type")]
    lines += [
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/mixed; boundary="{boundary}"'),
    ]
    out = bytearray("".join(f"{n}: {v}\r\n" for n, v in lines).encode("utf-8"))
    out += b"\r\nThis is a multi-part message in MIME format.\r\n"
    charset = "us-ascii" if raw_body.isascii() else "utf-8"
    out += f"\r\n--{boundary}\r\nContent-Type: text/plain; charset={charset}\r\n\r\n".encode()
    out += raw_body if raw_body.endswith(b"\r\n") else raw_body + b"\r\n"
    for item in attachments:
        name = _quoted(item.name or "attachment")
        out += (
            f"\r\n--{boundary}\r\n"
            f'Content-Type: {item.mime_type}; name="{name}"\r\n'
            f"Content-Transfer-Encoding: BASE64\r\n"
            f'Content-Disposition: attachment; filename="{name}"\r\n\r\n'
        ).encode()
        encoded = base64.b64encode(item.data)
        out += b"".join(encoded[i : i + 76] + b"\r\n" for i in range(0, len(encoded), 76))
    out += f"\r\n--{boundary}--\r\n".encode()
    return bytes(out)


def _crlf(data: bytes) -> bytes:
    if b"\n" in data and data.count(b"\r\n") != data.count(b"\n"):
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return data


def _quoted(name: str) -> str:
    return "".join(c for c in name if c.isprintable() and c not in '"\\')
