"""The SQLite history: appending saves, search, token ids, branches, and the migration of the
previous version's JSON files (``tests/data/history_v1``: written by gptoss at commit f0b0fb9, the
version before this store, through ``gptoss ask`` against the scripted server)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from gptoss_cli.harmony import Conversation, Message, Role, get_tokenizer
from gptoss_cli.store import Record, Store, Turn, new_record, read_record
from gptoss_cli.store.legacy import legacy_files

from ..cli.runner import run
from ..scripted_server import Reply, ScriptedServer, llamacpp_stream

V1 = Path(__file__).resolve().parents[1] / "data" / "history_v1"


def _user(text: str) -> Message:
    return Message.from_role_and_content(Role.USER, text)


def _final(text: str) -> Message:
    return Message.from_role_and_content(Role.ASSISTANT, text).with_channel("final")


def _grow(record: Record, *messages: Message) -> Record:
    conversation = Conversation.from_messages([*record.conversation.messages, *messages])
    n = len(record.conversation.messages)
    return record.add_turn(conversation, Turn((n + 1, n + len(messages))))


def test_a_continued_conversation_is_appended_not_rewritten(home: Path) -> None:
    store = Store()
    record = store.save(new_record(Conversation.from_messages([_user("one"), _final("1")])))
    db = sqlite3.connect(store.path)
    before = db.execute("SELECT position, data FROM messages ORDER BY position").fetchall()
    bigger = store.save(_grow(record, _user("two"), _final("2")))
    after = db.execute("SELECT position, data FROM messages ORDER BY position").fetchall()
    assert after[:2] == before and len(after) == 4
    assert store.load(record.id).conversation == bigger.conversation
    # history rewritten by its owner (an undo): the rows are replaced, still one conversation
    shorter = replace(bigger, conversation=Conversation.from_messages([_user("one"), _final("uno")]))
    store.save(replace(shorter, meta=replace(shorter.meta, turns=())))
    assert [m.text for m in store.load(record.id).conversation.messages] == ["one", "uno"]


def test_search_finds_substrings_in_any_case_in_user_and_final_text(home: Path) -> None:
    store = Store()
    thinking = Message.from_role_and_content(Role.ASSISTANT, "ponder xyz").with_channel("analysis")
    a = store.save(new_record(Conversation.from_messages([_user("Über Straßen"), thinking, _final("NO")])))
    b = store.save(new_record(Conversation.from_messages([_user('quoted "word" 100%'), _final("ok")])))
    assert [s.id for s in store.search("über")] == [a.id]
    assert [s.id for s in store.search("xyz")] == []  # reasoning is not searched
    assert [s.id for s in store.search('"word"')] == [b.id]  # quotes are text, not syntax
    assert [s.id for s in store.search("0%")] == [b.id]  # two characters: LIKE, % escaped
    assert [s.id for s in store.search("no")] == [a.id]


def test_migration_keeps_every_conversation_of_the_previous_version(home: Path, tmp_path: Path) -> None:
    shutil.copytree(V1, home / "conversations")
    files = list(legacy_files(home / "conversations"))
    assert len(files) == 3
    store = Store()
    listed = store.summaries()
    assert sorted(s.id for s in listed) == sorted(p.stem for p in files)
    for path in files:
        before = read_record(path)
        after = store.load(path.stem)
        assert after.conversation == before.conversation
        assert after.meta == before.meta  # metadata, every turn, tool calls: nothing lost
    tools = store.load(next(s.id for s in listed if s.title == "weather in Paris?"))
    (call,) = [c for t in tools.meta.turns for c in t.tool_calls]
    assert call.recipient == "functions.get_weather" and call.decision == "yes (--yes)"
    assert '"sunny"' in call.output
    cut = store.load(next(s.id for s in listed if s.title == "a long story please"))
    assert cut.meta.turns[0].outcome == "incomplete"
    assert [p.name for p in files] == [p.name for p in legacy_files(home / "conversations")]  # kept
    store.close()
    # once only: a file added to the old folder later is not imported behind the user's back
    shutil.copy(files[0], files[0].with_name("0000aaaa0000.json"))
    assert len(Store().summaries()) == 3


def test_a_broken_old_file_is_named_and_the_rest_migrates(home: Path) -> None:
    shutil.copytree(V1, home / "conversations")
    broken = next(iter(legacy_files(home / "conversations"))).with_name("0badf11e.json")
    broken.write_text('{"messages": [\n  {"role": "user",, }\n]}\n')
    result = run(["history", "list"])
    assert result.code == 0 and len(result.out.splitlines()) == 3
    assert str(broken) in result.stderr and "line 2, column 19" in result.stderr
    assert broken.exists()


def test_continuing_a_migrated_conversation(scripted_server: ScriptedServer, home: Path) -> None:
    shutil.copytree(V1, home / "conversations")
    newest = Store().summaries()[0]
    scripted_server.script(
        "/v1/completions", Reply.sse(llamacpp_stream(["<|channel|>final<|message|>", "Ok."]))
    )
    assert run(["ask", "more", "-c", "--base-url", scripted_server.url, "--kind", "llamacpp"]).code == 0
    record = Store().load(newest.id)
    assert record.conversation.messages[-2].text == "more" and record.conversation.messages[-1].text == "Ok."


def test_stored_token_ids_spare_a_continued_conversation_the_tokenizer(
    scripted_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ["--base-url", scripted_server.url, "--kind", "llamacpp"]
    answer = "A long answer that is well over thirty-two characters, to be cached. " * 3
    scripted_server.script(
        "/v1/completions",
        Reply.sse(llamacpp_stream(["<|channel|>final<|message|>", answer])),
        Reply.sse(llamacpp_stream(["<|channel|>final<|message|>", "Second."])),
    )
    assert run(["ask", "first question, long enough to be cached too", *server]).code == 0
    store = Store()
    (summary,) = store.summaries()
    known = store.token_ids(summary.id)
    assert known[answer] == get_tokenizer().encode(answer)
    encoded: list[str] = []
    tokenizer = get_tokenizer()
    real = tokenizer.encode

    def counting(text: str, *args: object, **kwargs: object) -> list[int]:
        encoded.append(text)
        return real(text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tokenizer, "encode", counting)
    assert run(["ask", "and then?", "-c", *server]).code == 0
    assert answer not in encoded  # read back with the conversation, not tokenized again
    prompt = scripted_server.requests[-1].json()["prompt"]
    assert tokenizer.decode(prompt).count(answer.strip()) == 1


# Several processes opening a history that does not exist yet, at the same moment: switching a new
# database to WAL answers "database is locked" at once, without waiting, when another connection is
# doing the same (two replay --jobs runs saving their first conversations failed so).
OPEN = (
    "import sys, pathlib\n"
    "from gptoss_cli.store.db import Store\n"
    "store = Store(pathlib.Path(sys.argv[1]), legacy=None)\n"
    "store.summaries()\n"
    "store.close()\n"
)


def test_processes_opening_a_new_history_at_once_all_succeed(tmp_path: Path) -> None:
    failures = []
    for trial in range(10):
        path = tmp_path / f"h{trial}" / "history.db"
        children = [
            subprocess.Popen([sys.executable, "-c", OPEN, str(path)], stderr=subprocess.PIPE, text=True)
            for _ in range(6)
        ]
        for child in children:
            _, err = child.communicate(timeout=120)
            if child.returncode != 0:
                failures.append(err.strip().splitlines()[-1:])
    assert not failures, failures
