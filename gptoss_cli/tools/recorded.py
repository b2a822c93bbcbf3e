"""Tools that answer with the results a saved conversation recorded (``replay --tool-results recorded``).

A call gets a recorded result only when the same tool was called with the same arguments (JSON
compared by value, key order and spacing aside): Paris never gets Tokyo's weather. A call the
conversation did not record is, as the user chose (``--unmatched``), refused (the model is told no
result was recorded for those arguments) or run live with the live tool and its own approval.
Every decision says what happened: ``recorded result``, ``refused: ...`` or ``yes (--yes), run
live: ...``; never an approval that was not given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from gptoss_cli.harmony import Message, Role
from gptoss_cli.toolcall import ToolCall
from gptoss_cli.tools.calls import Approver, parse_arguments
from gptoss_cli.tools.registry import Approval, Namespace, Registry, Tool, ToolOutput

__all__ = ["RecordedApprover", "RecordedTool", "Unmatched", "recorded_calls", "recorded_registry"]

Unmatched = Literal["refuse", "live"]


def _key(arguments: Any) -> str:
    """Arguments as compared: JSON by value (sorted keys, no spacing), else the stripped text."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    text, _ = parse_arguments(text, None)  # a fenced code block counts as its content
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return str(text).strip()


@dataclass
class RecordedTool:
    """One tool's recorded calls and results, and the live tool for calls it did not record."""

    name: str
    calls: list[ToolCall] = field(default_factory=list)
    """The conversation's calls to this tool, each with the result it got, in order."""
    live: Tool | None = None
    description: str = "recorded results"
    parameters: Mapping[str, Any] | None = None
    approve: Approval = "auto"
    _next: dict[str, int] = field(default_factory=dict)

    def _matching(self, key: str) -> list[ToolCall]:
        return [call for call in self.calls if _key(call.arguments) == key]

    def recorded(self, arguments: Any) -> ToolCall | None:
        """The recorded call with these arguments (the next one, when the same call was made
        several times; the last one again after that), or None."""
        key = _key(arguments)
        found = self._matching(key)
        if not found:
            return None
        n = self._next.get(key, 0)
        self._next[key] = n + 1
        return found[min(n, len(found) - 1)]

    def peek(self, arguments: Any) -> bool:
        return bool(self._matching(_key(arguments)))

    def run(self, arguments: Any) -> ToolOutput:
        call = self.recorded(arguments)
        if call is not None:
            return ToolOutput(call.output, call.error)
        if self.live is not None:
            return self.live.run(arguments)
        return ToolOutput(_not_recorded(self.name), error=True)

    def close(self) -> None:
        if self.live is not None:
            self.live.close()


def _not_recorded(name: str) -> str:
    return (
        f"no result was recorded for {name} with these arguments (replaying recorded results); "
        "answer without it"
    )


@dataclass
class RecordedApprover(Approver):
    """Approves a call that has a recorded result as exactly that; a call without one is refused,
    or (``unmatched="live"``) goes to ``live`` for the approval a live call needs."""

    unmatched: Unmatched = "refuse"
    live: Approver | None = None

    def check(self, recipient: str, tool: Tool, arguments: str) -> tuple[bool, str]:
        if isinstance(tool, RecordedTool):
            if tool.peek(arguments):
                return True, "recorded result"
            if self.unmatched == "live" and tool.live is not None and self.live is not None:
                allowed, decision = self.live.check(recipient, tool.live, arguments)
                return allowed, f"{decision}, run live (no result recorded for these arguments)"
            why = "no live tool of that name" if self.unmatched == "live" else "--unmatched refuse"
            return False, f"refused: no result recorded for these arguments ({why})"
        if self.unmatched == "live" and self.live is not None:  # a tool the conversation never called
            allowed, decision = self.live.check(recipient, tool, arguments)
            return allowed, f"{decision}, run live (never called in the recording)"
        return False, "refused: not a recorded tool (--unmatched refuse)"


def recorded_calls(messages: Sequence[Message]) -> list[ToolCall]:
    """Every call the conversation made that got a result, as a :class:`ToolCall` with that result
    (each tool message answers the oldest unanswered call to its tool; a result without its call is
    dropped: nothing could be matched with it). The decision is ``saved``: messages do not keep it."""
    found: list[ToolCall] = []
    pending: dict[str, list[str]] = {}
    for message in messages:
        if message.author.role is Role.ASSISTANT and message.recipient not in (None, "all", "user"):
            pending.setdefault(message.recipient or "", []).append(message.text)
        elif message.author.role is Role.TOOL and message.author.name:
            name = message.author.name
            calls = pending.get(name)
            if calls:
                found.append(ToolCall(name, calls.pop(0), output=message.text))
    return found


def recorded_registry(messages: Sequence[Message], live: Registry | None = None) -> Registry:
    """A registry answering every tool the conversation called with what it recorded; with
    ``live``, each recorded tool knows its live twin and the live tools never called are offered too."""
    tools: dict[str, RecordedTool] = {}
    for call in recorded_calls(messages):
        tools.setdefault(call.recipient, RecordedTool(call.recipient)).calls.append(call)
    registry = Registry()
    grouped: dict[str, list[RecordedTool]] = {}
    for recipient, tool in tools.items():
        if live is not None:
            tool.live = live.resolve(recipient)
            if tool.live is not None:
                tool.parameters = tool.live.parameters
                tool.description = tool.live.description
        namespace, dot, short = recipient.rpartition(".")
        if not dot:
            registry.add(Namespace(recipient, builtin=True, single=tool))
        else:
            tool.name = short
            grouped.setdefault(namespace, []).append(tool)
    for namespace, members in grouped.items():
        registry.add(Namespace(namespace, tuple(members)))
    if live is not None:
        for name, offered in live.namespaces.items():
            if name not in registry.namespaces:
                registry.add(offered)
            elif not offered.builtin:  # merged: the recorded tools stay, the others are added
                registry.add(Namespace(name, offered.tools, offered.description))
    return registry
