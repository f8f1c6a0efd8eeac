"""The try list and where the walk goes in it: the profile's ordering rule, the next index
after a move, the context a decision is taken in, and what DNS said when there is nothing to
dial."""

from __future__ import annotations

import random
from collections.abc import Mapping

from mxtui.model import DecisionContext, MXPlan, Outcome, PlanStatus, Stage, TryTarget
from mxtui.policy import get_profile
from mxtui.policy.profiles import Profile, ProfileParams


def try_order(
    plan: MXPlan,
    profile: str | Profile,
    rng: random.Random,
    params: Mapping[str, object] | ProfileParams | None = None,
) -> tuple[TryTarget, ...]:
    """Every dialable address in the order the profile dials them, equal preferences shuffled
    with `rng`: the profile's own ordering rule (`Profile.ordering`, in its module)."""
    prof = get_profile(profile)
    return prof.ordering.order(plan, rng, prof.parse(params))


def dns_outcome(plan: MXPlan) -> Outcome:
    """Why a plan with nothing to dial cannot be delivered now, as the decision engine's Outcome."""
    if plan.status is PlanStatus.NULL_MX:
        return Outcome.NULL_MX
    if plan.status in (PlanStatus.SERVFAIL, PlanStatus.TIMEOUT, PlanStatus.ERROR):
        return Outcome.DNS_TEMPFAIL
    if any(p.code == "address-lookup-failed" for p in plan.problems):
        return Outcome.DNS_TEMPFAIL
    if plan.status is PlanStatus.NXDOMAIN:
        return Outcome.NXDOMAIN
    # No MX and no address, MX hosts without any address, or none this sender can use (qmail
    # and Postfix 2.0 look up A records only): nowhere to connect.
    return Outcome.NO_ADDRESS


def next_index(
    order: tuple[TryTarget, ...],
    index: int,
    dialled: int,
    *,
    by_host: bool,
    profile: Profile,
    params: ProfileParams,
) -> int:
    """The try-list index the walk goes to from `index` (len(order) when none is left).

    `by_host` skips the rest of this host's addresses (the next MX). A profile whose move-on
    rule says so (Exim, once hosts_max_try addresses are dialled) skips the rest of this
    preference but still tries one address of each worse preference.
    """
    here = order[index]
    upcoming = index + 1
    if by_host:
        while upcoming < len(order) and order[upcoming].host == here.host:
            upcoming += 1
    if profile.moving.skips_rest_of_preference(params, dialled):
        while upcoming < len(order) and order[upcoming].preference == here.preference:
            upcoming += 1
    return upcoming


def context(
    order: tuple[TryTarget, ...],
    index: int,
    dialled: int,
    sessions: int,
    stage: Stage,
    *,
    profile: Profile,
    params: ProfileParams,
) -> DecisionContext:
    """Where in the try list a reply at `stage` from `order[index]` comes, as the engine reads
    it. Once connected, a host-by-host MTA moves to the next MX host, not the next address."""
    by_host = stage is not Stage.CONNECT and not profile.flat_list
    upcoming = next_index(order, index, dialled, by_host=by_host, profile=profile, params=params)
    last = upcoming >= len(order)
    return DecisionContext(
        last_address=last,
        addresses_tried=dialled,
        sessions_used=sessions,
        next_is_higher_preference=not last and order[upcoming].preference > order[index].preference,
    )
