"""`mxtui serve`: the app in web browsers, through textual-serve, for a room of trainees.

Every browser tab gets its own `python -m mxtui ARGS` process (same interpreter as this one), so
each trainee has a private lab. A served app can do what the app can do: talk SMTP to real hosts
and, after a yes in its dialog, send real mail from this machine. So the server is shut by
default and opened on purpose:

* it listens on loopback unless --host says otherwise, and says loudly when it does not;
* every request needs the random token in the URL it prints (as Jupyter's does): the page, its
  static files and downloads (the token, or the cookie the page sets), and the websocket (the
  token in its path), compared in constant time;
* the websocket also needs an Origin header naming this server, so a page from another site open
  in the trainer's browser cannot drive an app even if it learnt the address;
* at most --max-apps app processes run at once; a tab beyond that is refused;
* exports (key w) go to --exports, one folder per tab, never the server's working directory.

textual-serve (and aiohttp under it) is imported only when the server starts, so that
`mxtui serve --help` stays as quick as the other commands.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import ipaddress
import itertools
import json
import os
import secrets
import shlex
import signal
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mxtui.errors import MxtuiError
from mxtui.netargs import count_type, port_type
from mxtui.text import printable

DESCRIPTION = (
    "Run the app in web browsers through textual-serve: each browser tab that opens the URL gets "
    "its own mxtui process (its own lab). Listens on loopback (127.0.0.1) unless --host is given; "
    "use --host 0.0.0.0 to let other machines in the room connect. The URL printed holds a "
    "random token: only a browser given that URL can open the app."
)
EPILOG = """\
exit status:
  0  stopped by Ctrl-C or SIGTERM
  1  could not listen (for example the port is in use)
  2  bad input: an invalid port, a host that is not an address of this machine, an empty
     --host, or an --exports folder that cannot be used

safety:
  Each tab can talk SMTP to real servers from this machine and, after a yes in its dialog, send
  real mail. Every request needs the token in the printed URL; the websocket also needs an
  Origin naming this server; at most --max-apps apps run at once. Share the URL only with the
  room, and keep the default loopback address unless the room must connect.

examples:
  mxtui serve                                   (http://127.0.0.1:8000/?token=..., this machine)
  mxtui serve --port 8080 -- lab greylist-primary
  mxtui serve --host 0.0.0.0 --public-url http://trainer.lan:8000 --max-apps 30
"""

DEFAULT_MAX_APPS = 20
"""Concurrent app processes (about 50 MB each): a class, not a crowd."""

TOKEN_BYTES = 24
"""Random bytes in the token (32 URL-safe characters)."""

COOKIE = "mxtui-serve-token"
EXPORT_DIR_ENV = "MXTUI_EXPORT_DIR"
"""Where the app writes its exports (read by the app's export action)."""

WILDCARDS = {"0.0.0.0", "::"}


class ServeError(MxtuiError):
    """The server cannot start; ``status`` is the exit status and the message says why."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: loopback, this machine only; "
        "0.0.0.0 or :: for every interface)",
    )
    parser.add_argument(
        "--port", type=port_type, default=8000, metavar="N", help="TCP port (default 8000)"
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL browsers use to reach this server, when it differs from http://HOST:PORT "
        "(a wildcard --host, a proxy)",
    )
    parser.add_argument(
        "--max-apps",
        type=count_type,
        default=DEFAULT_MAX_APPS,
        metavar="N",
        help=f"at most N app processes at once, one per open tab (default {DEFAULT_MAX_APPS})",
    )
    parser.add_argument(
        "--exports",
        metavar="DIR",
        help="folder for the tabs' exports (key w), one subfolder per tab; created if missing "
        "(default: a new temporary folder, printed at start)",
    )
    parser.add_argument(
        "args",
        nargs="*",
        metavar="-- ARGS",
        help="arguments for the app in each browser tab, after '--' (as for `mxtui ARGS`)",
    )


def app_command(args: list[str], exports: Path | None = None) -> str:
    """The shell command textual-serve runs per browser tab: this interpreter, `-m mxtui ARGS`,
    with the tab's export folder in the environment."""
    command = shlex.join([sys.executable, "-m", "mxtui", *args])
    if exports is None:
        return command
    return f"{EXPORT_DIR_ENV}={shlex.quote(str(exports))} exec {command}"


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


def check_host(host: str) -> None:
    """An empty --host would listen on every interface without saying so: refused."""
    if not host.strip():
        raise ServeError(
            "--host '': an empty address would listen on every interface; give 127.0.0.1 "
            "(this machine), or 0.0.0.0 / :: to mean every interface",
            2,
        )


def check_listen(host: str, port: int) -> None:
    """Bind every address HOST stands for, then let go: failures become one clear ServeError.

    aiohttp would otherwise fail after the server has announced itself, with a traceback.
    """
    check_host(host)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:
        raise ServeError(
            f"--host '{printable(host)}': cannot find its address ({exc})", 2
        ) from None
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
                        f"--host '{printable(host)}': {address[0]} is not an address of this "
                        "machine",
                        2,
                    ) from None
                reason = "in use" if exc.errno == errno.EADDRINUSE else exc.strerror
                message = f"cannot listen on {address[0]} port {port}: {reason}"
                raise ServeError(message, 1) from None


def exports_folder(given: str | None) -> Path:
    """The folder for exports: the one given (created, private), or a new temporary one."""
    if given is None:
        return Path(tempfile.mkdtemp(prefix="mxtui-serve-exports-"))
    folder = Path(given).expanduser().resolve()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ServeError(f"--exports '{printable(str(folder))}': {exc.strerror}", 2) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ServeError(f"--exports '{printable(str(folder))}': not a writable folder", 2)
    return folder


def _args_for_app(args: argparse.Namespace) -> list[str]:
    forwarded = list(args.args)
    if forwarded[:1] == ["--"]:
        forwarded = forwarded[1:]
    if args.config is not None:  # each tab's app reads the same settings file
        forwarded = ["--config", str(args.config.expanduser().resolve()), *forwarded]
    return forwarded


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def run(args: argparse.Namespace) -> int:
    forwarded = _args_for_app(args)
    try:
        check_listen(args.host, args.port)
        exports = exports_folder(args.exports)
    except ServeError as exc:
        print(f"mxtui serve: {exc}", file=sys.stderr)
        return exc.status
    url = args.public_url or public_url(args.host, args.port)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    loopback = _is_loopback(args.host)
    if not loopback:
        print(
            f"mxtui serve: WARNING: listening on {printable(args.host)}, not loopback: anyone "
            "who can reach this machine and has the URL below can run the app here, talk SMTP "
            "to real servers from this machine and, after a yes in the app, send real mail. "
            "Share the URL (its token) with the room only.",
            file=sys.stderr,
            flush=True,
        )
    server = _make_server(
        forwarded,
        host=args.host,
        port=args.port,
        url=url,
        token=token,
        max_apps=args.max_apps,
        exports=exports,
        where="loopback only" if loopback else f"listening on {printable(args.host)}",
    )
    asyncio.set_event_loop(asyncio.new_event_loop())
    try:
        server.serve()
    except OSError as exc:  # lost a race for the port after check_listen
        print(f"mxtui serve: cannot listen on port {args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


def _make_server(
    forwarded: list[str],
    *,
    host: str,
    port: int,
    url: str,
    token: str,
    max_apps: int,
    exports: Path,
    where: str,
) -> Any:
    """A textual-serve Server behind a token, an Origin check and a cap on app processes."""
    import aiohttp_jinja2
    from aiohttp import WSMsgType, web
    from textual_serve.app_service import AppService
    from textual_serve.server import Server, to_int

    public = _origin(url)

    def announce() -> None:
        print(
            f"mxtui serve: open {url}/?token={token} in a browser ({where}); at most "
            f"{max_apps} apps at once; exports go to {printable(str(exports))}; Ctrl-C stops",
            flush=True,
        )

    tab_numbers = itertools.count(1)

    def has_token(request: web.Request) -> bool:
        given = (
            request.match_info.get("token")
            or request.query.get("token")
            or request.cookies.get(COOKIE)
            or ""
        )
        return secrets.compare_digest(given.encode(), token.encode())

    @web.middleware
    async def require_token(request: web.Request, handler: Any) -> web.StreamResponse:
        if not has_token(request):
            return web.Response(
                status=403,
                text="mxtui serve: this address needs the token: open the URL the server "
                "printed (…/?token=…)\n",
            )
        return await handler(request)

    class MxtuiServer(Server):
        # Open tabs, so that Ctrl-C ends their apps at once: aiohttp alone waits on each open
        # websocket (about 20 s with one tab) before the apps are told to quit.
        def __init__(self) -> None:
            super().__init__(app_command(forwarded), host=host, port=port, title="mxtui",
                             public_url=url)  # fmt: skip
            self.tabs: set[asyncio.Task[Any]] = set()

        def initialize_logging(self) -> None:
            """textual-serve's rich log would print every request; errors are enough here."""

        async def _make_app(self) -> web.Application:
            app = web.Application(middlewares=[require_token])
            aiohttp_jinja2.setup(app, loader=_template_loader(self.templates_path))
            app.add_routes(
                [
                    web.get("/", self.handle_index, name="index"),
                    web.get("/ws/{token}", self.handle_websocket, name="websocket"),
                    web.get("/download/{key}", self.handle_download, name="download"),
                    web.static("/static", self.statics_path, name="static"),
                ]
            )
            app.on_startup.append(self.on_startup)
            app.on_shutdown.append(self.on_shutdown)
            return app

        async def on_startup(self, app: Any) -> None:
            """Announced in `serve`, once the socket listens, not before."""

        def serve(self, debug: bool = False) -> None:
            # textual-serve's serve, with the announcement printed when aiohttp is listening.
            loop = asyncio.get_event_loop()
            loop.add_signal_handler(signal.SIGINT, self.request_exit)
            loop.add_signal_handler(signal.SIGTERM, self.request_exit)
            web.run_app(
                self._make_app(), host=host, port=port, handle_signals=False, loop=loop,
                print=lambda *_: announce(),
            )  # fmt: skip

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            font_size = to_int(request.query.get("fontsize", "16"), 16)
            websocket = request.app.router["websocket"].url_for(token=token)
            scheme = "wss" if url.startswith("https") else "ws"
            context = {
                "font_size": font_size,
                "app_websocket_url": f"{scheme}:{url.split(':', 1)[1]}{websocket}",
                "config": {"static": {"url": f"{url}/static/"}},
                "application": {"name": self.title},
            }
            response = aiohttp_jinja2.render_template("app_index.html", request, context)
            # The page's static files (and downloads) come without the query: the cookie
            # carries the token for them, to this server only.
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
            response.headers["Cache-Control"] = "no-store"
            response.headers["Referrer-Policy"] = "no-referrer"
            return response

        async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
            origin = request.headers.get("Origin", "")
            if not _origin_allowed(origin, request.host, public):
                return web.Response(
                    status=403,
                    text=f"mxtui serve: a websocket from origin {origin or '(none)'!r} is not "
                    "allowed\n",
                )
            if len(self.tabs) >= max_apps:
                print(
                    f"mxtui serve: refused a tab: {max_apps} apps already run (--max-apps)",
                    file=sys.stderr,
                    flush=True,
                )
                return web.Response(status=503, text="mxtui serve: too many open tabs\n")
            tab = asyncio.current_task()
            assert tab is not None
            self.tabs.add(tab)
            try:
                return await self._run_tab(request, next(tab_numbers))
            finally:
                self.tabs.discard(tab)

        async def _run_tab(self, request: web.Request, number: int) -> web.StreamResponse:
            """textual-serve's websocket handler, with the tab's own export folder."""
            folder = exports / f"tab-{number}"
            folder.mkdir(mode=0o700, exist_ok=True)
            websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE)
            width, height = _screen(request.query.get("width"), request.query.get("height"))
            service: AppService | None = None
            try:
                await websocket.prepare(request)
                service = AppService(
                    app_command(forwarded, folder),
                    write_bytes=websocket.send_bytes,
                    write_str=websocket.send_str,
                    close=websocket.close,
                    download_manager=self.download_manager,
                    debug=self.debug,
                )
                await service.start(width, height)
                try:
                    await self._process_messages(websocket, service)
                finally:
                    await service.stop()
            except asyncio.CancelledError:
                await websocket.close()
            except Exception as error:  # a broken message from a browser ends its tab only
                print(f"mxtui serve: a tab ended: {printable(str(error))}", file=sys.stderr)
            finally:
                if service is not None:
                    await service.stop()
            return websocket

        async def _process_messages(self, websocket: Any, service: AppService) -> None:
            """textual-serve's loop over a tab's messages, with every size clamped (a browser
            asking for a 20000 x 20000 terminal would have its app grow without end) and a
            message that is not what the page sends ending that tab only."""
            async for message in websocket:
                if message.type != WSMsgType.TEXT:
                    continue
                envelope = json.loads(message.data)
                if not isinstance(envelope, list) or not envelope:
                    raise ValueError("a message that is not a list")
                kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
                if (kind == "stdin" and not isinstance(data, str)) or (
                    kind == "resize" and not isinstance(data, dict)
                ):
                    raise ValueError(f"a {printable(str(kind))} message with the wrong data")
                if kind == "stdin":
                    await service.send_bytes(data.encode("utf-8"))
                elif kind == "resize":
                    await service.set_terminal_size(*_screen(data.get("width"),
                                                             data.get("height")))  # fmt: skip
                elif kind == "ping":
                    await websocket.send_json(["pong", data])
                elif kind == "blur":
                    await service.blur()
                elif kind == "focus":
                    await service.focus()

        async def on_shutdown(self, app: Any) -> None:
            # A cancelled tab closes its websocket and stops its app.
            open_tabs = list(self.tabs)
            for tab in open_tabs:
                tab.cancel()
            await asyncio.gather(*open_tabs, return_exceptions=True)

    return MxtuiServer()


MAX_COLUMNS, MAX_ROWS = 500, 200
"""The largest terminal a tab may ask for (a 4K screen in a small font is about 480 x 130)."""
MAX_MESSAGE = 1024 * 1024
"""The largest websocket message a tab may send (a paste of a long message body)."""


def _screen(width: object, height: object) -> tuple[int, int]:
    """A terminal size a browser asked for: whole numbers from 5 up to the maximum."""

    def clamp(value: object, default: int, top: int) -> int:
        try:
            number = int(str(value))
        except ValueError:
            number = default
        return max(5, min(number, top))

    return clamp(width, 80, MAX_COLUMNS), clamp(height, 24, MAX_ROWS)


def _template_loader(path: Path) -> Any:
    import jinja2

    return jinja2.FileSystemLoader(path)


def _origin_allowed(origin: str, host_header: str, public: str) -> bool:
    """A browser's websocket may come only from a page of this server: its Origin is the
    address the page was loaded from (the Host it asked) or the public URL's. A page of any
    other site sends its own origin, and is refused."""
    origin = origin.rstrip("/").lower()
    if not origin:
        return False  # every browser sends one; a client that does not is not a browser tab
    same = {f"http://{host_header}".lower(), f"https://{host_header}".lower()}
    return origin in same or origin == public


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
