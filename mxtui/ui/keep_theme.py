"""A theme picked in the command palette is kept for next time, in the settings file.

The settings file rather than a separate state file: it is where a user looks for (and sets)
the theme, and one place means a theme in the file is the theme in force, never one overridden
by a state file the user does not know about. `mxtui.settings.save_theme` changes only the
``theme`` line and keeps every comment.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.theme import Theme

from mxtui.settings import SettingsError, save_theme


def keep_picked_themes(app: App[object], settings_file: Path | None) -> None:
    """From now on (call it once the app runs), write each theme change to `settings_file`.

    Nothing is kept when there is no file to keep it in (tests, `make_app` alone), nor in a
    browser tab under `mxtui serve`: that tab is a trainee's, the file is the trainer's.
    """
    if settings_file is None:
        return

    def keep(theme: Theme) -> None:
        if app.is_web:
            return
        try:
            saved = save_theme(settings_file, theme.name)
        except SettingsError as exc:
            app.notify(f"Theme not kept for next time: {exc}", severity="warning", markup=False)
            return
        app.notify(f"Theme {theme.name} kept for next time in {saved}", markup=False)

    app.theme_changed_signal.subscribe(app, keep)
