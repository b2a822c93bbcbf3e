"""Harmony values: roles, authors, contents, messages, conversations.

Pure, frozen values. ``to_dict``/``from_dict`` read and write openai-harmony's own JSON
message format (role and name flattened into the message, content a list of typed parts
or a plain string), so a conversation saved by gptoss loads in openai-harmony and back.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Union

from gptoss_cli.errors import ConversationFormatError

DEFAULT_IDENTITY = "You are ChatGPT, a large language model trained by OpenAI."
DEFAULT_KNOWLEDGE_CUTOFF = "2024-06"
DEFAULT_CHANNELS = ("analysis", "commentary", "final")

HarmonyForm = Literal["openai", "oss"]
"""Which reference library's rendering to reproduce, token for token: ``"openai"`` is the PyPI
package openai-harmony 0.0.8; ``"oss"`` is oss-harmony 0.0.11, the fork recent vLLM ships (same
Python module name). They differ in how a header with a recipient is ordered, in ``<|constrain|>``
before every content type, and in how large and small numbers print in tool schemas."""
HARMONY_FORMS: tuple[HarmonyForm, ...] = ("openai", "oss")
DEFAULT_FORM: HarmonyForm = "openai"


def harmony_form(value: str) -> HarmonyForm:
    """``"openai"`` or ``"oss"`` (any case) as a :data:`HarmonyForm`; ``ValueError`` otherwise."""
    lowered = value.strip().lower()
    for form in HARMONY_FORMS:
        if lowered == form:
            return form
    raise ValueError(f"unknown Harmony form {value!r} (one of {', '.join(HARMONY_FORMS)})")


class Role(enum.StrEnum):
    """Who wrote a message."""

    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    DEVELOPER = "developer"
    TOOL = "tool"

    def __str__(self) -> str:
        return self.value

    @property
    def debug_name(self) -> str:
        """The Rust ``Debug`` spelling the reference uses in its messages (``User``)."""
        return self.value.capitalize()

    @classmethod
    def parse(cls, value: str) -> Role:
        """Parse a role name exactly (the reference is case-sensitive)."""
        try:
            return _ROLES[value]
        except KeyError:
            raise ValueError(f"Unknown role: {value}") from None


_ROLES = {r.value: r for r in Role}


class ReasoningEffort(enum.StrEnum):
    """How hard the model thinks; rendered as ``Reasoning: low|medium|high``."""

    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"

    @classmethod
    def parse(cls, value: str, *, strict: bool = False) -> ReasoningEffort:
        """``Low``/``Medium``/``High``; lower case too unless ``strict`` (the reference's own rule)."""
        for effort in cls:
            if value == effort.value or (not strict and value.lower() == effort.value.lower()):
                return effort
        raise ValueError(
            f"unknown variant `{value}`, expected one of `Low`, `Medium`, `High`"
            + ("" if strict else " (or lower case)")
        )


@dataclass(frozen=True, slots=True)
class Author:
    """A message's author: a role and an optional name (a tool's name, a user's handle)."""

    role: Role
    name: str | None = None


@dataclass(frozen=True, slots=True)
class TextContent:
    """Plain text."""

    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "text", "text": self.text}


@dataclass(frozen=True, slots=True)
class ToolDescription:
    """One function tool: name, description and a JSON Schema for its argument object."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "description": self.description}
        if self.parameters is not None:
            out["parameters"] = self.parameters
        return out


@dataclass(frozen=True, slots=True)
class ToolNamespaceConfig:
    """A namespace of tools (``functions``, ``browser``, an MCP server...)."""

    name: str
    description: str | None = None
    tools: tuple[ToolDescription, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.description is not None:
            out["description"] = self.description
        out["tools"] = [t.to_dict() for t in self.tools]
        return out

    @staticmethod
    def browser() -> ToolNamespaceConfig:
        """The built-in ``browser`` namespace, with the reference's exact text."""
        from gptoss_cli.harmony.builtins import BROWSER

        return BROWSER

    @staticmethod
    def python() -> ToolNamespaceConfig:
        """The built-in ``python`` namespace, with the reference's exact text."""
        from gptoss_cli.harmony.builtins import PYTHON

        return PYTHON


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """Which channels the model may use, and whether every message must name one."""

    valid_channels: tuple[str, ...] = DEFAULT_CHANNELS
    channel_required: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"valid_channels": list(self.valid_channels), "channel_required": self.channel_required}


ToolMap = tuple[tuple[str, ToolNamespaceConfig], ...]


def _tool_map(
    tools: Mapping[str, ToolNamespaceConfig] | Iterable[ToolNamespaceConfig] | None,
) -> ToolMap | None:
    """Normalise tool namespaces to (key, namespace) pairs sorted by key, as the reference's BTreeMap."""
    if tools is None:
        return None
    pairs = list(tools.items()) if isinstance(tools, Mapping) else [(ns.name, ns) for ns in tools]
    return tuple(sorted(dict(pairs).items(), key=lambda kv: kv[0]))


@dataclass(frozen=True, slots=True)
class SystemContent:
    """The system message: identity, knowledge cutoff, date, reasoning effort, built-in tools, channels.

    Defaults match the reference's ``SystemContent::default()``.
    """

    model_identity: str | None = DEFAULT_IDENTITY
    reasoning_effort: ReasoningEffort | None = ReasoningEffort.MEDIUM
    tools: ToolMap | None = None
    conversation_start_date: str | None = None
    knowledge_cutoff: str | None = DEFAULT_KNOWLEDGE_CUTOFF
    channel_config: ChannelConfig | None = field(default_factory=ChannelConfig)

    def with_tools(self, *namespaces: ToolNamespaceConfig) -> SystemContent:
        current = dict(self.tools or ())
        current.update((ns.name, ns) for ns in namespaces)
        return replace(self, tools=_tool_map(current))

    def with_browser_tool(self) -> SystemContent:
        return self.with_tools(ToolNamespaceConfig.browser())

    def with_python_tool(self) -> SystemContent:
        return self.with_tools(ToolNamespaceConfig.python())

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.model_identity is not None:
            out["model_identity"] = self.model_identity
        if self.reasoning_effort is not None:
            out["reasoning_effort"] = self.reasoning_effort.value
        if self.conversation_start_date is not None:
            out["conversation_start_date"] = self.conversation_start_date
        if self.knowledge_cutoff is not None:
            out["knowledge_cutoff"] = self.knowledge_cutoff
        if self.channel_config is not None:
            out["channel_config"] = self.channel_config.to_dict()
        if self.tools is not None:
            out["tools"] = {k: ns.to_dict() for k, ns in self.tools}
        out["type"] = "system_content"
        return out


@dataclass(frozen=True, slots=True)
class DeveloperContent:
    """The developer message: instructions and function tools."""

    instructions: str | None = None
    tools: ToolMap | None = None

    def with_tools(self, *namespaces: ToolNamespaceConfig) -> DeveloperContent:
        current = dict(self.tools or ())
        current.update((ns.name, ns) for ns in namespaces)
        return replace(self, tools=_tool_map(current))

    def with_function_tools(self, tools: Iterable[ToolDescription]) -> DeveloperContent:
        return self.with_tools(ToolNamespaceConfig("functions", None, tuple(tools)))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.instructions is not None:
            out["instructions"] = self.instructions
        if self.tools is not None:
            out["tools"] = {k: ns.to_dict() for k, ns in self.tools}
        out["type"] = "developer_content"
        return out


Content = Union[TextContent, SystemContent, DeveloperContent]  # noqa: UP007 - runtime alias


@dataclass(frozen=True, slots=True)
class Message:
    """One Harmony message: header (author, recipient, channel, content type) and content parts.

    ``notes`` records what lenient parsing had to repair (empty for well-formed input);
    ``terminator`` is the token that ended it when parsed (``<|end|>``, ``<|call|>``,
    ``<|return|>``) or ``None`` when the stream simply stopped.
    """

    author: Author
    content: tuple[Content, ...] = ()
    channel: str | None = None
    recipient: str | None = None
    content_type: str | None = None
    notes: tuple[str, ...] = ()
    terminator: str | None = None

    @classmethod
    def from_role_and_content(cls, role: Role, content: str | Content, *, name: str | None = None) -> Message:
        part = TextContent(content) if isinstance(content, str) else content
        return cls(Author(role, name), (part,))

    @property
    def role(self) -> Role:
        return self.author.role

    @property
    def text(self) -> str:
        """The concatenated text of the message's text parts."""
        return "".join(c.text for c in self.content if isinstance(c, TextContent))

    def with_channel(self, channel: str | None) -> Message:
        return replace(self, channel=channel)

    def with_recipient(self, recipient: str | None) -> Message:
        return replace(self, recipient=recipient)

    def with_content_type(self, content_type: str | None) -> Message:
        return replace(self, content_type=content_type)

    def to_dict(self, *, notes: bool = True) -> dict[str, Any]:
        """openai-harmony's ``Message.to_dict()`` form, plus ``notes`` when there are any."""
        out: dict[str, Any] = {
            "role": self.author.role.value,
            "name": self.author.name,
            "content": [c.to_dict() for c in self.content],
        }
        if self.channel is not None:
            out["channel"] = self.channel
        if self.recipient is not None:
            out["recipient"] = self.recipient
        if self.content_type is not None:
            out["content_type"] = self.content_type
        if notes and self.notes:
            out["notes"] = list(self.notes)
        return out

    @classmethod
    def from_dict(cls, data: Any, *, strict: bool = False, path: str = "message") -> Message:
        from gptoss_cli.harmony.convert import message_from_dict

        return message_from_dict(data, strict=strict, path=path)


@dataclass(frozen=True, slots=True)
class Conversation:
    """An ordered list of messages."""

    messages: tuple[Message, ...] = ()

    @classmethod
    def from_messages(cls, messages: Iterable[Message]) -> Conversation:
        return cls(tuple(messages))

    def to_dict(self) -> dict[str, Any]:
        return {"messages": [m.to_dict(notes=False) for m in self.messages]}

    @classmethod
    def from_dict(cls, data: Any, *, strict: bool = False) -> Conversation:
        from gptoss_cli.harmony.convert import conversation_from_dict

        return conversation_from_dict(data, strict=strict)


@dataclass(frozen=True, slots=True)
class RenderConfig:
    """How a conversation is rendered: whether earlier analysis is dropped after a final answer."""

    auto_drop_analysis: bool = True


__all__ = [
    "DEFAULT_FORM",
    "HARMONY_FORMS",
    "Author",
    "ChannelConfig",
    "Content",
    "Conversation",
    "ConversationFormatError",
    "DeveloperContent",
    "HarmonyForm",
    "Message",
    "ReasoningEffort",
    "RenderConfig",
    "Role",
    "SystemContent",
    "TextContent",
    "ToolDescription",
    "ToolNamespaceConfig",
    "harmony_form",
]
