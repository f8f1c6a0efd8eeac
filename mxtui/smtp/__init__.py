"""The stepping SMTP session: dialers, the session, the transcript and its exports.

The names are loaded on first use (PEP 562): a module that needs only a small part, such as
`mxtui.smtp.auth`'s list of mechanisms for argument parsing, does not pull in asyncio and
aiosmtplib with the session (``mxtui smtp --help`` and a usage error stay quick).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOME = {
    "Dialer": "mxtui.smtp.dialer",
    "LabDialer": "mxtui.smtp.dialer",
    "RealDialer": "mxtui.smtp.dialer",
    "Route": "mxtui.smtp.dialer",
    "default_message": "mxtui.smtp.message",
    "wire_message": "mxtui.smtp.message",
    "Session": "mxtui.smtp.session",
    "Phase": "mxtui.smtp.state",
    "Transaction": "mxtui.smtp.state",
    "Transcript": "mxtui.smtp.transcript",
    "to_jsonl": "mxtui.smtp.transcript",
    "to_text": "mxtui.smtp.transcript",
}

if TYPE_CHECKING:
    from mxtui.smtp.dialer import Dialer, LabDialer, RealDialer, Route
    from mxtui.smtp.message import default_message, wire_message
    from mxtui.smtp.session import Session
    from mxtui.smtp.state import Phase, Transaction
    from mxtui.smtp.transcript import Transcript, to_jsonl, to_text


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'mxtui.smtp' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__all__ = [
    "Dialer",
    "LabDialer",
    "Phase",
    "RealDialer",
    "Route",
    "Session",
    "Transaction",
    "Transcript",
    "default_message",
    "to_jsonl",
    "to_text",
    "wire_message",
]
