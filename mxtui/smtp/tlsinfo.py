"""What a TLS handshake established, with certificate verification done apart from it.

The session handshakes without verifying (as MTAs do for opportunistic STARTTLS, RFC 7435), so
a self-signed or mismatched certificate can still be looked at; then the chain the server sent is
verified here for the host name with `cryptography`'s RFC 5280 verifier against the system trust
store (plus anything the caller trusts, such as the lab's certificate). The verdict is a fact in
the transcript; it stops the session only when the user asked for verification.
"""

from __future__ import annotations

import _ssl
import datetime
import functools
import ipaddress
import ssl
import warnings
from typing import Any

from cryptography import x509
from cryptography.x509.verification import DNSName, IPAddress, PolicyBuilder, Store

from mxtui.model import TLSInfo
from mxtui.text import printable


@functools.cache
def _system_roots() -> tuple[x509.Certificate, ...]:
    paths = ssl.get_default_verify_paths()
    for name in (paths.cafile, paths.openssl_cafile):
        if not name:
            continue
        try:
            with open(name, "rb") as fh, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return tuple(x509.load_pem_x509_certificates(fh.read()))
        except (OSError, ValueError):
            continue
    return ()


_DER = getattr(ssl, "ENCODING_DER", None) or getattr(_ssl, "ENCODING_DER", 2)


def _chain(sslobj: Any) -> list[bytes]:
    """The certificates the server sent, leaf first, as DER.

    Python 3.13 makes ``get_unverified_chain`` public; 3.11 and 3.12 have it on the inner object.
    Without it only the leaf is known (and a chain needing intermediates will not verify).
    """
    for owner in (sslobj, getattr(sslobj, "_sslobj", None)):
        getter = getattr(owner, "get_unverified_chain", None)
        if getter is None:
            continue
        try:
            chain = getter() or []
        except (ValueError, ssl.SSLError):
            break
        out = []
        for cert in chain:
            out.append(cert if isinstance(cert, bytes) else cert.public_bytes(_DER))
        if out:
            return out
    leaf = sslobj.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def _name(name: x509.Name) -> str:
    return printable(name.rfc4514_string())


def _sans(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return ()
    names = [f"DNS:{n}" for n in ext.get_values_for_type(x509.DNSName)]
    names += [f"IP:{a}" for a in ext.get_values_for_type(x509.IPAddress)]
    return tuple(printable(n) for n in names)


def _when(value: datetime.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ")


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "candidates exhausted" in text:
        return "not signed by a trusted authority (self-signed or unknown issuer)"
    if "no matching subjectAltName" in text:
        return "the certificate does not name this host"
    if "expired" in text or "not valid" in text:
        return "the certificate is outside its validity period"
    return printable(text.removeprefix("validation failed: ").split(" (encountered")[0])


def verify(
    chain: list[x509.Certificate], hostname: str, extra_trust: tuple[x509.Certificate, ...] = ()
) -> tuple[bool, str]:
    """Whether `chain` (leaf first) verifies for `hostname` (a name or an IP address)."""
    if not chain:
        return False, "the server sent no certificate"
    if not hostname:
        return False, "no host name to check the certificate against"
    try:
        subject: DNSName | IPAddress = IPAddress(ipaddress.ip_address(hostname))
    except ValueError:
        try:
            subject = DNSName(hostname.rstrip("."))
        except ValueError:
            return False, f"{printable(hostname)!r} is not a valid host name"
    roots = list(_system_roots()) + list(extra_trust)
    if not roots:
        return False, "no trusted certificates on this system"
    try:
        verifier = PolicyBuilder().store(Store(roots)).build_server_verifier(subject)
        verifier.verify(chain[0], chain[1:])
    except Exception as exc:  # cryptography raises VerificationError and ValueError variants
        return False, _reason(exc)
    return True, ""


def presented_chain(sslobj: Any) -> list[x509.Certificate]:
    """The certificates the server sent, leaf first (what DANE matches against, RFC 7672 §3)."""
    certs: list[x509.Certificate] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for der in _chain(sslobj):
            try:
                certs.append(x509.load_der_x509_certificate(der))
            except ValueError:
                break
    return certs


def describe(
    sslobj: Any,
    hostname: str,
    extra_trust: tuple[x509.Certificate, ...] = (),
    certs: list[x509.Certificate] | None = None,
) -> TLSInfo:
    """TLSInfo for an established connection (an ``ssl.SSLObject`` or ``SSLSocket``)."""
    cipher = sslobj.cipher() or ("?", "?", None)
    if certs is None:
        certs = presented_chain(sslobj)
    ok, why = verify(certs, hostname, extra_trust)
    if not certs:
        return TLSInfo(
            version=str(sslobj.version()),
            cipher=str(cipher[0]),
            bits=cipher[2],
            subject="(no certificate)",
            sans=(),
            issuer="",
            not_before="",
            not_after="",
            hostname=printable(hostname),
            verified=False,
            verify_error=why,
        )
    leaf = certs[0]
    return TLSInfo(
        version=str(sslobj.version()),
        cipher=str(cipher[0]),
        bits=cipher[2],
        subject=_name(leaf.subject),
        sans=_sans(leaf),
        issuer=_name(leaf.issuer),
        not_before=_when(leaf.not_valid_before_utc),
        not_after=_when(leaf.not_valid_after_utc),
        hostname=printable(hostname),
        verified=ok,
        verify_error=why,
    )


def load_trust(pem: bytes) -> tuple[x509.Certificate, ...]:
    """Certificates to trust besides the system's (e.g. the lab's self-signed one)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tuple(x509.load_pem_x509_certificates(pem))
