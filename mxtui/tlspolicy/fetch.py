"""Fetching an MTA-STS policy over HTTPS (RFC 8461 §3.3), boundedly, with aiohttp.

Why aiohttp: it is already installed with mxtui (textual-serve serves the app with it), it is
asyncio-native like the rest of mxtui, and it lets the two things this fetch needs be set
exactly: the name lookup (`AbstractResolver`: through the same nameservers as the MX tree, and
in the lab through the lab's dialer map to a loopback port, while TLS still checks the
certificate for ``mta-sts.DOMAIN``) and no redirects (``allow_redirects=False``: RFC 8461 §3.3
forbids following them). httpx would add four packages for the same result and needs an
anyio-level transport to change how a name is reached.

Bounds: one wall-clock timeout for the whole fetch, the body read in chunks up to
`POLICY_BYTES` and refused beyond, headers limited by aiohttp's own line limits, no proxies from
the environment, no cookies, one request.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mxtui.text import printable

POLICY_BYTES = 64 * 1024
"""A policy is a few lines; a body larger than this is refused (mxtui's bound: RFC 8461 sets
none, and implementations cap it at 64 KiB or less)."""
CHUNK = 4096

Resolve = Callable[[str], Awaitable[list[str]]]
"""A host name's addresses (IPv4 and IPv6), from the lookup's nameservers."""


@dataclass(frozen=True)
class Fetched:
    url: str
    body: str | None
    """The policy text, or None when the fetch failed (then `error` says why)."""
    error: str = ""
    status: int | None = None


def policy_url(domain: str) -> str:
    return f"https://mta-sts.{domain}/.well-known/mta-sts.txt"


def _resolver_class() -> type:
    from aiohttp.abc import AbstractResolver

    class _Resolver(AbstractResolver):
        """Names through mxtui's own DNS, addresses through the lab's map when there is one."""

        def __init__(self, resolve: Resolve, connect: Mapping[tuple[str, int], tuple[str, int]]):
            self._resolve = resolve
            self._connect = connect

        async def resolve(
            self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
        ) -> list[Any]:
            out = []
            for address in await self._resolve(host):
                where, where_port = self._connect.get((address, port), (address, port))
                out.append(
                    {
                        "hostname": host,
                        "host": where,
                        "port": where_port,
                        "family": socket.AF_INET6 if ":" in where else socket.AF_INET,
                        "proto": 0,
                        "flags": socket.AI_NUMERICHOST,
                    }
                )
            if not out:
                raise OSError(f"{host} has no address")
            return out

        async def close(self) -> None:
            return None

    return _Resolver


async def fetch_policy(
    domain: str,
    resolve: Resolve,
    *,
    timeout: float = 10.0,
    trust_pem: Sequence[bytes] = (),
    connect: Mapping[tuple[str, int], tuple[str, int]] | None = None,
) -> Fetched:
    """GET the policy of `domain`; never raises for anything the network or the server does.

    The certificate must verify for ``mta-sts.DOMAIN`` against the system's CAs (and `trust_pem`,
    the lab CA in the lab): RFC 8461 §3.3.
    """
    import aiohttp

    url = policy_url(domain)
    context = ssl.create_default_context()
    for pem in trust_pem:
        context.load_verify_locations(cadata=pem.decode("ascii"))
    connector = aiohttp.TCPConnector(
        resolver=_resolver_class()(resolve, connect or {}),
        ssl=context,
        limit=1,
        use_dns_cache=False,
    )
    try:
        async with (
            aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=timeout),
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": "mxtui (MTA-STS policy check)"},
            ) as session,
            session.get(url, allow_redirects=False) as response,
        ):
            status = response.status
            if 300 <= status < 400:
                where = printable(response.headers.get("Location", "")[:200])
                return Fetched(url, None, f"redirected ({status}) to {where}: not followed", status)
            if status != 200:
                return Fetched(url, None, f"HTTP status {status}, not 200", status)
            media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if media != "text/plain":
                shown = printable(media[:60]) or "none"
                return Fetched(url, None, f"media type {shown}, not text/plain", status)
            body = bytearray()
            async for chunk in response.content.iter_chunked(CHUNK):
                body += chunk
                if len(body) > POLICY_BYTES:
                    return Fetched(
                        url, None, f"the policy is larger than {POLICY_BYTES} bytes", status
                    )
            charset = response.charset or "utf-8"
            try:
                text = bytes(body).decode(charset, "replace")
            except LookupError:
                text = bytes(body).decode("utf-8", "replace")
            return Fetched(url, text, "", status)
    except TimeoutError:
        return Fetched(url, None, f"no complete answer within {timeout:g} s")
    except aiohttp.ClientConnectorCertificateError as exc:
        return Fetched(
            url, None, printable(f"the certificate does not verify: {exc.certificate_error}")[:300]
        )
    except aiohttp.ClientSSLError as exc:
        return Fetched(url, None, printable(f"TLS failed: {exc}")[:300])
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        return Fetched(url, None, printable(f"{type(exc).__name__}: {exc}")[:300])
