"""What the person chose, in one frozen value: the profile, its parameters, the envelope, the seed
and the walk's speed.

Each is parsed once where it comes in (settings, arguments, a scenario, a key) and travels as a
typed object: the profile as a `Profile`, its parameters as `ProfileParams`, never re-read from
a name or a string downstream. A change is a new `Choices` (`with_profile`, `with_envelope`,
…), so whoever holds the old one (a walk in progress) keeps a consistent view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

from mxtui.desk.connection import Connection
from mxtui.desk.envelope import EnvelopeChoice, default_envelope
from mxtui.model.smtp import Envelope
from mxtui.policy import PROFILES, Profile, ProfileParams, get_profile

SPEEDS = (0.0, 0.15, 0.4, 0.8, 1.5)
"""Seconds between walk steps when running, fastest first; `+`/`-` move along it."""
DEFAULT_SPEED = SPEEDS[2]

EnvelopeSource = Literal["default", "scenario", "person"]
"""Where the envelope came from: the default for the domain (with the settings' parts), a
scenario, or the person (the envelope editor, or a command line). Only a default one follows a
new domain."""


@dataclass(frozen=True)
class Choices:
    """Every choice the desk acts on (see the module docstring).

    `params` holds the parsed parameters by profile name; a profile not named there uses its
    defaults. `chosen` is what the settings or arguments set of the envelope, kept so that a new
    domain gets a fresh default envelope with the same parts replaced.
    """

    profile: Profile
    envelope: Envelope
    lab: bool = True
    """The envelope's default is the lab's (True) or a real one."""
    params: Mapping[str, ProfileParams] = field(default_factory=lambda: MappingProxyType({}))
    seed: int | None = None
    speed: float = DEFAULT_SPEED
    chosen: EnvelopeChoice = field(default_factory=EnvelopeChoice)
    source: EnvelopeSource = "default"
    scenario: str | None = None
    """The scenario these choices came from, if any (named in a recording)."""
    connection: Connection = field(default_factory=Connection)
    """How the sessions the person steps connect and talk (protocol, PIPELINING, TLS, …); a
    walk follows its profile instead."""

    @classmethod
    def make(
        cls,
        domain: str,
        *,
        lab: bool,
        profile: str | Profile = "postfix",
        chosen: EnvelopeChoice | None = None,
        params: Mapping[str, Mapping[str, object]] | None = None,
        envelope: Envelope | None = None,
        scenario: str | None = None,
    ) -> Choices:
        """Choices for `domain` from settings and arguments (`chosen`, `profile`, `params`),
        or with an `envelope` given whole (a scenario's, or a command line's)."""
        prof = get_profile(profile)
        parsed = {name: get_profile(name).parse(values) for name, values in (params or {}).items()}
        chosen = chosen or EnvelopeChoice()
        return cls(
            profile=prof,
            envelope=envelope or default_envelope(domain, lab=lab, chosen=chosen),
            lab=lab,
            params=MappingProxyType(parsed),
            chosen=chosen,
            source="default" if envelope is None else ("scenario" if scenario else "person"),
            scenario=scenario,
        )

    @property
    def values(self) -> ProfileParams:
        """The chosen profile's parameters, parsed."""
        return self.params_of(self.profile)

    def params_of(self, profile: str | Profile) -> ProfileParams:
        prof = get_profile(profile)
        return self.params.get(prof.name) or prof.parse(None)

    def with_profile(self, profile: str | Profile) -> Choices:
        """The same choices under another profile (its parameters as set, or its defaults)."""
        return replace(self, profile=get_profile(profile))

    def next_profile(self) -> Choices:
        """The next profile in menu order, wrapping round (the `p` key)."""
        names = list(PROFILES)
        index = names.index(self.profile.name) if self.profile.name in names else -1
        return self.with_profile(names[(index + 1) % len(names)])

    def with_params(self, profile: str | Profile, values: Mapping[str, object]) -> Choices:
        """Parameters of `profile` set (parsed here; a bad one raises ProfileError)."""
        prof = get_profile(profile)
        params = {**self.params, prof.name: prof.parse(values)}
        return replace(self, params=MappingProxyType(params))

    def with_envelope(self, envelope: Envelope) -> Choices:
        """The person's own envelope: it stays when the domain changes."""
        return replace(self, envelope=envelope, source="person")

    def with_connection(self, connection: Connection) -> Choices:
        """The person's connection choices (the `E` dialog): they stay for other domains."""
        return replace(self, connection=connection)

    def with_seed(self, seed: int | None) -> Choices:
        return replace(self, seed=seed)

    def with_speed(self, step: int) -> Choices:
        """`step` places along `SPEEDS` (negative: faster), within its ends."""
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else SPEEDS.index(DEFAULT_SPEED)
        return replace(self, speed=SPEEDS[min(max(i + step, 0), len(SPEEDS) - 1)])

    def for_domain(self, domain: str, *, lab: bool) -> Choices:
        """The choices for another domain: a default envelope is made again for it (lab or
        real); a scenario's or the person's own envelope stays as it is."""
        if self.source != "default" and lab == self.lab:
            return self
        envelope = default_envelope(domain, lab=lab, chosen=self.chosen)
        return replace(self, envelope=envelope, lab=lab, source="default")
