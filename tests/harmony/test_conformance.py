"""Every public vector of both references, through the Python API (the CLI has its own test).

openai-harmony 0.0.8 (``tests/data/conformance``) and oss-harmony 0.0.11
(``tests/data/conformance-oss``) were run on the same inputs; each set is checked with its form.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gptoss_cli.errors import GptossError
from gptoss_cli.harmony import (
    HARMONY_FORMS,
    STOP_TOKENS,
    STOP_TOKENS_FOR_ASSISTANT_ACTIONS,
    Conversation,
    HarmonyForm,
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

from .conftest import SETS, form_case_id, form_cases, load_cases, reference

RENDER = form_cases("render")
PARSE = form_cases("parse")
STREAMING = form_cases("streaming")


def _conversation(case: dict[str, Any]) -> Conversation:
    raw = json.loads(case["conversation_json"]) if case.get("conversation_json") else case["conversation"]
    return Conversation.from_dict(raw, strict=True)


def test_both_sets_are_present_and_of_their_reference() -> None:
    assert {reference("render", form) for form in HARMONY_FORMS} == {
        "openai-harmony==0.0.8",
        "oss-harmony==0.0.11",
    }
    for name in ("render", "parse", "streaming"):
        inputs = [
            [{k: v for k, v in c.items() if k != "expected"} for c in load_cases(name, f)] for f in SETS
        ]
        assert inputs[0] == inputs[1], f"{name}: the two sets must hold the same inputs"


@pytest.mark.parametrize(("form", "case"), RENDER, ids=form_case_id)
def test_render(form: HarmonyForm, case: dict[str, Any]) -> None:
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
            conversation, Role(case["next_turn_role"]), config, form=form
        ),
        "render_conversation": lambda: conversation_pieces(conversation, config, form=form),
        "render_conversation_for_training": lambda: training_pieces(conversation, config, form=form),
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


@pytest.mark.parametrize(("form", "case"), PARSE, ids=form_case_id)
def test_parse_strict_tokens(form: HarmonyForm, case: dict[str, Any]) -> None:
    want = case["expected"]["strict"]
    if "error" in want:
        with pytest.raises(GptossError) as info:
            parse_tokens(case["tokens"], _role(case), strict=True, form=form)
        assert str(info.value) == want["error"]["message"]
    else:
        got = parse_tokens(case["tokens"], _role(case), strict=True, form=form)
        assert [m.to_dict() for m in got] == want["messages"]


@pytest.mark.parametrize(
    ("form", "case"), [(f, c) for f, c in PARSE if c["tokens_source"] == "encoded"], ids=form_case_id
)
def test_parse_strict_text(form: HarmonyForm, case: dict[str, Any]) -> None:
    want = case["expected"]["strict"]
    if "error" in want:
        with pytest.raises(GptossError):
            parse_text(case["completion_text"], _role(case), strict=True, form=form)
    else:
        got = parse_text(case["completion_text"], _role(case), strict=True, form=form)
        assert [m.to_dict() for m in got] == want["messages"]


@pytest.mark.parametrize(("form", "case"), PARSE, ids=form_case_id)
def test_parse_lenient_matches_strict_on_clean_output(form: HarmonyForm, case: dict[str, Any]) -> None:
    got = parse_tokens(case["tokens"], _role(case))  # never raises, and knows no form
    want = case["expected"]["strict"]
    if any(m.notes for m in got):
        return  # repaired, visibly: allowed to differ from strict
    assert "error" not in want, "lenient recovered from an error without saying so"
    assert [m.to_dict() for m in got] == want["messages"]


@pytest.mark.parametrize(("form", "case"), STREAMING, ids=form_case_id)
def test_streaming_steps(form: HarmonyForm, case: dict[str, Any]) -> None:
    parser = StreamParser(_role(case), strict=case["strict"], form=form)
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


@pytest.mark.parametrize("form", HARMONY_FORMS)
def test_stop_tokens_and_special_ids(form: HarmonyForm) -> None:
    data = json.loads((SETS[form] / "stop_tokens.json").read_text(encoding="utf-8"))
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
