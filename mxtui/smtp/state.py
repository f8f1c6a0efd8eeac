"""Where a session stands: the connection's `Phase` and the current mail `Transaction`.

A sending MTA's path is a sequence (connect, greeting, hello, STARTTLS, AUTH, then MAIL, RCPT…,
DATA, the dot, QUIT), and a refusal anywhere ends it with QUIT. Twelve booleans used to say
where a session was, with combinations that meant nothing (greeted but not attempted); a phase
for the connection and a small record for the transaction say it with one value each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from mxtui.model import Stage


class Phase(Enum):
    """The connection's place on the standard path."""

    IDLE = "idle"
    """connect() has not been tried."""
    GREETING = "greeting"
    """Connected; the greeting is awaited."""
    HELLO = "hello"
    """Greeted with 2xx (or TLS just started): EHLO is due."""
    HELO = "helo"
    """EHLO was refused with a 5xx: HELO is due (RFC 5321 §3.2)."""
    READY = "ready"
    """Hello said: STARTTLS and AUTH where due, then the transaction."""
    ENDING = "ending"
    """A refusal ended the standard path: QUIT is all that is left."""
    CLOSED = "closed"
    """The connection is over, never came, or QUIT was sent."""


class TxStep(Enum):
    """How far the current mail transaction has come."""

    MAIL = "mail"
    """MAIL FROM is due."""
    RCPT = "rcpt"
    """MAIL was accepted: recipients, then DATA (or BDAT)."""
    MESSAGE = "message"
    """DATA got its 354: the message and its end are due."""
    DONE = "done"
    """The message was written (whatever the reply)."""


@dataclass
class Transaction:
    """One mail transaction, from MAIL to the end of the message; RSET or a new MAIL starts a
    fresh one (RFC 5321 §4.1.1.5)."""

    step: TxStep = TxStep.MAIL
    recipients_sent: int = 0
    accepted: list[str] = field(default_factory=list)

    def next_stage(self, recipients: tuple[str, ...], *, skip_data: bool = False) -> Stage:
        """The next stage of the transaction; `skip_data` when the message goes by BDAT
        (RFC 3030), which needs no DATA command before it."""
        if self.step is TxStep.MAIL:
            return Stage.MAIL
        if self.step is TxStep.RCPT:
            if self.recipients_sent < len(recipients):
                return Stage.RCPT
            if not self.accepted:
                return Stage.QUIT
            return Stage.DOT if skip_data else Stage.DATA
        if self.step is TxStep.MESSAGE:
            return Stage.DOT
        return Stage.QUIT
