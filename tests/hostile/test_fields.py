"""Control characters in every field of `smtp` and `walk`: exit 2 before connecting, bounded.

Issue 11 item 1: a control character in `--from` or `--ehlo` made `mxtui smtp` print "not sent"
about 100,000 times a second while its memory grew ~50 MB/s; `walk` called the same input
"deferred" (exit 3) and echoed raw ESC/BEL from `--to`. Now every field is checked once, by one
function (`mxtui.fields`), before any name lookup or connection, and a refused command ends a
conversation even when something else let it through.
"""

from __future__ import annotations

import argparse
import textwrap

import hostile_support as hs
import pytest

from mxtui.cli import command_args
from mxtui.commands import smtp, walk
from mxtui.fields import FieldError, check_envelope, check_header

SMTP_FIELDS = ("--from", "--to", "--ehlo", "--helo", "--server")
WALK_FIELDS = ("--from", "--to")


def _smtp_args(field: str, value: str, server: str = "127.0.0.1:1") -> argparse.Namespace:
    base = {"--server": server, "--from": "a@example.org", "--to": "b@example.com"}
    base[field if field != "--helo" else "--ehlo"] = value
    return command_args("smtp", [x for k, v in base.items() for x in (k, v)])


def _walk_args(field: str, value: str) -> argparse.Namespace:
    base = {"--from": "a@example.org", "--to": "b@example.com"}
    base[field] = value
    return command_args(
        "walk", ["example.com", "--lab", *(x for k, v in base.items() for x in (k, v))]
    )


@pytest.mark.parametrize("payload", hs.CONTROL_PAYLOADS, ids=repr)
@pytest.mark.parametrize("field", SMTP_FIELDS)
def test_smtp_refuses_a_control_character_in_any_field_before_connecting(field, payload) -> None:
    hs.tried("smtp field", 1)
    args = _smtp_args(field, f"a{payload}b@example.com" if field != "--server" else f"x{payload}")
    with pytest.raises(smtp.UsageError) as caught:
        smtp.build_session(args)
    message = str(caught.value)
    assert field.replace("--helo", "--ehlo") in message
    assert not hs.raw_controls(message.encode()) and "\n" not in message and "\r" not in message


@pytest.mark.parametrize("payload", hs.CONTROL_PAYLOADS, ids=repr)
@pytest.mark.parametrize("field", WALK_FIELDS)
def test_walk_refuses_a_control_character_in_any_field(field, payload) -> None:
    hs.tried("walk field", 1)
    with pytest.raises(walk.UsageError) as caught:
        walk._check(_walk_args(field, f"a{payload}b@example.com"))
    message = str(caught.value)
    assert field in message and not hs.raw_controls(message.encode()) and "\n" not in message


@pytest.mark.parametrize(
    "header",
    ["X-Evil: a\r\nBcc: victim@example.com", "X-Bell: \x07", "No colon here", "Bad Name: x"],
)
def test_a_header_with_a_line_break_or_no_name_is_refused(header: str) -> None:
    hs.tried("header field", 1)
    with pytest.raises(FieldError):
        check_header("--header", header)


def test_one_function_checks_the_envelope_and_accepts_ordinary_values() -> None:
    check_envelope("", ["Ærø@bücher.example", '"a b"@example.com'], ehlo="mx.example.org",
                   headers=["X-Test:\tfolded value"])  # fmt: skip
    with pytest.raises(FieldError, match="longer than an SMTP line"):
        check_envelope("a" * 1000 + "@example.org", ["b@example.com"])
    with pytest.raises(FieldError, match="cannot contain spaces"):
        check_envelope("a@example.org", ["b@example.com"], ehlo="two words")


# The real program, bounded: one hostile value per field, a live peer that must see nothing.

CASES = [
    ("smtp", "--from", "a\tb@c"),
    ("smtp", "--from", "a\x1b]0;PWNED\x07@c"),
    ("smtp", "--ehlo", "host\r\nRSET"),
    ("smtp", "--helo", "h\x7f"),
    ("smtp", "--to", "x\x1b[31m@y"),
    ("smtp", "--to", "ok@y,bad\x85@y"),
    ("walk", "--to", "x\x1b]0;PWN\x07@example.com"),
    ("walk", "--from", "a\r\nRCPT TO:<victim@example.com>"),
]


@pytest.mark.parametrize(("command", "field", "value"), CASES, ids=repr)
def test_the_program_ends_with_one_line_and_exit_2_before_connecting(
    peer, command, field, value
) -> None:
    hs.tried(f"{command} run", 1)
    p = peer()
    values = {"--from": "a@example.org", "--to": "b@example.com"}
    values[field] = value
    flags = [x for k, v in values.items() for x in (k, v)]
    if command == "smtp":
        run = hs.run_mxtui("smtp", "--server", p.server, *flags, timeout=20, memory_mb=1024)
    else:
        run = hs.run_mxtui("walk", "example.com", "--lab", *flags, timeout=20, memory_mb=1024)
    assert run.returncode == 2, run.describe()
    assert run.stdout == b"" and run.stderr.count(b"\n") == 1, run.describe()
    named = "--ehlo" if field == "--helo" else field  # one option, two names
    assert run.stderr.startswith(f"mxtui {command}: {named}".encode()), run.describe()
    assert not hs.raw_controls(run.stderr), run.describe()
    assert p.log.connections == 0
    assert run.seconds < 15 and run.max_rss_mb < 200, run.describe()


def test_a_refused_command_ends_the_conversation_even_past_the_checks() -> None:
    """The library path (an app's envelope editor, a script) skips the CLI's checks: the
    session refuses the line, and `converse` must stop there instead of asking again."""
    hs.tried("converse loop", 1)
    with hs.ScriptedPeer() as p:
        code = textwrap.dedent(f"""
            import asyncio
            from mxtui.commands.smtp import converse, outcome
            from mxtui.model import Envelope
            from mxtui.smtp.dialer import RealDialer
            from mxtui.smtp.session import Session
            env = Envelope("a\\tb@c", ("x@y",), ehlo_name="vm")
            s = Session("127.0.0.1", env, dialer=RealDialer({p.port}), port={p.port}, tls="none")
            asyncio.run(converse(s, None, False))
            print(outcome(s), len(s.steps), len(s.transcript))
        """)
        run = hs.run_python(code, timeout=20, memory_mb=1024, output_mb=2)
    assert run.returncode == 0, run.describe()
    result, steps, lines = run.out.split()
    assert result == "not-sent" and int(steps) < 10 and int(lines) < 30, run.out
