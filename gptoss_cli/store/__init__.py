"""Conversation files and the history (standard library, the Harmony values and the tool-call value only).

- :mod:`.turn`: one completion request's record (:class:`Turn`: outcome, usage, timings, tool calls;
  ``ToolCall`` here is :class:`gptoss_cli.toolcall.ToolCall`, the one shape of a tool call).
- :mod:`.record`: a saved conversation as values (:class:`Record` = Harmony conversation +
  :class:`Metadata` with one :class:`Turn` per completion request).
- :mod:`.files`: reading (gptoss, plain openai-harmony, chat-completions JSON) and atomic writing.
- :mod:`.chat`: chat-completions message lists to and from Harmony messages.
- :mod:`.markdown`: Markdown export.
- :mod:`.db`: :class:`Store`, the history in SQLite (WAL, FTS5): save (appending), list, search,
  resolve ids and prefixes, last, remove, branches, and the one-time import of the previous
  version's JSON files (:mod:`.legacy`).

No API key is ever written: the server URL is stored without credentials and secret-looking
options are redacted (see :func:`.record.safe_url`, :func:`.record.redact_options`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from gptoss_cli.store.chat import from_chat_messages, looks_like_chat, to_chat_messages
    from gptoss_cli.store.db import Store, Summary, TokenIds, searchable_text
    from gptoss_cli.store.files import FileFormat, dumps, parse_record, read_record, write_record
    from gptoss_cli.store.markdown import to_markdown
    from gptoss_cli.store.record import (
        FORMAT_VERSION,
        Metadata,
        Record,
        is_id,
        new_id,
        new_record,
        now,
        prompt_sha256,
        redact_options,
        safe_url,
    )
    from gptoss_cli.store.turn import Outcome, TokenUsage, ToolCall, Turn, TurnTimings, classify

# Names load their module on first use (PEP 562): ``history list`` needs only .listing, and
# importing all of the store (Harmony values, JSON codecs) would double its start-up time.
_WHERE = {
    "from_chat_messages": "chat", "looks_like_chat": "chat", "to_chat_messages": "chat",
    "Store": "db", "TokenIds": "db", "searchable_text": "db", "Summary": "listing",
    "FileFormat": "files", "dumps": "files", "parse_record": "files", "read_record": "files",
    "write_record": "files", "to_markdown": "markdown",
    "FORMAT_VERSION": "record", "Metadata": "record", "Record": "record", "is_id": "record",
    "new_id": "record", "new_record": "record", "now": "record", "prompt_sha256": "record",
    "redact_options": "record", "safe_url": "record",
    "Outcome": "turn", "TokenUsage": "turn", "ToolCall": "turn", "Turn": "turn", "TurnTimings": "turn",
    "classify": "turn",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "FORMAT_VERSION",
    "ExportFormat",
    "FileFormat",
    "Metadata",
    "Outcome",
    "Record",
    "Store",
    "Summary",
    "TokenIds",
    "TokenUsage",
    "ToolCall",
    "Turn",
    "TurnTimings",
    "classify",
    "dumps",
    "export",
    "from_chat_messages",
    "is_id",
    "looks_like_chat",
    "new_id",
    "new_record",
    "now",
    "parse_record",
    "prompt_sha256",
    "read_record",
    "redact_options",
    "safe_url",
    "searchable_text",
    "to_chat_messages",
    "to_markdown",
    "write_record",
]

ExportFormat = Literal["markdown", "chat", "gptoss"]


def export(record: Record, format: ExportFormat = "markdown", *, reasoning: bool = False) -> str:
    """``history export``: Markdown (final answers; reasoning only when asked), chat-completions
    JSON (``reasoning_content`` only when asked) or gptoss's own JSON (everything)."""
    import json

    from gptoss_cli.store.chat import to_chat_messages
    from gptoss_cli.store.files import dumps
    from gptoss_cli.store.markdown import to_markdown

    if format == "markdown":
        return to_markdown(record, reasoning=reasoning)
    if format == "chat":
        messages = to_chat_messages(record.conversation.messages, reasoning=reasoning)
        return json.dumps(messages, ensure_ascii=False, indent=2) + "\n"
    return dumps(record)
