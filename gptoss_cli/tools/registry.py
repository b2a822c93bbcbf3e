"""Tools the model can call: namespaces of tools, found by the recipient of a call.

A *function* tool lives in a developer-message namespace (``functions`` or an MCP server's) and
is called as ``to=functions.NAME`` on the commentary channel with JSON arguments. A *built-in*
tool (``python``, ``browser``) is declared in the system message and called on the analysis
channel (``to=python`` with code, ``to=browser.open`` with JSON). Running a tool never raises
into the client: every failure becomes a :class:`ToolOutput` with ``error=True`` that goes back
to the model.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from gptoss_cli.harmony import ToolDescription, ToolNamespaceConfig

Approval = Literal["ask", "auto"]


@dataclass(frozen=True, slots=True)
class ToolOutput:
    """What a tool returned (or what went wrong), as text for the model."""

    text: str
    error: bool = False


class Tool(Protocol):
    """One callable tool."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def parameters(self) -> Mapping[str, Any] | None:
        """JSON Schema of the argument object, or None when the tool takes free text (python code)."""
        ...

    @property
    def approve(self) -> Approval: ...

    def run(self, arguments: Any) -> ToolOutput:
        """Run with parsed arguments (a dict, or the raw text when ``parameters`` is None)."""
        ...

    def close(self) -> None:
        """Release processes or connections (called once when the session ends)."""
        ...


@dataclass(frozen=True, slots=True)
class Namespace:
    """Tools under one name; ``builtin`` ones are declared in the system message."""

    name: str
    tools: tuple[Tool, ...] = ()
    description: str | None = None
    builtin: bool = False
    declaration: ToolNamespaceConfig | None = None
    """The exact declaration to render (the built-ins use the reference's texts); else derived."""
    single: Tool | None = None
    """A namespace that is itself the tool (``python``: called as ``to=python``)."""

    def config(self) -> ToolNamespaceConfig:
        if self.declaration is not None:
            return self.declaration
        return ToolNamespaceConfig(
            self.name,
            self.description,
            tuple(ToolDescription(t.name, t.description, t.parameters) for t in self.tools),
        )


@dataclass
class Registry:
    """Every namespace a session offers the model."""

    namespaces: dict[str, Namespace] = field(default_factory=dict)

    def add(self, namespace: Namespace) -> None:
        existing = self.namespaces.get(namespace.name)
        if existing is not None and not namespace.builtin and not existing.builtin:
            names = {t.name for t in existing.tools}
            merged = existing.tools + tuple(t for t in namespace.tools if t.name not in names)
            namespace = Namespace(namespace.name, merged, existing.description or namespace.description)
        self.namespaces[namespace.name] = namespace

    def __bool__(self) -> bool:
        return bool(self.namespaces)

    def developer_namespaces(self) -> tuple[ToolNamespaceConfig, ...]:
        return tuple(ns.config() for ns in self.namespaces.values() if not ns.builtin)

    def system_namespaces(self) -> tuple[ToolNamespaceConfig, ...]:
        return tuple(ns.config() for ns in self.namespaces.values() if ns.builtin)

    def tools(self) -> Iterator[tuple[str, Tool]]:
        for ns in self.namespaces.values():
            if ns.single is not None:
                yield ns.name, ns.single
            for tool in ns.tools:
                yield f"{ns.name}.{tool.name}", tool

    def resolve(self, recipient: str) -> Tool | None:
        """The tool a recipient names (``functions.x``, ``python``, ``browser.open``), or None."""
        ns = self.namespaces.get(recipient)
        if ns is not None and ns.single is not None:
            return ns.single
        namespace, dot, name = recipient.rpartition(".")
        if not dot:
            return None
        ns = self.namespaces.get(namespace)
        if ns is None:
            return None
        return next((t for t in ns.tools if t.name == name), None)

    def close(self) -> None:
        for _, tool in self.tools():
            tool.close()
