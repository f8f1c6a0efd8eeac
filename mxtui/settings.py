"""User settings: one TOML file in the user's config directory, overridable by ``MXTUI_CONFIG``.

The file only changes defaults (profile, envelope, timeouts, nameservers, port, theme, key map); the
command line still wins over it. Every value is checked here, once, so the CLI and the app can
trust a `Settings` object; a bad file raises `SettingsError` with one line that names the file and
the key, because a traceback tells a user nothing about which line of their file to fix.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mxtui.endpoint import Endpoint, EndpointError, parse_endpoint
from mxtui.errors import UsageError
from mxtui.filedata import FileDataError, check_controls, load_toml, read_limited
from mxtui.model import Timeouts
from mxtui.text import printable

ENV_VAR = "MXTUI_CONFIG"
"""Environment variable holding the path of the settings file to use instead of the default."""

DEFAULT_PROFILE = "postfix"
DEFAULT_DNS_TIMEOUT = 5.0
DEFAULT_PORT = 25

# The keys each table may hold: anything else is a mistake worth reporting (a misspelt key
# silently ignored is a setting the user believes is in force).
_TOP_KEYS = ("profile", "envelope", "timeouts", "nameserver", "port", "theme", "keys")
_ENVELOPE_KEYS = ("from", "to", "ehlo")
_TIMEOUT_KEYS = ("connect", "reply", "dns")
_BARE_KEY = r"[A-Za-z0-9_-]+"


class SettingsError(UsageError):
    """A settings file that cannot be used; one line: ``FILE: KEY: what is wrong``."""


def default_path() -> Path:
    """Where the settings file lives when ``MXTUI_CONFIG`` is not set: platformdirs' user
    config directory for "mxtui" (``$XDG_CONFIG_HOME/mxtui`` or ``~/.config/mxtui`` on Linux,
    ``~/Library/Application Support/mxtui`` on macOS, under ``%LOCALAPPDATA%`` on Windows)."""
    return Path(_xdg_config_dir() or _platform_config_dir(), "config.toml")


def _xdg_config_dir() -> str | None:
    """The Linux answer without importing platformdirs (3 ms of every command's start), for
    the environments where it is plain: ``$XDG_CONFIG_HOME`` when it is an absolute path, else
    ``$HOME/.config`` when HOME is. None for anything else (another system, a relative or
    missing HOME), which platformdirs then answers; tests hold the two to the same result."""
    if sys.platform != "linux" or (
        os.environ.get("ANDROID_DATA") == "/data" and os.environ.get("ANDROID_ROOT") == "/system"
    ):
        return None
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    if xdg.startswith("/"):
        return os.path.join(xdg, "mxtui")
    home = os.environ.get("HOME", "")
    if home.startswith("/"):
        return os.path.join(home.rstrip("/") + "/.config", "mxtui")
    return None


def _platform_config_dir() -> str:
    import platformdirs

    return str(platformdirs.user_config_path("mxtui"))


def config_path() -> Path:
    """The settings file in force: ``MXTUI_CONFIG`` if set and non-empty, else `default_path()`."""
    override = os.environ.get(ENV_VAR, "")
    return Path(override).expanduser() if override else default_path()


@dataclass(frozen=True)
class Settings:
    """Defaults for the CLI and the app; every field already validated."""

    profile: str = DEFAULT_PROFILE
    """A name in `mxtui.policy.PROFILES`."""
    mail_from: str | None = None
    """Envelope sender; None (not set) means the default sender (`mxtui.desk.envelope`: the
    lab's in the lab, login@this-host towards real hosts); "" is the null sender ``<>``."""
    recipients: tuple[str, ...] = ()
    ehlo: str = ""
    """EHLO name; empty means the default: this host's full name towards real hosts, the lab's
    client.lab.test in the lab."""
    timeouts: Timeouts = field(default_factory=Timeouts)
    """SMTP connect and reply timeouts, in seconds."""
    dns_timeout: float = DEFAULT_DNS_TIMEOUT
    nameservers: tuple[tuple[str, int], ...] = ()
    """DNS servers as (IP, port); empty means the system resolver."""
    port: int = DEFAULT_PORT
    """SMTP port on real hosts."""
    theme: str = ""
    """A Textual theme name (e.g. "textual-light"); empty keeps the default. The app checks the
    name, since only it knows the themes (this module does not import Textual)."""
    keys: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    """Binding id → key(s) as Textual spells them (``"f5"``, ``"f5,ctrl+n"``)."""
    path: Path | None = field(default=None, compare=False)
    """The file these settings came from; None when it did not exist (all defaults)."""
    given: frozenset[str] = field(default=frozenset(), compare=False)
    """The keys the file sets, dotted ("profile", "timeouts.reply"): a command whose own default
    differs from this class's (``mxtui probe`` waits 5 s, not 30) takes the file's value only
    where the user wrote one."""

    def timeout(self, name: str, default: float) -> float:
        """The file's ``timeouts.NAME`` (connect, reply or dns) if it sets one, else `default`."""
        if f"timeouts.{name}" not in self.given:
            return default
        return self.dns_timeout if name == "dns" else float(getattr(self.timeouts, name))

    def waits(self, given: float | None, default: float) -> tuple[Timeouts, float]:
        """(SMTP timeouts, DNS timeout) for a command with a ``--timeout`` option: `given` (the
        option) for all three; else the file's value for each it sets, `default` for the rest."""
        if given is not None:
            return Timeouts.all(given), given
        smtp = Timeouts(
            connect=self.timeout("connect", default), reply=self.timeout("reply", default)
        )
        return smtp, self.timeout("dns", default)

    def to_toml(self) -> str:
        """These settings as a commented TOML file that `load_settings` reads back unchanged."""
        from mxtui.policy import PROFILES

        lines = [
            "# mxtui settings. The command line overrides every value here.",
            f"# Set {ENV_VAR}=PATH to use another file.",
            "",
            f"# The sending MTA to imitate: {', '.join(PROFILES)}.",
            f"profile = {_toml_value(self.profile)}",
            "# SMTP port on real hosts (the lab ignores it).",
            f"port = {self.port}",
            '# DNS servers to ask instead of the system resolver: "HOST[:PORT]" (port 53 default).',
            f"nameserver = {_toml_value([Endpoint(*ep).text(53) for ep in self.nameservers])}",
            '# Colour theme, e.g. "textual-light" for a light terminal (empty: the default).',
            "# NO_COLOR=1 in the environment turns colour off whatever the theme.",
            f"theme = {_toml_value(self.theme)}",
            "",
            "[envelope]",
            "# Sender (left out: the default, your login name at this host's full name, or",
            '# the lab\'s sender in the lab; "" is the null sender "<>"), recipients (left out:',
            "# postmaster@DOMAIN, or the lab's alice@), and the EHLO name (empty: this host's",
            "# full name, or the lab's client.lab.test in the lab).",
            f"from = {_toml_value(self.mail_from)}"
            if self.mail_from is not None
            else '# from = "you@example.org"',
            f"to = {_toml_value(list(self.recipients))}",
            f"ehlo = {_toml_value(self.ehlo)}",
            "",
            "[timeouts]",
            "# Seconds: TCP connect and TLS handshake, any SMTP reply, a DNS answer.",
            f"connect = {_toml_value(self.timeouts.connect)}",
            f"reply = {_toml_value(self.timeouts.reply)}",
            f"dns = {_toml_value(self.dns_timeout)}",
            "",
            "[keys]",
            '# Binding id = key(s), e.g. next-step = "f5" or next-step = "f5,ctrl+n".',
            "# The help screen lists the binding ids.",
        ]
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in self.keys.items()]
        return "\n".join(lines) + "\n"


def load_settings(path: Path | str | None = None) -> Settings:
    """Read and check the settings file; defaults when there is none.

    With no `path`, the file is `config_path()`; a missing default file means "all defaults",
    but a missing file that was named explicitly (argument or ``MXTUI_CONFIG``) is an error, since
    the user expects it to be read.
    """
    explicit = path is not None or bool(os.environ.get(ENV_VAR))
    file = Path(path).expanduser() if path is not None else config_path()
    shown = printable(str(file))
    try:
        data = load_toml(read_limited(file).decode("utf-8"))
        check_controls(data)
    except FileNotFoundError:
        if explicit:
            raise SettingsError(f"{shown}: no such settings file") from None
        return Settings()
    except OSError as exc:
        raise SettingsError(
            f"{shown}: cannot read: {printable(exc.strerror or str(exc))}"
        ) from None
    except UnicodeDecodeError:
        raise SettingsError(f"{shown}: not UTF-8 text") from None
    except FileDataError as exc:
        raise SettingsError(f"{shown}: {exc}") from None
    return _Reader(file).settings(data)


def write_starter(path: Path, *, force: bool = False) -> Path:
    """Write the commented starter file (every key at its default) at `path`; return the path.

    An existing file is the user's work: it is replaced only with `force`.
    """
    path = path.expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w" if force else "x", encoding="utf-8") as out:
            out.write(Settings().to_toml())
    except FileExistsError:
        shown = printable(str(path))
        raise SettingsError(f"{shown}: already exists; --force replaces it") from None
    except OSError as exc:
        raise SettingsError(
            f"{printable(str(path))}: cannot write: {printable(exc.strerror or str(exc))}"
        ) from None
    return path


# Patterns as text, compiled (and cached by `re`) when a theme is saved, not at every start.
_TABLE_HEADER = r"\s*\["
_THEME_LINE = (
    r"""(?P<head>\s*(?:theme|"theme"|'theme')\s*=\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'[^']*')(?P<tail>\s*(?:#.*)?)"""
)


def save_theme(path: Path, name: str) -> Path:
    """Keep `name` as the settings file's ``theme``, changing nothing else; return the file.

    The file is the user's: only the value of its top-level ``theme`` line changes (a line is
    added before the first table when there is none), so every comment and every other line
    stays as written. The new text is parsed before it replaces the old, and must read back as
    the same settings with only the theme changed; a file that cannot be edited that way (a
    theme written across lines, say) is left alone with an error saying what to write. With no
    file yet, the commented starter file is written with the theme in it. A symbolic link (a
    dotfiles repository) is followed, and the replacement keeps the file's permissions.
    """
    path = path.expanduser()
    shown = printable(str(path))
    try:
        text = read_limited(path).decode("utf-8")
    except FileNotFoundError:
        text = None
    except (OSError, UnicodeError, FileDataError) as exc:
        raise SettingsError(
            f"{shown}: cannot read it to keep the theme: {printable(str(exc))}"
        ) from None
    if text is None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as out:
                out.write(Settings(theme=name).to_toml())
        except OSError as exc:
            raise SettingsError(
                f"{shown}: cannot write: {printable(exc.strerror or str(exc))}"
            ) from None
        return path
    try:
        before = load_toml(text)
    except FileDataError as exc:
        raise SettingsError(f"{shown}: the theme was not kept: {exc}") from None
    if before.get("theme") == name:
        return path
    edited = _with_theme(text, name, "theme" in before)
    expected = {**before, "theme": name}
    try:
        if edited is None or load_toml(edited) != expected:
            raise ValueError
    except (ValueError, FileDataError):
        raise SettingsError(
            f"{shown}: theme: cannot change it without rewriting the file; "
            f"write theme = {_toml_value(name)} there (before the first [table])"
        ) from None
    _replace(path.resolve(), edited)
    return path


def _with_theme(text: str, name: str, has_theme: bool) -> str | None:
    """`text` with its top-level theme set to `name`, or None when no simple edit does it."""
    lines = text.splitlines(keepends=True)
    first_table = next(
        (i for i, line in enumerate(lines) if re.match(_TABLE_HEADER, line)), len(lines)
    )
    if has_theme:
        for i, line in enumerate(lines[:first_table]):
            body = line.rstrip("\r\n")
            found = re.fullmatch(_THEME_LINE, body)
            if found:
                lines[i] = found["head"] + _toml_value(name) + found["tail"] + line[len(body) :]
                return "".join(lines)
        return None
    # No theme yet: add it after the last top-level line that holds a key (so above the blank
    # lines and comments that introduce the first table), or at the top.
    at = first_table
    while at > 0 and (not lines[at - 1].strip() or lines[at - 1].lstrip().startswith("#")):
        at -= 1
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    if at > 0 and not lines[at - 1].endswith("\n"):
        lines[at - 1] += newline
    lines.insert(at, f"theme = {_toml_value(name)}{newline}")
    return "".join(lines)


def _replace(file: Path, text: str) -> None:
    """Write `text` to `file` in one step (a reader sees the old file or the new, never half)."""
    temporary = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    try:
        mode = file.stat().st_mode & 0o7777
        with temporary.open("w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, file)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise SettingsError(
            f"{printable(str(file))}: cannot write: {printable(exc.strerror or str(exc))}"
        ) from None


class _Reader:
    """Turns the parsed TOML into `Settings`, naming the file and key in every error."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def fail(self, key: str, problem: str) -> SettingsError:
        # A file's keys and values are untrusted text: the message is made printable whole.
        return SettingsError(printable(f"{self.file}: {key}: {problem}"))

    def settings(self, data: dict[str, Any]) -> Settings:
        self.check_known(data, _TOP_KEYS, "")
        envelope = self.table(data, "envelope", _ENVELOPE_KEYS)
        timeouts = self.table(data, "timeouts", _TIMEOUT_KEYS)
        defaults = Timeouts()
        return Settings(
            profile=self.profile(data),
            mail_from=(
                self.string(envelope, "envelope.from", "from", "") if "from" in envelope else None
            ),
            recipients=self.recipients(envelope),
            ehlo=self.string(envelope, "envelope.ehlo", "ehlo", "").strip(),
            timeouts=Timeouts(
                connect=self.positive(timeouts, "connect", defaults.connect),
                reply=self.positive(timeouts, "reply", defaults.reply),
            ),
            dns_timeout=self.positive(timeouts, "dns", DEFAULT_DNS_TIMEOUT),
            nameservers=self.nameservers(data),
            port=self.port(data),
            theme=self.string(data, "theme", "theme", "").strip(),
            keys=self.keys(data),
            path=self.file,
            given=frozenset(
                [k for k in data if k not in ("envelope", "timeouts")]
                + [f"envelope.{k}" for k in envelope]
                + [f"timeouts.{k}" for k in timeouts]
            ),
        )

    def check_known(self, table: dict[str, Any], known: tuple[str, ...], prefix: str) -> None:
        for key in table:
            if key not in known:
                import difflib  # only for a mistake: not at every start

                close = difflib.get_close_matches(key, known, n=1)
                hint = f' (did you mean "{prefix}{close[0]}"?)' if close else ""
                allowed = ", ".join(prefix + k for k in known)
                raise self.fail(prefix + key, f"unknown setting{hint}; known: {allowed}")

    def table(self, data: dict[str, Any], name: str, known: tuple[str, ...]) -> dict[str, Any]:
        table = data.get(name, {})
        if not isinstance(table, dict):
            raise self.fail(name, f"must be a table ([{name}]), not {_show(table)}")
        self.check_known(table, known, name + ".")
        return table

    def profile(self, data: dict[str, Any]) -> str:
        if "profile" not in data:
            return DEFAULT_PROFILE  # the policy (30 ms of imports) only when a profile is named
        import difflib

        from mxtui.policy import PROFILES

        name = data["profile"]
        if not isinstance(name, str) or name not in PROFILES:
            close = difflib.get_close_matches(name, PROFILES, n=1) if isinstance(name, str) else []
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise self.fail(
                "profile", f"unknown profile {_show(name)}{hint}; known: {', '.join(PROFILES)}"
            )
        return name

    def string(self, table: dict[str, Any], key: str, name: str, default: str) -> str:
        value = table.get(name, default)
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {_show(value)}")
        return value

    def recipients(self, envelope: dict[str, Any]) -> tuple[str, ...]:
        value = envelope.get("to", [])
        if not isinstance(value, list):
            raise self.fail("envelope.to", f"must be a list of addresses, not {_show(value)}")
        for item in value:
            if not isinstance(item, str) or not item.strip():
                problem = f"each address must be a non-empty string, not {_show(item)}"
                raise self.fail("envelope.to", problem)
        return tuple(item.strip() for item in value)

    def positive(self, timeouts: dict[str, Any], name: str, default: float) -> float:
        value = timeouts.get(name, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise self.fail(f"timeouts.{name}", f"must be a positive number, not {_show(value)}")
        return float(value)

    def nameservers(self, data: dict[str, Any]) -> tuple[tuple[str, int], ...]:
        value = data.get("nameserver", [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(
                "nameserver", f'must be a list of "HOST[:PORT]" strings, not {_show(value)}'
            )
        result = []
        for item in value:
            if not isinstance(item, str):
                raise self.fail("nameserver", f'must be "HOST[:PORT]" strings, not {_show(item)}')
            try:
                result.append(parse_endpoint(item, 53))
            except EndpointError as exc:
                raise self.fail("nameserver", str(exc)) from None
        return tuple(result)

    def port(self, data: dict[str, Any]) -> int:
        value = data.get("port", DEFAULT_PORT)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
            raise self.fail("port", f"must be a whole number from 1 to 65535, not {_show(value)}")
        return value

    def keys(self, data: dict[str, Any]) -> Mapping[str, str]:
        table = data.get("keys", {})
        if not isinstance(table, dict):
            raise self.fail("keys", f"must be a table ([keys]), not {_show(table)}")
        result: dict[str, str] = {}
        for binding, keys in table.items():
            if not binding.strip():
                raise self.fail("keys", "a binding id must not be empty")
            if not isinstance(keys, str) or not keys.strip():
                raise self.fail(
                    f"keys.{_toml_key(binding)}",
                    f'must be a non-empty string of key names (e.g. "f5"), not {_show(keys)}',
                )
            result[binding] = keys.strip()
        return MappingProxyType(result)


def _show(value: object) -> str:
    """A value as the user wrote it in TOML, on one short line, for an error message."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    text = _toml_value(value) if isinstance(value, bool | int | float | str) else str(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _toml_value(value: object) -> str:
    """TOML for a string, number, bool or list of those (enough for `Settings.to_toml`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # JSON string escapes are valid TOML basic-string escapes, except that TOML also forbids
        # a raw DEL, which JSON leaves alone.
        import json

        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, float):
        return repr(value)  # nan and inf print as TOML spells them
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return _toml_value(str(value))


def _toml_key(key: str) -> str:
    return key if re.fullmatch(_BARE_KEY, key) else _toml_value(key)
