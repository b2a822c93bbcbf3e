"""Two runs of a conversation compared: the final answers, the tool calls, and per request the
finish reason, tokens and time (``gptoss diff``)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gptoss_cli.harmony import Message
    from gptoss_cli.store import Record, TokenUsage


@dataclass(frozen=True)
class Comparison:
    """What ``diff`` prints: the answers' unified diff (stdout) and the summary (stderr)."""

    header: str
    """Which run is A and which B (and whether they are runs of the same conversation)."""
    answers_diff: tuple[str, ...]
    summary: str

    @property
    def same(self) -> bool:
        return not self.answers_diff


@dataclass(frozen=True)
class _Exchange:
    """A user message and what came of it: the final answer, the tool calls, whether it was cut off."""

    user: str
    final: str
    calls: tuple[str, ...]
    cut_off: bool


def exchanges(messages: Sequence[Message]) -> list[_Exchange]:
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


def compare(a: str, ra: Record, b: str, rb: Record) -> Comparison:
    """Conversation ``a`` (record ``ra``) against ``b`` (``rb``); names as the user gave them."""
    from gptoss_cli.session.persist import mark_incomplete

    ea, eb = exchanges(mark_incomplete(ra)), exchanges(mark_incomplete(rb))
    header = f"A = {_describe(a, ra)}\nB = {_describe(b, rb)}\n"
    if [x.user for x in ea] != [x.user for x in eb]:
        header += "note: the user messages differ: these are not runs of the same conversation\n"
    out: list[str] = []
    err = out.append
    answers = list(difflib.unified_diff(_answers_text(ea), _answers_text(eb), a, b))
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
        out.extend(difflib.unified_diff(calls_a, calls_b, f"{a} (tool calls)", f"{b} (tool calls)"))
    err(_turn_table(ra, rb))
    return Comparison(header, tuple(answers), "".join(out))
