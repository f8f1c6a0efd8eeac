"""The transcript: every line of a conversation, in order, and its two export formats.

Text export uses swaks's markers, so people who know swaks read it at once:
`` -> `` sent, ``<-  `` received, `` ~> ``/``<~  `` the same inside TLS, ``=== `` a note.
JSON Lines export writes one `TranscriptLine.to_json()` per line.

Secrets are kept out at the door: `Transcript.add` replaces every registered secret (a password
and its base64 forms) with ``****`` in every line, sent or received, so nothing downstream (the
pane, the exports) can leak one even if a server echoes it. Only shown text is masked: the
session reads the server's replies as they came.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from mxtui.model import LineDir, Stage, TranscriptLine
from mxtui.smtp.auth import secret_forms
from mxtui.smtp.replies import REPLY_CODE

__all__ = ["MASK", "Transcript", "marker", "secret_forms", "to_jsonl", "to_text"]

MASK = "****"
MIN_SECRET = 3
"""Secrets this long or longer are masked wherever they appear in shown text. Shorter ones
(a 1- or 2-character password) would mangle every line that way, so they are masked where they
stand as a whole word, in the lines where a secret belongs: AUTH and hand-typed commands. The
lines AUTH sends are masked whole by construction, whatever the password's length."""

_SECRET_STAGES = frozenset({Stage.AUTH, Stage.RAW})

_MARKERS: dict[tuple[LineDir, bool], str] = {
    ("sent", False): " -> ",
    ("recv", False): "<-  ",
    ("sent", True): " ~> ",
    ("recv", True): "<~  ",
}


class Transcript:
    """An append-only list of `TranscriptLine`s that calls `listener` with each new line.

    This is where secrets are masked: what is shown and what is saved passes through here, while
    the session parses the server's replies unmasked (a password such as ``250`` must not hide a
    reply code or an EHLO keyword from the protocol code).
    """

    def __init__(self, listener: Callable[[TranscriptLine], None] | None = None) -> None:
        self.lines: list[TranscriptLine] = []
        self._secrets: tuple[str, ...] = ()
        self._short: re.Pattern[str] | None = None
        self._listener = listener

    def add_secrets(self, secrets: Iterable[str]) -> None:
        merged = set(self._secrets) | {s for s in secrets if s}
        self._secrets = tuple(sorted(merged, key=len, reverse=True))
        short = [re.escape(s) for s in self._secrets if len(s) < MIN_SECRET]
        self._short = (
            re.compile(rf"(?<![^\s:=<>\"',;]){'|'.join(short)}(?![^\s:=<>\"',;])")
            if short
            else None
        )

    def scrub(self, text: str, stage: Stage | None = None) -> str:
        """`text` as it may be shown: every secret replaced by ``****``. A reply code at the
        start of a line stays (it is protocol, not the secret)."""
        if not self._secrets:
            return text
        head = ""
        if REPLY_CODE.match(text):
            head, text = text[:4], text[4:]
        for secret in self._secrets:
            if len(secret) >= MIN_SECRET and secret in text:
                text = text.replace(secret, MASK)
        if self._short is not None and stage in _SECRET_STAGES:
            text = self._short.sub(MASK, text)
        return head + text

    def add(
        self,
        direction: LineDir,
        text: str,
        t_ms: float,
        *,
        encrypted: bool = False,
        stage: Stage | None = None,
    ) -> TranscriptLine:
        line = TranscriptLine(direction, self.scrub(text, stage), t_ms, encrypted, stage)
        self.lines.append(line)
        if self._listener is not None:
            self._listener(line)
        return line

    def __iter__(self) -> Iterator[TranscriptLine]:
        return iter(self.lines)

    def __len__(self) -> int:
        return len(self.lines)


def marker(line: TranscriptLine) -> str:
    return _MARKERS.get((line.dir, line.encrypted), "=== ")


def to_text(lines: Iterable[TranscriptLine]) -> str:
    """The swaks-style text export (one line per transcript line, newline-terminated)."""
    return "".join(f"{marker(line)}{line.text}\n" for line in lines)


def to_jsonl(lines: Iterable[TranscriptLine]) -> str:
    """The JSON Lines export: one object per transcript line."""
    import json

    return "".join(json.dumps(line.to_json(), ensure_ascii=False) + "\n" for line in lines)
