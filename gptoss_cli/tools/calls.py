"""Running one tool call the model made, and answering it the Harmony way.

The answer is a message from the tool (``<|start|>functions.NAME to=assistant<|channel|>
commentary<|message|>...``, on the call's channel). Invalid JSON, a schema violation, an unknown
tool, a refusal, a timeout or a crash all become such a message that tells the model what went
wrong; none of them stops the client. What happened is a :class:`~gptoss_cli.toolcall.ToolCall`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gptoss_cli.harmony import Author, Message, Role, TextContent
from gptoss_cli.toolcall import ToolCall
from gptoss_cli.tools.registry import Registry, Tool, ToolOutput

Decision = Literal["yes", "no", "always"]
AskFn = Callable[[str, str], Decision]
_FENCE = re.compile(r"^\s*```[\w-]*\s*\n?(.*?)\n?```\s*$", re.S)


@dataclass
class Approver:
    """Whether a call may run: ``--yes``, a tool's ``approve = "auto"``, "always" answers, or asking."""

    assume_yes: bool = False
    ask: AskFn | None = None
    always: set[str] = field(default_factory=set)

    def check(self, recipient: str, tool: Tool, arguments: str) -> tuple[bool, str]:
        if self.assume_yes:
            return True, "yes (--yes)"
        if tool.approve == "auto":
            return True, "yes (approve = auto)"
        if recipient in self.always:
            return True, "yes (always)"
        if self.ask is None:
            return False, "refused: approval needed and there is no terminal to ask"
        answer = self.ask(recipient, arguments)
        if answer == "always":
            self.always.add(recipient)
            return True, "yes (always for this tool)"
        return (True, "yes") if answer == "yes" else (False, "no")


def parse_arguments(text: str, schema: Mapping[str, Any] | None) -> tuple[Any, str | None]:
    """The call's arguments: JSON for a schema'd tool (code fences tolerated), else the raw text."""
    if schema is None:
        m = _FENCE.match(text)
        return (m.group(1) if m else text), None
    body = text.strip()
    m = _FENCE.match(body)
    if m:
        body = m.group(1).strip()
    if not body:
        body = "{}"
    try:
        value = json.loads(body)
    except json.JSONDecodeError as exc:
        return None, f"the arguments are not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    if not isinstance(value, dict) and schema.get("type") == "object":
        return None, "the arguments must be a JSON object"
    return value, None


def invalid_schema(schema: Mapping[str, Any]) -> str | None:
    """Why ``schema`` is not a valid JSON Schema, or None."""
    import jsonschema

    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        return str(exc.message)
    return None


def schema_problem(value: Any, schema: Mapping[str, Any]) -> str | None:
    """The first way ``value`` breaks ``schema`` (JSON Schema), or None."""
    import jsonschema

    try:
        validator_class = jsonschema.validators.validator_for(schema)
        validator = validator_class(schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    except jsonschema.exceptions.SchemaError as exc:
        return f"the tool's own schema is invalid: {exc.message}"
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{error.message}" + (f" (at {where})" if where else "")


def answer(call: Message, output: ToolOutput) -> Message:
    """The tool's message back to the model, on the call's channel."""
    recipient = call.recipient or "unknown"
    return Message(
        Author(Role.TOOL, recipient),
        (TextContent(output.text),),
        channel=call.channel or "commentary",
        recipient="assistant",
    )


def execute(call: Message, registry: Registry, approver: Approver) -> tuple[Message, ToolCall]:
    """Run one call: find the tool, check the arguments, ask, run; always returns an answer."""
    recipient = call.recipient or ""
    text = call.text
    tool = registry.resolve(recipient)
    if tool is None:
        available = ", ".join(name for name, _ in registry.tools()) or "none"
        output = ToolOutput(f"unknown tool {recipient!r}; available tools: {available}", error=True)
        return answer(call, output), ToolCall(recipient, text, "not run: unknown tool", output.text, True)
    arguments, problem = parse_arguments(text, tool.parameters)
    if problem is None and tool.parameters is not None:
        problem = schema_problem(arguments, tool.parameters)
    if problem is not None:
        output = ToolOutput(
            f"invalid arguments for {recipient}: {problem}. Call it again with valid arguments.", True
        )
        return answer(call, output), ToolCall(
            recipient, text, "not run: invalid arguments", output.text, True
        )
    allowed, decision = approver.check(recipient, tool, text)
    if not allowed:
        why = "the user declined this call" if decision == "no" else "this call was refused: " + decision
        output = ToolOutput(f"{why}; do not retry it, answer without it or ask the user", error=True)
        return answer(call, output), ToolCall(recipient, text, decision, output.text, True)
    try:
        output = tool.run(arguments)
    except Exception as exc:  # a tool's bug must not end the session; the model is told instead
        output = ToolOutput(f"the tool crashed: {type(exc).__name__}: {exc}", error=True)
    return answer(call, output), ToolCall(recipient, text, decision, output.text, output.error)
