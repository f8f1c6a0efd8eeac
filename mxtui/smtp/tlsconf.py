"""The client side of a TLS handshake as the user asked for it: versions, ciphers, a client
certificate, the SNI name (swaks' ``--tls-protocol``, ``--tls-cipher``, ``--tls-cert`` /
``--tls-key``, ``--tls-sni``).

Only `ssl` here: the certificate facts and verification (tlsinfo.py) need `cryptography`, which
is imported only once a handshake has happened, so a plain-text session starts faster.
"""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass

_VERSIONS: dict[str, ssl.TLSVersion] = {
    "tlsv1": ssl.TLSVersion.TLSv1,
    "tlsv1_0": ssl.TLSVersion.TLSv1,
    "tlsv1_1": ssl.TLSVersion.TLSv1_1,
    "tlsv1_2": ssl.TLSVersion.TLSv1_2,
    "tlsv1_3": ssl.TLSVersion.TLSv1_3,
}
_ORDER = [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_2,
          ssl.TLSVersion.TLSv1_3]  # fmt: skip


@dataclass(frozen=True)
class TLSClientOptions:
    """How to shake hands. Empty fields mean Python's defaults (TLS 1.2 and 1.3 today)."""

    cert: str = ""
    """A PEM file with the client certificate (and its key, unless `key` is given)."""
    key: str = ""
    sni: str | None = None
    """The name sent as SNI; None: the certificate name (`tls_name`) when it is a host name."""
    protocols: tuple[ssl.TLSVersion, ...] = ()
    """The versions allowed (a contiguous range); empty: the defaults."""
    ciphers: str = ""
    """An OpenSSL cipher list for TLS 1.2 and older."""


def parse_protocols(text: str) -> tuple[ssl.TLSVersion, ...]:
    """swaks' ``--tls-protocol``: versions to allow (``tlsv1_2,tlsv1_3``) or to refuse
    (``no_tlsv1_3``), comma-separated, case-insensitive, dots or underscores. Raises ValueError
    for an unknown version or a set with a gap (OpenSSL takes only a range)."""
    allowed: set[ssl.TLSVersion] = set()
    refused: set[ssl.TLSVersion] = set()
    for raw in text.split(","):
        word = raw.strip().lower().replace(".", "_")
        if not word:
            continue
        target = refused if word.startswith("no_") else allowed
        word = word.removeprefix("no_")
        if word not in _VERSIONS:
            raise ValueError(
                f"unknown TLS version {raw.strip()!r}: use tlsv1, tlsv1_1, tlsv1_2, tlsv1_3 "
                "(or no_ before one)"
            )
        target.add(_VERSIONS[word])
    chosen = [v for v in _ORDER if (v in allowed or not allowed) and v not in refused]
    if not chosen:
        raise ValueError("no TLS version left to use")
    lo, hi = _ORDER.index(chosen[0]), _ORDER.index(chosen[-1])
    if len(chosen) != hi - lo + 1:
        raise ValueError("TLS versions must form a range (OpenSSL sets a minimum and a maximum)")
    return tuple(chosen)


@functools.cache
def client_context(options: TLSClientOptions | None = None) -> ssl.SSLContext:
    """A client context that completes the handshake whatever the certificate (checked later).

    Made once per set of options: it verifies nothing, so loading the system CA store for it
    (what `ssl.create_default_context` does, ~18 ms each time) would only slow every STARTTLS.
    Raises ValueError for a certificate, key or cipher list that cannot be used.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if options is None:
        return ctx
    if options.protocols:
        ctx.minimum_version = options.protocols[0]
        ctx.maximum_version = options.protocols[-1]
    if options.ciphers:
        try:
            ctx.set_ciphers(options.ciphers)
        except ssl.SSLError:
            raise ValueError(f"no usable cipher in {options.ciphers!r}") from None
    if options.cert:
        try:
            ctx.load_cert_chain(options.cert, options.key or None)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
            raise ValueError(f"cannot use the client certificate: {reason}") from None
    return ctx
