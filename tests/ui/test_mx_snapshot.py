"""One snapshot of the MX panel on the lab demo (regenerate with `pytest --snapshot-update`)."""

from __future__ import annotations

from mxtui.ui.app import make_app


async def _resolved_and_on_a_host(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("down", "down")  # the cursor on mx1: its detail has no timings in it
    await pilot.pause()


def test_mx_panel_on_the_lab_demo(snap_compare):
    assert snap_compare(
        make_app(dns_timeout=1), terminal_size=(100, 30), run_before=_resolved_and_on_a_host
    )
