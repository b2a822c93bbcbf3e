"""Bad files get one clear line naming the file, never "internal error" (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .runner import run

DEEP = "[" * 100_000 + "]" * 100_000


def _one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("gptoss: error: ") and "internal error" not in lines[0], stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize("command", [["render"], ["show"], ["history", "import"], ["parse", "--tokens"]])
def test_json_nested_100k_deep(tmp_path: Path, command: list[str]) -> None:
    file = tmp_path / "deep.json"
    file.write_text(DEEP)
    result = run([*command, str(file)])
    assert result.code == 1
    line = _one_line_error(result.stderr)
    assert str(file) in line and "JSON nesting depth limit (100 levels)" in line
    assert "GPTOSS_MAX_JSON_DEPTH" in line


def test_deep_json_on_stdin_for_history_import() -> None:
    result = run(["history", "import", "-"], stdin=DEEP.encode())
    assert result.code == 1
    assert "<stdin>" in _one_line_error(result.stderr)


def test_the_depth_limit_can_be_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "c.json"
    nested: object = "x"
    for _ in range(150):
        nested = [nested]
    file.write_text(json.dumps({"messages": [{"role": "user", "content": "hi", "extra": nested}]}))
    assert "JSON nesting depth" in run(["render", str(file)]).stderr
    monkeypatch.setenv("GPTOSS_MAX_JSON_DEPTH", "1000")
    assert "JSON nesting depth" not in run(["render", str(file)]).stderr


def test_a_conversation_file_over_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPTOSS_MAX_FILE_BYTES", "100")
    file = tmp_path / "big.json"
    file.write_text(json.dumps({"messages": [{"role": "user", "content": "x" * 200}]}))
    for command in (["render"], ["show"], ["history", "import"]):
        result = run([*command, str(file)])
        assert result.code == 1
        line = _one_line_error(result.stderr)
        assert str(file) in line and "file size limit (100 bytes)" in line and "GPTOSS_MAX_FILE_BYTES" in line


def test_a_tool_message_without_a_name_names_the_file_and_message(tmp_path: Path) -> None:
    file = tmp_path / "c.json"
    file.write_text(
        json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "tool", "content": "x"}]})
    )
    for command in (["render"], ["show"]):
        line = _one_line_error(run([*command, str(file)]).stderr)
        assert str(file) in line and "messages[1]" in line and "name" in line


def test_harmony_format_errors_name_the_file(tmp_path: Path) -> None:
    file = tmp_path / "c.json"
    file.write_text(json.dumps({"messages": [{"role": "user", "content": 5}]}))
    line = _one_line_error(run(["render", str(file)]).stderr)
    assert f"{file}: messages[0].content" in line


def test_negative_token_ids_are_refused(tmp_path: Path) -> None:
    file = tmp_path / "ids.json"
    file.write_text("[200006, -1, -5]")
    result = run(["parse", "--tokens", str(file)])
    assert result.code == 1 and result.out == ""
    assert "token ids (integers >= 0)" in _one_line_error(result.stderr)


# ------------------------------------------------------------------------------------------ tool files

SERVER = ["--base-url", "http://127.0.0.1:9"]  # never reached: the tool file is checked first


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bin.toml", bytes(range(256)) * 4, "not UTF-8 text"),
        ("bin.json", b"\xff\xfe\x00garbage", "not UTF-8 text"),
        (
            "props.toml",
            b'[tools.f]\ncommand = ["true"]\nparameters = {type = "object", properties = [1, 2]}\n',
            "tools.f.parameters.properties: expected an object, got list",
        ),
        (
            "required.json",
            b'{"tools": {"f": {"command": ["true"], "parameters": {"type": "object", "required": "x"}}}}',
            "parameters.required: expected a list",
        ),
        (
            "badname.json",
            b'{"tools": {"type big; rm -rf": {"command": ["true"]}}}',
            "tool name 'type big; rm -rf' is not an identifier",
        ),
        (
            "badns.toml",
            b'[tools.f]\ncommand = ["true"]\nnamespace = "a b"\n',
            "namespace 'a b' is not an identifier",
        ),
        ("noname.json", b'[{"command": ["true"]}]', "tools[0] needs a name"),
        ("deep.json", DEEP.encode(), "JSON nesting depth limit"),
    ],
)
def test_bad_tool_files(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    file = tmp_path / name
    file.write_bytes(content)
    result = run(["ask", "hi", "-n", "--tools", str(file), *SERVER])
    assert result.code == 1
    line = _one_line_error(result.stderr)
    assert str(file) in line and expected in line


def test_a_bad_functions_file_schema_is_refused_when_loaded(tmp_path: Path) -> None:
    file = tmp_path / "f.py"
    file.write_text("def ok(x: int) -> int:\n    '''Fine.'''\n    return x\n")
    result = run(["ask", "hi", "-n", "--functions", str(file), *SERVER])
    assert "cannot connect" in result.stderr  # the file was fine: the (absent) server was next
