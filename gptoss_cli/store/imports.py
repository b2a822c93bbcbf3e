"""Conversations brought into the history from files: one file, each JSON file of a folder, each line
of a JSONL file, or stdin (``gptoss history import``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from gptoss_cli.store import FileFormat, Record


def read_many(file: str, format: str) -> list[tuple[str, Record]]:
    """(name, record) for a file, each JSON file of a folder, or each line of a JSONL file."""
    from gptoss_cli.errors import StoreError
    from gptoss_cli.store import parse_record

    path = Path(file).expanduser()
    if file != "-" and path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file() and not p.name.startswith("."))
        if not files:
            raise StoreError("no .json conversation files in this folder", path=file)
        return [(str(p), _read_one(str(p), format)) for p in files]
    if file != "-" and path.suffix == ".jsonl":
        out = []
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreError(f"cannot read: {exc}", path=file) from exc
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{file}:{number}"
            try:
                data = json.loads(line)
                out.append((where, parse_record(data, format=cast("FileFormat", format))))
            except json.JSONDecodeError as exc:
                raise StoreError(f"invalid JSON at column {exc.colno}: {exc.msg}", path=where) from exc
            except StoreError as exc:
                raise StoreError(exc.message, path=where, hint=exc.hint) from exc
        if not out:
            raise StoreError("nothing to import: the file has no conversations", path=file)
        return out
    return [(file, _read_one(file, format))]


def _read_one(file: str, format: str) -> Record:
    from gptoss_cli.errors import StoreError
    from gptoss_cli.store import parse_record, read_record

    if file != "-":
        return read_record(Path(file).expanduser(), format=cast("FileFormat", format))
    from gptoss_cli.bounds import FILE_BYTES, load_json

    raw = sys.stdin.buffer.read(FILE_BYTES.value + 1)
    if len(raw) > FILE_BYTES.value:
        raise FILE_BYTES.error("<stdin>", "the input")
    try:
        data = load_json(raw.decode("utf-8-sig"), "<stdin>")
    except UnicodeDecodeError as exc:
        raise StoreError(f"not UTF-8 text (byte {exc.start})", path="<stdin>") from exc
    except json.JSONDecodeError as exc:
        raise StoreError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", path="<stdin>"
        ) from exc
    try:
        return parse_record(data, format=cast("FileFormat", format))
    except StoreError as exc:
        raise StoreError(exc.message, path="<stdin>", hint=exc.hint) from exc
