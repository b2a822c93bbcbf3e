"""``session.compare``: two runs of a conversation compared, as values (``gptoss diff`` prints them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gptoss_cli.session.compare import compare, exchanges
from gptoss_cli.store import read_record

SYSTEM = {"role": "system", "content": [{"type": "system_content", "reasoning_effort": "Low"}]}


def _record(path: Path, answers: list[str], calls: tuple[str, ...] = ()) -> Any:
    messages: list[dict[str, Any]] = [SYSTEM]
    for n, answer in enumerate(answers, 1):
        messages.append({"role": "user", "content": f"question {n}"})
        for call in calls:
            messages.append(
                {
                    "role": "assistant",
                    "channel": "commentary",
                    "recipient": call,
                    "content": '{"city":"Oslo"}',
                }
            )
            messages.append({"role": "tool", "name": call, "content": "3 degrees"})
        messages.append({"role": "assistant", "channel": "analysis", "content": "SECRET plan"})
        messages.append({"role": "assistant", "channel": "final", "content": answer})
    path.write_text(json.dumps({"messages": messages}), encoding="utf-8")
    return read_record(path)


def test_the_same_answers_compare_the_same(tmp_path: Path) -> None:
    a = _record(tmp_path / "a.json", ["one", "two"])
    b = _record(tmp_path / "b.json", ["one", "two"])
    result = compare("a.json", a, "b.json", b)
    assert result.same and result.answers_diff == ()
    assert result.header == "A = a.json\nB = b.json\n"
    assert "final answers: same (2 turns)\n" in result.summary
    assert "tool calls: none\n" in result.summary
    assert "SECRET" not in result.summary + "".join(result.answers_diff)


def test_a_changed_answer_names_its_turn_and_the_diff_shows_it(tmp_path: Path) -> None:
    a = _record(tmp_path / "a.json", ["one", "two"], calls=("functions.weather",))
    b = _record(tmp_path / "b.json", ["one", "TWO"])
    result = compare("a", a, "b", b)
    assert not result.same
    assert "-two\n" in result.answers_diff and "+TWO\n" in result.answers_diff
    assert "final answers: differ (turn 2 of 2)\n" in result.summary
    assert "tool calls: differ\n" in result.summary
    assert "-turn 1: functions.weather" in result.summary


def test_exchanges_pair_each_user_message_with_its_final_answer(tmp_path: Path) -> None:
    record = _record(tmp_path / "a.json", ["one", "two"], calls=("functions.weather",))
    found = exchanges(record.conversation.messages)
    assert [(e.user, e.final, e.calls) for e in found] == [
        ("question 1", "one", ('functions.weather {"city":"Oslo"}',)),
        ("question 2", "two", ('functions.weather {"city":"Oslo"}',)),
    ]
