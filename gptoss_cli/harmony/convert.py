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

from gptoss_cli.errors import ConversationFormatError
from gptoss_cli.harmony.schema import json_number
from gptoss_cli.harmony.types import (
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
#: Each content variant's struct, by its ``type`` tag.
_VARIANTS = {
    "text": "TextContent",
    "system_content": "SystemContent",
    "developer_content": "DeveloperContent",
}
#: The fields of the reference's structs in declaration order (for serde's positional form).
_FIELDS: dict[str, tuple[str, ...]] = {
    "Conversation": ("messages",),
    "TextContent": ("text",),
    "SystemContent": (
        "model_identity",
        "reasoning_effort",
        "tools",
        "conversation_start_date",
        "knowledge_cutoff",
        "channel_config",
    ),
    "DeveloperContent": ("instructions", "tools"),
    "ChannelConfig": ("valid_channels", "channel_required"),
    "ToolNamespaceConfig": ("name", "description", "tools"),
    "ToolDescription": ("name", "description", "parameters"),
}
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


def _struct(value: Any, name: str, path: str) -> Mapping[str, Any]:
    """A struct: an object, or serde's positional form, an array of exactly its fields in order.

    (serde's derived structs read both; a message cannot be positional, its author is flattened.)
    """
    if isinstance(value, list):
        fields = _FIELDS[name]
        if len(value) != len(fields):
            _fail(path, f"invalid length {len(value)}, expected struct {name} with {len(fields)} elements")
        return dict(zip(fields, value, strict=True))
    return _obj(value, path)


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
        obj = _struct(data, "Conversation", "conversation")
        if "messages" not in obj:
            _fail("conversation", "missing field `messages`")
        raw_messages = _list(obj["messages"], "messages")
    return Conversation(
        tuple(message_from_dict(m, strict=strict, path=f"messages[{i}]") for i, m in enumerate(raw_messages))
    )


def _check_readable(value: Any, path: str) -> None:
    """Refuse what serde_json cannot hold: numbers beyond a float (NaN, infinities) and lone surrogates.

    serde_json reads every number and string inside a message (its flattened author and its
    tagged contents are buffered whole), so one such value anywhere in a message, even under a
    key nobody reads, makes the whole conversation unreadable.
    """
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError:
                _fail(path, "lone surrogate in string")
    elif isinstance(value, bool):
        return
    elif isinstance(value, (int, float)):
        try:
            json_number(value)
        except OverflowError:
            _fail(path, "number out of range")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_readable(key, path)
            _check_readable(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_readable(item, f"{path}[{i}]")


def message_from_dict(data: Any, *, strict: bool = False, path: str = "message") -> Message:
    """A message in the reference's flattened form."""
    obj = _obj(data, path)
    if strict:
        _check_readable(obj, path)
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
    fields: Any
    if isinstance(data, list):  # positional: the tag, then the variant's fields
        if not data:
            _fail(path, "missing field `type`")
        kind, fields = data[0], data[1:]
    else:
        fields = _obj(data, path)
        kind = fields.get("type")
    if kind is None:
        _fail(path, "missing field `type`")
    variant = _VARIANTS.get(kind) if isinstance(kind, str) else None
    if variant is None:
        _fail(f"{path}.type", f"unknown variant `{kind}`, expected one of {_CONTENT_TYPES}")
    obj = _struct(fields, variant, path)
    if kind == "text":
        return TextContent(_req_str(obj, "text", path))
    if kind == "developer_content":
        return DeveloperContent(
            instructions=_opt_str(obj, "instructions", path),
            tools=_tools_from_dict(obj.get("tools"), f"{path}.tools"),
        )
    return _system_from_dict(obj, strict=strict, path=path)


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
        cc = _struct(raw_cc, "ChannelConfig", f"{path}.channel_config")
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
    ns = _struct(raw, "ToolNamespaceConfig", path)
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
    tool = _struct(raw, "ToolDescription", path)
    params = tool.get("parameters")
    return ToolDescription(_req_str(tool, "name", path), _req_str(tool, "description", path), params)
