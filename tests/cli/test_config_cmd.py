"""``gptoss config`` through the real CLI (GPTOSS_HOME is a temp dir for every test)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .runner import run


def _home() -> Path:
    return Path(os.environ["GPTOSS_HOME"])


def test_init_set_get_keeps_comments() -> None:
    assert run(["config", "init"]).code == 0
    path = Path(run(["config", "path"]).out.strip())
    assert path.is_relative_to(_home())
    result = run(["config", "set", "prompt.reasoning", "high"])
    assert result.code == 0 and "comments lost" not in result.stderr
    assert run(["config", "get", "prompt.reasoning"]).out == "high\n"  # raw, for shell scripts
    assert "#" in path.read_text()  # the template's comments survived
    assert run(["config", "init"]).code == 1  # exists: needs --force


def test_bad_values_and_keys_are_one_line() -> None:
    for args in (["config", "set", "prompt.reasoning", "bogus"], ["config", "set", "nosuch.key", "1"]):
        result = run(args)
        assert result.code == 1 and result.stderr.count("\n") == 1 and result.stdout == b""


def test_broken_toml_names_file_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[prompt]\nreasoning = 3\n")
    result = run(["config", "show", "--config", str(bad)])
    assert result.code == 1
    assert f"{bad}:2" in result.stderr and "prompt.reasoning" in result.stderr
    bad.write_text("[prompt\n")
    result = run(["ask", "q", "--config", str(bad)])
    assert result.code == 1 and f"{bad}:1" in result.stderr and "column" in result.stderr


def test_show_never_prints_the_api_key(monkeypatch: object) -> None:
    import pytest

    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("GPTOSS_API_KEY", "sk-very-secret")
        result = run(["config", "show"])
    finally:
        mp.undo()
    assert result.code == 0
    assert "sk-very-secret" not in result.out + result.stderr


def test_show_is_a_table_saying_where_each_value_came_from(tmp_path: Path) -> None:
    import pytest

    conf = tmp_path / "c.toml"
    conf.write_text('[prompt]\nreasoning = "high"\n\n[profiles.lab]\nbase_url = "http://10.0.0.5:8000"\n')
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("GPTOSS_MODEL", "gpt-oss-120b")
        result = run(["config", "show", "--config", str(conf)])
    finally:
        mp.undo()
    assert result.code == 0, result.stderr
    rows = {line.split()[0]: line for line in result.out.splitlines()[3:]}
    assert rows["prompt.reasoning"].split()[1:] == ["high", "file", f"{conf}:2"]
    assert rows["profile.base_url"].split()[1] == "http://10.0.0.5:8000"
    assert rows["profile.model"].split()[1:] == ["gpt-oss-120b", "env", "GPTOSS_MODEL"]
    assert rows["display.stats"].split()[1:] == ["false", "default"]
    as_json = json.loads(run(["config", "show", "--config", str(conf), "--json"]).out)
    assert as_json["prompt"]["reasoning"] == "high"


def test_get_prints_numbers_and_tables_as_toml(tmp_path: Path) -> None:
    conf = tmp_path / "c.toml"
    conf.write_text("[profiles.a]\nread_timeout = 30.0\n[profiles.a.options]\ntemperature = 0.5\n")
    assert run(["config", "get", "profiles.a.read_timeout", "--config", str(conf)]).out == "30.0\n"
    options = run(["config", "get", "profiles.a.options", "--config", str(conf)]).out
    assert options == "{ temperature = 0.5 }\n"
