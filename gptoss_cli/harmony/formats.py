"""Response formats (structured output) in the developer message, as the Harmony guide writes them::

    # Response Formats

    ## {name}

    // {description}
    {schema as compact JSON}

openai-harmony 0.0.8 has no field for this, so the section is a text part after the developer
content (the reference renders a message's parts one after another), separated from any
instructions or tools by a blank line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from gptoss_cli.harmony.types import Author, DeveloperContent, Message, Role, TextContent

_FENCE = re.compile(r"^\s*```[\w-]*\s*\n(.*?)\n?```\s*$", re.S)


def response_format_text(name: str, schema: Mapping[str, Any], description: str | None = None) -> str:
    """The ``# Response Formats`` section for one schema."""
    lines = ["# Response Formats", "", f"## {name}", ""]
    if description:
        lines.extend(f"// {line}" for line in description.splitlines())
    lines.append(json.dumps(schema, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines)


def developer_message(
    content: DeveloperContent | None, response_format: tuple[str, Mapping[str, Any], str | None] | None
) -> Message | None:
    """The developer message: instructions and tools, then the response format if there is one."""
    parts: list[Any] = []
    has_content = content is not None and (content.instructions is not None or bool(content.tools))
    if content is not None and has_content:
        parts.append(content)
    if response_format is not None:
        text = response_format_text(*response_format)
        parts.append(TextContent(("\n\n" if has_content else "") + text))
    if not parts:
        return None
    return Message(Author(Role.DEVELOPER), tuple(parts))


def answer_json(text: str) -> Any:
    """The JSON value of a structured answer (a code fence around it is tolerated); ValueError if none."""
    m = _FENCE.match(text)
    return json.loads(m.group(1) if m else text)
