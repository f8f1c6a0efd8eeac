"""Parsing of HOST[:PORT] arguments shared by the commands (no I/O beyond name lookup)."""

from __future__ import annotations

import argparse
import ipaddress
import socket


class EndpointError(ValueError):
    """A HOST[:PORT] argument that cannot be used; the message says why."""


def parse_endpoint(text: str, default_port: int) -> tuple[str, int]:
    """Split ``HOST[:PORT]`` (``[v6]:PORT`` or a bare IPv6 address too) into an IP and a port.

    A host name is looked up once with the system resolver, since dnspython needs addresses.
    """
    text = text.strip()
    if not text:
        raise EndpointError("empty server address")
    host, port_text = text, ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise EndpointError(f"{text!r}: missing ']' after an IPv6 address")
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise EndpointError(f"{text!r}: expected ':PORT' after ']'")
            port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    port = default_port
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise EndpointError(f"{text!r}: port must be a number from 1 to 65535")
        port = int(port_text)
    try:
        return str(ipaddress.ip_address(host)), port
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise EndpointError(f"{host!r}: cannot find its address ({exc})") from None
    return str(infos[0][4][0]), port


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
        help="DNS server to ask instead of the system resolver (repeatable; port 53 by default)",
    )
