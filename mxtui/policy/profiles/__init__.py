"""The sending MTAs mxtui can imitate: one module per MTA, registered in `_MODULES`.

Each module (rfc, postfix, postfix20, exim, sendmail, qmail, exchange, opensmtpd) defines
`PROFILE`, a `Profile` holding everything about that MTA: its cells of the decision table
(with evidence), its parameters (a typed `ProfileParams`), its address-ordering and move-on
rules, its retry schedule and its DSN flavour. Adding an MTA means adding one module and
naming it in `_MODULES`.

Here the registry fills in each profile's cells for the situations it leaves to the shared
default (`mxtui.policy.rows`), and refuses, at import, a profile that misses a situation or
names one that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from mxtui.policy.profiles import (
    exchange,
    exim,
    opensmtpd,
    postfix,
    postfix20,
    qmail,
    rfc,
    sendmail,
)
from mxtui.policy.profiles.base import (
    HostShuffle,
    MoveOn,
    Ordering,
    Param,
    ParamKind,
    ParamValue,
    Profile,
    ProfileError,
    ProfileParams,
    RetrySchedule,
    parse_value,
)
from mxtui.policy.rows import SITUATION_KEYS, SITUATIONS

_MODULES = (rfc, postfix, postfix20, sendmail, qmail, exim, exchange, opensmtpd)
"""The profiles, in the order menus and comparisons list them."""


def with_defaults(profile: Profile) -> Profile:
    """`profile` with a cell for every situation: its own, or the situation's shared default.
    Raises ValueError when a situation without a default has no cell, or a cell names an
    unknown situation (a typo in a profile module fails at import, not at a decision)."""
    unknown = set(profile.cells) - SITUATION_KEYS
    if unknown:
        raise ValueError(f"profile {profile.name!r} has cells for unknown rows {sorted(unknown)}")
    cells = dict(profile.cells)
    for situation in SITUATIONS:
        if situation.key in cells:
            continue
        if situation.default is None:
            raise ValueError(f"profile {profile.name!r} lacks a cell for {situation.label!r}")
        cells[situation.key] = situation.default
    ordered = {s.key: cells[s.key] for s in SITUATIONS}
    return replace(profile, cells=MappingProxyType(ordered))


PROFILES: Mapping[str, Profile] = MappingProxyType(
    {p.name: p for p in (with_defaults(m.PROFILE) for m in _MODULES)}
)


def get_profile(name: str | Profile) -> Profile:
    if isinstance(name, Profile):
        return name
    profile = PROFILES.get(name.lower()) if isinstance(name, str) else None
    if profile is None:
        raise ProfileError(f"unknown profile {name!r}; choose one of: {', '.join(PROFILES)}")
    return profile


def parse_params(
    profile: str | Profile, overrides: Mapping[str, object] | ProfileParams | None = None
) -> ProfileParams:
    """The profile's parameters, parsed once into its typed object (see `Profile.parse`)."""
    return get_profile(profile).parse(overrides)


def resolve_params(
    profile: str | Profile, overrides: Mapping[str, object] | ProfileParams | None = None
) -> dict[str, ParamValue]:
    """The profile's defaults with `overrides` applied, by parameter name; unknown names are an
    error, not ignored."""
    return parse_params(profile, overrides).as_dict()


__all__ = [
    "PROFILES",
    "HostShuffle",
    "MoveOn",
    "Ordering",
    "Param",
    "ParamKind",
    "ParamValue",
    "Profile",
    "ProfileError",
    "ProfileParams",
    "RetrySchedule",
    "get_profile",
    "parse_params",
    "parse_value",
    "resolve_params",
    "with_defaults",
]
