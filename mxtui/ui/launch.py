"""From parsed command-line arguments to a running app."""

from __future__ import annotations

import argparse
import sys

from mxtui.ui.app import make_app


def launch(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        print("mxtui: --port must be from 1 to 65535", file=sys.stderr)
        return 2
    app = make_app(domain=args.domain, nameservers=args.nameserver, port=args.port)
    app.run()
    return app.return_code or 0
