"""The files in examples/ work: every conversation loads through the store, in openai-harmony too, and
renders with ``gptoss render``; the example config loads with ``gptoss config show``."""

from __future__ import annotations

import json
from pathlib import Path

import openai_harmony  # type: ignore[import-untyped]
import pytest

from gptoss_cli.harmony import Conversation, Role, completion_pieces, pieces_to_text
from gptoss_cli.store import prompt_sha256, read_record

from .cli.runner import run

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CONVERSATIONS = sorted((EXAMPLES / "conversations").glob("*.json"))
CONFIG = EXAMPLES / "config.toml"


def test_the_promised_examples_are_there() -> None:
    names = {p.name for p in CONVERSATIONS}
    assert {"chat.json", "tool-call.json", "cut-off.json"} <= names
    assert (EXAMPLES / "README.md").is_file() and CONFIG.is_file()


@pytest.mark.parametrize("path", CONVERSATIONS, ids=lambda p: p.name)
def test_conversation_loads_and_renders(path: Path) -> None:
    record = read_record(path)
    assert record.conversation.messages
    assert openai_harmony.Conversation.from_json(path.read_text(encoding="utf-8")).messages  # the reference
    result = run(["render", str(path)])
    assert result.code == 0, result.stderr
    assert result.out.startswith("<|start|>system<|message|>")
    assert result.out.endswith("<|start|>assistant")


@pytest.mark.parametrize("path", CONVERSATIONS, ids=lambda p: p.name)
def test_saved_prompt_hashes_match_the_rendered_prompts(path: Path) -> None:
    """A replay of an example reproduces its prompts: each turn's hash is that of the messages before it."""
    record = read_record(path)
    messages = record.conversation.messages
    for turn in record.meta.turns:
        before = Conversation.from_messages(messages[: turn.messages[0]])
        assert turn.prompt_sha256 == prompt_sha256(pieces_to_text(completion_pieces(before, Role.ASSISTANT)))


def test_tool_call_example() -> None:
    record = read_record(EXAMPLES / "conversations" / "tool-call.json")
    messages = record.conversation.messages
    call = next(m for m in messages if m.recipient == "functions.get_weather")
    assert call.channel == "commentary" and call.content_type == "<|constrain|>json"
    assert json.loads(call.text) == {"city": "Tokyo"}
    result = next(m for m in messages if m.role is Role.TOOL)
    assert result.author.name == "functions.get_weather" and result.recipient == "assistant"
    assert messages[-1].channel == "final" and "21 °C" in messages[-1].text
    assert [t.finish_reason for t in record.meta.turns] == ["stop", "stop"]
    assert not any(t.incomplete for t in record.meta.turns)
    prompt = run(["render", str(EXAMPLES / "conversations" / "tool-call.json")]).out
    assert "namespace functions {" in prompt and "type get_weather = (_: {" in prompt
    assert "<|constrain|>json<|message|>" in prompt


def test_cut_off_example() -> None:
    path = EXAMPLES / "conversations" / "cut-off.json"
    record = read_record(path)
    last = record.meta.turns[-1]
    assert last.incomplete and last.finish_reason == "length"
    assert last.messages[1] == len(record.conversation.messages)
    assert record.meta.options["max_tokens"] == last.usage["completion_tokens"]
    shown = run(["history", "show", str(path)])
    assert shown.code == 0 and "· final · incomplete ──" in shown.out and "length (cut off)" in shown.out
    assert "*[incomplete: length]*" in run(["history", "export", str(path)]).out


def test_example_config_loads() -> None:
    result = run(["config", "show", "--config", str(CONFIG), "--json"])
    assert result.code == 0, result.stderr
    settings = json.loads(result.out)
    assert settings["profile_name"] == "llama"
    assert settings["profile"]["kind"] == "llamacpp"
    vllm = json.loads(run(["config", "show", "--config", str(CONFIG), "--profile", "vllm", "--json"]).out)
    assert vllm["profile"]["kind"] == "vllm" and vllm["profile"]["model"] == "openai/gpt-oss-20b"


def test_example_hosted_profile_reads_its_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["config", "show", "--config", str(CONFIG), "--profile", "hosted", "--json"]
    missing = run(args)  # show says the key is missing rather than failing: it is one of the things to see
    assert (
        missing.code == 0
        and json.loads(missing.out)["sources"]["api_key"] == "missing: $EXAMPLE_API_KEY is not set"
    )
    monkeypatch.setenv("EXAMPLE_API_KEY", "sk-example-SECRET")
    result = run(args)
    assert result.code == 0, result.stderr
    assert "sk-example-SECRET" not in result.out + result.stderr
    assert json.loads(result.out)["api_key"] is not None
