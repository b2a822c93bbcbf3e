"""``gptoss config get KEY`` and ``gptoss config set KEY VALUE``.

``get`` reads the file merged over the defaults (like ``git config``: environment and flags are
for ``config show``). ``set`` parses VALUE as a TOML value when it parses and fits the key's
type, else takes it as a string (``set prompt.date 2025-08-05`` stores the string; ``set
display.stats true`` a boolean), checks the whole resulting config, and writes atomically.

Why not simply ``tomli_w.dump``: it writes no comments, so the template's documentation would be
lost on the first ``set``. So the text is edited in place: the value of an existing ``key = value``
is replaced (trailing comment kept), a missing key is added to its ``[table]`` (or a new table is
appended). The edited text is parsed again and must equal the intended data; only if it does
not (an unusual layout, such as dotted keys defining a table elsewhere) is the whole file
rewritten with ``tomli_w``, which drops comments: :attr:`SetResult.comments_kept` says so.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from gptoss_cli.config.loader import config_file_path, parse_toml, read_config_file, template_text
from gptoss_cli.config.schema import FIELDS, Config, describe, field_for
from gptoss_cli.config.tomlscan import Entry, KeyPath, format_key, parse_key, scan
from gptoss_cli.config.validate import config_problems
from gptoss_cli.errors import ConfigError
from gptoss_cli.paths import atomic_write_text

__all__ = ["SetResult", "format_value", "get_value", "parse_value", "set_value", "split_key"]

_TABLES = {("prompt",), ("display",), ("history",), ("profiles",)}


@dataclass(frozen=True)
class SetResult:
    """What ``set_value`` did."""

    path: Path
    key: str
    value: Any
    created: bool
    """The file did not exist and was created from the template."""
    comments_kept: bool
    """False when the file had to be rewritten by ``tomli_w`` (comments lost)."""


def split_key(key: str) -> KeyPath:
    """A dotted key as a path (quoted parts allowed); :class:`ConfigError` if it is not a TOML key."""
    path = parse_key(key.strip())
    if not path:
        raise ConfigError(
            "not a valid key", key=key, hint="keys look like prompt.reasoning or profiles.local.model"
        )
    return path


def _known(path: KeyPath) -> bool:
    return path in _TABLES or (len(path) == 2 and path[0] == "profiles") or field_for(path) is not None


def _unknown(key: str) -> ConfigError:
    keys = ", ".join(k.replace("*", "NAME") for k in FIELDS)
    return ConfigError("unknown key", key=key, hint=f"known keys: {keys}, profiles.NAME.options.FIELD")


def get_value(config: Config, key: str) -> Any:
    """A dotted key's value in ``config`` (file over defaults); a table for a section; None if unset.

    Raises :class:`ConfigError` for an unknown key or profile.
    """
    path = split_key(key)
    if not _known(path):
        raise _unknown(key)
    data = config.to_dict()
    data["default_profile"] = config.selected_profile_name()
    if path[0] == "profiles" and len(path) >= 2:
        profile = config.profile(path[1])
        if profile is None:
            raise ConfigError(
                f"no profile named {path[1]!r}",
                key=key,
                hint=f"known profiles: {', '.join(config.profile_names())}",
            )
        data["profiles"][path[1]] = profile.to_dict()
    node: Any = data
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def parse_value(key: str, raw: str) -> Any:
    """VALUE for ``config set``: a TOML value when it parses and fits the key, else the string."""
    path = split_key(key)
    spec = field_for(path)
    if spec is None:
        raise _unknown(key) if not _known(path) else ConfigError("is a table: set one of its keys", key=key)
    candidates: list[Any] = []
    with contextlib.suppress(tomllib.TOMLDecodeError):  # not a TOML value: then it is a plain string
        candidates.append(tomllib.loads(f"v = {raw}")["v"])
    candidates.append(raw)
    for value in candidates:
        try:
            checked = spec.check(value)
        except ValueError:
            continue
        return value if checked is None else checked
    got = "" if spec.secret_value else f", got {describe(candidates[0])}"
    raise ConfigError(f"expected {spec.expected}{got}", key=key)


def set_value(
    key: str, raw: str, *, path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> SetResult:
    """Set ``key`` to ``raw`` (parsed by :func:`parse_value`) in the config file, atomically.

    A missing file is created from the commented template. Raises :class:`ConfigError` for an
    unknown key, a wrong type, broken TOML in the file, or a result that would not load.
    """
    file = config_file_path(path, env)
    value = parse_value(key, raw)
    keypath = split_key(key)
    current = read_config_file(file, check=False) if file.exists() else None
    text = current.text if current is not None else template_text()
    data = current.data if current is not None else parse_toml(text)
    new_data = copy.deepcopy(data)
    _assign(new_data, keypath, value, file)
    problems = config_problems(new_data, file=str(file))
    if problems:
        raise problems[0]
    new_text = _edit_in_place(text, keypath, new_data)
    kept = new_text is not None
    if new_text is None:
        new_text = tomli_w.dumps(new_data)
    try:
        atomic_write_text(file, new_text)
    except OSError as exc:
        raise ConfigError(f"cannot write config file: {exc.strerror or exc}", file=str(file)) from exc
    return SetResult(file, ".".join(keypath), value, created=current is None, comments_kept=kept)


def _assign(data: dict[str, Any], path: KeyPath, value: Any, file: Path) -> None:
    node = data
    for i, part in enumerate(path[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(
                f"{'.'.join(path[: i + 1])} is {describe(child)}, not a table",
                file=str(file),
                key=".".join(path),
            )
        node = child
    node[path[-1]] = value


def _lookup(data: Mapping[str, Any], path: KeyPath) -> Any:
    node: Any = data
    for part in path:
        node = node[part]
    return node


def format_value(value: Any) -> str:
    """A value as TOML writes it on the right of ``=`` (tables inline, multi-line strings as such).

    ``None`` (an unset key, as :func:`get_value` returns it; TOML has no null) gives ``""``."""
    if value is None:
        return ""
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{format_key(k)} = {format_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}, multiline_strings="\n" in str(value))[len("v = ") :].rstrip("\n")


def _edit_in_place(text: str, path: KeyPath, new_data: dict[str, Any]) -> str | None:
    """``text`` with ``path`` set as in ``new_data``, comments kept; None if that cannot be done."""
    candidate = _edited(text, path, new_data)
    if candidate is None:
        return None
    try:
        if tomllib.loads(candidate) == new_data:
            return candidate
    except tomllib.TOMLDecodeError:
        pass  # this layout defeats in-place editing: the caller rewrites the whole file
    return None


def _edited(text: str, path: KeyPath, new_data: dict[str, Any]) -> str | None:
    where = scan(text)
    # 1. A pair defines the key, or an inline table that contains it: replace that value.
    for n in range(len(path), 0, -1):
        pair = where.pair(path[:n])
        if pair is not None:
            value = format_value(_lookup(new_data, path[:n]))
            return text[: pair.value_start] + value + text[pair.value_end :]
    # 2. The key's table has a [header]: add the key at the end of that table.
    line = f"{format_key(path[-1])} = {format_value(_lookup(new_data, path))}\n"
    table = path[:-1]
    if not table or where.header(table) is not None:
        return _insert_in_table(text, where.entries, table, path[-1], line)
    # 3. Append a new [table] at the end of the file.
    if not text.endswith("\n"):
        text += "\n"
    return f"{text}\n[{'.'.join(format_key(p) for p in table)}]\n{line}"


def _insert_in_table(text: str, entries: tuple[Entry, ...], table: KeyPath, key: str, line: str) -> str:
    """Add ``line`` to ``table``: in place of a commented-out ``# key = ...`` example, else at its end."""
    lines = text.splitlines(keepends=True)
    headers = [e for e in entries if e.kind != "pair"]
    header = next((e for e in headers if e.kind == "table" and e.path == table), None)
    start = header.line if header is not None else 0  # 0-based index of the table's first body line
    end = next((e.line - 1 for e in headers if e.line - 1 >= start), len(lines))
    example = _commented_example(lines, start, end, key)
    if example is not None:
        lines[example] = line
        return "".join(lines)
    pairs = [e for e in entries if e.kind == "pair" and e.table == table]
    if pairs:
        index, insert = pairs[-1].end_line, [line]
    elif header is not None:
        index, insert = header.line, [line]
    elif end < len(lines):  # a top-level key in a file without any: before the first header...
        index, insert = _above_comments(lines, end), [line, "\n"]
    else:  # ... or at the end of a file without headers
        index, insert = len(lines), [line]
    if index > 0 and not lines[index - 1].endswith("\n"):
        lines[index - 1] += "\n"
    return "".join(lines[:index] + insert + lines[index:])


def _above_comments(lines: list[str], index: int) -> int:
    """``index`` moved above the comment lines that sit right on top of it (they belong to it),
    unless those comments open the file (then they are about the file)."""
    start = index
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return index if start == 0 else start


def _commented_example(lines: list[str], start: int, end: int, key: str) -> int | None:
    """The index of a ``# key = value`` line in ``lines[start:end]``, before any commented-out header."""
    pattern = re.compile(rf"\s*#\s*{re.escape(format_key(key))}\s*=")
    for index in range(start, end):
        if re.match(r"\s*#\s*\[", lines[index]):
            return None
        if pattern.match(lines[index]):
            return index
    return None
