"""A Dovecot-protocol SASL server for a test Postfix, so the real Postfix offers and runs AUTH.

Postfix does not check passwords itself: with ``smtpd_sasl_type = dovecot`` it hands each AUTH
exchange to an authentication server over a small line protocol (Dovecot's auth protocol 1.2:
VERSION / MECH / DONE, then AUTH, CONT, OK, FAIL). This one knows one account and four
mechanisms (PLAIN, LOGIN, CRAM-MD5, XOAUTH2), listens on a loopback port, and records what it
was asked, so the tests can prove what reached the server. Postfix does the SMTP side: the
334 challenges, the 235 and the 535 on the wire are Postfix's own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socketserver
import threading
from typing import Any

from postfix_peer import free_port

MECHS = ("PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2")


def main_cf(port: int) -> str:
    """main.cf lines that make a test Postfix offer AUTH through this server."""
    return (
        "smtpd_sasl_auth_enable = yes\n"
        "smtpd_sasl_type = dovecot\n"
        f"smtpd_sasl_path = inet:127.0.0.1:{port}\n"
        "smtpd_sasl_security_options = noanonymous\n"
        "smtpd_sasl_tls_security_options = noanonymous\n"
        "smtpd_tls_auth_only = no\n"
    )


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        w = self.wfile
        w.write(b"VERSION\t1\t2\n")
        for mech in self.server.mechs:
            w.write(f"MECH\t{mech}\n".encode())
        w.write(b"SPID\t1\nCUID\t1\nCOOKIE\t" + b"0" * 32 + b"\nDONE\n")
        w.flush()
        state: dict[str, dict[str, Any]] = {}
        for _ in range(1000):
            raw = self.rfile.readline(65536)
            if not raw:
                return
            parts = raw.decode("utf-8", "replace").rstrip("\n").split("\t")
            if parts[0] == "AUTH" and len(parts) >= 3:
                rid, mech = parts[1], parts[2].upper()
                args = dict(p.split("=", 1) for p in parts[3:] if "=" in p)
                self.server.seen.append((mech, args.get("resp")))
                state[rid] = {"mech": mech, "step": 0}
                self._step(rid, state[rid], args.get("resp"))
            elif parts[0] == "CONT" and len(parts) >= 2:
                rid = parts[1]
                resp = parts[2] if len(parts) > 2 else ""
                self.server.seen.append(("CONT", resp))
                if rid in state:
                    self._step(rid, state[rid], resp)

    def _send(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\n")
        self.wfile.flush()

    def _done(self, rid: str, ok: bool, user: str) -> None:
        self._send(f"{'OK' if ok else 'FAIL'}\t{rid}\tuser={user}")

    def _step(self, rid: str, st: dict[str, Any], resp: str | None) -> None:
        user, password = self.server.user, self.server.password
        mech = st["mech"]
        data = base64.b64decode(resp) if resp else b""
        if mech == "PLAIN":
            if resp is None:
                self._send(f"CONT\t{rid}\t")
                return
            fields = data.split(b"\0")
            ok = len(fields) == 3 and fields[1:] == [user.encode(), password.encode()]
            self._done(rid, ok, user)
        elif mech == "LOGIN":
            if st["step"] == 0:
                st["step"] = 1
                self._send(f"CONT\t{rid}\t{base64.b64encode(b'Username:').decode()}")
            elif st["step"] == 1:
                st["step"], st["user"] = 2, data
                self._send(f"CONT\t{rid}\t{base64.b64encode(b'Password:').decode()}")
            else:
                self._done(rid, st["user"] == user.encode() and data == password.encode(), user)
        elif mech == "CRAM-MD5":
            if st["step"] == 0:
                st["step"], st["challenge"] = 1, b"<1896.697170952@postfix.test>"
                self._send(f"CONT\t{rid}\t{base64.b64encode(st['challenge']).decode()}")
            else:
                want = hmac.new(password.encode(), st["challenge"], hashlib.md5).hexdigest()
                self._done(rid, data == f"{user} {want}".encode(), user)
        elif mech == "XOAUTH2":
            if st["step"] == 0:
                token = self.server.token
                expected = f"user={user}\x01auth=Bearer {token}\x01\x01".encode()
                if data == expected:
                    self._done(rid, True, user)
                    return
                st["step"] = 1
                error = json.dumps({"status": "401", "schemes": "bearer"}).encode()
                self._send(f"CONT\t{rid}\t{base64.b64encode(error).decode()}")
            else:
                self._done(rid, False, user)
        else:
            self._done(rid, False, user)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, port: int, user: str, password: str, token: str, mechs: tuple[str, ...]
    ) -> None:
        self.user, self.password, self.token, self.mechs = user, password, token, mechs
        self.seen: list[tuple[str, str | None]] = []
        super().__init__(("127.0.0.1", port), _Handler)


class SaslServer:
    """`with SaslServer(user, password, token) as sasl:`; give Postfix `main_cf(sasl.port)`.
    PLAIN, LOGIN and CRAM-MD5 take the password; XOAUTH2 takes the OAuth token."""

    def __init__(
        self, user: str, password: str, token: str, mechs: tuple[str, ...] = MECHS
    ) -> None:
        self.port = free_port()
        self._server = _Server(self.port, user, password, token, mechs)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def seen(self) -> list[tuple[str, str | None]]:
        """(mechanism or "CONT", base64 response) for every AUTH and CONT Postfix passed on."""
        return self._server.seen

    def __enter__(self) -> SaslServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
