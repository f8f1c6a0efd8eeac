"""swaks' flags read from text, once, for `mxtui smtp` and for the app's dialogs.

Each function takes what the person typed for one flag and returns the value a `Session` takes,
or raises `UsageError` (a ValueError) with one line that names the flag: `mxtui smtp` prints it
and exits 2, the app's dialogs show it under their fields. Only light imports at the top, so a
usage error stays quick (`mxtui.smtp.tlsconf` and its `ssl` load only when a TLS flag is given).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from mxtui.errors import UsageError
from mxtui.fields import check_field, check_name
from mxtui.filedata import FileDataError, read_limited
from mxtui.smtp.auth import MECHANISMS

if TYPE_CHECKING:
    from mxtui.smtp.tlsconf import TLSClientOptions

PROTOCOLS = ("SMTP", "ESMTP", "LMTP")
"""--protocol: HELO and no extensions; EHLO (the default); LHLO and one reply per recipient."""
TLS_MODES = ("none", "optional", "required", "on-connect")
"""How TLS starts: never; STARTTLS when offered (--tls-optional, what MTAs do); STARTTLS or stop
(--tls); TLS from the first byte (--tls-on-connect, port 465)."""
DSN_NOTIFY = ("NEVER", "SUCCESS", "FAILURE", "DELAY")
DSN_RET = ("FULL", "HDRS")
XCLIENT_NAMES = ("addr", "name", "port", "proto", "helo", "login")
"""The --xclient-NAME shorthands (swaks'): each is one ATTR=VALUE."""
MAX_CA_FILE = 4 * 1024 * 1024
"""A CA bundle is a few hundred kB; more is not a certificate file."""


def auth_types(text: str) -> tuple[str, ...]:
    """--auth TYPES: comma-separated mechanisms in the order to try them."""
    types = tuple(t.strip().upper() for t in text.split(",") if t.strip())
    unknown = [t for t in types if t not in MECHANISMS]
    if unknown:
        raise UsageError(
            f"{unknown[0]!r}: AUTH types are {', '.join(MECHANISMS)} (comma-separated)"
        )
    return types


def dsn_notify(text: str) -> tuple[str, ...]:
    """--dsn-notify WHEN: NEVER alone, or any of SUCCESS, FAILURE, DELAY (RFC 3461)."""
    notify = tuple(n.strip().upper() for n in text.split(",") if n.strip())
    if any(n not in DSN_NOTIFY for n in notify) or ("NEVER" in notify and len(notify) > 1):
        raise UsageError("--dsn-notify: NEVER alone, or any of SUCCESS,FAILURE,DELAY")
    return notify


def dsn_ret(text: str) -> str:
    """--dsn-ret: FULL or HDRS (empty: the server's default)."""
    ret = text.strip().upper()
    if ret and ret not in DSN_RET:
        raise UsageError("--dsn-ret: FULL or HDRS")
    return ret


def protocol(text: str) -> str:
    """--protocol SMTP|ESMTP|LMTP, as the Session takes it (lower case)."""
    word = text.strip().upper() or "ESMTP"
    if word not in PROTOCOLS:
        raise UsageError(f"--protocol {text!r}: choose one of {', '.join(PROTOCOLS)}")
    return word.lower()


def xclient_pairs(texts: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """--xclient ATTR=VALUE …: space- or comma-separated, each ATTR letters only."""
    pairs: list[tuple[str, str]] = []
    for text in texts:
        check_field("--xclient", text)
        for word in text.replace(",", " ").split():
            name, eq, value = word.partition("=")
            if not eq or not name.isalpha():
                raise UsageError(f"--xclient: {word!r} is not ATTR=VALUE")
            pairs.append((name.upper(), value))
    return tuple(pairs)


def tls_options(
    cert: str = "", key: str = "", sni: str = "", protocols: str = "", ciphers: str = ""
) -> TLSClientOptions | None:
    """--tls-cert, --tls-key, --tls-sni, --tls-protocol, --tls-cipher as one value (None when
    none is given). A certificate, a version list or a cipher list that cannot work is said
    now, not at the handshake."""
    if not (cert or key or sni or protocols or ciphers):
        return None
    check_field("--tls-protocol", protocols)
    check_field("--tls-cipher", ciphers)
    if sni:
        check_name("--tls-sni", sni)
    if key and not cert:
        raise UsageError("--tls-key goes with --tls-cert")
    try:
        from mxtui.smtp.tlsconf import TLSClientOptions, client_context, parse_protocols

        versions = parse_protocols(protocols) if protocols else ()
        options = TLSClientOptions(cert, key, sni or None, versions, ciphers)
        client_context(options)
    except UsageError:
        raise
    except ValueError as exc:
        raise UsageError(f"TLS: {exc}") from None
    return options


def read_ca(path: str) -> bytes:
    """--tls-ca-path FILE: PEM certificates to trust besides the system's (read whole, bounded)."""
    try:
        return read_limited(path, MAX_CA_FILE)
    except (OSError, FileDataError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UsageError(f"--tls-ca-path: cannot read it: {reason}") from None
