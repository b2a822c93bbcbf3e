"""JSON Schema to TypeScript and JSON numbers: rules the differential tests found.

Every expected value here is what openai-harmony 0.0.8 rendered for the same input.
"""

from __future__ import annotations

from typing import Any

import pytest

from gptoss_cli.errors import ConversationFormatError
from gptoss_cli.harmony import Conversation, to_typescript
from gptoss_cli.harmony.schema import json_value, serde_f64


def test_one_of_null_hides_the_property_description_and_default() -> None:
    # the reference asks `get("oneOf").is_none()`: a present null is not "none"
    schema = {"type": "object", "properties": {"a": {"oneOf": None, "description": "x", "default": 1}}}
    assert to_typescript(schema) == "{\na?: any,\n}"


def test_one_of_absent_keeps_them() -> None:
    schema = {"type": "object", "properties": {"a": {"description": "x", "default": 1}}}
    assert to_typescript(schema) == "{\n// x\na?: any, // default: 1\n}"


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "array", "items": None}, "any[]"),
        ({"type": "object", "properties": {"a": {"type": "array", "items": None}}}, "{\na?: any[],\n}"),
        ({"type": "array"}, "Array<any>"),
    ],
)
def test_items_null_is_still_items(schema: Any, expected: str) -> None:
    assert to_typescript(schema) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # serde_json (no float_roundtrip) scales by powers of ten in rounded steps: one ulp off
        (2.7715077941825975e-163, "2.7715077941825978e-163"),
        (3787486613700846376994916561653064220669, "3.787486613700847e39"),
        # exact where the steps are exact
        (12345678901234567890123, "1.2345678901234568e22"),
        (2**64, "1.8446744073709552e19"),
        (2**64 - 1, "18446744073709551615"),
        (-(2**63), "-9223372036854775808"),
        (1.7976931348623157e308, "1.7976931348623157e308"),
        (5e-324, "5e-324"),
        (1e21, "1e21"),
        (1e-7, "1e-7"),
        (3.0, "3.0"),
        (-0.0, "-0.0"),
        (0.1, "0.1"),
    ],
)
def test_numbers_print_as_the_reference_reads_them(value: float, expected: str) -> None:
    assert json_value(value) == expected
    schema = {"type": "object", "properties": {"a": {"type": "number", "default": value}}}
    assert to_typescript(schema) == f"{{\na?: number, // default: {expected}\n}}"


@pytest.mark.parametrize("text", ["1e400", "-1e400", "1" + "0" * 400, "1e2147483648"])
def test_serde_refuses_numbers_beyond_a_float(text: str) -> None:
    with pytest.raises(OverflowError):
        serde_f64(text)


@pytest.mark.parametrize(
    ("text", "expected"), [("1e-2147483648", 0.0), ("-0.0", -0.0), ("0e999999999999", 0.0)]
)
def test_serde_underflow_is_zero(text: str, expected: float) -> None:
    assert serde_f64(text) == expected
    assert str(serde_f64(text)) == str(expected)


def _with_parameters(parameters: Any, **extra: Any) -> dict[str, Any]:
    tool = {"name": "f", "description": "d", "parameters": parameters}
    content = {"type": "developer_content", "tools": {"functions": {"name": "functions", "tools": [tool]}}}
    return {"messages": [{"role": "developer", "content": [content], **extra}]}


@pytest.mark.parametrize(
    "data",
    [
        _with_parameters({"type": "object", "properties": {"a": {"default": 10**400}}}),
        _with_parameters({"type": "object", "x-unused": [float("inf")]}),
        _with_parameters({"type": "object"}, unknown_key=10**400),  # even under a key nobody reads
    ],
)
def test_out_of_range_numbers_make_a_message_unreadable(data: dict[str, Any]) -> None:
    with pytest.raises(ConversationFormatError, match="number out of range"):
        Conversation.from_dict(data, strict=True)
    Conversation.from_dict(data)  # a lenient reading keeps them


def test_out_of_range_numbers_outside_messages_are_ignored() -> None:
    # serde_json skips keys of the conversation object it does not know without reading numbers
    data = {"messages": [{"role": "user", "content": "x"}], "meta": 10**400}
    assert len(Conversation.from_dict(data, strict=True).messages) == 1
