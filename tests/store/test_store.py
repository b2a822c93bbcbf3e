"""Conversation files and the history: round trips, atomicity, errors, no secrets, import/export."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path
from typing import Any

import openai_harmony  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gptoss_cli import store as store_module
from gptoss_cli.errors import StoreError
from gptoss_cli.harmony import (
    Conversation,
    DeveloperContent,
    Message,
    Role,
    SystemContent,
    ToolDescription,
)
from gptoss_cli.store import (
    Metadata,
    Record,
    Store,
    TokenUsage,
    Turn,
    TurnTimings,
    export,
    from_chat_messages,
    new_record,
    parse_record,
    prompt_sha256,
    read_record,
    to_chat_messages,
    to_markdown,
    write_record,
)

SECRET = "sk-live-SECRET-0123456789"
T0 = dt.datetime(2025, 8, 7, 10, 11, 12, 345000, tzinfo=dt.timezone(dt.timedelta(hours=2)))


class Clock:
    """A clock that moves one minute per reading."""

    def __init__(self, start: dt.datetime = T0) -> None:
        self.current = start

    def __call__(self) -> dt.datetime:
        self.current += dt.timedelta(minutes=1)
        return self.current


def user(text: str) -> Message:
    return Message.from_role_and_content(Role.USER, text)


def assistant(text: str, channel: str = "final") -> Message:
    return Message.from_role_and_content(Role.ASSISTANT, text).with_channel(channel)


def call(name: str, args: str) -> Message:
    return (
        Message.from_role_and_content(Role.ASSISTANT, args)
        .with_channel("commentary")
        .with_recipient(f"functions.{name}")
        .with_content_type("<|constrain|>json")
    )


def result(name: str, text: str) -> Message:
    return (
        Message.from_role_and_content(Role.TOOL, text, name=f"functions.{name}")
        .with_channel("commentary")
        .with_recipient("assistant")
    )


def developer(instructions: str) -> Message:
    return Message.from_role_and_content(Role.DEVELOPER, DeveloperContent(instructions=instructions))


WEATHER = DeveloperContent(instructions="Answer briefly.").with_function_tools(
    [
        ToolDescription(
            "get_weather",
            "Weather for a city",
            {"type": "object", "properties": {"city": {"type": "string"}}},
        )
    ]
)
TOOL_CHAT = Conversation.from_messages(
    [
        Message.from_role_and_content(Role.SYSTEM, SystemContent(conversation_start_date="2025-08-07")),
        Message.from_role_and_content(Role.DEVELOPER, WEATHER),
        user("What is the weather in Tokyo?"),
        assistant("I should call get_weather.", "analysis"),
        call("get_weather", '{"city": "Tokyo"}'),
        result("get_weather", '{"temp_c": 20}'),
        assistant("Sunny, so nothing to add.", "analysis"),
        assistant("It is **20 °C** in Tokyo."),
    ]
)


def tool_record(**overrides: Any) -> Record:
    record = new_record(
        TOOL_CHAT,
        base_url="http://127.0.0.1:8000/v1",
        kind="vllm",
        profile="local",
        model="openai/gpt-oss-20b",
        reasoning_effort="medium",
        options={"temperature": 1.0},
        at=T0,
    )
    turns = (
        Turn(
            (3, 5),
            finish_reason="stop",
            usage=TokenUsage(prompt_tokens=120),
            prompt_sha256=prompt_sha256("p1"),
            started=T0,
        ),
        Turn(
            (6, 8),
            finish_reason="stop",
            usage=TokenUsage(completion_tokens=9),
            timings=TurnTimings(first_token=0.12),
            prompt_sha256=prompt_sha256("p2"),
        ),
    )
    return Record(record.conversation, Metadata(**{**record.meta.__dict__, "turns": turns, **overrides}))


# --------------------------------------------------------------------------------------- round trips


def test_save_then_load_gives_the_same_record(home: Path) -> None:
    store = Store()
    saved = store.save(tool_record(), touch=False)
    assert saved.path is None and store.path == home / "history.db"
    loaded = store.load(saved.id)
    assert loaded == saved
    assert loaded.conversation == TOOL_CHAT
    assert loaded.meta.turns[0].prompt_sha256 == prompt_sha256("p1")


def test_saved_files_load_in_openai_harmony(home: Path) -> None:
    saved = Store().save(tool_record())
    text = store_module.dumps(Store().load(saved.id))
    theirs = openai_harmony.Conversation.from_json(text)
    assert json.loads(theirs.to_json()) == TOOL_CHAT.to_dict()
    assert theirs.messages[4].recipient == "functions.get_weather"


_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
_messages = st.one_of(
    st.builds(user, _text),
    st.builds(assistant, _text, st.sampled_from(["analysis", "commentary", "final"])),
    st.builds(call, st.from_regex(r"[a-z_]{1,10}", fullmatch=True), _text),
    st.builds(result, st.from_regex(r"[a-z_]{1,10}", fullmatch=True), _text),
    st.builds(developer, _text),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_messages, max_size=8), st.one_of(st.none(), _text))
def test_any_conversation_round_trips_through_the_file_format(
    messages: list[Message], title: str | None
) -> None:
    record = new_record(Conversation.from_messages(messages), title=title, model="m", at=T0)
    text = store_module.dumps(record)
    again = parse_record(json.loads(text))
    assert again.conversation == record.conversation
    assert again.meta == record.meta
    theirs = openai_harmony.Conversation.from_json(text)
    assert json.loads(theirs.to_json()) == record.conversation.to_dict()


def test_unknown_metadata_keys_survive_a_save(home: Path) -> None:
    data = tool_record().to_dict()
    data["gptoss"]["from_the_future"] = {"x": 1}
    path = home / "f.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data))
    record = read_record(path)
    write_record(record)
    assert json.loads(path.read_text())["gptoss"]["from_the_future"] == {"x": 1}


def test_files_are_private(home: Path) -> None:
    store = Store()
    store.save(tool_record())
    for path in home.glob("history.db*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


# ---------------------------------------------------------------------------------------- atomicity


@pytest.mark.parametrize(
    "bad",
    [
        {"options": {"temperature": object()}},  # not JSON at all
        {"options": {"top_p": float("nan")}},  # not valid JSON either
    ],
)
def test_a_failed_serialisation_leaves_the_stored_conversation_whole(home: Path, bad: dict[str, Any]) -> None:
    store = Store()
    saved = store.save(tool_record())
    broken = Record(saved.conversation, Metadata(**{**saved.meta.__dict__, **bad}))
    with pytest.raises(StoreError) as info:
        store.save(broken)
    assert "cannot save conversation" in str(info.value)
    assert store.load(saved.id) == saved


# ------------------------------------------------------------------------------------ no secrets


def test_no_api_key_reaches_the_file(home: Path) -> None:
    record = new_record(
        TOOL_CHAT,
        base_url=f"https://user:{SECRET}@api.example.com:8443/v1?api_key={SECRET}#frag",
        options={"api_key": SECRET, "headers": {"Authorization": SECRET}, "temperature": 0.5},
    )
    record = record.add_turn(TOOL_CHAT, Turn((7, 8), extra={"token": SECRET, "seed": 1}))
    # even a hand-built record with an unsafe URL is made safe on the way out
    record = Record(
        record.conversation, Metadata(**{**record.meta.__dict__, "base_url": f"http://u:{SECRET}@h"})
    )
    store = Store()
    saved = store.save(record)
    store.close()
    assert SECRET.encode() not in b"".join(p.read_bytes() for p in home.glob("history.db*"))
    text = store_module.dumps(Store().load(saved.id))
    assert SECRET not in text
    gptoss = json.loads(text)["gptoss"]
    assert gptoss["server"]["base_url"] == "http://h"
    assert store_module.safe_url(f"https://user:{SECRET}@api.example.com:8443/v1?api_key={SECRET}") == (
        "https://api.example.com:8443/v1"
    )
    assert gptoss["options"] == {
        "api_key": "<redacted>",
        "headers": {"Authorization": "<redacted>"},
        "temperature": 0.5,
    }
    assert gptoss["turns"][0]["extra"] == {"token": "<redacted>", "seed": 1}


# ------------------------------------------------------------------------------------------ errors


def write_text(home: Path, name: str, text: str | bytes) -> Path:
    path = home / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_broken_json_names_file_line_and_column(home: Path) -> None:
    path = write_text(home, "c.json", '{\n  "messages": [\n    {"role": "user",, }\n  ]\n}\n')
    with pytest.raises(StoreError) as info:
        read_record(path)
    assert info.value.path == str(path)
    assert (
        str(info.value)
        == f"{path}: invalid JSON at line 3, column 21: Expecting property name enclosed in double quotes"
    )


def test_not_utf8_and_missing_files(home: Path) -> None:
    path = write_text(home, "c.json", b'{"messages": [\n{"role": "user", "content": "caf\xe9"}]}')
    with pytest.raises(StoreError, match=r"not UTF-8 text \(line 2\)"):
        read_record(path)
    with pytest.raises(StoreError, match="no such conversation file"):
        read_record(home / "missing.json")
    with pytest.raises(StoreError, match="is a directory"):
        read_record(home)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"messages": [{"role": "user", "content": "hi"}, {"role": "robot", "content": "x"}]},
            "messages[1].role",
        ),
        ({"messages": [{"role": "user", "content": 3}]}, "messages[0].content"),
        ({"messages": "hi"}, "messages: invalid type"),
        ({"conversation": []}, "missing field `messages`"),
        ("just a string", "expected a JSON object"),
        ({"messages": [], "gptoss": []}, "gptoss: expected an object, got an array"),
        ({"messages": [], "gptoss": {"created": "x"}}, "gptoss.id: expected an id"),
        (
            {"messages": [], "gptoss": {"id": "ab", "created": "yesterday"}},
            "gptoss.created: expected an ISO 8601",
        ),
        (
            {"messages": [], "gptoss": {"id": "ab", "version": 99}},
            "gptoss.version: expected a format version up to 1",
        ),
        (
            {
                "messages": [],
                "gptoss": {
                    "id": "a",
                    "created": "2025-01-01T00:00",
                    "updated": "2025-01-01T00:00",
                    "turns": [{"messages": [0]}],
                },
            },
            "gptoss.turns[0].messages: expected [start, end] message indices, got an array",
        ),
        (
            {
                "messages": [],
                "gptoss": {
                    "id": "a",
                    "created": "2025-01-01T00:00",
                    "updated": "2025-01-01T00:00",
                    "server": {"model": 5},
                },
            },
            "gptoss.server.model: expected a string, got a number",
        ),
        (
            {"messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]},
            "[0].tool_call_id: expected the id of an earlier tool call",
        ),
    ],
)
def test_wrong_shapes_name_file_and_key_path(home: Path, data: Any, message: str) -> None:
    path = write_text(home, "c.json", json.dumps(data))
    with pytest.raises(StoreError) as info:
        read_record(path)
    assert info.value.path == str(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


# ----------------------------------------------------------------------------------------- history


def fill(store: Store) -> list[Record]:
    texts = [
        ("Tell me about Rust", "Rust is a systems language."),
        ("Bake bread?", "Flour, water, SALT and time."),
        ("Second thoughts on Rust", "Still a systems language."),
    ]
    out = []
    for question, answer in texts:
        conv = Conversation.from_messages(
            [user(question), assistant("secret salt thinking", "analysis"), assistant(answer)]
        )
        out.append(store.save(new_record(conv, model="gpt-oss-20b", profile="local", at=store.clock())))
    return out


def test_list_newest_first_with_titles_and_turns(home: Path) -> None:
    store = Store(clock=Clock())
    records = fill(store)
    listed = store.summaries()
    assert [s.id for s in listed] == [r.id for r in reversed(records)]
    assert [s.title for s in listed] == ["Second thoughts on Rust", "Bake bread?", "Tell me about Rust"]
    assert {(s.turns, s.messages, s.model, s.profile) for s in listed} == {(1, 3, "gpt-oss-20b", "local")}
    assert store.summaries(limit=1)[0].id == records[-1].id


def test_a_continued_conversation_moves_to_the_top(home: Path) -> None:
    store = Store(clock=Clock())
    records = fill(store)
    first = records[0]
    store.save(
        first.add_turn(Conversation.from_messages([*first.conversation.messages, user("more")]), Turn((3, 4)))
    )
    last = store.last()
    assert last is not None and last.id == first.id
    assert len(last.conversation.messages) == 4
    assert store.summaries()[0].turns == 2


def test_search_is_case_insensitive_over_user_and_final_text_only(home: Path) -> None:
    store = Store(clock=Clock())
    records = fill(store)
    assert {s.id for s in store.search("rust")} == {records[0].id, records[2].id}
    assert [s.id for s in store.search("salt")] == [records[1].id]  # final text "SALT", not the analysis
    assert store.search("thinking") == []  # only in analysis
    assert [s.id for s in store.summaries(query="BREAD")] == [records[1].id]


def test_resolve_by_id_prefix_and_path(home: Path, tmp_path: Path) -> None:
    store = Store(clock=Clock())
    a = store.save(new_record(Conversation.from_messages([user("a")])))
    b = store.save(new_record(Conversation.from_messages([user("b")])))
    store.remove(a.id)
    store.remove(b.id)
    a = store.save(Record(a.conversation, Metadata(**{**a.meta.__dict__, "id": "abc111"})))
    b = store.save(Record(b.conversation, Metadata(**{**b.meta.__dict__, "id": "abc222"})))
    assert store.find("abc1") == "abc111"
    assert store.find("ABC222") == "abc222"
    path = write_record(a, tmp_path / "a.json").path
    assert store.load(str(path)).conversation == a.conversation  # a path is read, not looked up
    with pytest.raises(StoreError) as ambiguous:
        store.find("abc")
    assert "ambiguous" in str(ambiguous.value) and "abc111" in str(ambiguous.value)
    with pytest.raises(StoreError, match="no conversation with id 'zzz'"):
        store.find("zzz")
    with pytest.raises(StoreError, match="no such conversation file"):
        store.load("./nope.json")


def test_remove_deletes_every_row(home: Path) -> None:
    store = Store(clock=Clock())
    record = store.save(new_record(Conversation.from_messages([user("bye")]), at=T0))
    assert store.remove(record.id[:6]) == record.id
    assert store.summaries() == []
    assert store.search("bye") == []
    with pytest.raises(StoreError):
        store.load(record.id)


def test_last_of_an_empty_history_is_none(home: Path) -> None:
    assert Store().last() is None
    assert Store().summaries() == []


# ------------------------------------------------------------------------------- chat completions

CHAT = [
    {"role": "system", "content": "You are terse."},
    {
        "role": "user",
        "content": [{"type": "text", "text": "Weather in "}, {"type": "text", "text": "Tokyo?"}],
    },
    {
        "role": "assistant",
        "content": "Let me check.",
        "reasoning_content": "Need the weather tool.",
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Tokyo"}'},
            },
            {"id": "c2", "type": "function", "function": {"name": "get_time", "arguments": {"tz": "JST"}}},
        ],
    },
    {"role": "tool", "tool_call_id": "c2", "content": "09:00"},
    {"role": "tool", "tool_call_id": "c1", "content": '{"temp_c": 20}'},
    {"role": "assistant", "content": "20 °C at 09:00.", "reasoning": "Combine both."},
]


def test_import_chat_completions() -> None:
    messages = from_chat_messages(CHAT)
    assert messages == (
        developer("You are terse."),
        user("Weather in Tokyo?"),
        assistant("Need the weather tool.", "analysis"),
        assistant("Let me check.", "commentary"),
        call("get_weather", '{"city":"Tokyo"}'),
        call("get_time", '{"tz": "JST"}'),
        result("get_time", "09:00"),
        result("get_weather", '{"temp_c": 20}'),
        assistant("Combine both.", "analysis"),
        assistant("20 °C at 09:00."),
    )


def test_import_legacy_function_messages() -> None:
    messages = from_chat_messages(
        [
            {"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": "{}"}},
            {"role": "function", "name": "f", "content": "ok"},
        ]
    )
    assert messages == (call("f", "{}"), result("f", "ok"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"role": "user"}, None),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
            "[0].content[0]: expected a text part",
        ),
        (
            [{"role": "wizard", "content": "x"}],
            "[0].role: expected system, developer, user, assistant or tool",
        ),
        (
            [{"role": "assistant", "tool_calls": [{"function": {"arguments": "{}"}}]}],
            "[0].tool_calls[0].function.name",
        ),
        ([{"role": "assistant", "tool_calls": {"id": "x"}}], "[0].tool_calls: expected an array"),
        ([{"role": "tool", "content": "x"}], "[0]: expected tool_call_id"),
        (["hello"], "[0]: expected a message object, got str"),
    ],
)
def test_import_errors_name_the_key_path(data: Any, message: str | None) -> None:
    with pytest.raises(StoreError) as info:
        from_chat_messages(data)
    assert message is None or str(info.value).startswith(message)


def test_chat_files_are_detected(home: Path) -> None:
    bare = write_text(home, "bare.json", json.dumps(CHAT))
    body = write_text(home, "body.json", json.dumps({"model": "x", "messages": CHAT}))
    plain = write_text(home, "0123abcd.json", json.dumps(TOOL_CHAT.to_dict()))
    assert read_record(bare).conversation.messages == from_chat_messages(CHAT)
    assert read_record(body).conversation.messages == from_chat_messages(CHAT)
    harmony = read_record(plain)
    assert harmony.conversation == TOOL_CHAT
    assert harmony.id == "0123abcd"  # a file without metadata is known by its name
    simple = write_text(home, "s.json", json.dumps({"messages": [{"role": "system", "content": "Be nice"}]}))
    assert read_record(simple).conversation.messages == (developer("Be nice"),)
    assert read_record(simple, format="harmony").conversation.messages[0].role is Role.SYSTEM


def test_export_chat_completions_final_only_by_default() -> None:
    exported = to_chat_messages(TOOL_CHAT.messages)
    assert exported == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "What is the weather in Tokyo?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_0",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Tokyo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_0", "content": '{"temp_c": 20}'},
        {"role": "assistant", "content": "It is **20 °C** in Tokyo."},
    ]
    with_reasoning = to_chat_messages(TOOL_CHAT.messages, reasoning=True)
    assert with_reasoning[2]["reasoning_content"] == "I should call get_weather."
    assert with_reasoning[4]["reasoning_content"] == "Sunny, so nothing to add."


def test_chat_export_then_import_round_trips() -> None:
    messages = from_chat_messages(CHAT)
    assert from_chat_messages(to_chat_messages(messages, reasoning=True)) == messages
    assert json.loads(export(Record(Conversation(messages), tool_record().meta), "chat")) == to_chat_messages(
        messages
    )


# --------------------------------------------------------------------------------------- markdown


def test_markdown_final_answers_only_by_default() -> None:
    text = to_markdown(tool_record())
    assert text == (
        "# What is the weather in Tokyo?\n\n"
        "*2025-08-07 10:11 · openai/gpt-oss-20b · profile local · reasoning medium*\n\n"
        "## User\n\nWhat is the weather in Tokyo?\n\n"
        "## Assistant\n\nIt is **20 °C** in Tokyo.\n"
    )
    assert "get_weather" not in text and "should call" not in text
    assert export(tool_record()) == text


def test_markdown_with_reasoning_tools_and_instructions() -> None:
    text = to_markdown(tool_record(), reasoning=True, tools=True, instructions=True)
    assert "## Instructions\n\nAnswer briefly." in text
    assert "<details>\n<summary>Reasoning</summary>\n\nI should call get_weather.\n\n</details>" in text
    assert '**Tool call** `functions.get_weather`:\n\n```json\n{"city": "Tokyo"}\n```' in text
    assert '**Result** from `functions.get_weather`:\n\n```json\n{"temp_c": 20}\n```' in text
    assert text.count("## Assistant") == 1  # one heading for the whole tool loop
    assert export(tool_record(), "markdown", reasoning=True).count("<details>") == 2


def test_markdown_marks_cut_off_answers_and_fences_safely() -> None:
    conv = Conversation.from_messages(
        [user("code?"), assistant("```py\nprint(1)\n```"), call("f", "a ``` b")]
    )
    record = new_record(conv, title="Cut", at=T0).add_turn(
        conv, Turn((1, 2), "incomplete", finish_reason="length")
    )
    text = to_markdown(record, tools=True)
    assert "```py\nprint(1)\n```\n\n*[incomplete: length]*" in text
    assert "````\na ``` b\n````" in text


def test_export_gptoss_is_the_file_itself() -> None:
    record = tool_record()
    assert export(record, "gptoss") == store_module.dumps(record)
