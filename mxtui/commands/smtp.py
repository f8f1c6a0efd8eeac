"""`mxtui smtp --server HOST --from A --to B`: one SMTP conversation, step by step, headless.

Flag names follow swaks where they overlap, so a swaks user can switch without reading. The
transcript streams as it happens (swaks-style markers), or comes as one JSON document at the end.
Unlike swaks, a temporary (4xx) and a permanent (5xx) failure exit differently, because that is
the difference a sending MTA acts on.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from pathlib import Path
from typing import Any

from mxtui.fields import FieldError, check_envelope, check_seconds
from mxtui.model import (
    Credentials,
    Envelope,
    Outcome,
    SessionEvent,
    Stage,
    StepResult,
    Timeouts,
    TLSMode,
    TranscriptLine,
)
from mxtui.netargs import EndpointError, resolve_host, split_endpoint
from mxtui.output import json_text
from mxtui.smtp.dialer import RealDialer
from mxtui.smtp.session import Session
from mxtui.smtp.transcript import marker, to_jsonl

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
     (with --tls, any answer to STARTTLS but 220 is one: TLS did not start)
  5  held before the end-of-data dot: add --send to let the server take the message

examples:
  mxtui smtp --server 127.0.0.1:2525 --from a@example.org --to b@example.com --quit-after rcpt
  mxtui smtp --server mx.example.com --tls --from a@example.org --to b@example.com --send
  mxtui smtp --server 127.0.0.1:2525 --from a@x.org --to b@y.org --data @msg.eml --send --json
"""

EXIT_OK, EXIT_PERMANENT, EXIT_USAGE, EXIT_TEMPORARY, EXIT_CONNECTION, EXIT_HELD = range(6)

QUIT_AFTER = ("connect", "banner", "ehlo", "tls", "auth", "mail", "rcpt", "data", "dot")
_ALIASES = {"greeting": "banner", "helo": "ehlo", "starttls": "tls", "from": "mail", "to": "rcpt"}
_RANK: dict[Stage, int] = {
    Stage.CONNECT: 0,
    Stage.GREETING: 1,
    Stage.EHLO: 2,
    Stage.HELO: 2,
    Stage.STARTTLS: 3,
    Stage.AUTH: 4,
    Stage.MAIL: 5,
    Stage.RCPT: 6,
    Stage.DATA: 7,
    Stage.DOT: 8,
}
_NO_RANK = 99


def _quit_after(text: str) -> str:
    value = _ALIASES.get(text.lower(), text.lower())
    if value not in QUIT_AFTER:
        raise argparse.ArgumentTypeError(f"{text!r}: choose one of {', '.join(QUIT_AFTER)}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-s",
        "--server",
        required=True,
        metavar="HOST[:PORT]",
        help="server to talk to (port 25 or the settings' port, 465 with --tls-on-connect)",
    )
    parser.add_argument(
        "-p", "--port", type=int, metavar="PORT", help="port, when not given in --server"
    )
    parser.add_argument(
        "-f",
        "--from",
        dest="mail_from",
        metavar="ADDRESS",
        help="envelope sender (MAIL FROM), default the settings' envelope.from; empty for the "
        "null sender <>",
    )
    parser.add_argument(
        "-t",
        "--to",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="recipient (repeatable, or comma-separated); one RCPT each (default the "
        "settings' envelope.to)",
    )
    parser.add_argument(
        "-q",
        "--quit-after",
        type=_quit_after,
        metavar="STAGE",
        help=f"stop after this stage and QUIT: {', '.join(QUIT_AFTER)}",
    )
    parser.add_argument(
        "--send",
        action="store_true",
        help="send the end-of-data dot, so the server takes the message",
    )
    parser.add_argument(
        "-d",
        "--data",
        metavar="TEXT|@FILE",
        help="the message: text (\\n for line ends) or @FILE; default a short test message",
    )
    parser.add_argument(
        "--ehlo",
        "--helo",
        dest="ehlo",
        metavar="NAME",
        help="name to give in EHLO/HELO (default the settings' envelope.ehlo, else this "
        "machine's name)",
    )
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument(
        "--tls", action="store_true", help="require STARTTLS (stop if the server does not start it)"
    )
    tls.add_argument(
        "--tls-optional",
        action="store_true",
        help="use STARTTLS when the server offers it, as MTAs do",
    )
    tls.add_argument(
        "--tls-on-connect", action="store_true", help="TLS from the first byte (SMTPS, port 465)"
    )
    parser.add_argument(
        "--tls-verify",
        action="store_true",
        help="stop when the certificate does not verify (shown either way)",
    )
    parser.add_argument(
        "--tls-verify-host",
        "--tls-name",
        dest="tls_name",
        metavar="NAME",
        help="host name the certificate must match (default the --server host)",
    )
    parser.add_argument(
        "--tls-ca-path", metavar="FILE", help="PEM certificates to trust besides the system's"
    )
    parser.add_argument("-au", "--auth-user", metavar="USER", help="AUTH user name")
    parser.add_argument(
        "-ap", "--auth-password", metavar="PASSWORD", help="AUTH password (never shown or exported)"
    )
    parser.add_argument(
        "-a",
        "--auth",
        type=str.upper,
        choices=("PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"),
        help="AUTH mechanism (default PLAIN, or LOGIN when only it is offered)",
    )
    parser.add_argument(
        "--auth-cleartext",
        action="store_true",
        help="allow AUTH on a connection that is not encrypted (refused by default)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="seconds to wait for the connection and each reply "
        "(default 10 to connect, 30 per reply, or the settings' timeouts)",
    )
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON document at the end")
    out.add_argument("--jsonl", action="store_true",
                     help="print the transcript as JSON Lines at the end")  # fmt: skip


class UsageError(ValueError):
    """An argument that cannot be used; the message says why in one line."""


def _message(args: argparse.Namespace) -> bytes:
    if args.data is None:
        return b""
    if args.data.startswith("@"):
        path = Path(args.data[1:])
        try:
            return path.read_bytes()
        except OSError as exc:
            raise UsageError(f"--data: cannot read {str(path)!r}: {exc.strerror}") from None
    return args.data.replace("\\n", "\n").encode("utf-8")


def _recipients(values: list[str]) -> tuple[str, ...]:
    return tuple(r.strip() for value in values for r in value.split(",") if r.strip())


def _tls_mode(args: argparse.Namespace) -> TLSMode:
    if args.tls_on_connect:
        return "on-connect"
    if args.tls:
        return "required"
    return "optional" if args.tls_optional else "none"


def build_session(args: argparse.Namespace, on_event: Any = None) -> Session:
    """The Session the arguments describe; raises UsageError for arguments that cannot work.

    Every field is checked before the name lookup and long before connecting: a value the
    conversation could not send ends the run here, with one line that says which. What the
    command line leaves open comes from the settings (checked the same way, named by key).
    """
    settings = args.settings
    default_port = 465 if args.tls_on_connect else settings.port
    mail_from = settings.mail_from if args.mail_from is None else args.mail_from
    recipients = _recipients(args.to) or settings.recipients
    ehlo = args.ehlo or settings.ehlo or None
    flags = (
        "--from" if args.mail_from is not None else "envelope.from",
        "--to" if args.to else "envelope.to",
        "--ehlo" if args.ehlo else "envelope.ehlo",
        "--header",
    )
    try:
        host, given_port = split_endpoint(args.server)
        check_envelope(mail_from, recipients, ehlo=ehlo, flags=flags)
    except EndpointError as exc:
        raise UsageError(f"--server: {exc}") from None
    except FieldError as exc:
        raise UsageError(str(exc)) from None
    port = default_port if given_port is None else given_port
    if args.port is not None:
        if not 0 < args.port < 65536:
            raise UsageError("--port must be a number from 1 to 65535")
        if given_port is not None:
            raise UsageError("give the port in --server or in --port, not both")
        port = args.port
    if not recipients and (args.quit_after is None or _RANK_OF[args.quit_after] >= 6):
        raise UsageError("give at least one --to, or stop earlier with --quit-after")
    if (args.auth_user is None) != (args.auth_password is None):
        raise UsageError("--auth-user and --auth-password go together")
    if args.auth and args.auth_user is None:
        raise UsageError("--auth needs --auth-user and --auth-password")
    try:
        check_seconds("--timeout", args.timeout)
    except FieldError as exc:
        raise UsageError(str(exc)) from None
    try:
        address = resolve_host(host, port)
    except EndpointError as exc:
        raise UsageError(f"--server: {exc}") from None
    trust = None
    if args.tls_ca_path:
        try:
            trust = Path(args.tls_ca_path).read_bytes()
        except OSError as exc:
            raise UsageError(f"--tls-ca-path: cannot read it: {exc.strerror}") from None
    credentials = (
        Credentials(
            args.auth_user,
            args.auth_password,
            mechanisms=(args.auth,) if args.auth else (),
            cleartext=args.auth_cleartext,
        )
        if args.auth_user is not None
        else None
    )
    envelope = Envelope(
        mail_from=mail_from,
        recipients=recipients,
        ehlo_name=ehlo or socket.gethostname() or "localhost",
        message=_message(args),
        credentials=credentials,
    )
    try:
        return Session(
            address,
            envelope,
            dialer=RealDialer(port),
            port=port,
            tls=_tls_mode(args),
            tls_verify=args.tls_verify,
            tls_name=args.tls_name or host,
            trust_pem=trust,
            timeouts=Timeouts.all(args.timeout) if args.timeout else settings.timeouts,
            on_event=on_event,
        )
    except ValueError as exc:
        raise UsageError(f"--tls-ca-path: no certificates in it ({exc})") from None


_RANK_OF = {name: i for i, name in enumerate(QUIT_AFTER)}


def _passed(session: Session, quit_after: str | None, last: StepResult) -> bool:
    """Whether the conversation has gone past the --quit-after point."""
    if quit_after is None:
        return False
    limit = _RANK_OF[quit_after]
    upcoming = session.next_stage()
    next_rank = _RANK.get(upcoming, _NO_RANK) if upcoming else _NO_RANK
    last_rank = _RANK.get(last.stage, _NO_RANK)
    return next_rank > limit or (last_rank >= limit and next_rank != last_rank)


MAX_STEPS = 64
"""More steps than any standard conversation takes (connect … QUIT with a few recipients is about
ten, plus one per recipient): a bound, so a session that stops making progress cannot loop."""


async def converse(session: Session, quit_after: str | None, send: bool) -> None:
    """Step the standard path up to `quit_after`, then QUIT (or close when nothing was said).

    A step the session refused to send (``not-sent``) ends the conversation: the next stage
    would be the same one again, refused again.
    """
    limit = MAX_STEPS + len(session.envelope.recipients)
    for _ in range(limit):
        stage = session.next_stage()
        if stage is None or stage is Stage.QUIT:
            break
        result = await session.run_stage(stage, confirm_send=send)
        if result.failure in ("held", "not-sent") or _passed(session, quit_after, result):
            break
    if session.connected and not session.quit_sent:
        if session.greeted:
            await session.quit()
        else:
            session.close()


def outcome(session: Session) -> str:
    """One word for how the conversation went (the JSON `outcome`; decides the exit status)."""
    for step in session.steps:
        if step.stage is Stage.QUIT:
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
        if step.reply is not None and step.reply.code >= 400:
            if step.stage is Stage.EHLO and step.reply.klass == 5 and _helo_followed(session):
                continue  # EHLO refused and HELO tried: judged by HELO
            if step.stage is Stage.STARTTLS and session.tls_mode == "optional":
                continue  # opportunistic TLS: a refusal is not a failure
            return "temporary" if step.reply.klass == 4 else "permanent"
        if (
            step.stage is Stage.STARTTLS
            and session.tls_mode == "required"
            and step.reply is not None
            and step.reply.code != 220
        ):
            return "tls-failed"  # --tls: any answer but 220 (a 250, say) means no TLS
    return "ok"


def _helo_followed(session: Session) -> bool:
    return any(s.stage is Stage.HELO for s in session.steps)


EXIT_BY_OUTCOME = {
    "ok": EXIT_OK,
    "permanent": EXIT_PERMANENT,
    "temporary": EXIT_TEMPORARY,
    "held": EXIT_HELD,
    "not-sent": EXIT_CONNECTION,
    "tls-failed": EXIT_CONNECTION,
    "tls-unverified": EXIT_CONNECTION,
    str(Outcome.REFUSED): EXIT_CONNECTION,
    str(Outcome.TIMEOUT): EXIT_CONNECTION,
    str(Outcome.DROPPED): EXIT_CONNECTION,
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
    if isinstance(event, TranscriptLine):
        print(f"{marker(event)}{event.text}", flush=True)


def run(args: argparse.Namespace) -> int:
    streaming = not (args.json or args.jsonl)
    try:
        session = build_session(args, _stream if streaming else None)
    except UsageError as exc:
        print(f"mxtui smtp: {exc}", file=sys.stderr)
        return EXIT_USAGE
    asyncio.run(converse(session, args.quit_after, args.send))
    result = outcome(session)
    if args.json:
        print(json_text(to_json(session, args.server), indent=2))
    elif args.jsonl:
        sys.stdout.write(to_jsonl(session.transcript))
    if result == "held":
        print(
            "mxtui smtp: held before the end-of-data dot; add --send to let the server take "
            "the message",
            file=sys.stderr,
        )
    return EXIT_BY_OUTCOME.get(result, EXIT_CONNECTION)
