"""``gptoss history``: the conversations saved under the data dir (list, show, rm, export, path, import).

Every ID may be a unique prefix of an id, or a conversation file's path.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from gptoss_cli.cli import app

if TYPE_CHECKING:
    from gptoss_cli.store import ExportFormat, Store

history_app = typer.Typer(
    help="Saved conversations: list and search them, show, remove, export, import.", no_args_is_help=True
)
app.add_typer(history_app, name="history")

_EXPORT_FORMATS = ("markdown", "chat", "gptoss")
_IMPORT_FORMATS = ("auto", "chat", "harmony", "gptoss")


def _out(text: str) -> None:
    from gptoss_cli.ui.sanitize import for_stream

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
        from gptoss_cli.ui.sanitize import for_stream

        sys.stderr.write(for_stream(sys.stderr, f"gptoss: warning: skipped {text}\n"))


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
    from gptoss_cli.paths import data_dir
    from gptoss_cli.store.listing import quick_summaries, summary_row

    found = quick_summaries(data_dir(), limit=limit or None, query=search)
    if found is None:  # no history yet, or the previous version's to import first
        from gptoss_cli.store import Store

        store = Store()
        found = store.summaries(limit=limit or None, query=search)
        _warn_problems(store)
    if as_json:
        import json

        _out(json.dumps([s.to_dict() for s in found], ensure_ascii=False, indent=2) + "\n")
        return
    if not found:
        what = f"no saved conversation contains {search!r}" if search else "no saved conversations yet"
        sys.stderr.write(f"gptoss: {what}\n")
        return
    width = min(32, max(len(s.model or "-") for s in found))
    _out("".join(summary_row(s, width) + "\n" for s in found))


@history_app.command("show")
def history_show(
    conversation: Annotated[str, typer.Argument(metavar="ID", help="Id, unique id prefix, or file path.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the conversation file (gptoss JSON).")
    ] = False,
) -> None:
    """Print a conversation: its branches, metadata, messages, each completion's finish and tokens.

    A conversation with branches (or one that is a branch) starts with its tree.
    """
    from gptoss_cli.store import Store, dumps
    from gptoss_cli.store.dump import branch_tree, to_text

    store = Store()
    record = store.load(conversation)  # a file path is read (a broken one names its line and column)
    if as_json:
        _out(dumps(record))
        return
    where = str(record.path) if record.path is not None else f"{record.id} in {store.path}"
    tree = branch_tree(store.summaries(), record.id) if record.path is None else ""
    _out(f"{where}\n{tree}{to_text(record)}")


@history_app.command("rm")
def history_rm(
    conversations: Annotated[list[str], typer.Argument(metavar="ID", help="Ids or unique id prefixes.")],
) -> None:
    """Delete conversations from the history.

    Every ID is checked before anything is deleted: all or none.
    """
    from gptoss_cli.errors import StoreError
    from gptoss_cli.store import Store

    store = Store()
    ids: list[str] = []
    for ref in conversations:
        if "/" in ref or ref.endswith(".json"):
            raise StoreError("not in the history, so not removed", path=ref, hint=f"history: {store.path}")
        ident = store.find(ref)
        if ident not in ids:
            ids.append(ident)
    titles = {s.id: s.title for s in store.summaries()}
    for ident in ids:
        store.remove(ident)
        _out(f"removed {ident}  {' '.join(titles.get(ident, '').split())}\n")


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
    from gptoss_cli.errors import StoreError, UsageError
    from gptoss_cli.paths import atomic_write_text
    from gptoss_cli.store import Store, export

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
    """Print the history database's path."""
    from gptoss_cli.store import Store

    _out(f"{Store().path}\n")


@history_app.command("import")
def history_import(
    file: Annotated[
        str,
        typer.Argument(
            help="A conversation file (chat-completions, openai-harmony or gptoss JSON; '-': stdin), "
            "a folder of them, or a .jsonl file with one conversation per line."
        ),
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
    """Add conversations to the history.

    Each is saved as a new conversation; the ids are printed, one a line. Many at once are all or
    none: a file that cannot be read is named and nothing is imported.
    """
    from dataclasses import replace

    from gptoss_cli.errors import StoreError, UsageError
    from gptoss_cli.store import Store, new_id, now
    from gptoss_cli.store.imports import read_many

    if format not in _IMPORT_FORMATS:
        raise UsageError(f"unknown import format {format!r}", hint="use " + ", ".join(_IMPORT_FORMATS))
    records = read_many(file, format)
    for name, record in records:
        if not record.conversation.messages:
            raise StoreError("nothing to import: the file has no messages", path=name)
    store = Store()
    when = now()
    saved = []
    with store.locked():
        for _, record in records:
            meta = replace(
                record.meta, id=new_id(), created=when, updated=when, title=title or record.meta.title
            )
            saved.append(store.create(replace(record, meta=meta, path=None), touch=False))
    sys.stderr.write(f"imported {len(saved)} conversation{'' if len(saved) == 1 else 's'} from {file}\n")
    _out("".join(f"{r.id}\n" for r in saved))
