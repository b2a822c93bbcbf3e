"""The one tool-call value: its stored form, its round trip, and that no second shape of it exists."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from gptoss_cli.toolcall import ToolCall

PACKAGE = Path(__file__).resolve().parent.parent / "gptoss_cli"
FIELDS = {"recipient", "arguments", "decision", "output"}


def test_the_stored_form_is_the_one_files_have_always_had() -> None:
    """Keys, their order and their types as conversation files and ``ask --json`` wrote them before."""
    call = ToolCall("functions.get_weather", '{"city": "Paris"}', "yes (--yes)", '{"sky": "sunny"}', False)
    assert json.dumps(call.to_dict()) == (
        '{"recipient": "functions.get_weather", "arguments": "{\\"city\\": \\"Paris\\"}", '
        '"decision": "yes (--yes)", "output": "{\\"sky\\": \\"sunny\\"}", "error": false}'
    )


def test_missing_or_null_fields_read_as_their_defaults() -> None:
    """A call from an older or hand-written file: only what it says, the rest as gptoss always read it."""
    assert ToolCall.from_dict({"recipient": "python"}) == ToolCall("python", "", "saved", "", False)
    assert ToolCall.from_dict({"recipient": None, "arguments": None, "decision": None, "error": "yes"}) == (
        ToolCall("tool", "", "saved", "", False)
    )
    assert ToolCall.from_dict({}).decision == "saved"


_text = st.text(max_size=40)
_calls = st.builds(
    ToolCall, st.text(min_size=1, max_size=20), _text, st.text(min_size=1, max_size=20), _text, st.booleans()
)


@given(_calls)
def test_round_trip_through_json(call: ToolCall) -> None:
    """What is written reads back as the same value (a non-empty recipient and decision: an empty one
    reads as its default, as files without them always have)."""
    assert ToolCall.from_dict(json.loads(json.dumps(call.to_dict()))) == call


def _shapes() -> list[str]:
    """Every class in the package whose annotated fields include a tool call's, and every dict display
    with a tool call's keys, each named with its module."""
    found: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                names = {
                    s.target.id
                    for s in node.body
                    if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
                }
                if names >= FIELDS:
                    found.append(f"{module} class {node.name}")
            elif isinstance(node, ast.Dict):
                keys = {
                    k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)
                }
                if keys >= FIELDS:
                    found.append(f"{module} dict (line {node.lineno})")
    return found


def test_a_tool_call_has_one_shape_in_the_whole_package() -> None:
    """No second class (dataclass, TypedDict, NamedTuple...) nor dict literal with the fields of a tool
    call: the agent loop, the session, the store, --json, show and replay all hold :class:`ToolCall`."""
    shapes = _shapes()
    assert shapes[0] == "gptoss_cli.toolcall class ToolCall"
    assert [s for s in shapes[1:] if not s.startswith("gptoss_cli.toolcall dict")] == []  # to_dict only
    assert len(shapes) == 2
