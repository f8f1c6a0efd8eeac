"""One snapshot of the MX panel on the lab demo (regenerate with `pytest --snapshot-update`)."""

from __future__ import annotations

from dataclasses import replace

from mxtui.ui.factory import make_app
from mxtui.ui.session_pane import SessionPane


async def _resolved_and_on_a_host(pilot) -> None:
    # The default message carries today's date: a fixed one keeps the envelope line stable.
    pane = pilot.app.query_one(SessionPane)
    pane.set_envelope(replace(pane.envelope, message=b"Subject: snapshot\r\n\r\nhello\r\n"))
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("down", "down")  # the cursor on mx1: its detail has no timings in it
    await pilot.pause()


def test_mx_panel_on_the_lab_demo(snap_compare):
    assert snap_compare(
        make_app(dns_timeout=1), terminal_size=(100, 30), run_before=_resolved_and_on_a_host
    )
