"""A run's files checked by field when they are read back: a hand-edited, truncated or planted
``results.json`` or samples line is refused with one line naming the field (``cells[3].metrics.f1.value:
expected a number, got 'abc'``), never a traceback from deep inside the report.

The expected type of every field is the record's own annotation (``CellResult``, ``MetricScore``,
``SampleRow``...), so a field added to a record is checked without a second schema to keep in
step. A ``float`` written as ``null`` (promptkit writes strict JSON: NaN and infinities become
null, their reason is in a neighbouring field such as ``test`` or ``error``) reads back as NaN.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any

from promptkit.errors import PromptkitError


class RecordError(PromptkitError):
    """A run's file holds a value its record cannot take."""

    exit_code = 2


# Fields a record's reader fills in itself (MetricScore's name is its key in ``metrics``).
_IMPLIED = {"MetricScore": {"name"}}


@cache
def _hints(cls: type) -> dict[str, Any]:
    return {k: v for k, v in typing.get_type_hints(cls).items() if typing.get_origin(v) is not typing.ClassVar}


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str | int | float | bool) or value is None else type(value).__name__
    text = {"dict": "an object", "list": "a list"}.get(text, text)
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(where: str, expected: str, value: Any) -> RecordError:
    return RecordError(f"{where}: expected {expected}, got {_shown(value)}")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def conform_value(value: Any, hint: Any, where: str) -> Any:
    """``value`` as ``hint`` reads it (null for a float: NaN), or :class:`RecordError`."""
    # plain types first: they are most of a file's values (a samples file has millions)
    if hint is str:
        if not isinstance(value, str):
            raise _fail(where, "a string", value)
        return value
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _fail(where, "an integer", value)
        return value
    if hint is float:
        if value is None:
            return math.nan
        if not _number(value):
            raise _fail(where, "a number", value)
        return float(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise _fail(where, "true or false", value)
        return value
    if hint is Any:
        return value
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        if value == {} and type(None) in args and any(dataclasses.is_dataclass(a) for a in args):
            return None  # files of older versions hold {} for a record a cell does not have
        rest = [a for a in args if a is not type(None)]
        for arg in rest:
            try:
                return conform_value(value, arg, where)
            except RecordError:
                if len(rest) == 1:
                    raise
        raise _fail(where, " or ".join(_name(a) for a in args), value)
    if origin is typing.Literal:
        if value not in args:
            raise _fail(where, "one of " + ", ".join(repr(a) for a in args), value)
        return value
    if origin in (tuple, list):
        if not isinstance(value, list):
            raise _fail(where, "a list", value)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(value) != len(args):
                raise _fail(where, f"a list of {len(args)} values", value)
            return [conform_value(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True))]
        item = args[0] if args else Any
        return [conform_value(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        if not isinstance(value, dict):
            raise _fail(where, "an object", value)
        item = args[1] if len(args) == 2 else Any
        return {k: conform_value(v, item, f"{where}.{k}") for k, v in value.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        layout = getattr(hint, "file_layout", None)
        return conform(hint, value, where, extra=getattr(hint, "FILE_EXTRA", "forbid"), layout=layout() if layout else None)
    raise TypeError(f"{where}: no reader for {hint!r}")  # a record field of a new kind: a bug here


def _name(hint: Any) -> str:
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false",
            type(None): "null"}.get(hint, "an object" if dataclasses.is_dataclass(hint) else "a list")


def conform(cls: type, data: Any, where: str, *, extra: str = "forbid", layout: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``data`` checked against the fields of the record ``cls``: an object holding every field
    without a default, each of its type. ``extra``: ``forbid`` (an unknown key is an error),
    ``ignore`` (left out) or ``keep`` (kept as it is, for the record's own reader); keys in the
    record's ``FILE_OLD_KEYS`` (written by older versions, dropped by its reader) are kept.
    ``layout`` replaces the field hints for a record whose file layout differs from its fields
    (a record says so with a ``file_layout`` static method).

    Returns:
        the values, with null floats read as NaN.
    """
    if not isinstance(data, dict):
        raise _fail(where or "results.json", "an object", data)
    hints = _hints(cls) if layout is None else layout
    out: dict[str, Any] = {}
    prefix = f"{where}." if where else ""
    for key, value in data.items():
        if key in hints:
            out[key] = conform_value(value, hints[key], prefix + key)
        elif extra == "keep" or key in getattr(cls, "FILE_OLD_KEYS", ()):
            out[key] = value
        elif extra == "forbid":
            known = ", ".join(sorted(hints))
            raise RecordError(f"{prefix}{_shown(key)}: unknown key; {cls.__name__} has: {known}")
    for name in _required(cls) if layout is None else ():
        if name not in data:
            raise RecordError(f"{prefix}{name}: missing")
    return out


@cache
def _required(cls: type) -> tuple[str, ...]:
    """The fields a file must give: no default, and not filled in by the record's reader."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING
                 and f.default_factory is dataclasses.MISSING and f.name not in _IMPLIED.get(cls.__name__, ()))


def strict(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by None, so that ``json.dumps(...,
    allow_nan=False)`` writes JSON any parser reads (a browser's ``JSON.parse`` rejects ``NaN``)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict(v) for v in value]
    return value
