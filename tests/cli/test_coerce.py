"""Option values without pydantic (cli/coerce.py) give Typer's own results and messages, and each
command line registers the commands it needs (cli/__init__.modules_for)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
import typer.main
from typer import _click
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param

from gptoss_cli.cli import COMMAND_MODULES, app, modules_for

ALL = sorted(set(COMMAND_MODULES.values()))
for _module in ALL:
    importlib.import_module(f"gptoss_cli.cli.{_module}")

SAMPLES: dict[str, list[Any]] = {
    "str": ["x", "", " spaced ", "é", "\udcff", "-", 7, b"bytes", None],
    "int": ["7", "007", "0", "+3", " 4 ", "1_000", "1.0", "-1", "x", "", "１２", "9" * 25, 20, 0, -3, True],
    "bool": [True, False, "true", "no", "", "maybe", 1, None],
    "list": [("a", "b"), ["a"], (), ("a", 1), "ab", None],
}


def _params() -> Iterator[tuple[str, _click.Command, Any]]:
    def walk(command: _click.Command, path: str) -> Iterator[tuple[str, _click.Command, Any]]:
        for param in command.params:
            yield f"{path} {param.name}", command, param
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, f"{path} {name}")

    yield from walk(typer.main.get_command(app), "gptoss")


def _kind(annotation: Any) -> str:
    if annotation in (str, int, bool):
        return str(annotation.__name__)
    return "list" if annotation == list[str] else "other"


def _outcome(runtime: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any]:
    try:
        result = runtime.coerce(value, param=param, ctx=ctx)
    except BadParameter as exc:
        return "error", exc.format_message()
    return type(result).__name__, result


def test_every_parameter_of_every_command_coerces_as_typer_does() -> None:
    kinds: dict[str, int] = {}
    for where, command, param in _params():
        kind = _kind(param.type_descriptor.annotation)
        kinds[kind] = kinds.get(kind, 0) + 1
        ctx = _click.Context(command)
        ours = param.get_runtime_param()
        typers = build_runtime_param(param.type_descriptor)  # Typer's own, through pydantic
        for value in SAMPLES.get(kind, SAMPLES["str"]):
            assert _outcome(ours, value, param, ctx) == _outcome(typers, value, param, ctx), (where, value)
    # the plain kinds are all there (a new annotation kind would go to Typer's path, also checked above)
    assert {"str", "int", "bool", "list"} <= set(kinds), kinds


def test_plain_values_take_the_fast_path_and_others_reach_typers_messages() -> None:
    limit = next(p for where, _, p in _params() if where == "gptoss history list limit")
    runtime = limit.get_runtime_param()
    assert type(runtime).__name__ == "Plain"
    ctx = _click.Context(typer.main.get_command(app))
    assert runtime.coerce("5", param=limit, ctx=ctx) == 5
    assert not runtime.typer_param  # no pydantic adapter built for a plain value
    with pytest.raises(BadParameter, match="greater than or equal to 0"):
        runtime.coerce("-1", param=limit, ctx=ctx)
    assert runtime.typer_param  # built when a value needed it


def test_the_command_table_names_the_module_that_registers_each_command() -> None:
    registered: dict[str, str] = {}
    for info in app.registered_commands:
        assert info.callback is not None
        name = info.name or info.callback.__name__.replace("_", "-")
        registered[name] = info.callback.__module__
    for group in app.registered_groups:
        assert group.name is not None
        callback = group.typer_instance.registered_commands[0].callback
        assert callback is not None
        registered[group.name] = callback.__module__
    assert registered == {name: f"gptoss_cli.cli.{module}" for name, module in COMMAND_MODULES.items()}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--version"], []),
        (["--debug", "--version"], []),
        (["--version", "ask"], []),
        (["history", "list", "-q", "ask"], ["history_cmd"]),
        (["--debug", "ask", "hi"], ["ask_cmd"]),
        (["diff", "a", "b"], ["show_cmd"]),
        ([], ALL),
        (["--help"], ALL),
        (["-h", "--version"], ALL),
        (["histroy"], ALL),
        (["--", "ask"], ALL),
    ],
)
def test_a_command_line_registers_what_it_can_reach(args: list[str], expected: list[str]) -> None:
    assert modules_for(args) == expected


def test_a_completion_call_registers_every_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from gptoss_cli.cli import completion_cmd

    monkeypatch.setenv(completion_cmd.COMPLETE_VAR, "bash_complete")
    assert modules_for(["ask"]) == ALL
