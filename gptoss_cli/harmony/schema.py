"""JSON Schema to the TypeScript-like namespace text gpt-oss was trained on.

Follows the reference renderer rule for rule: ``oneOf`` at the top and at property level,
``nullable``, type lists, titles, examples, enums, defaults printed as Rust's serde_json
prints them (``1e21``, ``3.0``, ``-0.0``, big integers as floats, strings unescaped), and
description lines split like Rust's ``str::lines``.

The two reference forms differ here in one thing only: the float printer inside serde_json.
openai-harmony 0.0.8 was built with serde_json on ``ryu`` (``1e21``, ``1.5e300``); oss-harmony
0.0.11 with serde_json 1.0.149 on ``zmij``, which writes the exponent's sign (``1e+21``,
``1.5e+300``; negative exponents read the same, ``1e-7``). Both switch to scientific notation
at the same points and print the same shortest digits.

A key that is present with the value ``null`` counts as present wherever the reference asks
``schema.get(key).is_some()`` (``"oneOf": null`` hides a property's description and default;
``"items": null`` still makes an array of ``any``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from gptoss_cli.harmony.types import DEFAULT_FORM, HarmonyForm, ToolNamespaceConfig

_I64_MIN = -(2**63)
_I32_MAX = 2**31 - 1
_U64_MAX = 2**64 - 1
_POW10 = tuple(float(f"1e{i}") for i in range(309))
_JSON_NUMBER = re.compile(r"(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?)([0-9]+))?")
_MISSING = object()


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


def format_float(value: float, form: HarmonyForm = DEFAULT_FORM) -> str:
    """A float as serde_json prints it: ``3.0``, ``1e21``, ``1e-7``, ``-0.0``, ``1.5e300``.

    With ``form="oss"`` a non-negative exponent carries its sign: ``1e+21``, ``1.5e+300``.
    """
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
    exponent = point - 1
    exp_text = f"+{exponent}" if form == "oss" and exponent >= 0 else str(exponent)
    if length == 1:
        return f"{sign}{digits}e{exp_text}"
    return f"{sign}{digits[0]}.{digits[1:]}e{exp_text}"


def _overflows(value: int, digit: int, limit: int) -> bool:
    """Whether ``value * 10 + digit`` would pass ``limit`` (serde_json's own overflow test)."""
    return value >= limit // 10 and (value > limit // 10 or digit > limit % 10)


def serde_f64(text: str) -> float:
    """The float serde_json (built without ``float_roundtrip``, as the reference is) reads from ``text``.

    That parser is fast, not exact: it keeps at most a u64's worth of significant digits and
    scales them by powers of ten one rounded step at a time, so e.g. ``2.7715077941825975e-163``
    comes out one ulp away. Numbers it cannot hold raise :class:`OverflowError` (serde_json's
    "number out of range"); text that is not a JSON number raises :class:`ValueError`.
    """
    match = _JSON_NUMBER.fullmatch(text)
    if match is None:
        raise ValueError(f"not a JSON number: {text!r}")
    sign, integer, fraction, exp_sign, exp_digits = match.groups()
    significand = 0
    exponent = 0
    full = False  # the integer part overflowed: each further digit only scales by ten
    for ch in integer:
        digit = ord(ch) - 48
        if full or _overflows(significand, digit, _U64_MAX):
            full = True
            exponent += 1
        else:
            significand = significand * 10 + digit
    for ch in fraction or "":
        digit = ord(ch) - 48
        if _overflows(significand, digit, _U64_MAX):
            break  # the remaining fraction digits are ignored
        significand = significand * 10 + digit
        exponent -= 1
    if exp_digits is not None:
        exp = 0
        for ch in exp_digits:
            digit = ord(ch) - 48
            if _overflows(exp, digit, _I32_MAX):
                if significand and exp_sign != "-":
                    raise OverflowError("number out of range")
                return -0.0 if sign else 0.0
            exp = exp * 10 + digit
        exponent = exponent - exp if exp_sign == "-" else exponent + exp
        exponent = max(-(2**31), min(_I32_MAX, exponent))
    result = float(significand)
    while True:
        if abs(exponent) < len(_POW10):
            if exponent >= 0:
                result *= _POW10[exponent]
                if math.isinf(result):
                    raise OverflowError("number out of range")
            else:
                result /= _POW10[-exponent]
            break
        if result == 0.0:
            break
        if exponent >= 0:
            raise OverflowError("number out of range")
        result /= 1e308
        exponent += 308
    return -result if sign else result


def json_number(value: int | float) -> int | float:
    """The number the reference holds after reading ``json.dumps(value)``: an exact integer or a float.

    Raises :class:`OverflowError` for a number the reference refuses to read (out of range,
    ``NaN``, infinities).
    """
    if isinstance(value, int):
        if _I64_MIN <= value <= _U64_MAX:
            return value
        return serde_f64(str(value))
    if math.isnan(value) or math.isinf(value):
        raise OverflowError("number out of range")
    return serde_f64(repr(value))


def json_value(value: Any, form: HarmonyForm = DEFAULT_FORM) -> str:
    """Compact JSON exactly as serde_json's ``Display`` writes a ``Value`` (floats per ``form``)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        try:
            number = json_number(value)
        except OverflowError:  # only a lenient reading lets such a number in
            return str(value) if isinstance(value, int) else "null"
        return str(number) if isinstance(number, int) else format_float(number, form)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        inner = ",".join(
            f"{json.dumps(str(k), ensure_ascii=False)}:{json_value(v, form)}" for k, v in value.items()
        )
        return "{" + inner + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(json_value(v, form) for v in value) + "]"
    return json.dumps(value)


def _is_enum(schema: Mapping[str, Any]) -> bool:
    values = schema.get("enum")
    return isinstance(values, list) and len(values) > 0


def _get(schema: Any, key: str, missing: Any = None) -> Any:
    """``schema[key]`` when ``schema`` is an object holding ``key``, else ``missing``."""
    return schema.get(key, missing) if isinstance(schema, Mapping) else missing


def _default_comment(schema: Mapping[str, Any], default: Any, form: HarmonyForm) -> str:
    """``default: ...`` as the reference writes it (strings raw; quoted unless the schema is an enum)."""
    if isinstance(default, str):
        return f"default: {default}" if _is_enum(schema) else f'default: "{default}"'
    return f"default: {json_value(default, form)}"


def _with_nullable(variant: Any, type_str: str) -> str:
    if _get(variant, "nullable") is True and "null" not in type_str:
        return f"{type_str} | null"
    return type_str


def to_typescript(schema: Any, indent: str = "", form: HarmonyForm = DEFAULT_FORM) -> str:
    """Render one JSON Schema node (defaults' numbers printed as ``form``'s reference prints them)."""
    one_of = _get(schema, "oneOf")
    if isinstance(one_of, list):
        return _top_one_of(one_of, indent, form)
    type_value = _get(schema, "type")
    if isinstance(type_value, list):
        names = ["number" if t == "integer" else t for t in type_value if isinstance(t, str)]
        if names:
            return " | ".join(names)
    if isinstance(type_value, str):
        if type_value == "object":
            return _object(schema, indent, form)
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
            if "items" in schema:
                return f"{to_typescript(schema['items'], indent, form)}[]"
            return "Array<any>"
        return "any"
    return "any"


def _top_one_of(variants: list[Any], indent: str, form: HarmonyForm) -> str:
    out: list[str] = []
    for variant in variants:
        out.append(f"\n{indent} | ")
        out.append(_with_nullable(variant, to_typescript(variant, f"{indent}   ", form)))
        comments: list[str] = []
        desc = _get(variant, "description")
        if isinstance(desc, str):
            comments.append(desc)
        if isinstance(variant, Mapping) and "default" in variant:
            default = variant["default"]
            comments.append(
                f'default: "{default}"'
                if isinstance(default, str) and not _is_enum(variant)
                else f"default: {json_value(default, form)}"
            )
        if comments:
            out.append(f" // {' '.join(comments)}")
    return "".join(out)


def _object(schema: Mapping[str, Any], indent: str, form: HarmonyForm) -> str:
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
            _property(out, key, val, indent, optional="" if key in required else "?", form=form)
    out.append(f"{indent}}}")
    return "".join(out)


def _property(out: list[str], key: str, val: Any, indent: str, *, optional: str, form: HarmonyForm) -> None:
    title = _get(val, "title")
    if isinstance(title, str):
        out.append(f"{indent}// {title}\n{indent}//\n")
    one_of = _get(val, "oneOf", _MISSING)
    if one_of is _MISSING:
        desc = _get(val, "description")
        if isinstance(desc, str):
            out.append(f"{indent}// {desc}\n")
    examples = _get(val, "examples")
    if isinstance(examples, list) and examples:
        out.append(f"{indent}// Examples:\n")
        out.extend(f'{indent}// - "{ex}"\n' for ex in examples if isinstance(ex, str))
    if isinstance(one_of, list):
        _one_of_property(out, key, val, one_of, indent=indent, optional=optional, form=form)
        return
    type_str = _with_nullable(val, to_typescript(val, f"{indent}    ", form))
    out.append(f"{indent}{key}{optional}: {type_str},")
    if one_of is _MISSING and isinstance(val, Mapping) and "default" in val:
        out.append(f" // {_default_comment(val, val['default'], form)}")
    out.append("\n")


def _one_of_property(
    out: list[str],
    key: str,
    val: Mapping[str, Any],
    variants: list[Any],
    *,
    indent: str,
    optional: str,
    form: HarmonyForm,
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
        out.append(f"{indent}// {_default_comment(val, val['default'], form)}\n")
    out.append(f"{indent}{key}{optional}:\n")
    for i, variant in enumerate(variants):
        out.append(f"{indent} | ")
        out.append(_with_nullable(variant, to_typescript(variant, f"{indent}   ", form)))
        comments: list[str] = []
        if not (i == 0 and desc_above):
            vdesc = _get(variant, "description")
            if isinstance(vdesc, str) and vdesc != prop_desc:
                comments.append(vdesc)
        if isinstance(variant, Mapping) and "default" in variant:
            comments.append(_default_comment(variant, variant["default"], form))
        if comments:
            out.append(f" // {' '.join(comments)}")
        out.append("\n")
    out.append(f"{indent},\n")


def tools_section(tools: Sequence[tuple[str, ToolNamespaceConfig]], form: HarmonyForm = DEFAULT_FORM) -> str:
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
                    params = to_typescript(tool.parameters, "", form)
                    lines.append(f"type {tool.name} = (_: {params}) => any;\n")
                else:
                    lines.append(f"type {tool.name} = () => any;\n")
            lines.append(f"}} // namespace {ns.name}")
        sections.append("\n".join(lines))
    return "\n\n".join(sections)
