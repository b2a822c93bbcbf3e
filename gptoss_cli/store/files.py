"""Reading and writing one conversation file.

Three shapes are read: gptoss's own (openai-harmony's conversation plus a ``"gptoss"`` block),
a plain openai-harmony conversation ``{"messages": [...]}``, and an OpenAI chat-completions
message list (bare, or as ``{"messages": [...]}`` of a request body): see :mod:`.chat`. Files
are written in gptoss's shape only, atomically. Broken JSON is reported with the file, line and
column; a wrong shape with the file and the key path (``messages[3].content``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from gptoss_cli.bounds import load_json, read_file_bytes
from gptoss_cli.errors import ConversationFormatError, StoreError
from gptoss_cli.harmony.types import Conversation
from gptoss_cli.paths import atomic_write_text
from gptoss_cli.store.chat import from_chat_messages, looks_like_chat
from gptoss_cli.store.record import Metadata, Record, is_id, new_id
from gptoss_cli.store.turn import classify
from gptoss_cli.toolcall import ToolCall

__all__ = ["FileFormat", "dumps", "parse_record", "read_record", "write_record"]

FileFormat = Literal["auto", "gptoss", "harmony", "chat"]


def dumps(record: Record) -> str:
    """The file's text: indented UTF-8 JSON. Raises StoreError if something cannot be serialised."""
    try:
        return json.dumps(record.to_dict(), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise StoreError(f"cannot save conversation {record.id}: {exc}", path=_str(record.path)) from exc


def write_record(record: Record, path: Path | None = None) -> Record:
    """Write ``record`` to ``path`` (default: its own path) atomically; returns it with that path.

    The JSON is built completely before the file is touched, so a failure leaves any old file whole.
    """
    target = path or record.path
    if target is None:
        raise ValueError("write_record needs a path for a record that has none")  # a bug in the caller
    text = dumps(record)
    try:
        atomic_write_text(target, text, private=True)
    except OSError as exc:
        raise StoreError(f"cannot write: {exc.strerror or exc}", path=str(target)) from exc
    return Record(record.conversation, record.meta, target)


def read_record(path: Path, *, format: FileFormat = "auto") -> Record:
    """Read a conversation file of any supported shape (see the module docstring)."""
    try:
        raw = read_file_bytes(path)
    except FileNotFoundError:
        raise StoreError("no such conversation file", path=str(path)) from None
    except IsADirectoryError:
        raise StoreError("is a directory, not a conversation file", path=str(path)) from None
    except OSError as exc:
        raise StoreError(f"cannot read: {exc.strerror or exc}", path=str(path)) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise StoreError(f"not UTF-8 text (line {line})", path=str(path)) from exc
    try:
        data = load_json(text, str(path))
    except json.JSONDecodeError as exc:
        raise StoreError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", path=str(path)
        ) from exc
    try:
        return parse_record(data, format=format, path=path)
    except StoreError as exc:
        if exc.path is not None:
            raise
        raise StoreError(exc.message, path=str(path), hint=exc.hint) from exc


def parse_record(data: Any, *, format: FileFormat = "auto", path: Path | None = None) -> Record:
    """A record from parsed JSON. Files without a ``"gptoss"`` block get a fresh id and the file's
    modification time (or now) as their dates."""
    shape = _shape_of(data) if format == "auto" else format
    if shape == "chat":
        messages = data if isinstance(data, list) else data.get("messages")
        return Record(Conversation(from_chat_messages(messages)), _fresh_meta(path), path)
    if not isinstance(data, Mapping):
        raise StoreError(f"expected a JSON object with a messages array, got {type(data).__name__}")
    try:
        conversation = Conversation.from_dict(data)
    except ConversationFormatError as exc:
        raise StoreError(exc.message) from exc
    for i, message in enumerate(conversation.messages):
        if message.author.role.value == "tool" and message.author.name is None:
            # the renderer would refuse it later with the reference's bare "Tools should have a name!"
            raise StoreError(
                f'messages[{i}]: a tool message needs the tool\'s name (author "name", e.g. "functions.f")'
            )
    if shape == "gptoss" and "gptoss" not in data:
        raise StoreError("gptoss: missing (this is not a gptoss conversation file)")
    meta = Metadata.from_dict(data["gptoss"]) if "gptoss" in data else _fresh_meta(path)
    if "gptoss" in data:
        meta = _upgrade(meta, data["gptoss"], conversation)
    return Record(conversation, meta, path)


def _upgrade(meta: Metadata, raw: Mapping[str, Any], conversation: Conversation) -> Metadata:
    """A file from before turns carried their outcome and tool calls: each turn is classified from
    its messages, and the conversation-wide ``tool_calls`` list goes to the turns that made them."""
    raw_turns = raw.get("turns") or []
    if all(isinstance(t, Mapping) and "outcome" in t for t in raw_turns):
        return meta
    extra = dict(meta.extra)
    logged = extra.pop("tool_calls", None)
    calls = (
        [ToolCall.from_dict(c) for c in logged if isinstance(c, Mapping)] if isinstance(logged, list) else []
    )
    messages = conversation.messages
    turns = []
    for turn in meta.turns:
        outcome = classify(messages[turn.messages[0] : turn.messages[1]], cut=turn.incomplete)
        made = (calls.pop(0),) if outcome == "tool_call" and calls else turn.tool_calls
        turns.append(replace(turn, outcome=outcome, tool_calls=made))
    return replace(meta, turns=tuple(turns), extra=extra)


def _shape_of(data: Any) -> FileFormat:
    if isinstance(data, list):
        return "chat"
    if isinstance(data, Mapping):
        if "gptoss" in data:
            return "gptoss"
        messages = data.get("messages")
        if isinstance(messages, list) and looks_like_chat(messages):
            return "chat"
    return "harmony"


def _fresh_meta(path: Path | None) -> Metadata:
    """Metadata for a file without any: its name as id when it is one, its mtime as dates."""
    when = dt.datetime.now().astimezone()
    if path is not None:
        with contextlib.suppress(OSError):  # not on disk (parsed from memory): now will do
            when = dt.datetime.fromtimestamp(path.stat().st_mtime).astimezone()
    when = when.replace(microsecond=when.microsecond // 1000 * 1000)
    ident = path.stem if path is not None and is_id(path.stem) else new_id()
    return Metadata(id=ident, created=when, updated=when)


def _str(path: Path | None) -> str | None:
    return None if path is None else str(path)
