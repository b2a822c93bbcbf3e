"""Tools that answer with the results a saved conversation recorded (``replay --tool-results recorded``).

Offline and deterministic: a call gets the recorded result of the same tool with the same
arguments (JSON compared by value), else the next unused result of that tool, else an error
saying nothing was recorded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..harmony import Message, Role
from .registry import Approval, Namespace, Registry, ToolOutput


def _same(text: str) -> str:
    try:
        return json.dumps(json.loads(text), sort_keys=True)
    except ValueError:
        return text.strip()


@dataclass
class RecordedTool:
    """One tool's recorded calls and results."""

    name: str
    entries: list[tuple[str, str]] = field(default_factory=list)  # (arguments as compared, result)
    used: set[int] = field(default_factory=set)
    description: str = "recorded results"
    parameters: Mapping[str, Any] | None = None
    approve: Approval = "auto"

    def run(self, arguments: Any) -> ToolOutput:
        key = _same(arguments if isinstance(arguments, str) else json.dumps(arguments))
        order = [i for i, (args, _) in enumerate(self.entries) if args == key and i not in self.used]
        order += [i for i in range(len(self.entries)) if i not in self.used and i not in order]
        if not order:
            return ToolOutput(f"no recorded result left for {self.name} (replaying recorded results)", True)
        self.used.add(order[0])
        return ToolOutput(self.entries[order[0]][1])

    def close(self) -> None:
        pass


def recorded_registry(messages: Sequence[Message]) -> Registry:
    """A registry answering every tool the conversation called with what it recorded."""
    tools: dict[str, RecordedTool] = {}
    pending: dict[str, list[str]] = {}
    for message in messages:
        if message.author.role is Role.ASSISTANT and message.recipient not in (None, "all", "user"):
            pending.setdefault(message.recipient or "", []).append(_same(message.text))
        elif message.author.role is Role.TOOL and message.author.name:
            name = message.author.name
            calls = pending.get(name) or [""]
            tools.setdefault(name, RecordedTool(name)).entries.append((calls.pop(0), message.text))
    registry = Registry()
    grouped: dict[str, list[RecordedTool]] = {}
    for recipient, tool in tools.items():
        namespace, dot, short = recipient.rpartition(".")
        if not dot:
            registry.add(Namespace(recipient, builtin=True, single=tool))
        else:
            tool.name = short
            grouped.setdefault(namespace, []).append(tool)
    for namespace, members in grouped.items():
        registry.add(Namespace(namespace, tuple(members)))
    return registry
