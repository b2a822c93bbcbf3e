"""``gptoss history``: the conversations saved under the data dir (list, show, rm, export, path, import).

Every ID may be a unique prefix of an id, or a conversation file's path.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from . import app

if TYPE_CHECKING:
    from ..store import ExportFormat, FileFormat, Record, Store, Summary

history_app = typer.Typer(
    help="Saved conversations: list and search them, show, remove, export, import.", no_args_is_help=True
)
app.add_typer(history_app, name="history")

_EXPORT_FORMATS = ("markdown", "chat", "gptoss")
_IMPORT_FORMATS = ("auto", "chat", "harmony", "gptoss")


def _out(text: str) -> None:
    from ..ui.sanitize import for_stream

    sys.stdout.write(for_stream(sys.stdout, text))
    sys.stdout.flush()


def _warn_problems(store: Store) -> None:
    """Files in the history that could not be read: one line each on stderr; the listing goes on."""
    for problem in store.problems():
        text = str(problem)
        # the store's index keeps the message with its path, and the problem adds the path again
        doubled = f"{problem.path}: {problem.path}: "
        if problem.path and text.startswith(doubled):
            text = text[len(problem.path) + 2 :]
        from ..ui.sanitize import for_stream

        sys.stderr.write(for_stream(sys.stderr, f"gptoss: warning: skipped {text}\n"))


def _row(summary: Summary, model_width: int) -> str:
    when = summary.updated.astimezone().strftime("%Y-%m-%d %H:%M")
    turns = f"{summary.turns} turn{'' if summary.turns == 1 else 's'}"
    title = " ".join(summary.title.split())
    return f"{summary.id}  {when}  {(summary.model or '-'):<{model_width}}  {turns:>8}  {title}"


@history_app.command("list")
def history_list(
    limit: Annotated[
        int, typer.Option("--limit", "-l", min=0, metavar="N", help="Show at most N (0: all).")
    ] = 20,
    search: Annotated[
        str | None,
        typer.Option(
            "--search",
            "-q",
            metavar="TEXT",
            help="Only those whose messages or answers contain TEXT (any case).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List saved conversations, newest first.

    One line each: id, date, model, turns, title.
    """
    from ..store import Store

    store = Store()
    found = store.summaries(limit=limit or None, query=search)
    _warn_problems(store)
    if as_json:
        _out(json.dumps([s.to_dict() for s in found], ensure_ascii=False, indent=2) + "\n")
        return
    if not found:
        what = f"no saved conversation contains {search!r}" if search else "no saved conversations yet"
        sys.stderr.write(f"gptoss: {what}\n")
        return
    width = min(32, max(len(s.model or "-") for s in found))
    _out("".join(_row(s, width) + "\n" for s in found))


@history_app.command("show")
def history_show(
    conversation: Annotated[str, typer.Argument(metavar="ID", help="Id, unique id prefix, or file path.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the file itself.")] = False,
) -> None:
    """Print a conversation's file and contents.

    The file's path, then everything in it: metadata, messages, each completion's finish and tokens.
    """
    from ..errors import StoreError
    from ..store import Store, read_record
    from ..store.dump import to_text

    path = Store().resolve(conversation)
    record = read_record(path)  # a broken file fails here, naming its line and column
    if as_json:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StoreError(f"cannot read: {exc.strerror or exc}", path=str(path)) from exc
        if sys.stdout.isatty():
            from ..ui.sanitize import sanitize

            data = sanitize(data.decode("utf-8", "replace")).encode("utf-8")
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    _out(f"{path}\n{to_text(record)}")


@history_app.command("rm")
def history_rm(
    conversations: Annotated[
        list[str], typer.Argument(metavar="ID", help="Ids, unique id prefixes, or file paths.")
    ],
) -> None:
    """Delete conversations from the history.

    Every ID is checked before anything is deleted: all or none.
    """
    from ..errors import StoreError
    from ..store import Store

    store = Store()
    root = store.root.resolve()
    titles = {s.path.resolve(): (s.id, s.title) for s in store.summaries()}
    paths: list[Path] = []
    for ref in conversations:
        path = store.resolve(ref).resolve()
        if not path.is_relative_to(root):
            raise StoreError("not in the history, so not removed", path=str(path), hint=f"history: {root}")
        if path not in paths:
            paths.append(path)
    for path in paths:
        store.remove(str(path))
        ident, title = titles.get(path, (path.stem, "(unreadable file)"))
        _out(f"removed {ident}  {' '.join(title.split())}\n")


@history_app.command("export")
def history_export(
    conversation: Annotated[str, typer.Argument(metavar="ID", help="Id, unique id prefix, or file path.")],
    format: Annotated[
        str,
        typer.Option(
            "--format", "-f", metavar="FORMAT", help="markdown, chat (chat-completions JSON) or gptoss."
        ),
    ] = "markdown",
    reasoning: Annotated[bool, typer.Option("--reasoning", help="Include the reasoning.")] = False,
    output: Annotated[
        str | None,
        typer.Option("-o", "--output", metavar="FILE", help="Write to FILE (atomically) instead of stdout."),
    ] = None,
) -> None:
    """Export a conversation (Markdown, chat JSON, gptoss JSON)."""
    from ..errors import StoreError, UsageError
    from ..paths import atomic_write_text
    from ..store import Store, export

    if format not in _EXPORT_FORMATS:
        raise UsageError(f"unknown export format {format!r}", hint="use " + ", ".join(_EXPORT_FORMATS))
    text = export(Store().load(conversation), cast("ExportFormat", format), reasoning=reasoning)
    if output is None or output == "-":
        _out(text)
        return
    target = Path(output).expanduser()
    try:
        atomic_write_text(target, text)
    except OSError as exc:
        raise StoreError(f"cannot write: {exc.strerror or exc}", path=str(target)) from exc
    sys.stderr.write(f"wrote {target}\n")


@history_app.command("path")
def history_path() -> None:
    """Print the directory conversations are saved in."""
    from ..store import Store

    _out(f"{Store().root}\n")


@history_app.command("import")
def history_import(
    file: Annotated[
        str, typer.Argument(help="Chat-completions messages, openai-harmony or gptoss JSON ('-': stdin).")
    ],
    format: Annotated[
        str,
        typer.Option(
            "--format", "-f", metavar="FORMAT", help="auto, chat, harmony or gptoss (default: detect)."
        ),
    ] = "auto",
    title: Annotated[
        str | None, typer.Option("--title", metavar="TEXT", help="Title to give the conversation.")
    ] = None,
) -> None:
    """Add a conversation file to the history.

    Saved as a new conversation; its id is printed.
    """
    from dataclasses import replace

    from ..errors import StoreError, UsageError
    from ..store import Store, new_id, now

    if format not in _IMPORT_FORMATS:
        raise UsageError(f"unknown import format {format!r}", hint="use " + ", ".join(_IMPORT_FORMATS))
    record = _read_import(file, format)
    if not record.conversation.messages:
        raise StoreError("nothing to import: the file has no messages", path=file)
    store = Store()
    when = now()
    meta = replace(record.meta, id=new_id(), created=when, updated=when, title=title or record.meta.title)
    saved = store.save(replace(record, meta=meta, path=None), touch=False)
    sys.stderr.write(f"imported {file} as {saved.path}\n")
    _out(f"{saved.id}\n")


def _read_import(file: str, format: str) -> Record:
    from ..errors import StoreError
    from ..store import parse_record, read_record

    if file != "-":
        return read_record(Path(file).expanduser(), format=cast("FileFormat", format))
    from ..bounds import FILE_BYTES, load_json

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
