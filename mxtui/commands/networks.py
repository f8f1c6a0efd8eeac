"""The `Network` a headless command talks to, chosen once from its arguments.

``--lab`` is the demo lab, ``--scenario NAME`` a scenario's lab, anything else the real network
(with ``--nameserver`` and ``--port`` when the command has them, else the settings' own).
After this, a command only asks the network: its nameservers, its dialer, its relays.
"""

from __future__ import annotations

import argparse
from typing import Any

from mxtui.network import Network, RealNetwork


def network_for(args: argparse.Namespace, scenario: Any = None, *, smtp: bool = True) -> Network:
    """The lab (`--lab`, or `scenario`'s) or the real network (`--nameserver`, `--port`).

    `smtp=False` for a command that only asks DNS: the lab then starts no mail hosts."""
    if scenario is not None:
        lab: Network = scenario.lab()
        return lab
    if getattr(args, "lab", False):
        from mxtui.lab.runtime import Lab

        return Lab() if smtp else Lab(hosts={})
    settings = getattr(args, "settings", None)
    nameservers = getattr(args, "nameserver", None) or (settings.nameservers if settings else ())
    port = getattr(args, "port", None) or (settings.port if settings else 25)
    return RealNetwork(nameservers, port)
