"""Saving sessions as conversation records (the store), for ``ask``, ``chat`` and ``/save``."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..config.resolve import Settings
from ..errors import StoreError
from ..harmony import Conversation, Message, Role
from ..harmony.history import INCOMPLETE
from ..session import Session, TurnResult
from ..store import Record, Store, Turn, new_record, read_record, write_record


def _turn(result: TurnResult, span: tuple[int, int], session: Session) -> Turn:
    return result.record(
        span, model=session.target.model, reasoning_effort=session.settings.reasoning.value.lower()
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


def _version(record: Record) -> tuple[dt.datetime, int, int]:
    """What a conversation looked like when read: a save by anyone else changes it."""
    return (record.meta.updated, len(record.meta.turns), len(record.conversation.messages))


class StorePersistence:
    """Keeps one record per session and saves it after every turn (unless history is off).

    Nothing is lost: each save re-reads the stored conversation under the store's lock, and if
    someone else saved it since this session read it (another ``ask --cid`` or ``-c`` running at
    the same time, another chat), this session's conversation is saved as a new conversation, a
    *branch* recording where it came from, and ``notify`` says so (on stderr by default)."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.enabled = settings.history.save
        self.store = store or Store()
        self.notify = notify or _to_stderr
        self.record: Record | None = None
        self.seen: tuple[dt.datetime, int, int] | None = None  # the stored record as last read or saved
        self.earlier_turns: tuple[Turn, ...] = ()  # turns of a loaded conversation

    def new_conversation(self) -> None:
        """The next save starts a new conversation (``/new``): the current one stays as it is."""
        self.record = None
        self.seen = None
        self.earlier_turns = ()

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
        meta = replace(record.meta, turns=(*self.earlier_turns, *turns))
        return replace(record, conversation=Conversation.from_messages(messages), meta=meta)

    def autosave(self, session: Session) -> Path | None:
        if not self.enabled or not session.results:
            return None
        record = self._record(session)
        with self.store.locked():
            if record.path is not None and self.seen is not None and self._moved_on(record.path):
                record = self._branch(record)
            self.record = self.store.save(record)
            self.seen = _version(self.record)
        return self.record.path

    def _moved_on(self, path: Path) -> bool:
        """Whether the stored conversation changed since this session read or saved it."""
        try:
            current = read_record(path)
        except StoreError:
            return path.exists()  # deleted meanwhile: saving it again loses nothing; damaged: keep it
        return _version(current) != self.seen

    def _branch(self, record: Record) -> Record:
        """``record`` as a new conversation that says which one it branched from, and where."""
        shared = self.seen[2] if self.seen is not None else 0
        origin = record.id
        fresh = new_record(at=record.meta.created)
        extra = {**record.meta.extra, "branch_of": {"id": origin, "messages": shared}}
        meta = replace(record.meta, id=fresh.id, extra=extra)
        branch = replace(record, meta=meta, path=None)
        self.notify(
            f"gptoss: conversation {origin} changed since it was read (another gptoss saved to it); "
            f"this turn is saved as a branch: {fresh.id}"
        )
        return branch

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
            raise StoreError(
                "no saved conversation to continue", hint="start one with gptoss ask or gptoss chat"
            )
        return self._adopt(record)

    def _adopt(self, record: Record) -> list[Message]:
        self.record = record
        self.seen = _version(record)
        self.earlier_turns = record.meta.turns
        return mark_incomplete(record)


def _to_stderr(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def history_of(messages: list[Message]) -> list[Message]:
    """The messages a session keeps (its system and developer messages come from the settings)."""
    return [m for m in messages if m.author.role not in (Role.SYSTEM, Role.DEVELOPER)]
