"""Reading openai-harmony's JSON message format into values.

The reference deserialises with serde: unknown keys are ignored, a missing optional key is
``None`` (so a bare ``{"type": "system_content"}`` has every field ``None``, unlike the Python
constructor's defaults), content may be a plain string, and a wrong type or unknown variant is
an error. ``strict=True`` reproduces that exactly (``reasoning_effort`` must be ``"Low"`` etc.);
the default also accepts lower-case efforts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from ..errors import ConversationFormatError
from .types import (
    Author,
    ChannelConfig,
    Content,
    Conversation,
    DeveloperContent,
    Message,
    ReasoningEffort,
    Role,
    SystemContent,
    TextContent,
    ToolDescription,
    ToolMap,
    ToolNamespaceConfig,
)

_CONTENT_TYPES = "`text`, `system_content`, `developer_content`"
_ROLE_NAMES = "`user`, `assistant`, `system`, `developer`, `tool`"


def _fail(path: str, message: str) -> NoReturn:
    raise ConversationFormatError(message, path=path)


def _obj(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        _fail(path, f"invalid type: {_kind(value)}, expected an object")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, (int, float)):
        return f"number `{value}`"
    if isinstance(value, str):
        return f'string "{value}"'
    if isinstance(value, list):
        return "sequence"
    return "map"


def _opt_str(data: Mapping[str, Any], key: str, path: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    _fail(f"{path}.{key}", f"invalid type: {_kind(value)}, expected a string")


def _req_str(data: Mapping[str, Any], key: str, path: str) -> str:
    if key not in data:
        _fail(path, f"missing field `{key}`")
    value = data[key]
    if not isinstance(value, str):
        _fail(f"{path}.{key}", f"invalid type: {_kind(value)}, expected a string")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        _fail(path, f"invalid type: {_kind(value)}, expected a sequence")
    return value


def conversation_from_dict(data: Any, *, strict: bool = False) -> Conversation:
    """A conversation from ``{"messages": [...]}`` (extra keys such as gptoss metadata are ignored)."""
    if isinstance(data, list) and not strict:
        raw_messages = data
    else:
        obj = _obj(data, "conversation")
        if "messages" not in obj:
            _fail("conversation", "missing field `messages`")
        raw_messages = _list(obj["messages"], "messages")
    return Conversation(
        tuple(message_from_dict(m, strict=strict, path=f"messages[{i}]") for i, m in enumerate(raw_messages))
    )


def message_from_dict(data: Any, *, strict: bool = False, path: str = "message") -> Message:
    """A message in the reference's flattened form."""
    obj = _obj(data, path)
    role_name = _req_str(obj, "role", path)
    try:
        role = Role.parse(role_name)
    except ValueError:
        _fail(f"{path}.role", f"unknown variant `{role_name}`, expected one of {_ROLE_NAMES}")
    if "content" not in obj:
        _fail(path, "missing field `content`")
    raw_content = obj["content"]
    if isinstance(raw_content, str):
        content: tuple[Content, ...] = (TextContent(raw_content),)
    else:
        items = _list(raw_content, f"{path}.content")
        content = tuple(
            _content_from_dict(item, strict=strict, path=f"{path}.content[{i}]")
            for i, item in enumerate(items)
        )
    notes = obj.get("notes") if not strict else None
    return Message(
        author=Author(role, _opt_str(obj, "name", path)),
        content=content,
        channel=_opt_str(obj, "channel", path),
        recipient=_opt_str(obj, "recipient", path),
        content_type=_opt_str(obj, "content_type", path),
        notes=tuple(str(n) for n in notes) if isinstance(notes, list) else (),
    )


def _content_from_dict(data: Any, *, strict: bool, path: str) -> Content:
    obj = _obj(data, path)
    kind = obj.get("type")
    if kind is None:
        _fail(path, "missing field `type`")
    if kind == "text":
        return TextContent(_req_str(obj, "text", path))
    if kind == "system_content":
        return _system_from_dict(obj, strict=strict, path=path)
    if kind == "developer_content":
        return DeveloperContent(
            instructions=_opt_str(obj, "instructions", path),
            tools=_tools_from_dict(obj.get("tools"), f"{path}.tools"),
        )
    _fail(f"{path}.type", f"unknown variant `{kind}`, expected one of {_CONTENT_TYPES}")


def _system_from_dict(obj: Mapping[str, Any], *, strict: bool, path: str) -> SystemContent:
    effort: ReasoningEffort | None = None
    raw_effort = obj.get("reasoning_effort")
    if raw_effort is not None:
        if not isinstance(raw_effort, str):
            _fail(f"{path}.reasoning_effort", f"invalid type: {_kind(raw_effort)}, expected a string")
        try:
            effort = ReasoningEffort.parse(raw_effort, strict=strict)
        except ValueError as exc:
            _fail(f"{path}.reasoning_effort", str(exc))
    channel_config: ChannelConfig | None = None
    raw_cc = obj.get("channel_config")
    if raw_cc is not None:
        cc = _obj(raw_cc, f"{path}.channel_config")
        if "valid_channels" not in cc:
            _fail(f"{path}.channel_config", "missing field `valid_channels`")
        channels = _list(cc["valid_channels"], f"{path}.channel_config.valid_channels")
        if not all(isinstance(c, str) for c in channels):
            _fail(f"{path}.channel_config.valid_channels", "expected a list of strings")
        required = cc.get("channel_required")
        if not isinstance(required, bool):
            if "channel_required" not in cc:
                _fail(f"{path}.channel_config", "missing field `channel_required`")
            _fail(
                f"{path}.channel_config.channel_required",
                f"invalid type: {_kind(required)}, expected a boolean",
            )
        channel_config = ChannelConfig(tuple(channels), required)
    return SystemContent(
        model_identity=_opt_str(obj, "model_identity", path),
        reasoning_effort=effort,
        tools=_tools_from_dict(obj.get("tools"), f"{path}.tools"),
        conversation_start_date=_opt_str(obj, "conversation_start_date", path),
        knowledge_cutoff=_opt_str(obj, "knowledge_cutoff", path),
        channel_config=channel_config,
    )


def _tools_from_dict(raw: Any, path: str) -> ToolMap | None:
    if raw is None:
        return None
    obj = _obj(raw, path)
    pairs = []
    for key, value in obj.items():
        pairs.append((key, namespace_from_dict(value, path=f"{path}.{key}")))
    return tuple(sorted(pairs, key=lambda kv: kv[0]))


def namespace_from_dict(raw: Any, *, path: str = "namespace") -> ToolNamespaceConfig:
    """A tool namespace ``{"name", "description", "tools": [...]}``."""
    ns = _obj(raw, path)
    name = _req_str(ns, "name", path)
    if "tools" not in ns:
        _fail(path, "missing field `tools`")
    tools = tuple(
        tool_from_dict(t, path=f"{path}.tools[{i}]")
        for i, t in enumerate(_list(ns["tools"], f"{path}.tools"))
    )
    return ToolNamespaceConfig(name, _opt_str(ns, "description", path), tools)


def tool_from_dict(raw: Any, *, path: str = "tool") -> ToolDescription:
    """A tool ``{"name", "description", "parameters"}``."""
    tool = _obj(raw, path)
    params = tool.get("parameters")
    return ToolDescription(_req_str(tool, "name", path), _req_str(tool, "description", path), params)
