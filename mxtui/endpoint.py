"""An `Endpoint`: a host and a port, parsed once from ``HOST[:PORT]`` and written one way.

Nameservers, SMTP servers and lab hosts are all endpoints. The text form puts an IPv6 address
in brackets (``[2001:db8::1]:53``), so the port can never be read as part of the address.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import NamedTuple

from mxtui.errors import UsageError
from mxtui.fields import forbidden_character
from mxtui.text import printable


class EndpointError(UsageError):
    """A HOST[:PORT] text that cannot be used; the message says why."""


class Endpoint(NamedTuple):
    """A host (an IP address, or a name) and a port. A tuple, so `host, port = endpoint`."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def text(self, default_port: int) -> str:
        """The text form, without the port when it is `default_port` (as a user writes it)."""
        if self.port != default_port:
            return str(self)
        return f"[{self.host}]" if ":" in self.host else self.host


def parse_port(text: str, *, what: str = "port") -> int:
    """A TCP port from text: a whole number from 1 to 65535."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 5 and 0 < int(text) < 65536):
        raise EndpointError(f"{what}: port must be a number from 1 to 65535")
    return int(text)


def split_endpoint(text: str) -> tuple[str, int | None]:
    """Split ``HOST[:PORT]`` (``[v6]:PORT``, or a bare IPv6 address) into the host and the port
    given, None when none was; no lookup. ``::1`` is an address, not host ``:`` port ``1``."""
    text = text.strip()
    if not text:
        raise EndpointError("empty server address")
    bad = forbidden_character(text)
    if bad is not None:
        raise EndpointError(f"{_shown(text)}: contains a control character ({printable(bad)})")
    host, port_text, has_port = text, "", False
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise EndpointError(f"{_shown(text)}: missing ']' after an IPv6 address")
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise EndpointError(f"{_shown(text)}: expected ':PORT' after ']'")
            port_text, has_port = rest[1:], True
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        has_port = True
    if not host:
        raise EndpointError(f"{_shown(text)}: no host before the port")
    if not has_port:
        return host, None
    return host, parse_port(port_text, what=_shown(text))


def resolve_host(host: str, port: int, family: int = 0) -> str:
    """An IP address for `host` (itself when it is one; else one system-resolver lookup, of
    `family` when given: socket.AF_INET or AF_INET6)."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, family=family, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise EndpointError(f"{_shown(host)}: cannot find its address ({exc})") from None
    return str(infos[0][4][0])


def parse_endpoint(text: str, default_port: int) -> Endpoint:
    """``HOST[:PORT]`` as an `Endpoint` whose host is an IP address.

    A host name is looked up once with the system resolver, since dnspython needs addresses.
    """
    host, port = split_endpoint(text)
    port = default_port if port is None else port
    return Endpoint(resolve_host(host, port), port)


def _shown(text: str) -> str:
    return f"'{printable(text)}'"
