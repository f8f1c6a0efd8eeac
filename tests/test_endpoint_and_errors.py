"""One Endpoint with one text form; one place for argument checks and for the exit status of
bad input; every error mxtui raises on purpose shares one root."""

from __future__ import annotations

import argparse

import pytest

from mxtui.cli import main
from mxtui.endpoint import Endpoint, EndpointError, parse_endpoint, split_endpoint
from mxtui.errors import MxtuiError, UsageError
from mxtui.netargs import count_type, port_type, seconds_type, speed_type, whole_number


def test_an_ipv6_endpoint_is_written_in_brackets_and_an_ipv4_one_is_not() -> None:
    assert str(Endpoint("2001:db8::53", 5353)) == "[2001:db8::53]:5353"
    assert str(Endpoint("192.0.2.1", 53)) == "192.0.2.1:53"
    assert Endpoint("::1", 53).text(53) == "[::1]"
    assert Endpoint("::1", 5300).text(53) == "[::1]:5300"
    host, port = Endpoint("192.0.2.1", 25)  # still a pair where one is expected
    assert (host, port) == ("192.0.2.1", 25)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1", ("192.0.2.1", 53)),
        ("192.0.2.1:5300", ("192.0.2.1", 5300)),
        ("[2001:db8::1]:5300", ("2001:db8::1", 5300)),
        ("2001:db8::1", ("2001:db8::1", 53)),
        ("::1", ("::1", 53)),
    ],
)
def test_the_text_forms_of_an_endpoint_parse_back(text: str, expected: tuple[str, int]) -> None:
    endpoint = parse_endpoint(text, 53)
    assert endpoint == expected
    assert parse_endpoint(str(endpoint), 53) == endpoint


@pytest.mark.parametrize("text", ["", "host:", "[::1", "[::1]x", "a:99999", ":25", "a\x1bb"])
def test_an_endpoint_that_cannot_work_is_a_usage_error(text: str) -> None:
    with pytest.raises(EndpointError) as info:
        split_endpoint(text)
    assert isinstance(info.value, UsageError) and "\x1b" not in str(info.value)


@pytest.mark.parametrize(
    ("kind", "bad", "good"),
    [
        (port_type, ["0", "65536", "http", "-1", "٣"], [("25", 25), ("65535", 65535)]),
        (seconds_type, ["0", "-1", "nan", "inf", "soon"], [("0.5", 0.5), ("30", 30.0)]),
        (count_type, ["0", "-3", "many"], [("1", 1), ("40", 40)]),
        (whole_number(0), ["-1", "1.5"], [("0", 0), ("7", 7)]),
        (whole_number(1, 64), ["0", "65", "x"], [("1", 1), ("64", 64)]),
        (speed_type, ["-1", "nan", "inf", "quick"], [("0", 0.0), ("2.5", 2.5)]),
    ],
)
def test_argument_types_check_their_range_once(kind, bad, good) -> None:
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError):
            kind(text)
    for text, value in good:
        assert kind(text) == value


@pytest.mark.parametrize(
    "argv",
    [
        ["walk", "example.com", "--lab", "--to", "a@example.com", "--port", "0"],
        ["walk", "example.com", "--lab", "--to", "a@example.com", "--timeout", "inf"],
        ["probe", "--lab", "--concurrency", "0", "example.com"],
        ["mx", "--timeout", "nan", "example.com"],
        ["mx", "--no-such-flag", "example.com"],
        ["explain", "--stage", "nowhere", "--outcome", "refused"],
        ["explain", "--stage", "rcpt", "--reply", "450 busy", "--sessions-used", "-1"],
        ["explain", "--stage", "rcpt", "--reply", "450 busy", "--addresses-tried", "0"],
        ["conformance", "--parallel", "65"],
        ["replay", "nothing.jsonl", "--speed", "-1"],
        ["--port", "99999"],
    ],
)
def test_bad_input_to_any_command_is_one_line_and_exit_2(argv, capsys) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and err.startswith("mxtui")


def test_every_error_raised_on_purpose_shares_the_root() -> None:
    from mxtui.commands.explain import InputError
    from mxtui.commands.serve import ServeError
    from mxtui.dns import DomainError
    from mxtui.fields import FieldError
    from mxtui.policy import NoNoticeError, ProfileError
    from mxtui.record import RecordingError
    from mxtui.settings import SettingsError

    for cls in (DomainError, RecordingError, ProfileError, SettingsError, FieldError,
                EndpointError, InputError):  # fmt: skip
        assert issubclass(cls, UsageError), cls
    for cls in (NoNoticeError, ServeError):
        assert issubclass(cls, MxtuiError), cls
