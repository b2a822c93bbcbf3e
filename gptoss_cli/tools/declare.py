"""Declaring function tools: TOML or JSON tool files, config, and Python functions from a file.

A tool in five lines of TOML::

    [tools.get_weather]
    description = "Current weather for a city"
    command = ["python3", "weather.py"]       # gets the arguments as JSON on stdin
    parameters = { city = "string" }          # shorthand; a full JSON Schema works too
    approve = "auto"                          # or "ask" (the default)

Shorthand parameters map a name to a JSON type (``"string"``, ``"integer"``, ``"number"``,
``"boolean"``, ``"array"``, ``"object"``); a trailing ``?`` makes it optional. Other keys:
``timeout`` (seconds, default 30), ``cwd`` (relative to the file), ``env`` (a table),
``namespace`` (default ``functions``). A JSON file holds the same under ``{"tools": {...}}`` or
as a list of tool objects with a ``name``.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gptoss_cli.bounds import check_depth, load_json, read_file_bytes
from gptoss_cli.errors import ToolError
from gptoss_cli.tools.command import CommandTool, PythonFunctionTool
from gptoss_cli.tools.environment import minimal_env
from gptoss_cli.tools.registry import Namespace, Tool

_TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
"""A tool or namespace name: it is written into the prompt as a TypeScript name, so nothing else."""


def check_name(name: str, where: str, what: str = "tool name") -> str:
    """``name`` when it can be a tool or namespace name, else a ToolError saying why."""
    if not _NAME.fullmatch(name):
        raise ToolError(
            f"{where}: {what} {name!r} is not an identifier",
            hint="use letters, digits, _ and - (starting with a letter or _), at most 64 characters",
        )
    return name


def check_parameters(schema: Mapping[str, Any] | None, where: str) -> None:
    """A parameters schema must be a valid JSON Schema object that the prompt can declare."""
    if schema is None:
        return
    from gptoss_cli.harmony.schema import to_typescript
    from gptoss_cli.tools.calls import invalid_schema

    properties = schema.get("properties")
    if properties is not None and not isinstance(properties, Mapping):
        raise ToolError(f"{where}.parameters.properties: expected an object, got {type(properties).__name__}")
    if isinstance(properties, Mapping):
        for key, sub in properties.items():
            if not isinstance(sub, Mapping | bool):
                raise ToolError(f"{where}.parameters.properties.{key}: expected a schema object")
    required = schema.get("required")
    if required is not None and not (
        isinstance(required, list) and all(isinstance(r, str) for r in required)
    ):
        raise ToolError(f"{where}.parameters.required: expected a list of property names")
    problem = invalid_schema(schema)
    if problem is not None:
        raise ToolError(f"{where}.parameters: not a valid JSON Schema: {problem}")
    try:
        to_typescript(schema)
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError, RecursionError) as exc:
        raise ToolError(f"{where}.parameters: cannot be declared to the model ({exc})") from None


_KEYS = {"description", "command", "parameters", "approve", "timeout", "cwd", "env", "namespace", "name"}


def expand_parameters(raw: Any, where: str) -> dict[str, Any] | None:
    """A JSON Schema from a full schema or the ``{name = "type"}`` shorthand."""
    if raw is None:
        return {"type": "object", "properties": {}}
    if not isinstance(raw, Mapping):
        raise ToolError(f"{where}: parameters must be a table/object")
    if "type" in raw or "properties" in raw or "oneOf" in raw:
        return dict(raw)
    props: dict[str, Any] = {}
    required = []
    for name, kind in raw.items():
        if not isinstance(kind, str) or kind.rstrip("?") not in _TYPES:
            raise ToolError(
                f'{where}.parameters.{name}: expected a JSON type name such as "string", got {kind!r}'
            )
        props[name] = {"type": kind.rstrip("?")}
        if not kind.endswith("?"):
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


def tool_from_table(name: str, raw: Any, *, base: Path, where: str) -> tuple[str, Tool]:
    """One declared tool; returns (namespace, tool)."""
    if not isinstance(raw, Mapping):
        raise ToolError(f"{where}: a tool must be a table/object")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ToolError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")
    command = raw.get("command")
    if isinstance(command, str):
        command = shlex.split(command)
    if not (isinstance(command, list) and command and all(isinstance(c, str) for c in command)):
        raise ToolError(f"{where}.command: expected a list of strings (the program and its arguments)")
    approve = raw.get("approve", "ask")
    if approve not in ("ask", "auto"):
        raise ToolError(f'{where}.approve: expected "ask" or "auto", got {approve!r}')
    timeout = raw.get("timeout", 30)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise ToolError(f"{where}.timeout: expected a positive number of seconds")
    env = raw.get("env", {})
    if not isinstance(env, Mapping) or not all(isinstance(v, str) for v in env.values()):
        raise ToolError(f"{where}.env: expected a table of strings")
    cwd = raw.get("cwd")
    check_name(name, where)
    namespace = raw.get("namespace", "functions")
    if not isinstance(namespace, str):
        raise ToolError(f"{where}.namespace: expected a string")
    check_name(namespace, where, "namespace")
    parameters = expand_parameters(raw.get("parameters"), where)
    check_parameters(parameters, where)
    tool = CommandTool(
        name=name,
        description=str(raw.get("description", "")),
        parameters=parameters,
        command=tuple(command),
        timeout=float(timeout),
        cwd=(base / cwd) if isinstance(cwd, str) else base,
        env=dict(env),
        approve=approve,
    )
    return namespace, tool


def _tables(data: Any, where: str) -> list[tuple[str, Any, str]]:
    if isinstance(data, Mapping) and "tools" in data:
        data = data["tools"]
    if isinstance(data, Mapping):
        return [(str(k), v, f"{where}: tools.{k}") for k, v in data.items()]
    if isinstance(data, list):
        out = []
        for i, item in enumerate(data):
            if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                raise ToolError(f"{where}: tools[{i}] needs a name")
            out.append((item["name"], item, f"{where}: tools[{i}]"))
        return out
    raise ToolError(f"{where}: expected a [tools.NAME] table or a list of tools")


def load_tool_file(path: str | Path) -> list[Namespace]:
    """Namespaces of the tools declared in a TOML or JSON file."""
    file = Path(path).expanduser()
    try:
        raw = read_file_bytes(file)
    except FileNotFoundError:
        raise ToolError(f"{file}: no such tool file") from None
    except OSError as exc:
        raise ToolError(f"{file}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ToolError(
            f"{file}: not UTF-8 text (line {line}, byte {exc.start})",
            hint="a tool file is TOML or JSON (.json) text",
        ) from None
    try:
        data = (
            load_json(text, str(file))
            if file.suffix == ".json"
            else check_depth(tomllib.loads(text), str(file))
        )
    except json.JSONDecodeError as exc:
        raise ToolError(f"{file}:{exc.lineno}: column {exc.colno}: {exc.msg}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ToolError(f"{file}: invalid TOML: {exc}") from None
    return namespaces_from(data, base=file.parent, where=str(file))


def namespaces_from(data: Any, *, base: Path, where: str) -> list[Namespace]:
    """Namespaces from declared tool tables (a file's, or the config's ``[tools]``)."""
    grouped: dict[str, list[Tool]] = {}
    for name, raw, at in _tables(data, where):
        namespace, tool = tool_from_table(name, raw, base=base, where=at)
        grouped.setdefault(namespace, []).append(tool)
    return [Namespace(ns, tuple(tools)) for ns, tools in grouped.items()]


def load_functions_file(path: str | Path, *, approve: str = "ask") -> Namespace:
    """The public functions of a Python file as tools in ``functions`` (described in a child process)."""
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise ToolError(f"{file}: no such Python file")
    driver = Path(__file__).with_name("_functions_driver.py")
    done = subprocess.run(
        [sys.executable, str(driver), "describe", str(file)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=file.parent,
        env=minimal_env(),
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise ToolError(f"{file}: could not load the functions: {last}")
    tools = []
    for spec in json.loads(done.stdout):
        where = f"{file}: {spec['name']}"
        check_name(spec["name"], where)
        check_parameters(spec["parameters"], where)
        tools.append(
            PythonFunctionTool(
                name=spec["name"],
                description=spec["description"],
                parameters=spec["parameters"],
                file=file,
                approve="auto" if approve == "auto" else "ask",
            )
        )
    if not tools:
        raise ToolError(f"{file}: no public functions found")
    return Namespace("functions", tuple(tools))
