"""Child-process side of ``--functions FILE.py`` (run as a script, never imported by gptoss).

``describe FILE``: print a JSON list of the file's public functions with a JSON Schema built from
their type hints and docstrings. ``call FILE NAME``: read the arguments (a JSON object) from
stdin, call the function, print its result (a string as is, anything else as JSON).
"""

from __future__ import annotations

import inspect
import json
import runpy
import sys
import types
import typing
from typing import Any

_SIMPLE = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object", list: "array"}


def _schema(hint: Any) -> dict[str, Any]:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint in _SIMPLE:
        return {"type": _SIMPLE[hint]}
    if origin is typing.Literal:
        return {"type": "string" if all(isinstance(a, str) for a in args) else "number", "enum": list(args)}
    if origin in (list, tuple, set, frozenset) or hint in (list, tuple):
        return {"type": "array", "items": _schema(args[0])} if args else {"type": "array"}
    if origin is dict:
        return {"type": "object"}
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        return (
            _schema(rest[0]) if len(rest) == 1 else {"type": [_schema(a).get("type", "string") for a in rest]}
        )
    return {}


def _describe(path: str) -> list[dict[str, Any]]:
    namespace = runpy.run_path(path)
    out = []
    for name, fn in namespace.items():
        if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != "<run_path>":
            continue
        hints = typing.get_type_hints(fn)
        props: dict[str, Any] = {}
        required = []
        for param in inspect.signature(fn).parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            schema = _schema(hints.get(param.name, str))
            if param.default is inspect.Parameter.empty:
                required.append(param.name)
            elif param.default is None or isinstance(param.default, (str, int, float, bool)):
                schema["default"] = param.default
            props[param.name] = schema
        parameters: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            parameters["required"] = required
        out.append({"name": name, "description": inspect.getdoc(fn) or "", "parameters": parameters})
    return out


def _call(path: str, name: str) -> str:
    namespace = runpy.run_path(path)
    arguments = json.loads(sys.stdin.read() or "{}")
    result = namespace[name](**arguments)
    return result if isinstance(result, str) else json.dumps(result, default=str)


def main() -> int:
    if sys.argv[1] == "describe":
        sys.stdout.write(json.dumps(_describe(sys.argv[2])))
    else:
        sys.stdout.write(_call(sys.argv[2], sys.argv[3]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
