"""The agent loop's tool calls: one value from the call to the store, ``--json`` and ``show``."""

from __future__ import annotations

import json
from pathlib import Path

from gptoss_cli.config.resolve import resolve
from gptoss_cli.servers.profiles import get_profile
from gptoss_cli.session.agent import Run, ToolResultEvent
from gptoss_cli.session.persist import StorePersistence, mark_incomplete
from gptoss_cli.session.transcript import saved_parts
from gptoss_cli.session.turn import ChatSettings, Session, Target
from gptoss_cli.store import Store
from gptoss_cli.toolcall import ToolCall
from gptoss_cli.tools.calls import Approver, Decision
from gptoss_cli.tools.declare import load_tool_file
from gptoss_cli.tools.registry import Registry
from gptoss_cli.transport.client import Timeouts

from ..cli.runner import run
from ..cli.test_ask_tools import _tool_file
from ..scripted_server import Reply, ScriptedServer, llamacpp_stream

CALL = [
    "<|channel|>analysis<|message|>",
    "Need the weather.",
    "<|end|>",
    "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>",
    '{"city": "Paris"}',
]
FINAL = ["<|channel|>final<|message|>", "It is sunny in Paris."]
WEATHER = 'import json, sys\nprint(json.dumps({"city": json.load(sys.stdin)["city"], "sky": "sunny"}))\n'


def _registry(tmp_path: Path) -> Registry:
    registry = Registry()
    for namespace in load_tool_file(_tool_file(tmp_path, WEATHER, approve="ask")):
        registry.add(namespace)
    return registry


def test_agent_store_json_and_show_hold_the_same_tool_call(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    scripted_server.script(
        "/v1/completions", Reply.sse(llamacpp_stream(CALL)), Reply.sse(llamacpp_stream(FINAL))
    )
    registry = _registry(tmp_path)
    target = Target(scripted_server.url, get_profile("llamacpp"), timeouts=Timeouts(connect=2, read=10))
    session = Session(target, ChatSettings(date="2026-01-01", function_tools=registry.developer_namespaces()))
    asked: list[str] = []

    def ask(recipient: str, arguments: str) -> Decision:
        asked.append(f"{recipient} {arguments}")
        return "yes"

    agent = Run(session, session.ask("Weather in Paris?"), registry, Approver(ask=ask), max_steps=3)
    try:
        live = [event.call for event in agent if isinstance(event, ToolResultEvent)]
    finally:
        registry.close()

    # the agent loop: the call as executed, typed, the same object on the event, the run and the session
    (call,) = live
    assert asked == ['functions.get_weather {"city": "Paris"}']
    assert call == ToolCall(
        "functions.get_weather", '{"city": "Paris"}', "yes", '{"city": "Paris", "sky": "sunny"}', False
    )
    assert agent.calls == [call] and agent.calls[0] is call
    assert session.tool_log == [call] and session.tool_log[0] is call
    assert session.results[0].tool_calls_made[0] is call

    # the store (real SQLite): the turn that ended with the call keeps that value, nothing else
    persistence = StorePersistence(resolve(), notify=lambda note: None)
    saved = persistence.autosave(session)
    assert saved is not None
    record = Store().load(saved)
    first, second = record.meta.turns
    assert first.outcome == "tool_call" and first.tool_calls == (call,)
    assert type(first.tool_calls[0]) is ToolCall
    assert second.outcome == "final" and second.tool_calls == ()
    assert first.to_dict()["tool_calls"] == [call.to_dict()]

    # show: the saved conversation gives back the same value for the same tool result
    shown = [
        p.call
        for p in saved_parts(mark_incomplete(record), record.meta.turns)
        if isinstance(p, ToolResultEvent)
    ]
    assert shown == [call]
    result = run(["show", saved])
    assert result.code == 0, result.stderr
    assert '← functions.get_weather [yes] {"city": "Paris", "sky": "sunny"}\n' in result.stderr


def test_ask_json_prints_the_stored_calls(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    """``ask --json`` lists the very dicts the store keeps for the turns' calls."""
    scripted_server.script(
        "/v1/completions", Reply.sse(llamacpp_stream(CALL)), Reply.sse(llamacpp_stream(FINAL))
    )
    args = ["--base-url", scripted_server.url, "--kind", "llamacpp", "--yes", "--json"]
    result = run(
        ["ask", "Weather in Paris?", "--tools", str(_tool_file(tmp_path, WEATHER, approve="ask")), *args]
    )
    assert result.code == 0, result.stderr
    printed = json.loads(result.out)["tool_calls"]
    (summary,) = Store().summaries()
    stored = [c.to_dict() for turn in Store().load(summary.id).meta.turns for c in turn.tool_calls]
    assert printed == stored
    assert [ToolCall.from_dict(c) for c in printed] == [
        ToolCall(
            "functions.get_weather",
            '{"city": "Paris"}',
            "yes (--yes)",
            '{"city": "Paris", "sky": "sunny"}',
            False,
        )
    ]
