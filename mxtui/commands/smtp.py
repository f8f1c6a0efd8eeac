"""`mxtui smtp --server HOST --from A --to B`: one SMTP conversation, step by step, headless.

Flag names follow swaks where they overlap, so a swaks user can switch without reading. The
transcript streams as it happens (swaks-style markers), or comes as one JSON document at the end.
Unlike swaks, a temporary (4xx) and a permanent (5xx) failure exit differently, because that is
the difference a sending MTA acts on.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mxtui.endpoint import EndpointError, resolve_host, split_endpoint
from mxtui.errors import UsageError
from mxtui.fields import FieldError, check_envelope, check_field, check_name
from mxtui.filedata import FileDataError, read_limited
from mxtui.netargs import count_type, nameserver_type, seconds_type
from mxtui.output import json_text
from mxtui.smtp import flags
from mxtui.text import printable

if TYPE_CHECKING:  # the run imports these (asyncio, aiosmtplib, the model) when it starts
    from mxtui.model import Credentials, DSNRequest, Envelope, SessionEvent, StepResult, TLSMode
    from mxtui.smtp.session import Session
    from mxtui.smtp.tlsconf import TLSClientOptions

DESCRIPTION = (
    "Talk SMTP to one server, stage by stage (connect, greeting, EHLO, STARTTLS, AUTH, MAIL, "
    "RCPT, DATA, the message and its dot, QUIT), and show every line with its direction. "
    "The end-of-data dot is sent only with --send: without it the conversation stops before "
    "the server takes the message."
)
EPILOG = """\
exit status:
  0  every step was accepted (up to --quit-after, or the whole conversation)
  1  a permanent failure: a 5xx reply (greeting, EHLO/HELO, AUTH, MAIL, RCPT, DATA or the dot)
  2  bad input (an option or a file that cannot be used)
  3  a temporary failure: a 4xx reply (a sender would retry later)
  4  no usable connection: refused, timed out, dropped, a broken reply, or a TLS failure
     (with --tls, any answer to STARTTLS but 220 is one: TLS did not start); or a command
     mxtui would not send (AUTH the server did not offer, or over an unencrypted connection)
  5  held before the end-of-data dot: add --send to let the server take the message

examples:
  mxtui smtp --server 127.0.0.1:2525 --from a@example.org --to b@example.com --quit-after rcpt
  mxtui smtp --server mx.example.com --tls --from a@example.org --to b@example.com --send
  mxtui smtp --server 127.0.0.1:2525 --from a@x.org --to b@y.org --data @msg.eml --send --json
"""

QUICK_EXIT = True
"""The run leaves nothing for Python's shutdown (no thread, no file of its own, no exit
handler): the console script ends the process as soon as the output is flushed (`mxtui.cli`)."""

EXIT_OK, EXIT_PERMANENT, EXIT_TEMPORARY, EXIT_CONNECTION, EXIT_HELD = 0, 1, 3, 4, 5
"""By how the conversation ended; 2 is bad input (`mxtui.errors.EXIT_USAGE`), as for every
command."""

QUIT_AFTER = (
    "connect", "banner", "first-helo", "tls", "helo", "xclient", "auth", "mail", "rcpt", "data",
    "dot",
)  # fmt: skip
_ALIASES = {
    "greeting": "banner",
    "first-ehlo": "first-helo",
    "ehlo": "helo",
    "lhlo": "helo",
    "starttls": "tls",
    "from": "mail",
    "to": "rcpt",
}
# What may still run before each --quit-after point is reached (swaks' stops), as Stage values
# (a Stage is a str: "rcpt" == Stage.RCPT), so the model is imported only when a run starts.
_HELLO = {"connect", "greeting", "ehlo", "helo"}
_BEFORE: dict[str, set[str]] = {
    "connect": {"connect"},
    "banner": {"connect", "greeting"},
    "first-helo": _HELLO,
    "tls": _HELLO | {"starttls"},
    "helo": _HELLO | {"starttls"},
    "xclient": _HELLO | {"starttls", "xclient"},
    "auth": _HELLO | {"starttls", "xclient", "auth"},
}
_BEFORE["mail"] = _BEFORE["auth"] | {"mail"}
_BEFORE["rcpt"] = _BEFORE["mail"] | {"rcpt"}
_BEFORE["data"] = _BEFORE["rcpt"] | {"data"}
_BEFORE["dot"] = _BEFORE["data"] | {"dot"}
_STOP_AFTER_ONE = {"first-helo": {"ehlo", "helo"}, "tls": {"starttls"}}
"""Points reached as soon as one such step ran (the first hello; the TLS negotiation)."""


def _quit_after(text: str) -> str:
    value = _ALIASES.get(text.lower(), text.lower())
    if value not in QUIT_AFTER:
        raise argparse.ArgumentTypeError(f"{text!r}: choose one of {', '.join(QUIT_AFTER)}")
    return value


def _auth_types(text: str) -> tuple[str, ...]:
    try:
        return flags.auth_types(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _Attach(argparse.Action):
    """--attach in order with the --attach-type / --attach-name given before it (as swaks)."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        items = list(getattr(namespace, "attach", None) or [])
        items.append((values, namespace.attach_type, namespace.attach_name))
        namespace.attach_name = None  # a name is for one attachment; a type stays (as swaks)
        namespace.attach = items


def add_arguments(parser: argparse.ArgumentParser) -> None:
    conn = parser.add_argument_group("connection")
    conn.add_argument(
        "-s",
        "--server",
        metavar="HOST[:PORT]",
        help="server to talk to (port 25 or the settings' port, 465 with --tls-on-connect); "
        "without it, the first MX host of the first --to's domain (as swaks does)",
    )
    conn.add_argument(
        "-p", "--port", type=int, metavar="PORT", help="port, when not given in --server"
    )
    family = conn.add_mutually_exclusive_group()
    # -4 / -6 reach argparse as --ipv4 / --ipv6 (rewrite_argv): an option that looks like a
    # negative number would stop "--timeout -1" from reaching the check that refuses it.
    family.add_argument("--ipv4", dest="family", action="store_const", const=4,
                        help="-4: connect over IPv4 only")  # fmt: skip
    family.add_argument("--ipv6", dest="family", action="store_const", const=6,
                        help="-6: connect over IPv6 only")  # fmt: skip
    conn.add_argument(
        "-li",
        "--local-interface",
        metavar="ADDRESS",
        help="this machine's address to connect from",
    )
    conn.add_argument(
        "--protocol",
        type=str.upper,
        choices=flags.PROTOCOLS,
        default="ESMTP",
        help="SMTP: HELO and no extensions; ESMTP: EHLO (default); LMTP: LHLO, and one reply "
        "per recipient after the message (RFC 2033)",
    )
    conn.add_argument(
        "--ehlo",
        "--helo",
        "--lhlo",
        dest="ehlo",
        metavar="NAME",
        help="name to give in EHLO/HELO/LHLO (default the settings' envelope.ehlo, else this "
        "machine's name)",
    )
    conn.add_argument(
        "--timeout",
        type=seconds_type,
        metavar="S",
        help="seconds to wait for the connection and each reply "
        "(default 10 to connect, 30 per reply, or the settings' timeouts)",
    )
    conn.add_argument(
        "--nameserver",
        metavar="HOST[:PORT]",
        action="append",
        default=[],
        type=nameserver_type,
        help="DNS server for the MX lookup without --server",
    )
    conn.add_argument(
        "--xclient",
        action="append",
        default=[],
        metavar="ATTR=VALUE",
        help="send XCLIENT with these attributes (ADDR, NAME, PORT, PROTO, HELO, LOGIN, …; "
        "space- or comma-separated, repeatable): Postfix then treats you as that client",
    )
    for name in flags.XCLIENT_NAMES:
        conn.add_argument(f"--xclient-{name}", metavar="VALUE", help=argparse.SUPPRESS)

    env = parser.add_argument_group("envelope")
    env.add_argument(
        "-f",
        "--from",
        dest="mail_from",
        metavar="ADDRESS",
        help="envelope sender (MAIL FROM), default the settings' envelope.from; empty for the "
        "null sender <>",
    )
    env.add_argument(
        "-t",
        "--to",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="recipient (repeatable, or comma-separated); one RCPT each (default the "
        "settings' envelope.to)",
    )
    env.add_argument(
        "--dsn-notify",
        metavar="WHEN",
        help="DSN: NEVER, or SUCCESS,FAILURE,DELAY (RCPT NOTIFY=, RFC 3461)",
    )
    env.add_argument(
        "--dsn-ret",
        type=str.upper,
        choices=flags.DSN_RET,
        help="DSN: what a bounce returns (MAIL RET=)",
    )
    env.add_argument("--dsn-envid", metavar="ID", help="DSN: your id for the message (ENVID=)")
    env.add_argument(
        "--dsn-orcpt", action="store_true", help="DSN: send each recipient as ORCPT=rfc822;ADDRESS"
    )
    env.add_argument(
        "--requiretls",
        action="store_true",
        help="REQUIRETLS (RFC 8689): only to a server offering it, over TLS",
    )

    msg = parser.add_argument_group("message")
    msg.add_argument(
        "-d",
        "--data",
        metavar="TEXT|@FILE",
        help="the whole message: text (\\n for line ends) or @FILE; default a test message",
    )
    msg.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="replace that header of the test message, or add it (repeatable; "
        "--h-NAME VALUE and --header-NAME VALUE say the same)",
    )
    msg.add_argument(
        "--add-header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="add a header even when the message has one of that name",
    )
    msg.add_argument(
        "--body",
        metavar="TEXT|@FILE|-",
        help="the test message's body (text, a file, or - for standard input)",
    )
    msg.add_argument(
        "--attach",
        action=_Attach,
        metavar="@FILE|TEXT|-",
        help="attach a file (@FILE), text, or standard input (-), as MIME (repeatable)",
    )
    msg.add_argument(
        "--attach-type",
        default="application/octet-stream",
        metavar="TYPE",
        help="MIME type of the --attach options after it",
    )
    msg.add_argument(
        "--attach-name",
        metavar="NAME",
        help="file name of the next --attach (default the file's name)",
    )

    flow = parser.add_argument_group("transfer")
    flow.add_argument(
        "-q",
        "--quit-after",
        type=_quit_after,
        metavar="STAGE",
        help=f"stop after this stage and QUIT: {', '.join(QUIT_AFTER)}",
    )
    flow.add_argument(
        "--send",
        action="store_true",
        help="send the end of the message (the dot, or BDAT LAST), so the server takes it",
    )
    flow.add_argument(
        "--pipeline",
        action="store_true",
        help="PIPELINING: MAIL, RCPTs and DATA in one write, replies paired",
    )
    flow.add_argument(
        "--chunking",
        "--bdat",
        dest="chunking",
        action="store_true",
        help="CHUNKING: send the message with BDAT instead of DATA",
    )
    flow.add_argument(
        "--chunk-size",
        type=count_type,
        default=1024 * 1024,
        metavar="BYTES",
        help="bytes per BDAT chunk (default 1 MiB)",
    )

    tls = parser.add_argument_group("TLS")
    mode = tls.add_mutually_exclusive_group()
    mode.add_argument(
        "--tls", action="store_true", help="require STARTTLS (stop if the server does not start it)"
    )
    mode.add_argument(
        "--tls-optional",
        action="store_true",
        help="use STARTTLS when the server offers it, as MTAs do",
    )
    mode.add_argument(
        "--tls-on-connect", action="store_true", help="TLS from the first byte (SMTPS, port 465)"
    )
    tls.add_argument(
        "--tls-verify",
        action="store_true",
        help="stop when the certificate does not verify (shown either way)",
    )
    tls.add_argument(
        "--tls-verify-host",
        "--tls-name",
        dest="tls_name",
        metavar="NAME",
        help="host name the certificate must match (default the --server host)",
    )
    tls.add_argument(
        "--tls-ca-path", metavar="FILE", help="PEM certificates to trust besides the system's"
    )
    tls.add_argument("--tls-cert", metavar="FILE", help="client certificate (PEM)")
    tls.add_argument("--tls-key", metavar="FILE", help="its private key (PEM)")
    tls.add_argument(
        "--tls-sni", metavar="NAME", help="name to send as SNI (default the certificate name)"
    )
    tls.add_argument(
        "--tls-protocol", metavar="LIST", help="versions to use, e.g. tlsv1_2,tlsv1_3 or no_tlsv1_3"
    )
    tls.add_argument("--tls-cipher", metavar="LIST", help="OpenSSL cipher list (TLS 1.2)")

    auth = parser.add_argument_group("AUTH")
    which = auth.add_mutually_exclusive_group()
    which.add_argument(
        "-a",
        "--auth",
        nargs="?",
        const=(),
        type=_auth_types,
        metavar="TYPES",
        help="require AUTH; TYPES in order (PLAIN, LOGIN, CRAM-MD5, XOAUTH2), "
        "default the best offered",
    )
    which.add_argument(
        "-ao",
        "--auth-optional",
        nargs="?",
        const=(),
        type=_auth_types,
        metavar="TYPES",
        help="AUTH if offered and accepted, else go on without",
    )
    auth.add_argument("-au", "--auth-user", metavar="USER", help="AUTH user name")
    auth.add_argument(
        "-ap",
        "--auth-password",
        nargs="?",
        const=PROMPT,
        metavar="PASSWORD",
        help="AUTH password, or the OAuth token for XOAUTH2 (never shown or exported); "
        "without a value, asked for at the terminal",
    )
    auth.add_argument(
        "--auth-password-env",
        metavar="VAR",
        help="read the password from this environment variable",
    )
    auth.add_argument(
        "--auth-password-file",
        metavar="FILE",
        help="read the password from the first line of this file",
    )
    auth.add_argument(
        "--auth-cleartext",
        action="store_true",
        help="allow AUTH on a connection that is not encrypted (refused by default)",
    )

    out = parser.add_argument_group("output").add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON document at the end")
    out.add_argument(
        "--jsonl", action="store_true", help="print the transcript as JSON Lines at the end"
    )


PROMPT = "\0prompt"
"""--auth-password given without a value: ask at the terminal (not echoed)."""


def rewrite_argv(argv: list[str]) -> list[str]:
    """swaks' ``--h-NAME VALUE`` / ``--header-NAME VALUE`` (and ``=VALUE``) as
    ``--header 'NAME: VALUE'`` (argparse has no options with a free-form name), and ``-4`` /
    ``-6`` as ``--ipv4`` / ``--ipv6``."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-4", "-6"):
            out.append(f"--ipv{arg[1]}")
            i += 1
            continue
        for prefix in ("--h-", "--header-"):
            if arg.startswith(prefix) and len(arg) > len(prefix):
                name, eq, value = arg[len(prefix) :].partition("=")
                if not eq:
                    i += 1
                    value = argv[i] if i < len(argv) else ""
                out += ["--header", f"{name}: {value}"]
                break
        else:
            out.append(arg)
        i += 1
    return out


MAX_MESSAGE = 64 * 1024 * 1024
"""The largest --data, --body or --attach read (64 MiB: more than servers in common use take)."""
MAX_SECRET_FILE = 64 * 1024
"""The largest --auth-password-file read."""


def _read(option: str, spec: str) -> bytes:
    """TEXT, @FILE, or - (standard input), as swaks reads --body and --attach."""
    if spec == "-":
        data = sys.stdin.buffer.read(MAX_MESSAGE + 1)
        if len(data) > MAX_MESSAGE:
            raise UsageError(f"{option}: standard input is larger than 64 MiB")
        return data
    if spec.startswith("@"):
        path = Path(spec[1:])
        try:
            return read_limited(path, MAX_MESSAGE)
        except (OSError, FileDataError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UsageError(f"{option}: cannot read '{printable(str(path))}': {reason}") from None
    return spec.replace("\\n", "\n").encode("utf-8")


def _message(args: argparse.Namespace, envelope: Envelope) -> bytes:
    shaped = args.header or args.add_header or args.body is not None or args.attach
    if args.data is not None:
        if shaped:
            raise UsageError(
                "--data gives the whole message; --header, --add-header, --body and --attach "
                "shape the test message instead"
            )
        return _read("--data", args.data)
    if not shaped:
        return b""
    from mxtui.smtp.compose import Attachment, compose  # only when the message is shaped

    attachments = []
    for spec, mime_type, name in args.attach or []:
        default_name = Path(spec[1:]).name if spec.startswith("@") else ""
        attachments.append(Attachment(_read("--attach", spec), mime_type, name or default_name))
    body = None if args.body is None else _read("--body", args.body)
    try:
        return compose(envelope, headers=args.header, add_headers=args.add_header, body=body,
                       attachments=attachments)  # fmt: skip
    except ValueError as exc:
        raise UsageError(f"--header: {exc}") from None


def _recipients(values: list[str]) -> tuple[str, ...]:
    return tuple(r.strip() for value in values for r in value.split(",") if r.strip())


def _tls_mode(args: argparse.Namespace) -> TLSMode:
    if args.tls_on_connect:
        return "on-connect"
    if args.tls:
        return "required"
    return "optional" if args.tls_optional else "none"


def _password(args: argparse.Namespace) -> str:
    """The AUTH password from a variable, a file, the command line, or the terminal."""
    if args.auth_password_env:
        value = os.environ.get(args.auth_password_env)
        if value is None:
            raise UsageError(f"--auth-password-env: ${args.auth_password_env} is not set")
        return value
    if args.auth_password_file:
        try:
            text = read_limited(args.auth_password_file, MAX_SECRET_FILE).decode("utf-8")
        except (OSError, UnicodeDecodeError, FileDataError) as exc:
            why = getattr(exc, "strerror", None) or (
                str(exc) if isinstance(exc, FileDataError) else "not UTF-8 text"
            )
            raise UsageError(f"--auth-password-file: cannot read it: {why}") from None
        return text.splitlines()[0] if text else ""
    if args.auth_password not in (None, PROMPT):
        return str(args.auth_password)
    if not sys.stdin.isatty():
        raise UsageError(
            "AUTH needs a password: --auth-password-env VAR, --auth-password-file FILE, or run "
            "at a terminal to be asked"
        )
    import getpass

    return getpass.getpass("AUTH password: ")


def _credentials(args: argparse.Namespace) -> Credentials | None:
    asked = args.auth is not None or args.auth_optional is not None
    given = args.auth_password is not None or args.auth_password_env or args.auth_password_file
    if args.auth_user is None:
        if asked or given:
            raise UsageError("AUTH needs --auth-user (and a password)")
        return None
    if sum(1 for x in (args.auth_password_env, args.auth_password_file,
                       args.auth_password not in (None, PROMPT)) if x) > 1:  # fmt: skip
        raise UsageError("give the password one way: -ap, --auth-password-env or -file")
    mechanisms = args.auth_optional if args.auth_optional is not None else args.auth
    from mxtui.model import Credentials

    return Credentials(
        args.auth_user,
        _password(args),
        mechanisms=tuple(mechanisms or ()),
        optional=args.auth_optional is not None,
        cleartext=args.auth_cleartext,
    )


def _xclient(args: argparse.Namespace) -> tuple[tuple[str, str], ...]:
    pairs = list(flags.xclient_pairs(args.xclient))
    for name in flags.XCLIENT_NAMES:
        value = getattr(args, f"xclient_{name}")
        if value is not None:
            pairs.append((name.upper(), value))
    return tuple(pairs)


def _dsn(args: argparse.Namespace) -> DSNRequest | None:
    if not (args.dsn_notify or args.dsn_ret or args.dsn_envid or args.dsn_orcpt):
        return None
    notify = flags.dsn_notify(args.dsn_notify or "")
    from mxtui.model import DSNRequest

    return DSNRequest(notify, args.dsn_ret or "", args.dsn_envid or "", args.dsn_orcpt)


def _tls_options(args: argparse.Namespace) -> TLSClientOptions | None:
    return flags.tls_options(args.tls_cert or "", args.tls_key or "", args.tls_sni or "",
                             args.tls_protocol or "", args.tls_cipher or "")  # fmt: skip


def mx_server(
    domain: str, nameservers: list[tuple[str, int]], timeout: float, family: int = 0
) -> tuple[str, str]:
    """The first MX host of `domain` (swaks without --server): (its first address of the
    family asked for, its name)."""
    import asyncio

    from mxtui.dns.resolve import resolve_mx  # only without --server

    plan = asyncio.run(resolve_mx(domain, nameservers=nameservers, timeout=timeout))
    want = {socket.AF_INET: 4, socket.AF_INET6: 6}.get(family)
    for target in plan.targets:
        if want is None or target.family == want:
            return target.address, target.host
    problem = plan.problems[0].message if plan.problems else str(plan.status)
    raise UsageError(f"no --server, and no MX host of {domain} to use ({problem})")


def build_session(args: argparse.Namespace, on_event: Any = None) -> Session:
    """The Session the arguments describe; raises UsageError for arguments that cannot work.

    Every field is checked before the name lookup and long before connecting: a value the
    conversation could not send ends the run here, with one line that says which. What the
    command line leaves open comes from the settings (checked the same way, named by key).
    """
    settings = args.settings
    default_port = 465 if args.tls_on_connect else settings.port
    mail_from = settings.mail_from if args.mail_from is None else args.mail_from
    if mail_from is None:  # neither --from nor the settings: swaks' default (said by run)
        from mxtui.desk.envelope import default_sender

        mail_from = default_sender()
    recipients = _recipients(args.to) or settings.recipients
    ehlo = args.ehlo or settings.ehlo or None
    named = (
        "--from" if args.mail_from is not None else "envelope.from",
        "--to" if args.to else "envelope.to",
        "--ehlo" if args.ehlo else "envelope.ehlo",
        "--header",
    )
    family = {4: socket.AF_INET, 6: socket.AF_INET6}.get(args.family or 0, 0)
    try:
        check_envelope(mail_from, recipients, ehlo=ehlo, flags=named,
                       headers=[*args.header, *args.add_header])  # fmt: skip
        texts = [
            ("--dsn-envid", args.dsn_envid),
            ("--auth-user", args.auth_user),
            ("--attach-type", args.attach_type),
        ]
        texts += [(f"--xclient-{n}", getattr(args, f"xclient_{n}")) for n in flags.XCLIENT_NAMES]
        texts += [("--attach-type", t) for _, t, _ in args.attach or []]
        texts += [("--attach-name", n) for _, _, n in args.attach or [] if n]
        for flag, value in texts:
            check_field(flag, value or "")
        names = [
            ("--local-interface", args.local_interface),
            ("--tls-verify-host", args.tls_name),
        ]
        for flag, value in names:
            if value:
                check_name(flag, value)
    except FieldError as exc:
        raise UsageError(str(exc)) from None
    xclient, tls_options = _xclient(args), _tls_options(args)  # checked before any lookup
    if args.port is not None and not 0 < args.port < 65536:
        raise UsageError("--port must be a number from 1 to 65535")
    if not recipients and (args.quit_after is None or "rcpt" in _BEFORE[args.quit_after]):
        raise UsageError("give at least one --to, or stop earlier with --quit-after")
    if args.server is None:
        if not recipients:
            raise UsageError("give --server, or a --to whose domain's MX is used")
        domain = recipients[0].rpartition("@")[2]
        if not domain:
            raise UsageError(f"no --server, and {recipients[0]!r} has no domain")
        nameservers = list(args.nameserver or settings.nameservers)
        address, host = mx_server(domain, nameservers, args.timeout or 5.0, family)
        port = args.port or default_port
        args.server = host
    else:
        try:
            host, given_port = split_endpoint(args.server)
        except EndpointError as exc:
            raise UsageError(f"--server: {exc}") from None
        port = default_port if given_port is None else given_port
        if args.port is not None:
            if given_port is not None:
                raise UsageError("give the port in --server or in --port, not both")
            port = args.port
        try:
            address = resolve_host(host, port, family)
        except EndpointError as exc:
            raise UsageError(f"--server: {exc}") from None
    trust = None
    if args.tls_ca_path:
        trust = flags.read_ca(args.tls_ca_path)
    from dataclasses import replace

    from mxtui.model import Envelope, Stage, Timeouts  # the run's imports start here
    from mxtui.smtp.dialer import RealDialer
    from mxtui.smtp.session import Session

    envelope = Envelope(
        mail_from=mail_from,
        recipients=recipients,
        ehlo_name=ehlo or socket.gethostname() or "localhost",
        credentials=_credentials(args),
        dsn=_dsn(args),
        requiretls=args.requiretls,
    )
    envelope = replace(envelope, message=_message(args, envelope))
    try:
        session = Session(
            address,
            envelope,
            dialer=RealDialer(port, family=family, local_address=args.local_interface),
            port=port,
            tls=_tls_mode(args),
            tls_verify=args.tls_verify,
            tls_name=args.tls_name or host,
            trust_pem=trust,
            timeouts=Timeouts.all(args.timeout) if args.timeout else settings.timeouts,
            on_event=on_event,
            protocol=args.protocol.lower(),
            pipelining=args.pipeline,
            chunking=args.chunking,
            chunk_size=args.chunk_size,
            xclient=xclient,
            tls_options=tls_options,
        )
    except ValueError as exc:
        raise UsageError(f"--tls-ca-path: no certificates in it ({exc})") from None
    if args.quit_after in ("mail", "rcpt"):
        session.pipeline_through = Stage.MAIL if args.quit_after == "mail" else Stage.RCPT
    return session


MAX_STEPS = 64
"""More steps than any standard conversation takes: a bound, so it cannot loop."""


async def converse(session: Session, quit_after: str | None, send: bool) -> None:
    """Step the standard path up to `quit_after` (swaks' stops), then QUIT (or close when
    nothing was said). A step the session refused to send ends the conversation."""
    allowed = _BEFORE.get(quit_after or "dot", _BEFORE["dot"])
    stop_after = _STOP_AFTER_ONE.get(quit_after or "", set())
    for _ in range(MAX_STEPS + len(session.envelope.recipients)):
        stage = session.next_stage()
        if stage is None or stage == "quit" or stage not in allowed:
            break
        result = await session.run_stage(stage, confirm_send=send)
        if result.failure in ("held", "not-sent") or result.stage in stop_after:
            break
    if session.connected and not session.quit_sent:
        if session.greeted:
            await session.quit()
        else:
            session.close()


def outcome(session: Session) -> str:
    """One word for how the conversation went (the JSON `outcome`; decides the exit status)."""
    creds = session.envelope.credentials
    for step in session.steps:
        if step.stage == "quit" or step.failure == "skipped":
            continue
        if step.failure == "held":
            return "held"
        if step.outcome is not None:
            return str(step.outcome)
        if step.failure in ("tls-failed", "tls-unverified"):
            return step.failure
        if step.failure in ("malformed-reply", "reply-too-long"):
            return "protocol-error"
        if step.failure == "not-sent":
            return "not-sent"
        if step.stage == "auth" and creds is not None and creds.optional:
            continue  # --auth-optional: a refused account is not a failure
        replies = step.replies if step.stage == "dot" and step.replies else (step.reply,)
        worst = max((r for r in replies if r is not None), key=lambda r: r.klass, default=None)
        if worst is not None and worst.code >= 400:
            if step.stage == "ehlo" and worst.klass == 5 and _helo_followed(session):
                continue  # EHLO refused and HELO tried: judged by HELO
            if step.stage == "starttls" and session.tls_mode == "optional":
                continue  # opportunistic TLS: a refusal is not a failure
            return "temporary" if worst.klass == 4 else "permanent"
        if (
            step.stage == "starttls"
            and session.tls_mode == "required"
            and step.reply is not None
            and step.reply.code != 220
        ):
            return "tls-failed"  # --tls: any answer but 220 (a 250, say) means no TLS
        if step.reply is not None and not _as_expected(step):
            return "protocol-error"  # a 354 to MAIL, a 250 to DATA: that step did not happen
    return "ok"


def _as_expected(step: StepResult) -> bool:
    """Whether a reply under 400 is the one its stage calls for: 354 to DATA, 2xx elsewhere."""
    assert step.reply is not None
    if step.stage == "data":
        return step.reply.code == 354
    if step.stage == "starttls":
        return True  # judged above: 220 starts TLS, anything else is refused TLS
    return step.reply.klass == 2


def _helo_followed(session: Session) -> bool:
    return any(s.stage == "helo" for s in session.steps)


EXIT_BY_OUTCOME = {
    "ok": EXIT_OK,
    "permanent": EXIT_PERMANENT,
    "temporary": EXIT_TEMPORARY,
    "held": EXIT_HELD,
    "not-sent": EXIT_CONNECTION,
    "tls-failed": EXIT_CONNECTION,
    "tls-unverified": EXIT_CONNECTION,
    "refused": EXIT_CONNECTION,  # the Outcome values
    "timeout": EXIT_CONNECTION,
    "dropped": EXIT_CONNECTION,
}


def to_json(session: Session, server: str) -> dict[str, Any]:
    """The `--json` document: keys server, transcript, steps, outcome (a stable contract)."""
    return {
        "server": server,
        "address": session.address,
        "port": session.route.port if session.route else session.port,
        "transcript": [line.to_json() for line in session.transcript],
        "steps": [step.to_json() for step in session.steps],
        "outcome": outcome(session),
        "tls": session.tls_info.to_json() if session.tls_info else None,
    }


def _stream(event: SessionEvent) -> None:
    from mxtui.model import TranscriptLine
    from mxtui.smtp.transcript import marker

    if isinstance(event, TranscriptLine):
        print(f"{marker(event)}{event.text}", flush=True)


def run(args: argparse.Namespace) -> int:
    streaming = not (args.json or args.jsonl)
    session = build_session(args, _stream if streaming else None)  # a UsageError: mxtui.cli
    if args.mail_from is None and args.settings.mail_from is None:
        print(
            f"mxtui smtp: no --from given: the sender is {session.envelope.mail_from} "
            "(--from '' sends the null sender <>)",
            file=sys.stderr,
        )

    import asyncio

    from mxtui.smtp.transcript import to_jsonl

    asyncio.run(converse(session, args.quit_after, args.send))
    result = outcome(session)
    if session.envelope.dsn is not None and session.greeted:
        from mxtui.policy.dsn_request import dsn_request_effects  # only with a DSN request

        offered = "DSN" in session.extensions
        for sentence in dsn_request_effects(session.envelope.dsn, offered=offered):
            session.note(f"DSN request: {sentence}")
    if args.json:
        print(json_text(to_json(session, args.server), indent=2))
    elif args.jsonl:
        sys.stdout.write(to_jsonl(session.transcript))
    if result == "held":
        print(
            "mxtui smtp: held before the end of the message; add --send to let the server take "
            "the message",
            file=sys.stderr,
        )
    elif result == "not-sent":
        why = next(s.error for s in session.steps if s.failure == "not-sent")
        print(f"mxtui smtp: not sent: {why}", file=sys.stderr)
    return EXIT_BY_OUTCOME.get(result, EXIT_CONNECTION)
