"""The sending MTAs mxtui can imitate, and the parameters of theirs that change an outcome.

A profile is data: a name, what to call it, how it walks the MX list, and its settable
parameters with their defaults and where each is documented. The per-stage rules live in
`mxtui.policy.table`; the retry schedules in `mxtui.policy.retry`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

ParamKind = Literal["bool", "int", "duration"]
ParamValue = bool | int


@dataclass(frozen=True)
class Param:
    """One settable parameter. Durations are held in seconds."""

    name: str
    kind: ParamKind
    default: ParamValue
    source: str
    description: str


@dataclass(frozen=True)
class Profile:
    """One sending MTA's way of delivering.

    `flat_list` is True when the MTA walks one flat list of every MX address in preference
    order (so moving on means "the next address", which may be the same host's other address or
    the next MX); False when, once connected, it moves on host by host ("the next MX").
    """

    name: str
    display: str
    description: str
    mta: str
    flat_list: bool
    params: tuple[Param, ...] = ()
    sends_delay_notice: bool = True
    sources: str = ""

    @property
    def subject(self) -> str:
        """`mta` as the first word of a sentence ("An RFC 5321 client", but "qmail")."""
        return self.mta[0].upper() + self.mta[1:] if self.mta.startswith("an ") else self.mta

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name.lower() == name.lower():
                return p
        return None

    def defaults(self) -> dict[str, ParamValue]:
        return {p.name: p.default for p in self.params}


_D = 86400
_H = 3600

_POSTFIX_PARAMS = (
    Param("smtp_skip_5xx_greeting", "bool", True, "postconf(5) smtp_skip_5xx_greeting",
          "a 5xx greeting is read as 4xx: move on, and defer (not bounce) on the last MX"),
    Param("soft_bounce", "bool", False, "postconf(5) soft_bounce",
          "every bounce becomes a deferral (the mail stays queued)"),
    Param("smtp_mx_address_limit", "int", 5, "postconf(5) smtp_mx_address_limit",
          "how many MX addresses one delivery attempt may try"),
    Param("smtp_mx_session_limit", "int", 2, "postconf(5) smtp_mx_session_limit",
          "how many sessions that got through EHLO/TLS one attempt may use"),
    Param("maximal_queue_lifetime", "duration", 5 * _D, "postconf(5) maximal_queue_lifetime",
          "how long a message may stay queued before it is returned"),
    Param("delay_warning_time", "duration", 0, "postconf(5) delay_warning_time",
          "when to warn the sender of a delay (0 = never)"),
    Param("minimal_backoff_time", "duration", 300, "postconf(5) minimal_backoff_time",
          "shortest wait between attempts"),
    Param("maximal_backoff_time", "duration", 4000, "postconf(5) maximal_backoff_time",
          "longest wait between attempts"),
    Param("queue_run_delay", "duration", 300, "postconf(5) queue_run_delay",
          "how often the deferred queue is scanned"),
)  # fmt: skip

# Postfix 2.0 had the same queue parameters as today's Postfix, with slower recalled defaults,
# and none of the MX limits or the 5xx-greeting switch (those came with 2.1+).
_POSTFIX20_DEFAULTS: dict[str, int] = {"minimal_backoff_time": 1000, "queue_run_delay": 1000}
_POSTFIX20_PARAMS = tuple(
    replace(p, default=_POSTFIX20_DEFAULTS[p.name], source="Postfix 2.0 default (1000s) [M]")
    if p.name in _POSTFIX20_DEFAULTS
    else p
    for p in _POSTFIX_PARAMS
    if p.name not in ("smtp_skip_5xx_greeting", "smtp_mx_address_limit", "smtp_mx_session_limit")
)

_EXIM_PARAMS = (
    Param("hosts_max_try", "int", 5, "Exim spec, smtp transport hosts_max_try",
          "IP addresses tried per delivery attempt (one of each worse preference still tried)"),
    Param("hosts_max_try_hardlimit", "int", 50, "Exim spec, smtp transport",
          "absolute cap on addresses tried per delivery attempt"),
    Param("delay_warning", "duration", 24 * _H, "Exim spec, main option delay_warning",
          "when to warn the sender of a delay (0 = never)"),
    Param("queue_run_interval", "duration", 0, "exim -qNm (Debian: 30m)",
          "queue runner interval; 0 = an ideal runner that retries exactly on time"),
)  # fmt: skip

_SENDMAIL_PARAMS = (
    Param("queue_interval", "duration", 30 * 60, "sendmail -q30m (op guide; Debian 10m)",
          "how often the queue runner retries every queued message"),
    Param("Timeout.queuereturn", "duration", 5 * _D, "sendmail cf/README Timeout.queuereturn",
          "how long a message may stay queued before it is returned"),
    Param("Timeout.queuewarn", "duration", 4 * _H, "sendmail cf/README Timeout.queuewarn",
          "when to warn the sender of a delay (cf default; binary default 0)"),
)  # fmt: skip

_QMAIL_PARAMS = (
    Param("queuelifetime", "duration", 604800, "qmail-send(8) control/queuelifetime",
          "how long a message may stay queued before a temporary failure becomes permanent"),
)  # fmt: skip

_EXCHANGE_PARAMS = (
    Param("QueueGlitchRetryCount", "int", 4, "Set-TransportService -QueueGlitchRetryCount",
          "quick retries after a glitch"),
    Param("QueueGlitchRetryInterval", "duration", 60, "Set-TransportService",
          "wait between glitch retries"),
    Param("TransientFailureRetryCount", "int", 6, "Set-TransportService",
          "retries after a transient failure"),
    Param("TransientFailureRetryInterval", "duration", 300, "Set-TransportService (Edge: 600)",
          "wait between transient-failure retries"),
    Param("OutboundConnectionFailureRetryInterval", "duration", 600,
          "Set-TransportService (Edge: 1800)", "wait between retries after that"),
    Param("MessageExpirationTimeout", "duration", 2 * _D, "Set-TransportService",
          "how long a message may stay queued before an NDR"),
    Param("DelayNotificationTimeout", "duration", 4 * _H, "Set-TransportService",
          "when the sender is told of a delay"),
)  # fmt: skip

_OPENSMTPD_PARAMS = (
    Param("queue_ttl", "duration", 4 * _D, "smtpd.conf(5) queue ttl",
          "how long a message may stay queued (expires at ctime + ttl)"),
    Param("bounce_warn_interval", "duration", 4 * _H, "smtpd.conf(5) bounce warn-interval",
          "when the sender is told of a delay"),
)  # fmt: skip

_RFC_PARAMS = (
    Param("first_retry", "duration", 30 * 60, "RFC 5321 §4.5.4.1 (at least 30 min)",
          "wait before the first retry"),
    Param("retry_interval", "duration", 3 * _H, "RFC 5321 §4.5.4.1 (every 2-3 h)",
          "wait between later retries"),
    Param("give_up", "duration", 5 * _D, "RFC 5321 §4.5.4.1 (at least 4-5 days)",
          "how long to keep trying before returning the message"),
)  # fmt: skip

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("rfc", "RFC 5321", "What the standard requires or suggests, nothing more.",
                "an RFC 5321 client", flat_list=True, params=_RFC_PARAMS,
                sends_delay_notice=False, sources="RFC 5321 §3.8, §4.2, §4.5.4, §5.1"),
        Profile("postfix", "Postfix (current)",
                "Postfix 2.1 and later: moves on after soft failures, bounces on 5xx.",
                "Postfix", flat_list=True, params=_POSTFIX_PARAMS,
                sources="Postfix smtp_connect.c, smtp_proto.c, smtp_trouble.c; postconf(5)"),
        Profile("postfix-2.0", "Postfix 2.0",
                "Postfix 2.0 and earlier: uses a more distant MX only when closer ones could "
                "not be contacted at all.",
                "Postfix 2.0", flat_list=True, params=_POSTFIX20_PARAMS,
                sources="Postfix 2.0 smtp(8) [M]; reference §5"),
        Profile("sendmail", "Sendmail 8.17",
                "Moves to the next MX host on most failures; retries at every queue run.",
                "Sendmail", flat_list=False, params=_SENDMAIL_PARAMS,
                sources="Sendmail deliver.c, usersmtp.c, domain.c; cf/README"),
        Profile("qmail", "qmail (notqmail)",
                "Moves on only when the connection fails; HELO only, no TLS; no delay notices.",
                "qmail", flat_list=True, params=_QMAIL_PARAMS, sends_delay_notice=False,
                sources="notqmail qmail-remote.c, qmail-send.c"),
        Profile("exim", "Exim 4",
                "Tries the next host on any deferral; retry rules F,2h,15m; G,16h,1h,1.5; F,4d,6h.",
                "Exim", flat_list=True, params=_EXIM_PARAMS,
                sources="Exim transports/smtp.c, retry.c; spec ch. 30, 32, 49"),
        Profile("exchange", "Microsoft Exchange",
                "Fails over to another host on connection and session-setup failures; 2-day "
                "expiry. Stage handling partly unverified.",
                "Exchange", flat_list=False, params=_EXCHANGE_PARAMS,
                sources="Microsoft Exchange docs; KB 4051498, KB 4495258"),
        Profile("opensmtpd", "OpenSMTPD 7",
                "Like qmail, but EHLO falls back to HELO and a rejected banner penalises the "
                "route; retries at 400·k² s.",
                "OpenSMTPD", flat_list=True, params=_OPENSMTPD_PARAMS,
                sources="OpenSMTPD mta_session.c, scheduler_ramqueue.c; smtpd.conf(5)"),
    )
}  # fmt: skip


class ProfileError(ValueError):
    """An unknown profile or parameter, or a value that does not fit; the message says which."""


def get_profile(name: str | Profile) -> Profile:
    if isinstance(name, Profile):
        return name
    profile = PROFILES.get(name.lower()) if isinstance(name, str) else None
    if profile is None:
        raise ProfileError(f"unknown profile {name!r}; choose one of: {', '.join(PROFILES)}")
    return profile


_DURATION_RE = re.compile(r"^(\d+)\s*([smhdw]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": _H, "d": _D, "w": 7 * _D}


def parse_value(param: Param, value: object) -> ParamValue:
    """Read a parameter value the way the MTA's own config would write it (yes/no, 5d, 300s)."""
    if param.kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("yes", "true", "1", "on"):
            return True
        if text in ("no", "false", "0", "off"):
            return False
        raise ProfileError(f"{param.name}: expected yes or no, got {value!r}")
    if isinstance(value, bool):
        raise ProfileError(f"{param.name}: expected a number, got {value!r}")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip().lower()
        match = _DURATION_RE.match(text) if param.kind == "duration" else None
        if match:
            number = int(match[1]) * _UNITS[match[2]]
        elif text.isdigit():
            number = int(text)
        else:
            kind = (
                "a duration such as 300s, 30m, 4h or 5d"
                if param.kind == "duration"
                else ("a whole number")
            )
            raise ProfileError(f"{param.name}: expected {kind}, got {value!r}")
    if number < 0 or (param.kind == "int" and number < 1):
        raise ProfileError(f"{param.name}: {value!r} is out of range")
    return number


def resolve_params(
    profile: str | Profile, overrides: Mapping[str, object] | None = None
) -> dict[str, ParamValue]:
    """The profile's defaults with `overrides` applied; unknown names are an error, not ignored."""
    prof = get_profile(profile)
    values = prof.defaults()
    for name, value in (overrides or {}).items():
        param = prof.param(name)
        if param is None:
            known = ", ".join(p.name for p in prof.params) or "none"
            raise ProfileError(
                f"profile {prof.name!r} has no parameter {name!r}; its parameters: {known}"
            )
        values[param.name] = parse_value(param, value)
    return values
