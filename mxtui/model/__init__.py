"""The vocabulary of mxtui: plain frozen dataclasses shared by every part.

The DNS core, the SMTP session, the decision engine and the lab all speak in these types; the UI
and the headless CLI only render them. Nothing here does I/O, and nothing here imports textual.

One module per topic: `dns` (the MX plan and the lookup's events), `smtp` (stages, replies,
transcript lines, the envelope, each step's result), `policy` (decisions, code meanings, the
retry timeline) and `walk` (the try list, attempts, recipient states and the walk's events).
Every name is also importable from `mxtui.model` itself; a submodule is loaded on the first use
of one of its names (PEP 562), so `mxtui smtp` does not pay for the walk's types. `to_json` is
the one JSON form of all of them (`_json`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mxtui.model._json import Key, to_json

if TYPE_CHECKING:
    from mxtui.model.dns import (
        Address,
        HostResolved,
        HostState,
        MXAnswered,
        MXGroup,
        MXHost,
        MXPlan,
        PlanResolved,
        PlanStatus,
        Problem,
        ResolveEvent,
        Severity,
        TryTarget,
    )
    from mxtui.model.policy import (
        Action,
        CodeMeaning,
        Decision,
        DecisionContext,
        EnhancedMeaning,
        Evidence,
        Proof,
        RetryTimeline,
        Scope,
    )
    from mxtui.model.smtp import (
        DECISION_STAGES,
        Credentials,
        DataProgress,
        DSNRequest,
        Envelope,
        Limits,
        LineDir,
        Outcome,
        Reply,
        SessionEvent,
        Stage,
        StepFailure,
        StepResult,
        Timeouts,
        TLSInfo,
        TLSMode,
        TranscriptLine,
    )
    from mxtui.model.walk import (
        AttemptEnded,
        AttemptRecord,
        AttemptStarted,
        HopEnded,
        HopResult,
        HopStarted,
        RecipientResult,
        RecipientState,
        RecipientStatus,
        StepDone,
        WalkEnded,
        WalkEvent,
        WalkOutcome,
        WalkResult,
        WalkStarted,
    )

TOPICS = ("dns", "smtp", "policy", "walk")
"""The submodules, in dependency order."""

_WHERE: dict[str, str] = {
    **dict.fromkeys(
        ("Address", "HostResolved", "HostState", "MXAnswered", "MXGroup", "MXHost", "MXPlan",
         "PlanResolved", "PlanStatus", "Problem", "ResolveEvent", "Severity", "TryTarget"),
        "dns",
    ),
    **dict.fromkeys(
        ("DECISION_STAGES", "Credentials", "DataProgress", "DSNRequest", "Envelope", "LineDir",
         "Limits", "Outcome", "Reply", "SessionEvent", "Stage", "StepFailure", "StepResult",
         "Timeouts", "TLSInfo", "TLSMode", "TranscriptLine"),
        "smtp",
    ),
    **dict.fromkeys(
        ("Action", "CodeMeaning", "Decision", "DecisionContext", "EnhancedMeaning", "Evidence",
         "Proof", "RetryTimeline", "Scope"),
        "policy",
    ),
    **dict.fromkeys(
        ("AttemptEnded", "AttemptRecord", "AttemptStarted", "HopEnded", "HopResult",
         "HopStarted", "RecipientResult", "RecipientState", "RecipientStatus", "StepDone",
         "WalkEnded", "WalkEvent", "WalkOutcome", "WalkResult", "WalkStarted"),
        "walk",
    ),
}  # fmt: skip

__all__ = [
    "DECISION_STAGES",
    "TOPICS",
    "Action",
    "Address",
    "AttemptEnded",
    "AttemptRecord",
    "AttemptStarted",
    "CodeMeaning",
    "Credentials",
    "DSNRequest",
    "DataProgress",
    "Decision",
    "DecisionContext",
    "EnhancedMeaning",
    "Envelope",
    "Evidence",
    "HopEnded",
    "HopResult",
    "HopStarted",
    "HostResolved",
    "HostState",
    "Key",
    "Limits",
    "LineDir",
    "MXAnswered",
    "MXGroup",
    "MXHost",
    "MXPlan",
    "Outcome",
    "PlanResolved",
    "PlanStatus",
    "Problem",
    "Proof",
    "RecipientResult",
    "RecipientState",
    "RecipientStatus",
    "Reply",
    "ResolveEvent",
    "RetryTimeline",
    "Scope",
    "SessionEvent",
    "Severity",
    "Stage",
    "StepDone",
    "StepFailure",
    "StepResult",
    "TLSInfo",
    "TLSMode",
    "Timeouts",
    "TranscriptLine",
    "TryTarget",
    "WalkEnded",
    "WalkEvent",
    "WalkOutcome",
    "WalkResult",
    "WalkStarted",
    "all_types",
    "to_json",
]


def __getattr__(name: str) -> Any:
    topic = _WHERE.get(name)
    if topic is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{topic}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


def all_types() -> dict[str, type]:
    """Every dataclass of the model, by class name (what a recording's tags name)."""
    import dataclasses

    found: dict[str, type] = {}
    for topic in TOPICS:
        module = importlib.import_module(f"{__name__}.{topic}")
        for name, obj in vars(module).items():
            if (
                isinstance(obj, type)
                and dataclasses.is_dataclass(obj)
                and obj.__module__ == module.__name__
            ):
                found[name] = obj
    return found
