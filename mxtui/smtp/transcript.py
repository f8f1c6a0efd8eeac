"""The transcript: every line of a conversation, in order, and its two export formats.

Text export uses swaks's markers, so people who know swaks read it at once:
`` -> `` sent, ``<-  `` received, `` ~> ``/``<~  `` the same inside TLS, ``=== `` a note.
JSON Lines export writes one `TranscriptLine.to_json()` per line.

Secrets are kept out at the door: `Transcript.add` replaces every registered secret (a password
and its base64 forms) with ``****`` in every line, sent or received, so nothing downstream (the
pane, the exports) can leak one even if a server echoes it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator

from mxtui.model import Credentials, LineDir, Stage, TranscriptLine

MASK = "****"
MIN_SECRET = 3
"""Shorter secrets are not scrubbed from free text (it would mangle every line); they are still
never sent to the transcript, since the AUTH lines themselves are always masked."""

_MARKERS: dict[tuple[LineDir, bool], str] = {
    ("sent", False): " -> ",
    ("recv", False): "<-  ",
    ("sent", True): " ~> ",
    ("recv", True): "<~  ",
}


def secret_forms(credentials: Credentials) -> tuple[str, ...]:
    """The password as typed and in every base64 form AUTH PLAIN or LOGIN puts on the wire."""
    user, password = credentials.user.encode(), credentials.password.encode()
    forms = {
        credentials.password,
        base64.b64encode(password).decode(),
        base64.b64encode(b"\0" + user + b"\0" + password).decode(),
        base64.b64encode(user + b"\0" + user + b"\0" + password).decode(),
    }
    return tuple(sorted((f for f in forms if len(f) >= MIN_SECRET), key=len, reverse=True))


class Transcript:
    """An append-only list of `TranscriptLine`s that calls `listener` with each new line."""

    def __init__(self, listener: Callable[[TranscriptLine], None] | None = None) -> None:
        self.lines: list[TranscriptLine] = []
        self._secrets: tuple[str, ...] = ()
        self._listener = listener

    def add_secrets(self, secrets: Iterable[str]) -> None:
        merged = set(self._secrets) | {s for s in secrets if len(s) >= MIN_SECRET}
        self._secrets = tuple(sorted(merged, key=len, reverse=True))

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def add(
        self,
        direction: LineDir,
        text: str,
        t_ms: float,
        *,
        encrypted: bool = False,
        stage: Stage | None = None,
    ) -> TranscriptLine:
        line = TranscriptLine(direction, self.scrub(text), t_ms, encrypted, stage)
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
    return "".join(json.dumps(line.to_json(), ensure_ascii=False) + "\n" for line in lines)
