"""`mxtui serve`: the app in web browsers, through textual-serve, for a room of trainees.

Every browser tab gets its own `python -m mxtui ARGS` process (same interpreter as this one), so
each trainee has a private lab.  The server listens on loopback unless --host says otherwise:
sharing a terminal app on the network is a choice the trainer makes, never a default.
textual-serve (and aiohttp under it) is imported only when the server starts, so that
`mxtui serve --help` stays as quick as the other commands.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import ipaddress
import shlex
import socket
import sys
from typing import Any

DESCRIPTION = (
    "Run the app in web browsers through textual-serve: each browser tab that opens the URL gets "
    "its own mxtui process (its own lab). Listens on loopback (127.0.0.1) unless --host is given; "
    "use --host 0.0.0.0 to let other machines in the room connect."
)
EPILOG = """\
exit status:
  0  stopped by Ctrl-C or SIGTERM
  1  could not listen (for example the port is in use)
  2  bad input: an invalid port, or a host that is not an address of this machine

examples:
  mxtui serve                                   (http://127.0.0.1:8000/, this machine only)
  mxtui serve --port 8080 -- lab greylist-primary
  mxtui serve --host 0.0.0.0 --public-url http://trainer.lan:8000
"""

WILDCARDS = {"0.0.0.0", "::", ""}


class ServeError(Exception):
    """The server cannot start; ``status`` is the exit status and the message says why."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r}: port must be a number from 1 to 65535")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: loopback, this machine only; "
        "0.0.0.0 or :: for every interface)",
    )
    parser.add_argument(
        "--port", type=_port, default=8000, metavar="N", help="TCP port (default 8000)"
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL browsers use to reach this server, when it differs from http://HOST:PORT "
        "(a wildcard --host, a proxy)",
    )
    parser.add_argument(
        "args",
        nargs="*",
        metavar="-- ARGS",
        help="arguments for the app in each browser tab, after '--' (as for `mxtui ARGS`)",
    )


def app_command(args: list[str]) -> str:
    """The shell command textual-serve runs per browser tab: this interpreter, `-m mxtui ARGS`."""
    return shlex.join([sys.executable, "-m", "mxtui", *args])


def public_url(host: str, port: int) -> str:
    """The URL to print and to embed in the page (its websocket URL is derived from it).

    A wildcard address is not somewhere a browser can go, so the machine's name stands in for it.
    """
    if host in WILDCARDS:
        host = socket.gethostname()
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass
    return f"http://{host}:{port}"


def check_listen(host: str, port: int) -> None:
    """Bind every address HOST stands for, then let go: failures become one clear ServeError.

    aiohttp would otherwise fail after the server has announced itself, with a traceback.
    """
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (OSError, UnicodeError) as exc:
        raise ServeError(f"--host {host!r}: cannot find its address ({exc})", 2) from None
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRNOTAVAIL:
                    raise ServeError(
                        f"--host {host!r}: {address[0]} is not an address of this machine", 2
                    ) from None
                reason = "in use" if exc.errno == errno.EADDRINUSE else exc.strerror
                message = f"cannot listen on {address[0]} port {port}: {reason}"
                raise ServeError(message, 1) from None


def _args_for_app(args: argparse.Namespace) -> list[str]:
    forwarded = list(args.args)
    if forwarded[:1] == ["--"]:
        forwarded = forwarded[1:]
    if args.config is not None:  # each tab's app reads the same settings file
        forwarded = ["--config", str(args.config.expanduser().resolve()), *forwarded]
    return forwarded


def run(args: argparse.Namespace) -> int:
    forwarded = _args_for_app(args)
    try:
        check_listen(args.host, args.port)
    except ServeError as exc:
        print(f"mxtui serve: {exc}", file=sys.stderr)
        return exc.status
    url = args.public_url or public_url(args.host, args.port)
    where = "loopback only" if _is_loopback(args.host) else f"listening on {args.host or '*'}"
    server = _make_server(app_command(forwarded), args.host, args.port, url, where)
    asyncio.set_event_loop(asyncio.new_event_loop())
    try:
        server.serve()
    except OSError as exc:  # lost a race for the port after check_listen
        print(f"mxtui serve: cannot listen on port {args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _make_server(command: str, host: str, port: int, url: str, where: str) -> Any:
    """A textual-serve Server that announces itself in one line instead of a banner."""
    from textual_serve.server import Server

    class MxtuiServer(Server):
        # Open tabs, so that Ctrl-C ends their apps at once: aiohttp alone waits on each open
        # websocket (about 20 s with one tab) before the apps are told to quit.
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.tabs: set[asyncio.Task[Any]] = set()

        async def on_startup(self, app: Any) -> None:
            print(f"mxtui serve: open {url}/ in a browser ({where}); Ctrl-C stops", flush=True)

        async def handle_websocket(self, request: Any) -> Any:
            tab = asyncio.current_task()
            assert tab is not None
            self.tabs.add(tab)
            try:
                return await super().handle_websocket(request)
            finally:
                self.tabs.discard(tab)

        async def on_shutdown(self, app: Any) -> None:
            # A cancelled tab closes its websocket and stops its app (Server.handle_websocket).
            open_tabs = list(self.tabs)
            for tab in open_tabs:
                tab.cancel()
            await asyncio.gather(*open_tabs, return_exceptions=True)

    return MxtuiServer(command, host=host, port=port, title="mxtui", public_url=url)
