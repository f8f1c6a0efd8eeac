"""Helpers shared by the session tests (a module of its own: `conftest` is not importable)."""

from __future__ import annotations

from typing import Any

from mxtui.lab.certs import lab_certificate
from mxtui.lab.hosts import LabSMTP
from mxtui.model import Envelope, Limits, SessionEvent, Timeouts
from mxtui.smtp import LabDialer, Session

LAB_ADDRESS = "192.0.2.10"
QUICK = Timeouts(connect=2.0, reply=2.0)


def envelope(*recipients: str, **kw: Any) -> Envelope:
    return Envelope("sender@example.org", recipients or ("rcpt@example.com",), **kw)


class SessionFactory:
    """Builds a Session to one lab host through a LabDialer, collecting its events."""

    def __init__(self, lab: LabSMTP) -> None:
        self.lab = lab
        self.events: list[SessionEvent] = []

    def __call__(self, name: str, env: Envelope | None = None, **kw: Any) -> Session:
        dialer = LabDialer({LAB_ADDRESS: self.lab.endpoints[name]})
        kw.setdefault("timeouts", QUICK)
        kw.setdefault("tls_name", "mx.lab.test")
        kw.setdefault("limits", Limits())
        kw.setdefault("on_event", self.events.append)
        return Session(LAB_ADDRESS, env or envelope(), dialer=dialer, **kw)


def lab_trust() -> bytes:
    return lab_certificate("mx.lab.test").cert_pem
