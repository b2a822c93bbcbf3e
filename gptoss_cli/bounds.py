"""Bounds on what gptoss reads: size and depth limits, each with the variable that raises it.

A limit that is hit raises :class:`~gptoss_cli.errors.LimitError`, whose message names the limit and
whose hint says how to raise it. Standard library only (the SSE decoder uses it).

======================== ============================= ===========================================
variable                 default                       what it bounds
======================== ============================= ===========================================
GPTOSS_MAX_LINE_BYTES    16 MiB                        one line of a server's stream (SSE, NDJSON)
GPTOSS_MAX_EVENT_CHARS   32 Mi characters              one SSE event (its data lines together)
GPTOSS_MAX_JSON_DEPTH    100                           nesting of any JSON gptoss reads
GPTOSS_MAX_FILE_BYTES    64 MiB                        a conversation, tool or schema file
GPTOSS_MAX_TOOL_OUTPUT   20000 characters              what one tool call returns to the model
======================== ============================= ===========================================
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gptoss_cli.errors import LimitError

__all__ = [
    "EVENT_SIZE", "FILE_BYTES", "JSON_DEPTH", "LINE_BYTES", "TOOL_OUTPUT", "Limit", "check_depth",
    "load_json", "read_file_bytes",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Limit:
    """One limit: its name, the variable that raises it, its default and unit."""

    name: str
    env: str
    default: int
    unit: str

    @property
    def value(self) -> int:
        """The limit in force: the variable when it holds a positive integer, else the default."""
        raw = os.environ.get(self.env, "").strip().replace("_", "")
        try:
            value = int(raw)
        except ValueError:
            return self.default
        return value if value > 0 else self.default

    def error(self, where: str, what: str) -> LimitError:
        """The error for ``what`` (at ``where``) being over this limit."""
        return LimitError(
            f"{where}: {what} is over the {self.name} limit ({self.value:,} {self.unit})",
            limit=self,
            hint=f"raise it with {self.env}=N if this is expected",
        )


LINE_BYTES = Limit("stream line size", "GPTOSS_MAX_LINE_BYTES", 16 << 20, "bytes")
EVENT_SIZE = Limit("stream event size", "GPTOSS_MAX_EVENT_CHARS", 32 << 20, "characters")
JSON_DEPTH = Limit("JSON nesting depth", "GPTOSS_MAX_JSON_DEPTH", 100, "levels")
FILE_BYTES = Limit("file size", "GPTOSS_MAX_FILE_BYTES", 64 << 20, "bytes")
TOOL_OUTPUT = Limit("tool output", "GPTOSS_MAX_TOOL_OUTPUT", 20_000, "characters")


def check_depth(value: Any, where: str) -> Any:
    """``value`` itself, or a LimitError when its lists and objects nest deeper than the limit.
    Iterative: a deep value cannot exhaust the interpreter's stack here."""
    limit = JSON_DEPTH.value
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise JSON_DEPTH.error(where, "the JSON's nesting")
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return value


def load_json(text: str | bytes, where: str) -> Any:
    """``json.loads`` bounded in depth (see :func:`check_depth`); syntax errors propagate as usual."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise JSON_DEPTH.error(where, "the JSON's nesting") from None
    return check_depth(value, where)


def read_file_bytes(path: Path, where: str | None = None) -> bytes:
    """A file's bytes, or a LimitError when it is bigger than the file size limit (OSError propagates)."""
    limit = FILE_BYTES.value
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FILE_BYTES.error(where or str(path), "the file")
    return data
