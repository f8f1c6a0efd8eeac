"""User settings: one TOML file in the user's config directory, overridable by ``MXTUI_CONFIG``.

The file only changes defaults (profile, envelope, timeouts, nameservers, port, theme, key map); the
command line still wins over it. Every value is checked here, once, so the CLI and the app can
trust a `Settings` object; a bad file raises `SettingsError` with one line that names the file and
the key, because a traceback tells a user nothing about which line of their file to fix.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import platformdirs

from mxtui.filedata import FileDataError, check_controls, load_toml
from mxtui.model import Timeouts
from mxtui.netargs import EndpointError, parse_endpoint
from mxtui.policy import PROFILES
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
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class SettingsError(ValueError):
    """A settings file that cannot be used; one line: ``FILE: KEY: what is wrong``."""


def default_path() -> Path:
    """Where the settings file lives when ``MXTUI_CONFIG`` is not set."""
    return platformdirs.user_config_path("mxtui") / "config.toml"


def config_path() -> Path:
    """The settings file in force: ``MXTUI_CONFIG`` if set and non-empty, else `default_path()`."""
    override = os.environ.get(ENV_VAR, "")
    return Path(override).expanduser() if override else default_path()


@dataclass(frozen=True)
class Settings:
    """Defaults for the CLI and the app; every field already validated."""

    profile: str = DEFAULT_PROFILE
    """A name in `mxtui.policy.PROFILES`."""
    mail_from: str = ""
    """Envelope sender; empty means the null sender ``<>`` unless the command line gives one."""
    recipients: tuple[str, ...] = ()
    ehlo: str = ""
    """EHLO name; empty means "this machine's host name"."""
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

    def to_toml(self) -> str:
        """These settings as a commented TOML file that `load_settings` reads back unchanged."""
        lines = [
            "# mxtui settings. The command line overrides every value here.",
            f"# Set {ENV_VAR}=PATH to use another file.",
            "",
            f"# The sending MTA to imitate: {', '.join(PROFILES)}.",
            f"profile = {_toml_value(self.profile)}",
            "# SMTP port on real hosts (the lab ignores it).",
            f"port = {self.port}",
            '# DNS servers to ask instead of the system resolver: "HOST[:PORT]" (port 53 default).',
            f"nameserver = {_toml_value([_endpoint_text(ep) for ep in self.nameservers])}",
            '# Colour theme, e.g. "textual-light" for a light terminal (empty: the default).',
            "# NO_COLOR=1 in the environment turns colour off whatever the theme.",
            f"theme = {_toml_value(self.theme)}",
            "",
            "[envelope]",
            '# Sender (empty: the null sender "<>"), recipients, and the EHLO name',
            "# (empty: this machine's host name).",
            f"from = {_toml_value(self.mail_from)}",
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
        data = load_toml(file.read_bytes().decode("utf-8"))
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
            mail_from=self.string(envelope, "envelope.from", "from", ""),
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
        )

    def check_known(self, table: dict[str, Any], known: tuple[str, ...], prefix: str) -> None:
        for key in table:
            if key not in known:
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
        name = data.get("profile", DEFAULT_PROFILE)
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
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, float):
        return repr(value)  # nan and inf print as TOML spells them
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return _toml_value(str(value))


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_value(key)


def _endpoint_text(endpoint: tuple[str, int]) -> str:
    host, port = endpoint
    host = f"[{host}]" if ":" in host else host
    return host if port == 53 else f"{host}:{port}"
