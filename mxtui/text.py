"""Text for people: the printable-text rule, and the one family of duration formats.

Every string from a server or a DNS answer passes through here.

Textual and Rich pass raw control characters to the terminal, and a markup parser would act on
brackets, so untrusted text is first made printable here (control, bidi, format and other
non-printable characters shown as ``\\xNN`` / ``\\uNNNN``), then wrapped in a ``Content`` or
``Text`` by the UI. Never give the result of this module to anything that parses markup.

Durations are written here too, one way each: `span` a length (a retry interval, a give-up),
`clock_offset` a point on the walk's simulated clock, `span_words` a duration in a sentence
(a bounce's text), `elapsed_text` a measured time (a probe's latency).
"""

from __future__ import annotations

import unicodedata

CUT_MARKER = "…[cut: {n} more bytes]"

# Unicode categories that are safe to show as themselves.  Everything else (Cc control, Cf format
# such as bidi overrides and zero-width joiners, Cs surrogates, Co private use, Cn unassigned,
# Zl/Zp line and paragraph separators) is escaped.
_SHOWN_CATEGORIES = frozenset(
    {
        "Lu", "Ll", "Lt", "Lm", "Lo",
        "Mn", "Mc", "Me",
        "Nd", "Nl", "No",
        "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po",
        "Sm", "Sc", "Sk", "So",
    }
)  # fmt: skip


def _escape_char(ch: str) -> str:
    cp = ord(ch)
    if 0xDC80 <= cp <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{cp - 0xDC00:02x}"
    if cp < 0x100:
        return f"\\x{cp:02x}"
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def printable(text: str, *, keep_tabs: bool = False) -> str:
    """Return `text` with every character that is not plainly visible written as an escape.

    Ordinary spaces stay; a backslash stays as it is (so an escape written by a server looks the
    same as one we made, which is honest: both are the literal characters shown).
    """
    out: list[str] = []
    for ch in text:
        if ch == " " or (keep_tabs and ch == "\t") or unicodedata.category(ch) in _SHOWN_CATEGORIES:
            out.append(ch)
        else:
            out.append(_escape_char(ch))
    return "".join(out)


def printable_bytes(data: bytes, *, limit: int = 1000) -> str:
    """Decode a line received from the wire and make it printable, cutting it after `limit` bytes.

    Bytes that are not UTF-8 are shown as ``\\xNN``; the cut is marked with how much was dropped.
    """
    cut = len(data) - limit if len(data) > limit else 0
    head = data[:limit] if cut else data
    text = printable(head.decode("utf-8", errors="surrogateescape"))
    if cut:
        text += CUT_MARKER.format(n=cut)
    return text


def cut(text: str, limit: int) -> str:
    """Cut an already printable string to `limit` characters with a marker."""
    if len(text) <= limit:
        return text
    return text[:limit] + CUT_MARKER.format(n=len(text.encode()) - len(text[:limit].encode()))


# ---- durations: one family, so one screen never mixes ``+7220m``, ``5d20m`` and ``432000 s``


def span(seconds: float, *, units: int = 4) -> str:
    """A length of time in days, hours, minutes and seconds, largest first, at most `units` of
    them: ``5d``, ``1h20m``, ``6m40s``; ``0s`` for none. The one way mxtui writes a duration
    (retry times, give-up, a countdown), so one screen never mixes ``+7220m`` and ``5d20m``."""
    rest = int(seconds)
    if rest <= 0:
        return "0s"
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts[:units])


def clock_offset(seconds: float) -> str:
    """A point on the simulated clock, from the message's arrival: ``+0s``, ``+6m40s``, ``+5d``."""
    return "+" + span(seconds, units=2)


def elapsed_text(ms: float) -> str:
    """A measured time (a probe, a lookup): milliseconds below a second (a lab probe takes a
    few, which "0.0 s" would hide), seconds with one decimal above. Not for schedules and
    clocks, which `span` writes."""
    if ms < 1:
        return "under 1 ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"


def span_words(seconds: int) -> str:
    """A duration in words for a sentence (a bounce's text): "5 days", "4 hours", "30 minutes"
    — the largest unit that divides it, minutes rounded."""
    if seconds % 86400 == 0 and seconds >= 86400:
        n, unit = seconds // 86400, "day"
    elif seconds % 3600 == 0 and seconds >= 3600:
        n, unit = seconds // 3600, "hour"
    elif seconds >= 60:
        n, unit = round(seconds / 60), "minute"
    else:
        n, unit = seconds, "second"
    return f"{n} {unit}{'s' if n != 1 else ''}"
