"""``gptoss render`` and ``gptoss parse`` against every public vector of both references, through the CLI.

Each set runs with its form: ``--harmony openai`` (openai-harmony 0.0.8) and ``--harmony oss``
(oss-harmony 0.0.11).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gptoss_cli.cli.harmony_cmds import _FORMS
from gptoss_cli.harmony import HARMONY_FORMS, HarmonyForm

from ..harmony.conftest import form_case_id, form_cases, load_cases
from .runner import run

RENDER = form_cases("render")
PARSE = form_cases("parse")


def _input(case: dict[str, Any]) -> bytes:
    raw = case.get("conversation_json") or json.dumps(case["conversation"])
    return raw.encode("utf-8")


@pytest.mark.parametrize(("form", "case"), RENDER, ids=form_case_id)
def test_render_command(form: HarmonyForm, case: dict[str, Any]) -> None:
    keep = ["--harmony", form] + ([] if case["config"]["auto_drop_analysis"] else ["--keep-analysis"])
    variants = {
        "render_conversation_for_completion": ["--next-role", case["next_turn_role"]],
        "render_conversation": ["--no-next-role"],
        "render_conversation_for_training": ["--training"],
    }
    for name, flags in variants.items():
        want = case["expected"][name]
        text = run(["render", "-", *flags, *keep], _input(case))
        ids = run(["render", "-", "--tokens", *flags, *keep], _input(case))
        if "error" in want:
            for result in (text, ids):
                assert result.code == 1
                assert result.stdout == b""
                assert result.stderr.count("\n") == 1 and result.stderr.startswith("gptoss: error: ")
            continue
        assert text.code == 0, text.stderr
        assert text.out == want["text"]  # exactly, no added newline
        assert json.loads(ids.out) == want["tokens"]
        assert text.stderr == ids.stderr == ""


def test_render_default_is_completion_for_assistant_in_the_openai_form() -> None:
    openai, oss = load_cases("render", "openai"), load_cases("render", "oss")
    differ = [i for i, case in enumerate(openai) if case["expected"] != oss[i]["expected"]]
    assert differ, "the sets must differ somewhere for this test to mean anything"
    for i in (0, differ[0]):
        want = openai[i]["expected"]["render_conversation_for_completion"]["text"]
        assert run(["render", "-"], _input(openai[i])).out == want


def test_the_cli_knows_every_form() -> None:
    assert _FORMS == HARMONY_FORMS


def test_render_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(_input(RENDER[0][1]))
    assert run(["render", str(path)]).out.startswith("<|start|>system<|message|>")


@pytest.mark.parametrize(
    ("args", "stdin", "needle"),
    [
        (["render", "/no/such/file.json"], b"", "no such file"),
        (["render", "-"], b'{"messages": [', "line 1 column"),
        (["render", "-"], b'{"messages": [{"role": "user"}]}', "missing field `content`"),
        (["render", "-", "--next-role", "robot"], b'{"messages": []}', "unknown role"),
        (["parse", "-", "--tokens"], b"[1, 2,", "line 1 column"),
        (["parse", "-", "--tokens"], b'{"a": 1}', "array of token ids"),
        (["parse", "-", "--strict", "--no-role"], b"hello", "Unexpected token"),
        (
            ["render", "-", "--harmony", "vllm"],
            b'{"messages": []}',
            "--harmony vllm: expected one of openai, oss",
        ),
        (["parse", "-", "--harmony", "v2"], b"hi", "--harmony v2: expected one of openai, oss"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(args: list[str], stdin: bytes, needle: str) -> None:
    result = run(args, stdin)
    assert result.code == 1
    assert result.stdout == b""
    assert result.stderr.count("\n") == 1 and needle in result.stderr
    assert "Traceback" not in result.stderr


def _role_flags(case: dict[str, Any]) -> list[str]:
    return ["--role", case["role"]] if case["role"] else ["--no-role"]


@pytest.mark.parametrize(("form", "case"), PARSE, ids=form_case_id)
def test_parse_command(form: HarmonyForm, case: dict[str, Any]) -> None:
    want = case["expected"]["strict"]
    tokens = json.dumps(case["tokens"]).encode()
    inputs = [["--tokens"], []] if case["tokens_source"] == "encoded" else [["--tokens"]]
    for given in inputs:
        extra = [*given, "--harmony", form]
        stdin = tokens if "--tokens" in extra else case["completion_text"].encode("utf-8")
        strict = run(["parse", "-", "--strict", *extra, *_role_flags(case)], stdin)
        if "error" in want:
            assert strict.code == 1 and strict.stdout == b""
            assert strict.stderr == f"gptoss: error: {want['error']['message']}\n"
        else:
            assert strict.code == 0, strict.stderr
            assert json.loads(strict.out) == want["messages"]
        lenient = run(["parse", "-", *extra, *_role_flags(case)], stdin)
        assert lenient.code == 0, lenient.stderr
        got = json.loads(lenient.out)
        if not any("notes" in m for m in got) and "error" not in want:
            assert got == want["messages"]


def test_lenient_parse_reads_both_forms_whatever_the_flag() -> None:
    case = next(c for c in load_cases("render", "oss") if c["id"].startswith("render-046"))
    for form in HARMONY_FORMS:
        rendered = run(
            ["render", "-", "--no-next-role", "--keep-analysis", "--harmony", form], _input(case)
        ).out
        outputs = {
            run(["parse", "-", "--no-role", "--harmony", f], rendered.encode()).out for f in HARMONY_FORMS
        }
        assert len(outputs) == 1
        messages = json.loads(outputs.pop())
        assert not any("notes" in m for m in messages)
        calls = [m for m in messages if m.get("recipient", "").startswith("functions.")]
        assert calls and all(m["channel"] == "commentary" for m in calls)
