"""From parsed command-line arguments (and the settings file) to a running app.

The app runs with Python's cyclic garbage collector tuned (`tune_gc`, called by `run_app`, the
one way into the app, and by tests/ui/conftest.py so the Pilot tests run the app as people do):
its first threshold is 5,000 new container objects instead of 700, and what is alive when the
first app runs (the imported modules, the app) is frozen out of its sight. Textual
makes and drops many objects a key (strips, segments, styles, messages); with Python's defaults
a full (generation 2) collection, walking the whole heap, came every half second of CPU, each
50-150 ms: a frame or more lost each time. Measured with `python benchmarks/gc_pauses.py`
(Python 3.11, the lab demo, a session stepped to QUIT, 20 scenarios walked, 455 keys; medians
of 3 processes):

    policy            gen2 n  gen2 ms  gen2 max  >=16 ms  keys p95  CPU s  peak MB
    Python's default      54     4796       146       54    262 ms   28.5      106
    tune_gc                6      625       148        6    181 ms   24.3      112

(">=16 ms": collections that cost a 60 Hz frame.) The garbage is still collected, in fewer
and no longer passes, for ~6 MB more resident memory; a threshold of 10,000 made every
generation 1 collection one of those (~25 ms), 50,000 every young one. Only the entry point
does this, not `make_app` or the app's constructor: `mxtui serve` and the tests build many
apps in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import signal
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from textual.theme import BUILTIN_THEMES

from mxtui.desk.envelope import EnvelopeChoice
from mxtui.errors import EXIT_USAGE
from mxtui.settings import Settings
from mxtui.text import printable
from mxtui.ui.app import MXTuiApp
from mxtui.ui.factory import make_app


def settings_problem(
    settings: Settings, settings_file: Path, themes: Mapping[str, object] = BUILTIN_THEMES
) -> str:
    """What the app would refuse in the settings (a binding id or theme it does not have): one
    line naming the file and key, or "". Checked here, since only the app knows its themes and
    binding ids."""
    known = sorted(b.id for b in MXTuiApp.BINDINGS if getattr(b, "id", None))
    unknown = [key for key in settings.keys if key not in known]
    if unknown:
        return f"{settings_file}: keys.{unknown[0]}: no such binding; known: {', '.join(known)}"
    if settings.theme and settings.theme not in themes:
        return (
            f"{settings_file}: theme: unknown theme {settings.theme!r}; "
            f"known: {', '.join(sorted(themes))}"
        )
    return ""


def open_app(settings: Settings, settings_file: Path, **options: Any) -> int:
    """Run the app made with `options`, with the settings' theme and keys; a theme picked in
    it is kept in `settings_file`. The one way in for the lab demo, a domain, a scenario and a
    replay, so the settings apply to each."""
    app = make_app(**options)
    problem = settings_problem(settings, settings_file, app.available_themes)
    if problem:
        print(f"mxtui: {printable(problem)}", file=sys.stderr)
        return EXIT_USAGE
    if settings.theme:
        app.theme = settings.theme
    if settings.keys:
        app.set_keymap(dict(settings.keys))
    app.settings_file = settings_file
    return run_app(app)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""`kill` and a closed SSH session: both end the app the way q does, so the terminal comes back
as it was (main screen, no mouse tracking, line mode) and the lab's hosts stop."""


GC_THRESHOLD = 5_000
"""New container objects between two young collections while the app runs (Python's: 700)."""


def tune_gc() -> None:
    """Collect garbage less often and over less, as the module's docstring measures: what is
    alive before the first app runs (the imported modules, the app) is frozen out of the
    collector's sight, once a process; the first threshold is `GC_THRESHOLD`, the older
    generations' (collected every 10th time) stay Python's."""
    if gc.get_freeze_count() == 0:  # a second freeze would keep the garbage of the moment
        gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


def run_app(app: MXTuiApp) -> int:
    """Run `app` until it exits or a stop signal comes; the exit status (128 + the signal's
    number after a signal, as a shell reports a killed process)."""
    tune_gc()
    stopped: list[int] = []
    with _stop_on_signals(app, stopped):
        app.run()
    if stopped:
        name = signal.Signals(stopped[0]).name
        with contextlib.suppress(OSError):  # after SIGHUP there may be no terminal to tell
            print(f"mxtui: stopped by {name}; the terminal is restored", file=sys.stderr)
        return 128 + stopped[0]
    return app.return_code or 0


@contextlib.contextmanager
def _stop_on_signals(app: MXTuiApp, stopped: list[int]) -> Iterator[None]:
    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.append(signum)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # before the app's loop runs, or after it ended
            raise SystemExit(128 + signum) from None
        loop.call_soon_threadsafe(app.exit, None, 128 + signum)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def launch(args: argparse.Namespace) -> int:
    """`mxtui [DOMAIN]`: the app on a domain, or on the lab demo, with ``args.settings``."""
    settings: Settings = args.settings
    port = args.port if args.port is not None else settings.port
    # The settings' nameservers serve a domain given on the command line; with no domain and
    # no --nameserver the app opens the lab demo.
    nameservers = args.nameserver or (list(settings.nameservers) if args.domain else [])
    return open_app(
        settings,
        args.settings_file,
        domain=args.domain,
        nameservers=nameservers,
        port=port,
        timeouts=settings.timeouts,
        dns_timeout=settings.dns_timeout,
        chosen=EnvelopeChoice(settings.mail_from, settings.recipients, settings.ehlo or None),
        profile=settings.profile,
    )
