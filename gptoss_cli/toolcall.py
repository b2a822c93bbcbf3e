"""A tool call as a value: the one shape every layer shares.

The model's call (``recipient``, ``arguments``), how it was approved (``decision``) and what came
back (``output``, ``error``). :func:`gptoss_cli.tools.calls.execute` makes it, the agent loop keeps
it on the session and on the turn's record, the store saves it in each turn's ``tool_calls``,
``ask --json`` prints it, ``show`` renders it, and replay answers calls with the recorded ones.

It lives here, below ``tools/`` and ``store/`` (siblings that may not import each other), because
both make and read it. Standard library only: identity, files and shape errors are the store's
concern (it checks that each stored call is an object before :meth:`ToolCall.from_dict`).

Stored form (``to_dict``; these keys in this order, as conversation files have always had them)::

    {"recipient": "functions.get_weather", "arguments": "{\\"city\\": \\"Paris\\"}",
     "decision": "yes (--yes)", "output": "{\\"sky\\": \\"sunny\\"}", "error": false}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ToolCall"]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call, its approval decision and its result."""

    recipient: str
    """Who the call went to: ``functions.get_weather``, ``python``, ``browser.search``..."""
    arguments: str
    """The call's text as the model wrote it (JSON for a schema'd tool)."""
    decision: str = "saved"
    """``yes``, ``yes (--yes)``, ``no``, ``not run: unknown tool``, ``recorded result``... as the
    approver decided; ``saved`` when a conversation file did not say, ``not run`` before it ran."""
    output: str = ""
    """What went back to the model."""
    error: bool = False
    """Whether the output reports a failure (refused, invalid arguments, a crash...)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "recipient": self.recipient,
            "arguments": self.arguments,
            "decision": self.decision,
            "output": self.output,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToolCall:
        """The call a stored object describes; a missing or null field takes its default."""
        return cls(
            recipient=str(data.get("recipient") or "tool"),
            arguments=str(data.get("arguments") or ""),
            decision=str(data.get("decision") or "saved"),
            output=str(data.get("output") or ""),
            error=data.get("error") is True,
        )
