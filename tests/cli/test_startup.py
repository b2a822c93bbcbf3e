"""What the light paths import: --version and --help load Typer only; piped ask loads no UI toolkit."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ..scripted_server import Reply, ScriptedServer, llamacpp_stream

HEAVY = ("httpx", "rich", "prompt_toolkit", "tiktoken", "jsonschema", "mcp")
PROBE = (
    "import json, sys\n"
    "from gptoss_cli.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)) + '\\n')\n"
    "sys.exit(code)\n"
)


def _modules(args: list[str]) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    line = [x for x in done.stderr.splitlines() if x.startswith("MODULES ")][-1]
    return set(json.loads(line[len("MODULES ") :])), done


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["ask", "--help"]])
def test_version_and_help_load_nothing_heavy(args: list[str]) -> None:
    modules, done = _modules(args)
    assert done.returncode == 0
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_piped_ask_loads_no_terminal_ui(scripted_server: ScriptedServer) -> None:
    scripted_server.script(
        "/v1/completions", Reply.sse(llamacpp_stream(["<|channel|>final<|message|>", "hi"]))
    )
    modules, done = _modules(["ask", "q", "-n", "--base-url", scripted_server.url, "--kind", "openai"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == "hi\n"
    assert "prompt_toolkit" not in modules and "rich.markdown" not in modules
    assert "rich" not in modules and "pygments" not in modules  # httpx's own CLI is not loaded either


def test_a_configured_url_costs_no_discovery(scripted_server: ScriptedServer) -> None:
    scripted_server.script(
        "/v1/completions", Reply.sse(llamacpp_stream(["<|channel|>final<|message|>", "hi"]))
    )
    modules, done = _modules(["ask", "q", "-n", "--base-url", scripted_server.url, "--kind", "openai"])
    assert done.returncode == 0, done.stderr
    assert "gptoss_cli.servers.discover" not in modules
    assert "concurrent.futures" not in modules


def test_version_builds_no_command() -> None:
    modules, done = _modules(["--version"])
    assert done.returncode == 0
    assert not {m for m in modules if m.endswith(("_cmd", "_cmds"))}, sorted(modules)


@pytest.mark.parametrize("args", [["history", "list"], ["history", "list", "-q", "word", "-l", "5"]])
def test_history_list_loads_no_pydantic_and_no_other_command(args: list[str]) -> None:
    modules, done = _modules(args)
    assert done.returncode == 0, done.stderr
    assert "pydantic" not in modules
    assert {m for m in modules if m.endswith(("_cmd", "_cmds"))} == {"gptoss_cli.cli.history_cmd"}
