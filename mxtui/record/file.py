"""The recording file: a header line, then one JSON line per event, written as it happens and
read as it is played.

    {"mxtui": "recording", "version": 1, "kind": "walk", "domain": …, "profile": …, …}
    {"t": 0.0, "event": {"type": "MXAnswered", "plan": {"type": "MXPlan", …}}}

A recording is untrusted input (it can be hand-edited or come from anyone): every error is a
`RecordingError` naming the line. `open_recording` reads the header at once and the events one
at a time, so a replay of a gigabyte file starts at once and holds one event in memory;
`load_recording` reads a whole (small) file.
"""

from __future__ import annotations

import io
import json
import math
import time
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from mxtui.filedata import FileDataError, check_depth
from mxtui.model.smtp import Envelope
from mxtui.record.codec import RecordingError, clean, decode, encode, kind_of
from mxtui.text import printable

FORMAT = "recording"
VERSION = 1
KINDS = ("walk", "session")
MAX_LINE_BYTES = 16 * 1024 * 1024
"""A line longer than this is refused rather than read into memory."""

Kind = Literal["walk", "session"]


@dataclass(frozen=True)
class Entry:
    """One recorded event and when it happened (seconds since the recording started)."""

    t: float
    event: Any


@dataclass(frozen=True)
class Recording:
    """A loaded recording. `note` says what was forgiven (a cut-short last line), else ""."""

    header: dict[str, Any]
    entries: tuple[Entry, ...]
    note: str = ""

    @property
    def kind(self) -> Kind:
        return self.header["kind"]

    @property
    def duration(self) -> float:
        """Seconds from the start to the last event, as recorded."""
        return self.entries[-1].t if self.entries else 0.0


class Recorder:
    """Writes a recording as it happens: the header at once, then one flushed line per event,
    so a demo killed half-way still leaves a file that replays up to the kill.

    `target` is a path (created or replaced) or an open text file (left open by `close`).
    `header` gives the header's keys: kind ("walk" or "session", required), domain, profile,
    seed, scenario, envelope, and any others; `created` defaults to now (UTC).
    """

    def __init__(self, target: str | Path | IO[str], **header: Any) -> None:
        kind = header.get("kind")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        fields: dict[str, Any] = {
            "mxtui": FORMAT,
            "version": VERSION,
            "kind": kind,
            "domain": "",
            "profile": None,
            "seed": None,
            "scenario": None,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "envelope": {},
        }
        fields.update({k: v for k, v in header.items() if k not in ("mxtui", "version")})
        self._t0 = time.monotonic()
        self._owned = not hasattr(target, "write")
        if self._owned:
            path = Path(typing.cast("str | Path", target))
            try:
                self._file: IO[str] = path.open(
                    "w", encoding="utf-8", errors="backslashreplace", newline="\n"
                )
            except OSError as exc:
                raise RecordingError(
                    f"cannot write the recording {path}: {exc.strerror or exc}"
                ) from None
        else:
            self._file = typing.cast("IO[str]", target)
        self.closed = False
        self.count = 0
        self._line(encode(fields))

    def _line(self, data: Any) -> None:
        if self.closed:
            raise ValueError("the recording is closed")
        try:
            self._file.write(json.dumps(data, ensure_ascii=False) + "\n")
            self._file.flush()
        except OSError as exc:
            raise RecordingError(f"cannot write the recording: {exc.strerror or exc}") from None

    def write(self, event: Any, t: float | None = None) -> None:
        """Record `event` at `t` seconds (default: now, since the recorder was made)."""
        when = time.monotonic() - self._t0 if t is None else float(t)
        self._line({"t": round(when, 6), "event": encode(event)})
        self.count += 1

    def close(self) -> None:
        if not self.closed and self._owned:
            self._file.close()
        self.closed = True

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_HEADER_TYPES: dict[str, tuple[type, ...]] = {
    "domain": (str,),
    "profile": (str, type(None)),
    "seed": (int, type(None)),
    "scenario": (str, type(None)),
    "created": (str,),
    "envelope": (dict,),
}


def _header(data: Any, name: str) -> dict[str, Any]:
    if not isinstance(data, dict) or data.get("mxtui") != FORMAT:
        raise RecordingError(f"{name}: not an mxtui recording (line 1 is not its header)")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RecordingError(f"{name}: line 1: the header has no valid version")
    if version > VERSION:
        raise RecordingError(
            f"{name}: made by a newer mxtui (recording version {version}); "
            f"this one reads version {VERSION}"
        )
    if data.get("kind") not in KINDS:
        raise RecordingError(f"{name}: line 1: kind must be one of {', '.join(KINDS)}")
    for key, allowed in _HEADER_TYPES.items():
        value = data.get(key)
        if key in data and (not isinstance(value, allowed) or isinstance(value, bool)):
            raise RecordingError(f"{name}: line 1: the header's {key} is a {kind_of(value)}")
    return _clean_json(data)


def _clean_json(data: Any) -> Any:
    """Plain JSON data with every string (keys too) made printable; no tags are read."""
    if isinstance(data, str):
        return clean(data)
    if isinstance(data, list):
        return [_clean_json(v) for v in data]
    if isinstance(data, dict):
        return {clean(k): _clean_json(v) for k, v in data.items()}
    return data


def _lines(stream: IO[bytes], first: int = 1) -> Iterator[tuple[int, bytes, bool]]:
    """(number, line, ended) for each line; `ended` is False for a last line without newline.
    `first` is the number of the first line read (2 when the header was read already)."""
    number = first - 1
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise RecordingError(f"line {number}: longer than {MAX_LINE_BYTES} bytes")
        yield number, raw, raw.endswith(b"\n")


def _parse(raw: bytes, number: int) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise RecordingError(f"line {number}: not UTF-8 text") from None
    except RecursionError:
        raise RecordingError(f"line {number}: nested too deeply") from None
    except ValueError as exc:  # a JSONDecodeError, or an integer past Python's digit limit
        reason = getattr(exc, "msg", None) or printable(str(exc).split(";")[0])
        raise RecordingError(f"line {number}: not JSON ({reason})") from None


def _entry(data: Any, number: int) -> Entry:
    if not isinstance(data, dict) or set(data) != {"t", "event"}:
        raise RecordingError(f"line {number}: expected an object with t and event")
    t = data["t"]
    if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t < 0:
        raise RecordingError(f"line {number}: t must be a number of seconds, 0 or more")
    if not isinstance(data["event"], dict) or "type" not in data["event"]:
        raise RecordingError(f"line {number}: the event is not a tagged object")
    try:
        event = decode(data["event"])
    except RecordingError as exc:
        raise RecordingError(f"line {number}: {exc}") from None
    return Entry(float(t), event)


class RecordingReader:
    """A recording read as it is played: `header` at once, the entries one at a time.

    Iterating yields each `Entry` as its line is read (a bad line raises `RecordingError` at
    that point, after the good ones before it); a last line cut short (a writer killed
    mid-line) ends the iteration quietly and is said in `note`. Iterate again to start over
    from the first event.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.note = ""
        self.count = 0
        """Entries read by the last iteration so far."""
        with self._open() as stream:
            self.header = _read_header(stream, self.name)

    def _open(self) -> IO[bytes]:
        try:
            return self.path.open("rb")
        except OSError as exc:
            raise RecordingError(f"cannot read {self.name}: {exc.strerror or exc}") from None

    @property
    def kind(self) -> Kind:
        return typing.cast("Kind", self.header["kind"])

    def __iter__(self) -> Iterator[Entry]:
        self.note, self.count = "", 0
        with self._open() as stream:
            lines = _lines(stream)
            next(lines, None)  # the header, read already
            for entry in _entries(lines, self.name, self):
                self.count += 1
                yield entry


def _read_header(stream: IO[bytes], name: str) -> dict[str, Any]:
    first = next(_lines(stream), None)
    if first is None:
        raise RecordingError(f"{name}: empty file, not an mxtui recording")
    try:
        header_data = _parse(first[1], 1)
        check_depth(header_data)  # the header is walked by recursion: bounded first
    except (RecordingError, FileDataError) as exc:
        where = str(exc) if str(exc).startswith("line 1") else f"line 1: {exc}"
        raise RecordingError(f"{name}: not an mxtui recording: {where}") from None
    return _header(header_data, name)


class _Noted(typing.Protocol):
    note: str
    count: int


def _entries(lines: Iterator[tuple[int, bytes, bool]], name: str, noted: _Noted) -> Iterator[Entry]:
    for number, raw, ended in lines:
        if not raw.strip():
            continue
        try:
            data = _parse(raw, number)
        except RecordingError:
            if not ended:
                noted.note = (
                    f"line {number} was cut short (the recording was interrupted); "
                    f"{noted.count} events kept"
                )
                return
            raise RecordingError(f"{name}: {_parse_error(raw, number)}") from None
        try:
            yield _entry(data, number)
        except RecordingError as exc:
            raise RecordingError(f"{name}: {exc}") from None


def open_recording(path: str | Path) -> RecordingReader:
    """A recording to play as it is read (see `RecordingReader`); the header is checked now."""
    return RecordingReader(path)


def load_recording(path: str | Path | IO[bytes]) -> Recording:
    """Read a whole recording made by `Recorder` (or hand-edited). Raises `RecordingError` with
    one line naming the problem and where. A last line cut short (a writer killed mid-line) is
    dropped and said in `Recording.note`."""
    if isinstance(path, str | Path):
        reader = RecordingReader(path)
        entries = tuple(reader)
        return Recording(reader.header, entries, reader.note)
    name = getattr(path, "name", "recording")
    header = _read_header(path, name)

    class _Note:
        note = ""
        count = 0

    noted = _Note()
    entries = []
    for entry in _entries(_lines(path, first=2), name, noted):
        entries.append(entry)
        noted.count += 1
    return Recording(header, tuple(entries), noted.note)


def _parse_error(raw: bytes, number: int) -> str:
    try:
        _parse(raw, number)
    except RecordingError as exc:
        return str(exc)
    return f"line {number}: unreadable"  # pragma: no cover - only called after a failure


def envelope_header(envelope: Envelope, size: int | None = None) -> dict[str, Any]:
    """The header's "envelope" value: from, to, ehlo, and the message size when known."""
    data: dict[str, Any] = {
        "from": envelope.mail_from,
        "to": list(envelope.recipients),
        "ehlo": envelope.ehlo_name,
    }
    if size is not None:
        data["size"] = size
    return data


def envelope_from_header(header: dict[str, Any]) -> tuple[Envelope | None, int | None]:
    """The recorded envelope (None when the header has none) and the message size (None when
    it was not recorded); every value made printable, whatever the file holds."""
    data = header.get("envelope")
    if not isinstance(data, dict) or not data:
        return None, None
    recipients = data.get("to")
    envelope = Envelope(
        mail_from=printable(str(data.get("from") or "")),
        recipients=tuple(printable(str(r)) for r in recipients)
        if isinstance(recipients, list)
        else (),
        ehlo_name=printable(str(data.get("ehlo") or "")) or "(not recorded)",
    )
    size = data.get("size")
    ok = isinstance(size, int) and not isinstance(size, bool) and size >= 0
    return envelope, size if ok else None


def dumps(recording: Recording) -> str:
    """A recording as the text of its file (for tests and for saving a loaded one again)."""
    out = io.StringIO()
    header = {k: v for k, v in recording.header.items() if k not in ("mxtui", "version")}
    recorder = Recorder(out, **header)
    for entry in recording.entries:
        recorder.write(entry.event, t=entry.t)
    return out.getvalue()
