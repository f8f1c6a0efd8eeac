"""Retry timelines: when the next attempts come, when the sender is warned, when the message
is returned; and the one-line strip the panel draws of them.

Each schedule is the MTA's own formula (reference section 4), defined in its profile module and
run forward from the first attempt (t = 0), assuming every attempt fails and the queue runner is
ideal (or, where the MTA's own scan interval is part of its design, as Postfix's
queue_run_delay is, attempts wait for a scan).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from mxtui.model import RetryTimeline
from mxtui.policy.profiles import Profile, ProfileParams, get_profile


def retry_timeline(
    profile: str | Profile, params: Mapping[str, object] | ProfileParams | None = None
) -> RetryTimeline:
    """The profile's attempts, delay notice and give-up, in seconds after the first attempt.

    The schedule is the profile's own (`Profile.retry`, defined in its module); `params` are
    its parameters, parsed or as overrides by name.
    """
    prof = get_profile(profile)
    return prof.timeline(prof.parse(params))


def timeline_strip(timeline: RetryTimeline, width: int = 48) -> str:
    """The timeline as one line of plain text for a compact chart, on a logarithmic time axis.

    "│" marks a column holding at least one attempt, "▲" the delay notice, "✕" give-up, "─"
    empty time; a log axis keeps the first minutes and the last days both visible. The result
    is plain text (no markup), exactly `width` characters long.
    """
    width = max(width, 8)
    end = max(timeline.give_up_s, 1)
    scale = math.log1p(end / 60)

    def column(t: int) -> int:
        return min(width - 1, round(math.log1p(max(t, 0) / 60) / scale * (width - 1)))

    cells = ["─"] * width
    for t in timeline.attempts_s:
        cells[column(t)] = "│"
    if timeline.delay_dsn_s is not None:
        cells[column(timeline.delay_dsn_s)] = "▲"
    cells[width - 1] = "✕"
    return "".join(cells)
