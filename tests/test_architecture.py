"""The layering of STYLE.md over every package, checked by walking imports with ast.

Each package sits in a layer and imports only its own modules and lower layers; packages in the
same layer (tools/store) do not import each other; no module takes part in an
import cycle. Imports under ``if TYPE_CHECKING:`` are annotations, not runtime imports, and are
left out of the cycle check (they still may not point upward).
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from gptoss_cli.harmony.tokens import is_special
from gptoss_cli.servers.kinds import AUTO, SERVER_KINDS

PACKAGE = Path(__file__).resolve().parent.parent / "gptoss_cli"

# lowest first; a module may import its own package and any package in a lower layer
LAYERS: tuple[tuple[str, ...], ...] = (
    ("gptoss_cli", "gptoss_cli.errors"),
    ("gptoss_cli.paths", "gptoss_cli.bounds", "gptoss_cli.toolcall"),
    ("gptoss_cli.harmony",),
    ("gptoss_cli.transport",),
    ("gptoss_cli.tools", "gptoss_cli.store"),
    ("gptoss_cli.servers",),
    ("gptoss_cli.config",),  # its kind choices come from servers/kinds.py
    ("gptoss_cli.session",),
    ("gptoss_cli.doctor",),
    ("gptoss_cli.ui",),
    ("gptoss_cli.cli",),
    ("gptoss_cli.__main__",),
)
STDLIB_ONLY = ("gptoss_cli.harmony", "gptoss_cli.transport.sse", "gptoss_cli.errors", "gptoss_cli.toolcall")
# who may import a third-party package (by module prefix)
ALLOWED = {
    "typer": ("gptoss_cli.cli",),
    "click": ("gptoss_cli.cli",),
    "rich": ("gptoss_cli.ui",),
    "prompt_toolkit": ("gptoss_cli.ui",),
    "httpx": ("gptoss_cli.transport", "gptoss_cli.tools"),
    "tiktoken": ("gptoss_cli.harmony.tokens",),
    "tomli_w": ("gptoss_cli.config",),
    "huggingface_hub": ("gptoss_cli.servers.serve",),
    "mcp": ("gptoss_cli.tools.mcp_tools",),
}


class _Imports(ast.NodeVisitor):
    """Absolute names imported by one module, split into runtime and annotation-only imports."""

    def __init__(self, package: str) -> None:
        self.package = package
        self.runtime: set[str] = set()
        self.typing: set[str] = set()
        self.toplevel: set[str] = set()
        """Runtime imports that run when the module is imported (not inside a function)."""
        self._typing_depth = 0
        self._function_depth = 0

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._function_depth += 1
        self.generic_visit(node)
        self._function_depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        guarded = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )
        if guarded:
            self._typing_depth += 1
            for child in node.body:
                self.visit(child)
            self._typing_depth -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def _add(self, names: set[str]) -> None:
        (self.typing if self._typing_depth else self.runtime).update(names)
        if not self._typing_depth and not self._function_depth:
            self.toplevel.update(names)

    def visit_Import(self, node: ast.Import) -> None:
        self._add({alias.name for alias in node.names})

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        # `from a import b` imports a.b when b is a module; both names are recorded
        self._add({module} | {f"{module}.{alias.name}" for alias in node.names})


def _modules() -> dict[str, _Imports]:
    found: dict[str, _Imports] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        visitor = _Imports(package)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        found[name] = visitor
    return found


MODULES = _modules()


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _home(module: str) -> tuple[int, str]:
    """(layer, package) of a module of ours: the longest layer prefix it falls under."""
    best: tuple[int, str] | None = None
    for level, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if _under(module, (prefix,)) and (best is None or len(prefix) > len(best[1])):
                best = (level, prefix)
    assert best is not None, f"{module} is in no layer: add its package to LAYERS"
    return best


def _ours(imported: str) -> str | None:
    """The module of ours an imported name refers to (``a.b.Name`` -> ``a.b``), or None."""
    while imported and imported not in MODULES:
        imported = imported.rpartition(".")[0]
    return imported or None


def test_every_package_is_in_a_layer() -> None:
    for module in MODULES:
        _home(module)
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    listed = {p.split(".")[1] for layer in LAYERS for p in layer if p.count(".") == 1}
    assert packages <= listed, f"packages without a layer: {packages - listed}"


def test_imports_only_go_down_or_stay_home() -> None:
    bad = []
    for module, found in MODULES.items():
        level, home = _home(module)
        for imported in found.runtime | found.typing:
            target = _ours(imported) if imported.startswith("gptoss_cli") else None
            if target is None:
                continue
            t_level, t_home = _home(target)
            if t_home == home:
                continue
            if t_level >= level:
                bad.append(f"{module} imports {target} (layer {t_level} >= {level})")
    assert not bad, "\n".join(sorted(bad))


# The one deliberate cycle: harmony's values offer openai-harmony's ``Message.from_dict`` and
# ``ToolNamespaceConfig.browser()``, which reach the serde rules (convert) and the built-in texts
# (builtins) through imports inside those methods, so importing either module never imports the other
# half-way. Any other cycle, or this one growing, fails.
KNOWN_CYCLES = [
    [
        "gptoss_cli.harmony.builtins",
        "gptoss_cli.harmony.convert",
        "gptoss_cli.harmony.schema",
        "gptoss_cli.harmony.types",
    ]
]


def _graph(*, deferred: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, found in MODULES.items():
        names = found.runtime if deferred else found.toplevel
        targets = {_ours(i) for i in names if i.startswith("gptoss_cli")}
        # a package's __init__ is imported on the way to any of its modules; that edge is not a cycle
        graph[module] = {
            t for t in targets if t is not None and t != module and not module.startswith(t + ".")
        }
    return graph


def test_no_import_cycles_at_import_time() -> None:
    cycles = _cycles(_graph(deferred=False))
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_no_cycles_through_deferred_imports_but_the_known_one() -> None:
    assert _cycles(_graph(deferred=True)) == KNOWN_CYCLES


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_third_party_imports_stay_in_their_layer() -> None:
    for module, found in MODULES.items():
        for imported in found.runtime | found.typing:
            top = imported.split(".")[0]
            if top in ALLOWED:
                assert _under(module, ALLOWED[top]), f"{module} imports {imported}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _under(m, STDLIB_ONLY)))
def test_stdlib_only_layers(module: str) -> None:
    for imported in MODULES[module].runtime:
        top = imported.split(".")[0]
        if top in ("gptoss_cli", "__future__") or top in sys.stdlib_module_names:
            continue
        assert imported == "tiktoken" and module == "gptoss_cli.harmony.tokens", (
            f"{module} imports {imported}"
        )


def test_transport_knows_no_harmony() -> None:
    for module, found in MODULES.items():
        if _under(module, ("gptoss_cli.transport",)):
            assert not [i for i in found.runtime | found.typing if _under(i, ("gptoss_cli.harmony",))], module


def test_no_loose_modules_at_the_root() -> None:
    loose = sorted(p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("__"))
    assert loose == ["bounds", "errors", "paths", "toolcall"]


def _readme_tree() -> dict[str, set[str]]:
    """The README's architecture block: package -> the module names listed under it."""
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Architecture", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    tree: dict[str, set[str]] = {}
    current = None
    for line in block.splitlines()[1:]:
        head = line[2:].split(" ", 1)[0] if line.startswith("  ") and not line.startswith("   ") else ""
        if head.endswith("/"):
            current = head[:-1]
            tree[current] = set()
        elif head.endswith(".py"):
            current = None
            tree.update({w[:-3]: set() for w in line.split() if w.endswith(".py")})
        elif current is not None and line.startswith("              ") and "(" not in line:
            words = line.split()
            if all(w.isidentifier() for w in words):
                tree[current].update(words)
    return tree


def test_the_readme_architecture_matches_the_package_tree() -> None:
    actual: dict[str, set[str]] = {}
    for init in PACKAGE.glob("*/__init__.py"):
        actual[init.parent.name] = {p.stem for p in init.parent.glob("*.py") if p.stem != "__init__"}
    actual.update({p.stem: set() for p in PACKAGE.glob("*.py") if not p.stem.startswith("__")})
    assert _readme_tree() == actual


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
