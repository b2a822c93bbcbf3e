"""repair.py works on the parser's ParseState and three public operations, never on its privates."""

from __future__ import annotations

import ast
from pathlib import Path

from gptoss_cli.harmony import repair

REPAIR = Path(repair.__file__)
#: What a repair may call on the parser it is given (``p``): repair.ParserOps.
OPS = {"end_header", "open_message", "finish_message"}


def _private_uses(source: str) -> list[str]:
    """``name._attr`` (or ``expr._attr``) anywhere but on ``self``/``cls``, with its line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue
        found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def test_repair_touches_no_private_attribute_of_another_object() -> None:
    assert _private_uses(REPAIR.read_text(encoding="utf-8")) == []


def test_the_check_sees_private_attributes_however_reached() -> None:
    source = "def f(p, s):\n    p._held = s.x._y\n    Role._value2member_map_\n    self._ok = cls._ok\n"
    assert _private_uses(source) == ["2: p._held", "2: s.x._y", "3: Role._value2member_map_"]


def test_repairs_call_only_the_declared_parser_operations() -> None:
    tree = ast.parse(REPAIR.read_text(encoding="utf-8"))
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "p"
    }
    assert used == OPS
    declared = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ParserOps")
    assert {n.name for n in declared.body if isinstance(n, ast.FunctionDef)} == OPS
