"""Command line: with no command, the app (the lab demo by default); otherwise a headless command.

Nothing here imports textual at module level: ``mxtui --help`` and the headless commands must
start fast, so the app is imported only when it is about to run.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from mxtui import __version__
from mxtui.errors import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_USAGE, UsageError
from mxtui.netargs import add_nameserver_argument, port_type
from mxtui.output import ascii_fallback
from mxtui.text import printable

# name -> (module, one-line summary).  Modules are imported only when their command runs.
COMMANDS: dict[str, tuple[str, str]] = {
    "mx": ("mxtui.commands.mx", "resolve a domain's MX hosts and their addresses"),
    "smtp": ("mxtui.commands.smtp", "step an SMTP conversation with one server"),
    "probe": ("mxtui.commands.probe", "probe every MX address: greeting, EHLO, STARTTLS"),
    "walk": ("mxtui.commands.walk", "deliver to a domain the way a chosen MTA would"),
    "replay": ("mxtui.commands.replay", "play back a recorded walk or session (demos offline)"),
    "explain": ("mxtui.commands.explain", "what a sending MTA does with a reply or outcome"),
    "lab": ("mxtui.commands.lab", "training scenarios: list, open in the app, or --serve"),
    "serve": ("mxtui.commands.serve", "run the app in web browsers (textual-serve)"),
    "config": ("mxtui.commands.config", "the settings file: where it is, check it, --init one"),
    "conformance": (
        "mxtui.commands.conformance",
        "run the real MTAs (Postfix, Exim, OpenSMTPD, Sendmail) against the profiles",
    ),
}

CONFIG_HELP = (
    "settings file to use (default: $MXTUI_CONFIG, else config.toml in your config directory; "
    "`mxtui config --path` prints it); the command line still wins over it"
)


def _columns() -> int:
    """The terminal's width as `shutil.get_terminal_size` gives it ($COLUMNS, else the
    terminal standard output is on, else 80), without importing shutil."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # None: AttributeError
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter (descriptions and epilogs as written), sized as argparse sizes it
    but without importing shutil: argparse makes a formatter for every ``add_argument``, and
    shutil (with bz2, lzma and fnmatch) is 2 ms of every command's start."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(
            prog, indent_increment, max_help_position, _columns() - 2 if width is None else width
        )


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr (and exit 2), not the usage block:
    the project's rule for bad input, whichever argument it is."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def _app_parser() -> argparse.ArgumentParser:
    commands = "\n".join(f"  {name:<10} {summary}" for name, (_, summary) in COMMANDS.items())
    parser = OneLineParser(
        prog="mxtui",
        description="Explore SMTP delivery in the terminal. With no DOMAIN, opens the lab demo: "
        "a DNS server and mail hosts on loopback, no network needed.",
        formatter_class=HelpFormatter,
        epilog=f"commands (mxtui COMMAND --help for each):\n{commands}\n\n"
        "settings: a TOML file in your config directory (or --config FILE, or $MXTUI_CONFIG) "
        "sets the default profile, envelope, timeouts, nameserver, port, theme and key map for "
        "the app and every command; `mxtui config --init` writes a commented one. See the README.",
    )
    parser.add_argument(
        "domain",
        nargs="?",
        help="domain to resolve with the system resolver (or --nameserver); omit for the lab demo",
    )
    add_nameserver_argument(parser)
    parser.add_argument(
        "--port",
        type=port_type,
        default=None,
        metavar="N",
        help="SMTP port to connect to on real hosts (default 25, or the settings file's; "
        "the lab ignores it)",
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help=CONFIG_HELP)
    parser.add_argument("--version", action="version", version=f"mxtui {__version__}")
    return parser


def _leading_config(args: list[str]) -> tuple[Path | None, list[str]]:
    """``mxtui --config FILE COMMAND ...``: the FILE given before the command, and the rest."""
    if len(args) >= 2 and args[0] == "--config":
        return Path(args[1]), args[2:]
    if args and args[0].startswith("--config="):
        return Path(args[0].removeprefix("--config=")), args[1:]
    return None, args


def _settings(args: argparse.Namespace, who: str) -> bool:
    """Load the settings file in force into ``args.settings`` (and its path into
    ``args.settings_file``); False after printing the one-line error for a bad file."""
    # Imported here: `mxtui --help` and `--version` stay quick (settings brings the policy in).
    from mxtui.settings import SettingsError, config_path, load_settings

    args.settings_file = args.config.expanduser() if args.config else config_path()
    try:
        args.settings = load_settings(args.config)
    except SettingsError as exc:
        print(f"{who}: {printable(str(exc))}", file=sys.stderr)
        return False
    return True


def command_parser(name: str) -> tuple[ModuleType, argparse.ArgumentParser]:
    """The module of command `name` and its parser: the command's options and ``--config``."""
    module_name, summary = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = OneLineParser(
        prog=f"mxtui {name}",
        description=getattr(module, "DESCRIPTION", summary),
        epilog=getattr(module, "EPILOG", None),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help=CONFIG_HELP)
    module.add_arguments(parser)
    return module, parser


def _rewritten(module: ModuleType, argv: list[str]) -> list[str]:
    """A command may rewrite its arguments first (smtp: swaks' --h-NAME and -4 / -6)."""
    rewrite = getattr(module, "rewrite_argv", None)
    return rewrite(argv) if rewrite else argv


def command_args(name: str, argv: Sequence[str]) -> argparse.Namespace:
    """`argv` parsed as ``mxtui NAME ARGV`` parses it, settings loaded: for code (and tests) that
    run a command's parts rather than the whole of it. A bad settings file exits 2, as main."""
    module, parser = command_parser(name)
    args = parser.parse_args(_rewritten(module, list(argv)))
    if not _settings(args, f"mxtui {name}"):
        raise SystemExit(EXIT_USAGE)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    ascii_fallback()  # a latin-1 or ASCII terminal gets "->" for "→", never a UnicodeEncodeError
    config, args_list = _leading_config(list(sys.argv[1:] if argv is None else argv))
    if args_list and args_list[0] in COMMANDS:
        name = args_list[0]
        module, parser = command_parser(name)
        parser.set_defaults(config=config)
        try:
            args = parser.parse_args(_rewritten(module, args_list[1:]))
            if getattr(module, "USES_SETTINGS", True) and not _settings(args, f"mxtui {name}"):
                return EXIT_USAGE
            status = int(module.run(args))
            sys.stdout.flush()
            return status
        except UsageError as exc:  # any command's bad input: one line, exit 2
            print(f"mxtui {name}: {printable(str(exc))}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            print(f"mxtui {name}: interrupted (Ctrl-C)", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            # The reader went away (`mxtui mx … | head`): stop quietly, as Unix tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_BROKEN_PIPE
    parser = _app_parser()
    parser.set_defaults(config=config)
    try:
        args = parser.parse_args(args_list)
    except UsageError as exc:
        print(f"mxtui: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    if not _settings(args, "mxtui"):
        return EXIT_USAGE
    return run_app(args)


def entry() -> NoReturn:
    """The console script and ``python -m mxtui``: `main`, then the process's exit.

    After a command whose module sets ``QUICK_EXIT`` (it leaves nothing for the interpreter's
    shutdown to do: no thread, no file but standard output and error, no exit handler of its
    own), the process ends with `os._exit` once both streams are flushed. Python's shutdown
    would otherwise clear every module and run OpenSSL's clean-up, which asyncio's imports
    bring: about 10 ms, a quarter of what a swaks-sized ``mxtui smtp`` run should take, spent
    on nothing the command needs. Any doubt (a stream that cannot be flushed, another thread)
    keeps the ordinary exit.
    """
    status = main()
    if _quick_exit_allowed():
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        else:
            os._exit(status)
    raise SystemExit(status)


def _quick_exit_allowed() -> bool:
    _, args = _leading_config(sys.argv[1:])
    module = sys.modules.get(COMMANDS[args[0]][0]) if args and args[0] in COMMANDS else None
    if not getattr(module, "QUICK_EXIT", False):
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def run_app(args: argparse.Namespace) -> int:
    """Start the Textual app: on the given domain, or on the lab demo."""
    from mxtui.ui.launch import launch  # textual is imported here, and only here

    return launch(args)
