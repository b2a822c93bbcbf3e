"""``gptoss history`` through the real CLI: list, show, rm, export, path, import.

GPTOSS_HOME is a temp dir for every test (tests/conftest.py); records are made with the store API.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import replace
from pathlib import Path

from gptoss_cli.harmony import Conversation, Message, Role
from gptoss_cli.store import Record, Store, TokenUsage, Turn, TurnTimings, new_record, read_record

from .runner import Result, run

T0 = dt.datetime(2025, 8, 7, 10, 0, tzinfo=dt.UTC)


def _conversation(question: str, answer: str, reasoning: str = "thinking it over") -> Conversation:
    return Conversation.from_messages(
        [
            Message.from_role_and_content(Role.USER, question),
            Message.from_role_and_content(Role.ASSISTANT, reasoning).with_channel("analysis"),
            Message.from_role_and_content(Role.ASSISTANT, answer).with_channel("final"),
        ]
    )


def _save(
    question: str,
    answer: str = "An answer.",
    *,
    minutes: int = 0,
    ident: str | None = None,
    model: str | None = "openai/gpt-oss-20b",
    incomplete: bool = False,
) -> Record:
    at = T0 + dt.timedelta(minutes=minutes)
    record = new_record(_conversation(question, answer), model=model, kind="llamacpp", at=at)
    turn = Turn(
        messages=(1, 3),
        outcome="incomplete" if incomplete else "final",
        finish_reason="length" if incomplete else "stop",
        usage=TokenUsage(prompt_tokens=74, analysis_tokens=4, final_tokens=3),
        timings=TurnTimings(total=1.5),
    )
    record = replace(record, meta=replace(record.meta, turns=(turn,), **({"id": ident} if ident else {})))
    return Store(clock=lambda: at).save(record)


def _one_error_line(result: Result, code: int = 1) -> str:
    assert result.code == code, result
    assert result.stdout == b""
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


# ---------------------------------------------------------------------------------------------- list


def test_list_is_newest_first_with_id_date_model_turns_title() -> None:
    old = _save("First question?", minutes=0)
    new = _save("Second question?", minutes=5, model=None)
    result = run(["history", "list"])
    assert result.code == 0 and result.stderr == ""
    lines = result.out.splitlines()
    assert [line.split()[0] for line in lines] == [new.id, old.id]
    assert lines[0].endswith("1 turn  Second question?")
    assert "openai/gpt-oss-20b" in lines[1] and lines[0].split()[3] == "-"
    when = (T0 + dt.timedelta(minutes=5)).astimezone().strftime("%Y-%m-%d %H:%M")
    assert when in lines[0]


def test_list_limit_search_and_json() -> None:
    _save("About cats", "Cats purr.", minutes=1)
    dogs = _save("About dogs", "Dogs BARK loudly.", minutes=2)
    _save("About birds", "Birds sing.", minutes=3, ident="b1rd5")
    assert len(run(["history", "list", "--limit", "2"]).out.splitlines()) == 2
    assert len(run(["history", "list", "--limit", "0"]).out.splitlines()) == 3
    found = run(["history", "list", "--search", "bark"])  # the answer's text, any case
    assert [line.split()[0] for line in found.out.splitlines()] == [dogs.id]
    assert run(["history", "list", "-q", "thinking it over"]).out == ""  # reasoning is not searched
    data = json.loads(run(["history", "list", "--json"]).out)
    assert [d["id"] for d in data] == ["b1rd5", dogs.id, data[2]["id"]]
    assert data[0]["title"] == "About birds" and data[0]["turns"] == 1 and data[0]["model"]


def test_list_empty_says_so_on_stderr() -> None:
    result = run(["history", "list"])
    assert result.code == 0 and result.out == "" and "no saved conversations" in result.stderr
    assert json.loads(run(["history", "list", "--json"]).out) == []
    result = run(["history", "list", "-q", "nothing"])
    assert result.code == 0 and result.out == ""


def test_a_broken_file_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "0badf11e.json"
    broken.write_text('{"messages": [\n  {"role": "user",, }\n]}\n')
    error = _one_error_line(run(["history", "show", str(broken)]))
    assert str(broken) in error and "line 2, column 19" in error


# ---------------------------------------------------------------------------------------------- show


def test_show_by_prefix_prints_path_then_everything() -> None:
    record = _save("What is 2+2?", "It is 4.", incomplete=True)
    result = run(["history", "show", record.id[:5]])
    assert result.code == 0, result.stderr
    lines = result.out.splitlines()
    assert lines[0] == f"{record.id} in {Store().path}"
    text = result.out
    for expected in ("What is 2+2?", "It is 4.", "thinking it over", "llamacpp", "openai/gpt-oss-20b"):
        assert expected in text
    assert "── assistant · final · incomplete ──" in text
    assert "completion 1 · length (cut off) · 74 prompt + 4 analysis + 3 final tokens · 1.50 s" in text


def test_show_json_is_the_conversation_file(tmp_path: Path) -> None:
    record = _save("Raw please")
    result = run(["history", "show", record.id, "--json"])
    assert result.code == 0
    assert json.loads(result.stdout) == Store().load(record.id).to_dict()
    path = tmp_path / "raw.json"
    path.write_bytes(result.stdout)
    assert read_record(path).conversation == record.conversation


def test_unknown_and_ambiguous_ids_are_one_line() -> None:
    _save("one", ident="abc111")
    _save("two", ident="abc222")
    for command in ("show", "export", "rm"):
        error = _one_error_line(run(["history", command, "zzz"]))
        assert "no conversation with id 'zzz'" in error
        error = _one_error_line(run(["history", command, "abc"]))
        assert "ambiguous" in error and "abc111" in error and "abc222" in error
    assert run(["history", "show", "abc1"]).code == 0


# ------------------------------------------------------------------------------------------------ rm


def test_rm_removes_and_says_what() -> None:
    _save("Remove me", ident="aaa111")
    _save("Me too", ident="bbb222")
    _save("Keep me", ident="ccc333")
    result = run(["history", "rm", "aaa", "bbb222", "aaa111"])  # the same one twice: removed once
    assert result.code == 0, result.stderr
    assert result.out == "removed aaa111  Remove me\nremoved bbb222  Me too\n"
    assert [line.split()[0] for line in run(["history", "list"]).out.splitlines()] == ["ccc333"]


def test_rm_is_all_or_nothing_and_stays_in_the_history(tmp_path: Path) -> None:
    a = _save("Do not remove", ident="aaa111")
    _one_error_line(run(["history", "rm", "aaa111", "nosuch"]))
    assert Store().find("aaa111") == "aaa111"
    outside = tmp_path / "mine.json"
    outside.write_text(json.dumps(a.to_dict()))
    error = _one_error_line(run(["history", "rm", str(outside)]))
    assert "not in the history" in error
    assert outside.exists()


# -------------------------------------------------------------------------------------------- export


def test_export_markdown_chat_and_gptoss() -> None:
    record = _save("Export me", "The **answer**.", ident="e1")
    markdown = run(["history", "export", "e1"])
    assert markdown.code == 0
    assert "# Export me" in markdown.out and "The **answer**." in markdown.out
    assert "thinking it over" not in markdown.out
    assert "thinking it over" in run(["history", "export", "e1", "--reasoning"]).out
    chat = json.loads(run(["history", "export", "e1", "--format", "chat"]).out)
    assert chat == [
        {"role": "user", "content": "Export me"},
        {"role": "assistant", "content": "The **answer**."},
    ]
    chat = json.loads(run(["history", "export", "e1", "-f", "chat", "--reasoning"]).out)
    assert chat[1]["reasoning_content"] == "thinking it over"
    own = run(["history", "export", "e1", "-f", "gptoss"]).out
    assert json.loads(own) == Store().load(record.id).to_dict()


def test_export_to_a_file(tmp_path: Path) -> None:
    _save("To a file", ident="f1")
    target = tmp_path / "out" / "conversation.md"
    result = run(["history", "export", "f1", "-o", str(target)])
    assert result.code == 0 and result.stdout == b""
    assert str(target) in result.stderr
    assert target.read_text().startswith("# To a file\n")
    assert [p.name for p in target.parent.iterdir()] == ["conversation.md"]  # no temp file left


def test_export_bad_format_is_one_line() -> None:
    _save("x", ident="x1")
    error = _one_error_line(run(["history", "export", "x1", "--format", "pdf"]), code=2)
    assert "pdf" in error and "markdown" in error


# ---------------------------------------------------------------------------------------------- path


def test_path_is_the_history_database() -> None:
    result = run(["history", "path"])
    assert result.code == 0
    assert Path(result.out.strip()) == Path(os.environ["GPTOSS_HOME"]) / "history.db"


# -------------------------------------------------------------------------------------------- import

CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Tokyo?"},
    {
        "role": "assistant",
        "content": None,
        "reasoning_content": "I should call the tool.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Tokyo"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": '{"temp_c": 20}'},
    {"role": "assistant", "content": "20 °C."},
]


def test_import_chat_completions_messages(tmp_path: Path) -> None:
    source = tmp_path / "chat.json"
    source.write_text(json.dumps(CHAT))
    result = run(["history", "import", str(source)])
    assert result.code == 0, result.stderr
    ident = result.out.strip()
    assert result.out == f"{ident}\n" and "imported" in result.stderr
    record = Store().load(ident)
    assert record.id == ident
    roles = [(m.role.value, m.channel, m.recipient) for m in record.conversation.messages]
    assert roles == [
        ("developer", None, None),
        ("user", None, None),
        ("assistant", "analysis", None),
        ("assistant", "commentary", "functions.get_weather"),
        ("tool", "commentary", "assistant"),
        ("assistant", "final", None),
    ]
    listed = run(["history", "list"]).out
    assert listed.startswith(ident) and "Weather in Tokyo?" in listed
    shown = run(["history", "show", ident]).out
    assert "── tool functions.get_weather → assistant · commentary ──" in shown


def test_import_harmony_and_gptoss_files_get_new_ids(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "conversations" / "chat.json"
    first = run(["history", "import", str(example), "--title", "From the examples"])
    assert first.code == 0, first.stderr
    record = Store().load(first.out.strip())
    assert record.title == "From the examples"
    assert record.conversation == read_record(example).conversation
    # a gptoss file keeps its metadata (turns, model) but is a new conversation
    saved = _save("Already saved", ident="orig1")
    exported = tmp_path / "orig1.json"
    exported.write_text(json.dumps(saved.to_dict()))
    again = run(["history", "import", str(exported)])
    assert again.code == 0 and again.out.strip() != "orig1"
    copy = Store().load(again.out.strip())
    assert copy.meta.turns == saved.meta.turns and copy.meta.model == saved.meta.model
    assert len(run(["history", "list"]).out.splitlines()) == 3


def test_import_from_stdin() -> None:
    result = run(["history", "import", "-"], stdin=json.dumps(CHAT[1:2]).encode())
    assert result.code == 0, result.stderr
    assert Store().load(result.out.strip()).title == "Weather in Tokyo?"


def test_import_broken_files_are_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[\n  {"role": "user",\n   "content": }\n]\n')
    error = _one_error_line(run(["history", "import", str(broken)]))
    assert f"{broken}: invalid JSON at line 3, column 15" in error
    error = _one_error_line(run(["history", "import", "-"], stdin=b'{"messages": [}'))
    assert "<stdin>: invalid JSON at line 1, column 15" in error
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    assert "no messages" in _one_error_line(run(["history", "import", str(empty)]))
    wrong = tmp_path / "wrong.json"
    wrong.write_text('[{"role": "user", "content": 3}]')
    assert str(wrong) in _one_error_line(run(["history", "import", str(wrong)]))
    missing = _one_error_line(run(["history", "import", str(tmp_path / "nope.json")]))
    assert "no such conversation file" in missing
    assert "gptoss" in _one_error_line(run(["history", "import", str(broken), "-f", "pdf"]), code=2)
    assert run(["history", "list"]).out == ""
