"""``gptoss show`` (a saved conversation as the chat shows it) and ``gptoss diff`` (two runs compared)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from gptoss_cli.cli import app
from gptoss_cli.cli.common import (
    ShowReasoningOpt,
    StatsOpt,
)

if TYPE_CHECKING:
    from gptoss_cli.harmony import Message
    from gptoss_cli.store import Record, TokenUsage

USER_PREFIX = "› "


def user_line(text: str) -> str:
    """A user message as the transcript shows it: ``USER_PREFIX`` before the first line, the rest indented."""
    lines = text.strip("\n").split("\n") or [""]
    return USER_PREFIX + "\n  ".join(lines) + "\n"


@app.command()
def show(
    conversation: Annotated[str, typer.Argument(help="A conversation file or history id.")],
    show_reasoning: ShowReasoningOpt = False,
    stats: StatsOpt = False,
) -> None:
    """Print a saved conversation as the chat would: your messages (after a ›) and the final answers
    on stdout; reasoning (with --show-reasoning), tool calls and tool results on stderr."""  # noqa: RUF002
    from gptoss_cli.session.persist import mark_incomplete
    from gptoss_cli.session.replay import load_conversation
    from gptoss_cli.session.transcript import UserText, saved_parts
    from gptoss_cli.ui.stream import StreamView, ViewOptions

    record = load_conversation(conversation)
    options = ViewOptions(show_reasoning=show_reasoning, stats=stats)
    first = True
    parts = saved_parts(mark_incomplete(record), record.meta.turns)
    for part in parts:
        if isinstance(part, UserText):
            from gptoss_cli.ui.sanitize import for_stream

            sys.stdout.write(for_stream(sys.stdout, ("" if first else "\n") + user_line(part.text)))
            sys.stdout.flush()
            first = False
            continue
        view = StreamView(options)
        for event in part if isinstance(part, tuple) else (part,):
            view.handle(event)
        first = False


# --------------------------------------------------------------------------------------------- diff


@dataclass(frozen=True)
class _Exchange:
    """A user message and what came of it: the final answer, the tool calls, whether it was cut off."""

    user: str
    final: str
    calls: tuple[str, ...]
    cut_off: bool


def _exchanges(messages: Sequence[Message]) -> list[_Exchange]:
    from gptoss_cli.harmony import Role
    from gptoss_cli.harmony.history import is_incomplete

    found: list[_Exchange] = []
    user: str | None = None
    reply: list[Message] = []

    def close() -> None:
        if user is None and not reply:
            return
        found.append(
            _Exchange(
                user or "",
                "".join(m.text for m in reply if m.channel == "final" and m.recipient is None),
                tuple(f"{m.recipient} {m.text.strip()}" for m in reply if m.recipient is not None),
                any(is_incomplete(m) for m in reply),
            )
        )

    for message in messages:
        if message.role is Role.USER:
            close()
            user, reply = message.text, []
        elif message.role is Role.ASSISTANT:
            reply.append(message)
    close()
    return found


def _answers_text(exchanges: Sequence[_Exchange]) -> list[str]:
    lines: list[str] = []
    for n, ex in enumerate(exchanges, 1):
        lines.append(f"── turn {n} ──\n")
        lines.extend(line + "\n" for line in ex.final.strip("\n").split("\n") if ex.final)
        if ex.cut_off:
            lines.append("[cut off]\n")
    return lines


def _calls_text(exchanges: Sequence[_Exchange]) -> list[str]:
    return [f"turn {n}: {call}\n" for n, ex in enumerate(exchanges, 1) for call in ex.calls]


def _describe(name: str, record: Record) -> str:
    meta = record.meta
    facts = [f for f in (meta.model, meta.reasoning_effort and f"reasoning {meta.reasoning_effort}") if f]
    return f"{name}" + (f" ({', '.join(facts)})" if facts else "")


def _tokens(usage: TokenUsage) -> str:
    total = usage.completion_tokens
    return f"{total if total is not None else '-'} (a{usage.analysis_tokens}/f{usage.final_tokens})"


def _turn_table(a: Record, b: Record) -> str:
    from gptoss_cli.session.replay import format_table

    ta, tb = a.meta.turns, b.meta.turns
    if not ta and not tb:
        return "per turn: no gptoss metadata in either file (finish reasons and tokens unknown)\n"
    rows = []
    for i in range(max(len(ta), len(tb))):
        cells = [str(i + 1)]
        for turns in (ta, tb):
            turn = turns[i] if i < len(turns) else None
            cells += (
                ["-", "-", "-"]
                if turn is None
                else [
                    turn.finish_reason or "-",
                    _tokens(turn.usage),
                    f"{turn.timings.total:.2f}s",
                ]
            )
        rows.append(cells)
    headers = ("REQUEST", "FINISH A", "TOKENS A", "TIME A", "FINISH B", "TOKENS B", "TIME B")
    return format_table(headers, rows)


@app.command()
def diff(
    a: Annotated[str, typer.Argument(help="The first conversation (file or history id).")],
    b: Annotated[str, typer.Argument(help="The second conversation (file or history id).")],
) -> None:
    """Compare two runs: the final answers as a unified diff on stdout; tool calls, finish reasons and
    token counts per request on stderr. Exit 0 when the final answers are the same, 1 when they differ."""
    import difflib

    from gptoss_cli.session.persist import mark_incomplete
    from gptoss_cli.session.replay import load_conversation

    ra, rb = load_conversation(a), load_conversation(b)
    ea, eb = _exchanges(mark_incomplete(ra)), _exchanges(mark_incomplete(rb))
    err = sys.stderr.write
    err(f"A = {_describe(a, ra)}\nB = {_describe(b, rb)}\n")
    if [x.user for x in ea] != [x.user for x in eb]:
        err("note: the user messages differ: these are not runs of the same conversation\n")
    answers = list(difflib.unified_diff(_answers_text(ea), _answers_text(eb), a, b))
    sys.stdout.writelines(answers)
    sys.stdout.flush()
    turns = max(len(ea), len(eb))
    if answers:
        changed = [
            str(n)
            for n in range(1, turns + 1)
            if n > len(ea)
            or n > len(eb)
            or (ea[n - 1].final, ea[n - 1].cut_off) != (eb[n - 1].final, eb[n - 1].cut_off)
        ]
        err(f"final answers: differ (turn {', '.join(changed)} of {turns})\n")
    else:
        err(f"final answers: same ({turns} turn{'s' * (turns != 1)})\n")
    calls_a, calls_b = _calls_text(ea), _calls_text(eb)
    if calls_a == calls_b:
        err(f"tool calls: same ({len(calls_a)})\n" if calls_a else "tool calls: none\n")
    else:
        err("tool calls: differ\n")
        sys.stderr.writelines(
            difflib.unified_diff(calls_a, calls_b, f"{a} (tool calls)", f"{b} (tool calls)")
        )
    err(_turn_table(ra, rb))
    if answers:
        raise typer.Exit(1)
