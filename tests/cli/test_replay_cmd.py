"""``gptoss replay`` against the scripted server: runs, new files, dry runs, concurrency, failures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gptoss_cli.harmony import ContentDelta
from gptoss_cli.servers.profiles import get_profile
from gptoss_cli.session.replay import Interrupted, RunSpec, plan_runs, run_all, source_from
from gptoss_cli.session.turn import ChatSettings, Session, SessionEvent, Target
from gptoss_cli.store import read_record

from ..scripted_server import DONE, Reply, ScriptedServer, data_error, event, json_error, llamacpp_stream
from .runner import run, saved

SYSTEM = {
    "role": "system",
    "content": [
        {
            "type": "system_content",
            "model_identity": "You are a test model.",
            "reasoning_effort": "Medium",
            "conversation_start_date": "2025-01-02",
            "knowledge_cutoff": "2024-06",
            "channel_config": {
                "valid_channels": ["analysis", "commentary", "final"],
                "channel_required": True,
            },
        }
    ],
}
DEVELOPER = {
    "role": "developer",
    "content": [{"type": "developer_content", "instructions": "Answer briefly."}],
}


def _final(text: str) -> dict[str, Any]:
    return {"role": "assistant", "channel": "final", "content": text}


def _conversation(path: Path, *turns: tuple[str, str], extra: list[dict[str, Any]] | None = None) -> str:
    messages: list[dict[str, Any]] = [SYSTEM, DEVELOPER]
    for question, answer in turns:
        messages += [{"role": "user", "content": question}, _final(answer)]
    messages += extra or []
    path.write_text(json.dumps({"messages": messages}), encoding="utf-8")
    return str(path)


def _answer(text: str) -> Reply:
    return Reply.sse(llamacpp_stream(["<|channel|>analysis<|message|>", "hmm", "<|end|>",
                                      "<|start|>assistant<|channel|>final<|message|>", text]))  # fmt: skip


def _server(server: ScriptedServer) -> list[str]:
    # the generic profile sends the prompt as text, so tests can read it
    return ["--base-url", server.url, "--kind", "openai", "-m", "m"]


def _prompts(server: ScriptedServer) -> list[str]:
    return [r.json()["prompt"] for r in server.requests if r.path == "/v1/completions"]


def _saved() -> list[dict[str, Any]]:
    return saved()


def _system_effort(data: dict[str, Any]) -> str:
    return str(data["messages"][0]["content"][0]["reasoning_effort"])


def test_multi_turn_file_is_replayed_into_a_new_conversation(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    source = _conversation(tmp_path / "chat.json", ("Capital of France?", "Paris."), ("And Italy?", "Rome."))
    before = Path(source).read_bytes()
    scripted_server.script("/v1/completions", _answer("Paris!"), _answer("Rome!"))
    result = run(["replay", source, *_server(scripted_server)])
    assert result.code == 0, result.stderr
    assert result.out == "› Capital of France?\nParis!\n\n› And Italy?\nRome!\n"
    assert "hmm" not in result.out and "hmm" not in result.stderr  # reasoning hidden by default
    header, row = result.stderr.strip().splitlines()[-2:]
    assert header.split() == ["FILE", "RUN", "TURNS", "FINISH", "TOKENS", "LATENCY", "SAVED", "OUTCOME"]
    assert row.split()[:4] == [source, "medium", "2/2", "stop×2"] and row.endswith("final")

    first, second = _prompts(scripted_server)
    for prompt in (first, second):
        assert "You are a test model." in prompt and "Current date: 2025-01-02" in prompt
        assert "Reasoning: medium" in prompt and "Answer briefly." in prompt
    assert second.endswith(
        "<|start|>user<|message|>Capital of France?<|end|><|start|>assistant<|channel|>final<|message|>"
        "Paris!<|end|><|start|>user<|message|>And Italy?<|end|><|start|>assistant"
    )  # the new answer is what the second turn sees, not the file's

    assert Path(source).read_bytes() == before
    (saved,) = _saved()
    finals = [m["content"][0]["text"] for m in saved["messages"] if m.get("channel") == "final"]
    assert finals == ["Paris!", "Rome!"]
    meta = saved["gptoss"]
    assert meta["replay_of"]["file"] == source and meta["id"] in row
    assert [t["finish_reason"] for t in meta["turns"]] == ["stop", "stop"]
    assert meta["reasoning_effort"] == "medium"


def test_reasoning_list_runs_each_effort_into_its_own_file(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    source = _conversation(tmp_path / "chat.json", ("q1", "a1"), ("q2", "a2"))
    out = tmp_path / "runs"
    scripted_server.script("/v1/completions", *[_answer(f"answer {n}") for n in range(4)])
    result = run(["replay", source, "-r", "low,high", "--out", str(out), *_server(scripted_server)])
    assert result.code == 0, result.stderr
    prompts = _prompts(scripted_server)
    assert ["Reasoning: low" in p for p in prompts] == [True, True, False, False]
    assert ["Reasoning: high" in p for p in prompts] == [False, False, True, True]
    assert sorted(p.name for p in out.iterdir()) == ["chat.high.json", "chat.low.json"]
    low = json.loads((out / "chat.low.json").read_text(encoding="utf-8"))
    high = json.loads((out / "chat.high.json").read_text(encoding="utf-8"))
    assert (_system_effort(low), _system_effort(high)) == ("Low", "High")
    assert low["gptoss"]["reasoning_effort"] == "low" and high["gptoss"]["reasoning_effort"] == "high"
    assert "── " in result.stderr and "· low ──" in result.stderr and "· high ──" in result.stderr
    rows = result.stderr.strip().splitlines()[-2:]
    assert [r.split()[1] for r in rows] == ["low", "high"]
    assert all(str(out) in r for r in rows)
    assert _saved() == []  # --out: nothing in the history

    again = run(["replay", source, "-r", "low", "--out", str(out), "--dry-run"])
    assert again.code == 0
    # a later run never overwrites: the next free name is used
    scripted_server.script("/v1/completions", _answer("x"), _answer("y"))
    third = run(["replay", source, "-r", "low", "--out", str(out), *_server(scripted_server)])
    assert third.code == 0, third.stderr
    assert (out / "chat.low.2.json").is_file()


def test_dry_run_prints_prompts_without_a_server(tmp_path: Path) -> None:
    source = _conversation(tmp_path / "chat.json", ("q1", "a1"), ("q2", "a2"))
    args = [
        "replay",
        source,
        "--dry-run",
        "-r",
        "high",
        "-s",
        "Be terse.",
        "--base-url",
        "http://127.0.0.1:9",
    ]
    args += ["--api-key-env", "GPTOSS_TEST_UNSET_KEY"]  # nothing is sent, so no key is needed
    result = run(args)
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    blocks = result.out.split("\n\n==> ")
    assert len(blocks) == 2
    assert blocks[0].startswith(f"==> {source} · reasoning high · turn 1/2 <==\n<|start|>system<|message|>")
    assert blocks[1].startswith(f"{source} · reasoning high · turn 2/2 <==\n")
    for block in blocks:
        assert "Reasoning: high" in block and "Current date: 2025-01-02" in block
        assert "# Instructions\n\nBe terse.<|end|>" in block and "Answer briefly." not in block
        assert block.rstrip("\n").endswith("<|end|><|start|>assistant")
    assert result.out.endswith("<|start|>assistant\n")
    assert "a1<|end|><|start|>user<|message|>q2" in blocks[1]  # later turns see the recorded answers
    assert _saved() == []


def test_jobs_runs_files_concurrently_and_prints_only_the_summary(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    one = _conversation(tmp_path / "one.json", ("first?", "old"))
    two = _conversation(tmp_path / "two.json", ("second?", "old"))
    scripted_server.script("/v1/completions", _answer("same"), _answer("same"))
    result = run(["replay", one, two, "--jobs", "2", *_server(scripted_server)])
    assert result.code == 0, result.stderr
    assert result.out == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("FILE") and len(lines) == 3
    assert sorted(line.split()[0] for line in lines[1:]) == [one, two]
    assert all(line.endswith("final") for line in lines[1:])
    assert sorted(p.split("<|message|>")[-1] for p in _prompts(scripted_server)) == [
        "first?<|end|><|start|>assistant",
        "second?<|end|><|start|>assistant",
    ]
    assert len(_saved()) == 2


def test_server_error_mid_run_exits_1_and_the_summary_says_so(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    source = _conversation(tmp_path / "chat.json", ("q1", "a1"), ("q2", "a2"), ("q3", "a3"))
    broken = [
        event({"choices": [{"index": 0, "text": "<|channel|>final<|message|>Hal", "finish_reason": None}]}),
        data_error("out of memory"),
        DONE,
    ]
    scripted_server.script("/v1/completions", _answer("fine"), Reply.sse(broken))
    result = run(["replay", source, *_server(scripted_server)])
    assert result.code == 1
    assert result.out == "› q1\nfine\n\n› q2\nHal\n"  # what arrived is shown; q3 is never asked
    assert len(_prompts(scripted_server)) == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == (
        "gptoss: error: 1 of 1 runs did not end with final answers (see OUTCOME in the summary)"
    )
    row = lines[-2]
    assert row.split()[2] == "2/3" and "error: " in row and "out of memory" in row
    (saved,) = _saved()  # what arrived is saved, the cut-off answer marked so
    assert saved["gptoss"]["turns"][-1]["incomplete"] is True


def test_cut_off_answer_is_not_a_final_answer(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    source = _conversation(tmp_path / "chat.json", ("q1", "a1"))
    steps = llamacpp_stream(["<|channel|>final<|message|>", "Half"], finish_reason="length")
    scripted_server.script("/v1/completions", Reply.sse(steps))
    result = run(["replay", source, *_server(scripted_server)])
    assert result.code == 1
    assert result.out == "› q1\nHalf\n"
    assert "turn 1: incomplete (length)" in result.stderr


def _tool_conversation(tmp_path: Path) -> Path:
    call = {
        "role": "assistant",
        "channel": "commentary",
        "recipient": "functions.get_weather",
        "content_type": "<|constrain|>json",
        "content": '{"city": "Oslo"}',
    }
    tool = {
        "role": "tool",
        "name": "functions.get_weather",
        "recipient": "assistant",
        "channel": "commentary",
        "content": '{"temp": 3}',
    }
    path = tmp_path / "tools.json"
    messages = [SYSTEM, {"role": "user", "content": "Weather in Oslo?"}, call, tool, _final("3 degrees.")]
    path.write_text(json.dumps({"messages": messages}), encoding="utf-8")
    return path


CALL_AGAIN = Reply.sse(
    llamacpp_stream(
        ["<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>", '{"city":"Oslo"}']
    )
)


def test_tool_calls_get_the_recorded_results_offline(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    path = _tool_conversation(tmp_path)
    scripted_server.script("/v1/completions", CALL_AGAIN, _answer("Cold: 3 degrees."))
    result = run(["replay", str(path), *_server(scripted_server)])
    assert result.code == 0, result.stderr
    assert result.out == "› Weather in Oslo?\nCold: 3 degrees.\n"
    prompts = _prompts(scripted_server)
    assert len(prompts) == 2
    assert (
        '<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>{"temp": 3}<|end|>'
        in prompts[1]
    )


def test_tool_results_none_leaves_the_call_unanswered(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    path = _tool_conversation(tmp_path)
    scripted_server.script("/v1/completions", CALL_AGAIN)
    result = run(["replay", str(path), "--tool-results", "none", *_server(scripted_server)])
    assert result.code == 1
    assert "tool_call" in result.stderr
    assert len(_prompts(scripted_server)) == 1


def test_a_history_id_can_be_replayed(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    source = _conversation(tmp_path / "chat.json", ("q1", "a1"))
    scripted_server.script("/v1/completions", _answer("one"), _answer("two"))
    assert run(["replay", source, *_server(scripted_server)]).code == 0
    (saved,) = _saved()
    result = run(["replay", saved["gptoss"]["id"][:8], *_server(scripted_server)])
    assert result.code == 0, result.stderr
    assert result.out == "› q1\ntwo\n"
    assert "Current date: 2025-01-02" in _prompts(scripted_server)[-1]  # the saved run's settings


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    result = run(["replay", str(tmp_path / "nope.json"), "--dry-run"])
    assert result.code == 1 and result.out == ""
    assert result.stderr == f"gptoss: error: {tmp_path / 'nope.json'}: no such conversation file\n"


def test_broken_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "messages": [\n    {"role": "user",, }\n', encoding="utf-8")
    result = run(["replay", str(path), "--base-url", "http://127.0.0.1:9", "--kind", "openai"])
    assert result.code == 1 and result.out == ""
    assert result.stderr.count("\n") == 1
    assert str(path) in result.stderr and "line 3" in result.stderr


def test_no_user_messages_and_bad_efforts_are_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"messages": [SYSTEM]}), encoding="utf-8")
    result = run(["replay", str(empty), "--dry-run"])
    assert (result.code, result.stderr) == (2, f"gptoss: error: {empty}: no user messages to replay\n")
    source = _conversation(tmp_path / "chat.json", ("q", "a"))
    bad = run(["replay", source, "--dry-run", "-r", "low,extreme"])
    assert bad.code == 2 and bad.stderr.count("\n") == 1 and "'extreme'" in bad.stderr


def test_error_before_streaming_fails_the_run(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    source = _conversation(tmp_path / "chat.json", ("q", "a"), ("q2", "a2"))
    scripted_server.script("/v1/completions", json_error(400, "prompt too long"))
    result = run(["replay", source, *_server(scripted_server)])
    assert result.code == 1
    assert result.out == "› q\n"
    assert "prompt too long" in result.stderr and "did not end with final answers" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(_prompts(scripted_server)) == 1  # the run stopped at the error


def test_ctrl_c_stops_the_runs_saves_what_arrived_and_keeps_the_reports(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    path = Path(_conversation(tmp_path / "chat.json", ("q1", "a1"), ("q2", "a2")))
    source = source_from(str(path), read_record(path), ChatSettings())
    scripted_server.script("/v1/completions", _answer("first"), _answer("second"))
    target = Target(scripted_server.url, get_profile("openai"), model="m")
    saved: list[list[str]] = []

    class StopInTurnTwo:
        def begin(self, spec: RunSpec, index: int, text: str) -> None:
            self.index = index

        def handle(self, event: SessionEvent) -> None:
            if self.index == 1 and isinstance(event, ContentDelta) and event.channel == "final":
                raise KeyboardInterrupt

        def end(self, error: str | None) -> None:
            pass

    def save(session: Session, spec: RunSpec) -> str:
        saved.append([r.outcome for r in session.results])
        return "saved"

    specs = plan_runs([source, source])
    with pytest.raises(Interrupted) as caught:
        run_all(specs, target, view=StopInTurnTwo(), save=save)
    first, second = caught.value.reports
    assert first.interrupted and not first.ok and first.outcome == "interrupted"
    assert [r.outcome for r in first.results] == ["final", "incomplete"]
    assert first.saved == "saved" and saved == [["final", "incomplete"]]
    assert second.results == [] and second.outcome == "not run"  # the second run never started


def _call(city: str) -> Reply:
    return Reply.sse(
        llamacpp_stream(
            [
                "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>",
                json.dumps({"city": city}),
            ]
        )
    )


def _decisions() -> list[str]:
    (data,) = _saved()
    return [c["decision"] for t in data["gptoss"]["turns"] for c in t.get("tool_calls", ())]


def test_a_recorded_result_needs_the_same_tool_and_arguments(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    """Oslo was recorded; a replayed call for Paris must not get Oslo's weather, nor be called approved."""
    path = _tool_conversation(tmp_path)
    scripted_server.script("/v1/completions", _call("Paris"), _answer("No data for Paris."))
    result = run(["replay", str(path), *_server(scripted_server)])
    assert result.code == 0, result.stderr
    second = _prompts(scripted_server)[1]
    assert '{"temp": 3}' not in second.split("Weather in Oslo?", 1)[1].split("to=functions.get_weather", 1)[1]
    assert "no result recorded for these arguments" in second
    (decision,) = _decisions()
    assert decision.startswith("refused: no result recorded") and "--yes" not in decision


def test_the_same_arguments_written_differently_get_the_recorded_result(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    path = _tool_conversation(tmp_path)
    scripted_server.script("/v1/completions", CALL_AGAIN, _answer("Cold."))
    assert run(["replay", str(path), *_server(scripted_server)]).code == 0
    assert _decisions() == ["recorded result"]


def test_unmatched_live_runs_the_live_tool_and_says_so(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    import sys

    path = _tool_conversation(tmp_path)
    script = tmp_path / "weather.py"
    script.write_text("import json, sys\nprint(json.dumps({'live': json.load(sys.stdin)['city']}))\n")
    tools = tmp_path / "tools.toml"
    tools.write_text(
        f'[tools.get_weather]\ndescription = "Weather"\ncommand = ["{sys.executable}", "{script}"]\n'
        '[tools.get_weather.parameters]\ntype = "object"\n'
        '[tools.get_weather.parameters.properties.city]\ntype = "string"\n'
    )
    scripted_server.script("/v1/completions", _call("Paris"), _answer("Live data."))
    args = ["replay", str(path), "--unmatched", "live", "--tools", str(tools), "--yes"]
    result = run([*args, *_server(scripted_server)])
    assert result.code == 0, result.stderr
    assert '{"live": "Paris"}' in _prompts(scripted_server)[1]
    assert _decisions() == ["yes (--yes), run live (no result recorded for these arguments)"]
    bad = run(["replay", str(path), "--unmatched", "maybe", *_server(scripted_server)])
    assert bad.code == 2 and "--unmatched 'maybe'" in bad.stderr
