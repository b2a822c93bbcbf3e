"""Shape checks for the store's JSON: each failure a StoreError naming the key path (the caller adds the
file). Shared by the turn record and the conversation record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from gptoss_cli.errors import StoreError

_KINDS: Mapping[type, str] = {
    bool: "a boolean",
    int: "a number",
    float: "a number",
    str: "a string",
    list: "an array",
}
_EXPECTED: Mapping[type, str] = {str: "a string", bool: "a boolean", dict: "an object", list: "an array"}


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def kind_of(value: Any) -> str:
    """What a JSON value is, in words."""
    return "null" if value is None else _KINDS.get(type(value), "an object")


def shape_error(key: str, expected: str, got: Any) -> StoreError:
    """A wrong-shape error naming the key path."""
    return StoreError(f"{key}: {expected}, got {kind_of(got)}")


def as_object(data: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise shape_error(key, "expected an object", data)
    return data


def optional(obj: Mapping[str, Any], name: str, kind: type, key: str) -> Any:
    """``obj[name]`` when present and of ``kind`` (a bool is not an int), None when absent."""
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        expected = _EXPECTED.get(kind, kind.__name__)
        raise shape_error(f"{key}.{name}", f"expected {expected}", value)
    return value


def optional_time(obj: Mapping[str, Any], name: str, key: str) -> dt.datetime | None:
    """An ISO 8601 date-time (local time when it has no zone), None when absent."""
    value = obj.get(name)
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise shape_error(f"{key}.{name}", "expected an ISO 8601 date-time", value)
    return parsed if parsed.tzinfo is not None else parsed.astimezone()
