"""Every public openai-harmony 0.0.8 vector, through the Python API (the CLI has its own test)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gptoss_cli.errors import GptossError
from gptoss_cli.harmony import (
    STOP_TOKENS,
    STOP_TOKENS_FOR_ASSISTANT_ACTIONS,
    Conversation,
    RenderConfig,
    Role,
    StreamParser,
    completion_pieces,
    conversation_pieces,
    get_tokenizer,
    parse_text,
    parse_tokens,
    pieces_to_text,
    pieces_to_tokens,
    training_pieces,
)
from gptoss_cli.harmony import tokens as T

from .conftest import DATA, case_id, load_cases

RENDER = load_cases("render")
PARSE = load_cases("parse")
STREAMING = load_cases("streaming")


def _conversation(case: dict[str, Any]) -> Conversation:
    raw = json.loads(case["conversation_json"]) if case.get("conversation_json") else case["conversation"]
    return Conversation.from_dict(raw, strict=True)


@pytest.mark.parametrize("case", RENDER, ids=case_id)
def test_render(case: dict[str, Any]) -> None:
    expected = case["expected"]
    try:
        conversation = _conversation(case)
    except GptossError as exc:
        assert all(v.get("error", {}).get("type") == "ValueError" for v in expected.values()), exc
        first = next(iter(expected.values()))["error"]["message"]
        # the same serde complaint (an unknown variant), without serde's line/column
        assert str(exc).split(": ", 1)[1].split(" at ")[0] in first
        return
    config = RenderConfig(case["config"]["auto_drop_analysis"])
    functions = {
        "render_conversation_for_completion": lambda: completion_pieces(
            conversation, Role(case["next_turn_role"]), config
        ),
        "render_conversation": lambda: conversation_pieces(conversation, config),
        "render_conversation_for_training": lambda: training_pieces(conversation, config),
    }
    for name, want in expected.items():
        if "error" in want:
            with pytest.raises(GptossError) as info:
                functions[name]()
            assert str(info.value) == want["error"]["message"]
            continue
        pieces = functions[name]()
        assert pieces_to_tokens(pieces) == want["tokens"], name
        assert pieces_to_text(pieces) == want["text"], name


def _role(case: dict[str, Any]) -> Role | None:
    return Role(case["role"]) if case["role"] else None


@pytest.mark.parametrize("case", PARSE, ids=case_id)
def test_parse_strict_tokens(case: dict[str, Any]) -> None:
    want = case["expected"]["strict"]
    if "error" in want:
        with pytest.raises(GptossError) as info:
            parse_tokens(case["tokens"], _role(case), strict=True)
        assert str(info.value) == want["error"]["message"]
    else:
        got = parse_tokens(case["tokens"], _role(case), strict=True)
        assert [m.to_dict() for m in got] == want["messages"]


@pytest.mark.parametrize("case", [c for c in PARSE if c["tokens_source"] == "encoded"], ids=case_id)
def test_parse_strict_text(case: dict[str, Any]) -> None:
    want = case["expected"]["strict"]
    if "error" in want:
        with pytest.raises(GptossError):
            parse_text(case["completion_text"], _role(case), strict=True)
    else:
        got = parse_text(case["completion_text"], _role(case), strict=True)
        assert [m.to_dict() for m in got] == want["messages"]


@pytest.mark.parametrize("case", PARSE, ids=case_id)
def test_parse_lenient_matches_strict_on_clean_output(case: dict[str, Any]) -> None:
    got = parse_tokens(case["tokens"], _role(case))  # never raises
    want = case["expected"]["strict"]
    if any(m.notes for m in got):
        return  # repaired, visibly: allowed to differ from strict
    assert "error" not in want, "lenient recovered from an error without saying so"
    assert [m.to_dict() for m in got] == want["messages"]


@pytest.mark.parametrize("case", STREAMING, ids=case_id)
def test_streaming_steps(case: dict[str, Any]) -> None:
    parser = StreamParser(_role(case), strict=case["strict"])
    error = case.get("error")
    for i, token in enumerate(case["tokens"]):
        if error and i == error["at_index"]:
            with pytest.raises(GptossError) as info:
                parser.process(token)
            assert str(info.value) == error["message"]
            return
        parser.process(token)
        step = case["steps"][i]
        got = {
            "token": token,
            "state": parser.state.value,
            "current_role": parser.current_role.value if parser.current_role else None,
            "current_channel": parser.current_channel,
            "current_recipient": parser.current_recipient,
            "current_content_type": parser.current_content_type,
            "last_content_delta": parser.last_content_delta,
            "current_content": parser.current_content,
        }
        assert got == step, f"after token #{i}"
    after = case["after_eos"]
    if "error" in after:
        with pytest.raises(GptossError):
            parser.finish()
    else:
        parser.finish()
        assert [m.to_dict(notes=False) for m in parser.messages] == after["messages"]


def test_stop_tokens_and_special_ids() -> None:
    data = json.loads((DATA / "stop_tokens.json").read_text(encoding="utf-8"))
    assert sorted(STOP_TOKENS) == data["stop_tokens"]
    assert sorted(STOP_TOKENS_FOR_ASSISTANT_ACTIONS) == data["stop_tokens_for_assistant_actions"]
    assert {t: T.SPECIAL_IDS[t] for t in data["special_token_ids"]} == data["special_token_ids"]
    for first, last in data["reserved_ids"]:
        for i in range(first, last + 1):
            assert T.SPECIAL_TEXT[i] == f"<|reserved_{i}|>"
    span = data["special_id_range"]
    assert len(T.SPECIAL_TEXT) == span["count"] == span["last"] - span["first"] + 1
    for token, special in data["is_special_token"].items():
        assert T.is_special(int(token)) is special
    tokenizer = get_tokenizer()
    for token, text in data["decode_examples"].items():
        assert tokenizer.decode([int(token)]) == text
