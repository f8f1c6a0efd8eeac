"""SMTP AUTH (RFC 4954): which mechanism to use, what goes on the wire, and what never shows.

Four mechanisms, the ones swaks users reach for: PLAIN (RFC 4616) and LOGIN send the password
itself (base64 is an encoding, not a protection), CRAM-MD5 (RFC 2195) sends an HMAC of the
server's challenge, XOAUTH2 sends an OAuth 2.0 bearer token. Each is a short exchange of lines;
every line that carries a secret is shown as ``****`` by construction, whatever its length.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mxtui.model import Credentials

MECHANISMS: tuple[str, ...] = ("PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2")
"""Supported mechanisms, in the order tried when the user names none and the server offers
several (XOAUTH2 needs a token rather than a password, so it is used only when asked for)."""
DEFAULT_ORDER: tuple[str, ...] = ("PLAIN", "LOGIN", "CRAM-MD5")


def b64(data: bytes) -> bytes:
    return base64.b64encode(data)


def offered(extensions: dict[str, str]) -> tuple[str, ...] | None:
    """The mechanisms an EHLO reply's AUTH line offers, or None when it offers no AUTH."""
    if "AUTH" not in extensions:
        return None
    return tuple(m.upper() for m in extensions["AUTH"].split())


def choose(wanted: Iterable[str], advertised: tuple[str, ...]) -> list[str]:
    """The mechanisms to try, in order: those asked for (or the default order) that the
    server offers and mxtui supports."""
    order = tuple(m.upper() for m in wanted) or DEFAULT_ORDER
    return [m for m in order if m in advertised and m in MECHANISMS]


def plain_response(creds: Credentials) -> bytes:
    """RFC 4616: authorization identity (empty), user, password, NUL-separated."""
    return b64(b"\0" + creds.user.encode() + b"\0" + creds.password.encode())


def login_responses(creds: Credentials) -> tuple[bytes, bytes]:
    return b64(creds.user.encode()), b64(creds.password.encode())


def cram_md5_response(creds: Credentials, challenge: str) -> bytes:
    """RFC 2195: the user name, a space, and the hex HMAC-MD5 of the decoded challenge keyed
    with the password. Raises ValueError for a challenge that is not base64."""
    import hashlib
    import hmac

    try:
        decoded = base64.b64decode(challenge.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the CRAM-MD5 challenge is not base64") from None
    digest = hmac.new(creds.password.encode(), decoded, hashlib.md5).hexdigest()
    return b64(f"{creds.user} {digest}".encode())


def xoauth2_response(creds: Credentials) -> bytes:
    """Google's and Microsoft's XOAUTH2: ``user=U^Aauth=Bearer TOKEN^A^A``, base64."""
    return b64(f"user={creds.user}\x01auth=Bearer {creds.password}\x01\x01".encode())


def secret_forms(creds: Credentials) -> tuple[str, ...]:
    """The password as typed and in every form PLAIN, LOGIN or XOAUTH2 puts on the wire, so a
    server that echoes one cannot show it (CRAM-MD5 never sends the password)."""
    user, password = creds.user.encode(), creds.password.encode()
    forms = {
        creds.password,
        b64(password).decode(),
        plain_response(creds).decode(),
        b64(user + b"\0" + user + b"\0" + password).decode(),
        xoauth2_response(creds).decode(),
    }
    return tuple(sorted((f for f in forms if f), key=len, reverse=True))
