"""``gptoss render`` and ``gptoss parse``: the Harmony core on the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from gptoss_cli.cli import app

_ROLES = ("user", "assistant", "system", "developer", "tool")
_FORMS = ("openai", "oss")  # gptoss_cli.harmony.HARMONY_FORMS (not imported here: --help stays fast)
HarmonyOpt = Annotated[
    str,
    typer.Option(
        "--harmony",
        help="Reference to reproduce: openai (openai-harmony 0.0.8) or oss (oss-harmony 0.0.11, vLLM's).",
    ),
]


def read_input(source: str, *, what: str) -> tuple[bytes, str]:
    """The bytes of FILE, or of stdin for ``-``; returns (data, display name)."""
    from gptoss_cli.errors import UsageError

    if source == "-":
        if sys.stdin.isatty():
            raise UsageError(
                f"reading {what} from stdin, but stdin is a terminal", hint="pipe it in or give a FILE"
            )
        from gptoss_cli.bounds import FILE_BYTES

        data = sys.stdin.buffer.read(FILE_BYTES.value + 1)
        if len(data) > FILE_BYTES.value:
            raise FILE_BYTES.error("<stdin>", "the input")
        return data, "<stdin>"
    path = Path(source)
    try:
        from gptoss_cli.bounds import read_file_bytes

        return read_file_bytes(path), str(path)
    except FileNotFoundError:
        raise UsageError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{source}: is a directory") from None
    except OSError as exc:
        raise UsageError(f"{source}: {exc.strerror}") from None


def load_json(data: bytes, name: str) -> Any:
    """Parse JSON, naming the file, line and column on error."""
    from gptoss_cli.bounds import load_json as bounded
    from gptoss_cli.errors import ConversationFormatError

    try:
        return bounded(data.decode("utf-8"), name)
    except UnicodeDecodeError as exc:
        raise ConversationFormatError(f"not UTF-8 (byte {exc.start})", path=name) from None
    except json.JSONDecodeError as exc:
        raise ConversationFormatError(f"line {exc.lineno} column {exc.colno}: {exc.msg}", path=name) from None


def render_error(exc: Exception, conversation: Any, name: str) -> Exception:
    """A renderer refusal with the file and the message it is about (the reference names neither)."""
    from gptoss_cli.errors import RenderError
    from gptoss_cli.harmony import Role

    if str(exc) == "Tools should have a name!":
        for i, message in enumerate(conversation.messages):
            if message.author.role is Role.TOOL and message.author.name is None:
                return RenderError(
                    f"{name}: messages[{i}]: a tool message needs the tool's name "
                    '(author "name", e.g. "functions.get_weather")'
                )
    return RenderError(f"{name}: {exc}")


def _role(value: str) -> Any:
    from gptoss_cli.errors import UsageError
    from gptoss_cli.harmony import Role

    try:
        return Role.parse(value)
    except ValueError:
        raise UsageError(f"unknown role {value!r} (one of {', '.join(_ROLES)})") from None


def _form(value: str) -> Any:
    from gptoss_cli.errors import UsageError
    from gptoss_cli.harmony import harmony_form

    try:
        return harmony_form(value)
    except ValueError:
        raise UsageError(f"--harmony {value}: expected one of {', '.join(_FORMS)}") from None


def _write(text: str) -> None:
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


@app.command()
def render(
    file: Annotated[str, typer.Argument(help="openai-harmony conversation JSON ('-' reads stdin).")],
    next_role: Annotated[
        str, typer.Option("--next-role", help="Role of the turn to complete.")
    ] = "assistant",
    no_next_role: Annotated[
        bool, typer.Option("--no-next-role", help="Render the conversation alone.")
    ] = False,
    training: Annotated[
        bool, typer.Option("--training", help="Render for training (final answer ends with <|return|>).")
    ] = False,
    keep_analysis: Annotated[
        bool, typer.Option("--keep-analysis", help="Do not drop earlier analysis.")
    ] = False,
    tokens: Annotated[
        bool, typer.Option("--tokens", help="Print a JSON array of token ids instead of text.")
    ] = False,
    harmony: HarmonyOpt = "openai",
) -> None:
    """Print the Harmony prompt of a conversation, exactly as the reference library renders it."""
    from gptoss_cli.errors import ConversationFormatError, RenderError
    from gptoss_cli.harmony import (
        Conversation,
        RenderConfig,
        completion_pieces,
        conversation_pieces,
        training_pieces,
    )
    from gptoss_cli.harmony.render import pieces_to_text, pieces_to_tokens

    form = _form(harmony)
    data, name = read_input(file, what="a conversation")
    try:
        conversation = Conversation.from_dict(load_json(data, name), strict=True)
    except ConversationFormatError as exc:
        if exc.message.startswith(f"{name}: "):
            raise
        raise ConversationFormatError(exc.message, path=name, hint=exc.hint) from None
    config = RenderConfig(auto_drop_analysis=not keep_analysis)
    try:
        if training:
            pieces = training_pieces(conversation, config, form=form)
        elif no_next_role:
            pieces = conversation_pieces(conversation, config, form=form)
        else:
            pieces = completion_pieces(conversation, _role(next_role), config, form=form)
    except RenderError as exc:
        raise render_error(exc, conversation, name) from None
    if tokens:
        _write(json.dumps(pieces_to_tokens(pieces)) + "\n")
    else:
        _write(pieces_to_text(pieces))


@app.command()
def parse(
    file: Annotated[str, typer.Argument(help="Completion text ('-' or nothing reads stdin).")] = "-",
    role: Annotated[str, typer.Option("--role", help="Role the completion starts in.")] = "assistant",
    no_role: Annotated[bool, typer.Option("--no-role", help="Expect a leading <|start|>.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail like the reference's strict parser (see --harmony).")
    ] = False,
    tokens: Annotated[bool, typer.Option("--tokens", help="Input is a JSON array of token ids.")] = False,
    answer: Annotated[
        bool,
        typer.Option("--answer", help="Print only what gptoss ask would print: the final answer."),
    ] = False,
    harmony: HarmonyOpt = "openai",
) -> None:
    """Parse a completion into messages (JSON, openai-harmony's Message.to_dict form).

    The lenient default reads what either reference renders; --harmony matters with --strict.
    """
    from gptoss_cli.errors import ConversationFormatError
    from gptoss_cli.harmony import get_tokenizer, parse_text, parse_tokens

    form = _form(harmony)
    data, name = read_input(file, what="a completion")
    start_role = None if no_role else _role(role)
    if tokens:
        ids = load_json(data, name)
        if not isinstance(ids, list) or not all(
            isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in ids
        ):
            raise ConversationFormatError("expected a JSON array of token ids (integers >= 0)", path=name)
        messages = parse_tokens(ids, start_role, strict=strict, form=form)
    else:
        text = data.decode("utf-8", "replace")
        if strict:
            # the reference parses tokens: tokenize exactly so its errors (which name token ids) match
            ids = get_tokenizer().encode_with_specials(text)
            messages = parse_tokens(ids, start_role, strict=True, form=form)
        else:
            messages = parse_text(text, start_role)
    if answer:
        _answer(messages)
        return
    _write(json.dumps([m.to_dict() for m in messages], ensure_ascii=False, indent=2) + "\n")


def _answer(messages: list[Any]) -> None:
    """The final answer on stdout; without one, the unclear text on stderr and exit 1."""
    from gptoss_cli.errors import GptossError
    from gptoss_cli.harmony import read_answer
    from gptoss_cli.ui.stream import unclear_block

    found = read_answer(messages)
    if found.kind == "final":
        _write(found.final.rstrip("\n") + "\n")
        return
    if found.kind == "tool_call":
        names = ", ".join(m.recipient or "" for m in found.calls[-1:])
        raise GptossError(f"no answer: the completion ends in a tool call ({names})")
    if found.unclear:
        sys.stderr.write(unclear_block(found.unclear))
        raise GptossError("no clean answer: the output could not be read with certainty")
    raise GptossError("no answer: the completion has no final message")
