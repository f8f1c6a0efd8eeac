"""The stepping SMTP session: dialers, the session, the transcript and its exports."""

from mxtui.smtp.dialer import Dialer, LabDialer, RealDialer, Route
from mxtui.smtp.message import default_message, wire_message
from mxtui.smtp.session import Session
from mxtui.smtp.state import Phase, Transaction
from mxtui.smtp.transcript import Transcript, to_jsonl, to_text

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
