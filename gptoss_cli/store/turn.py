"""One turn's record: what one completion request produced, typed, in one shape.

The session builds it when a turn ends (:meth:`gptoss_cli.session.turn.TurnResult.record`), the store
keeps it (one per completion request in a conversation's ``turns``), ``ask --json`` prints it,
``show`` and ``diff`` read it, and replay compares runs with it. How a turn ended is classified
once, here (:func:`classify`). Its tool calls are :class:`gptoss_cli.toolcall.ToolCall` values, the
shape the agent loop made them in. Standard library and the Harmony values only.

Stored form (``to_dict``; the keys of format version 1, so older files read unchanged)::

    {"messages": [3, 5], "outcome": "final", "finish_reason": "stop", "incomplete": false,
     "usage": {"prompt_tokens": 74, "completion_tokens": 29, "total_tokens": 103,
               "analysis_tokens": 20, "final_tokens": 9},
     "timings": {"ttft": 0.12, "ttft_final": 0.4, "total": 0.9},
     "tool_calls": [{"recipient": "functions.get_weather", "arguments": "{...}",
                     "decision": "yes (--yes)", "output": "...", "error": false}],  # ToolCall.to_dict
     "prompt_sha256": "...", "model": "...", "reasoning_effort": "medium", "started": "...", "extra": {}}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from gptoss_cli.harmony.answer import is_answer
from gptoss_cli.harmony.history import is_incomplete
from gptoss_cli.harmony.types import Message, Role
from gptoss_cli.store.shapes import as_object as _object
from gptoss_cli.store.shapes import is_int as _is_int
from gptoss_cli.store.shapes import optional as _opt
from gptoss_cli.store.shapes import optional_time as _opt_time
from gptoss_cli.store.shapes import shape_error as _shape
from gptoss_cli.toolcall import ToolCall

__all__ = ["Outcome", "TokenUsage", "ToolCall", "Turn", "TurnTimings", "classify"]

Outcome = Literal["final", "tool_call", "incomplete", "no_answer"]
"""``final``: a final answer; ``tool_call``: ended calling a tool; ``incomplete``: cut off (Ctrl-C,
a signal, a disconnect, ``length``); ``no_answer``: ended without either (reasoning only)."""
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)


def classify(messages: Sequence[Message], *, cut: bool = False) -> Outcome:
    """How a turn that produced ``messages`` ended (``cut``: known to be cut off)."""
    last = messages[-1] if messages else None
    if cut or (last is not None and is_incomplete(last)):
        return "incomplete"
    if last is not None and last.recipient is not None and last.author.role is Role.ASSISTANT:
        return "tool_call"
    if any(is_answer(m) for m in messages):
        return "final"
    return "no_answer"


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Token counts: the server's (``None`` when it sent none) and the client's per channel."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    analysis_tokens: int = 0
    """Tokens seen outside the final channel (reasoning, preambles, tool calls)."""
    final_tokens: int = 0
    cached_tokens: int | None = None
    """Prompt tokens the server took from its cache, where it says."""

    @property
    def generated(self) -> int:
        """Tokens generated: the server's count, else the client's."""
        if self.completion_tokens is not None:
            return self.completion_tokens
        return self.analysis_tokens + self.final_tokens

    def to_dict(self) -> dict[str, int]:
        out = {"analysis_tokens": self.analysis_tokens, "final_tokens": self.final_tokens}
        for name in ("prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: Any, key: str = "usage") -> TokenUsage:
        obj = _object(data, key)
        return cls(
            _int(obj, "prompt_tokens", key),
            _int(obj, "completion_tokens", key),
            _int(obj, "total_tokens", key),
            _int(obj, "analysis_tokens", key) or 0,
            _int(obj, "final_tokens", key) or 0,
            _int(obj, "cached_tokens", key),
        )


@dataclass(frozen=True, slots=True)
class TurnTimings:
    """Seconds from the request: first byte, first final-channel text, end; and what came before it.

    ``startup`` is the client's own time from its start to this request (the first request of a
    process only); ``analysis_tps``/``final_tps`` are tokens per second on each side, from the
    channel's first token to its last.
    """

    first_token: float | None = None
    first_final: float | None = None
    total: float = 0.0
    startup: float | None = None
    analysis_tps: float | None = None
    final_tps: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        out = {"ttft": self.first_token, "ttft_final": self.first_final, "total": round(self.total, 4)}
        for name in ("startup", "analysis_tps", "final_tps"):
            value = getattr(self, name)
            if value is not None:
                out[name] = round(value, 4)
        return out

    @classmethod
    def from_dict(cls, data: Any, key: str = "timings") -> TurnTimings:
        obj = _object(data, key)
        return cls(
            _num(obj, "ttft", key),
            _num(obj, "ttft_final", key),
            _num(obj, "total", key) or 0.0,
            _num(obj, "startup", key),
            _num(obj, "analysis_tps", key),
            _num(obj, "final_tps", key),
        )


@dataclass(frozen=True, slots=True)
class Turn:
    """One completion request and what came of it."""

    messages: tuple[int, int]
    """``[start, end)``: the messages this request produced, in its conversation."""
    outcome: Outcome = "final"
    finish_reason: str | None = None
    """The server's reason (``stop``, ``length``...) or the client's (``interrupted``, ``error``)."""
    usage: TokenUsage = field(default_factory=TokenUsage)
    timings: TurnTimings = field(default_factory=TurnTimings)
    tool_calls: tuple[ToolCall, ...] = ()
    prompt_sha256: str | None = None
    """sha256 of the rendered prompt text."""
    model: str | None = None
    reasoning_effort: str | None = None
    started: dt.datetime | None = None
    error: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Anything else worth keeping for a replay (seed, conversation start date...)."""

    @property
    def incomplete(self) -> bool:
        """Cut off: the last message is partial and must not be replayed as if it were complete."""
        return self.outcome == "incomplete"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "messages": list(self.messages),
            "outcome": self.outcome,
            "finish_reason": self.finish_reason,
            "incomplete": self.incomplete,
            "usage": self.usage.to_dict(),
            "timings": self.timings.to_dict(),
        }
        if self.tool_calls:
            out["tool_calls"] = [c.to_dict() for c in self.tool_calls]
        for name in ("prompt_sha256", "model", "reasoning_effort", "error"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.started is not None:
            out["started"] = self.started.isoformat(timespec="milliseconds")
        if self.extra:
            out["extra"] = dict(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: Any, *, key: str = "turn") -> Turn:
        obj = _object(data, key)
        span = obj.get("messages")
        if not (isinstance(span, list) and len(span) == 2 and all(_is_int(i) for i in span)):
            raise _shape(f"{key}.messages", "expected [start, end] message indices", span)
        outcome = obj.get("outcome")
        if outcome is None:  # format 1 without outcomes: only whether it was cut off was kept
            outcome = "incomplete" if obj.get("incomplete") is True else "final"
        if outcome not in OUTCOMES:
            raise _shape(f"{key}.outcome", f"expected one of {', '.join(OUTCOMES)}", outcome)
        calls = _opt(obj, "tool_calls", list, key) or []
        return cls(
            messages=(span[0], span[1]),
            outcome=outcome,
            finish_reason=_opt(obj, "finish_reason", str, key),
            usage=TokenUsage.from_dict(obj.get("usage") or {}, f"{key}.usage"),
            timings=TurnTimings.from_dict(obj.get("timings") or {}, f"{key}.timings"),
            tool_calls=tuple(
                ToolCall.from_dict(_object(c, f"{key}.tool_calls[{i}]")) for i, c in enumerate(calls)
            ),
            prompt_sha256=_opt(obj, "prompt_sha256", str, key),
            model=_opt(obj, "model", str, key),
            reasoning_effort=_opt(obj, "reasoning_effort", str, key),
            started=_opt_time(obj, "started", key),
            error=_opt(obj, "error", str, key),
            extra=_opt(obj, "extra", dict, key) or {},
        )


# ----------------------------------------------------------------------------------- shape checks


def _int(obj: Mapping[str, Any], name: str, key: str) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    if not _is_int(value):
        raise _shape(f"{key}.{name}", "expected a whole number", value)
    return int(value)


def _num(obj: Mapping[str, Any], name: str, key: str) -> float | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _shape(f"{key}.{name}", "expected a number", value)
    return float(value)
