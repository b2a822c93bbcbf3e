"""Saving sessions as conversation records (the store), for ``ask``, ``chat`` and ``/save``."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from gptoss_cli.config.resolve import Settings
from gptoss_cli.errors import StoreError
from gptoss_cli.harmony import Conversation, Message, Role
from gptoss_cli.harmony.history import INCOMPLETE
from gptoss_cli.session.turn import Session, TurnResult
from gptoss_cli.store import Record, Store, TokenIds, Turn, new_record, read_record, write_record


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


class StorePersistence:
    """Keeps one record per session and saves it after every turn (unless history is off).

    Nothing is lost. Each save runs in one store transaction that first checks the stored
    version: if someone else saved this conversation since this session read it (another
    ``ask --cid`` or ``-c`` running at the same time, another chat), this session's conversation
    is saved as a new conversation, a *branch* recording where it came from, and ``notify`` says
    so (on stderr by default). A session that rewrote its own history (``/retry``, ``/undo``,
    ``/branch N``, ``ask --at N``) is saved as a branch too, so the earlier answers stay as its
    siblings. A conversation continued from a file (``chat FILE``) is saved back to that file."""

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
        self.seen: tuple[str, int, int] | None = None  # the stored version as last read or saved
        self.earlier_turns: tuple[Turn, ...] = ()  # turns of a loaded conversation
        self.loaded_tokens: dict[str, list[int]] = {}  # stored token ids of a loaded conversation

    def new_conversation(self) -> None:
        """The next save starts a new conversation (``/new``): the current one stays as it is."""
        self.record = None
        self.seen = None
        self.earlier_turns = ()

    def _record(self, session: Session) -> Record:
        messages = session.messages()
        spans = _spans(messages, session.results)
        turns = [
            _turn(r, span, session)
            for r, span in zip(session.results, spans, strict=True)
            if span[0] < span[1] or not r.messages
        ]
        earlier = [t for t in self.earlier_turns if t.messages[1] <= len(messages)]
        record = self.record or new_record(
            base_url=session.target.base_url,
            kind=session.target.profile.kind,
            profile=self.settings.profile_name,
            model=session.target.model,
            reasoning_effort=session.settings.reasoning.value.lower(),
            options=dict(session.target.call_options),
        )
        meta = replace(record.meta, turns=(*earlier, *turns))
        return replace(record, conversation=Conversation.from_messages(messages), meta=meta)

    def autosave(self, session: Session) -> str | None:
        """Save after a turn; returns the id (or file) it was saved as, None when history is off."""
        if not self.enabled or not session.results:
            return None
        record = self._record(session)
        if record.path is not None:  # continued from a file: that file is the conversation
            record = replace(record, meta=replace(record.meta, updated=self.store.clock()))
            self.record = write_record(record)
            return str(record.path)
        tokens = _token_ids(session)
        with self.store.locked():
            if self.seen is None:
                saved = self.store.create(record, tokens=tokens)
            else:
                fork = self._fork_point(record)
                if fork is not None:
                    record = self._branch(record, fork)
                    saved = self.store.create(record, tokens=tokens)
                else:
                    saved = self.store.save(record, tokens=tokens)
            self.seen = self.store.version(saved.id)
        self.record = saved
        return saved.id

    def _fork_point(self, record: Record) -> tuple[int, bool] | None:
        """Where ``record`` must branch from the stored conversation, and whether because someone
        else saved it meanwhile; None when it simply continues it."""
        assert self.record is not None and self.seen is not None
        if self.store.version(record.id) not in (self.seen, None):
            return self.seen[2], True
        before = _history_positions(self.record.conversation.messages)
        after = _history_positions(record.conversation.messages)
        for (i, old), (_, new) in zip(before, after, strict=False):
            if old is not new and replace(old, notes=()) != replace(new, notes=()):
                return i, False
        if len(after) < len(before):
            return before[len(after)][0], False
        return None

    def _branch(self, record: Record, fork: tuple[int, bool]) -> Record:
        """``record`` as a new conversation that says which one it branched from, and where."""
        at, moved_on = fork
        origin = record.id
        extra = {**record.meta.extra, "branch_of": {"id": origin, "messages": at}}
        fresh = new_record()  # a new id, created now
        meta = replace(record.meta, id=fresh.id, created=fresh.meta.created, extra=extra)
        if moved_on:
            self.notify(
                f"gptoss: conversation {origin} changed since it was read (another gptoss saved to it); "
                f"this turn is saved as a branch: {meta.id}"
            )
        return replace(record, meta=meta, path=None)

    def save_as(self, session: Session, path: str) -> Path:
        record = self._record(session)
        record = replace(record, meta=replace(record.meta, updated=dt.datetime.now(dt.UTC)))
        return write_record(record, Path(path).expanduser()).path or Path(path)

    def load(self, ref: str) -> list[Message]:
        path = Path(ref).expanduser()
        if path.is_file():
            return self._adopt(read_record(path))
        record = self.store.load(ref)
        return self._adopt(record)

    def load_last(self) -> list[Message]:
        record = self.store.last()
        if record is None:
            raise StoreError(
                "no saved conversation to continue", hint="start one with gptoss ask or gptoss chat"
            )
        return self._adopt(record)

    def _adopt(self, record: Record) -> list[Message]:
        self.record = record
        self.earlier_turns = record.meta.turns
        if record.path is None:
            self.seen = self.store.version(record.id)
            self.loaded_tokens = self.store.token_ids(record.id)
        else:
            self.seen = None
        return mark_incomplete(record)


def _history_positions(messages: Sequence[Message]) -> list[tuple[int, Message]]:
    """The conversation's messages after its system and developer messages, with their positions
    (those two are rebuilt from the settings at every turn, so they are not compared)."""
    return [(i, m) for i, m in enumerate(messages) if m.author.role not in (Role.SYSTEM, Role.DEVELOPER)]


def _token_ids(session: Session) -> TokenIds | None:
    """Each message's token ids, from the session's cache (tokenizing what it lacks), when the
    server takes token ids; None otherwise (nothing needs them, and the tokenizer stays unloaded)."""
    if not session.target.profile.token_id_prompts:
        return None
    return session.token_ids


def _to_stderr(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def history_of(messages: list[Message]) -> list[Message]:
    """The messages a session keeps (its system and developer messages come from the settings)."""
    return [m for m in messages if m.author.role not in (Role.SYSTEM, Role.DEVELOPER)]
