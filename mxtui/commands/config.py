"""`mxtui config`: where the settings file is, whether it loads, and a starter file to edit.

It reads the file itself (``USES_SETTINGS = False``) so that a broken file is reported here
rather than stopping the command that would help fix it.
"""

from __future__ import annotations

import argparse
import sys

from mxtui.settings import SettingsError, config_path, load_settings, write_starter
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
    if args.force and not args.init:
        print("mxtui config: --force goes with --init", file=sys.stderr)
        return 2
    if args.path:
        print(path)
        return 0
    if args.init:
        try:
            written = write_starter(path, force=args.force)
        except SettingsError as exc:
            print(f"mxtui config: {exc}", file=sys.stderr)
            return 2
        print(f"wrote a starter settings file: {written}")
        return 0
    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        print(f"mxtui config: {exc}", file=sys.stderr)
        return 2
    from mxtui.ui.launch import settings_problem  # the app's themes and keys: textual, here only

    problem = settings_problem(settings, path)
    if problem:
        print(f"mxtui config: {printable(problem)}", file=sys.stderr)
        return 2
    if settings.path is None:
        print(
            f"{printable(str(path))}: not there yet, so the defaults apply; "
            "`mxtui config --init` writes one"
        )
    else:
        given = ", ".join(sorted(settings.given)) or "nothing (all defaults)"
        print(printable(f"{path}: loads; sets {given}"))
    return 0
