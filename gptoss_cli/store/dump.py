"""A saved conversation as plain text, for ``gptoss history show``: everything in the file.

Unlike the Markdown export (what was asked and answered) and ``gptoss show`` (the conversation
as the chat showed it), this is for inspecting a file: the metadata, the system and developer
messages with their tools, every message with its channel, recipient and content type, and
after each turn its finish reason, token counts and times. No ANSI: it is meant to be piped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from gptoss_cli.harmony.types import DeveloperContent, Message, Role, SystemContent, ToolNamespaceConfig
from gptoss_cli.store.listing import Summary
from gptoss_cli.store.record import Record, Turn, redact_options

__all__ = ["to_text"]


def to_text(record: Record) -> str:
    """The whole record as readable text, ending with a newline."""
    out = _header(record)
    ends = {t.messages[1] - 1: (n, t) for n, t in enumerate(record.meta.turns, 1)}
    for index, message in enumerate(record.conversation.messages):
        cut = index in ends and ends[index][1].incomplete
        out += ["", f"── {_label(message)}{' · incomplete' if cut else ''} ──", *_body(message)]
        if index in ends:
            number, turn = ends[index]
            out.append(f"   [{_turn_line(number, turn)}]")
    return "\n".join(out) + "\n"


def _header(record: Record) -> list[str]:
    meta = record.meta
    facts = [f"id        {meta.id}", f"title     {' '.join(record.title.split())}"]
    facts.append(f"created   {_when(meta.created)} · updated {_when(meta.updated)}")
    server = " ".join(v for v in (meta.kind, meta.base_url) if v)
    if meta.profile:
        server += f" (profile {meta.profile})" if server else f"profile {meta.profile}"
    if server:
        facts.append(f"server    {server}")
    model = " · ".join(
        v for v in (meta.model, meta.reasoning_effort and f"reasoning {meta.reasoning_effort}") if v
    )
    if model:
        facts.append(f"model     {model}")
    if meta.options:
        facts.append(f"options   {_json(redact_options(meta.options))}")
    messages = record.conversation.messages
    users = sum(1 for m in messages if m.role is Role.USER)
    facts.append(f"messages  {len(messages)} · {users} from the user · {len(meta.turns)} completions")
    return facts


def _label(message: Message) -> str:
    role = message.role
    if role is Role.TOOL:
        label = f"tool {message.author.name or '?'}"
        if message.recipient:
            label += f" → {message.recipient}"
    else:
        label = role.value + (f" ({message.author.name})" if message.author.name else "")
        if message.recipient:
            label += f" → {message.recipient}"
    details = [v for v in (message.channel, message.content_type) if v]
    if details:
        label += " · " + " · ".join(details)
    return label


def _body(message: Message) -> list[str]:
    lines: list[str] = []
    for part in message.content:
        if isinstance(part, SystemContent):
            lines += _system(part)
        elif isinstance(part, DeveloperContent):
            if part.instructions:
                lines += part.instructions.splitlines()
            lines += _tools(part.tools)
        else:
            lines += part.text.splitlines() or [""]
    return lines


def _system(content: SystemContent) -> list[str]:
    lines = [content.model_identity] if content.model_identity else []
    facts = [
        f"reasoning {content.reasoning_effort.value.lower()}" if content.reasoning_effort else "",
        f"knowledge cutoff {content.knowledge_cutoff}" if content.knowledge_cutoff else "",
        f"date {content.conversation_start_date}" if content.conversation_start_date else "",
    ]
    if content.channel_config is not None:
        facts.append("channels " + ", ".join(content.channel_config.valid_channels))
    lines.append(" · ".join(f for f in facts if f))
    return lines + _tools(content.tools)


def _tools(tools: tuple[tuple[str, ToolNamespaceConfig], ...] | None) -> list[str]:
    lines = []
    for key, namespace in tools or ():
        if not namespace.tools:
            lines.append(f"tools: {key} (built-in)")
        for tool in namespace.tools:
            description = f": {' '.join(tool.description.split())}" if tool.description else ""
            lines.append(f"tool {key}.{tool.name}({_params(tool.parameters)}){description}")
    return lines


def _params(schema: Mapping[str, Any] | None) -> str:
    properties = (schema or {}).get("properties")
    if not isinstance(properties, Mapping):
        return ""
    required = set((schema or {}).get("required") or ())
    names = []
    for name, spec in properties.items():
        kind = spec.get("type", "any") if isinstance(spec, Mapping) else "any"
        names.append(f"{name}{'' if name in required else '?'}: {kind}")
    return ", ".join(names)


def _turn_line(number: int, turn: Turn) -> str:
    parts = [f"completion {number}", turn.finish_reason or "no finish reason"]
    if turn.incomplete:
        parts[-1] += " (cut off)"
    usage = turn.usage
    tokens = [f"{usage.prompt_tokens} prompt"] if usage.prompt_tokens is not None else []
    if usage.analysis_tokens or usage.final_tokens or usage.completion_tokens is None:
        tokens += [f"{usage.analysis_tokens} analysis", f"{usage.final_tokens} final"]
    else:
        tokens.append(f"{usage.completion_tokens} completion")
    parts.append(" + ".join(tokens) + " tokens")
    if turn.timings.total:
        parts.append(f"{turn.timings.total:.2f} s")
    if turn.model:
        parts.append(turn.model)
    return " · ".join(parts)


def _when(moment: Any) -> str:
    return str(moment.strftime("%Y-%m-%d %H:%M:%S %z"))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def branch_tree(summaries: Iterable[Summary], ident: str) -> str:
    """The branches around a conversation, drawn from its first ancestor (empty if it has none)."""
    by_id = {s.id: s for s in summaries}
    root = ident
    while by_id.get(root) is not None and by_id[root].parent in by_id:
        root = by_id[root].parent or root
    children: dict[str, list[Summary]] = {}
    for summary in by_id.values():
        if summary.parent is not None:
            children.setdefault(summary.parent, []).append(summary)
    if root == ident and ident not in children:
        return ""
    lines = [_branch_node(by_id[root], ident)]

    def draw(parent: str, indent: str) -> None:
        kids = sorted(children.get(parent, []), key=lambda s: (s.parent_at or 0, s.created))
        for n, kid in enumerate(kids):
            last = n == len(kids) - 1
            branch = f"{'└─' if last else '├─'} at message {kid.parent_at}: {_branch_node(kid, ident)}"
            lines.append(indent + branch)
            draw(kid.id, indent + ("   " if last else "│  "))

    draw(root, "")
    return "branches:\n" + "".join(f"  {line}\n" for line in lines) + "\n"


def _branch_node(summary: Summary, current: str) -> str:
    mark = "  ← this one" if summary.id == current else ""
    turns = f"{summary.turns} turn{'' if summary.turns == 1 else 's'}"
    return f"{summary.id}  {turns}  {' '.join(summary.title.split())}{mark}"
