"""A theme picked in the command palette is kept for next time in the settings file, with the
user's comments; where it cannot be kept, the user is told so and the app carries on.

The palette is walked once, as a user does it; the other cases change the theme directly (the
same change the palette makes, heard by the same signal), which spares a restyle of the whole
screen for every theme the palette previews on the way. At 80x24, the smallest terminal the app
is made for, one pane is on screen and a restyle costs least; the size is not what is checked."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList, CommandPalette
from ui_support import drive, until

from mxtui.lab.runtime import Lab
from mxtui.settings import default_path, load_settings
from mxtui.ui.factory import make_app

MINE = '# my settings\nprofile = "exim"   # for the class\n\n[keys]\nnext-step = "n"\n'


def first_command(app) -> str:
    """The palette's first entry, or "" while it has none (or is not open)."""
    if not isinstance(app.screen, CommandPalette):
        return ""
    entries = app.screen.query_one(CommandList)
    return str(entries.get_option_at_index(0).prompt) if entries.option_count else ""


async def pick_theme(app, pilot, name: str) -> None:
    """ctrl+p, the "Theme" command, then the theme by name: as a user does it, each Enter once
    the palette lists what was typed."""
    await pilot.press("ctrl+p", *"theme")
    await until(pilot, lambda: first_command(app).startswith("Theme"), "the Theme command")
    await pilot.press("enter")
    await until(
        pilot, lambda: first_command(app) and not first_command(app).startswith("Theme"), "themes"
    )
    await pilot.press(*name)
    await until(pilot, lambda: first_command(app) == name, f"the theme {name}")
    await pilot.press("enter")
    await pilot.pause()


def toasts(app) -> str:
    """The notifications the app has shown (Textual keeps them until they time out)."""
    return " ".join(n.message for n in app._notifications)


async def test_a_theme_picked_in_the_palette_is_written_to_the_settings_file(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(MINE, encoding="utf-8")
    app = make_app(lab=Lab(), dns_timeout=1)
    app.settings_file = config
    async with drive(app, size=(80, 24)) as pilot:
        await pick_theme(app, pilot, "nord")
        assert app.theme == "nord"
        assert "Theme nord kept for next time" in toasts(app)
    assert config.read_text(encoding="utf-8") == MINE.replace(
        "class\n\n", 'class\ntheme = "nord"\n\n'
    )
    assert load_settings(config).theme == "nord" and load_settings(config).profile == "exim"


async def test_a_theme_that_cannot_be_kept_is_said_and_the_app_goes_on(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    app = make_app(lab=Lab(), dns_timeout=1)
    app.settings_file = blocker / "config.toml"
    async with drive(app, size=(80, 24)) as pilot:
        app.theme = "nord"
        await pilot.pause()
        assert app.theme == "nord" and app.is_running
        assert "Theme not kept for next time" in toasts(app)


async def test_without_a_settings_file_nothing_is_written() -> None:
    app = make_app(lab=Lab(), dns_timeout=1)  # as tests and make_app alone: settings_file None
    async with drive(app, size=(80, 24)) as pilot:
        app.theme = "nord"
        await pilot.pause()
        assert app.theme == "nord" and not toasts(app)
    assert not default_path().exists()  # conftest's empty config directory
