"""argparse types shared by the commands: a nameserver, a port, a number of seconds, a count.

Each checks its value once, at the edge, with the message a person needs (argparse prints it
with the usage line and exits 2), so no command repeats the range checks.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from mxtui.endpoint import Endpoint, EndpointError, parse_endpoint, parse_port


def nameserver_type(text: str) -> Endpoint:
    """``HOST[:PORT]`` of a DNS server (port 53 by default)."""
    try:
        return parse_endpoint(text, 53)
    except EndpointError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def port_type(text: str) -> int:
    """A TCP port: 1 to 65535."""
    try:
        return parse_port(text, what=repr(text))
    except EndpointError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def seconds_type(text: str) -> float:
    """A wait: a finite number of seconds above 0 (``nan`` and ``inf`` are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r}: must be a number of seconds more than 0")
    return value


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """The type of a whole number from `low` (to `high`, if given)."""

    def whole(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if high is not None and not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r}: must be from {low} to {high}")
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r}: must be at least {low}")
        return value

    return whole


count_type = whole_number(1)
"""A whole number of at least 1."""


def speed_type(text: str) -> float:
    """A playing speed: a finite number of 0 or more (0: no waiting)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text!r}: must be a number of 0 or more")
    return value


def add_nameserver_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--nameserver",
        metavar="HOST[:PORT]",
        action="append",
        type=nameserver_type,
        default=[],
        help="DNS server to ask instead of the system resolver (repeatable; port 53 by default)",
    )
