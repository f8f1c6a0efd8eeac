"""Hostile files: scenarios, settings and recordings (issue 11 items 7 and 10).

A file is untrusted like a server's reply. Nothing in one may reach the terminal as an escape or
a markup parser as markup, and nothing in one may end in a traceback: every problem is one
printable line and exit 2.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import hostile_support as hs
import pytest

from mxtui.commands.lab import describe
from mxtui.lab.scenarios import load_scenario_file
from mxtui.settings import SettingsError, load_settings

BASE = (Path(__file__).parents[2] / "mxtui/lab/scenarios/unknown-user.toml").read_text()

# Where a hostile string can go in a scenario file: (field, old text, new text with {x}).
SCENARIO_SPOTS = {
    "name": ('name = "unknown-user"', 'name = "{x}"'),
    "title": ('title = "Unknown user', 'title = "{x} Unknown user'),
    "narrative": ("users.example.net has one MX", "{x} users.example.net has one MX"),
    "domain": ('domain = "users.example.net"', 'domain = "users{x}.example.net"'),
    "profile": ('profile = "postfix"', 'profile = "{x}"'),
    "envelope.from": ('from = "trainer@example.org"', 'from = "trainer{x}@example.org"'),
    "envelope.to": ('to = ["nobody@users.example.net"]', 'to = ["nobody{x}@users.example.net"]'),
    "hostname": ('hostname = "mx.users.example.net"', 'hostname = "mx{x}.users.example.net"'),
    "host key": ('[hosts."198.51.100.50"]', '[hosts."198.51.100.50{x}"]'),
    "expect key": ("[expect]", '[expect]\n"{x}" = "bounced"'),
    "users": ('users = ["alice", "postmaster"]', 'users = ["alice{x}", "postmaster"]'),
    "rcpt key": (
        'users = ["alice", "postmaster"]',
        'users = ["alice", "postmaster"]\nrcpt_replies = {{ "{x}" = "accept" }}',
    ),
}


def toml_escape(text: str) -> str:
    """`text` as the inside of a TOML basic string (every character outside ASCII escaped)."""
    return json.dumps(text, ensure_ascii=True)[1:-1]


def scenario(tmp_path: Path, spot: str, payload: str) -> Path:
    old, new = SCENARIO_SPOTS[spot]
    assert old in BASE
    path = tmp_path / "hostile.toml"
    path.write_text(BASE.replace(old, new.format(x=toml_escape(payload)), 1))
    return path


def assert_one_printable_line(text: str) -> None:
    assert "\n" not in text.rstrip("\n") and not hs.raw_controls(text.encode()), repr(text)
    assert not any(ch in text for ch in hs.BIDI_PAYLOADS), repr(text)


@pytest.mark.parametrize("payload", hs.CONTROL_PAYLOADS + hs.BIDI_PAYLOADS, ids=repr)
@pytest.mark.parametrize("spot", SCENARIO_SPOTS)
def test_a_scenario_never_shows_a_control_character_raw(tmp_path, spot, payload) -> None:
    hs.tried("scenario text", 1)
    path = scenario(tmp_path, spot, payload)
    try:
        loaded = load_scenario_file(path)
    except ValueError as exc:
        assert_one_printable_line(str(exc))
        return
    # Loaded (a bidi mark in a title, a tab in a narrative): what describe prints is printable.
    text = describe(loaded)
    assert not hs.raw_controls(text.encode()) and not any(b in text for b in hs.BIDI_PAYLOADS)
    assert payload not in loaded.name + loaded.title


@pytest.mark.parametrize("payload", hs.MARKUP_PAYLOADS, ids=repr)
@pytest.mark.parametrize("spot", ["name", "title", "narrative"])
def test_markup_in_a_scenario_is_text(tmp_path, spot, payload) -> None:
    hs.tried("scenario markup", 1)
    loaded = load_scenario_file(scenario(tmp_path, spot, payload))
    assert payload in describe(loaded)


@pytest.mark.parametrize(
    ("hostname", "shown"),
    [
        ("mx.bücher.example", "mx.xn--bcher-kva.example"),
        ("MX.Example.NET.", "mx.example.net"),
        ("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + ".example", None),
    ],
    ids=["idn", "case-and-dot", "long-but-valid"],
)
def test_a_host_name_is_kept_as_its_a_label_and_the_lab_starts(tmp_path, hostname, shown) -> None:
    hs.tried("scenario host name", 1)
    path = tmp_path / "h.toml"
    path.write_text(BASE.replace("mx.users.example.net", hostname, 1))
    loaded = load_scenario_file(path)
    name = loaded.hosts["198.51.100.50"].hostname
    assert name == (shown or hostname) and name.isascii()

    async def start() -> None:
        async with loaded.lab():
            pass

    asyncio.run(start())  # the certificate for it is made at start: no ValueError


@pytest.mark.parametrize(
    "hostname",
    ["mx\\u0000.example", "a" * 64 + ".example", "mx..example", "mx example", "a@b.example"],
    ids=["nul", "label-64", "empty-label", "space", "at"],
)
def test_a_host_name_that_cannot_be_one_is_a_one_line_error(tmp_path, hostname) -> None:
    hs.tried("scenario host name", 1)
    path = tmp_path / "h.toml"
    path.write_text(BASE.replace("mx.users.example.net", hostname, 1))
    with pytest.raises(ValueError, match=r"hosts\.198\.51\.100\.50\.hostname") as caught:
        load_scenario_file(path)
    assert_one_printable_line(str(caught.value))


def test_the_lab_command_says_so_in_one_line_with_exit_2(tmp_path) -> None:
    for spot, payload in [("name", "\x1b]0;PWN\x07"), ("hostname", "\x00"), ("domain", "\x9b")]:
        hs.tried("scenario run", 1)
        path = scenario(tmp_path, spot, payload)
        for extra in (["--describe"], ["--serve"], []):
            run = hs.run_mxtui("lab", str(path), *extra, timeout=30)
            assert run.returncode == 2 and run.stderr.count(b"\n") == 1, run.describe()
            assert not hs.raw_controls(run.stderr) and b"Traceback" not in run.stderr


def test_the_app_shows_a_markup_scenario_name_as_text(tmp_path) -> None:
    """`[/]` as a name crashed the app (MarkupError in the narrative's border title)."""
    hs.tried("scenario markup", 1)
    path = tmp_path / "markup.toml"
    path.write_text(
        BASE.replace('name = "unknown-user"', 'name = "[/]"')
        .replace('title = "Unknown user', 'title = "[@click=app.quit]x[/] Unknown user')
    )  # fmt: skip
    with hs.Terminal("lab", str(path)) as term:
        assert term.wait_for(b"scenario [/]", 30), term.output[-2000:]
        time.sleep(2)  # the narrative panel's title is drawn after the header
        assert term.proc.poll() is None, term.output[-2000:]
        assert b"[@click=app.quit]x[/]" in term.output
        term.send(b"\x11")  # ctrl+q
        assert term.wait(15) == 0
    assert b"MarkupError" not in term.output and b"Traceback" not in term.output


# -- settings ------------------------------------------------------------------------------------

SETTINGS_SPOTS = {
    "profile": 'profile = "{x}"',
    "from": '[envelope]\nfrom = "a{x}@example.org"',
    "to": '[envelope]\nto = ["b{x}@example.com"]',
    "ehlo": '[envelope]\nehlo = "host{x}"',
    "theme": 'theme = "{x}"',
    "nameserver": 'nameserver = ["127.0.0.1{x}"]',
    "unknown key": '"k{x}" = 1',
    "binding id": '[keys]\n"next-step{x}" = "f5"',
    "binding keys": '[keys]\nnext-step = "f5{x}"',
}


@pytest.mark.parametrize("payload", hs.CONTROL_PAYLOADS + hs.BIDI_PAYLOADS, ids=repr)
@pytest.mark.parametrize("spot", SETTINGS_SPOTS)
def test_a_settings_file_never_shows_a_control_character_raw(tmp_path, spot, payload) -> None:
    hs.tried("settings text", 1)
    path = tmp_path / "config.toml"
    path.write_text(SETTINGS_SPOTS[spot].format(x=toml_escape(payload)) + "\n")
    try:
        load_settings(path)
    except SettingsError as exc:
        assert_one_printable_line(str(exc))


@pytest.mark.parametrize("depth", [40, 500, 2000, 100_000])
def test_a_deeply_nested_settings_array_is_one_line(tmp_path, depth) -> None:
    hs.tried("settings nesting", 1)
    path = tmp_path / "config.toml"
    path.write_text("nameserver = " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(SettingsError, match="nested") as caught:
        load_settings(path)
    assert_one_printable_line(str(caught.value))


def test_the_app_refuses_a_hostile_settings_file_in_one_line(tmp_path) -> None:
    for text in ["nameserver = " + "[" * 2000 + "]" * 2000, '"\\u001b]0;PWN\\u0007" = 1']:
        hs.tried("settings run", 1)
        path = tmp_path / "config.toml"
        path.write_text(text + "\n")
        run = hs.run_mxtui(env=hs.child_env({"MXTUI_CONFIG": str(path)}), timeout=30)
        assert run.returncode == 2 and run.stderr.count(b"\n") == 1, run.describe()
        assert not hs.raw_controls(run.stderr) and b"Traceback" not in run.stderr


# -- recordings ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> list[str]:
    path = tmp_path_factory.mktemp("rec") / "walk.jsonl"
    run = hs.run_mxtui(
        "walk", "--lab", "example.com", "--from", "a@example.org", "--to", "bob@example.com",
        "--seed", "1", "--record", str(path), timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.describe()
    return path.read_text().splitlines()


def _header_with(lines: list[str], **changes: object) -> list[str]:
    header = json.loads(lines[0])
    header.update(changes)
    return [json.dumps(header), *lines[1:]]


def _raw_header_with(lines: list[str], key: str, raw: str) -> list[str]:
    return [lines[0][:-1] + f', "{key}": {raw}}}', *lines[1:]]


def hostile_recordings(lines: list[str]) -> dict[str, list[str]]:
    digits = "9" * 5000
    return {
        "header int 5000 digits": _raw_header_with(lines, "x", digits),
        "seed 5000 digits": [lines[0].replace('"seed": 1', f'"seed": {digits}'), *lines[1:]],
        "event t 5000 digits": [lines[0], lines[1].replace('"t": ', f'"t": {digits}', 1)],
        "header nested 40": _raw_header_with(lines, "x", "[" * 40 + "]" * 40),
        "header nested 900": _raw_header_with(lines, "x", "[" * 900 + "]" * 900),
        "header nested 980": _raw_header_with(lines, "x", "[" * 980 + "]" * 980),
        "header nested 100000": _raw_header_with(lines, "x", "[" * 100_000 + "]" * 100_000),
        "header objects 3000": _raw_header_with(lines, "x", '{"a":' * 3000 + "1" + "}" * 3000),
        "event nested 900": [lines[0], '{"t": 1, "event": ' + "[" * 900 + "]" * 900 + "}"],
        "profile markup": _header_with(lines, profile="[/]"),
        "profile escape": _header_with(lines, profile="\x1b]0;PWNED\x07[/]"),
        "domain escape": _header_with(lines, domain="\x1b[31m[/]\u202e.example"),
        "envelope escape": _header_with(lines, envelope={"from": "\x1b[2J", "to": ["\x07"]}),
    }


HOSTILE_RECORDINGS = list(hostile_recordings(["{}", "{}"]))


@pytest.mark.parametrize("name", HOSTILE_RECORDINGS)
def test_replay_print_of_a_hostile_recording_is_clean(tmp_path, recording, name) -> None:
    hs.tried("recording", 1)
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join(hostile_recordings(recording)[name]) + "\n")
    run = hs.run_mxtui("replay", str(path), "--print", "--speed", "0", timeout=30)
    assert b"Traceback" not in run.stderr, run.describe()
    assert run.returncode in (0, 2), run.describe()
    if run.returncode == 2:
        # The replay reads the file as it plays it (a gigabyte recording starts at once): the
        # lines before the bad one are printed, then the one-line error names the bad line.
        assert run.stderr.count(b"\n") == 1 and b": line " in run.stderr, run.describe()
    assert not hs.raw_controls(run.stdout + run.stderr), run.describe()
    assert not any(b.encode() in run.stdout for b in hs.BIDI_PAYLOADS)


@pytest.mark.parametrize("profile", ["[/]", "\x1b]0;PWNED\x07[/]"], ids=["markup", "escape"])
def test_the_app_replays_a_recording_whose_profile_is_markup(tmp_path, recording, profile):
    """The header's profile went to a notification parsed as markup: `[/]` crashed the app."""
    hs.tried("recording", 1)
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join(_header_with(recording, profile=profile)) + "\n")
    with hs.Terminal("replay", str(path), "--speed", "0") as term:
        assert term.wait_for(b"unknown profile", 30), term.output[-2000:]
        time.sleep(1)
        assert term.proc.poll() is None, term.output[-2000:]
        term.send(b"\x11")
        assert term.wait(15) == 0
    assert b"MarkupError" not in term.output and b"\x1b]0;PWNED" not in term.output


# -- files that never end ------------------------------------------------------------------------


@pytest.fixture
def endless(tmp_path) -> dict[str, str]:
    """A file that never ends (/dev/zero) and a 4 GiB one (sparse: it costs no disk)."""
    big = tmp_path / "big.toml"
    with big.open("wb") as out:
        out.truncate(4 * 1024**3)
    return {"zero": "/dev/zero", "big": str(big)}


@pytest.mark.parametrize(
    "argv",
    [
        ["lab", "{f}", "--describe"],
        ["lab", "{f}"],
        ["replay", "{f}", "--print"],
        ["smtp", "-s", "127.0.0.1:9", "-t", "b@example.com", "--data", "@{f}"],
        ["smtp", "-s", "127.0.0.1:9", "-t", "b@example.com", "--tls-ca-path", "{f}"],
        ["smtp", "-s", "127.0.0.1:9", "-t", "b@example.com", "--body", "@{f}"],
        ["smtp", "-s", "127.0.0.1:9", "-t", "b@example.com", "--attach", "@{f}"],
        [
            "smtp",
            "-s",
            "127.0.0.1:9",
            "-t",
            "b@example.com",
            "-au",
            "u",
            "--auth-password-file",
            "{f}",
        ],
        ["--config", "{f}"],
        ["mx", "--config", "{f}", "example.com"],
    ],
    ids=lambda a: " ".join(a[:2]) + (f" {a[-2]}" if a[0] == "smtp" else ""),
)
@pytest.mark.parametrize("kind", ["zero", "big"])
def test_a_file_that_never_ends_is_refused_in_bounded_memory(endless, argv, kind) -> None:
    hs.tried("endless file", 1)
    args = [a.replace("{f}", endless[kind]) for a in argv]
    run = hs.run_mxtui(*args, timeout=30, memory_mb=1024)
    assert run.returncode == 2 and run.stderr.count(b"\n") == 1, run.describe()
    assert b"Traceback" not in run.stderr and run.max_rss_mb < 300, run.describe()
