"""The recording codec: any model object as plain JSON data and back, checked against its type.

Generic on purpose: every frozen dataclass in `mxtui.model` is tagged by its class name and
decoded by its field type hints, so an event type added to the model later is recorded and
replayed without touching this module. Decoding is for untrusted input: every error is a
`RecordingError` naming the path of the bad part, and every string comes back printable.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Union

from mxtui import model
from mxtui.errors import UsageError
from mxtui.text import printable

SECRET_MASK = "****"
"""Written for a field declared with ``repr=False`` (a password): secrets never reach a file."""


class RecordingError(UsageError):
    """A recording that cannot be written or read; the message is one line and names the line."""


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


def kind_of(data: Any) -> str:
    """The JSON kind of `data`, for an error message ("null", "str", "dict"…)."""
    return "null" if data is None else type(data).__name__


def _bad(where: str, expected: str, data: Any) -> RecordingError:
    return RecordingError(f"{where}: expected {expected}, got {kind_of(data)}")


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
    return repr(clean(data)) if isinstance(data, str) else kind_of(data)


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
    raise RecordingError(f"{where}: cannot read a {kind_of(data)}")
