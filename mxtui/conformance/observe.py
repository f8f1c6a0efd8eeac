"""What a sender did in one case, in one vocabulary for every MTA and for the walk.

Each MTA's runner reads its own log into an `MtaRun`: the connections it made in order (`Dial`),
each recipient's end (`RecipientSeen`: delivered, deferred or bounced, with the DSN status),
the window in which its first retry falls, and the log lines worth showing. The hosts'
transcripts (what each connection said and heard) are added by the harness, the same way for
the MTA and for the walk.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from mxtui.smtp.replies import ENHANCED


@dataclass(frozen=True)
class Dial:
    """One connection attempt: the MX name (as the sender logged it), the address, and why it
    failed before any reply, if it did ("" when it connected)."""

    host: str
    address: str
    error: str = ""


@dataclass(frozen=True)
class RecipientSeen:
    """How one recipient's first delivery attempt ended."""

    state: str
    """delivered, deferred or bounced."""
    dsn: str = ""
    """The enhanced status the sender gave it (its log's, or the bounce's `Status:`)."""
    text: str = ""
    """The sender's own words for it."""
    bounce_status: str = ""
    """`Status:` of the delivery status notification the sender got, when one came."""

    def with_bounce_status(self, status: str) -> RecipientSeen:
        return replace(self, bounce_status=status)


@dataclass(frozen=True)
class Passed:
    """One decision the walk took: the row of the decision table (stage, outcome class), the
    cell code it used, and whether the profile's limits, not the end of the list, made that
    address the last one ("limit"; "last" at the list's end; "" when it was not final)."""

    stage: str
    outcome: str
    cell: str
    final: str = ""


@dataclass
class MtaRun:
    """One message's first delivery attempt by one sender."""

    dials: list[Dial]
    recipients: dict[str, RecipientSeen]
    retry: tuple[int, int] | None = None
    """Seconds after arrival: the earliest and the latest the first retry can happen."""
    log: list[str] = field(default_factory=list)
    sessions: list[list[list[str]] | None] = field(default_factory=list)
    """One transcript per dial, in dial order ([command, reply] pairs); None where no host
    took the connection."""
    order: list[str] = field(default_factory=list)
    """The walk's try list (addresses in order); empty for a real MTA, whose list is unseen."""
    decisions: list[Passed] = field(default_factory=list)
    """The walk's decisions in order: the rows of the decision table it went through (empty
    for a real MTA). What a case proves of a profile's cells is read from these."""

    def to_json(self) -> dict[str, Any]:
        return {
            "dials": [asdict(d) for d in self.dials],
            "recipients": {r: asdict(s) for r, s in self.recipients.items()},
            "retry": list(self.retry) if self.retry else None,
            "log": self.log,
            "sessions": self.sessions,
            "order": self.order,
            "decisions": [asdict(d) for d in self.decisions],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MtaRun:
        return cls(
            dials=[Dial(**d) for d in data["dials"]],
            recipients={r: RecipientSeen(**s) for r, s in data["recipients"].items()},
            retry=tuple(data["retry"]) if data.get("retry") else None,  # type: ignore[arg-type]
            log=list(data.get("log", [])),
            sessions=list(data.get("sessions", [])),
            order=list(data.get("order", [])),
            decisions=[Passed(**d) for d in data.get("decisions", [])],
        )


def attach_sessions(
    dials: list[Dial], transcripts: dict[str, list[list[list[str]]]]
) -> list[list[list[str]] | None]:
    """Each dial's transcript: the n-th dial to an address took that host's n-th connection.

    None for a dial no host took (refused, black hole); an empty list for one a host took
    without a word said (it never greeted, or it reset the connection first).
    """
    used: dict[str, int] = {}
    out: list[list[list[str]] | None] = []
    for dial in dials:
        taken = transcripts.get(dial.address, [])
        n = used.get(dial.address, 0)
        if n >= len(taken):
            out.append(None)
            continue
        used[dial.address] = n + 1
        out.append(taken[n])
    return out


_FINAL = re.compile(r"^Final-Recipient:\s*rfc822;\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_STATUS = re.compile(rf"^Status:\s*({ENHANCED})(?!\d)", re.IGNORECASE | re.MULTILINE)


def dsn_statuses(raw: bytes) -> dict[str, str]:
    """Recipient → `Status:` from a bounce's message/delivery-status part (RFC 3464)."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    out: dict[str, str] = {}
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        blocks = [str(p) for p in payload] if isinstance(payload, list) else [str(payload or "")]
        for block in blocks:
            final, status = _FINAL.search(block), _STATUS.search(block)
            if final and status:
                out[final.group(1).strip("<>").lower()] = status.group(1)
    return out


def read_dsn_statuses(folder: Path) -> dict[str, str]:
    """Every bounce under `folder` (Maildir files or mbox files), read for its statuses."""
    out: dict[str, str] = {}
    if not folder.exists():
        return out
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        pieces = re.split(rb"(?m)^From [^\n]*\n", data) if data.startswith(b"From ") else [data]
        for piece in pieces:
            if piece.strip():
                out.update(dsn_statuses(piece))
    return out
