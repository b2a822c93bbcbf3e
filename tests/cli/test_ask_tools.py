"""Tool calls through ``gptoss ask``: declare, call, approve, run, answer, final."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from gptoss_cli.harmony import get_tokenizer

from ..scripted_server import Reply, ScriptedServer, llamacpp_stream
from .runner import run

CALL = [
    "<|channel|>analysis<|message|>",
    "Need the weather. Call the tool.",
    "<|end|>",
    "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>",
    '{"city": "Paris"}',
]
FINAL = [
    "<|channel|>analysis<|message|>",
    "Got it.",
    "<|end|>",
    "<|start|>assistant<|channel|>final<|message|>",
    "It is sunny in Paris.",
]


def _tool_file(tmp_path: Path, body: str, approve: str = "auto", timeout: float = 10) -> Path:
    script = tmp_path / "weather.py"
    script.write_text(body)
    toml = tmp_path / "tools.toml"
    toml.write_text(
        "[tools.get_weather]\n"
        'description = "Current weather for a city"\n'
        f'command = ["{sys.executable}", "weather.py"]\n'
        'parameters = { city = "string" }\n'
        f'approve = "{approve}"\n'
        f"timeout = {timeout}\n"
    )
    return toml


WEATHER = (
    "import json, sys\nargs = json.load(sys.stdin)\n"
    'print(json.dumps({"city": args["city"], "sky": "sunny"}))\n'
)


def _prompt(server: ScriptedServer, i: int = -1) -> str:
    return get_tokenizer().decode(server.posts[i].json()["prompt"])


def _script(server: ScriptedServer, *answers: list[str]) -> list[str]:
    for pieces in answers:
        server.script("/v1/completions", Reply.sse(llamacpp_stream(pieces)))
    return ["--base-url", server.url, "--kind", "llamacpp", "-n"]


def test_five_line_toml_tool_round_trip(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    args = _script(scripted_server, CALL, FINAL)
    result = run(["ask", "Weather in Paris?", "--tools", str(_tool_file(tmp_path, WEATHER)), *args])
    assert result.code == 0, result.stderr
    assert result.out == "It is sunny in Paris.\n"
    first, second = _prompt(scripted_server, 0), _prompt(scripted_server, 1)
    assert "namespace functions {" in first and "type get_weather = (_: {\ncity: string,\n}) => any;" in first
    assert "Calls to these tools must go to the commentary channel: 'functions'." in first
    # the call ends with <|call|>, the result comes back from the tool, the chain of thought is kept
    assert (
        "<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json"
        '<|message|>{"city": "Paris"}<|call|>' in second
    )
    assert (
        "<|start|>functions.get_weather to=assistant<|channel|>commentary"
        '<|message|>{"city": "Paris", "sky": "sunny"}<|end|>' in second
    )
    assert "Need the weather. Call the tool." in second
    assert "functions.get_weather" in result.stderr


def test_json_output_carries_the_calls(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    args = _script(scripted_server, CALL, FINAL)
    result = run(["ask", "q", "--json", "--tools", str(_tool_file(tmp_path, WEATHER)), *args])
    data = json.loads(result.out)
    assert data["tool_calls"][0]["recipient"] == "functions.get_weather"
    assert data["tool_calls"][0]["decision"].startswith("yes")
    assert [m["role"] for m in data["messages"]] == [
        "assistant",
        "assistant",
        "tool",
        "assistant",
        "assistant",
    ]


def test_approval_needed_without_a_terminal_refuses_and_tells_the_model(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    args = _script(scripted_server, CALL, FINAL)
    result = run(["ask", "q", "--tools", str(_tool_file(tmp_path, WEATHER, approve="ask")), *args])
    assert result.code == 0
    assert "refused" in _prompt(scripted_server, 1)
    assert "sunny" not in _prompt(scripted_server, 1).split("<|call|>")[1].split("<|end|>")[0]


def test_yes_runs_tools_that_ask(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    args = _script(scripted_server, CALL, FINAL)
    result = run(["ask", "q", "-y", "--tools", str(_tool_file(tmp_path, WEATHER, approve="ask")), *args])
    assert result.code == 0
    assert '"sky": "sunny"' in _prompt(scripted_server, 1)


@pytest.mark.parametrize(
    ("call_args", "script", "needle"),
    [
        ('{"city": ', WEATHER, "not valid JSON"),
        ('{"town": "Paris"}', WEATHER, "'city' is a required property"),
        ('{"city": "Paris"}', "import sys\nsys.exit('boom')\n", "exit code 1"),
        ('{"city": "Paris"}', "import time\ntime.sleep(30)\n", "timed out"),
    ],
)
def test_failures_become_tool_messages(
    scripted_server: ScriptedServer, tmp_path: Path, call_args: str, script: str, needle: str
) -> None:
    call = [*CALL[:-1], call_args]
    args = _script(scripted_server, call, FINAL)
    result = run(["ask", "q", "--tools", str(_tool_file(tmp_path, script, timeout=1)), *args])
    assert result.code == 0, result.stderr
    answer = _prompt(scripted_server, 1).split("<|start|>functions.get_weather to=assistant")[1]
    assert needle in answer


def test_unknown_tool(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    call = [
        *CALL[:3],
        "<|start|>assistant<|channel|>commentary to=functions.nope <|constrain|>json<|message|>",
        "{}",
    ]
    args = _script(scripted_server, call, FINAL)
    result = run(["ask", "q", "--tools", str(_tool_file(tmp_path, WEATHER)), *args])
    assert result.code == 0
    assert "unknown tool 'functions.nope'; available tools: functions.get_weather" in _prompt(
        scripted_server, 1
    )


def test_max_steps_bounds_the_loop(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    args = _script(scripted_server, CALL, CALL, CALL)
    result = run(["ask", "q", "--max-steps", "1", "--tools", str(_tool_file(tmp_path, WEATHER)), *args])
    assert result.code == 1
    assert "--max-steps" in result.stderr
    assert len(scripted_server.posts) == 2


def test_a_tool_call_without_tools_is_one_line(scripted_server: ScriptedServer) -> None:
    args = _script(scripted_server, CALL)
    result = run(["ask", "q", *args])
    assert result.code == 1 and "no tools are enabled" in result.stderr


def test_python_functions_file(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    functions = tmp_path / "fns.py"
    functions.write_text(
        "def get_weather(city: str, unit: str = 'C') -> dict:\n"
        '    """Current weather for a city."""\n'
        "    return {'city': city, 'sky': 'sunny', 'unit': unit}\n"
    )
    args = _script(scripted_server, CALL, FINAL)
    result = run(["ask", "q", "-y", "--functions", str(functions), *args])
    assert result.code == 0, result.stderr
    first = _prompt(scripted_server, 0)
    signature = "type get_weather = (_: {\ncity: string,\n" + 'unit?: string, // default: "C"\n}) => any;'
    assert "// Current weather for a city.\n" + signature in first
    assert '{"city": "Paris", "sky": "sunny", "unit": "C"}' in _prompt(scripted_server, 1)


def test_bad_tool_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "t.toml"
    bad.write_text('[tools.x]\ndescription = "d"\n')
    result = run(["ask", "q", "--tools", str(bad), "--base-url", "http://127.0.0.1:9", "--kind", "llamacpp"])
    assert result.code == 1 and "command" in result.stderr and result.stderr.count("\n") == 1


SCHEMA = (
    '{"type": "object", "properties": {"items": {"type": "array", "items": {"type": "string"}}},'
    ' "required": ["items"]}'
)


def test_structured_output(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    good = ["<|channel|>final<|message|>", '{"items": ["milk", "eggs"]}']
    args = _script(scripted_server, good)
    schema_file = tmp_path / "shopping_list.json"
    schema_file.write_text(SCHEMA)
    result = run(["ask", "list", "--schema", str(schema_file), "--json", *args])
    assert result.code == 0, result.stderr
    assert json.loads(result.out)["parsed"] == {"items": ["milk", "eggs"]}
    prompt = _prompt(scripted_server)
    assert "# Response Formats\n\n## shopping_list\n\n{" in prompt


def test_structured_output_mismatch_is_exit_1(scripted_server: ScriptedServer) -> None:
    bad = ["<|channel|>final<|message|>", '{"things": 1}']
    args = _script(scripted_server, bad)
    result = run(["ask", "list", "--schema", SCHEMA, *args])
    assert result.code == 1
    assert result.out == '{"things": 1}\n'
    assert "does not match the schema" in result.stderr and "'items' is a required property" in result.stderr


def test_invalid_schema_is_one_line() -> None:
    result = run(
        ["ask", "q", "--schema", '{"type": 12}', "--base-url", "http://127.0.0.1:9", "--kind", "llamacpp"]
    )
    assert result.code == 1 and "not a valid JSON Schema" in result.stderr


def test_tools_declared_in_the_config(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    (tmp_path / "weather.py").write_text(WEATHER)
    config = tmp_path / "config.toml"
    config.write_text(
        "[tools.get_weather]\n"
        'description = "Current weather for a city"\n'
        f'command = ["{sys.executable}", "weather.py"]\n'
        'parameters = { city = "string" }\n'
        'approve = "auto"\n'
    )
    args = _script(scripted_server, CALL, FINAL)
    result = run(["ask", "q", "--config", str(config), *args])
    assert result.code == 0, result.stderr
    assert '"sky": "sunny"' in _prompt(scripted_server, 1)


def test_bad_tool_in_the_config_names_file_line_and_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[prompt]\nreasoning = "low"\n\n[tools.get_weather]\ncommand = 42\n')
    result = run(["ask", "q", "--config", str(config), "--base-url", "http://127.0.0.1:9"])
    assert result.code == 1
    assert f"{config}:5" in result.stderr and "tools.get_weather.command" in result.stderr


def test_an_mcp_server_from_the_config_in_a_full_loop(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    server_script = Path(__file__).resolve().parents[1] / "tools" / "mcp_server.py"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[mcp.arith]\ncommand = ["{sys.executable}", "{server_script}", "stdio"]\napprove = "auto"\n'
    )
    call = ["<|channel|>commentary to=arith.add <|constrain|>json<|message|>", '{"a": 2, "b": 3}']
    args = _script(scripted_server, call, ["<|channel|>final<|message|>", "5"])
    result = run(["ask", "2+3?", "--config", str(config), *args])
    assert result.code == 0, result.stderr
    assert result.out == "5\n"
    first, second = _prompt(scripted_server, 0), _prompt(scripted_server, 1)
    assert "namespace arith {" in first and "type add = (_: {" in first
    assert "<|start|>arith.add to=assistant<|channel|>commentary<|message|>2 + 3 = 5<|end|>" in second


def test_the_python_tool_keeps_state_across_calls_in_a_loop(scripted_server: ScriptedServer) -> None:
    first_call = ["<|channel|>analysis to=python code<|message|>", "x = 20\nx + 1"]
    second_call = ["<|channel|>analysis to=python code<|message|>", "x * 2"]
    args = _script(scripted_server, first_call, second_call, ["<|channel|>final<|message|>", "40"])
    result = run(["ask", "compute", "--python", "-y", *args])
    assert result.code == 0, result.stderr
    assert result.out == "40\n"
    first, second, third = (_prompt(scripted_server, i) for i in range(3))
    assert "## python\n\nUse this tool to execute Python code in your chain of thought." in first
    assert "<|start|>python to=assistant<|channel|>analysis<|message|>21<|end|>" in second
    assert "<|start|>python to=assistant<|channel|>analysis<|message|>40<|end|>" in third


def _config_with_tool(tmp_path: Path, extra: str) -> Path:
    (tmp_path / "weather.py").write_text(WEATHER)
    config = tmp_path / "config.toml"
    config.write_text(
        extra + "[tools.get_weather]\n"
        'description = "Current weather for a city"\n'
        f'command = ["{sys.executable}", "weather.py"]\n'
        'parameters = { type = "object", properties = { days = { type = "number", default = 1e21 } } }\n'
        'approve = "auto"\n'
    )
    return config


@pytest.mark.parametrize(
    "extra",
    [
        '[prompt]\nharmony = "oss"\n',  # every profile
        '[profiles.vllm]\nkind = "llamacpp"\nharmony = "oss"\n',  # this server only (the file's only profile)
        '[prompt]\nharmony = "openai"\n[profiles.vllm]\nkind = "llamacpp"\nharmony = "oss"\n',  # profile wins
    ],
)
def test_the_oss_form_from_the_config_renders_every_prompt(
    scripted_server: ScriptedServer, tmp_path: Path, extra: str
) -> None:
    config = _config_with_tool(tmp_path, extra)
    args = _script(scripted_server, CALL, FINAL)
    result = run(["ask", "Weather in Paris?", "--config", str(config), *args])
    assert result.code == 0, result.stderr
    first, second = _prompt(scripted_server, 0), _prompt(scripted_server, 1)
    assert "days?: number, // default: 1e+21" in first
    assert (
        "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
        '<|message|>{"city": "Paris"}<|call|>' in second
    )
    assert "<|start|>functions.get_weather<|channel|>commentary to=assistant<|message|>" in second


def test_the_openai_form_is_the_default(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    config = _config_with_tool(
        tmp_path, '[profiles.other]\nharmony = "oss"\n[profiles.mine]\nkind = "llamacpp"\n'
    )
    args = _script(scripted_server, CALL, FINAL)
    result = run(["ask", "q", "--config", str(config), "--profile", "mine", *args])
    assert result.code == 0, result.stderr
    assert "days?: number, // default: 1e21" in _prompt(scripted_server, 0)
    assert "<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json" in _prompt(
        scripted_server, 1
    )
