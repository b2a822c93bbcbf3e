"""The corpus of real gpt-oss completions (tests/data/real_outputs/) is well formed.

Only the shape of the data is checked here; what the parser must make of each case belongs to the
parser's tests.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from .conftest import REAL_OUTPUTS, load_real_outputs

CASES = load_real_outputs()
SERVERS = {"vllm", "sglang", "llamacpp", "ollama", "lmstudio", "hosted", "unknown"}
SOURCE_KINDS = {"issue", "pr", "file", "comment"}
KINDS = {"final", "tool_call", "no_answer"}
CONFIDENCES = {"high", "medium", "low"}
TOP_KEYS = {"id", "source", "server", "special_tokens", "completion", "expect", "notes"}
MIN_REAL = 150
SPECIAL = re.compile(r"<\|(start|end|message|channel|constrain|return|call)\|>")


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [str(c.get("id", "?")) for c in cases]


def test_every_file_is_one_json_object_named_after_its_id() -> None:
    files = sorted(REAL_OUTPUTS.glob("*.json"))
    assert files, "no corpus files"
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(data, dict), path.name
        assert re.fullmatch(r"\d{3}-[a-z0-9]+(-[a-z0-9]+)*", data["id"]), path.name
        assert path.name == f"{data['id']}.json"


def test_ids_and_completions_are_unique() -> None:
    ids = _ids(CASES)
    assert len(ids) == len(set(ids))
    numbers = [i[:3] for i in ids]
    assert len(numbers) == len(set(numbers))
    completions = [c["completion"] for c in CASES]
    assert len(completions) == len(set(completions)), "the same output is in the corpus twice"


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_case_schema(case: dict[str, Any]) -> None:
    assert TOP_KEYS <= set(case) <= TOP_KEYS | {"synthetic"}
    assert case["server"] in SERVERS
    assert isinstance(case["special_tokens"], bool)
    assert isinstance(case["completion"], str) and case["completion"]
    assert isinstance(case["notes"], str) and case["notes"].strip()
    assert case.get("synthetic", False) in (True, False)
    # special_tokens says whether Harmony's special tokens are in the text, and is true exactly then
    assert case["special_tokens"] == bool(SPECIAL.search(case["completion"]))


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_case_provenance(case: dict[str, Any]) -> None:
    src = case["source"]
    assert {"repo", "kind", "ref", "url", "note"} <= set(src)
    assert src["kind"] in SOURCE_KINDS
    assert src["ref"].strip()
    if src["repo"] == "unknown":
        # a file the code index returned without naming its repository: the index id is the reference
        assert src["ref"].startswith("search-index file id ")
        assert src["note"].strip()
    else:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", src["repo"])
        assert src["url"].startswith(f"https://github.com/{src['repo']}/")
    if src["kind"] == "file" and src["repo"] != "unknown":
        assert re.fullmatch(r"[0-9a-f]{40}", src.get("commit", "")), "a file source names its commit"


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_case_expectation(case: dict[str, Any]) -> None:
    exp = case["expect"]
    assert exp["kind"] in KINDS
    assert exp["confidence"] in CONFIDENCES
    if exp["kind"] == "final":
        assert set(exp) == {"kind", "final", "confidence"}
        assert isinstance(exp["final"], str) and exp["final"]
        assert exp["final"] in case["completion"], "the answer is quoted from the completion, never rewritten"
        assert not SPECIAL.search(exp["final"]), "an answer never contains Harmony special tokens"
    elif exp["kind"] == "tool_call":
        assert set(exp) == {"kind", "recipient", "arguments", "confidence"}
        assert re.fullmatch(r"(functions|browser|container|python)(\.[^<>\n]+)?", exp["recipient"])
        assert exp["arguments"] in case["completion"]
    else:
        assert set(exp) == {"kind", "confidence"}


def test_at_least_150_real_cases() -> None:
    real = [c for c in CASES if not c.get("synthetic", False)]
    assert len(real) >= MIN_REAL, f"{len(real)} real cases"


def test_every_kind_of_expectation_is_represented() -> None:
    kinds = {(c["expect"]["kind"], c["special_tokens"]) for c in CASES if not c.get("synthetic", False)}
    wanted = {(kind, tokens) for kind in ("final", "tool_call", "no_answer") for tokens in (True, False)}
    assert wanted <= kinds
