"""The one default envelope, for the app, the settings and the commands.

In the lab the envelope is the lab's own: ``sender@client.lab.test`` to ``alice@DOMAIN``, EHLO
``client.lab.test`` (names that exist nowhere else). Towards a real domain it is swaks' habit:
the user's login name at this host's fully qualified name, EHLO with that name, and the
domain's ``postmaster`` (which RFC 5321 §4.5.1 requires to exist) as the recipient. A setting
or an argument replaces any part; an empty sender is the null sender ``<>``.

The message is not part of the default: an envelope without one gets a test message made from
the envelope when it is sent (`mxtui.smtp.message.default_message`), so its From and To headers
always follow the envelope unless the person wrote a message of their own.
"""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass, replace
from functools import cache

from mxtui.model.smtp import Envelope

LAB_SENDER = "sender@client.lab.test"
LAB_EHLO = "client.lab.test"
LAB_RECIPIENT = "alice"
REAL_RECIPIENT = "postmaster"


@cache
def this_host() -> str:
    """This machine's fully qualified name (what swaks and an MTA say in EHLO)."""
    name = socket.getfqdn() or socket.gethostname() or "localhost"
    return name.rstrip(".")


def login_name() -> str:
    """The user's login name, as swaks takes it (``$LOGNAME``), or "mxtui" when none is known."""
    try:
        return getpass.getuser() or "mxtui"
    except (KeyError, OSError):
        return "mxtui"


def default_sender() -> str:
    """The sender of a real conversation when none is given: login@this-host (swaks' default).

    `mxtui smtp` without ``--from`` uses this, and says so.
    """
    return f"{login_name()}@{this_host()}"


@dataclass(frozen=True)
class EnvelopeChoice:
    """What the person set of the envelope (settings, arguments); None: the default."""

    mail_from: str | None = None
    recipients: tuple[str, ...] = ()
    ehlo: str | None = None


def default_envelope(domain: str, *, lab: bool, chosen: EnvelopeChoice | None = None) -> Envelope:
    """The envelope for a walk or a session to `domain` (see the module docstring)."""
    domain = domain.strip().rstrip(".") or "example.com"
    if lab:
        envelope = Envelope(LAB_SENDER, (f"{LAB_RECIPIENT}@{domain}",), LAB_EHLO)
    else:
        envelope = Envelope(default_sender(), (f"{REAL_RECIPIENT}@{domain}",), this_host())
    if chosen is None:
        return envelope
    return replace(
        envelope,
        mail_from=envelope.mail_from if chosen.mail_from is None else chosen.mail_from,
        recipients=chosen.recipients or envelope.recipients,
        ehlo_name=chosen.ehlo or envelope.ehlo_name,
    )
