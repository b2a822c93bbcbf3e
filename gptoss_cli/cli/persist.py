"""Saving sessions as conversation records (the store), for ``ask``, ``chat`` and ``/save``."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..config.resolve import Settings
from ..harmony import Conversation, Message, Role
from ..harmony.history import INCOMPLETE
from ..session import Session, TurnResult
from ..store import Record, Store, Turn, new_record, read_record, write_record


def _turn(result: TurnResult, span: tuple[int, int], session: Session) -> Turn:
    usage: dict[str, int] = {"analysis_tokens": result.analysis_tokens, "final_tokens": result.final_tokens}
    if result.usage is not None:
        usage.update(
            prompt_tokens=result.usage.prompt_tokens or 0,
            completion_tokens=result.usage.completion_tokens or 0,
        )
    t = result.timings
    return Turn(
        messages=span,
        finish_reason=result.finish_reason,
        incomplete=result.outcome == "incomplete",
        usage=usage,
        timings={"ttft": t.first_token, "ttft_final": t.first_final, "total": round(t.total, 4)},
        prompt_sha256=result.prompt_sha256,
        model=session.target.model,
        reasoning_effort=session.settings.reasoning.value.lower(),
        extra={"limit": result.limit.to_dict()} if result.limit is not None else {},
    )


def _spans(messages: list[Message], results: list[TurnResult]) -> list[tuple[int, int]]:
    """Where each turn's messages sit in the saved conversation (found by identity)."""
    spans = []
    position = {id(m): i for i, m in enumerate(messages)}
    for result in results:
        found = [position[id(m)] for m in result.messages if id(m) in position]
        spans.append((min(found), max(found) + 1) if found else (len(messages), len(messages)))
    return spans


def mark_incomplete(record: Record) -> list[Message]:
    """The record's messages with cut-off ones marked again (the note is not saved in the message)."""
    messages = list(record.conversation.messages)
    for turn in record.meta.turns:
        end = turn.messages[1]
        if turn.incomplete and 0 < end <= len(messages):
            last = messages[end - 1]
            if INCOMPLETE not in last.notes:
                messages[end - 1] = replace(last, notes=(*last.notes, INCOMPLETE))
    return messages


class StorePersistence:
    """Keeps one record per session and saves it after every turn (unless history is off)."""

    def __init__(self, settings: Settings, *, store: Store | None = None) -> None:
        self.settings = settings
        self.enabled = settings.history.save
        self.store = store or Store()
        self.record: Record | None = None
        self.earlier_turns: tuple[Turn, ...] = ()  # turns of a loaded conversation
        self.earlier_calls: list[Any] = []

    def _record(self, session: Session) -> Record:
        messages = session.messages()
        spans = _spans(messages, session.results)
        turns = tuple(_turn(r, span, session) for r, span in zip(session.results, spans, strict=True))
        record = self.record or new_record(
            base_url=session.target.base_url,
            kind=session.target.profile.kind,
            profile=self.settings.profile_name,
            model=session.target.model,
            reasoning_effort=session.settings.reasoning.value.lower(),
            options=dict(session.target.call_options),
        )
        extra = dict(record.meta.extra)
        if session.tool_log:
            extra["tool_calls"] = [*self.earlier_calls, *session.tool_log]
        meta = replace(record.meta, turns=(*self.earlier_turns, *turns), extra=extra)
        return replace(record, conversation=Conversation.from_messages(messages), meta=meta)

    def autosave(self, session: Session) -> Path | None:
        if not self.enabled or not session.results:
            return None
        self.record = self.store.save(self._record(session))
        return self.record.path

    def save_as(self, session: Session, path: str) -> Path:
        record = self._record(session)
        record = replace(record, meta=replace(record.meta, updated=dt.datetime.now(dt.UTC)))
        return write_record(record, Path(path).expanduser()).path or Path(path)

    def load(self, ref: str) -> list[Message]:
        path = Path(ref).expanduser()
        return self._adopt(read_record(path) if path.is_file() else self.store.load(ref))

    def load_last(self) -> list[Message]:
        record = self.store.last()
        if record is None:
            from ..errors import StoreError

            raise StoreError(
                "no saved conversation to continue", hint="start one with gptoss ask or gptoss chat"
            )
        return self._adopt(record)

    def _adopt(self, record: Record) -> list[Message]:
        self.record = record
        self.earlier_turns = record.meta.turns
        calls = record.meta.extra.get("tool_calls")
        self.earlier_calls = list(calls) if isinstance(calls, list) else []
        return mark_incomplete(record)


def history_of(messages: list[Message]) -> list[Message]:
    """The messages a session keeps (its system and developer messages come from the settings)."""
    return [m for m in messages if m.author.role not in (Role.SYSTEM, Role.DEVELOPER)]
