"""Self-signed certificates for the lab hosts' STARTTLS, made once per process, kept in memory.

A lab host offers STARTTLS like a real MX, so the session's TLS step (version, cipher, subject,
SANs, whether it verifies) has something true to show. The certificate is made at start-up rather
than shipped, so nothing secret sits in the repository; one key serves every host name, and each
host name's certificate is cached, so starting a scenario of ten hosts costs one key generation.

The private key never rests on disk. Python's ``ssl`` loads a key only from a file, so it is
handed over through an anonymous memory file (``memfd_create``, no name in any folder) where the
system has one; elsewhere through a private folder that is removed as soon as the key is loaded.
Such a folder is named for the process that made it (``mxtui-lab-tls-PID-…``), and one left by a
process that died before removing it (SIGKILL, a power cut) is removed at the start of the next
run: no lab key outlives its process for long, whatever signal ends it.

A client that wants verification to succeed trusts ``LabCertificate.cert_pem`` (or
``client_context()``); one that does not sees an honest "self-signed" failure.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import ipaddress
import os
import re
import shutil
import ssl
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK_SANS: tuple[str, ...] = ("127.0.0.1", "::1")
"""Addresses every lab certificate also names, so a client dialling the IP can verify it."""

VALIDITY_DAYS = 365

FOLDER_PREFIX = "mxtui-lab-tls-"
"""Temporary folders for handing a key to ``ssl`` (where there is no memory file) start so."""

MAX_COMMON_NAME = 64
"""X.509's upper bound for a common name (RFC 5280 ub-common-name); the SAN carries longer names."""

_lock = threading.Lock()


@dataclass(frozen=True)
class LabCertificate:
    """A certificate and its key, as PEM bytes (in memory only)."""

    hostname: str
    cert_pem: bytes
    key_pem: bytes

    def server_context(self) -> ssl.SSLContext:
        """A server-side context presenting this certificate (shared: contexts are reusable)."""
        return _server_context(self.hostname)

    def client_context(self, *, check_hostname: bool = True) -> ssl.SSLContext:
        """A client context that trusts exactly this certificate and nothing else."""
        ctx = ssl.create_default_context(cadata=self.cert_pem.decode("ascii"))
        ctx.check_hostname = check_hostname
        return ctx


def remove_stale_folders(where: str | Path | None = None) -> list[Path]:
    """Remove key folders left by lab processes that are gone (or by older mxtui versions, which
    kept one per process for its whole life); return what was removed."""
    removed = []
    folder = Path(where or tempfile.gettempdir())
    pattern = re.compile(re.escape(FOLDER_PREFIX) + r"(?:(\d+)-)?")
    for path in folder.glob(f"{FOLDER_PREFIX}*"):
        match = pattern.match(path.name)
        if match is None or not path.is_dir() or path.is_symlink():
            continue
        with contextlib.suppress(OSError):
            if path.stat().st_uid != os.getuid():
                continue
            pid = int(match.group(1)) if match.group(1) else None
            if pid is not None and (pid == os.getpid() or _alive(pid)):
                continue  # a live lab is handing its key to ssl right now
            shutil.rmtree(path)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _key_files(cert_pem: bytes, key_pem: bytes) -> Iterator[tuple[str, str]]:
    """Paths ``ssl`` can read the certificate and key from, valid only inside the block."""
    if hasattr(os, "memfd_create") and Path("/proc/self/fd").is_dir():
        fds = [os.memfd_create("mxtui-lab-cert"), os.memfd_create("mxtui-lab-key")]
        try:
            for fd, data in zip(fds, (cert_pem, key_pem), strict=True):
                os.write(fd, data)
            yield f"/proc/self/fd/{fds[0]}", f"/proc/self/fd/{fds[1]}"
        finally:
            for fd in fds:
                os.close(fd)
        return
    folder = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))
    try:
        cert_path, key_path = folder / "lab.crt", folder / "lab.key"
        key_path.touch(mode=0o600)
        key_path.write_bytes(key_pem)
        cert_path.write_bytes(cert_pem)
        yield str(cert_path), str(key_path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@functools.cache
def _private_key() -> ec.EllipticCurvePrivateKey:
    """One P-256 key per process: fast to make, and every TLS stack the lab meets accepts it."""
    return ec.generate_private_key(ec.SECP256R1())


def _build(hostname: str) -> LabCertificate:
    key = _private_key()
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mxtui lab")]
    if len(hostname) <= MAX_COMMON_NAME:
        attributes.insert(0, x509.NameAttribute(NameOID.COMMON_NAME, hostname))
    name = x509.Name(attributes)
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
    return LabCertificate(hostname, cert_pem, key_pem)


_cache: dict[str, LabCertificate] = {}


def lab_certificate(hostname: str = "mx.lab.test") -> LabCertificate:
    """The process's certificate for `hostname` (CN and SAN), also valid for 127.0.0.1 and ::1."""
    hostname = hostname.strip().rstrip(".").lower()
    if not hostname:
        raise ValueError("a lab certificate needs a host name")
    if not hostname.isascii() or not hostname.isprintable():
        raise ValueError(f"a lab certificate needs an A-label host name, not {hostname!r}")
    with _lock:
        found = _cache.get(hostname)
        if found is None:
            if not _cache:
                remove_stale_folders()  # what a killed run may have left
            found = _cache[hostname] = _build(hostname)
        return found


@functools.cache
def _server_context(hostname: str) -> ssl.SSLContext:
    cert = lab_certificate(hostname)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with _key_files(cert.cert_pem, cert.key_pem) as (cert_file, key_file):
        ctx.load_cert_chain(cert_file, key_file)
    return ctx


# ---------------------------------------------------------------------------- the lab CA
#
# MTA-STS (RFC 8461 §4.2) needs certificates that verify by PKIX, and DANE-TA(2) records name a
# CA: for both the lab has its own certificate authority, made once per process in memory. A
# client that trusts `lab_ca().cert_pem` verifies the hosts that present CA-issued certificates.
# Each host name can have several generations of certificate, each with its own key, so a
# scenario can show a certificate rotated without its TLSA record being updated.


@dataclass(frozen=True)
class LabCA:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    cert_pem: bytes


@functools.cache
def lab_ca() -> LabCA:
    """The process's lab CA: a P-256 key and a self-signed CA certificate (CA:TRUE)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "mxtui lab CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mxtui lab"),
        ]
    )
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
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return LabCA(cert, key, cert.public_bytes(serialization.Encoding.PEM))


@dataclass(frozen=True)
class IssuedCertificate:
    """A CA-issued leaf: its certificate, and the chain (leaf then CA) a server presents, with
    its key, as PEM in memory (handed to ``ssl`` like the self-signed ones, see `_key_files`)."""

    hostname: str
    generation: int
    cert: x509.Certificate
    chain_pem: bytes
    key_pem: bytes

    def server_context(self) -> ssl.SSLContext:
        return _issued_context(self.hostname, self.generation)


_issued: dict[tuple[str, int], IssuedCertificate] = {}


def issued_certificate(hostname: str, generation: int = 1) -> IssuedCertificate:
    """The lab CA's certificate for `hostname` (and 127.0.0.1, ::1), generation `generation`.

    Each generation has a key of its own: generation 2 is "the certificate after a rotation".
    """
    hostname = hostname.strip().rstrip(".").lower()
    if not hostname:
        raise ValueError("a lab certificate needs a host name")
    if not 1 <= generation <= 9:
        raise ValueError(f"certificate generation must be 1 to 9, not {generation}")
    with _lock:
        found = _issued.get((hostname, generation))
        if found is None:
            found = _issued[(hostname, generation)] = _issue(hostname, generation)
        return found


def _issue(hostname: str, generation: int) -> IssuedCertificate:
    ca = lab_ca()
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    attributes = [
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mxtui lab"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"key {generation}"),
    ]
    if len(hostname) <= MAX_COMMON_NAME:
        attributes.insert(0, x509.NameAttribute(NameOID.COMMON_NAME, hostname))
    sans: list[x509.GeneralName] = [x509.DNSName(hostname)]
    sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in LOOPBACK_SANS]
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attributes))
        .issuer_name(ca.cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=VALIDITY_DAYS))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    chain_pem = cert.public_bytes(serialization.Encoding.PEM) + ca.cert_pem
    return IssuedCertificate(hostname, generation, cert, chain_pem, key_pem)


@functools.cache
def _issued_context(hostname: str, generation: int) -> ssl.SSLContext:
    issued = issued_certificate(hostname, generation)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with _key_files(issued.chain_pem, issued.key_pem) as (chain_path, key_path):
        ctx.load_cert_chain(chain_path, key_path)
    return ctx


def host_context(hostname: str, certificate: str) -> ssl.SSLContext:
    """The server context a lab host presents: ``self-signed`` (the default), or the lab CA's
    certificate, ``lab-ca`` (generation 1) or ``lab-ca-rotated`` (generation 2, a new key)."""
    if certificate == "self-signed":
        return lab_certificate(hostname).server_context()
    return issued_certificate(hostname, CERTIFICATE_GENERATIONS[certificate]).server_context()


CERTIFICATE_GENERATIONS = {"lab-ca": 1, "lab-ca-rotated": 2}
CERTIFICATES = ("self-signed", *CERTIFICATE_GENERATIONS)
