"""Scripted servers sending random chunks: types, sizes, encodings, statuses and disconnects."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ..cli.runner import run
from ..scripted_server import DISCONNECT, DONE, PING, Reply, ScriptedServer, Step
from .conftest import assert_clean, fuzz

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_text = st.text(max_size=40) | st.sampled_from(
    ["<|channel|>", "final", "analysis", "<|message|>", "<|end|>", "<|start|>", "assistant", "<|call|>",
     "<|return|>", " to=functions.f", "<|constrain|>", "json", "<|chan", "nel|>", "\x1b[2J", "\r\n", "é"]
)  # fmt: skip
_ids = st.lists(st.integers(-5, 201_100), max_size=4) | _json


def _encode(payload: Any, encoding: str) -> bytes:
    text = json.dumps(payload, ensure_ascii=encoding == "ascii")
    return text.encode("utf-8" if encoding == "ascii" else encoding, "replace")


@st.composite
def _openai_chunk(draw: st.DrawFn) -> bytes:
    choice: dict[str, Any] = {"index": 0, "text": draw(_text | _json)}
    if draw(st.booleans()):
        choice["token_ids"] = draw(_ids)
    if draw(st.booleans()):
        choice["logprobs"] = draw(_json)
    choice["finish_reason"] = draw(st.none() | st.sampled_from(["stop", "length"]) | _json)
    if draw(st.booleans()):
        choice["stop_reason"] = draw(_json)
    payload: Any = {"choices": draw(st.just([choice]) | _json)}
    if draw(st.booleans()):
        payload["usage"] = draw(_json)
    if draw(st.integers(0, 9)) == 0:
        payload = draw(_json)
    encoding = draw(st.sampled_from(["ascii", "utf-8", "ascii", "utf-8", "utf-16", "latin-1"]))
    body = _encode(payload, encoding)
    framing = draw(st.sampled_from([b"data: %s\n\n"] * 4 + [b"data:%s\r\n\r\n", b"error: %s\n\n", b"%s\n"]))
    return framing.replace(b"%s", body)


_raw = st.binary(max_size=60) | st.sampled_from(
    [
        DONE,
        PING,
        b"\n\n",
        b"data: [DONE]",
        b"data: {",
        b"event: error\ndata: boom\n\n",
        b"\xef\xbb\xbf",
        b"\r",
    ]
)


@st.composite
def _steps(draw: st.DrawFn, chunk: st.SearchStrategy[bytes]) -> list[Step]:
    pieces = draw(st.lists(st.one_of(chunk, chunk, chunk, _raw), max_size=10))  # mostly well framed
    if draw(st.booleans()):
        pieces.append(DONE)
    data = b"".join(pieces)
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=6)))
    steps: list[Step] = []
    start = 0
    for cut in [*cuts, len(data)]:  # the same bytes, cut anywhere (as TCP may)
        if cut > start:
            steps.append(data[start:cut])
            start = cut
    if draw(st.booleans()):
        steps.append(DISCONNECT)
    return steps


_status = st.sampled_from([200] * 8 + [204, 301, 400, 401, 404, 422])
_content_type = st.sampled_from(
    [
        "text/event-stream",
        "text/event-stream; charset=utf-8",
        "application/json",
        "text/html",
        "text/plain",
        "",
    ]
)


@fuzz(40)
@given(steps=_steps(_openai_chunk()), status=_status, content_type=_content_type, ask_json=st.booleans())
def test_random_openai_streams(steps: list[Step], status: int, content_type: str, ask_json: bool) -> None:
    with ScriptedServer() as server:
        server.script("/v1/completions", Reply(status, steps, content_type))
        args = ["ask", "q", "-n", "--base-url", server.url, "--kind", "llamacpp", "-m", "m"]
        result = run([*args, *(["--json"] if ask_json else [])])
    assert_clean(result, (0, 1))
    if ask_json and result.code == 0:
        json.loads(result.out)


@st.composite
def _ollama_line(draw: st.DrawFn) -> bytes:
    payload: Any = {"response": draw(_text | _json), "done": draw(st.booleans() | _json)}
    if draw(st.booleans()):
        payload["done_reason"] = draw(_json)
    if draw(st.booleans()):
        payload["eval_count"] = draw(_json)
    if draw(st.integers(0, 9)) == 0:
        payload = draw(_json)
    return _encode(payload, draw(st.sampled_from(["ascii", "utf-8", "latin-1"]))) + b"\n"


@fuzz(25)
@given(steps=_steps(_ollama_line()), status=_status)
def test_random_ollama_streams(steps: list[Step], status: int) -> None:
    with ScriptedServer() as server:
        server.script("/api/generate", Reply(status, steps, "application/x-ndjson"))
        result = run(["ask", "q", "-n", "--base-url", server.url, "--kind", "ollama", "-m", "m"])
    assert_clean(result, (0, 1))
