"""``gptoss show`` and ``gptoss diff`` on saved conversation files."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from gptoss_cli.store import Store, read_record

from .runner import run

SYSTEM = {"role": "system", "content": [{"type": "system_content", "reasoning_effort": "Low"}]}


def _msg(channel: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"role": "assistant", "channel": channel, "content": text, **extra}


def _turn(start: int, end: int, finish: str = "stop", tokens: int = 10, **extra: Any) -> dict[str, Any]:
    return {
        "messages": [start, end],
        "finish_reason": finish,
        "incomplete": False,
        "usage": {"completion_tokens": tokens, "analysis_tokens": tokens - 3, "final_tokens": 3},
        "timings": {"ttft": 0.1, "total": 0.5},
        **extra,
    }


def _file(
    path: Path,
    messages: list[dict[str, Any]],
    turns: list[dict[str, Any]] | None = None,
    *,
    ident: str = "abc123def456",
    **meta: Any,
) -> str:
    data: dict[str, Any] = {"messages": messages}
    if turns is not None:
        data["gptoss"] = {
            "version": 1,
            "id": ident,
            "created": "2025-01-02T10:00:00.000+00:00",
            "updated": "2025-01-02T10:05:00.000+00:00",
            "server": {"base_url": "http://127.0.0.1:8000", "kind": "vllm", "model": "gpt-oss-20b"},
            "reasoning_effort": "low",
            "turns": turns,
            **meta,
        }
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def _weather_chat(path: Path, answer: str = "It is 3 degrees in Oslo.", city: str = "Oslo") -> str:
    messages = [
        SYSTEM,
        {"role": "user", "content": "Hello"},
        _msg("analysis", "SECRET greeting plan"),
        _msg("final", "Hi! How can I help?"),
        {"role": "user", "content": "Weather in Oslo?\nPlease be brief."},
        _msg("analysis", "SECRET need the tool"),
        _msg(
            "commentary",
            json.dumps({"city": city}),
            recipient="functions.get_weather",
            content_type="<|constrain|>json",
        ),
        {
            "role": "tool",
            "name": "functions.get_weather",
            "recipient": "assistant",
            "channel": "commentary",
            "content": '{"temp": 3}',
        },
        _msg("final", answer),
    ]
    turns = [_turn(2, 4), _turn(5, 7, tokens=12), _turn(8, 9, tokens=20)]
    log = [
        {
            "recipient": "functions.get_weather",
            "arguments": "{}",
            "decision": "yes (--yes)",
            "output": "",
            "error": False,
        }
    ]
    return _file(path, messages, turns, tool_calls=log)


def test_show_prints_the_conversation_as_the_chat_would(tmp_path: Path) -> None:
    result = run(["show", _weather_chat(tmp_path / "chat.json")])
    assert result.code == 0, result.stderr
    assert result.out == (
        "› Hello\nHi! How can I help?\n\n› Weather in Oslo?\n  Please be brief.\nIt is 3 degrees in Oslo.\n"
    )
    assert "SECRET" not in result.out and "SECRET" not in result.stderr
    assert '→ call functions.get_weather (commentary): {"city": "Oslo"}' in result.stderr
    assert '← functions.get_weather [yes (--yes)] {"temp": 3}' in result.stderr


def test_show_reasoning_and_stats_go_to_stderr(tmp_path: Path) -> None:
    result = run(["show", _weather_chat(tmp_path / "chat.json"), "--show-reasoning", "--stats"])
    assert result.code == 0, result.stderr
    assert "SECRET" not in result.out
    assert "thinking: SECRET greeting plan" in result.stderr and "SECRET need the tool" in result.stderr
    stats = [line for line in result.stderr.splitlines() if line.startswith("first token")]
    assert len(stats) == 3 and all("finish stop" in line for line in stats)
    assert "analysis 7 tok" in stats[0] and "total 0.50s" in stats[0]


def test_show_marks_a_cut_off_answer(tmp_path: Path) -> None:
    messages = [SYSTEM, {"role": "user", "content": "Tell me"}, _msg("final", "Once upon a")]
    turns = [_turn(2, 3, finish="length", incomplete=True)]
    result = run(["show", _file(tmp_path / "cut.json", messages, turns)])
    assert result.code == 0
    assert result.out == "› Tell me\nOnce upon a\n"
    assert "cut off by the server's token limit" in result.stderr


def test_show_reads_chat_completions_files_and_history_ids(tmp_path: Path) -> None:
    chat = tmp_path / "openai.json"
    chat.write_text(
        json.dumps(
            [
                {"role": "system", "content": "Be nice."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!", "reasoning_content": "SECRET"},
            ]
        ),
        encoding="utf-8",
    )
    result = run(["show", str(chat)])
    assert (result.code, result.out) == (0, "› Hi\nHello!\n")
    assert "SECRET" not in result.stderr

    record = read_record(Path(_weather_chat(tmp_path / "w.json")))
    saved = Store().save(replace(record, path=None))  # into the history
    by_id = run(["show", saved.id[:6]])
    assert by_id.code == 0, by_id.stderr
    assert by_id.out.startswith("› Hello\nHi! How can I help?\n")


def test_show_bad_input_is_one_line(tmp_path: Path) -> None:
    missing = run(["show", str(tmp_path / "missing.json")])
    assert missing.code == 1 and missing.out == ""
    assert missing.stderr == f"gptoss: error: {tmp_path / 'missing.json'}: no such conversation file\n"
    broken = tmp_path / "broken.json"
    broken.write_text('{"messages": [\n{"role": "user"\n', encoding="utf-8")
    result = run(["show", str(broken)])
    assert result.code == 1 and result.out == "" and result.stderr.count("\n") == 1
    assert f"{broken}: invalid JSON at line 3" in result.stderr
    unknown = run(["show", "ffffff"])
    assert unknown.code == 1 and "no conversation with id 'ffffff'" in unknown.stderr


def test_diff_of_identical_answers_exits_0(tmp_path: Path) -> None:
    a = _weather_chat(tmp_path / "a.json")
    b = _weather_chat(tmp_path / "b.json")
    result = run(["diff", a, b])
    assert result.code == 0, result.stderr
    assert result.out == ""
    assert "final answers: same (2 turns)" in result.stderr
    assert "tool calls: same (1)" in result.stderr
    assert "A = " in result.stderr and "(gpt-oss-20b, reasoning low)" in result.stderr


def test_diff_of_different_runs_exits_1_with_a_unified_diff(tmp_path: Path) -> None:
    a = _weather_chat(tmp_path / "a.json")
    b = _weather_chat(tmp_path / "b.json", answer="Oslo: 3 °C.", city="Oslo, NO")
    result = run(["diff", a, b])
    assert result.code == 1
    assert result.out.startswith(f"--- {a}\n+++ {b}\n@@ ")
    assert "\n-It is 3 degrees in Oslo.\n+Oslo: 3 °C.\n" in result.out
    assert " ── turn 2 ──\n" in result.out
    err = result.stderr
    assert "final answers: differ (turn 2 of 2)" in err
    assert "tool calls: differ" in err
    assert '-turn 2: functions.get_weather {"city": "Oslo"}' in err
    assert '+turn 2: functions.get_weather {"city": "Oslo, NO"}' in err
    table = err[err.index("REQUEST") :].splitlines()
    assert table[0].split() == [
        "REQUEST",
        "FINISH",
        "A",
        "TOKENS",
        "A",
        "TIME",
        "A",
        "FINISH",
        "B",
        "TOKENS",
        "B",
        "TIME",
        "B",
    ]
    assert table[2].split() == ["2", "stop", "12", "(a9/f3)", "0.50s", "stop", "12", "(a9/f3)", "0.50s"]
    assert "gptoss: error" not in err  # a difference is not an error


def test_diff_counts_a_cut_off_answer_as_different(tmp_path: Path) -> None:
    messages = [SYSTEM, {"role": "user", "content": "Tell me"}, _msg("final", "Once upon a")]
    a = _file(tmp_path / "a.json", messages, [_turn(2, 3)])
    b = _file(tmp_path / "b.json", messages, [_turn(2, 3, finish="length", incomplete=True)])
    result = run(["diff", a, b])
    assert result.code == 1
    assert "+[cut off]\n" in result.out
    assert "length" in result.stderr


def test_diff_without_metadata_and_with_other_questions(tmp_path: Path) -> None:
    a = _file(tmp_path / "a.json", [{"role": "user", "content": "x"}, _msg("final", "same")])
    b = _file(tmp_path / "b.json", [{"role": "user", "content": "y"}, _msg("final", "same")])
    result = run(["diff", a, b])
    assert result.code == 0
    assert "the user messages differ" in result.stderr
    assert "no gptoss metadata" in result.stderr


def test_diff_bad_input_is_one_line(tmp_path: Path) -> None:
    a = _weather_chat(tmp_path / "a.json")
    result = run(["diff", a, str(tmp_path / "nope.json")])
    assert result.code == 1 and result.out == ""
    assert result.stderr == f"gptoss: error: {tmp_path / 'nope.json'}: no such conversation file\n"
