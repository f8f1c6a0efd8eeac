"""Output that any terminal encoding can carry: ASCII forms where a character cannot be encoded.

The headless commands print typographic characters (an em dash, an ellipsis, arrows, the retry
timeline's box drawing) and, in printable form, whatever Unicode a server or a DNS name holds.
A terminal or a pipe set to latin-1 or ASCII (``PYTHONIOENCODING=latin-1``, ``LANG=C`` on an old
system) cannot encode them, and Python would stop the command with a UnicodeEncodeError half way
through its output. So standard output and error get an error handler that writes an ASCII form
(``...`` for ``…``, ``->`` for ``→``) and, for anything else, the ``\\uNNNN`` escape that
`mxtui.text.printable` uses for what it cannot show.
"""

from __future__ import annotations

import codecs
import sys
from typing import Any, TextIO

HANDLER = "mxtui-ascii"

ASCII_FORMS: dict[str, str] = {
    "—": "-",
    "–": "-",
    "…": "...",
    "→": "->",
    "←": "<-",
    "⇒": "=>",
    "↳": "->",
    "↑": "^",
    "↓": "v",
    "↻": "(again)",
    "·": "-",
    "•": "*",
    "─": "-",
    "═": "=",
    "│": "|",
    "▲": "^",
    "▶": ">",
    "✕": "x",
    "✖": "x",
    "✗": "x",
    "✓": "ok",
    "×": "x",
    "§": "S",
    "“": "'",
    "”": "'",
    "‘": "'",
    "’": "'",
    "µ": "u",
    "²": "2",
    "░": ".",
    "█": "#",
    "◼": "#",
    "⚠": "!",
    "ℹ": "i",
    "\u00a0": " ",
}
"""The characters mxtui itself prints, each with the ASCII text that reads the same (never a
double quote or a backslash, so a JSON document stays valid)."""


def _ascii_forms(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    chunk = error.object[error.start : error.end]
    out = []
    for ch in chunk:
        form = ASCII_FORMS.get(ch)
        if form is None:
            # \uNNNN (a surrogate pair above U+FFFF): JSON readers turn it back into the character.
            units = ch.encode("utf-16-be", "surrogatepass")
            form = "".join(
                f"\\u{int.from_bytes(units[i : i + 2], 'big'):04x}" for i in range(0, len(units), 2)
            )
        out.append(form)
    return "".join(out), error.end


codecs.register_error(HANDLER, _ascii_forms)


def ascii_fallback(*streams: TextIO) -> None:
    """Give `streams` (default stdout and stderr) the ASCII-forms error handler, so a character
    their encoding lacks is written as its ASCII form instead of ending the program."""
    for stream in streams or (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None or stream.errors == HANDLER:
            continue
        try:
            codecs.lookup(stream.encoding or "ascii")
            reconfigure(errors=HANDLER)
        except (LookupError, ValueError, OSError):
            continue


def unicode_output(stream: TextIO | None = None) -> bool:
    """Whether `stream` (stdout) can carry any character: its encoding is a UTF one."""
    encoding = getattr(stream or sys.stdout, "encoding", None) or "ascii"
    try:
        return codecs.lookup(encoding).name.startswith("utf")
    except LookupError:
        return False


def json_text(document: Any, **kw: Any) -> str:
    """`json.dumps` for standard output: Unicode as itself where the output can carry it, as
    exact ``\\uNNNN`` escapes where it cannot (so a latin-1 terminal gets the same data)."""
    import json  # only a command that prints JSON pays for it

    return json.dumps(document, ensure_ascii=not unicode_output(), **kw)
