"""The layering of STYLE.md, checked by walking imports with ast."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "gptoss_cli"
STDLIB_ONLY = ("gptoss_cli.harmony", "gptoss_cli.transport.sse", "gptoss_cli.errors", "gptoss_cli.toolcall")
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
    # siblings below session/: neither imports the other; both share the tool-call value below them
    "gptoss_cli.tools": ("gptoss_cli.store", "gptoss_cli.session", "gptoss_cli.ui", "gptoss_cli.cli"),
    "gptoss_cli.store": ("gptoss_cli.tools", "gptoss_cli.session", "gptoss_cli.ui", "gptoss_cli.cli"),
    "gptoss_cli.toolcall": (
        "gptoss_cli.tools",
        "gptoss_cli.store",
        "gptoss_cli.session",
        "gptoss_cli.ui",
        "gptoss_cli.cli",
    ),
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
