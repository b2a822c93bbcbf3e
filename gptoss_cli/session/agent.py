"""The agent loop: turns chained through tool calls until a final answer.

After a turn that ends in a tool call, the call is checked, approved and run, its result goes
back to the model as a tool message, and sampling resumes with the chain of thought kept (it is
dropped only once a final answer exists). ``max_steps`` bounds the loop; Ctrl-C stops it and
keeps the conversation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from gptoss_cli.session.turn import Notice, Session, SessionEvent, Turn, TurnResult
from gptoss_cli.toolcall import ToolCall
from gptoss_cli.tools.calls import Approver, execute
from gptoss_cli.tools.registry import Registry


@dataclass(frozen=True, slots=True)
class ToolCallEvent:
    """The model called a tool (before approval)."""

    recipient: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ToolResultEvent:
    """A tool call's outcome, as sent back to the model (the value the turn's record keeps)."""

    call: ToolCall


AgentEvent = SessionEvent | ToolCallEvent | ToolResultEvent


class Run:
    """One user request: the first turn and every tool round after it. Iterate it; ``close()`` stops."""

    def __init__(
        self, session: Session, first: Turn, tools: Registry | None, approver: Approver, max_steps: int
    ) -> None:
        self.session = session
        self.tools = tools
        self.approver = approver
        self.max_steps = max_steps
        self.current = first
        self.calls: list[ToolCall] = []
        """Every call this run made, approved or not, in order."""
        self.steps = 0
        self.exhausted = False
        """Whether the run stopped because the model still called a tool after ``max_steps`` calls."""

    @property
    def result(self) -> TurnResult | None:
        return self.current.result

    def __iter__(self) -> Iterator[AgentEvent]:
        turn = self.current
        while True:
            self.current = turn
            yield from turn
            result = turn.result
            if result is None or result.outcome != "tool_call" or not self.tools:
                return
            if self.steps >= self.max_steps:
                self.exhausted = True
                yield Notice(f"stopped after {self.max_steps} tool calls (raise --max-steps to allow more)")
                return
            self.steps += 1
            call = result.tool_calls[-1]
            yield ToolCallEvent(call.recipient or "", call.text)
            message, made = execute(call, self.tools, self.approver)
            self.session.history.append(message)
            self.session.ran_tool_call(result, made)
            self.calls.append(made)
            yield ToolResultEvent(made)
            turn = Turn(self.session, self.session.prompt_pieces(), None)

    def close(self) -> None:
        """Stop (Ctrl-C): the turn in flight keeps what arrived; no further tool runs."""
        self.current.close()
