"""The lab's side of TLS policy: TLSA records that name lab certificates, and an HTTPS host
serving MTA-STS policies on loopback.

A TLSA record must hold a digest of a certificate that exists only once the lab has started, so a
zone names it by a token in the record's data field, replaced when the lab starts:

    _25._tcp.mx1  TLSA  3 1 1  lab:mx1.example.com      ; the host's certificate (generation 1)
    _25._tcp.mx2  TLSA  3 1 1  lab:mx2.example.com@2    ; the rotated one (generation 2)
    _25._tcp.mx3  TLSA  2 0 1  lab:ca                   ; the lab CA (a DANE-TA record)

(`mxtui.lab.tlsa_tokens` replaces them; the lab DNS server does it for every zone it serves.)

The policy host is a small HTTPS server (the lab CA's certificate for ``mta-sts.DOMAIN``) that
answers ``GET /.well-known/mta-sts.txt`` with a policy, or, to show what a sender does then,
with a redirect, an error status, the wrong media type, a body too large, or slowly. It reads at
most a few kilobytes of each request and answers one request per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

from mxtui.lab.certs import host_context

POLICY_PATH = "/.well-known/mta-sts.txt"
_REQUEST_LIMIT = 8192
_READ_TIMEOUT = 10.0


@dataclass(frozen=True)
class PolicySpec:
    """What the lab's policy host answers for one domain."""

    domain: str
    body: str = ""
    """The policy text (RFC 8461 §3.2)."""
    status: int = 200
    content_type: str = "text/plain"
    redirect: str = ""
    """When set, a 301 to this URL instead of the policy (RFC 8461 §3.3: not to be followed)."""
    repeat_body: int = 1
    """The body sent this many times: a policy too large to be one."""
    delay_s: float = 0.0
    """Seconds before the answer."""
    certificate: str = "lab-ca"
    """``lab-ca`` (verifies for mta-sts.DOMAIN) or ``self-signed`` (does not)."""

    @property
    def host(self) -> str:
        return f"mta-sts.{self.domain}"

    def response(self) -> bytes:
        if self.redirect:
            head = f"HTTP/1.1 301 Moved Permanently\r\nLocation: {self.redirect}\r\n"
            return (head + "Content-Length: 0\r\nConnection: close\r\n\r\n").encode()
        body = self.body.encode() * max(1, self.repeat_body)
        reason = "OK" if self.status == 200 else "Error"
        head = (
            f"HTTP/1.1 {self.status} {reason}\r\nContent-Type: {self.content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        return head.encode() + body


class PolicyHost:
    """One HTTPS listener on loopback serving the policies of `specs` (by Host header)."""

    def __init__(self, specs: Mapping[str, PolicySpec], host: str = "127.0.0.1") -> None:
        self.specs = {s.host.lower(): s for s in specs.values()}
        self.host = host
        self.port = 0
        self.requests: list[tuple[str, str]] = []
        """(Host header, path) of every request, for tests and the narrative."""
        self._servers: list[asyncio.Server] = []
        self._ports: dict[str, int] = {}

    def port_for(self, domain: str) -> int:
        return self._ports[f"mta-sts.{domain}".lower()]

    async def start(self) -> None:
        # One listener per policy host name, each presenting that name's certificate.
        for name, spec in self.specs.items():
            context = host_context(name, spec.certificate)
            server = await asyncio.start_server(
                self._serve, self.host, 0, ssl=context, ssl_handshake_timeout=_READ_TIMEOUT
            )
            self._servers.append(server)
            self._ports[name] = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()
        self._servers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _READ_TIMEOUT)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            writer.close()
            return
        lines = request[:_REQUEST_LIMIT].decode("latin-1").split("\r\n")
        parts = lines[0].split()
        path = parts[1] if len(parts) > 1 else ""
        host = (
            next(
                (
                    v.strip()
                    for k, _, v in (x.partition(":") for x in lines[1:])
                    if k.lower() == "host"
                ),
                "",
            )
            .split(":")[0]
            .lower()
        )
        self.requests.append((host, path))
        spec = self.specs.get(host)
        if spec is None or path != POLICY_PATH:
            answer = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        else:
            if spec.delay_s:
                await asyncio.sleep(spec.delay_s)
            answer = spec.response()
        try:
            writer.write(answer)
            await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()
