"""`mxtui config`: where the settings file is, whether it loads, and a starter file to edit.

It reads the file itself (``USES_SETTINGS = False``) so that a broken file is reported here
rather than stopping the command that would help fix it.
"""

from __future__ import annotations

import argparse

from mxtui.errors import UsageError
from mxtui.settings import config_path, load_settings, write_starter
from mxtui.text import printable

USES_SETTINGS = False

DESCRIPTION = (
    "Show which settings file is in force and check it. --init writes a commented starter file "
    "there (every setting at its default, with what it does), ready to edit."
)
EPILOG = """\
The file is --config FILE if given, else $MXTUI_CONFIG, else the one in your config directory.

exit status:
  0  the file loads (or there is none yet, so the defaults apply); --init: written
  2  the file has a mistake (named in one line), or --init found a file there already

examples:
  mxtui config --init                 write ~/.config/mxtui/config.toml with every setting
  mxtui --config class.toml config --init
  $EDITOR "$(mxtui config --path)"
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--init", action="store_true", help="write a commented starter file at the settings path"
    )
    mode.add_argument("--path", action="store_true", help="print only the settings file's path")
    parser.add_argument(
        "--force", action="store_true", help="with --init: replace a file that is already there"
    )


def run(args: argparse.Namespace) -> int:
    path = args.config.expanduser() if args.config else config_path()
    """A file that does not load (a SettingsError) or settings the app cannot use raise a
    UsageError: `mxtui.cli` says it in one line, exit 2."""
    if args.force and not args.init:
        raise UsageError("--force goes with --init")
    if args.path:
        print(path)
        return 0
    if args.init:
        written = write_starter(path, force=args.force)
        print(f"wrote a starter settings file: {written}")
        return 0
    settings = load_settings(args.config)
    from mxtui.ui.launch import settings_problem  # the app's themes and keys: textual, here only

    problem = settings_problem(settings, path)
    if problem:
        raise UsageError(problem)
    if settings.path is None:
        print(
            f"{printable(str(path))}: not there yet, so the defaults apply; "
            "`mxtui config --init` writes one"
        )
    else:
        given = ", ".join(sorted(settings.given)) or "nothing (all defaults)"
        print(printable(f"{path}: loads; sets {given}"))
    return 0
