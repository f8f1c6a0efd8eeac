"""Record and replay: a session or a walk saved as JSON Lines, and played back at its own pace.

For demos where the network cannot be trusted: record the walk once (``mxtui walk … --record``,
or ``w`` in the app), then replay it anywhere (``mxtui replay FILE``) without DNS or SMTP.

The file is a header line, then one line per event::

    {"mxtui": "recording", "version": 1, "kind": "walk", "domain": …, "profile": …, …}
    {"t": 0.0, "event": {"type": "MXAnswered", "plan": {"type": "MXPlan", …}}}

The codec is generic on purpose: every frozen dataclass in `mxtui.model` is tagged by its class
name and decoded by its field type hints, so an event type added to the model later is recorded
and replayed without touching this module.

A recording is untrusted input (it can be hand-edited or come from anyone): every error is a
`RecordingError` naming the line, and every string is made printable again on load (the ones a
server sent already were when recorded; this is cheap insurance against an edited file).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import enum
import io
import json
import math
import time
import types
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal, Union

from mxtui import model
from mxtui.errors import UsageError
from mxtui.filedata import FileDataError, check_depth
from mxtui.gate import StepGate
from mxtui.text import printable

FORMAT = "recording"
VERSION = 1
KINDS = ("walk", "session")
MAX_GAP = 5.0
"""Longest pause a replay keeps, in recorded seconds: a recording that sat idle (a presenter
talking, a paused walk) must not stall the demo that replays it."""
MAX_LINE_BYTES = 16 * 1024 * 1024
"""A line longer than this is refused rather than read into memory."""
SECRET_MASK = "****"
"""Written for a field declared with ``repr=False`` (a password): secrets never reach a file."""

Kind = Literal["walk", "session"]


class RecordingError(UsageError):
    """A recording that cannot be written or read; the message is one line and names the line."""


# --------------------------------------------------------------------------------------------
# Codec
# --------------------------------------------------------------------------------------------

_registry: dict[str, type] | None = None
_hints: dict[type, dict[str, Any]] = {}


def registry() -> dict[str, type]:
    """Every dataclass defined in `mxtui.model`, by class name (built once, on first use)."""
    global _registry
    if _registry is None:
        _registry = model.all_types()
    return _registry


def _field_hints(cls: type) -> dict[str, Any]:
    hints = _hints.get(cls)
    if hints is None:
        try:
            hints = typing.get_type_hints(cls)
        except Exception as exc:  # a model type whose annotations name something not imported
            raise RecordingError(f"cannot read the fields of {cls.__name__}: {exc}") from None
        _hints[cls] = hints
    return hints


def _tagged(cls: type) -> bool:
    """Fields go beside the tag, unless one of them is itself called "type" (then nested)."""
    return any(f.name == "type" for f in dataclasses.fields(cls))


def encode(obj: Any) -> Any:
    """`obj` as plain JSON data: dataclasses tagged by class name, enums by value, tuples as
    lists, bytes as base64, datetimes as ISO-8601. Raises TypeError for anything else."""
    if obj is None or isinstance(obj, bool | int | str):
        return obj.value if isinstance(obj, enum.Enum) else obj
    if isinstance(obj, float):
        return obj
    if isinstance(obj, enum.Enum):
        return encode(obj.value)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {
            f.name: SECRET_MASK if not f.repr else encode(getattr(obj, f.name))
            for f in dataclasses.fields(obj)
            if f.init
        }
        name = type(obj).__name__
        return {"type": name, "fields": fields} if _tagged(type(obj)) else {"type": name, **fields}
    if isinstance(obj, tuple | list):
        return [encode(item) for item in obj]
    if isinstance(obj, Mapping):
        if not all(isinstance(key, str) for key in obj):
            raise TypeError("only mappings with string keys can be recorded")
        return {key: encode(value) for key, value in obj.items()}
    if isinstance(obj, bytes):
        return base64.b64encode(obj).decode("ascii")
    if isinstance(obj, datetime):
        return obj.isoformat()
    raise TypeError(f"cannot record a {type(obj).__name__}")


def clean(text: str) -> str:
    """`text` made printable line by line: newlines and tabs stay, every other control,
    escape, bidi or format character is shown as an escape."""
    if text.isprintable():
        return text
    return "\n".join(printable(line, keep_tabs=True) for line in text.split("\n"))


_ONE_LINE: dict[str, frozenset[str]] = {
    "TranscriptLine": frozenset({"text"}),
    "Reply": frozenset({"lines"}),
    "StepResult": frozenset({"sent"}),
}
"""Fields shown as one line each: a newline in them would forge a transcript line."""


def decode(data: Any, hint: Any = Any, *, where: str = "event") -> Any:
    """The object `data` encodes, checked against the type `hint` (Any: by its tag).

    Every string comes back made printable (`clean`). Raises `RecordingError` naming the
    path of the bad part (``StepDone.step.reply.code: expected int, got str``).
    """
    try:
        return _decode(data, hint, where)
    except RecursionError:
        raise RecordingError(f"{where}: nested too deeply") from None


def _kind(data: Any) -> str:
    return "null" if data is None else type(data).__name__


def _bad(where: str, expected: str, data: Any) -> RecordingError:
    return RecordingError(f"{where}: expected {expected}, got {_kind(data)}")


def _decode(data: Any, hint: Any, where: str) -> Any:
    if hint is Any or hint is object:
        return _decode_untyped(data, where)
    if hint is None or hint is type(None):
        if data is not None:
            raise _bad(where, "null", data)
        return None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Union or origin is types.UnionType:
        return _decode_union(data, args, where)
    if origin is Literal:
        for choice in args:
            if type(data) is type(choice) and data == choice:
                return choice
        raise RecordingError(f"{where}: {_show(data)} is not one of {', '.join(map(repr, args))}")
    if origin is tuple or hint is tuple:
        if not isinstance(data, list):
            raise _bad(where, "a list", data)
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            item = args[0] if args else Any
            return tuple(_decode(v, item, f"{where}[{i}]") for i, v in enumerate(data))
        if len(data) != len(args):
            raise RecordingError(f"{where}: expected {len(args)} items, got {len(data)}")
        return tuple(
            _decode(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(data, args, strict=True))
        )
    if origin is list or hint is list:
        if not isinstance(data, list):
            raise _bad(where, "a list", data)
        item = args[0] if args else Any
        return [_decode(v, item, f"{where}[{i}]") for i, v in enumerate(data)]
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        if not isinstance(data, dict):
            raise _bad(where, "an object", data)
        value_hint = args[1] if len(args) == 2 else Any
        return {clean(k): _decode(v, value_hint, f"{where}.{clean(k)}") for k, v in data.items()}
    if isinstance(hint, type):
        return _decode_class(data, hint, where)
    raise RecordingError(f"{where}: cannot read a field of type {hint!r}")


def _show(data: Any) -> str:
    return repr(clean(data)) if isinstance(data, str) else _kind(data)


def _decode_union(data: Any, args: tuple[Any, ...], where: str) -> Any:
    if data is None:
        if type(None) in args:
            return None
        raise _bad(where, " or ".join(_name(a) for a in args), data)
    if isinstance(data, dict) and isinstance(data.get("type"), str):
        # A tagged object: its tag picks the member (ResolveEvent, WalkEvent, …).
        for member in args:
            if isinstance(member, type) and member.__name__ == data["type"]:
                return _decode_class(data, member, where)
    errors: list[RecordingError] = []
    for member in args:
        if member is type(None):
            continue
        try:
            return _decode(data, member, where)
        except RecordingError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    names = " or ".join(_name(a) for a in args if a is not type(None))
    raise _bad(where, names, data)


def _name(hint: Any) -> str:
    if hint is type(None):
        return "null"
    return hint.__name__ if isinstance(hint, type) else str(hint)


def _decode_class(data: Any, cls: type, where: str) -> Any:
    if dataclasses.is_dataclass(cls):
        return _decode_dataclass(data, cls, where)
    if issubclass(cls, enum.Enum):
        try:
            return cls(data)
        except (ValueError, TypeError):
            raise RecordingError(f"{where}: {_show(data)} is not a {cls.__name__}") from None
    if cls is bool:
        if not isinstance(data, bool):
            raise _bad(where, "true or false", data)
        return data
    if cls is int:
        if not isinstance(data, int) or isinstance(data, bool):
            raise _bad(where, "int", data)
        return data
    if cls is float:
        if not isinstance(data, int | float) or isinstance(data, bool):
            raise _bad(where, "number", data)
        return float(data)
    if cls is str:
        if not isinstance(data, str):
            raise _bad(where, "str", data)
        return clean(data)
    if cls is bytes:
        if not isinstance(data, str):
            raise _bad(where, "base64 text", data)
        try:
            return base64.b64decode(data, validate=True)
        except ValueError:
            raise RecordingError(f"{where}: not base64 text") from None
    if cls is datetime:
        if not isinstance(data, str):
            raise _bad(where, "an ISO-8601 time", data)
        try:
            return datetime.fromisoformat(data)
        except ValueError:
            raise RecordingError(f"{where}: {_show(data)} is not an ISO-8601 time") from None
    raise RecordingError(f"{where}: cannot read a field of type {cls.__name__}")


def _decode_dataclass(data: Any, cls: type, where: str) -> Any:
    name = cls.__name__
    if not isinstance(data, dict):
        raise _bad(where, f"a {name} object", data)
    if data.get("type") != name:
        raise RecordingError(f"{where}: expected a {name}, got {_show(data.get('type'))}")
    fields = data.get("fields") if _tagged(cls) else {k: v for k, v in data.items() if k != "type"}
    if not isinstance(fields, dict):
        raise _bad(f"{where}.fields", "an object", fields)
    known = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise RecordingError(f"{where}: {name} has no field {clean(str(unknown[0]))!r}")
    hints = _field_hints(cls)
    base = name if where in ("event", "") else where  # StepDone.step.reply.code
    one_line = _ONE_LINE.get(name, frozenset())
    values: dict[str, Any] = {}
    for field_name, f in known.items():
        if field_name not in fields:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise RecordingError(f"{where}: {name} is missing the field {field_name!r}")
            continue
        value = _decode(fields[field_name], hints[field_name], f"{base}.{field_name}")
        if field_name in one_line:
            value = _one_line(value)
        values[field_name] = value
    try:
        return cls(**values)
    except Exception as exc:  # a __post_init__ check, or a type the model itself refuses
        raise RecordingError(f"{where}: cannot make a {name}: {clean(str(exc))}") from None


def _one_line(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, tuple):
        return tuple(_one_line(v) for v in value)
    return value


def _decode_untyped(data: Any, where: str) -> Any:
    if isinstance(data, dict):
        tag = data.get("type")
        if isinstance(tag, str):
            cls = registry().get(tag)
            if cls is None:
                raise RecordingError(f"{where}: unknown event type {clean(tag)!r}")
            return _decode_dataclass(data, cls, where)
        return {
            clean(str(k)): _decode_untyped(v, f"{where}.{clean(str(k))}") for k, v in data.items()
        }
    if isinstance(data, list):
        return tuple(_decode_untyped(v, f"{where}[{i}]") for i, v in enumerate(data))
    if isinstance(data, str):
        return clean(data)
    if data is None or isinstance(data, bool | int | float):
        return data
    raise RecordingError(f"{where}: cannot read a {_kind(data)}")


# --------------------------------------------------------------------------------------------
# File format
# --------------------------------------------------------------------------------------------


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
            raise RecordingError(f"{name}: line 1: the header's {key} is a {_kind(value)}")
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


def _lines(stream: IO[bytes]) -> typing.Iterator[tuple[int, bytes, bool]]:
    """(number, line, ended) for each line; `ended` is False for a last line without newline."""
    number = 0
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


def load_recording(path: str | Path | IO[bytes]) -> Recording:
    """Read a recording made by `Recorder` (or hand-edited). Raises `RecordingError` with one
    line naming the problem and where. A last line cut short (a writer killed mid-line) is
    dropped and said in `Recording.note`."""
    if isinstance(path, str | Path):
        name = str(path)
        try:
            with Path(path).open("rb") as stream:
                return _read(stream, name)
        except OSError as exc:
            raise RecordingError(f"cannot read {name}: {exc.strerror or exc}") from None
    return _read(path, getattr(path, "name", "recording"))


def _read(stream: IO[bytes], name: str) -> Recording:
    lines = _lines(stream)
    first = next(lines, None)
    if first is None:
        raise RecordingError(f"{name}: empty file, not an mxtui recording")
    try:
        header_data = _parse(first[1], 1)
        check_depth(header_data)  # the header is walked by recursion: bounded first
    except (RecordingError, FileDataError) as exc:
        where = str(exc) if str(exc).startswith("line 1") else f"line 1: {exc}"
        raise RecordingError(f"{name}: not an mxtui recording: {where}") from None
    header = _header(header_data, name)
    entries: list[Entry] = []
    note = ""
    for number, raw, ended in lines:
        if not raw.strip():
            continue
        try:
            data = _parse(raw, number)
        except RecordingError:
            if not ended:
                note = (
                    f"line {number} was cut short (the recording was interrupted); "
                    f"{len(entries)} events kept"
                )
                break
            raise RecordingError(f"{name}: {_parse_error(raw, number)}") from None
        try:
            entries.append(_entry(data, number))
        except RecordingError as exc:
            raise RecordingError(f"{name}: {exc}") from None
    return Recording(header, tuple(entries), note)


def _parse_error(raw: bytes, number: int) -> str:
    try:
        _parse(raw, number)
    except RecordingError as exc:
        return str(exc)
    return f"line {number}: unreadable"  # pragma: no cover - only called after a failure


def dumps(recording: Recording) -> str:
    """A recording as the text of its file (for tests and for saving a loaded one again)."""
    out = io.StringIO()
    header = {k: v for k, v in recording.header.items() if k not in ("mxtui", "version")}
    recorder = Recorder(out, **header)
    for entry in recording.entries:
        recorder.write(entry.event, t=entry.t)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# Player
# --------------------------------------------------------------------------------------------

Sleep = Callable[[float], Awaitable[object]]


class Player(StepGate):
    """The entries of a recording, released at the recorded pace divided by `speed`.

    An async iterator (``async for entry in Player(rec, speed=2)``). `speed` 0 or infinity
    means no waiting at all. Each recorded gap is capped at `max_gap` seconds (5 by default)
    before the speed applies, so a recording that sat idle does not stall a demo. A change of
    `speed` applies from the next gap. `pause()` holds the next entry (an entry already
    waiting out its gap is held when the gap ends); `step_once()` releases exactly one entry
    and stays paused; `resume()` plays on. `sleep` is injectable so tests need no real time.
    """

    def __init__(
        self,
        recording: Recording,
        speed: float = 1.0,
        *,
        sleep: Sleep = asyncio.sleep,
        max_gap: float = MAX_GAP,
    ) -> None:
        super().__init__()  # pause / resume / step_once, as a walk has
        self.recording = recording
        self._entries = recording.entries
        self.speed = speed
        self.max_gap = max_gap
        self._sleep = sleep
        self._index = 0
        self._last_t = 0.0

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if not value >= 0:  # also refuses NaN
            raise ValueError("speed must be 0 or more")
        self._speed = float(value)

    @property
    def paused(self) -> bool:
        return not self._running

    @property
    def position(self) -> int:
        """How many entries have been released."""
        return self._index

    @property
    def done(self) -> bool:
        return self._index >= len(self._entries)

    def wait_for(self, entry: Entry) -> float:
        """Seconds to wait before `entry`, after the one released before it."""
        if self._speed == 0 or math.isinf(self._speed):
            return 0.0
        gap = min(max(entry.t - self._last_t, 0.0), self.max_gap)
        return gap / self._speed

    def __aiter__(self) -> Player:
        return self

    async def __anext__(self) -> Entry:
        if self._index >= len(self._entries):
            raise StopAsyncIteration
        entry = self._entries[self._index]
        if self._running:
            wait = self.wait_for(entry)
            if wait > 0:
                await self._sleep(wait)
        await self._gate()
        self._index += 1
        self._last_t = entry.t
        return entry
