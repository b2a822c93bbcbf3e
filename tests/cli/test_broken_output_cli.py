"""Broken model output through ``gptoss parse --answer`` and ``gptoss ask``: no reasoning on stdout.

The exit code says whether there was a clean answer: 0 with one, 1 without (a tool call with no
tools, text that may be reasoning or the answer, a cut-off output).
"""

from __future__ import annotations

import pytest

from gptoss_cli.harmony import get_tokenizer

from ..scripted_server import Reply, ScriptedServer, llamacpp_stream, vllm_stream
from .runner import run

LABEL = "gptoss: no clean answer: this output may be reasoning or the answer (not printed to stdout):"

# (completion as the server sent it, what stdout holds, exit code)
BROKEN = [
    ("SECRET we need to greet.<|end|><|start|>assistant<|channel|>final<|message|>Hello!", "Hello!\n", 0),
    ("analysisSECRET plan.assistantfinalHello!", "Hello!\n", 0),
    ('analysisSECRET "assistantfinal" is the marker.assistantfinalHello!', "Hello!\n", 0),
    ("AnalysisSECRET plan.assistantfinalHello!", "Hello!\n", 0),
    (
        "<|channel|>fnal<|message|>SECRET<|end|><|start|>assistant<|channel|>final<|message|>Hello!",
        "Hello!\n",
        0,
    ),
    (
        "<|channel|>finalanalysis<|message|>SECRET<|end|><|start|>assistant<|channel|>final<|message|>Hi",
        "Hi\n",
        0,
    ),
    ('analysisSECRET call.assistantcommentary to=functions.f json{"a": 1}assistantfinalDone.', "", 1),
    ('analysisSECRET call it. to=container.exec code=python{"cmd": ["ls"]}', "", 1),
    ("<|channel|>analysis<|message|>SECRET<|end|><|start|>assistant<|channel|>fnal<|message|>maybe", "", 1),
    ("Just the answer, no Harmony at all.", "Just the answer, no Harmony at all.\n", 0),
]


@pytest.mark.parametrize(("completion", "out", "code"), BROKEN)
def test_parse_answer_prints_what_ask_would(completion: str, out: str, code: int) -> None:
    result = run(["parse", "--answer"], stdin=completion.encode())
    assert (result.code, result.out) == (code, out), result.stderr
    assert "SECRET" not in result.out


def test_parse_answer_labels_unclear_text_on_stderr() -> None:
    text = "<|channel|>analysis<|message|>SECRET<|end|><|start|>assistant<|channel|>fnal<|message|>maybe"
    result = run(["parse", "--answer"], stdin=text.encode())
    assert result.code == 1 and result.out == ""
    assert f"{LABEL}\nmaybe\n" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("gptoss: error: no clean answer")


def test_parse_json_records_the_repairs() -> None:
    result = run(["parse"], stdin=b"SECRET plan.<|end|><|start|>assistant<|channel|>final<|message|>Hi")
    assert result.code == 0
    assert '"channel": "analysis"' in result.out
    assert "read as reasoning" in result.out


def _llama(server: ScriptedServer, pieces: list[str], **kw: object) -> list[str]:
    server.script("/v1/completions", Reply.sse(llamacpp_stream(pieces, **kw)))  # type: ignore[arg-type]
    return ["--base-url", server.url, "--kind", "llamacpp"]


def _pieces(text: str) -> list[str]:
    """The completion cut into small pieces the way a server streams it (tokens)."""
    tokenizer = get_tokenizer()
    return [tokenizer.decode([t]) for t in tokenizer.encode_with_specials(text)]


@pytest.mark.parametrize(("completion", "out", "code"), BROKEN)
def test_ask_llama_server(scripted_server: ScriptedServer, completion: str, out: str, code: int) -> None:
    args = _llama(scripted_server, _pieces(completion))
    result = run(["ask", "q", "-n", *args])
    assert (result.code, result.out) == (code, out), result.stderr
    assert "SECRET" not in result.out


@pytest.mark.parametrize(("completion", "out", "code"), BROKEN)
def test_ask_vllm_token_ids(scripted_server: ScriptedServer, completion: str, out: str, code: int) -> None:
    ids = get_tokenizer().encode_with_specials(completion)
    pieces = [get_tokenizer().decode([t]) for t in ids]
    scripted_server.script("/v1/completions", Reply.sse(vllm_stream(pieces, ids)))
    result = run(["ask", "q", "-n", "--base-url", scripted_server.url, "--kind", "vllm", "-m", "m"])
    assert (result.code, result.out) == (code, out), result.stderr
    assert "SECRET" not in result.out


def test_ask_unclear_output_goes_to_stderr_labelled(scripted_server: ScriptedServer) -> None:
    text = "<|channel|>analysis<|message|>SECRET<|end|><|start|>assistant<|channel|>fnal<|message|>maybe"
    args = _llama(scripted_server, _pieces(text))
    for flags in ([], ["--no-stream"]):
        result = run(["ask", "q", "-n", *flags, *args])
        assert result.code == 1 and result.out == ""
        assert f"{LABEL}\nmaybe\n" in result.stderr
        assert "gptoss: error: no clean answer" in result.stderr
        scripted_server.script("/v1/completions", Reply.sse(llamacpp_stream(_pieces(text))))


def test_ask_json_carries_unclear_text(scripted_server: ScriptedServer) -> None:
    import json

    text = "<|channel|>analysis<|message|>SECRET<|end|><|start|>assistant<|channel|>fnal<|message|>maybe"
    args = _llama(scripted_server, _pieces(text))
    result = run(["ask", "q", "-n", "--json", *args])
    data = json.loads(result.out)
    assert (data["final"], data["unclear"], data["outcome"]) == ("", "maybe", "no_answer")
    assert result.code == 1


def test_ask_cut_off_stripped_output_shows_nothing(scripted_server: ScriptedServer) -> None:
    """At the token limit, a stripped 'assistantfinal' may be the reasoning's own: not printed."""
    args = _llama(
        scripted_server, _pieces("analysisSECRET one.assistantfinalSECRET two"), finish_reason="length"
    )
    result = run(["ask", "q", "-n", *args])
    assert result.code == 1 and result.out == ""
    assert "cut off" in result.stderr and LABEL in result.stderr


def test_ask_stripped_tool_call_is_a_call(scripted_server: ScriptedServer) -> None:
    """A stripped tool-call header is a call: with no tools enabled, ask says so and exits 1."""
    args = _llama(scripted_server, _pieces('analysisSECRET.assistantcommentary to=functions.f json{"a": 1}'))
    result = run(["ask", "q", "-n", *args])
    assert result.code == 1 and result.out == ""
    assert "called a tool (functions.f)" in result.stderr
