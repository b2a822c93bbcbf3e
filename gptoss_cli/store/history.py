"""The history: every conversation saved under the data dir, listed, searched, found by id.

Layout: ``<data dir>/conversations/YYYY/MM/<id>.json`` (the month it was created, local time),
and ``index.json`` next to the month folders. The index is a cache of each file's summary keyed
by its path and checked against the file's size and modification time on every listing, so
files added, edited or deleted by hand (or by another gptoss process) are picked up; deleting
the index only costs one full read. Measured with 2,000 conversations of ~8 KB each: listing
takes ~30 ms with a current index against ~0.23 s reading every file, and saving one takes ~8 ms
(mostly fsync). Search reads the files themselves (user and final-answer text, case-insensitive).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..harmony.types import Role
from ..paths import app_dirs, atomic_write_text
from .files import read_record, write_record
from .record import Record, new_id, now

try:
    import fcntl
except ImportError:  # Windows: no advisory locks (one gptoss at a time there)
    fcntl = None  # type: ignore[assignment]

__all__ = ["Store", "Summary"]

INDEX_NAME = "index.json"
LOCK_NAME = ".lock"
_INDEX_VERSION = 1


@dataclass(frozen=True)
class Summary:
    """One line of ``history list``."""

    id: str
    path: Path
    title: str
    """The title, else the first line of the first user message."""
    model: str | None
    profile: str | None
    created: dt.datetime
    updated: dt.datetime
    turns: int
    """User messages: the exchanges a person would count (a tool loop is one)."""
    messages: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": str(self.path),
            "title": self.title,
            "model": self.model,
            "profile": self.profile,
            "created": self.created.isoformat(timespec="milliseconds"),
            "updated": self.updated.isoformat(timespec="milliseconds"),
            "turns": self.turns,
            "messages": self.messages,
        }


def _summary(record: Record, path: Path) -> Summary:
    messages = record.conversation.messages
    return Summary(
        id=record.id,
        path=path,
        title=record.title,
        model=record.meta.model,
        profile=record.meta.profile,
        created=record.meta.created,
        updated=record.meta.updated,
        turns=sum(1 for m in messages if m.role is Role.USER),
        messages=len(messages),
    )


def searchable_text(record: Record) -> str:
    """What search looks in: user messages and final answers, case-folded."""
    parts = []
    for message in record.conversation.messages:
        if message.role is Role.USER or (
            message.role is Role.ASSISTANT and message.channel in (None, "final") and not message.recipient
        ):
            parts.append(message.text)
    return "\n".join(parts).casefold()


class Store:
    """Conversations under one root directory (default: the data dir's ``conversations``)."""

    def __init__(self, root: Path | None = None, *, clock: Callable[[], dt.datetime] = now) -> None:
        self.root = root if root is not None else app_dirs().conversations
        self.clock = clock
        self._problems: list[StoreError] = []

    # ------------------------------------------------------------------------------------ writing

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's write lock (an advisory ``flock`` on ``root/.lock``) for a
        read-check-write, so two processes continuing one conversation never overwrite each
        other's turn. On entry, temporary files left by an interrupted write (a writer killed
        between creating its temp file and renaming it) are removed: no writer holds one while
        we hold the lock."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            handle = open(self.root / LOCK_NAME, "a+b")  # noqa: SIM115 - closed in finally
        except OSError as exc:
            raise StoreError(f"cannot lock: {exc.strerror or exc}", path=str(self.root)) from exc
        try:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            self._sweep_temporary_files()
            yield
        finally:
            handle.close()  # releases the lock

    def _sweep_temporary_files(self) -> None:
        for year in _subdirs(self.root):
            for month in _subdirs(year):
                with contextlib.suppress(OSError), os.scandir(month) as it:
                    for item in it:
                        if item.name.startswith(".") and item.name.endswith(".tmp"):
                            with contextlib.suppress(OSError):
                                os.unlink(item.path)

    def path_for(self, record: Record) -> Path:
        """Where a record without a path is saved: ``root/YYYY/MM/<id>.json``."""
        created = record.meta.created
        return self.root / f"{created.year:04d}" / f"{created.month:02d}" / f"{record.id}.json"

    def save(self, record: Record, *, touch: bool = True) -> Record:
        """Write ``record`` atomically to its path (new records go under the root); returns it with
        its path. ``touch`` sets ``updated`` to now. A new record whose id is taken gets a fresh id."""
        if touch:
            record = replace(record, meta=replace(record.meta, updated=self.clock()))
        if record.path is None:
            while self.path_for(record).exists():
                record = replace(record, meta=replace(record.meta, id=new_id()))
            record = replace(record, path=self.path_for(record))
        return write_record(record)

    def remove(self, ref: str) -> Path:
        """Delete a conversation (by id, id prefix or path); returns the path it had."""
        path = self.resolve(ref)
        try:
            path.unlink()
        except OSError as exc:
            raise StoreError(f"cannot delete: {exc.strerror or exc}", path=str(path)) from exc
        for folder in (path.parent, path.parent.parent):  # tidy empty month and year folders
            if folder != self.root and folder.is_relative_to(self.root):
                with contextlib.suppress(OSError):  # not empty, or not ours to remove: keep it
                    folder.rmdir()
        return path

    # ------------------------------------------------------------------------------------ reading

    def load(self, ref: str) -> Record:
        """A conversation by id, id prefix or file path."""
        return read_record(self.resolve(ref))

    def resolve(self, ref: str) -> Path:
        """The file for an id, a unique id prefix, or a path (anything with a ``/`` or ``.json``)."""
        ref = ref.strip()
        if not ref:
            raise StoreError("empty conversation id", hint="`gptoss history list` shows the ids")
        if os.sep in ref or "/" in ref or ref.endswith(".json"):
            path = Path(ref).expanduser()
            if not path.is_file():
                raise StoreError("no such conversation file", path=str(path))
            return path
        matches = [s for s in self._summaries() if s.id.startswith(ref.lower())]
        exact = [s for s in matches if s.id == ref.lower()]
        if exact:
            return exact[0].path
        if not matches:
            raise StoreError(f"no conversation with id {ref!r}", hint="`gptoss history list` shows the ids")
        if len(matches) > 1:
            shown = ", ".join(s.id for s in matches[:5]) + (", ..." if len(matches) > 5 else "")
            raise StoreError(
                f"id prefix {ref!r} is ambiguous: {shown}", hint="give more characters of the id"
            )
        return matches[0].path

    def last(self) -> Record | None:
        """The most recently updated conversation (for ``-c/--continue``), or None."""
        newest = self.summaries(limit=1)
        return read_record(newest[0].path) if newest else None

    def summaries(self, *, limit: int | None = None, query: str | None = None) -> list[Summary]:
        """Conversations, most recently updated first (``history list``); ``query`` keeps those whose
        user or final-answer text contains it, case-insensitively (``history list -q``)."""
        found = self._summaries()
        if query:
            needle = query.casefold()
            found = [s for s in found if needle in self._text(s.path)]
        found.sort(key=lambda s: (s.updated, s.created, s.id), reverse=True)
        return found if limit is None else found[:limit]

    def search(self, text: str, *, limit: int | None = None) -> list[Summary]:
        """Conversations whose user or final-answer text contains ``text`` (case-insensitive)."""
        return self.summaries(limit=limit, query=text)

    def problems(self) -> list[StoreError]:
        """Files under the root that could not be read at the last listing (for a warning line)."""
        return list(self._problems)

    def _text(self, path: Path) -> str:
        try:
            return searchable_text(read_record(path))
        except StoreError as exc:
            self._problems.append(exc)
            return ""

    # -------------------------------------------------------------------------------------- index

    def _summaries(self) -> list[Summary]:
        """Every readable conversation's summary, unordered, refreshing the index as needed."""
        index = self._read_index()
        entries: dict[str, dict[str, Any]] = {}
        out: list[Summary] = []
        self._problems = []
        for path, stat in self._files():
            rel = path.relative_to(self.root).as_posix()
            entry = index.get(rel)
            summary = _from_entry(entry, path, stat)
            if summary is None:  # new, changed, or a damaged index entry: read the file
                entry = self._entry(path, stat)
                summary = _from_entry(entry, path, stat)
            entries[rel] = entry or {}
            if summary is not None:
                out.append(summary)
            else:
                self._problems.append(StoreError(str((entry or {}).get("error")), path=str(path)))
        if entries != index:
            self._write_index(entries)
        return out

    def _files(self) -> Iterator[tuple[Path, os.stat_result]]:
        for year in _subdirs(self.root):
            for month in _subdirs(year):
                with os.scandir(month) as it:
                    for item in it:
                        if item.name.endswith(".json") and not item.name.startswith(".") and item.is_file():
                            yield Path(item.path), item.stat()

    def _entry(self, path: Path, stat: os.stat_result) -> dict[str, Any]:
        base: dict[str, Any] = {"mtime_ns": stat.st_mtime_ns, "size": stat.st_size}
        try:
            record = read_record(path)
        except StoreError as exc:
            return {**base, "error": exc.message}
        summary = _summary(record, path).to_dict()
        del summary["path"]
        return {**base, **summary}

    def _read_index(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads((self.root / INDEX_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # missing or damaged: it is only a cache, rebuilt from the files
        if not isinstance(data, dict) or data.get("version") != _INDEX_VERSION:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def _write_index(self, entries: dict[str, dict[str, Any]]) -> None:
        text = json.dumps({"version": _INDEX_VERSION, "entries": entries}, ensure_ascii=False)
        with contextlib.suppress(OSError):  # a read-only history still lists; the index is a cache
            atomic_write_text(self.root / INDEX_NAME, text, private=True)


def _subdirs(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as it:
            return sorted(Path(e.path) for e in it if e.is_dir() and e.name.isdigit())
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StoreError(f"cannot list: {exc.strerror or exc}", path=str(folder)) from exc


def _from_entry(entry: Any, path: Path, stat: os.stat_result) -> Summary | None:
    """The summary an index entry holds, if it is current and whole; else None."""
    if (
        not isinstance(entry, dict)
        or entry.get("mtime_ns") != stat.st_mtime_ns
        or entry.get("size") != stat.st_size
    ):
        return None
    if "error" in entry:
        return None
    try:
        return Summary(
            id=str(entry["id"]),
            path=path,
            title=str(entry["title"]),
            model=entry.get("model"),
            profile=entry.get("profile"),
            created=dt.datetime.fromisoformat(entry["created"]),
            updated=dt.datetime.fromisoformat(entry["updated"]),
            turns=int(entry["turns"]),
            messages=int(entry["messages"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
