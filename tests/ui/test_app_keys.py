"""The app's own keys for the probe matrix and the help screen, and every key being listed."""

from __future__ import annotations

from ui_support import SIZE, drive, resolved

from mxtui.ui.app import MXTuiApp
from mxtui.ui.factory import make_app
from mxtui.ui.help import HelpScreen, help_entries
from mxtui.ui.probe_view import ProbeScreen


async def test_p_probes_every_address_of_the_plan_on_screen() -> None:
    app = make_app()
    async with drive(app, size=SIZE) as pilot:
        await resolved(pilot, app)
        await pilot.press("P")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProbeScreen)
        planned = [a.address for h in app.resolved_plan.hosts for a in h.addresses]
        assert [t.address for t in screen.targets] == planned
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ProbeScreen)


async def test_question_mark_lists_every_binding_of_the_app() -> None:
    app = make_app()
    async with drive(app, size=SIZE) as pilot:
        await resolved(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        listed = {entry.action for entry in help_entries(app)}
        for binding in MXTuiApp.BINDINGS:
            assert binding.action in listed, binding.action
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
