"""``[roles.NAME]`` and ``--role NAME``: saved instructions, identity, effort, options and tools."""

from __future__ import annotations

import sys
from pathlib import Path

from gptoss_cli.harmony import get_tokenizer

from ..scripted_server import ScriptedServer
from ..server_sims import harmony_ids, simulate
from .runner import run

ANSWER = [*harmony_ids("<|channel|>final<|message|>Ok."), 200002]


def _config(tmp_path: Path, server: ScriptedServer) -> Path:
    tools = tmp_path / "tools.toml"
    tools.write_text(
        f'[tools.echo]\ndescription = "Echo"\ncommand = ["{sys.executable}", "-c", "print(1)"]\n'
    )
    conf = tmp_path / "config.toml"
    conf.write_text(
        f'[profiles.sim]\nbase_url = "{server.url}"\n\n'
        '[roles.reviewer]\nsystem = "You are a strict reviewer."\ninstructions = "Point out bugs only."\n'
        'effort = "high"\ntools = ["tools.toml"]\n\n[roles.reviewer.options]\ntemperature = 0.2\n'
    )
    return conf


def test_a_role_sets_the_prompt_options_and_tools(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    sim = simulate(scripted_server, "vllm", [ANSWER])
    conf = _config(tmp_path, scripted_server)
    result = run(["ask", "Review this", "-n", "--config", str(conf), "--role", "reviewer"])
    assert result.code == 0, result.stderr
    body = sim.bodies[-1]
    prompt = get_tokenizer().decode(body["prompt"])
    assert "You are a strict reviewer." in prompt and "Reasoning: high" in prompt
    assert "Point out bugs only." in prompt and "type echo" in prompt
    assert body["temperature"] == 0.2


def test_flags_win_over_the_role(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    sim = simulate(scripted_server, "vllm", [ANSWER])
    conf = _config(tmp_path, scripted_server)
    result = run(
        ["ask", "q", "-n", "--config", str(conf), "--role", "reviewer", "-r", "low", "-s", "Be kind."]
    )
    assert result.code == 0, result.stderr
    prompt = get_tokenizer().decode(sim.bodies[-1]["prompt"])
    assert "Reasoning: low" in prompt and "Be kind." in prompt and "Point out bugs only." not in prompt


def test_an_unknown_role_names_the_known_ones(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    conf = _config(tmp_path, scripted_server)
    result = run(["ask", "q", "--config", str(conf), "--role", "poet"])
    assert result.code != 0 and "--role poet: no such role" in result.stderr and "reviewer" in result.stderr


def test_a_bad_role_key_names_file_line_and_key(tmp_path: Path) -> None:
    conf = tmp_path / "config.toml"
    conf.write_text('[roles.x]\neffort = "extreme"\n')
    result = run(["config", "show", "--config", str(conf)])
    assert result.code == 1 and f"{conf}:2" in result.stderr and "roles.x.effort" in result.stderr
