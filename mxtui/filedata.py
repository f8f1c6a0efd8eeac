"""Data read from files a person hands mxtui (settings, scenarios, recordings): bounded and clean.

A file is as untrusted as a server's reply: it may come from a colleague, a course pack or an
attacker. The loaders check what they read here before they use it:

* TOML is parsed with its errors (and a nesting too deep for the parser) as one line;
* nesting is bounded, because the loaders walk the data and Python's recursion is not;
* a control character (an ESC, a BEL, a NUL) in any key or string is refused with the key's
  path, so it never reaches a terminal, a markup parser or an SMTP line;
* every message about a file goes through `mxtui.text.printable`, the rule server text follows.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from mxtui.text import printable

MAX_DEPTH = 32
"""Deeper than any settings file, scenario or recording header needs."""

MAX_TEXT_FILE = 1024 * 1024
"""A settings file or a scenario is a few kilobytes; a megabyte is already not one."""

LINE_BREAKS = frozenset("\t\n\r")
"""Controls a multi-line string (a zone, a narrative) may hold."""


class FileDataError(ValueError):
    """Data that cannot be used; the message is one printable line (without the file name)."""


def read_limited(path: str | Path, limit: int = MAX_TEXT_FILE) -> bytes:
    """The bytes of `path`, at most `limit` of them: a bigger file (or /dev/zero, a pipe that
    never ends) is FileDataError, not a read that takes all the memory there is. OSError (a
    missing file, no permission) passes through for the caller to word."""
    with Path(path).open("rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise FileDataError(f"larger than {_size(limit)}; not a file mxtui reads")
    return data


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 else f"{n // 1024} KiB"


def load_toml(text: str) -> dict[str, Any]:
    """Parse TOML; FileDataError with one printable line when it is not valid or nests too deep."""
    import tomllib  # here: a command run with no settings file does not pay for it (8 ms)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FileDataError(f"not valid TOML: {printable(str(exc))}") from None
    except RecursionError:
        raise FileDataError("not valid TOML: nested too deeply") from None
    check_depth(data)
    return data


def check_depth(data: Any, limit: int = MAX_DEPTH) -> None:
    """FileDataError when tables and arrays nest deeper than `limit` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth >= limit:
            raise FileDataError(f"nested more than {limit} levels deep")
        stack.extend((child, depth + 1) for child in children)


def control_character(data: Any, *, allowed: frozenset[str] = LINE_BREAKS) -> tuple[str, str]:
    """The dotted path of the first key or string holding a control character (other than
    `allowed`), and that character made printable; ``("", "")`` when there is none."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            bad = _first_control(value, allowed)
            if bad:
                return printable(path) or "(value)", printable(bad)
        elif isinstance(value, dict):
            for key, child in reversed(value.items()):
                here = f"{path}.{key}" if path else str(key)
                bad = _first_control(str(key), frozenset())
                if bad:
                    return printable(here), printable(bad)
                stack.append((here, child))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", child) for i, child in reversed(list(enumerate(value))))
    return "", ""


def check_controls(data: Any, *, allowed: frozenset[str] = LINE_BREAKS) -> None:
    """FileDataError naming the key whose text holds a control character."""
    path, char = control_character(data, allowed=allowed)
    if path:
        raise FileDataError(f"{path}: contains a control character ({char})")


def _first_control(text: str, allowed: frozenset[str]) -> str:
    for ch in text:
        if ch not in allowed and unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            return ch
    return ""
