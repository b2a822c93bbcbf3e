"""A saved conversation as values: the Harmony conversation plus gptoss's metadata block.

On disk it is openai-harmony's JSON conversation with one extra key, which openai-harmony
ignores, so the file loads there too::

    {
      "messages": [...],                       # openai-harmony's Conversation.to_json()
      "gptoss": {
        "version": 1,
        "id": "3f9a2c71d0be", "title": null,
        "created": "2025-08-07T10:11:12.345+02:00", "updated": "...",
        "server": {"base_url": "http://127.0.0.1:8000", "kind": "vllm", "profile": "local",
                   "model": "openai/gpt-oss-20b"},
        "reasoning_effort": "medium", "options": {"temperature": 1.0},
        "turns": [{"messages": [3, 5], "finish_reason": "stop", "incomplete": false,
                   "usage": {...}, "timings": {...}, "prompt_sha256": "...", ...}]
      }
    }

A *turn* is one completion request: ``messages`` is the ``[start, end)`` range of messages it
produced (a tool loop makes several turns for one user message). The server URL is stored without
credentials or query string, and option values whose names look like secrets are redacted: API
keys never reach these files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gptoss_cli.harmony.types import Conversation, Role
from gptoss_cli.store.shapes import as_object as _object
from gptoss_cli.store.shapes import is_int as _is_int
from gptoss_cli.store.shapes import optional as _opt
from gptoss_cli.store.shapes import optional_time as _opt_time
from gptoss_cli.store.shapes import shape_error as _shape
from gptoss_cli.store.turn import Turn

__all__ = [
    "FORMAT_VERSION",
    "Metadata",
    "Record",
    "Turn",
    "is_id",
    "new_id",
    "new_record",
    "now",
    "prompt_sha256",
    "redact_options",
    "safe_url",
]

FORMAT_VERSION = 1
REDACTED = "<redacted>"
_SECRET_NAME = re.compile(r"(api[_-]?key|authorization|password|secret|token)$", re.IGNORECASE)
_ID = re.compile(r"[0-9a-z][0-9a-z_-]{0,63}")


def now() -> dt.datetime:
    """The current local time with its UTC offset, to the millisecond."""
    current = dt.datetime.now().astimezone()
    return current.replace(microsecond=current.microsecond // 1000 * 1000)


def new_id() -> str:
    """A fresh conversation id: 12 random hex digits (prefixes stay unique, as git's do)."""
    return secrets.token_hex(6)


def is_id(text: str) -> bool:
    """Whether ``text`` can be a conversation id (lower-case letters, digits, ``-``, ``_``)."""
    return _ID.fullmatch(text) is not None


def prompt_sha256(prompt: str) -> str:
    """The sha256 of a rendered prompt's text, as stored in :attr:`Turn.prompt_sha256`."""
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


def safe_url(url: str | None) -> str | None:
    """``url`` without user info, query or fragment: safe to store and show."""
    if not url:
        return url
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def redact_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Request options with secret-looking values (``api_key``, ``token``...) replaced, recursively."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if _SECRET_NAME.search(key):
            out[key] = REDACTED
        elif isinstance(value, Mapping):
            out[key] = redact_options(value)
        else:
            out[key] = value
    return out


# ------------------------------------------------------------------------------------------ values


@dataclass(frozen=True)
class Metadata:
    """The ``"gptoss"`` block: identity, dates, server, settings and one record per turn."""

    id: str
    created: dt.datetime
    updated: dt.datetime
    title: str | None = None
    base_url: str | None = None
    kind: str | None = None
    profile: str | None = None
    model: str | None = None
    reasoning_effort: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    turns: tuple[Turn, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys this version does not know, kept so that an older gptoss does not drop them."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": FORMAT_VERSION,
            "id": self.id,
            "title": self.title,
            "created": self.created.isoformat(timespec="milliseconds"),
            "updated": self.updated.isoformat(timespec="milliseconds"),
            "server": {
                "base_url": safe_url(self.base_url),
                "kind": self.kind,
                "profile": self.profile,
                "model": self.model,
            },
            "reasoning_effort": self.reasoning_effort,
            "options": redact_options(self.options),
            "turns": [turn_dict(t) for t in self.turns],
        }
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out

    @classmethod
    def from_dict(cls, data: Any, *, key: str = "gptoss") -> Metadata:
        obj = _object(data, key)
        version = obj.get("version", FORMAT_VERSION)
        if not _is_int(version) or version > FORMAT_VERSION:
            raise _shape(f"{key}.version", f"expected a format version up to {FORMAT_VERSION}", version)
        ident = obj.get("id")
        if not isinstance(ident, str) or not _ID.fullmatch(ident):
            raise _shape(f"{key}.id", "expected an id (lower-case letters, digits, - and _)", ident)
        server = _opt(obj, "server", dict, key) or {}
        raw_turns = _opt(obj, "turns", list, key) or []
        known = {
            "version",
            "id",
            "title",
            "created",
            "updated",
            "server",
            "reasoning_effort",
            "options",
            "turns",
        }
        return cls(
            id=ident,
            created=_time(obj, "created", key),
            updated=_time(obj, "updated", key),
            title=_opt(obj, "title", str, key),
            base_url=_opt(server, "base_url", str, f"{key}.server"),
            kind=_opt(server, "kind", str, f"{key}.server"),
            profile=_opt(server, "profile", str, f"{key}.server"),
            model=_opt(server, "model", str, f"{key}.server"),
            reasoning_effort=_opt(obj, "reasoning_effort", str, key),
            options=_opt(obj, "options", dict, key) or {},
            turns=tuple(Turn.from_dict(t, key=f"{key}.turns[{i}]") for i, t in enumerate(raw_turns)),
            extra={k: v for k, v in obj.items() if k not in known},
        )


@dataclass(frozen=True)
class Record:
    """A conversation with its metadata, and the file it was read from or saved to (if any)."""

    conversation: Conversation
    meta: Metadata
    path: Path | None = None

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def title(self) -> str:
        """The title, else the first line of the first user message, else ``(empty)``."""
        if self.meta.title:
            return self.meta.title
        for message in self.conversation.messages:
            if message.role is Role.USER and message.text.strip():
                return _first_line(message.text)
        return "(empty)"

    def add_turn(self, conversation: Conversation, turn: Turn, *, at: dt.datetime | None = None) -> Record:
        """This record with the conversation after a turn, the turn's record, and ``updated`` set."""
        meta = replace(self.meta, turns=(*self.meta.turns, turn), updated=at or now())
        return replace(self, conversation=conversation, meta=meta)

    def to_dict(self) -> dict[str, Any]:
        """The file's JSON: openai-harmony's conversation plus the ``"gptoss"`` block."""
        return {**self.conversation.to_dict(), "gptoss": self.meta.to_dict()}


def new_record(
    conversation: Conversation | None = None,
    *,
    title: str | None = None,
    base_url: str | None = None,
    kind: str | None = None,
    profile: str | None = None,
    model: str | None = None,
    reasoning_effort: str | None = None,
    options: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Record:
    """A new, unsaved record with a fresh id, created and updated ``at`` (default: now)."""
    when = at or now()
    meta = Metadata(
        id=new_id(),
        created=when,
        updated=when,
        title=title,
        base_url=safe_url(base_url),
        kind=kind,
        profile=profile,
        model=model,
        reasoning_effort=reasoning_effort,
        options=dict(options or {}),
    )
    return Record(conversation or Conversation(), meta)


def turn_dict(turn: Turn) -> dict[str, Any]:
    """A turn as stored: its dict with secret-looking ``extra`` values redacted."""
    out = turn.to_dict()
    if "extra" in out:
        out["extra"] = redact_options(out["extra"])
    return out


def _first_line(text: str, limit: int = 80) -> str:
    line = text.strip().splitlines()[0].strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


# ----------------------------------------------------------------------------------- shape checks


def _time(obj: Mapping[str, Any], name: str, key: str) -> dt.datetime:
    value = _opt_time(obj, name, key)
    if value is None:
        raise _shape(f"{key}.{name}", "expected an ISO 8601 date-time", None)
    return value
