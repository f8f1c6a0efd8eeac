"""Self-signed certificates for the lab hosts' STARTTLS, made once per process.

A lab host offers STARTTLS like a real MX, so the session's TLS step (version, cipher, subject,
SANs, whether it verifies) has something true to show. The certificate is made at start-up rather
than shipped, so nothing secret sits in the repository; one key serves every host name, and each
host name's certificate is cached, so starting a scenario of ten hosts costs one key generation.

A client that wants verification to succeed trusts ``LabCertificate.cert_pem`` (or
``client_context()``); one that does not sees an honest "self-signed" failure.
"""

from __future__ import annotations

import atexit
import datetime
import functools
import ipaddress
import shutil
import ssl
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK_SANS: tuple[str, ...] = ("127.0.0.1", "::1")
"""Addresses every lab certificate also names, so a client dialling the IP can verify it."""

VALIDITY_DAYS = 365

_lock = threading.Lock()
_workdir: Path | None = None


@dataclass(frozen=True)
class LabCertificate:
    """A certificate and its key, as PEM bytes and as files (``ssl`` loads chains from files)."""

    hostname: str
    cert_pem: bytes
    key_pem: bytes
    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        """A server-side context presenting this certificate (shared: contexts are reusable)."""
        return _server_context(self.hostname)

    def client_context(self, *, check_hostname: bool = True) -> ssl.SSLContext:
        """A client context that trusts exactly this certificate and nothing else."""
        ctx = ssl.create_default_context(cadata=self.cert_pem.decode("ascii"))
        ctx.check_hostname = check_hostname
        return ctx


def _directory() -> Path:
    """A private folder for the PEM files, removed when the process ends."""
    global _workdir
    if _workdir is None:
        _workdir = Path(tempfile.mkdtemp(prefix="mxtui-lab-tls-"))
        atexit.register(shutil.rmtree, _workdir, True)
    return _workdir


@functools.cache
def _private_key() -> ec.EllipticCurvePrivateKey:
    """One P-256 key per process: fast to make, and every TLS stack the lab meets accepts it."""
    return ec.generate_private_key(ec.SECP256R1())


def _build(hostname: str) -> LabCertificate:
    key = _private_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, hostname),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mxtui lab"),
        ]
    )
    sans: list[x509.GeneralName] = [x509.DNSName(hostname)]
    sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in LOOPBACK_SANS]
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=VALIDITY_DAYS))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    folder = _directory()
    stem = hostname.replace("/", "_") or "lab"
    cert_path, key_path = folder / f"{stem}.crt", folder / f"{stem}.key"
    key_path.touch(mode=0o600)
    key_path.write_bytes(key_pem)
    cert_path.write_bytes(cert_pem)
    return LabCertificate(hostname, cert_pem, key_pem, cert_path, key_path)


_cache: dict[str, LabCertificate] = {}


def lab_certificate(hostname: str = "mx.lab.test") -> LabCertificate:
    """The process's certificate for `hostname` (CN and SAN), also valid for 127.0.0.1 and ::1."""
    hostname = hostname.strip().rstrip(".").lower()
    if not hostname:
        raise ValueError("a lab certificate needs a host name")
    with _lock:
        found = _cache.get(hostname)
        if found is None:
            found = _cache[hostname] = _build(hostname)
        return found


@functools.cache
def _server_context(hostname: str) -> ssl.SSLContext:
    cert = lab_certificate(hostname)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert.cert_path, cert.key_path)
    return ctx
