"""From parsed command-line arguments (and the settings file) to a running app."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from mxtui.lab.demo import DEMO_DOMAIN
from mxtui.model import Envelope
from mxtui.settings import Settings, SettingsError, config_path, load_settings
from mxtui.smtp.message import default_message
from mxtui.text import printable
from mxtui.ui.app import MXTuiApp, make_app
from mxtui.ui.session_pane import default_envelope


def _envelope(settings: Settings, domain: str) -> Envelope | None:
    """The settings' envelope over the default one, or None when the settings name none."""
    if not (settings.mail_from or settings.recipients or settings.ehlo):
        return None
    envelope = default_envelope(domain)
    envelope = replace(
        envelope,
        mail_from=settings.mail_from or envelope.mail_from,
        recipients=settings.recipients or envelope.recipients,
        ehlo_name=settings.ehlo or envelope.ehlo_name,
    )
    return replace(envelope, message=default_message(envelope))


def _check_keys(settings: Settings) -> str:
    known = sorted(b.id for b in MXTuiApp.BINDINGS if getattr(b, "id", None))
    unknown = [key for key in settings.keys if key not in known]
    if unknown:
        return (
            f"{settings.path or config_path()}: keys.{unknown[0]}: no such binding; "
            f"known: {', '.join(known)}"
        )
    return ""


def launch(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"mxtui: {exc}", file=sys.stderr)
        return 2
    problem = _check_keys(settings)
    if problem:
        print(f"mxtui: {printable(problem)}", file=sys.stderr)
        return 2
    port = args.port if args.port is not None else settings.port
    if not 0 < port < 65536:
        print("mxtui: --port must be from 1 to 65535", file=sys.stderr)
        return 2
    # The settings' nameservers serve a domain given on the command line; with no domain and
    # no --nameserver the app opens the lab demo.
    nameservers = args.nameserver or (list(settings.nameservers) if args.domain else [])
    app = make_app(
        domain=args.domain,
        nameservers=nameservers,
        port=port,
        timeouts=settings.timeouts,
        dns_timeout=settings.dns_timeout,
        envelope=_envelope(settings, (args.domain or DEMO_DOMAIN).strip().rstrip(".")),
        profile=settings.profile,
    )
    if settings.theme:
        if settings.theme not in app.available_themes:
            known = ", ".join(sorted(app.available_themes))
            print(
                printable(
                    f"mxtui: {settings.path or config_path()}: theme: unknown theme "
                    f"{settings.theme!r}; known: {known}"
                ),
                file=sys.stderr,
            )
            return 2
        app.theme = settings.theme
    if settings.keys:
        app.set_keymap(dict(settings.keys))
    app.run()
    return app.return_code or 0
