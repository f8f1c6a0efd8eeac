"""How the app's own sessions connect and talk: the swaks flags that make sense when stepping by
hand, as typed in the connection dialog (`E`), read by the same functions as `mxtui smtp`
(`mxtui.smtp.flags`), so a value one refuses the other refuses with the same words.

They are `--protocol`, `--pipeline`, `--chunking`, `--tls` / `--tls-optional` /
`--tls-on-connect` (one mode), `--tls-verify` with `--tls-ca-path` and `--tls-verify-host`,
`--tls-cert` / `--tls-key`, `--tls-sni`, `--tls-protocol`, `--tls-cipher` and `--xclient`. The
others have their place elsewhere in the app: the envelope dialog (`e`) holds the sender,
recipients, EHLO name, AUTH, DSN, REQUIRETLS and the whole message (headers and body); the tree
picks the host and the address (so its family: `-4` / `-6`); you step, so `--quit-after` is
the key you stop pressing (`c` sends QUIT). A walk follows its MTA profile, not these.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from mxtui.errors import UsageError
from mxtui.fields import check_name
from mxtui.smtp import flags

if TYPE_CHECKING:
    from mxtui.model import Envelope, Timeouts
    from mxtui.smtp import Dialer, Session


@dataclass(frozen=True)
class Connection:
    """The connection choices as the person typed them (the dialog opens with these; empty text:
    the default). `session_options` reads them; nothing here is parsed twice."""

    protocol: str = "ESMTP"
    """--protocol: SMTP, ESMTP or LMTP."""
    pipeline: bool = False
    """--pipeline: MAIL, the RCPTs and DATA in one write where the server offers PIPELINING."""
    chunking: bool = False
    """--chunking: the message in BDAT chunks where the server offers CHUNKING."""
    tls: str = "optional"
    """none, optional (STARTTLS when offered, as MTAs do), required, or on-connect."""
    tls_verify: bool = False
    """--tls-verify: stop when the certificate does not verify (it is shown either way)."""
    tls_ca_path: str = ""
    tls_verify_host: str = ""
    """The name the certificate must match; empty: the MX host's name."""
    tls_cert: str = ""
    tls_key: str = ""
    tls_sni: str = ""
    tls_protocol: str = ""
    tls_cipher: str = ""
    xclient: str = ""
    """ATTR=VALUE pairs, space- or comma-separated."""

    @property
    def is_default(self) -> bool:
        return self == Connection()

    def session_options(self, trust_pem: bytes | None = None) -> dict[str, Any]:
        """Keyword arguments for `Session`: protocol, pipelining, chunking, the TLS mode, its
        verification and options, the trust (`trust_pem`, the lab's, joined by the CA file),
        XCLIENT. UsageError names the flag of a value that cannot work."""
        if self.tls not in flags.TLS_MODES:
            raise UsageError(f"TLS {self.tls!r}: choose one of {', '.join(flags.TLS_MODES)}")
        if self.tls_verify_host:
            check_name("--tls-verify-host", self.tls_verify_host)
        ca = flags.read_ca(self.tls_ca_path) if self.tls_ca_path else b""
        if ca:
            from mxtui.smtp.tlsinfo import load_trust

            try:
                load_trust(ca)
            except ValueError as exc:
                raise UsageError(f"--tls-ca-path: no certificates in it ({exc})") from None
        trust = b"\n".join(pem for pem in (trust_pem, ca) if pem) or None
        return {
            "protocol": flags.protocol(self.protocol),
            "pipelining": self.pipeline,
            "chunking": self.chunking,
            "tls": self.tls,
            "tls_verify": self.tls_verify,
            "trust_pem": trust,
            "tls_options": flags.tls_options(
                self.tls_cert, self.tls_key, self.tls_sni, self.tls_protocol, self.tls_cipher
            ),
            "xclient": flags.xclient_pairs([self.xclient]),
        }

    def open_session(
        self,
        address: str,
        envelope: Envelope,
        *,
        host: str,
        dialer: Dialer,
        trust_pem: bytes | None = None,
        timeouts: Timeouts | None = None,
        on_event: Any = None,
    ) -> Session:
        """The session to `address` (of MX `host`) with these choices; UsageError as above."""
        from mxtui.smtp.session import Session

        options = self.session_options(trust_pem)
        return Session(address, envelope, dialer=dialer, tls_name=self.tls_verify_host or host,
                       timeouts=timeouts, on_event=on_event, **options)  # fmt: skip

    def summary(self) -> str:
        """What differs from the defaults, in swaks' words ("" when nothing does)."""
        words = []
        if self.protocol.strip().upper() not in ("", "ESMTP"):
            words.append(f"--protocol {self.protocol.strip().upper()}")
        if self.pipeline:
            words.append("--pipeline")
        if self.chunking:
            words.append("--chunking")
        mode = {"none": "no TLS", "required": "--tls", "on-connect": "--tls-on-connect"}
        if self.tls in mode:
            words.append(mode[self.tls])
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name.startswith("tls_") and value:
                words.append(f"--{field.name.replace('_', '-')}")
        if self.xclient:
            words.append("--xclient")
        return " ".join(words)
