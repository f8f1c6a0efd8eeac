"""One JSON form for every model dataclass, instead of a hand-written method per class.

The JSON documents of `mxtui mx/smtp/walk/explain --json` are contracts, so a class's keys and
their order are declared once (`JSON`), next to its fields, and this module turns an object into
plain JSON data: nested dataclasses by their own form, enums by value, tuples as lists. A class
with no `JSON` gives every field in order.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Key:
    """One key of a JSON form: its `name`, the attribute it reads (`attr`: a field, a property,
    a method taking no arguments, or a dotted path; the name itself by default), for a float,
    how many `digits` to round it to, and whether an empty value is written as null."""

    name: str
    attr: str = ""
    digits: int | None = None
    or_none: bool = False
    """Write an empty value ("", ()) as null."""


_Reader = tuple[str, Callable[[Any], Any], bool, int | None, bool]
_forms: dict[type, tuple[_Reader, ...]] = {}


def _form(cls: type) -> tuple[_Reader, ...]:
    form = _forms.get(cls)
    if form is None:
        keys: tuple[str | Key, ...] = getattr(cls, "JSON", ()) or tuple(
            f.name for f in dataclasses.fields(cls) if f.init
        )
        readers: list[_Reader] = []
        for key in keys:
            spec = Key(key) if isinstance(key, str) else key
            attr = spec.attr or spec.name
            field_names = {f.name for f in dataclasses.fields(cls)}
            plain = "." not in attr and attr in field_names
            readers.append(
                (spec.name, operator.attrgetter(attr), not plain, spec.digits, spec.or_none)
            )
        form = _forms[cls] = tuple(readers)
    return form


def json_form(obj: Any) -> dict[str, Any]:
    """`obj` (a dataclass instance) as a JSON object, keys in the order its `JSON` gives."""
    out: dict[str, Any] = {}
    for name, read, maybe_call, digits, or_none in _form(type(obj)):
        value = read(obj)
        if maybe_call and callable(value):
            value = value()
        if digits is not None and value is not None:
            value = round(value, digits)
        if or_none and not value:
            value = None
        out[name] = to_json(value)
    return out


def to_json(value: Any) -> Any:
    """Any model value as plain JSON data (what `json.dumps` takes)."""
    if value is None or (isinstance(value, str | int | float) and not isinstance(value, enum.Enum)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {k: to_json(v) for k, v in value.items()}
    method = getattr(value, "to_json", None)
    if method is not None:
        return method()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_form(value)
    raise TypeError(f"no JSON form for a {type(value).__name__}")


class JsonForm:
    """Base of the model's dataclasses that have a JSON form: `to_json()` gives the keys in
    `JSON` (every field, in order, when it is empty)."""

    __slots__ = ()
    JSON: ClassVar[tuple[str | Key, ...]] = ()

    def to_json(self) -> dict[str, Any]:
        return json_form(self)
