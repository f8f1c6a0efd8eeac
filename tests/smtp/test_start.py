"""`mxtui smtp` starts as light as the run allows (issue 14: "start fast"), and its quick exit
loses no output.

What a plain run must not import is checked in a real process after a real conversation: a module
that creeps back into the start (the app's textual, cryptography without TLS, the policy without
an explanation, a TOML parser without a settings file) fails here, long before anyone times it.
Speed itself is measured by benchmarks/smtp_start.py, never by a unit test.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

from mxtui.lab.hosts import HostBehaviour, LabSMTP

NOT_IN_A_PLAIN_RUN = (
    "textual",  # the app
    "rich",
    "cryptography",  # certificate facts: only once TLS is up
    "mxtui.smtp.tlsinfo",
    "mxtui.smtp.tlsconf",  # a TLS context: only when TLS is to start
    "mxtui.policy",  # explanations: only with a DSN request
    "mxtui.desk",  # the default sender: only without --from
    "mxtui.dns",  # the MX lookup: only without --server
    "dns",
    "mxtui.lab",
    "tomllib",  # the settings file: only when there is one
    "platformdirs",  # its path is worked out without it on Linux
    "difflib",  # "did you mean": only for a mistake in the settings file
    "json",  # only for --json / --jsonl
    "email",  # the default message's Date and Message-Id are made without it
    "aiosmtplib.smtp",  # aiosmtplib's client: the session uses only its protocol
    "aiosmtplib.api",
    "shutil",  # argparse's terminal width is read without it
    "mxtui.smtp.compose",  # MIME: only with --header, --body or --attach
)


@pytest.fixture
async def server() -> AsyncIterator[str]:
    async with LabSMTP({"accept": HostBehaviour(kind="accept")}) as running:
        _, port = running.endpoints["accept"]
        yield f"127.0.0.1:{port}"


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


async def test_a_plain_run_imports_only_what_it_uses(server: str) -> None:
    argv = ["smtp", "--server", server, "--from", "a@example.org", "--to", "b@example.com",
            "--send"]  # fmt: skip
    code = (
        "import sys\n"
        "from mxtui.cli import main\n"
        f"status = main({argv!r})\n"
        "sys.stderr.write('\\n'.join(sorted(sys.modules)))\n"
        "sys.exit(status)\n"
    )
    done = await asyncio.to_thread(run, code)
    assert done.returncode == 0, done.stderr
    assert "<-  250 " in done.stdout and "221" in done.stdout  # the whole conversation ran
    loaded = set(done.stderr.split("\n"))
    unwanted = sorted(
        m for m in loaded if any(m == n or m.startswith(n + ".") for n in NOT_IN_A_PLAIN_RUN)
    )
    assert unwanted == []
    assert {"mxtui.smtp.session", "aiosmtplib.protocol"} <= loaded  # it did check a real run


async def test_json_and_tls_bring_their_modules_when_asked(server: str) -> None:
    """The other side of the list above: the lazy imports happen when a run needs them."""
    argv = ["smtp", "--server", server, "--from", "a@example.org", "--to", "b@example.com",
            "--quit-after", "rcpt", "--json", "--tls-optional"]  # fmt: skip
    code = (
        "import sys, io, contextlib\n"
        "from mxtui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    status = main({argv!r})\n"
        "print(status, 'json' in sys.modules, 'mxtui.smtp.tlsconf' in sys.modules)\n"
    )
    done = await asyncio.to_thread(run, code)
    assert done.stdout.split() == ["0", "True", "True"], done.stderr


def test_aiosmtplib_stays_whole_for_code_that_uses_its_client() -> None:
    """The session loads aiosmtplib's protocol without the package's __init__; anything that
    then asks the package for more (its SMTP client, `send`) still gets it, and the errors
    are the very classes the protocol raises."""
    code = (
        "import sys, mxtui.smtp.session as session\n"
        "assert 'aiosmtplib.smtp' not in sys.modules\n"
        "import aiosmtplib\n"
        "from aiosmtplib import SMTP, send\n"
        "assert aiosmtplib.SMTPResponseException is session.SMTPResponseException\n"
        "assert aiosmtplib.SMTPResponse is session.SMTPResponse\n"
        "assert 'SMTP' in aiosmtplib.__all__ and callable(send) and SMTP.__module__\n"
        "try:\n"
        "    aiosmtplib.no_such_name\n"
        "except AttributeError:\n"
        "    print('ok')\n"
    )
    done = run(code)
    assert done.stdout.strip() == "ok", done.stderr


@pytest.mark.parametrize(
    ("extra", "status", "said"),
    [
        (["--send"], 0, "<-  221 "),  # the message taken, then QUIT and its reply
        ([], 5, "=== in DATA, QUIT would be message text"),  # held before the dot: exit 5
        (["--send", "--json"], 0, '  "outcome": "ok",'),  # one document, printed at the end
    ],
)
async def test_the_quick_exit_keeps_every_line_and_the_status(
    server: str, extra: list[str], status: int, said: str
) -> None:
    """`python -m mxtui smtp` ends with os._exit after the run (cli.entry): the piped output is
    whole (the JSON document parses), stderr's note is there, and the exit status is the
    command's."""
    argv = [sys.executable, "-m", "mxtui", "smtp", "--server", server, "--to", "b@example.com",
            *extra]  # fmt: skip
    done = await asyncio.to_thread(subprocess.run, argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == status, done.stderr
    assert any(line.startswith(said) for line in done.stdout.splitlines())
    if "--json" in extra:
        assert json.loads(done.stdout)["steps"][-1]["stage"] == "quit"
    assert "no --from given" in done.stderr  # stderr is flushed too
    if status == 5:
        assert "add --send" in done.stderr


def test_a_refused_connection_exits_4_through_the_quick_exit() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mxtui", "smtp", "--server", "127.0.0.1:1", "--from",
         "a@example.org", "--to", "b@example.com"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 4
    assert "connection refused" in done.stdout
