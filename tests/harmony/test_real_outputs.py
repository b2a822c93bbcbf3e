"""The corpus of real gpt-oss completions through the lenient parser and through ``gptoss ask``.

Every case (``tests/data/real_outputs/``, see its README) is parsed as written and, where it had
special tokens, with them stripped (as vLLM and SGLang send text by default). A high-confidence
expectation must be met exactly; for every case, what would be shown as the answer is never more
than the expected answer (never reasoning). Then each case is served by the simulated server of every
kind (``tests/server_sims.py``) and asked for with ``gptoss ask``: stdout holds the expected answer
alone, and the exit code says whether there was one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gptoss_cli.harmony import get_tokenizer, parse_text, read_answer
from gptoss_cli.harmony.tokens import CALL, RETURN, SPECIAL_IDS

from ..cli.runner import run
from ..scripted_server import ScriptedServer
from ..server_sims import simulate
from .conftest import load_real_outputs

CASES = load_real_outputs()
HIGH = [c for c in CASES if c["expect"]["confidence"] == "high"]


def _strip(text: str) -> str:
    for special in SPECIAL_IDS:
        text = text.replace(special, "")
    return text


def _expected_final(case: dict[str, Any]) -> str:
    expect = case["expect"]
    return str(expect.get("final") or "").strip() if expect["kind"] == "final" else ""


def _same_arguments(got: str, want: Any) -> bool:
    try:
        return bool(json.loads(got) == (json.loads(want) if isinstance(want, str) else want))
    except ValueError:
        return got.strip() == (want if isinstance(want, str) else json.dumps(want)).strip()


@pytest.mark.parametrize("case", HIGH, ids=[c["id"] for c in HIGH])
def test_high_confidence_expectations_are_met(case: dict[str, Any]) -> None:
    expect = case["expect"]
    answer = read_answer(parse_text(case["completion"]))
    assert answer.kind == expect["kind"], (answer.kind, answer.final[:200], answer.unclear[:200])
    if expect["kind"] == "final":
        assert answer.final.strip() == _expected_final(case)
    if expect["kind"] == "tool_call":
        call = answer.calls[-1]
        if expect.get("recipient") is not None:
            assert call.recipient == expect["recipient"]
        if expect.get("arguments") is not None:
            assert _same_arguments(call.text, expect["arguments"]), call.text


def _no_structure(text: str) -> bool:
    """Output with no Harmony structure at all, read whole as a headerless answer: the README's one
    stated limit (nothing tells it from an answer), not a reasoning leak."""
    messages = parse_text(text)
    return len(messages) == 1 and any("no Harmony header" in note for note in messages[0].notes)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_nothing_but_the_answer_is_ever_shown(case: dict[str, Any]) -> None:
    variants = [case["completion"], *([_strip(case["completion"])] if case["special_tokens"] else [])]
    want = _expected_final(case)
    for text in variants:
        shown = read_answer(parse_text(text)).final.strip()
        if case["expect"]["confidence"] != "high" and _no_structure(text):
            assert case["expect"]["kind"] != "final" or shown == want
            continue
        if case["expect"]["kind"] != "final":
            assert shown == "", f"shown as the answer: {shown[:300]!r}"
        else:
            assert shown in ("", want) or want.startswith(shown), f"shown: {shown[:300]!r}"


# ------------------------------------------------------------------------------- through gptoss ask

KINDS = ("vllm", "sglang", "llamacpp", "ollama")


def _ids(case: dict[str, Any]) -> list[int]:
    """What the model generated: the completion's token ids and the end token it would stop on."""
    end = CALL if case["expect"]["kind"] == "tool_call" else RETURN
    return [*get_tokenizer().encode_with_specials(case["completion"]), end]


@pytest.mark.parametrize("kind", KINDS)
def test_ask_prints_the_expected_answer_alone_on_every_server(kind: str) -> None:
    wrong = []
    with ScriptedServer() as server:
        # one server for the whole corpus: the simulated model answers each request with the next case
        simulate(server, kind, [_ids(case) for case in HIGH], context_length=16384)
        extra = ["--model", "gpt-oss:20b"] if kind == "ollama" else []
        for case in HIGH:
            result = run(["ask", "q", "-n", "--base-url", server.url, "--kind", kind, *extra])
            want = _expected_final(case)
            ok = result.out.strip() == want and (result.code == 0) == (case["expect"]["kind"] == "final")
            if not ok or "Traceback" in result.stderr or "internal error" in result.stderr:
                wrong.append((case["id"], result.code, result.out[:120], result.stderr[-200:]))
    assert not wrong, f"{len(wrong)} of {len(HIGH)} cases: {wrong[:5]}"
