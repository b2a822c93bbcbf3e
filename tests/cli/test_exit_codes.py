"""The exit codes in the README's table, each one tested: 0 answer, 1 error, 2 usage, 130 interrupted
(issue 11), and what ``ask`` leaves behind when it fails or is interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ..scripted_server import DISCONNECT, PingUntilGone, Reply, ScriptedServer, json_error, llamacpp_stream
from .runner import run, saved
from .test_ask_tools import CALL, WEATHER, _script, _tool_file

FINAL = ["<|channel|>final<|message|>", "Paris."]


def _saved(home: Path) -> list[dict[str, Any]]:
    """The conversations in the history (``home`` is the test's GPTOSS_HOME, which the store reads)."""
    assert home.name == "home"
    return saved()


def test_0_for_an_answer(scripted_server: ScriptedServer) -> None:
    result = run(["ask", "q", *_script(scripted_server, FINAL)])
    assert (result.code, result.out) == (0, "Paris.\n")


def test_1_for_an_error(scripted_server: ScriptedServer) -> None:
    scripted_server.script("/v1/completions", json_error(400, "prompt too long"))
    result = run(["ask", "q", "--base-url", scripted_server.url, "--kind", "llamacpp", "-n"])
    assert result.code == 1 and "prompt too long" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["ask"],  # nothing to ask (the project's own UsageError)
        ["ask", "q", "--no-such-flag"],  # click's usage error
        ["ask", "q", "--max-steps", "0"],
        ["ask", "q", "--max-steps", "-1"],
        ["chat", "--max-steps", "0"],
        ["ask", "q", "-o", "=x"],
    ],
)
def test_2_for_a_usage_error(args: list[str]) -> None:
    result = run(args)
    assert result.code == 2, result
    assert result.out == "" and "Traceback" not in result.stderr
    if "--max-steps" in args:
        assert "--max-steps" in result.stderr and "1" in result.stderr


def test_reaching_max_steps_says_so(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    args = _script(scripted_server, CALL, CALL)
    tools = str(_tool_file(tmp_path, WEATHER))
    result = run(["ask", "Weather?", "--tools", tools, "--max-steps", "1", *args])
    assert result.code == 1
    assert "no tools are enabled" not in result.stderr
    assert "after 1 tool calls" in result.stderr and "raise --max-steps (now 1)" in result.stderr
    completions = [r for r in scripted_server.requests if r.path.endswith("/completions")]
    assert len(completions) == 2  # one tool call ran; the second was not


def test_a_tool_call_without_tools_names_the_flags(scripted_server: ScriptedServer) -> None:
    result = run(["ask", "q", *_script(scripted_server, CALL)])
    assert result.code == 1 and "no tools are enabled" in result.stderr and "--tools FILE" in result.stderr


@pytest.mark.parametrize("failure", ["status", "disconnect"])
def test_an_ask_that_failed_before_any_answer_is_not_saved(
    scripted_server: ScriptedServer, home: Path, failure: str
) -> None:
    reply = json_error(400, "bad request") if failure == "status" else Reply.sse([DISCONNECT])
    scripted_server.script("/v1/completions", reply)
    result = run(["ask", "q", "--base-url", scripted_server.url, "--kind", "llamacpp"])
    assert result.code == 1
    assert _saved(home) == []
    assert "no saved conversations" in run(["history", "list"]).stderr


def test_an_ask_that_failed_mid_answer_is_saved(scripted_server: ScriptedServer, home: Path) -> None:
    steps = llamacpp_stream(["<|channel|>final<|message|>", "Half"], done=False)[:-1]
    scripted_server.script("/v1/completions", Reply.sse([*steps, DISCONNECT]))
    result = run(["ask", "q", "--base-url", scripted_server.url, "--kind", "llamacpp"])
    assert result.code == 1 and result.out == "Half\n"
    assert len(_saved(home)) == 1


# ------------------------------------------------------------------------- 130: real processes, real SIGINT


def _start(server: ScriptedServer, home: Path, *extra: str) -> subprocess.Popen[bytes]:
    steps = llamacpp_stream(["<|channel|>final<|message|>", "Half an answer"], done=False)[:-1]
    server.script("/v1/completions", Reply.sse([*steps, PingUntilGone(limit=20)]))
    command = [sys.executable, "-m", "gptoss_cli", "ask", "q", "--base-url", server.url, "--kind", "llamacpp"]
    return subprocess.Popen(
        [*command, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "GPTOSS_HOME": str(home)},
    )


def _wait_for_request(server: ScriptedServer) -> None:
    deadline = time.monotonic() + 30
    while not any(r.path.endswith("/completions") for r in server.requests):
        assert time.monotonic() < deadline, "gptoss never sent its request"
        time.sleep(0.02)
    time.sleep(0.3)  # the partial answer has been sent; the server now only pings


def test_130_for_ctrl_c_and_a_second_ctrl_c_changes_nothing(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    child = _start(scripted_server, home)
    _wait_for_request(scripted_server)
    for _ in range(5):  # a user hammering Ctrl-C while gptoss saves and exits
        child.send_signal(signal.SIGINT)
        time.sleep(0.01)
    out, err = child.communicate(timeout=30)
    assert child.returncode == 130, err.decode()
    assert out.decode() == "Half an answer\n"
    assert "Traceback" not in err.decode()
    assert len(_saved(home)) == 1


def test_ask_json_interrupted_prints_json(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    child = _start(scripted_server, tmp_path / "home", "--json")
    _wait_for_request(scripted_server)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    assert child.returncode == 130, err.decode()
    data = json.loads(out)
    assert data["final"] == "Half an answer" and data["outcome"] == "incomplete"
    assert data["error"] == "interrupted" and data["finish_reason"] == "interrupted"
