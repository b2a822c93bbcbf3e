"""Listing and searching the history with the standard library only (``history list`` stays as
quick to start as ``gptoss --version``: no Harmony values, no JSON of messages).

:func:`list_summaries` reads the ``conversations`` table of :mod:`.db`'s database, newest first,
and with a query keeps those whose user or final text contains it (the FTS5 trigram index for
three characters or more, ``LIKE`` for fewer). :func:`quick_summaries` opens the database read-only
when it exists and holds everything (no migration pending), else returns None and the caller uses
:class:`~gptoss_cli.store.db.Store`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DB_NAME", "Summary", "list_summaries", "quick_summaries"]

DB_NAME = "history.db"


@dataclass(frozen=True)
class Summary:
    """One line of ``history list``."""

    id: str
    title: str
    """The title, else the first line of the first user message."""
    model: str | None
    profile: str | None
    created: dt.datetime
    updated: dt.datetime
    turns: int
    """User messages: the exchanges a person would count (a tool loop is one)."""
    messages: int
    parent: str | None = None
    """The conversation this one branched from, if it is a branch."""
    parent_at: int | None = None
    """How many of the parent's messages it shares."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "model": self.model,
            "profile": self.profile,
            "created": self.created.isoformat(timespec="milliseconds"),
            "updated": self.updated.isoformat(timespec="milliseconds"),
            "turns": self.turns,
            "messages": self.messages,
        }
        if self.parent is not None:
            out["branch_of"] = {"id": self.parent, "messages": self.parent_at}
        return out


def list_summaries(
    db: sqlite3.Connection, *, limit: int | None = None, query: str | None = None
) -> list[Summary]:
    """Summaries, most recently updated first; ``query`` keeps those whose user or final-answer
    text contains it, in any case."""
    sql = (
        "SELECT id, title, model, profile, created, updated, user_turns, message_count, parent, parent_at"
        " FROM conversations"
    )
    args: list[Any] = []
    if query:
        if len(query) >= 3:  # the trigram index answers substrings of three characters or more
            where = "SELECT conversation FROM search WHERE search MATCH ?"
            args.append('"' + query.replace('"', '""') + '"')
        else:
            where = "SELECT conversation FROM search WHERE text LIKE ? ESCAPE '\\'"
            escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.append(f"%{escaped}%")
        sql += f" WHERE id IN ({where})"
    sql += " ORDER BY updated_at DESC, created DESC, id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    return [
        Summary(
            id=r[0],
            title=r[1],
            model=r[2],
            profile=r[3],
            created=dt.datetime.fromisoformat(r[4]),
            updated=dt.datetime.fromisoformat(r[5]),
            turns=r[6],
            messages=r[7],
            parent=r[8],
            parent_at=r[9],
        )
        for r in db.execute(sql, args).fetchall()
    ]


def quick_summaries(
    data_dir: Path, *, limit: int | None = None, query: str | None = None
) -> list[Summary] | None:
    """The summaries straight from the database, or None when it is missing, not migrated yet, or
    unreadable (the full store then creates, migrates or reports it)."""
    path = data_dir / DB_NAME
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=60)
        try:
            migrated = db.execute("SELECT 1 FROM facts WHERE key = 'migrated'").fetchone()
            if migrated is None and (data_dir / "conversations").is_dir():
                return None
            return list_summaries(db, limit=limit, query=query)
        finally:
            db.close()
    except sqlite3.Error:
        return None


def summary_row(summary: Summary, model_width: int) -> str:
    """One line of ``history list``: id, date, model, turns, title."""
    when = summary.updated.astimezone().strftime("%Y-%m-%d %H:%M")
    turns = f"{summary.turns} turn{'' if summary.turns == 1 else 's'}"
    title = " ".join(summary.title.split())
    return f"{summary.id}  {when}  {(summary.model or '-'):<{model_width}}  {turns:>8}  {title}"
