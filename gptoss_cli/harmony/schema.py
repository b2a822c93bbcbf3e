"""JSON Schema to the TypeScript-like namespace text gpt-oss was trained on.

Follows the reference renderer rule for rule: ``oneOf`` at the top and at property level,
``nullable``, type lists, titles, examples, enums, defaults printed as Rust's serde_json
prints them (``1e21``, ``3.0``, ``-0.0``, big integers as floats, strings unescaped), and
description lines split like Rust's ``str::lines``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from .types import ToolNamespaceConfig

_I64_MIN = -(2**63)
_U64_MAX = 2**64 - 1


def rust_lines(text: str) -> list[str]:
    """Rust's ``str::lines``: split on ``\\n``, strip a ``\\r`` before it, no final empty line."""
    if not text:
        return []
    parts = text.split("\n")
    ends_with_newline = parts[-1] == ""
    if ends_with_newline:
        parts.pop()
    last = len(parts) - 1
    return [
        p[:-1] if p.endswith("\r") and (i < last or ends_with_newline) else p for i, p in enumerate(parts)
    ]


def format_float(value: float) -> str:
    """A float as serde_json (ryu) prints it: ``3.0``, ``1e21``, ``1e-7``, ``-0.0``, ``1.5e300``."""
    if math.isnan(value) or math.isinf(value):
        return "null"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    mantissa, _, exp_part = repr(abs(value)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    k = (int(exp_part) if exp_part else 0) - len(frac_part)  # value = int(digits) * 10**k
    stripped = digits.rstrip("0")
    k += len(digits) - len(stripped)
    digits = stripped
    length = len(digits)
    point = length + k  # where the decimal point falls in the digit string
    if k >= 0 and point <= 16:
        return f"{sign}{digits}{'0' * k}.0"
    if 0 < point <= 16:
        return f"{sign}{digits[:point]}.{digits[point:]}"
    if -5 < point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if length == 1:
        return f"{sign}{digits}e{point - 1}"
    return f"{sign}{digits[0]}.{digits[1:]}e{point - 1}"


def json_value(value: Any) -> str:
    """Compact JSON exactly as serde_json's ``Display`` writes a ``Value``."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if _I64_MIN <= value <= _U64_MAX:
            return str(value)
        return format_float(float(value))
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        inner = ",".join(
            f"{json.dumps(str(k), ensure_ascii=False)}:{json_value(v)}" for k, v in value.items()
        )
        return "{" + inner + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(json_value(v) for v in value) + "]"
    return json.dumps(value)


def _is_enum(schema: Mapping[str, Any]) -> bool:
    values = schema.get("enum")
    return isinstance(values, list) and len(values) > 0


def _get(schema: Any, key: str) -> Any:
    return schema.get(key) if isinstance(schema, Mapping) else None


def _default_comment(schema: Mapping[str, Any], default: Any, *, quote_enum: bool) -> str:
    """``default: ...`` as the reference writes it (strings raw; quoted unless the schema is an enum)."""
    if isinstance(default, str):
        if not _is_enum(schema):
            return f'default: "{default}"'
        return f"default: {default}" if quote_enum else f"default: {json_value(default)}"
    return f"default: {json_value(default)}"


def _with_nullable(variant: Any, type_str: str) -> str:
    if _get(variant, "nullable") is True and "null" not in type_str:
        return f"{type_str} | null"
    return type_str


def to_typescript(schema: Any, indent: str = "") -> str:
    """Render one JSON Schema node."""
    one_of = _get(schema, "oneOf")
    if isinstance(one_of, list):
        return _top_one_of(one_of, indent)
    type_value = _get(schema, "type")
    if isinstance(type_value, list):
        names = ["number" if t == "integer" else t for t in type_value if isinstance(t, str)]
        if names:
            return " | ".join(names)
    if isinstance(type_value, str):
        if type_value == "object":
            return _object(schema, indent)
        if type_value == "string":
            enum_values = schema.get("enum")
            if isinstance(enum_values, list):
                names = [f'"{v}"' for v in enum_values if isinstance(v, str)]
                if names:
                    return " | ".join(names)
            return "string"
        if type_value in ("number", "integer"):
            return "number"
        if type_value == "boolean":
            return "boolean"
        if type_value == "array":
            items = schema.get("items")
            if items is not None:
                return f"{to_typescript(items, indent)}[]"
            return "Array<any>"
        return "any"
    return "any"


def _top_one_of(variants: list[Any], indent: str) -> str:
    out: list[str] = []
    for variant in variants:
        out.append(f"\n{indent} | ")
        out.append(_with_nullable(variant, to_typescript(variant, f"{indent}   ")))
        comments: list[str] = []
        desc = _get(variant, "description")
        if isinstance(desc, str):
            comments.append(desc)
        if isinstance(variant, Mapping) and "default" in variant:
            default = variant["default"]
            comments.append(
                f'default: "{default}"'
                if isinstance(default, str) and not _is_enum(variant)
                else f"default: {json_value(default)}"
            )
        if comments:
            out.append(f" // {' '.join(comments)}")
    return "".join(out)


def _object(schema: Mapping[str, Any], indent: str) -> str:
    out: list[str] = []
    desc = schema.get("description")
    if isinstance(desc, str):
        out.append(f"{indent}// {desc}\n")
    out.append("{\n")
    props = schema.get("properties")
    if isinstance(props, Mapping):
        raw_required = schema.get("required")
        required = (
            {r for r in raw_required if isinstance(r, str)} if isinstance(raw_required, list) else set()
        )
        for key, val in props.items():
            _property(out, key, val, indent, optional="" if key in required else "?")
    out.append(f"{indent}}}")
    return "".join(out)


def _property(out: list[str], key: str, val: Any, indent: str, *, optional: str) -> None:
    title = _get(val, "title")
    if isinstance(title, str):
        out.append(f"{indent}// {title}\n{indent}//\n")
    one_of = _get(val, "oneOf")
    if one_of is None:
        desc = _get(val, "description")
        if isinstance(desc, str):
            out.append(f"{indent}// {desc}\n")
    examples = _get(val, "examples")
    if isinstance(examples, list) and examples:
        out.append(f"{indent}// Examples:\n")
        out.extend(f'{indent}// - "{ex}"\n' for ex in examples if isinstance(ex, str))
    if isinstance(one_of, list):
        _one_of_property(out, key, val, one_of, indent=indent, optional=optional)
        return
    type_str = _with_nullable(val, to_typescript(val, f"{indent}    "))
    out.append(f"{indent}{key}{optional}: {type_str},")
    if one_of is None and isinstance(val, Mapping) and "default" in val:
        out.append(f" // {_default_comment(val, val['default'], quote_enum=True)}")
    out.append("\n")


def _one_of_property(
    out: list[str], key: str, val: Mapping[str, Any], variants: list[Any], *, indent: str, optional: str
) -> None:
    prop_desc = val.get("description")
    prop_desc = prop_desc if isinstance(prop_desc, str) else None
    first_desc = _get(variants[0], "description") if variants else None
    skip_prop_desc = prop_desc is not None and isinstance(first_desc, str) and first_desc == prop_desc
    desc_above = False
    if not skip_prop_desc and prop_desc is not None:
        out.append(f"{indent}// {prop_desc}\n")
        desc_above = True
    if "default" in val:
        out.append(f"{indent}// {_default_comment(val, val['default'], quote_enum=True)}\n")
    out.append(f"{indent}{key}{optional}:\n")
    for i, variant in enumerate(variants):
        out.append(f"{indent} | ")
        out.append(_with_nullable(variant, to_typescript(variant, f"{indent}   ")))
        comments: list[str] = []
        if not (i == 0 and desc_above):
            vdesc = _get(variant, "description")
            if isinstance(vdesc, str) and vdesc != prop_desc:
                comments.append(vdesc)
        if isinstance(variant, Mapping) and "default" in variant:
            comments.append(_default_comment(variant, variant["default"], quote_enum=True))
        if comments:
            out.append(f" // {' '.join(comments)}")
        out.append("\n")
    out.append(f"{indent},\n")


def tools_section(tools: Sequence[tuple[str, ToolNamespaceConfig]]) -> str:
    """The ``# Tools`` section for a system or developer message (namespaces in key order)."""
    sections = ["# Tools"]
    for _key, ns in tools:
        lines = [f"## {ns.name}\n"]
        if ns.description is not None:
            prefix = "// " if ns.tools else ""
            lines.extend(f"{prefix}{line}" for line in rust_lines(ns.description))
        if ns.tools:
            lines.append(f"namespace {ns.name} {{\n")
            for tool in ns.tools:
                lines.extend(f"// {line}" for line in rust_lines(tool.description))
                if tool.parameters is not None:
                    lines.append(f"type {tool.name} = (_: {to_typescript(tool.parameters)}) => any;\n")
                else:
                    lines.append(f"type {tool.name} = () => any;\n")
            lines.append(f"}} // namespace {ns.name}")
        sections.append("\n".join(lines))
    return "\n\n".join(sections)
