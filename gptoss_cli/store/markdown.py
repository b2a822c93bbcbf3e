"""A saved conversation as Markdown: what was asked and what was answered.

By default only user messages and final answers; ``reasoning`` adds the analysis channel in
collapsible ``<details>`` blocks, ``tools`` adds preambles, tool calls and tool results, and
``instructions`` adds the developer instructions. An answer that was cut off is marked so.
"""

from __future__ import annotations

import json
import re

from gptoss_cli.harmony.types import DeveloperContent, Message, Role
from gptoss_cli.store.record import Record

__all__ = ["to_markdown"]


def to_markdown(
    record: Record, *, reasoning: bool = False, tools: bool = False, instructions: bool = False
) -> str:
    """The conversation as a Markdown document."""
    meta = record.meta
    facts = [meta.created.strftime("%Y-%m-%d %H:%M")]
    facts += [v for v in (meta.model, meta.profile and f"profile {meta.profile}") if v]
    if meta.reasoning_effort:
        facts.append(f"reasoning {meta.reasoning_effort}")
    out: list[str] = [f"# {_one_line(record.title)}", "", f"*{' · '.join(facts)}*"]
    incomplete = {t.messages[1] - 1: t.finish_reason or "cut off" for t in meta.turns if t.incomplete}
    speaker: Role | None = None
    for index, message in enumerate(record.conversation.messages):
        block = _block(message, reasoning=reasoning, tools=tools, instructions=instructions)
        if block is None:
            continue
        heading = _heading(message.role)
        if heading and message.role is not speaker:
            out += ["", f"## {heading}"]
            speaker = message.role
        out += ["", block]
        if index in incomplete:
            out += ["", f"*[incomplete: {incomplete[index]}]*"]
    return "\n".join(out).rstrip("\n") + "\n"


def _heading(role: Role) -> str | None:
    return {Role.USER: "User", Role.ASSISTANT: "Assistant", Role.DEVELOPER: "Instructions"}.get(role)


def _block(message: Message, *, reasoning: bool, tools: bool, instructions: bool) -> str | None:
    role = message.role
    if role is Role.USER:
        return message.text
    if role is Role.DEVELOPER:
        texts = [
            c.instructions for c in message.content if isinstance(c, DeveloperContent) and c.instructions
        ]
        return "\n\n".join(texts) if instructions and texts else None
    if role is Role.TOOL:
        if not tools:
            return None
        return f"**Result** from `{message.author.name}`:\n\n{_fence(message.text, _language(message.text))}"
    if role is not Role.ASSISTANT:
        return None
    if message.channel == "analysis":
        if not reasoning:
            return None
        return f"<details>\n<summary>Reasoning</summary>\n\n{message.text}\n\n</details>"
    if message.recipient and message.recipient != "user":
        if not tools:
            return None
        return f"**Tool call** `{message.recipient}`:\n\n{_fence(message.text, _language(message.text))}"
    if message.channel == "commentary":
        return f"*{message.text.strip()}*" if tools and message.text.strip() else None
    return message.text


def _fence(text: str, language: str = "") -> str:
    """``text`` in a code fence longer than any run of backticks inside it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _language(text: str) -> str:
    try:
        json.loads(text)
    except ValueError:
        return ""
    return "json"


def _one_line(text: str) -> str:
    return " ".join(text.split())
