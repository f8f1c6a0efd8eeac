"""The decision engine: what a sending MTA does with each reply, per MTA profile.

Public API (used by the side panel and `mxtui explain`):
  decide(stage, outcome, profile, context, params) -> Decision
  compare(stage, outcome, context, params) -> {profile: Decision}
  retry_timeline(profile, params) -> RetryTimeline;  timeline_strip(timeline, width) -> str
  ndr_preview(decision, ...) -> EmailMessage;  ndr_text(message) -> str
  PROFILES: {name: Profile}, one module per MTA in mxtui.policy.profiles;
  parse_params(profile, overrides) -> ProfileParams (typed; pass it on instead of a dict)
  TABLE / ROWS: the decision table (situations in policy.rows, cells from the profiles)
"""

from mxtui.policy.codes import code_meaning, enhanced_meaning, reply_enhanced
from mxtui.policy.engine import classify, compare, decide
from mxtui.policy.ndr import NoNoticeError, ndr_preview, ndr_text
from mxtui.policy.profiles import (
    PROFILES,
    Param,
    Profile,
    ProfileError,
    ProfileParams,
    get_profile,
    parse_params,
    resolve_params,
)
from mxtui.policy.retry import retry_timeline, timeline_strip
from mxtui.policy.table import ROWS, TABLE, Cell, Row

__all__ = [
    "PROFILES",
    "ROWS",
    "TABLE",
    "Cell",
    "NoNoticeError",
    "Param",
    "Profile",
    "ProfileError",
    "ProfileParams",
    "Row",
    "classify",
    "code_meaning",
    "compare",
    "decide",
    "enhanced_meaning",
    "get_profile",
    "ndr_preview",
    "ndr_text",
    "parse_params",
    "reply_enhanced",
    "resolve_params",
    "retry_timeline",
    "timeline_strip",
]
