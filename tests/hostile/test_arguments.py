"""Arguments that used to crash or mislead: one line and exit 2, or accepted as swaks does
(issue 11 item 10, issue 13 item 8)."""

from __future__ import annotations

import hostile_support as hs
import pytest

from mxtui.cli import command_args
from mxtui.commands import smtp


def _session(*argv: str):
    return smtp.build_session(command_args("smtp", [*argv, "--to", "b@example.com"]))


def test_an_ipv6_server_with_a_separate_port_is_accepted_as_swaks_does() -> None:
    hs.tried("server form", 1)
    session = _session("-s", "::1", "-p", "2525")
    assert (session.address, session.port) == ("::1", 2525)
    session = _session("-s", "[::1]", "-p", "2526")
    assert (session.address, session.port) == ("::1", 2526)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("-s", "127.0.0.1:"), "port must be a number"),
        (("-s", "[::1]:"), "port must be a number"),
        (("-s", ":25"), "no host before the port"),
        (("-s", "[::1]:25", "-p", "26"), "not both"),
        (("-s", "127.0.0.1:25", "-p", "26"), "not both"),
        (("-s", "127.0.0.1", "--timeout", "nan"), "--timeout"),
        (("-s", "127.0.0.1", "--timeout", "inf"), "--timeout"),
        (("-s", "127.0.0.1", "--timeout", "-1"), "--timeout"),
    ],
    ids=repr,
)
def test_a_server_or_timeout_that_cannot_work_is_one_line(argv, message) -> None:
    hs.tried("server form", 1)
    with pytest.raises(smtp.UsageError, match=message):
        _session(*argv)


@pytest.mark.parametrize(
    "argv",
    [
        ("smtp", "--server", "127.0.0.1:", "--to", "b@example.com"),
        ("smtp", "--server", "127.0.0.1", "--to", "b@example.com", "--timeout", "nan"),
        ("walk", "example.com", "--lab", "--to", "b@example.com", "--timeout", "nan"),
        ("mx", "example.com", "--timeout", "nan"),
        ("mx", "example.com", "--timeout", "inf"),
        ("probe", "example.com", "--timeout", "nan"),
    ],
    ids=" ".join,
)
def test_the_program_says_so_in_one_line_with_exit_2(argv) -> None:
    hs.tried("argument run", 1)
    run = hs.run_mxtui(*argv, timeout=20)
    assert run.returncode == 2 and run.stderr.count(b"\n") == 1, run.describe()
    assert b"Traceback" not in run.stderr and run.stdout == b"", run.describe()
