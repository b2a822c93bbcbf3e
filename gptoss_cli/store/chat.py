"""OpenAI chat-completions message lists, to and from Harmony conversations.

Import (``[{role, content, tool_calls, tool_call_id, name, reasoning_content}]``):

- ``system`` and ``developer`` become a Harmony *developer* message holding the text as
  instructions. In Harmony the system message carries identity, dates, reasoning effort and
  channels, which gptoss renders from its settings; what chat clients call the system prompt is
  what Harmony calls developer instructions, and gpt-oss servers map it the same way.
- ``user`` stays a user message.
- ``assistant``: ``reasoning_content`` (or ``reasoning``) becomes an ``analysis`` message; the
  content becomes the ``final`` answer, or a ``commentary`` preamble when the message also makes
  tool calls (a final answer ends a Harmony turn, so it cannot precede a call); each tool call
  becomes a ``commentary`` message to ``functions.NAME`` with content type ``<|constrain|>json``
  and the arguments as content.
- ``tool`` (and legacy ``function``) becomes a tool message from ``functions.NAME``, the name
  found through ``tool_call_id``, to ``assistant`` on ``commentary``.

Export is the inverse: the Harmony system message is left out (it is rebuilt from settings),
analysis goes to ``reasoning_content`` only when asked, and tool calls get ids ``call_0``... that
the following tool messages answer. Wrong shapes raise :class:`StoreError` naming the key path
(``[3].tool_calls[0].function.name``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from gptoss_cli.errors import StoreError
from gptoss_cli.harmony.types import Author, DeveloperContent, Message, Role, TextContent

__all__ = ["from_chat_messages", "looks_like_chat", "to_chat_messages"]

JSON_CONSTRAINT = "<|constrain|>json"
_CHAT_ONLY_KEYS = {"tool_calls", "tool_call_id", "reasoning_content", "reasoning", "function_call", "refusal"}
_HARMONY_ONLY_KEYS = {"channel", "recipient", "content_type"}


def looks_like_chat(messages: Sequence[Any]) -> bool:
    """Whether a message list is chat-completions rather than openai-harmony's format.

    Harmony signs (``channel``, ``recipient``, typed system/developer content) win; chat signs
    are chat-only keys, a ``function`` role, null content or a ``system`` message with plain text
    (a Harmony system message holds ``system_content``). Lists with neither read the same either way.
    """
    chat = False
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        if _HARMONY_ONLY_KEYS & message.keys():
            return False
        content = message.get("content")
        if isinstance(content, list) and any(
            isinstance(p, Mapping) and p.get("type") in ("system_content", "developer_content")
            for p in content
        ):
            return False
        if _CHAT_ONLY_KEYS & message.keys() or message.get("role") == "function" or content is None:
            chat = True
        if message.get("role") == "system" and isinstance(content, str):
            chat = True
    return chat


# ------------------------------------------------------------------------------------------ import


def from_chat_messages(messages: Any) -> tuple[Message, ...]:
    """Harmony messages for a chat-completions message list (see the module docstring)."""
    if not isinstance(messages, list):
        raise _shape("", "expected an array of messages", messages)
    out: list[Message] = []
    call_names: dict[str, str] = {}
    for i, raw in enumerate(messages):
        key = f"[{i}]"
        if not isinstance(raw, Mapping):
            raise _shape(key, "expected a message object", raw)
        role = raw.get("role")
        if role in ("system", "developer"):
            text = _text(raw.get("content"), f"{key}.content")
            out.append(Message(Author(Role.DEVELOPER), (DeveloperContent(instructions=text),)))
        elif role == "user":
            name = _opt_str(raw, "name", key)
            out.append(
                Message(Author(Role.USER, name), (TextContent(_text(raw.get("content"), f"{key}.content")),))
            )
        elif role == "assistant":
            out.extend(_assistant(raw, key, call_names))
        elif role in ("tool", "function"):
            out.append(_tool_result(raw, key, call_names))
        else:
            raise _shape(f"{key}.role", "expected system, developer, user, assistant or tool", role)
    return tuple(out)


def _assistant(raw: Mapping[str, Any], key: str, call_names: dict[str, str]) -> list[Message]:
    out: list[Message] = []
    for field in ("reasoning_content", "reasoning"):
        reasoning = raw.get(field)
        if reasoning is not None:
            text = _text(reasoning, f"{key}.{field}")
            if text:
                out.append(_assistant_message(text, "analysis"))
            break
    raw_calls = raw.get("tool_calls") or []
    if not isinstance(raw_calls, list):
        raise _shape(f"{key}.tool_calls", "expected an array", raw_calls)
    calls: list[Any] = list(raw_calls)
    if raw.get("function_call") is not None:
        calls.append({"type": "function", "function": raw["function_call"]})
    content = _text(raw.get("content"), f"{key}.content") if raw.get("content") is not None else ""
    if content:
        out.append(_assistant_message(content, "commentary" if calls else "final"))
    for j, call in enumerate(calls):
        out.append(_tool_call(call, f"{key}.tool_calls[{j}]", call_names))
    return out


def _assistant_message(text: str, channel: str) -> Message:
    return Message(Author(Role.ASSISTANT), (TextContent(text),), channel=channel)


def _tool_call(call: Any, key: str, call_names: dict[str, str]) -> Message:
    if not isinstance(call, Mapping):
        raise _shape(key, "expected a tool call object", call)
    function = call.get("function")
    if not isinstance(function, Mapping):
        raise _shape(f"{key}.function", "expected an object with name and arguments", function)
    name = function.get("name")
    if not isinstance(name, str) or not name:
        raise _shape(f"{key}.function.name", "expected a function name", name)
    arguments = function.get("arguments", "")
    if not isinstance(arguments, str):  # some clients send the object itself
        arguments = json.dumps(arguments, ensure_ascii=False)
    recipient = _recipient(name)
    call_id = call.get("id")
    if isinstance(call_id, str):
        call_names[call_id] = recipient
    return Message(
        Author(Role.ASSISTANT),
        (TextContent(arguments),),
        channel="commentary",
        recipient=recipient,
        content_type=JSON_CONSTRAINT,
    )


def _recipient(name: str) -> str:
    """``functions.NAME`` (a dotted name, as exported for built-in tools, is kept as it is)."""
    return name if "." in name else f"functions.{name}"


def _tool_result(raw: Mapping[str, Any], key: str, call_names: dict[str, str]) -> Message:
    call_id = raw.get("tool_call_id")
    name = call_names.get(call_id) if isinstance(call_id, str) else None
    if name is None:
        given = raw.get("name")
        if isinstance(given, str) and given:
            name = _recipient(given)
        elif call_id is not None:
            raise _shape(f"{key}.tool_call_id", "expected the id of an earlier tool call", call_id)
        else:
            raise _shape(key, "expected tool_call_id (or name) saying which call this answers", None)
    text = _text(raw.get("content"), f"{key}.content")
    return Message(Author(Role.TOOL, name), (TextContent(text),), channel="commentary", recipient="assistant")


def _text(content: Any, key: str) -> str:
    """Text from a string or a list of text parts (``{"type": "text", "text": ...}``)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _shape(key, "expected a string or an array of text parts", content)
    parts: list[str] = []
    for j, part in enumerate(content):
        if isinstance(part, str):
            parts.append(part)
            continue
        if not isinstance(part, Mapping) or not isinstance(part.get("text"), str):
            kind = part.get("type") if isinstance(part, Mapping) else None
            raise _shape(
                f"{key}[{j}]", f"expected a text part (gptoss reads text only; this is {kind!r})", part
            )
        parts.append(part["text"])
    return "".join(parts)


def _opt_str(raw: Mapping[str, Any], name: str, key: str) -> str | None:
    value = raw.get(name)
    if value is None or isinstance(value, str):
        return value
    raise _shape(f"{key}.{name}", "expected a string", value)


def _shape(key: str, expected: str, got: Any) -> StoreError:
    kind = "null" if got is None else type(got).__name__.replace("dict", "object").replace("list", "array")
    return StoreError(f"{key}: {expected}, got {kind}" if key else f"{expected}, got {kind}")


# ------------------------------------------------------------------------------------------ export


def to_chat_messages(messages: Sequence[Message], *, reasoning: bool = False) -> list[dict[str, Any]]:
    """Chat-completions messages for Harmony ones (``reasoning_content`` only when ``reasoning``)."""
    exporter = _Exporter(reasoning)
    for message in messages:
        exporter.add(message)
    exporter.flush()
    return exporter.out


class _Exporter:
    def __init__(self, reasoning: bool) -> None:
        self.reasoning = reasoning
        self.out: list[dict[str, Any]] = []
        self.pending: dict[str, Any] | None = None  # the assistant message being assembled
        self.open_calls: list[tuple[str, str]] = []  # (recipient, id) not answered yet
        self.next_id = 0

    def assistant(self) -> dict[str, Any]:
        if self.pending is None:
            self.pending = {"role": "assistant", "content": None}
        return self.pending

    def flush(self) -> None:
        if self.pending is not None:
            self.out.append(self.pending)
            self.pending = None

    def add(self, message: Message) -> None:
        role = message.role
        if role is Role.SYSTEM:
            return
        if role is Role.ASSISTANT:
            self.add_assistant(message)
            return
        self.flush()
        if role is Role.DEVELOPER:
            self.add_developer(message)
        elif role is Role.USER:
            entry: dict[str, Any] = {"role": "user", "content": message.text}
            if message.author.name:
                entry["name"] = message.author.name
            self.out.append(entry)
        else:
            self.out.append(
                {"role": "tool", "tool_call_id": self.answer(message.author.name), "content": message.text}
            )

    def add_developer(self, message: Message) -> None:
        texts = [
            c.instructions for c in message.content if isinstance(c, DeveloperContent) and c.instructions
        ]
        texts += [c.text for c in message.content if isinstance(c, TextContent)]
        if texts:
            self.out.append({"role": "system", "content": "\n\n".join(texts)})

    def add_assistant(self, message: Message) -> None:
        if message.channel == "analysis":
            if self.reasoning:
                current = self.assistant()
                previous = current.get("reasoning_content")
                current["reasoning_content"] = f"{previous}\n\n{message.text}" if previous else message.text
            return
        if message.recipient and message.recipient != "user":
            current = self.assistant()
            call_id = f"call_{self.next_id}"
            self.next_id += 1
            self.open_calls.append((message.recipient, call_id))
            name = message.recipient.removeprefix("functions.")
            function = {"name": name, "arguments": message.text}
            current.setdefault("tool_calls", []).append(
                {"id": call_id, "type": "function", "function": function}
            )
            return
        current = self.assistant()
        if "tool_calls" in current:  # a preamble after calls: start a new message
            self.flush()
            current = self.assistant()
        current["content"] = (
            message.text if current["content"] is None else f"{current['content']}\n\n{message.text}"
        )
        if message.channel in (None, "final"):
            self.flush()

    def answer(self, name: str | None) -> str:
        """The id of the oldest open call to ``name`` (any open call if none matches)."""
        for i, (recipient, call_id) in enumerate(self.open_calls):
            if recipient == name:
                del self.open_calls[i]
                return call_id
        if self.open_calls:
            return self.open_calls.pop(0)[1]
        call_id = f"call_{self.next_id}"
        self.next_id += 1
        return call_id
