"""The layering of STYLE.md, checked by walking imports with ast."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from gptoss_cli.harmony.tokens import is_special
from gptoss_cli.servers.kinds import AUTO, SERVER_KINDS

PACKAGE = Path(__file__).resolve().parent.parent / "gptoss_cli"
STDLIB_ONLY = ("gptoss_cli.harmony", "gptoss_cli.transport.sse", "gptoss_cli.errors")
# who may import a third-party package (by module prefix)
ALLOWED = {
    "typer": ("gptoss_cli.cli",),
    "click": ("gptoss_cli.cli",),
    "rich": ("gptoss_cli.ui",),
    "prompt_toolkit": ("gptoss_cli.ui",),
    "httpx": ("gptoss_cli.transport.client", "gptoss_cli.transport.wire", "gptoss_cli.tools"),
    "tiktoken": ("gptoss_cli.harmony.tokens",),
}
# a layer may not import these (upward) layers
FORBIDDEN_UP = {
    "gptoss_cli.harmony": (
        "gptoss_cli.transport.client",
        "gptoss_cli.session.turn",
        "gptoss_cli.ui",
        "gptoss_cli.cli",
    ),
    "gptoss_cli.transport.client": (
        "gptoss_cli.harmony",
        "gptoss_cli.session.turn",
        "gptoss_cli.ui",
        "gptoss_cli.cli",
    ),
    "gptoss_cli.transport.sse": (
        "gptoss_cli.harmony",
        "gptoss_cli.transport.client",
        "gptoss_cli.session.turn",
        "gptoss_cli.ui",
        "gptoss_cli.cli",
    ),
    "gptoss_cli.session.turn": ("gptoss_cli.ui", "gptoss_cli.cli"),
    "gptoss_cli.ui": ("gptoss_cli.cli",),
}


def _modules() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        imports: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imports.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                    imports.add(target)
                    if node.module is None:
                        imports.update(f"{target}.{alias.name}" for alias in node.names)
                else:
                    imports.add(node.module or "")
        found[name] = imports
    return found


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_third_party_imports_stay_in_their_layer() -> None:
    for module, imports in _modules().items():
        for imported in imports:
            top = imported.split(".")[0]
            if top in ALLOWED:
                assert _under(module, ALLOWED[top]), f"{module} imports {imported}"


def test_stdlib_only_layers() -> None:
    import sys

    for module, imports in _modules().items():
        if not _under(module, STDLIB_ONLY):
            continue
        for imported in imports:
            top = imported.split(".")[0]
            if top in ("gptoss_cli", "__future__") or top in sys.stdlib_module_names:
                continue
            assert imported == "tiktoken" and module == "gptoss_cli.harmony.tokens", (
                f"{module} imports {imported}"
            )


def test_no_upward_imports() -> None:
    for module, imports in _modules().items():
        for layer, forbidden in FORBIDDEN_UP.items():
            if _under(module, (layer,)):
                bad = [i for i in imports if _under(i, forbidden)]
                assert not bad, f"{module} imports {bad}"


def test_nothing_imports_the_cli() -> None:
    for module, imports in _modules().items():
        if not _under(module, ("gptoss_cli.cli", "gptoss_cli.__main__")):
            assert not [i for i in imports if _under(i, ("gptoss_cli.cli",))], module


# --------------------------------------------------------------------- per-kind data, Harmony rules

SERVER_KIND_NAMES = frozenset({*SERVER_KINDS, AUTO})
HARMONY_ID = re.compile(r"(?<![\d.])\d{6}(?![\d.])")


def _sources(outside: str) -> list[tuple[str, ast.AST]]:
    """Every module of the package but those under ``gptoss_cli/<outside>``, parsed."""
    skip = PACKAGE / outside
    return [
        (str(path.relative_to(PACKAGE.parent)), ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(PACKAGE.rglob("*.py"))
        if skip not in path.parents
    ]


def _names_a_kind(node: ast.AST) -> bool:
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name.lower().endswith("kind")


def _kind_literals(node: ast.AST) -> list[str]:
    items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return [i.value for i in items if isinstance(i, ast.Constant) and i.value in SERVER_KIND_NAMES]


def _kind_comparisons(tree: ast.AST) -> list[tuple[int, str]]:
    """``kind == "vllm"``, ``info.kind in ("ollama", ...)``, ``match kind: case "llamacpp"``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_names_a_kind(o) for o in operands):
                found.extend((node.lineno, name) for o in operands for name in _kind_literals(o))
        elif isinstance(node, ast.Match) and _names_a_kind(node.subject):
            for case in node.cases:
                for pattern in ast.walk(case.pattern):
                    if isinstance(pattern, ast.MatchValue):
                        found.extend((pattern.lineno, name) for name in _kind_literals(pattern.value))
    return found


def test_the_kind_comparison_finder_finds_them() -> None:
    code = (
        'if info.kind == "ollama": pass\n'
        'if kind in ("vllm", "sglang"): pass\n'
        'if "auto" != profile_kind: pass\n'
        'match kind:\n    case "llamacpp": pass\n'
        'if entry.kind == "pair" or endpoint == "ollama": pass\n'  # not server kinds
    )
    assert sorted(_kind_comparisons(ast.parse(code))) == [
        (1, "ollama"), (2, "sglang"), (2, "vllm"), (3, "auto"), (5, "llamacpp"),
    ]  # fmt: skip


def test_no_module_outside_servers_compares_a_server_kind_with_a_name() -> None:
    """Per-server behaviour is profile data (STYLE.md): adding a kind touches servers/ only."""
    found = [
        f"{path}:{line}: {name!r}"
        for path, tree in _sources("servers")
        for line, name in _kind_comparisons(tree)
    ]
    assert not found, "compare with a profile field instead:\n" + "\n".join(found)


def _harmony_ids(tree: ast.AST) -> list[tuple[int, int]]:
    """Special-token ids written as numbers, or inside strings, in one module."""
    found: list[tuple[int, int]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
            continue
        if isinstance(node.value, int):
            numbers = [node.value]
        elif isinstance(node.value, str):
            numbers = [int(m) for m in HARMONY_ID.findall(node.value)]
        else:
            continue
        found.extend((node.lineno, n) for n in numbers if is_special(n))
    return found


def test_the_harmony_id_finder_finds_them() -> None:
    code = (
        "STOP = [200002, 12]\n"
        'FIX = f"send stop_token_ids [200012, {x}] (or 199999); not 1999999 nor 200002.5"\n'
        "N = 201089\n"
    )
    assert sorted(_harmony_ids(ast.parse(code))) == [(1, 200002), (2, 199999), (2, 200012)]


def test_no_harmony_token_id_outside_harmony() -> None:
    """Every format rule lives in harmony/: elsewhere a special token is named, never numbered."""
    found = [
        f"{path}:{line}: {token}" for path, tree in _sources("harmony") for line, token in _harmony_ids(tree)
    ]
    assert not found, "use the names in gptoss_cli.harmony.tokens:\n" + "\n".join(found)
