"""Tools get a minimal environment: an allow-list, a HOME of their own, never a key (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gptoss_cli.tools import environment
from gptoss_cli.tools.command import CommandTool
from gptoss_cli.tools.environment import looks_secret, minimal_env
from gptoss_cli.tools.python_tool import PythonTool

_DUMP = "import json, os\nprint(json.dumps(dict(os.environ)))"


@pytest.fixture(autouse=True)
def _fresh_protection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(environment, "_protected", set())


def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_LLM", "sk-profile-key")  # a profile's api_key_env: no telltale name
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-token")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-key")
    monkeypatch.setenv("DB_PASSWORD_FILE", "/secret")
    monkeypatch.setenv("LC_API_KEY", "sk-in-an-allowed-prefix")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("HOME", "/home/the-user")


def test_the_python_tool_sees_no_key_and_its_own_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _secrets(monkeypatch)
    environment.protect(["MY_LLM"])
    tool = PythonTool(timeout=20, workdir=tmp_path / "work")
    try:
        out = tool.run(_DUMP)
    finally:
        tool.close()
    assert not out.error, out.text
    seen = json.loads(out.text)
    assert "sk-" not in out.text and "ghp-" not in out.text and "aws-key" not in out.text
    assert not {"MY_LLM", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD_FILE", "LC_API_KEY"} & set(
        seen
    )
    assert seen["HOME"] == str(tmp_path / "work")
    assert seen["LC_ALL"] == "C.UTF-8" and "PATH" in seen


def test_a_command_tool_gets_the_allow_list_plus_its_declared_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    _secrets(monkeypatch)
    script = tmp_path / "dump.py"
    script.write_text(_DUMP)
    tool = CommandTool("dump", "", None, (sys.executable, str(script)), env={"WANTED": "yes"})
    out = tool.run({})
    seen = json.loads(out.text)
    assert seen["WANTED"] == "yes"
    assert seen["HOME"] != "/home/the-user" and Path(seen["HOME"]).is_dir()
    assert set(seen) <= environment.ALLOWED | {"HOME", "WANTED", "LC_ALL"} | {
        k for k in seen if k.startswith("LC_") and k != "LC_API_KEY"
    }


def test_a_protected_name_is_dropped_even_when_allowed() -> None:
    environment.protect(["LANG"])
    env = minimal_env(home="/h", source={"LANG": "C", "PATH": "/bin", "EDITOR": "vi"})
    assert env == {"PATH": "/bin", "HOME": "/h"}


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("OPENAI_API_KEY", True),
        ("HF_TOKEN", True),
        ("CLIENT_SECRET", True),
        ("PGPASSWORD", True),
        ("GOOGLE_APPLICATION_CREDENTIALS", True),
        ("LANG", False),
        ("PATH", False),
        ("KEYBOARD", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret


def test_every_profile_key_variable_is_collected(home: Path) -> None:
    from gptoss_cli.config.resolve import resolve

    home.mkdir(parents=True, exist_ok=True)
    config = home / "config.toml"
    config.write_text(
        '[profiles.a]\napi_key_env = "A_VAR"\n[profiles.b]\napi_key_env = "LANG"\n', encoding="utf-8"
    )
    settings = resolve({"config": str(config), "profile": "a", "api_key_env": "FLAG_VAR"}, require_key=False)
    assert {"A_VAR", "LANG", "FLAG_VAR", "OPENAI_API_KEY"} <= set(settings.key_variables)
