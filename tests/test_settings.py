"""The settings file: every key read and checked, defaults when absent, MXTUI_CONFIG, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from mxtui.model import Timeouts
from mxtui.settings import (
    ENV_VAR,
    Settings,
    SettingsError,
    config_path,
    default_path,
    load_settings,
    save_theme,
    write_starter,
)

FULL = """
profile = "exim"
port = 2525
nameserver = ["127.0.0.1:5353", "::1", "[::1]:5300"]

[envelope]
from = "alice@example.org"
to = ["bob@example.com", "carol@example.net"]
ehlo = "client.example.org"

[timeouts]
connect = 3
reply = 12.5
dns = 0.5

[keys]
next-step = "f5"
"quit.now" = "ctrl+q,f10"
"""


@pytest.fixture(autouse=True)
def no_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    return message.removeprefix(f"{path}: ")


def test_every_key_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    settings = load_settings(path)
    assert settings.profile == "exim"
    assert settings.port == 2525
    assert settings.nameservers == (("127.0.0.1", 5353), ("::1", 53), ("::1", 5300))
    assert settings.mail_from == "alice@example.org"
    assert settings.recipients == ("bob@example.com", "carol@example.net")
    assert settings.ehlo == "client.example.org"
    assert settings.timeouts == Timeouts(connect=3.0, reply=12.5)
    assert settings.dns_timeout == 0.5
    assert dict(settings.keys) == {"next-step": "f5", "quit.now": "ctrl+q,f10"}
    assert settings.path == path


def test_missing_keys_keep_their_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[envelope]\nfrom = "a@example.org"\n'))
    assert settings == Settings(mail_from="a@example.org")
    assert settings.profile == "postfix"
    assert settings.timeouts == Timeouts()
    assert settings.port == 25


def test_absent_default_file_gives_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mxtui.settings.default_path", lambda: tmp_path / "nope" / "config.toml")
    settings = load_settings()
    assert settings == Settings()
    assert settings.path is None


def test_default_path_is_in_the_user_config_dir() -> None:
    import platformdirs

    assert default_path() == platformdirs.user_config_path("mxtui") / "config.toml"
    assert config_path() == default_path()


@pytest.mark.parametrize(
    ("xdg", "home"),
    [
        (None, "/home/ann"),
        (None, "/home/ann/"),
        (None, "/"),
        ("/srv/conf", "/home/ann"),
        ("/srv/conf/", "/home/ann"),
        ("", "/home/ann"),
        ("relative/conf", "/home/ann"),
        (None, "relative-home"),
        (None, None),
    ],
)
def test_the_quick_default_path_is_the_one_platformdirs_gives(
    monkeypatch: pytest.MonkeyPatch, xdg: str | None, home: str | None
) -> None:
    """The default path is worked out without importing platformdirs where that is plain (an
    absolute XDG_CONFIG_HOME or HOME on Linux); whatever the environment, it is platformdirs'."""
    import platformdirs

    for name, value in (("XDG_CONFIG_HOME", xdg), ("HOME", home)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    try:
        expected = platformdirs.user_config_path("mxtui") / "config.toml"
    except RuntimeError:  # no home directory platformdirs can use: nor can mxtui
        with pytest.raises(RuntimeError):
            default_path()
        return
    assert default_path() == expected


def test_environment_variable_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, 'profile = "qmail"\n')
    monkeypatch.setenv(ENV_VAR, str(path))
    assert config_path() == path
    assert load_settings().profile == "qmail"


def test_empty_environment_variable_means_the_default_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_VAR, "")
    assert config_path() == default_path()


def test_a_file_named_explicitly_must_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "missing.toml"
    monkeypatch.setenv(ENV_VAR, str(missing))
    with pytest.raises(SettingsError, match=r"missing\.toml: no such settings file"):
        load_settings()
    monkeypatch.delenv(ENV_VAR)
    with pytest.raises(SettingsError, match=r"missing\.toml: no such settings file"):
        load_settings(missing)


def test_to_toml_round_trips(tmp_path: Path) -> None:
    original = load_settings(write(tmp_path, FULL))
    again = load_settings(write(tmp_path, original.to_toml()))
    assert again == original
    odd = Settings(mail_from='q"uote\\\u202e@example.org', keys={"a b": "x"})
    assert load_settings(write(tmp_path, odd.to_toml())) == odd
    # A control character is written out escaped, and refused on the way back in: no settings
    # file may put one on an SMTP line or a terminal (tests/hostile/test_files.py).
    control = Settings(mail_from="a\x7f\x01@example.org")
    with pytest.raises(SettingsError, match=r"envelope.from: contains a control character"):
        load_settings(write(tmp_path, control.to_toml()))


def test_default_example_file_loads_as_the_defaults(tmp_path: Path) -> None:
    text = Settings().to_toml()
    assert "[timeouts]" in text and "[keys]" in text
    assert load_settings(write(tmp_path, text)) == Settings()


def test_not_toml(tmp_path: Path) -> None:
    assert error_for(tmp_path, "profile = \n").startswith("not valid TOML: ")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'profile = "\xff"\n')
    with pytest.raises(SettingsError, match="not UTF-8 text"):
        load_settings(path)


def test_unreadable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=f"^{tmp_path}: cannot read: "):
        load_settings(tmp_path)  # a directory


def test_unknown_top_level_key_suggests_the_close_one(tmp_path: Path) -> None:
    message = error_for(tmp_path, 'profil = "exim"\n')
    assert message.startswith('profil: unknown setting (did you mean "profile"?)')


def test_unknown_key_without_a_close_one_lists_the_known(tmp_path: Path) -> None:
    message = error_for(tmp_path, "colour = 1\n")
    assert message.startswith("colour: unknown setting; known: profile, envelope")


def test_unknown_key_in_a_table_is_named_with_its_table(tmp_path: Path) -> None:
    message = error_for(tmp_path, "[timeouts]\nconect = 3\n")
    assert message.startswith('timeouts.conect: unknown setting (did you mean "timeouts.connect"?)')
    message = error_for(tmp_path, '[envelope]\nsender = "a@b"\n')
    assert message.startswith("envelope.sender: unknown setting")


def test_unknown_profile(tmp_path: Path) -> None:
    message = error_for(tmp_path, 'profile = "postfx"\n')
    assert message.startswith('profile: unknown profile "postfx" (did you mean "postfix"?)')
    assert error_for(tmp_path, "profile = 3\n").startswith("profile: unknown profile 3")


@pytest.mark.parametrize("key", ["connect", "reply", "dns"])
@pytest.mark.parametrize("value", ['"x"', "0", "-1", "true", "inf", "nan", "[1]"])
def test_timeouts_must_be_positive_numbers(tmp_path: Path, key: str, value: str) -> None:
    message = error_for(tmp_path, f"[timeouts]\n{key} = {value}\n")
    shown = "a list" if value == "[1]" else value
    assert message == f"timeouts.{key}: must be a positive number, not {shown}"


@pytest.mark.parametrize("value", ["0", "65536", "25.0", '"25"', "true"])
def test_port_must_be_a_port_number(tmp_path: Path, value: str) -> None:
    message = error_for(tmp_path, f"port = {value}\n")
    assert message == f"port: must be a whole number from 1 to 65535, not {value}"


def test_nameserver_errors(tmp_path: Path) -> None:
    assert error_for(tmp_path, 'nameserver = ["127.0.0.1:99999"]\n').startswith(
        "nameserver: '127.0.0.1:99999': port must be a number from 1 to 65535"
    )
    assert error_for(tmp_path, "nameserver = [53]\n") == (
        'nameserver: must be "HOST[:PORT]" strings, not 53'
    )
    assert error_for(tmp_path, "nameserver = 53\n").startswith("nameserver: must be a list")
    assert error_for(tmp_path, 'nameserver = [""]\n') == "nameserver: empty server address"


def test_a_single_nameserver_string_is_accepted(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, 'nameserver = "127.0.0.1:5353"\n'))
    assert settings.nameservers == (("127.0.0.1", 5353),)


def test_envelope_errors(tmp_path: Path) -> None:
    assert error_for(tmp_path, 'envelope = "x"\n') == (
        'envelope: must be a table ([envelope]), not "x"'
    )
    assert error_for(tmp_path, "[envelope]\nfrom = 1\n") == (
        "envelope.from: must be a string, not 1"
    )
    assert error_for(tmp_path, '[envelope]\nto = "bob@example.com"\n') == (
        'envelope.to: must be a list of addresses, not "bob@example.com"'
    )
    assert error_for(tmp_path, '[envelope]\nto = ["a@b", " "]\n') == (
        'envelope.to: each address must be a non-empty string, not " "'
    )
    assert error_for(tmp_path, "[envelope]\nehlo = false\n") == (
        "envelope.ehlo: must be a string, not false"
    )


def test_keys_errors(tmp_path: Path) -> None:
    assert error_for(tmp_path, "keys = 1\n") == "keys: must be a table ([keys]), not 1"
    assert error_for(tmp_path, '[keys]\nnext-step = ""\n') == (
        'keys.next-step: must be a non-empty string of key names (e.g. "f5"), not ""'
    )
    assert error_for(tmp_path, "[keys]\nnext-step = 5\n").startswith("keys.next-step: must be")
    assert error_for(tmp_path, '[keys]\n"" = "f5"\n') == "keys: a binding id must not be empty"


def test_long_values_are_cut_in_messages(tmp_path: Path) -> None:
    message = error_for(tmp_path, f'profile = "{"p" * 200}"\n')
    assert "p" * 100 not in message and "…" in message


def test_given_names_the_keys_the_file_sets(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "port = 2525\n[timeouts]\nreply = 3\n"))
    assert settings.given == {"port", "timeouts.reply"}
    assert settings.timeout("reply", 5.0) == 3.0
    assert settings.timeout("connect", 5.0) == 5.0  # not in the file: the command's own default
    assert settings.waits(None, 5.0) == (Timeouts(connect=5.0, reply=3.0), 5.0)
    assert settings.waits(2.0, 5.0) == (Timeouts.all(2.0), 2.0)  # --timeout wins for all three


def test_write_starter_writes_the_commented_defaults_and_never_overwrites_unasked(
    tmp_path: Path,
) -> None:
    path = tmp_path / "new" / "dir" / "config.toml"
    assert write_starter(path) == path
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# mxtui settings.") and load_settings(path) == Settings()
    path.write_text('profile = "exim"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="already exists; --force replaces it"):
        write_starter(path)
    assert path.read_text(encoding="utf-8") == 'profile = "exim"\n'
    write_starter(path, force=True)
    assert load_settings(path) == Settings()


COMMENTED = """\
# My settings -- keep this comment.
profile = "qmail"   # qmail for the class
theme = 'textual-dark'   # was dark

[envelope]
# who sends
from = "t@example.org"
"""


def test_save_theme_changes_only_the_theme_value_and_keeps_every_comment(tmp_path: Path) -> None:
    path = write(tmp_path, COMMENTED)
    save_theme(path, "nord")
    assert path.read_text(encoding="utf-8") == COMMENTED.replace(
        "theme = 'textual-dark'   # was dark", 'theme = "nord"   # was dark'
    )
    assert load_settings(path) == Settings(profile="qmail", mail_from="t@example.org", theme="nord")


def test_save_theme_adds_the_line_above_the_first_table_and_its_comments(tmp_path: Path) -> None:
    text = COMMENTED.replace("theme = 'textual-dark'   # was dark\n", "")
    path = write(tmp_path, text)
    save_theme(path, "textual-light")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[:3] == [
        "# My settings -- keep this comment.",
        'profile = "qmail"   # qmail for the class',
        'theme = "textual-light"',
    ]
    assert load_settings(path).theme == "textual-light"
    path = write(tmp_path, "port = 2525")  # no table, no final newline
    save_theme(path, "nord")
    assert path.read_text(encoding="utf-8") == 'port = 2525\ntheme = "nord"\n'


def test_save_theme_keeps_crlf_line_ends_and_the_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'profile = "exim"\r\ntheme = "textual-dark"\r\n[keys]\r\n')
    path.chmod(0o600)
    save_theme(path, "nord")
    assert path.read_bytes() == b'profile = "exim"\r\ntheme = "nord"\r\n[keys]\r\n'
    assert path.stat().st_mode & 0o777 == 0o600


def test_save_theme_follows_a_symbolic_link(tmp_path: Path) -> None:
    real = write(tmp_path, 'theme = "textual-dark"\n')
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    save_theme(link, "nord")
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == 'theme = "nord"\n'


def test_save_theme_without_a_file_writes_the_starter_file_with_the_theme(tmp_path: Path) -> None:
    path = tmp_path / "mxtui" / "config.toml"
    save_theme(path, "nord")
    assert load_settings(path) == Settings(theme="nord")
    assert path.read_text(encoding="utf-8").startswith("# mxtui settings.")


def test_save_theme_leaves_a_file_it_cannot_edit_simply_alone(tmp_path: Path) -> None:
    odd = 'theme = """textual-dark"""\nport = 2525\n'  # a multi-line string form
    path = write(tmp_path, odd)
    with pytest.raises(SettingsError, match=r'theme: cannot change it.*write theme = "nord"'):
        save_theme(path, "nord")
    assert path.read_text(encoding="utf-8") == odd
    path = write(tmp_path, "port = [\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        save_theme(path, "nord")
    assert path.read_text(encoding="utf-8") == "port = [\n"


def test_save_theme_quotes_the_name_as_toml(tmp_path: Path) -> None:
    path = write(tmp_path, 'theme = "a"\n')
    save_theme(path, 'odd "name"\\')
    assert load_settings(path).theme == 'odd "name"\\'
