"""``gptoss ask`` and the agent loop end to end against a real llama-server.

The tiny model has random weights, so each completion is forced with a token grammar passed the
way a user passes server extensions: ``-o grammar ... -o logit_bias ...``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from gptoss_cli.harmony import Role
from gptoss_cli.servers.profiles import get_profile, parse_options
from gptoss_cli.session.agent import Run, ToolCallEvent
from gptoss_cli.session.turn import ChatSettings, Session, Target
from gptoss_cli.tools.calls import Approver
from gptoss_cli.tools.declare import load_tool_file
from gptoss_cli.tools.registry import Registry

from .grammar import Forced, force_text
from .server import LlamaServer
from .test_llama_server import ANSWER, CALL_IN_ROLE

FINAL_AFTER_TOOL = "<|channel|>final<|message|>It is sunny in Paris.<|return|>"


def _o_flags(forced: Forced) -> list[str]:
    flags: list[str] = []
    for key, value in forced.fields.items():
        flags += ["-o", key, value if isinstance(value, str) else json.dumps(value)]
    return flags


def _options(forced: Forced) -> dict[str, object]:
    return parse_options([(k, v if isinstance(v, str) else json.dumps(v)) for k, v in forced.fields.items()])


def _gptoss(args: list[str], stdin: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gptoss_cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={"GPTOSS_HOME": str(home), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        check=False,
    )


def test_ask_pipes_the_final_answer_only(good_server: LlamaServer, tmp_path: Path) -> None:
    forced = force_text(ANSWER)
    args = [
        "ask",
        "What is 2+2?",
        "--base-url",
        good_server.base_url,
        "--kind",
        "llamacpp",
        *_o_flags(forced),
    ]
    done = _gptoss([*args, "--stats"], "some piped context\n", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2 + 2 = 4.\n"
    assert "User asks 2+2" not in done.stdout + done.stderr
    assert "first token" in done.stderr  # --stats on stderr
    from gptoss_cli.store import Store

    store = Store(tmp_path / "history.db", legacy=None)
    (summary,) = store.summaries()
    data = store.load(summary.id).to_dict()
    assert [m.get("channel") for m in data["messages"] if m["role"] == "assistant"] == ["analysis", "final"]
    users = [m["content"] for m in data["messages"] if m["role"] == "user"]
    assert users == [[{"type": "text", "text": "some piped context\n\nWhat is 2+2?"}]]


def test_ask_json_against_the_misconfigured_server(no_special_server: LlamaServer, tmp_path: Path) -> None:
    """Without --special the profile's preserved_tokens still bring the terminators back."""
    forced = force_text(ANSWER)
    args = ["ask", "q", "-n", "--json", "--base-url", no_special_server.base_url, "--kind", "llamacpp"]
    done = _gptoss([*args, *_o_flags(forced)], "", tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["final"] == "2 + 2 = 4." and data["finish_reason"] == "stop"
    assert data["reasoning"] == "User asks 2+2. Answer is 4."


def test_a_complete_tool_loop(good_server: LlamaServer, tmp_path: Path) -> None:
    """call -> approval -> execution -> result -> final answer, each completion grammar-forced."""
    script = tmp_path / "weather.py"
    script.write_text(
        "import json, sys\nargs = json.load(sys.stdin)\nprint(json.dumps({'sky': 'sunny', **args}))\n"
    )
    tools = tmp_path / "tools.toml"
    tools.write_text(
        '[tools.get_weather]\ndescription = "Current weather"\n'
        f'command = ["{sys.executable}", "weather.py"]\nparameters = {{ location = "string" }}\n'
    )
    registry = Registry()
    for namespace in load_tool_file(tools):
        registry.add(namespace)
    call_options = parse_options(
        [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in force_text(CALL_IN_ROLE).fields.items()]
    )
    final_options = parse_options(
        [
            (k, v if isinstance(v, str) else json.dumps(v))
            for k, v in force_text(FINAL_AFTER_TOOL).fields.items()
        ]
    )
    target = Target(good_server.base_url, get_profile("llamacpp"), call_options=call_options)
    settings = ChatSettings(date="2026-01-01", function_tools=registry.developer_namespaces())
    session = Session(target, settings)
    asked: list[str] = []

    def approve(recipient: str, arguments: str) -> str:
        asked.append(f"{recipient} {arguments}")
        return "yes"

    approver = Approver(ask=approve)  # type: ignore[arg-type]
    run = Run(session, session.ask("Weather in Paris?"), registry, approver, max_steps=3)
    for event in run:
        if isinstance(event, ToolCallEvent):
            session.target = replace(
                session.target, call_options=final_options
            )  # the next completion: the answer
    registry.close()
    assert asked == ['functions.get_weather {"location":"Paris"}']
    roles = [(m.author.role, m.channel, m.recipient) for m in session.history]
    assert roles == [
        (Role.USER, None, None),
        (Role.ASSISTANT, "analysis", None),
        (Role.ASSISTANT, "commentary", "functions.get_weather"),
        (Role.TOOL, "commentary", "assistant"),
        (Role.ASSISTANT, "final", None),
    ]
    assert session.history[3].text == '{"sky": "sunny", "location": "Paris"}'
    assert run.result is not None and run.result.final_text == "It is sunny in Paris."
    assert session.tool_log[0].decision == "yes"
