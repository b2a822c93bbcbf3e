"""The history on SQLite: every conversation saved under the data dir, listed, searched, found by id.

One database, ``<data dir>/history.db`` (standard library :mod:`sqlite3`, WAL journal, mode 0600):

- ``conversations``: one row per conversation: its metadata (the ``"gptoss"`` block without the
  turns, as JSON) and the columns ``history list`` shows and sorts by; ``parent``/``parent_at`` say
  which conversation a branch came from and after how many messages.
- ``messages``: one row per message (openai-harmony's JSON) with its token ids when known, so a
  continued conversation is not tokenized again (:meth:`Store.token_ids`).
- ``turns``: one row per completion request (:class:`~gptoss_cli.store.turn.Turn` as JSON).
- ``search``: an FTS5 table (trigram tokenizer: substring matches in any case) over user messages
  and final answers, for ``history list -q``.

A save is one transaction that appends the messages and turns added since the last save (a
conversation whose earlier messages changed, after ``/undo`` say, has its rows replaced): never a
rewrite of the whole history, and a concurrent save waits for it (``BEGIN IMMEDIATE``). The JSON
file stays the interchange format (``history export/import``, ``chat FILE``, ``replay FILE``); the
previous version's folder of JSON files is imported on the first run and left in place.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from gptoss_cli.errors import StoreError
from gptoss_cli.harmony.types import Conversation, Message, Role, TextContent
from gptoss_cli.paths import app_dirs
from gptoss_cli.store.files import read_record
from gptoss_cli.store.legacy import legacy_files
from gptoss_cli.store.listing import DB_NAME, Summary, list_summaries
from gptoss_cli.store.record import Metadata, Record, new_id, now, turn_dict

__all__ = ["DB_NAME", "Store", "Summary", "TokenIds", "searchable_text"]

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    meta TEXT NOT NULL,
    title TEXT NOT NULL,
    model TEXT,
    profile TEXT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    updated_at REAL NOT NULL,
    user_turns INTEGER NOT NULL,
    message_count INTEGER NOT NULL,
    turn_count INTEGER NOT NULL,
    parent TEXT,
    parent_at INTEGER
);
CREATE INDEX IF NOT EXISTS conversations_by_update ON conversations (updated_at DESC, created DESC, id DESC);
CREATE INDEX IF NOT EXISTS conversations_by_parent ON conversations (parent);
CREATE TABLE IF NOT EXISTS messages (
    conversation TEXT NOT NULL,
    position INTEGER NOT NULL,
    data TEXT NOT NULL,
    tokens BLOB,
    PRIMARY KEY (conversation, position)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL,
    position INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (conversation, position)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5 (
    conversation UNINDEXED, position UNINDEXED, text, tokenize = 'trigram'
);
CREATE TABLE IF NOT EXISTS facts (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

TokenIds = Callable[[Message], Sequence[int] | None]
"""A message's token ids if the caller knows them (or can compute them cheaply), else None."""


def _searchable(message: Message) -> bool:
    return message.role is Role.USER or (
        message.role is Role.ASSISTANT and message.channel in (None, "final") and not message.recipient
    )


def searchable_text(record: Record) -> str:
    """What search looks in: user messages and final answers, case-folded."""
    return "\n".join(m.text for m in record.conversation.messages if _searchable(m)).casefold()


def _text_of(message: Message) -> str | None:
    """The one text piece a message renders its content as, if it has exactly one."""
    if len(message.content) == 1 and isinstance(message.content[0], TextContent):
        return message.content[0].text
    return None


class Store:
    """Conversations in one SQLite database (default: ``<data dir>/history.db``).

    ``legacy`` is the previous version's folder of JSON files (default: ``<data dir>/conversations``),
    imported the first time the database is opened."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        legacy: Path | None = None,
        clock: Callable[[], dt.datetime] = now,
    ) -> None:
        dirs = app_dirs()
        self.path = path if path is not None else dirs.data / DB_NAME
        self.legacy = legacy if legacy is not None else (dirs.conversations if path is None else None)
        self.clock = clock
        self._db: sqlite3.Connection | None = None
        self._depth = 0
        self._problems: list[StoreError] = []

    @property
    def root(self) -> Path:
        """The database file (``history path``)."""
        return self.path

    # ------------------------------------------------------------------------------- connection

    def _connect(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():  # private from the start: WAL and shm files inherit the mode
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            _enter_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > _SCHEMA_VERSION:
                raise StoreError(
                    f"the history was written by a newer gptoss (schema {version})",
                    path=str(self.path),
                    hint="upgrade gptoss",
                )
            if version < _SCHEMA_VERSION:  # (listing.py reads these tables too)
                db.executescript(_SCHEMA)
                db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the history: {exc}", path=str(self.path)) from exc
        self._db = db
        if self.legacy is not None:
            self.migrate(self.legacy)
        return db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @contextmanager
    def locked(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (re-entrant): a read-check-write inside it sees no other writer."""
        db = self._connect()
        if self._depth:
            self._depth += 1
            try:
                yield db
            finally:
                self._depth -= 1
            return
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write the history: {exc}", path=str(self.path)) from exc
        self._depth = 1
        try:
            yield db
        except BaseException:
            self._depth = 0
            db.execute("ROLLBACK")
            raise
        self._depth = 0
        try:
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write the history: {exc}", path=str(self.path)) from exc

    # ---------------------------------------------------------------------------------- writing

    def create(self, record: Record, *, tokens: TokenIds | None = None, touch: bool = True) -> Record:
        """Save ``record`` as a new conversation (a fresh id if its id is taken)."""
        with self.locked() as db:
            while db.execute("SELECT 1 FROM conversations WHERE id = ?", (record.id,)).fetchone():
                record = replace(record, meta=replace(record.meta, id=new_id()))
            return self.save(record, tokens=tokens, touch=touch)

    def save(self, record: Record, *, tokens: TokenIds | None = None, touch: bool = True) -> Record:
        """Save ``record`` under its id: messages and turns added since the stored version are
        appended; if the stored prefix differs, the conversation's rows are replaced. ``touch``
        sets ``updated`` to now. Returns the record as saved (no file path)."""
        if touch:
            record = replace(record, meta=replace(record.meta, updated=self.clock()))
        record = replace(record, path=None)
        try:
            with self.locked() as db:
                self._write(db, record, tokens)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot save conversation {record.id}: {exc}", path=str(self.path)) from exc
        except (TypeError, ValueError) as exc:
            raise StoreError(f"cannot save conversation {record.id}: {exc}") from exc
        return record

    def _write(self, db: sqlite3.Connection, record: Record, tokens: TokenIds | None) -> None:
        ident = record.id
        messages = record.conversation.messages
        turns = record.meta.turns
        row = db.execute(
            "SELECT message_count, turn_count FROM conversations WHERE id = ?", (ident,)
        ).fetchone()
        kept_messages, kept_turns = (0, 0) if row is None else row
        datas = _Encoded(lambda i: messages[i].to_dict(notes=False), len(messages))
        if kept_messages and (
            kept_messages > len(messages) or not self._same(db, "messages", ident, kept_messages, datas)
        ):
            kept_messages = 0
        # secrets redacted (options, each turn's extra) and the URL made safe, as in the file
        meta = replace(record.meta, turns=()).to_dict()
        del meta["turns"]
        turn_datas = _Encoded(lambda i: turn_dict(turns[i]), len(turns))
        if kept_turns and (
            kept_turns > len(turns) or not self._same(db, "turns", ident, kept_turns, turn_datas)
        ):
            kept_turns = 0
        if not kept_messages:
            db.execute("DELETE FROM messages WHERE conversation = ?", (ident,))
            db.execute("DELETE FROM search WHERE conversation = ?", (ident,))
        if not kept_turns:
            db.execute("DELETE FROM turns WHERE conversation = ?", (ident,))
        db.executemany(
            "INSERT INTO messages (conversation, position, data, tokens) VALUES (?, ?, ?, ?)",
            (
                (ident, i, datas[i], _pack(tokens(messages[i]) if tokens else None))
                for i in range(kept_messages, len(messages))
            ),
        )
        db.executemany(
            "INSERT INTO search (conversation, position, text) VALUES (?, ?, ?)",
            (
                (ident, i, messages[i].text)
                for i in range(kept_messages, len(messages))
                if _searchable(messages[i]) and messages[i].text
            ),
        )
        db.executemany(
            "INSERT INTO turns (conversation, position, data) VALUES (?, ?, ?)",
            ((ident, i, turn_datas[i]) for i in range(kept_turns, len(turns))),
        )
        found = meta.get("branch_of")
        branch: dict[str, Any] = found if isinstance(found, dict) else {}
        db.execute(
            "INSERT OR REPLACE INTO conversations (id, meta, title, model, profile, created, updated,"
            " updated_at, user_turns, message_count, turn_count, parent, parent_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ident,
                json.dumps(meta, ensure_ascii=False, allow_nan=False),
                record.title,
                record.meta.model,
                record.meta.profile,
                meta["created"],
                meta["updated"],
                record.meta.updated.timestamp(),
                sum(1 for m in messages if m.role is Role.USER),
                len(messages),
                len(turns),
                branch.get("id"),
                branch.get("messages"),
            ),
        )

    @staticmethod
    def _same(db: sqlite3.Connection, table: str, ident: str, count: int, datas: _Encoded) -> bool:
        """Whether the stored rows are a prefix of ``datas`` (checked on the last stored row)."""
        row = db.execute(
            f"SELECT data FROM {table} WHERE conversation = ? AND position = ?", (ident, count - 1)
        ).fetchone()
        return row is not None and row[0] == datas[count - 1]

    def remove(self, ref: str) -> str:
        """Delete a conversation (by id or unique id prefix); returns its id."""
        ident = self.find(ref)
        with self.locked() as db:
            for table, column in (
                ("conversations", "id"),
                ("messages", "conversation"),
                ("turns", "conversation"),
                ("search", "conversation"),
            ):
                db.execute(f"DELETE FROM {table} WHERE {column} = ?", (ident,))
        return ident

    # ---------------------------------------------------------------------------------- reading

    def load(self, ref: str) -> Record:
        """A conversation by id, id prefix or file path (a file is read, not imported)."""
        if _is_path(ref):
            return read_record(Path(ref).expanduser())
        ident = self.find(ref)
        db = self._connect()
        row = db.execute("SELECT meta FROM conversations WHERE id = ?", (ident,)).fetchone()
        if row is None:
            raise StoreError(f"no conversation with id {ref!r}", hint="`gptoss history list` shows the ids")
        meta = json.loads(row[0])
        meta["turns"] = [
            json.loads(data)
            for (data,) in db.execute(
                "SELECT data FROM turns WHERE conversation = ? ORDER BY position", (ident,)
            )
        ]
        messages = tuple(
            Message.from_dict(json.loads(data))
            for (data,) in db.execute(
                "SELECT data FROM messages WHERE conversation = ? ORDER BY position", (ident,)
            )
        )
        try:
            return Record(Conversation(messages), Metadata.from_dict(meta))
        except StoreError as exc:
            raise StoreError(f"conversation {ident}: {exc.message}", path=str(self.path)) from exc

    def token_ids(self, ident: str) -> dict[str, list[int]]:
        """Each stored message's text and its token ids (where known), to seed a tokenizer cache."""
        db = self._connect()
        out: dict[str, list[int]] = {}
        for data, blob in db.execute(
            "SELECT data, tokens FROM messages WHERE conversation = ? AND tokens IS NOT NULL", (ident,)
        ):
            content = json.loads(data).get("content") or []
            if len(content) == 1 and isinstance(content[0], dict) and isinstance(content[0].get("text"), str):
                ids = array("I")
                ids.frombytes(blob)
                out[content[0]["text"]] = ids.tolist()
        return out

    def version(self, ident: str) -> tuple[str, int, int] | None:
        """``(updated, turns, messages)`` as stored, or None: any save by anyone changes it."""
        row = (
            self._connect()
            .execute("SELECT updated, turn_count, message_count FROM conversations WHERE id = ?", (ident,))
            .fetchone()
        )
        return None if row is None else (str(row[0]), int(row[1]), int(row[2]))

    def find(self, ref: str) -> str:
        """The id for an id or a unique id prefix."""
        ref = ref.strip().lower()
        if not ref:
            raise StoreError("empty conversation id", hint="`gptoss history list` shows the ids")
        rows = (
            self._connect()
            .execute(
                "SELECT id FROM conversations WHERE id >= ? AND id < ? ORDER BY id LIMIT 6",
                (ref, ref + "\uffff"),
            )
            .fetchall()
        )
        matches = [r[0] for r in rows]
        if ref in matches:
            return ref
        if not matches:
            raise StoreError(f"no conversation with id {ref!r}", hint="`gptoss history list` shows the ids")
        if len(matches) > 1:
            shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
            raise StoreError(
                f"id prefix {ref!r} is ambiguous: {shown}", hint="give more characters of the id"
            )
        return str(matches[0])

    def resolve(self, ref: str) -> str:
        """Same as :meth:`find` (kept for callers that resolved to a file before)."""
        return self.find(ref)

    def last(self) -> Record | None:
        """The most recently updated conversation (for ``-c/--continue``), or None."""
        newest = self.summaries(limit=1)
        return self.load(newest[0].id) if newest else None

    def summaries(self, *, limit: int | None = None, query: str | None = None) -> list[Summary]:
        """Conversations, most recently updated first (``history list``); ``query`` keeps those whose
        user or final-answer text contains it, in any case (``history list -q``)."""
        try:
            return list_summaries(self._connect(), limit=limit, query=query)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the history: {exc}", path=str(self.path)) from exc

    def search(self, text: str, *, limit: int | None = None) -> list[Summary]:
        """Conversations whose user or final-answer text contains ``text`` (any case)."""
        return self.summaries(limit=limit, query=text)

    def children(self, ident: str) -> list[Summary]:
        """The branches made from a conversation, oldest first."""
        return sorted(
            (s for s in self.summaries() if s.parent == ident), key=lambda s: (s.parent_at or 0, s.created)
        )

    def problems(self) -> list[StoreError]:
        """Files of the previous version's history that could not be imported (for a warning line)."""
        return list(self._problems)

    # -------------------------------------------------------------------------------- migration

    def migrate(self, folder: Path) -> int:
        """Import the previous version's JSON files once (kept as they are); returns how many."""
        db = self._connect()
        if db.execute("SELECT 1 FROM facts WHERE key = 'migrated'").fetchone() or not folder.is_dir():
            return 0
        count = 0
        with self.locked():
            for path in legacy_files(folder):
                try:
                    record = read_record(path)
                except StoreError as exc:
                    self._problems.append(exc)
                    continue
                if self.version(record.id) is None:
                    self.save(record, touch=False)
                    count += 1
            db.execute(
                "INSERT OR REPLACE INTO facts (key, value) VALUES ('migrated', ?)",
                (json.dumps({"from": str(folder), "conversations": count, "problems": len(self._problems)}),),
            )
        return count


class _Encoded:
    """Rows' JSON, encoded when first asked for: a save encodes only what it writes (and the one
    stored row it compares), not the whole conversation."""

    def __init__(self, make: Callable[[int], Any], count: int) -> None:
        self._make = make
        self._done: dict[int, str] = {}
        self.count = count

    def __getitem__(self, index: int) -> str:
        text = self._done.get(index)
        if text is None:
            text = self._done[index] = json.dumps(self._make(index), ensure_ascii=False, allow_nan=False)
        return text


def _is_path(ref: str) -> bool:
    return os.sep in ref or "/" in ref or ref.strip().endswith(".json")


def _pack(ids: Sequence[int] | None) -> bytes | None:
    return None if ids is None else array("I", ids).tobytes()


def _enter_wal(db: sqlite3.Connection, *, patience: float = 30.0) -> None:
    """Switch to WAL. SQLite answers "database is locked" at once (no busy wait) when another
    connection is switching or creating the same new file, as two ``replay --jobs`` runs saving their
    first conversations do: retried for up to ``patience`` seconds."""
    deadline = time.monotonic() + patience
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
