"""What a profile is made of: the parts every MTA module fills in.

A `Profile` is one sending MTA as one object: its cells of the decision table, its parameters
(a typed, frozen `ProfileParams` subclass, parsed once), how it orders the MX addresses
(`Ordering`), when it stops moving on (`MoveOn`), its retry schedule (`RetrySchedule`), its
bounce's flavour (`DsnFlavour`) and the evidence for all of it. The engine and the walk ask the
profile; they never test its name.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from typing import Any, ClassVar, Literal

from mxtui.errors import UsageError
from mxtui.model import (
    DecisionContext,
    Evidence,
    MXPlan,
    Proof,
    RetryTimeline,
    Stage,
    TryTarget,
)
from mxtui.policy import tested
from mxtui.policy.cells import Cell, RowKey
from mxtui.policy.profiles.tls import TlsRules

ParamKind = Literal["bool", "int", "duration", "choice"]
ParamValue = bool | int | str

H = 3600
D = 86400


class ProfileError(UsageError):
    """An unknown profile or parameter, or a value that does not fit; the message says which."""


# -------------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Param:
    """One settable parameter, named as the MTA's own configuration names it. Durations are
    held in seconds. `attr` is its field on the profile's `ProfileParams` class."""

    name: str
    kind: ParamKind
    default: ParamValue
    source: str
    description: str
    attr: str = ""
    choices: tuple[str, ...] = ()
    """For a ``choice``: the values the MTA accepts (Postfix's TLS security levels…)."""


def setting(
    default: ParamValue,
    kind: ParamKind,
    source: str,
    description: str,
    *,
    name: str = "",
    choices: tuple[str, ...] = (),
) -> Any:
    """A field of a `ProfileParams` class: its default and what the MTA calls it (`name`,
    when that is not a Python name, e.g. Sendmail's Timeout.queuereturn); a ``choice`` lists
    its `choices`."""
    spec = {
        "kind": kind,
        "source": source,
        "description": description,
        "name": name,
        "choices": choices,
    }
    return field(default=default, metadata={"param": spec})


@dataclass(frozen=True)
class ProfileParams:
    """A profile's parameter values, parsed and typed. Each profile subclasses it with one
    field per parameter (made with `setting`); an instance is what the engine, the retry
    schedule and the walk read, so nothing is parsed twice."""

    PARAMS: ClassVar[tuple[Param, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Filled by `specs()` once the dataclass decorator has run.
        cls.PARAMS = ()

    @classmethod
    def specs(cls) -> tuple[Param, ...]:
        if not cls.PARAMS and fields(cls):
            cls.PARAMS = tuple(
                Param(
                    f.metadata["param"]["name"] or f.name,
                    f.metadata["param"]["kind"],
                    f.default,
                    f.metadata["param"]["source"],
                    f.metadata["param"]["description"],
                    f.name,
                    f.metadata["param"].get("choices", ()),
                )
                for f in fields(cls)
            )
        return cls.PARAMS

    def get(self, name: str, default: object = None) -> object:
        """A value by the MTA's own parameter name (case-insensitive), or `default`."""
        for p in self.specs():
            if p.name.lower() == name.lower():
                return getattr(self, p.attr)
        return default

    def __getitem__(self, name: str) -> ParamValue:
        value = self.get(name, _MISSING)
        if value is _MISSING:
            raise KeyError(name)
        return value  # type: ignore[return-value]

    def as_dict(self) -> dict[str, ParamValue]:
        """The values by parameter name, as the MTA names them."""
        return {p.name: getattr(self, p.attr) for p in self.specs()}

    def softens_bounces(self) -> bool:
        """True when every bounce becomes a deferral (Postfix soft_bounce=yes)."""
        return False


_MISSING = object()


class NoParams(ProfileParams):
    """For a profile without settable parameters."""


# fmt: on


_DURATION_RE = re.compile(r"^(\d+)\s*([smhdw]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": H, "d": D, "w": 7 * D}


def parse_value(param: Param, value: object) -> ParamValue:
    """Read a parameter value the way the MTA's own config would write it (yes/no, 5d, 300s)."""
    if param.kind == "choice":
        text = str(value).strip().lower()
        if text in param.choices:
            return text
        shown = ", ".join(c or '""' for c in param.choices)
        raise ProfileError(f"{param.name}: expected one of {shown}, got {value!r}")
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
                else "a whole number"
            )
            raise ProfileError(f"{param.name}: expected {kind}, got {value!r}")
    if number < 0 or (param.kind == "int" and number < 1):
        raise ProfileError(f"{param.name}: {value!r} is out of range")
    return number


# -------------------------------------------------------------------------------- ordering


class Ordering:
    """How an MTA turns the MX plan into its try list for one delivery attempt.

    The default: one flat list of every address in preference order, the addresses of equal
    preference shuffled together (`rng`), an address listed under two MX names dialled once at
    its best place. Subclasses set `families` (which address families the MTA looks up),
    `merge_duplicates`, or override `group` (one preference level) and `finish` (the whole
    list, e.g. Postfix's IPv4/IPv6 balance within its address limit).
    """

    flat: ClassVar[bool] = True
    merge_duplicates: ClassVar[bool] = True
    families: ClassVar[frozenset[int]] = frozenset({4, 6})
    rule: ClassVar[str] = (
        "one flat list of every MX address, lowest preference first; the addresses of equal "
        "preference shuffled together; an address listed under two MX names dialled once"
    )
    evidence: ClassVar[Proof] = Proof(Evidence.VERIFIED, "RFC 5321 §5.1")
    """How the rule is known (a subclass in a profile module cites its MTA's source)."""

    def order(
        self, plan: MXPlan, rng: random.Random, params: ProfileParams | None = None
    ) -> tuple[TryTarget, ...]:
        seen: set[str] = set()
        order: list[TryTarget] = []
        for group in sorted(plan.groups, key=lambda g: g.preference):
            hosts = [
                replace(h, addresses=kept)
                for h in group.hosts
                if (kept := tuple(a for a in h.addresses if a.family in self.families))
            ]
            for entry in self.group(group.preference, hosts, rng):
                if self.merge_duplicates and entry.address in seen:
                    continue
                seen.add(entry.address)
                order.append(entry)
        return self.finish(tuple(order), params)

    def group(self, preference: int, hosts: list[Any], rng: random.Random) -> list[TryTarget]:
        entries = [t for h in hosts for t in h.targets(preference)]
        rng.shuffle(entries)
        return entries

    def finish(
        self, order: tuple[TryTarget, ...], params: ProfileParams | None
    ) -> tuple[TryTarget, ...]:
        return order


def ipv4_after(target: TryTarget) -> bool:
    """Sort key for one host's targets: its IPv6 addresses before its IPv4 ones, each family
    in resolver order (a stable sort keeps it), as getaddrinfo gives them by default."""
    return target.family != 6


class HostShuffle(Ordering):
    """Equal-preference MX *hosts* shuffled, each host's addresses kept together in resolver
    order (the MTA walks host by host)."""

    flat = False
    rule = (
        "MX hosts lowest preference first, hosts of equal preference shuffled, each host's "
        "addresses together in resolver order; an address listed twice dialled once"
    )
    evidence = Proof(
        Evidence.INFERRED,
        "RFC 5321 §5.1 (equal preferences randomised, a host's addresses in resolver order)",
    )

    def group(self, preference: int, hosts: list[Any], rng: random.Random) -> list[TryTarget]:
        hosts = list(hosts)
        rng.shuffle(hosts)
        return [t for h in hosts for t in h.targets(preference)]


# -------------------------------------------------------------------------------- moving on


class MoveOn:
    """When the MTA stops moving on within one delivery attempt, and how it moves.

    `flat_list`: once connected, does a failure move to the next *address* of one flat list
    (which may be the same host's other address) or to the next MX *host*? `final_reason` says
    why the current address is the last one the MTA would try ('' when it is not), beyond the
    list simply ending; `skips_rest_of_preference` lets an MTA jump to the next preference level
    once a limit is reached (Exim's hosts_max_try). `soft_errors_move_on`: a 5xx that a
    parameter reads as soft (Postfix soft_bounce) moves on like a 4xx instead of only being
    deferred.
    """

    rule: ClassVar[str] = "tries every address of the list until one takes the message"
    evidence: ClassVar[Proof] = Proof(Evidence.VERIFIED, "RFC 5321 §5.1")
    soft_errors_move_on: ClassVar[bool] = False

    def __init__(self, *, flat_list: bool = True) -> None:
        self.flat_list = flat_list

    def final_reason(self, params: ProfileParams, ctx: DecisionContext) -> str:
        return ""

    def skips_rest_of_preference(self, params: ProfileParams, dialled: int) -> bool:
        return False


# -------------------------------------------------------------------------------- retry


Schedule = Callable[[Any], tuple[tuple[int, ...], int, str]]


def ceil_to(t: int, quantum: int) -> int:
    """`t` rounded up to the next multiple of `quantum` (no rounding when quantum <= 0)."""
    return t if quantum <= 0 else -(-t // quantum) * quantum


_MAX_ATTEMPTS = 10_000  # a guard: every schedule here reaches give-up long before this


def until(
    next_after: Callable[[int, int], int], give_up: int, *, at_lifetime: bool
) -> tuple[tuple[int, ...], int]:
    """Attempts from t=0 by `next_after(t, k)`; stop at the give-up rule.

    With `at_lifetime` the message expires exactly at `give_up` without a further attempt
    (OpenSMTPD, Exchange, the RFC's "give up after"); otherwise the first attempt at or after
    `give_up` is the last one and its failure returns the message (Postfix, qmail, Sendmail,
    Exim), so give-up is that attempt's time.
    """
    attempts = [0]
    for k in range(1, _MAX_ATTEMPTS):
        t = next_after(attempts[-1], k)
        if at_lifetime and t >= give_up:
            return tuple(attempts), give_up
        attempts.append(t)
        if not at_lifetime and t >= give_up:
            return tuple(attempts), t
    raise RuntimeError("retry schedule did not reach give-up")  # pragma: no cover


Windows = Callable[[Any], tuple[tuple[tuple[int, int], ...], tuple[int, int]]]


@dataclass(frozen=True)
class RetrySchedule:
    """When the MTA tries again, warns the sender and gives up: `attempts(params)` gives
    (attempt times, give-up time, the formula in words); `warn_param` names the parameter
    holding the delay-warning time (None: the MTA sends none). `windows(params)`, for an MTA
    whose retries wait for a queue scan of arbitrary phase (Postfix), gives the earliest and
    latest time of each attempt and of give-up; without it every window is one instant."""

    attempts: Schedule
    warn_param: str | None
    reference: str
    evidence: Evidence = Evidence.VERIFIED
    tested_with: str = ""
    windows: Windows | None = None

    def timeline(self, profile: str, params: ProfileParams) -> RetryTimeline:
        return _timeline(self, profile, params)


@lru_cache(maxsize=128)
def _timeline(schedule: RetrySchedule, profile: str, params: ProfileParams) -> RetryTimeline:
    attempts, give_up, formula = schedule.attempts(params)
    warn = int(params[schedule.warn_param]) if schedule.warn_param else 0
    if schedule.windows is not None:
        windows, give_up_window = schedule.windows(params)
    else:
        windows, give_up_window = tuple((t, t) for t in attempts), (give_up, give_up)
    return RetryTimeline(
        profile=profile,
        attempts_s=attempts,
        delay_dsn_s=warn if warn and warn < give_up else None,
        give_up_s=give_up,
        formula=formula,
        reference=schedule.reference,
        evidence=schedule.evidence,
        tested_with=schedule.tested_with,
        windows_s=windows,
        give_up_window_s=give_up_window,
    )


# -------------------------------------------------------------------------------- DSN

DSN_SOURCE = "RFC 3463, RFC 3464 (the reply's own enhanced status, else its class)"
"""Where a bounce's status comes from for a profile whose `DsnFlavour` names no evidence."""


DNS_STATUSES: Mapping[str, str] = {
    "nxdomain": "5.4.4",
    "null-mx": "5.1.10",
    "no-address": "5.4.4",
    "tempfail": "4.4.3",
    "fail": "4.4.1",
}
"""The RFC 3463 status of a notice about an outcome that is not a reply (RFC 3463 §3.5:
X.4.4 unable to route, X.4.3 directory server failure, X.4.1 no answer; RFC 7505 §4.2: X.1.10
null MX), unless a profile's `DsnFlavour.statuses` says what that MTA writes instead."""


@dataclass(frozen=True)
class DsnFlavour:
    """How the MTA's bounce and delay notice read: sender, subjects, the human text (each
    MTA's wording paraphrased, not copied), and the status codes it puts in them.

    `statuses` overrides `DNS_STATUSES` for outcomes without a reply (Postfix's 5.1.0 for a
    null MX); `bounce_status` / `delay_status`, when set, replace the status of every failed /
    delayed recipient (Exim writes 5.0.0 and 4.0.0 whatever the server said), and
    `expiry_status` that of a bounce at the end of the queue lifetime; `stage_statuses` the
    status after a reply at one (stage, outcome) row whatever enhanced code the reply carried
    (Sendmail writes 5.5.0 after a 5xx greeting); `evidence` says how the statuses are known.
    """

    from_name: str
    from_local: str
    subject_failed: str
    subject_delayed: str
    intro: str
    failed_text: str
    delayed_text: str
    statuses: Mapping[str, str] = field(default_factory=dict)
    bounce_status: str | None = None
    delay_status: str | None = None
    expiry_status: str | None = None
    stage_statuses: Mapping[tuple[Stage, str], str] = field(default_factory=dict)
    evidence: Proof | None = None

    def status_for(self, outcome: str) -> str:
        """The status for a DNS or connection outcome ("nxdomain", "null-mx", "fail", …)."""
        return self.statuses.get(outcome) or DNS_STATUSES.get(outcome, "4.4.2")


# -------------------------------------------------------------------------------- the profile


@dataclass(frozen=True, eq=False)
class Profile:
    """One sending MTA's way of delivering, as one object.

    `cells` maps a situation of the decision table to what this MTA does there; a row the
    profile has no cell for uses the row's default (the standard answer everyone shares).
    `models` names the version the profile models; `sources` where its rules were read.
    """

    name: str
    display: str
    description: str
    mta: str
    params_type: type[ProfileParams]
    cells: Mapping[RowKey, Cell]
    retry: RetrySchedule
    dsn: DsnFlavour
    ordering: Ordering = field(default_factory=Ordering)
    moving: MoveOn = field(default_factory=MoveOn)
    sends_delay_notice: bool = True
    sources: str = ""
    models: str = ""
    tls: TlsRules = field(default_factory=TlsRules)
    """How the MTA applies DANE and MTA-STS (the default: neither)."""
    untested: str = ""
    """Why no real program proves this profile here ("" when `mxtui conformance` runs one):
    qmail and Exchange cannot run on this machine, so their cells never become `T`."""

    @property
    def subject(self) -> str:
        """`mta` as the first word of a sentence ("An RFC 5321 client", but "qmail")."""
        return self.mta[0].upper() + self.mta[1:] if self.mta.startswith("an ") else self.mta

    @property
    def flat_list(self) -> bool:
        return self.moving.flat_list

    @property
    def params(self) -> tuple[Param, ...]:
        return self.params_type.specs()

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name.lower() == name.lower():
                return p
        return None

    def defaults(self) -> dict[str, ParamValue]:
        return {p.name: p.default for p in self.params}

    def parse(self, overrides: Mapping[str, object] | ProfileParams | None = None) -> ProfileParams:
        """The profile's parameters with `overrides` applied, typed; unknown names are an
        error, not ignored. Already-parsed parameters of this profile pass through."""
        if isinstance(overrides, self.params_type):
            return overrides
        if isinstance(overrides, ProfileParams):
            raise ProfileError(
                f"parameters of another profile ({type(overrides).__name__}) given to {self.name!r}"
            )
        items = tuple((overrides or {}).items())
        try:
            return _parse_cached(self, items)
        except TypeError:  # an unhashable value: parse without the cache
            return _parse(self, items)

    def cell(self, key: RowKey) -> Cell:
        """This profile's cell for a situation (the registry fills in the rows' defaults)."""
        try:
            return self.cells[key]
        except KeyError:
            raise KeyError(f"profile {self.name!r} has no cell for {key}") from None

    def proven(self, key: RowKey, cell: Cell, final: bool | None = None) -> Proof:
        """How `cell` (the cell a decision used in row `key`) is known: `T` with the version
        and cases when a conformance run went through this row under this profile, agreed, and
        the walk used this very cell there, as final (the last address) or not like this
        decision (`final`; None: either); else the cell's own evidence. An alternative cell
        that a parameter picked (smtp_skip_5xx_greeting=no) was not what ran, so it keeps its
        own (the engine does the same for a bounce soft_bounce=yes rewrote)."""
        if cell is not self.cells.get(key):
            return cell.proof
        return tested.proof_of(cell, tested.row(self.name, key), final)

    def own_rule_proof(self, rule: str) -> Proof:
        """How one profile-level rule (`tested.RULES`) is known from the profile alone."""
        if rule == "ordering":
            return self.ordering.evidence
        if rule == "moving":
            return self.moving.evidence
        if rule == "retry":
            return Proof(self.retry.evidence, self.retry.reference, self.retry.tested_with)
        if rule == "dsn":
            return self.dsn.evidence or Proof(Evidence.INFERRED, DSN_SOURCE)
        raise KeyError(rule)

    def rule_proof(self, rule: str, params: ProfileParams | None = None) -> Proof:
        """How one profile-level rule is known (`tested.RULES`: ordering, moving, retry,
        dsn): its own evidence, made `T` by a conformance run that exercised it. The retry
        schedule was run with the default parameters, so other values keep the text's proof."""
        own = self.own_rule_proof(rule)
        if rule == "retry" and params is not None and params != self.parse(None):
            return own
        return tested.rule_proof(own, tested.rule(self.name, rule))

    def sends(self, stage: Stage) -> bool:
        """Whether the profile ever sends this command (qmail: no EHLO, no STARTTLS)."""
        return self.cell((stage, "2xx")).code != "NA"

    def timeline(self, params: ProfileParams) -> RetryTimeline:
        """The retry timeline under `params`, `T` when a run proved its first retry (with the
        default parameters, the ones it ran with)."""
        timeline = self.retry.timeline(self.name, params)
        proof = self.rule_proof("retry", params)
        if proof.kind is Evidence.TESTED and timeline.evidence is not Evidence.TESTED:
            return replace(timeline, evidence=proof.kind, tested_with=proof.tested_with)
        return timeline


def _parse(profile: Profile, items: tuple[tuple[str, object], ...]) -> ProfileParams:
    values: dict[str, ParamValue] = {}
    for name, value in items:
        param = profile.param(name)
        if param is None:
            known = ", ".join(p.name for p in profile.params) or "none"
            raise ProfileError(
                f"profile {profile.name!r} has no parameter {name!r}; its parameters: {known}"
            )
        values[param.attr] = parse_value(param, value)
    return profile.params_type(**values)


@lru_cache(maxsize=256)
def _parse_cached(profile: Profile, items: tuple[tuple[str, object], ...]) -> ProfileParams:
    return _parse(profile, items)
