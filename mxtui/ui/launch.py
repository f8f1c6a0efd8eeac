"""From parsed command-line arguments to a running app."""

from __future__ import annotations

import argparse

from mxtui.ui.app import make_app


def launch(args: argparse.Namespace) -> int:
    app = make_app(domain=args.domain, nameservers=args.nameserver)
    app.run()
    return app.return_code or 0
