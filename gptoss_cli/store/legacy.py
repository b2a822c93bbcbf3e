"""The previous version's history: one JSON file per conversation, read once to migrate it.

Layout: ``<data dir>/conversations/YYYY/MM/<id>.json`` plus an ``index.json`` cache. The files are
gptoss's interchange format (openai-harmony's conversation plus a ``"gptoss"`` block), so each
reads with :func:`~gptoss_cli.store.files.read_record`; the SQLite store imports them on its first
run (:meth:`~gptoss_cli.store.db.Store.migrate`) and leaves them where they are.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["legacy_files"]


def legacy_files(root: Path) -> Iterator[Path]:
    """Every conversation file under ``root`` (``YYYY/MM/*.json``; temporary files skipped)."""
    for year in _subdirs(root):
        for month in _subdirs(year):
            with os.scandir(month) as it:
                names = sorted(e.name for e in it if e.is_file())
            for name in names:
                if name.endswith(".json") and not name.startswith("."):
                    yield month / name


def _subdirs(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as it:
            return sorted(Path(e.path) for e in it if e.is_dir() and e.name.isdigit())
    except OSError:
        return []
