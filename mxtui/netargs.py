"""Parsing of HOST[:PORT] arguments shared by the commands (no I/O beyond name lookup)."""

from __future__ import annotations

import argparse
import ipaddress
import socket

from mxtui.fields import forbidden_character
from mxtui.text import printable


class EndpointError(ValueError):
    """A HOST[:PORT] argument that cannot be used; the message says why."""


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
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise EndpointError(f"{_shown(text)}: port must be a number from 1 to 65535")
    return host, int(port_text)


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


def parse_endpoint(text: str, default_port: int) -> tuple[str, int]:
    """Split ``HOST[:PORT]`` (``[v6]:PORT`` or a bare IPv6 address too) into an IP and a port.

    A host name is looked up once with the system resolver, since dnspython needs addresses.
    """
    host, port = split_endpoint(text)
    port = default_port if port is None else port
    return resolve_host(host, port), port


def _shown(text: str) -> str:
    return f"'{printable(text)}'"


def nameserver_type(text: str) -> tuple[str, int]:
    try:
        return parse_endpoint(text, 53)
    except EndpointError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_nameserver_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--nameserver",
        metavar="HOST[:PORT]",
        action="append",
        type=nameserver_type,
        default=[],
        help="DNS server to ask instead of the system resolver or the settings' nameserver "
        "(repeatable; port 53 by default)",
    )
