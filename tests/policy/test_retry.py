"""Retry timelines against schedules worked out by hand from each MTA's formula."""

from __future__ import annotations

import pytest

from mxtui.model import Evidence
from mxtui.policy import PROFILES, ProfileError, retry_timeline, timeline_strip

H, D = 3600, 86400


def test_postfix_retries_at_queue_scans_so_each_retry_is_a_window():
    """Reference §0: eligible at now + clamp(age, 300, 4000) (qmgr_active.c:558-564), taken at
    the next 300 s scan of the deferred queue (qmgr.c:530-538), whose phase φ is arbitrary:
    first retry 300-600 s, then 900+φ, 2100+φ, 4500+φ, 8700+φ, 12900+φ, then every 4200 s."""
    t = retry_timeline("postfix")
    starts = [300, 900, 2100, 4500, 8700, 12900, 17100, 21300]
    assert [lo for lo, _ in t.windows_s[1:9]] == starts
    assert all(hi - lo == 300 for lo, hi in t.windows_s[1:])
    assert t.windows_s[0] == (0, 0)
    steps = {b[0] - a[0] for a, b in zip(t.windows_s[6:], t.windows_s[7:], strict=False)}
    assert steps == {4200}
    # attempts_s is one run, at the default phase φ=150: each attempt inside its window.
    assert list(t.attempts_s[:7]) == [0, 450, 1050, 2250, 4650, 8850, 13050]
    assert all(lo <= a <= hi for a, (lo, hi) in zip(t.attempts_s, t.windows_s, strict=True))
    # Returned after the first failed attempt at or past 5 days: 13050 + 4200·100 = 433050.
    assert t.give_up_s == 433050 == t.attempts_s[-1]
    assert t.give_up_window_s == (432900, 433200)
    assert t.delay_dsn_s is None  # delay_warning_time=0h
    assert t.evidence is Evidence.TESTED and t.tested_with.startswith("Postfix 3.7.11")


def test_the_measured_postfix_retries_are_one_scan_phase_of_the_model():
    """Postfix 3.7.11 retried a message that arrived at 08:19:00 at ages 529 s and 1129 s
    (real-senders.md): the model's run at φ=229 s."""
    t = retry_timeline("postfix", {"queue_scan_phase": 229})
    assert t.attempts_s[1:3] == (529, 1129)


def test_postfix_parameters_change_the_timeline():
    t = retry_timeline("postfix", {"maximal_queue_lifetime": "36h", "delay_warning_time": "4h"})
    assert t.delay_dsn_s == 4 * H
    assert t.give_up_s == 13050 + 4200 * 28  # the first attempt at or past 129600 s
    assert t.give_up_s >= 36 * H > t.attempts_s[-2]
    fast = retry_timeline("postfix", {"queue_run_delay": "60s", "queue_scan_phase": 0})
    assert list(fast.attempts_s[:4]) == [0, 300, 600, 1200]
    assert all(hi - lo <= 60 for lo, hi in fast.windows_s)


def test_postfix_2_0_used_1000_second_backoff_and_scans():
    """Postfix 2.0 mail_params.h:504-507: minimal_backoff_time and queue_run_delay 1000s."""
    t = retry_timeline("postfix-2.0")
    assert [lo for lo, _ in t.windows_s[1:5]] == [1000, 3000, 7000, 11000]
    assert all(hi - lo == 1000 for lo, hi in t.windows_s[1:])
    assert list(t.attempts_s[:4]) == [0, 1500, 3500, 7500]
    assert t.give_up_s >= 432000


def test_a_schedule_without_scans_has_windows_of_one_instant():
    t = retry_timeline("qmail")
    assert t.windows_s == tuple((a, a) for a in t.attempts_s)
    assert t.to_json()["attempt_windows_s"][1] == [400, 400]


def test_exim_follows_its_three_retry_rules():
    t = retry_timeline("exim")
    quarter_hours = [i * 900 for i in range(10)]  # F,2h,15m: 0 … 2h, and 2h15m
    # G,16h,1h,1.5: gaps 1h, 1.5h, 2.25h, 3.375h, 5.0625h, then 7.59375h (floored to seconds).
    geometric = [11700, 17100, 25200, 37350, 55575, 82912]
    assert list(t.attempts_s[:16]) == quarter_hours + geometric
    # F,4d,6h: every 6 h; the first failure past the 4 d cutoff bounces: 82912 + 13·21600.
    assert all(b - a == 6 * H for a, b in zip(t.attempts_s[15:], t.attempts_s[16:], strict=False))
    assert t.give_up_s == 82912 + 13 * 6 * H == 363712
    assert t.delay_dsn_s == 24 * H


def test_exim_queue_runner_interval_delays_attempts_to_runs():
    t = retry_timeline("exim", {"queue_run_interval": "30m"})
    assert all(a % 1800 == 0 for a in t.attempts_s)


def test_qmail_retries_at_400_k_squared_and_gives_up_after_a_week():
    t = retry_timeline("qmail")
    assert list(t.attempts_s) == [400 * k * k for k in range(40)]
    assert t.give_up_s == 400 * 39 * 39 == 608400  # first attempt past 604800
    assert t.delay_dsn_s is None


def test_sendmail_retries_every_queue_run_and_warns_at_4_hours():
    t = retry_timeline("sendmail")
    assert list(t.attempts_s) == list(range(0, 5 * D + 1, 1800))
    assert (t.delay_dsn_s, t.give_up_s) == (4 * H, 5 * D)


def test_exchange_glitch_then_transient_then_connection_failure_intervals():
    t = retry_timeline("exchange")
    head = [0, 60, 120, 180, 240, 540, 840, 1140, 1440, 1740, 2040, 2640, 3240]
    assert list(t.attempts_s[: len(head)]) == head
    assert t.attempts_s[-1] == 2040 + 600 * 284
    assert (t.delay_dsn_s, t.give_up_s) == (4 * H, 2 * D)


def test_opensmtpd_retries_at_400_k_squared_and_expires_at_4_days():
    t = retry_timeline("opensmtpd")
    assert list(t.attempts_s) == [400 * k * k for k in range(30)]
    assert (t.delay_dsn_s, t.give_up_s) == (4 * H, 4 * D)


def test_rfc_baseline_two_tries_in_the_first_hour_then_every_3_hours():
    t = retry_timeline("rfc")
    assert list(t.attempts_s[:5]) == [0, 1800, 3600, 3600 + 3 * H, 3600 + 6 * H]
    assert t.give_up_s == 5 * D
    assert t.attempts_s[-1] < 5 * D


@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_timeline_rises_and_ends_at_give_up(profile):
    t = retry_timeline(profile)
    assert t.attempts_s[0] == 0
    assert all(a < b for a, b in zip(t.attempts_s, t.attempts_s[1:], strict=False))
    assert t.attempts_s[-1] <= t.give_up_s
    assert t.delay_dsn_s is None or 0 < t.delay_dsn_s < t.give_up_s


def test_bad_parameter_values_are_refused():
    with pytest.raises(ProfileError, match="duration"):
        retry_timeline("postfix", {"maximal_queue_lifetime": "soon"})
    with pytest.raises(ProfileError, match="no parameter"):
        retry_timeline("qmail", {"soft_bounce": "yes"})


@pytest.mark.parametrize("profile", list(PROFILES))
def test_the_timeline_strip_is_plain_text_of_the_asked_width(profile):
    timeline = retry_timeline(profile)
    strip = timeline_strip(timeline, 40)
    assert len(strip) == 40
    assert strip[0] == "│" and strip[-1] == "✕"
    assert ("▲" in strip) == (timeline.delay_dsn_s is not None)
    assert set(strip) <= {"│", "▲", "✕", "─"}


def test_the_timeline_strip_puts_a_later_attempt_further_right():
    early = timeline_strip(retry_timeline("qmail", {"queuelifetime": "7d"}), 60)
    late = timeline_strip(retry_timeline("qmail", {"queuelifetime": "1d"}), 60)
    # The same first retry (400 s) sits further right on a shorter (1-day) axis.
    assert late.index("│", 1) > early.index("│", 1)
