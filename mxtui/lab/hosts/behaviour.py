"""What a lab host does (`HostBehaviour`, read from a scenario's host table) and what it
received (`ReceivedMessage`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

from mxtui.lab.certs import CERTIFICATES
from mxtui.policy import PROFILES
from mxtui.smtp.replies import single_line_reply

Kind = Literal[
    "accept",
    "refuse",
    "silent",
    "greet-421",
    "greet-554",
    "greet-521",
    "greylist",
    "known-users",
    "slow",
    "drop",
    "rcpt-limit",
    "size-limit",
]
DropStage = Literal["greeting", "ehlo", "mail", "rcpt", "data", "dot"]

KINDS: tuple[str, ...] = get_args(Kind)
DROP_STAGES: tuple[str, ...] = get_args(DropStage)


@dataclass(frozen=True)
class HostBehaviour:
    """What one lab host does; `kind` picks the behaviour, the other fields tune it."""

    kind: Kind
    users: tuple[str, ...] = ()
    """known-users: accepted local parts (any domain) or full addresses (case-insensitive)."""
    greylist_delay_s: float = 300
    """greylist: the same (client ip, from, to) triplet passes once this much time has gone by."""
    delay_s: float = 0
    """slow: added before every reply, the greeting included."""
    drop_at: DropStage | None = None
    """drop: where the connection is cut without a reply."""
    max_recipients: int = 0
    """rcpt-limit: recipients accepted per transaction; the next gets 452 4.5.3."""
    max_size: int = 0
    """size-limit: advertised as SIZE; a bigger message gets 552 5.3.4."""
    starttls: bool = True
    """Offer STARTTLS with a certificate made at start-up (see certs.py)."""
    auth: tuple[str, str] | None = None
    """(user, password): advertise AUTH PLAIN LOGIN and accept only this account."""
    hostname: str = "mx.lab.test"
    """The name in the greeting, the EHLO reply and the certificate."""
    rcpt_replies: tuple[tuple[str, str], ...] = ()
    """Any kind: (local part or full address, reply) pairs answering RCPT for those recipients;
    the reply is "accept" or one line "CODE text" (2xx, 4xx or 5xx), sent as written apart from
    the enhanced code added when it lacks one. Others get the kind's own answer."""
    enhanced_codes: bool = True
    """False: advertise no ENHANCEDSTATUSCODES and send none (as Exim does)."""
    replies: tuple[tuple[str, str], ...] = ()
    """Any kind: (stage, reply) pairs, stage one of REPLY_STAGES, answering that command with the
    reply line as written (plus an enhanced code when it lacks one) instead of the kind's own."""
    up_after_s: float = 0
    """Any kind but refuse: refuse connections until the host's clock reaches this time."""
    relay: bool = False
    """A store-and-forward host (backup MX): the walk makes its onward delivery as a next hop."""
    relay_profile: str = "postfix"
    """relay: the MTA profile of that onward delivery."""
    certificate: str = "self-signed"
    """The STARTTLS certificate: ``self-signed``, or the lab CA's, ``lab-ca`` or
    ``lab-ca-rotated`` (a new key, as after a rotation); see `mxtui.lab.certs.host_context`."""
    lmtp: bool = False
    """Speak LMTP (RFC 2033): LHLO instead of EHLO, and one reply per recipient after the
    message (from `lmtp_replies`, else 250)."""
    lmtp_replies: tuple[tuple[str, str], ...] = ()
    """lmtp: (local part or full address, reply line) pairs: that recipient's reply after the
    message (a mailbox over quota, say), as `rcpt_replies` are at RCPT."""
    requiretls: bool = False
    """Advertise REQUIRETLS (RFC 8689) and take MAIL FROM's REQUIRETLS parameter."""

    def __post_init__(self) -> None:
        if self.certificate not in CERTIFICATES:
            raise ValueError(
                f"certificate {self.certificate!r} is not one of: {', '.join(CERTIFICATES)}"
            )
        if self.kind not in KINDS:
            raise ValueError(f"unknown host kind {self.kind!r} (one of: {', '.join(KINDS)})")
        if self.kind == "drop" and self.drop_at not in DROP_STAGES:
            raise ValueError(f"kind 'drop' needs drop_at, one of: {', '.join(DROP_STAGES)}")
        if self.drop_at is not None and self.kind != "drop":
            raise ValueError(f"drop_at is only meaningful for kind 'drop', not {self.kind!r}")
        if self.kind == "rcpt-limit" and self.max_recipients < 1:
            raise ValueError("kind 'rcpt-limit' needs max_recipients >= 1")
        if self.kind == "size-limit" and self.max_size < 1:
            raise ValueError("kind 'size-limit' needs max_size >= 1")
        if self.kind == "known-users" and not self.users:
            raise ValueError("kind 'known-users' needs at least one entry in users")
        for name in ("greylist_delay_s", "delay_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.auth is not None and (
            len(self.auth) != 2 or not all(isinstance(x, str) and x for x in self.auth)
        ):
            raise ValueError("auth must be a (user, password) pair of non-empty strings")
        if not self.hostname or any(c.isspace() for c in self.hostname):
            raise ValueError(f"hostname {self.hostname!r} must be one word")
        for who, reply in self.rcpt_replies:
            if not who or any(c.isspace() for c in who):
                raise ValueError(f"rcpt_replies: {who!r} must be a local part or an address")
            if reply != "accept" and not single_line_reply(reply):
                raise ValueError(
                    f'rcpt_replies: {who!r} must map to "accept" or one reply line like '
                    f'"550 5.1.1 text" (2xx, 4xx or 5xx), not {reply!r}'
                )
        for stage, reply in self.replies:
            if stage not in REPLY_STAGES:
                raise ValueError(f"replies: {stage!r} is not one of: {', '.join(REPLY_STAGES)}")
            if not single_line_reply(reply, (4, 5)):
                raise ValueError(
                    f"replies: {stage!r} must map to one 4xx or 5xx reply line like "
                    f'"451 4.3.0 text", not {reply!r}'
                )
        if self.up_after_s < 0:
            raise ValueError("up_after_s must not be negative")
        if self.up_after_s and self.kind == "refuse":
            raise ValueError("up_after_s makes no sense for kind 'refuse' (it never comes up)")
        if self.relay_profile not in PROFILES:
            raise ValueError(
                f"relay_profile {self.relay_profile!r} is not one of: {', '.join(PROFILES)}"
            )
        for who, reply in self.lmtp_replies:
            if not self.lmtp:
                raise ValueError("lmtp_replies needs lmtp = true")
            if not who or not single_line_reply(reply):
                raise ValueError(f"lmtp_replies: {who!r} must map to one reply line like "
                                 f'"452 4.2.2 Mailbox full", not {reply!r}')  # fmt: skip
        if self.relay and self.kind == "refuse":
            raise ValueError("a refuse host cannot be a relay (it never takes a message)")

    def rcpt_reply(self, address: str) -> str | None:
        """The scripted RCPT reply for `address` ("accept" or a reply line), None if unlisted.

        A full address wins over a local part, as in `known-users`.
        """
        return _scripted(self.rcpt_replies, address)

    def lmtp_reply(self, address: str) -> str | None:
        """The scripted LMTP reply after the message for `address`, None if unlisted."""
        return _scripted(self.lmtp_replies, address)

    def reply_at(self, stage: str) -> str | None:
        """The scripted reply for a stage (see `replies`), None when the kind answers."""
        return dict(self.replies).get(stage)


def _scripted(table: tuple[tuple[str, str], ...], address: str) -> str | None:
    addr = address.lower()
    local = addr.rpartition("@")[0] if "@" in addr else addr
    by_local = None
    for who, reply in table:
        who = who.lower()
        if who == addr:
            return reply
        if "@" not in who and who == local and by_local is None:
            by_local = reply
    return by_local


REPLY_STAGES = ("mail", "rcpt", "data", "dot")
"""Stages whose reply `HostBehaviour.replies` can script."""


def relay_profiles(hosts: Mapping[str, HostBehaviour]) -> dict[str, str]:
    """The relay hosts among `hosts` (address → the profile of their onward delivery): what
    `Walk(relays=...)` takes to show a backup MX's second hop."""
    return {address: b.relay_profile for address, b in hosts.items() if b.relay}


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "kind": (str,),
    "users": (list, tuple),
    "greylist_delay_s": (int, float),
    "delay_s": (int, float),
    "drop_at": (str,),
    "max_recipients": (int,),
    "max_size": (int,),
    "starttls": (bool,),
    "auth": (list, tuple, dict),
    "hostname": (str,),
    "rcpt_replies": (dict,),
    "enhanced_codes": (bool,),
    "replies": (dict,),
    "up_after_s": (int, float),
    "relay": (bool,),
    "relay_profile": (str,),
    "certificate": (str,),
    "lmtp": (bool,),
    "lmtp_replies": (dict,),
    "requiretls": (bool,),
}


def behaviour_from_dict(d: Mapping[str, Any]) -> HostBehaviour:
    """Build a HostBehaviour from a scenario table, with a one-line ValueError for bad input.

    `auth` may be ``["user", "password"]`` or ``{user = "...", password = "..."}``;
    `rcpt_replies` is a table ``{ bob = "450 4.2.1 ...", "carol@x.example" = "accept" }``.
    """
    known = {f.name for f in fields(HostBehaviour)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(
            f"unknown host setting(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(known))}"
        )
    if "kind" not in d:
        raise ValueError("a host needs a 'kind'")
    values: dict[str, Any] = {}
    for key, value in d.items():
        types = _FIELD_TYPES[key]
        is_bool = isinstance(value, bool)
        if not isinstance(value, types) or (is_bool and bool not in types):
            wanted = " or ".join(t.__name__ for t in types)
            raise ValueError(f"host setting {key!r} must be {wanted}, not {value!r}")
        values[key] = value
    if "users" in values:
        if not all(isinstance(u, str) and u for u in values["users"]):
            raise ValueError("host setting 'users' must be a list of non-empty strings")
        values["users"] = tuple(values["users"])
    if "auth" in values:
        auth = values["auth"]
        if isinstance(auth, dict):
            extra = set(auth) - {"user", "password"}
            if extra or not {"user", "password"} <= set(auth):
                raise ValueError("host setting 'auth' needs exactly 'user' and 'password'")
            auth = (auth["user"], auth["password"])
        values["auth"] = tuple(auth)
    if "rcpt_replies" in values:
        table = values["rcpt_replies"]
        if not all(isinstance(v, str) for v in table.values()):
            raise ValueError("host setting 'rcpt_replies' must map recipients to reply strings")
        values["rcpt_replies"] = tuple((str(k).lower(), v) for k, v in table.items())
    if "lmtp_replies" in values:
        table = values["lmtp_replies"]
        if not all(isinstance(v, str) for v in table.values()):
            raise ValueError("host setting 'lmtp_replies' must map recipients to reply strings")
        values["lmtp_replies"] = tuple((str(k).lower(), v) for k, v in table.items())
    if "replies" in values:
        table = values["replies"]
        if not all(isinstance(v, str) for v in table.values()):
            raise ValueError("host setting 'replies' must map stages to reply strings")
        values["replies"] = tuple((str(k).lower(), v) for k, v in table.items())
    return HostBehaviour(**values)


@dataclass(frozen=True)
class ReceivedMessage:
    """A message a lab host accepted at the end of DATA, as the envelope and bytes arrived."""

    mail_from: str
    recipients: tuple[str, ...]
    data: bytes
    """The message after dot-unstuffing, line endings as sent."""
    peer: tuple[str, int]
    helo: str | None = None
    tls: bool = False
    auth_user: str | None = None
    queue_id: str = ""
