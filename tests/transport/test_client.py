"""The transport against the scripted server: every wire format, every failure, real HTTP on 127.0.0.1."""

from __future__ import annotations

import email.utils
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

import pytest

from gptoss_cli import errors
from gptoss_cli.transport.client import (
    Completion,
    CompletionRequest,
    EndpointKind,
    Finish,
    RetryPolicy,
    StreamEvent,
    TextDelta,
    Timeouts,
    Usage,
    complete,
    endpoint_url,
    get_json,
    list_models,
    normalize_base_url,
    redact_url,
    stream_completion,
)

from ..scripted_server import (
    DISCONNECT,
    DONE,
    HARMONY_IDS,
    HARMONY_PIECES,
    HARMONY_TEXT,
    PING,
    STRIPPED_PIECES,
    USAGE,
    Pause,
    PingUntilGone,
    Reply,
    ScriptedServer,
    data_error,
    error_line,
    event,
    json_error,
    llamacpp_native_stream,
    llamacpp_stream,
    merged,
    ollama_stream,
    sglang_stream,
    split_every,
    vllm_stream,
)

FAST = RetryPolicy(max_retries=3, backoff=0.001, max_backoff=0.01)
QUICK = Timeouts(connect=2.0, read=5.0)
KEY = "sk-test-SECRET-1234"
V1 = "/v1/completions"


def make(
    server: ScriptedServer,
    prompt: str | list[int] = "<|start|>user<|message|>hi<|end|><|start|>assistant",
    endpoint: EndpointKind = "openai",
    **kw: Any,
) -> CompletionRequest:
    kw.setdefault("retry", FAST)
    kw.setdefault("timeouts", QUICK)
    return CompletionRequest(server.url, prompt, model="gpt-oss-20b", endpoint=endpoint, **kw)


def collect(events: Iterable[StreamEvent]) -> tuple[str, list[StreamEvent]]:
    seen = list(events)
    return "".join(e.text for e in seen if isinstance(e, TextDelta)), seen


def partial(request: CompletionRequest) -> tuple[str, BaseException]:
    """Text yielded before the stream failed, and the failure."""
    texts: list[str] = []
    with pytest.raises(errors.TransportError) as info:
        for ev in stream_completion(request):
            if isinstance(ev, TextDelta):
                texts.append(ev.text)
    return "".join(texts), info.value


# ------------------------------------------------------------------------------------- wire formats


def test_vllm_stream_with_token_ids_stop_reason_and_usage_chunk(scripted_server: ScriptedServer) -> None:
    scripted_server.script(V1, Reply.sse(vllm_stream(stop_reason=200012, final_ids=[200012])))
    text, seen = collect(stream_completion(make(scripted_server, [200006, 1428], api_key=KEY)))
    assert text == HARMONY_TEXT
    ids = [i for e in seen if isinstance(e, TextDelta) and e.token_ids for i in e.token_ids]
    assert ids == [*HARMONY_IDS, 200012]
    finish, usage = seen[-2], seen[-1]
    assert finish == Finish("stop", 200012, None, 200012, None)
    assert usage == Usage(74, 29, 103)
    (request,) = scripted_server.requests
    assert request.json() == {"model": "gpt-oss-20b", "prompt": [200006, 1428], "stream": True}
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["accept"] == "text/event-stream"


def test_sglang_matched_stop_in_separate_finish_chunk(scripted_server: ScriptedServer) -> None:
    scripted_server.script(V1, Reply.sse(sglang_stream(matched_stop=200002)))
    result = complete(make(scripted_server))
    assert result.text == HARMONY_TEXT
    assert result.token_ids == tuple(HARMONY_IDS)
    assert result.finish.stop_reason == 200002
    assert result.finish.last_token_id == HARMONY_IDS[-1]
    assert result.usage == Usage(74, 29, 103)


def test_llamacpp_v1_skips_empty_events_and_pings(scripted_server: ScriptedServer) -> None:
    steps = llamacpp_stream()
    steps[3:3] = [PING, b": keep-alive\n\n"]
    scripted_server.script(V1, Reply.sse(steps))
    text, seen = collect(stream_completion(make(scripted_server)))
    assert text == HARMONY_TEXT
    deltas = [e for e in seen if isinstance(e, TextDelta)]
    assert all(d.text for d in deltas) and all(d.token_ids is None for d in deltas)
    assert len(deltas) == len(HARMONY_PIECES)  # the EOG token's "" event is not passed on
    assert seen[-1] == Finish("stop", None, None, None, Usage(74, 30, 104, 69))  # timings.cache_n: 69 cached


def test_llamacpp_v1_logprob_ids_and_preserved_terminator(scripted_server: ScriptedServer) -> None:
    ids = [*HARMONY_IDS, 200012]
    scripted_server.script(V1, Reply.sse(llamacpp_stream(terminator="<|call|>", logprob_ids=ids)))
    result = complete(make(scripted_server))
    assert result.text == HARMONY_TEXT + "<|call|>"
    assert result.token_ids == tuple(ids)
    assert result.finish.last_token_id == 200012


def test_vllm_logprob_token_ids_and_id_only_events(scripted_server: ScriptedServer) -> None:
    def chunk(text: str, token: int, **extra: Any) -> bytes:
        logprobs = {"tokens": [f"token_id:{token}"], "token_logprobs": [-0.1], "top_logprobs": None}
        return event(
            {"choices": [{"index": 0, "text": text, "logprobs": logprobs, "finish_reason": None, **extra}]}
        )

    steps = [chunk("<|channel|>", 200005), chunk("", 200012, finish_reason="stop", stop_reason=200012), DONE]
    scripted_server.script(V1, Reply.sse(steps))
    _, seen = collect(stream_completion(make(scripted_server)))
    assert seen == [
        TextDelta("<|channel|>", (200005,)),
        TextDelta("", (200012,)),  # the terminator's id arrives although its text does not
        Finish("stop", 200012, None, 200012, None),
    ]


def test_llamacpp_native_completion_tokens_and_stop_event(scripted_server: ScriptedServer) -> None:
    scripted_server.script("/completion", Reply.sse(llamacpp_native_stream(eog=200012)))
    result = complete(make(scripted_server, [1, 2], endpoint="llamacpp"))
    assert result.text == HARMONY_TEXT
    assert result.token_ids == (*HARMONY_IDS, 200012)
    assert result.finish == Finish("stop", None, "eos", 200012, Usage(74, 30, 104))
    assert scripted_server.paths() == ["/completion"]


def test_llamacpp_native_limit_and_stopping_word(scripted_server: ScriptedServer) -> None:
    scripted_server.script(
        "/completion",
        Reply.sse(llamacpp_native_stream(eog=None, stop_type="limit")),
        Reply.sse(llamacpp_native_stream(eog=None, stop_type="word", stopping_word="<|call|>")),
    )
    assert complete(make(scripted_server, endpoint="llamacpp")).finish.reason == "length"
    finish = complete(make(scripted_server, endpoint="llamacpp")).finish
    assert (finish.reason, finish.stop_type, finish.stop_reason) == ("stop", "word", "<|call|>")


def test_ollama_ndjson_raw_generate(scripted_server: ScriptedServer) -> None:
    scripted_server.script("/api/generate", Reply.ndjson(ollama_stream()))
    result = complete(make(scripted_server, endpoint="ollama"))
    assert result.text == HARMONY_TEXT
    assert result.token_ids is None
    assert result.finish == Finish("stop", None, "stop", None, Usage(74, 29, 103))
    body = scripted_server.requests[0].json()
    assert body["raw"] is True and body["stream"] is True and isinstance(body["prompt"], str)
    assert scripted_server.requests[0].headers["accept"] == "application/x-ndjson"


def test_ollama_length_and_split_lines(scripted_server: ScriptedServer) -> None:
    scripted_server.script("/api/generate", Reply.ndjson(split_every(ollama_stream(done_reason="length"), 5)))
    result = complete(make(scripted_server, endpoint="ollama"))
    assert result.text == HARMONY_TEXT
    assert result.finish.reason == "length"


def test_ollama_refuses_token_id_prompts(scripted_server: ScriptedServer) -> None:
    with pytest.raises(ValueError, match="text prompt"):
        make(scripted_server, [1, 2, 3], endpoint="ollama")


@pytest.mark.parametrize("size", [1, 3, 7, 64])
def test_markers_split_across_reads(scripted_server: ScriptedServer, size: int) -> None:
    scripted_server.script(V1, Reply.sse(split_every(vllm_stream(), size)))
    result = complete(make(scripted_server))
    assert result.text == HARMONY_TEXT
    assert result.token_ids == tuple(HARMONY_IDS)


def test_all_events_merged_in_one_read(scripted_server: ScriptedServer) -> None:
    scripted_server.script(V1, Reply.sse(merged(llamacpp_stream())))
    assert complete(make(scripted_server)).text == HARMONY_TEXT


def test_marker_merged_with_text_in_one_event(scripted_server: ScriptedServer) -> None:
    pieces = [
        "",
        "<|channel|>an",
        "alysis<|message|>hi",
        "<|end|><|start|>assistant<|channel|>final<|message|>ok",
    ]
    scripted_server.script(V1, Reply.sse(llamacpp_stream(pieces)))
    text, seen = collect(stream_completion(make(scripted_server)))
    assert text == "".join(pieces)
    assert [e.text for e in seen if isinstance(e, TextDelta)] == pieces[1:]


def test_stripped_markers_are_passed_through(scripted_server: ScriptedServer) -> None:
    scripted_server.script(V1, Reply.sse(vllm_stream(STRIPPED_PIECES, None)))
    assert (
        complete(make(scripted_server)).text == "analysisUser asks 2+2. Answer is 4.assistantfinal2 + 2 = 4."
    )


def test_finish_reason_length(scripted_server: ScriptedServer) -> None:
    scripted_server.script(
        V1, Reply.sse(vllm_stream(HARMONY_PIECES[:5], HARMONY_IDS[:5], finish_reason="length"))
    )
    result = complete(make(scripted_server))
    assert result.finish.reason == "length"
    assert result.text == "".join(HARMONY_PIECES[:5])


def test_usage_only_final_chunk_with_empty_choices(scripted_server: ScriptedServer) -> None:
    steps = [event({"choices": [{"text": "x", "index": 0, "finish_reason": "stop"}]}), event({"choices": []})]
    steps += [event({"choices": [], "usage": USAGE}), b"data: [DONE]\n\n"]
    scripted_server.script(V1, Reply.sse(steps))
    _, seen = collect(stream_completion(make(scripted_server)))
    assert seen == [TextDelta("x"), Finish("stop"), Usage(74, 29, 103)]


def test_whole_json_answer_when_server_ignores_stream(scripted_server: ScriptedServer) -> None:
    answer = {"choices": [{"text": "<|channel|>final<|message|>hi", "index": 0, "finish_reason": "stop"}]}
    scripted_server.script(V1, Reply.json({**answer, "usage": USAGE}))
    result = complete(make(scripted_server))
    assert (result.text, result.finish.reason, result.usage) == (
        answer["choices"][0]["text"],
        "stop",
        Usage(74, 29, 103),
    )


# ------------------------------------------------------------------------------- failures mid-stream


def test_stream_without_done_is_an_error_after_the_text(scripted_server: ScriptedServer) -> None:
    scripted_server.script(V1, Reply.sse(vllm_stream(done=False)))
    text, error = partial(make(scripted_server))
    assert text == HARMONY_TEXT
    assert isinstance(error, errors.StreamError) and "[DONE]" in str(error)
    assert error.url == scripted_server.url + V1


def test_stream_error_event_after_start(scripted_server: ScriptedServer) -> None:
    message = "got exception: Unexpected empty grammar stack after accepting piece: ? (30)"
    scripted_server.script(V1, Reply.sse([*llamacpp_stream(["i"])[:1], data_error(message)]))
    text, error = partial(make(scripted_server))
    assert text == "i"
    assert isinstance(error, errors.StreamError) and message in str(error)


def test_llamacpp_error_line_after_start(scripted_server: ScriptedServer) -> None:
    scripted_server.script(V1, Reply.sse([*llamacpp_stream(["a", "b"])[:2], error_line("slot died")]))
    text, error = partial(make(scripted_server))
    assert (text, type(error)) == ("ab", errors.StreamError)
    assert "slot died" in str(error)


def test_ollama_error_line_after_start(scripted_server: ScriptedServer) -> None:
    scripted_server.script(
        "/api/generate", Reply.ndjson([*ollama_stream(["x"], done=False), b'{"error":"oom"}\n'])
    )
    text, error = partial(make(scripted_server, endpoint="ollama"))
    assert (text, type(error)) == ("x", errors.StreamError)
    assert "oom" in str(error)


@pytest.mark.parametrize("endpoint", ["openai", "llamacpp", "ollama"])
def test_disconnect_mid_stream_keeps_the_text(
    scripted_server: ScriptedServer, endpoint: EndpointKind
) -> None:
    path, steps = {
        "openai": (V1, vllm_stream()),
        "llamacpp": ("/completion", llamacpp_native_stream()),
        "ollama": ("/api/generate", ollama_stream()),
    }[endpoint]
    scripted_server.script(path, Reply(200, [*steps[:4], DISCONNECT], "text/event-stream"))
    text, error = partial(make(scripted_server, endpoint=endpoint))
    assert text == "".join(HARMONY_PIECES[:4])
    assert isinstance(error, errors.StreamError)
    assert len(scripted_server.requests) == 1  # no retry once the stream has started


def test_non_json_event_is_a_protocol_error(scripted_server: ScriptedServer) -> None:
    scripted_server.script(V1, Reply.sse([b"data: <html>\n\n"]))
    _, error = partial(make(scripted_server))
    assert isinstance(error, errors.ProtocolError)


def test_unexpected_chunk_shape_is_a_protocol_error(scripted_server: ScriptedServer) -> None:
    scripted_server.script(V1, Reply.sse([event({"choices": "oops"})]), Reply.sse([b"data: [1, 2]\n\n"]))
    for _ in range(2):
        _, error = partial(make(scripted_server))
        assert isinstance(error, errors.ProtocolError)


def test_read_timeout_mid_stream(scripted_server: ScriptedServer) -> None:
    steps = vllm_stream()
    scripted_server.script(V1, Reply.sse([steps[0], Pause(1.0), *steps[1:]]))
    text, error = partial(make(scripted_server, timeouts=Timeouts(connect=2, read=0.2)))
    assert text == HARMONY_PIECES[0]
    assert isinstance(error, errors.TimeoutError)


# ---------------------------------------------------------------------------- failures before stream


@pytest.mark.parametrize(
    ("shape", "status"), [("openai", 400), ("vllm", 400), ("ollama", 404), ("fastapi", 422)]
)
def test_json_errors_before_the_stream(scripted_server: ScriptedServer, shape: str, status: int) -> None:
    message = "request (5068 tokens) exceeds the available context size (4096 tokens), try increasing it"
    scripted_server.script(V1, json_error(status, message, shape))
    with pytest.raises(errors.HTTPStatusError) as info:
        complete(make(scripted_server))
    assert info.value.status == status
    assert info.value.server_message == message
    assert scripted_server.url in str(info.value) and message in str(info.value)
    assert len(scripted_server.requests) == 1  # 4xx is not retried


def test_text_error_body_and_redirect(scripted_server: ScriptedServer) -> None:
    scripted_server.script(
        V1,
        Reply(502, [b"<html>\n<body>Bad   gateway</body></html>"], "text/html", chunked=False),
        Reply(301, [], "text/plain", headers={"Location": "/elsewhere"}, chunked=False),
    )
    with pytest.raises(errors.HTTPStatusError) as info:
        complete(make(scripted_server, retry=RetryPolicy(max_retries=0)))
    assert info.value.server_message == "<html> <body>Bad gateway</body></html>"
    with pytest.raises(errors.HTTPStatusError) as info:
        complete(make(scripted_server))
    assert info.value.status == 301


def test_429_with_retry_after_then_success(scripted_server: ScriptedServer) -> None:
    scripted_server.script(
        V1,
        json_error(429, "slow down", headers={"Retry-After": "0"}),
        json_error(429, "slow down", headers={"Retry-After": email.utils.formatdate(time.time() - 5)}),
        Reply.sse(vllm_stream()),
    )
    assert complete(make(scripted_server, retry=RetryPolicy(backoff=30.0))).text == HARMONY_TEXT
    assert len(scripted_server.requests) == 3
    bodies = {r.body for r in scripted_server.requests}
    assert len(bodies) == 1  # the same request each time


def test_5xx_then_success(scripted_server: ScriptedServer) -> None:
    scripted_server.script(
        V1, json_error(503, "loading"), json_error(502, "proxy"), Reply.sse(llamacpp_stream())
    )
    assert complete(make(scripted_server)).text == HARMONY_TEXT
    assert len(scripted_server.requests) == 3


def test_retries_are_bounded(scripted_server: ScriptedServer) -> None:
    scripted_server.script(V1, *[json_error(503, "loading model") for _ in range(10)])
    with pytest.raises(errors.HTTPStatusError) as info:
        complete(make(scripted_server, retry=RetryPolicy(max_retries=2, backoff=0.001)))
    assert (info.value.status, info.value.server_message) == (503, "loading model")
    assert len(scripted_server.requests) == 3


def test_retry_after_beyond_the_limit_is_not_waited_for(scripted_server: ScriptedServer) -> None:
    scripted_server.script(
        V1, json_error(429, "quota", headers={"Retry-After": "3600"}), Reply.sse(vllm_stream())
    )
    started = time.monotonic()
    with pytest.raises(errors.HTTPStatusError) as info:
        complete(make(scripted_server))
    assert info.value.status == 429 and time.monotonic() - started < 2
    assert len(scripted_server.requests) == 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_connection_refused_is_a_connect_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    request = CompletionRequest(url, "x", retry=RetryPolicy(max_retries=2, backoff=0.001), timeouts=QUICK)
    with pytest.raises(errors.ConnectError) as info:
        complete(request)
    assert info.value.url == url + V1
    assert info.value.hint


def test_connection_refused_then_server_comes_up() -> None:
    port = free_port()
    late: list[ScriptedServer] = []

    def start_late() -> None:
        server = ScriptedServer(port)
        server.script(V1, Reply.sse(vllm_stream()))
        late.append(server.start())

    timer = threading.Timer(0.2, start_late)
    timer.start()
    try:
        request = CompletionRequest(
            f"http://127.0.0.1:{port}", "x", retry=RetryPolicy(max_retries=40, backoff=0.05, max_backoff=0.05)
        )
        assert complete(request).text == HARMONY_TEXT
    finally:
        timer.join()
        for server in late:
            server.stop()


def test_slow_first_byte_times_out_without_retry(scripted_server: ScriptedServer) -> None:
    scripted_server.script(V1, Reply.sse(vllm_stream(), delay=1.0), Reply.sse(vllm_stream(), delay=0.3))
    with pytest.raises(errors.TimeoutError) as info:
        complete(make(scripted_server, timeouts=Timeouts(connect=2, read=0.2)))
    assert "read timeout" in (info.value.hint or "")
    assert len(scripted_server.requests) == 1
    assert complete(make(scripted_server, timeouts=Timeouts(connect=2, read=5))).text == HARMONY_TEXT


# ------------------------------------------------------------------------------------ closing, secrets


def test_closing_the_generator_closes_the_response(scripted_server: ScriptedServer) -> None:
    scripted_server.script(V1, Reply.sse([*vllm_stream()[:2], PingUntilGone()]))
    stream = stream_completion(make(scripted_server))
    first = next(stream)
    assert first == TextDelta("<|channel|>", (200005,))
    stream.close()
    assert scripted_server.client_gone.wait(3)


def test_ctrl_c_propagates_and_closes_the_response(scripted_server: ScriptedServer) -> None:
    scripted_server.script(V1, Reply.sse([*vllm_stream()[:2], PingUntilGone()]))
    stream = stream_completion(make(scripted_server))
    texts = [next(stream), next(stream)]
    with pytest.raises(KeyboardInterrupt):
        stream.throw(KeyboardInterrupt())
    assert [t.text for t in texts if isinstance(t, TextDelta)] == HARMONY_PIECES[:2]
    assert scripted_server.client_gone.wait(3)


def test_api_key_never_in_repr_or_errors(scripted_server: ScriptedServer) -> None:
    request = make(scripted_server, api_key=KEY, headers={"X-Api-Key": KEY})
    assert KEY not in repr(request)
    scripted_server.script(V1, json_error(401, f"Incorrect API key provided: {KEY}"))
    with pytest.raises(errors.HTTPStatusError) as info:
        complete(request)
    assert KEY not in str(info.value) and KEY not in (info.value.server_message or "")
    assert "***" in str(info.value) and info.value.hint
    assert scripted_server.requests[0].headers["x-api-key"] == KEY


def test_credentials_in_url_are_redacted() -> None:
    url = f"http://user:{KEY}@127.0.0.1:{free_port()}/v1"
    with pytest.raises(errors.ConnectError) as info:
        complete(CompletionRequest(url, "x", retry=RetryPolicy(max_retries=0), timeouts=QUICK))
    assert KEY not in str(info.value) and KEY not in str(info.value.url)
    assert redact_url(url + f"?key={KEY}").startswith("http://127.0.0.1:")
    # a query string would land in the middle of every endpoint URL: refused, without echoing the key
    with pytest.raises(errors.UsageError) as refused:
        complete(CompletionRequest(url + f"?key={KEY}", "x", retry=RetryPolicy(max_retries=0)))
    assert KEY not in str(refused.value) and "query string" in str(refused.value)


def test_invalid_url_is_a_connect_error_without_retries() -> None:
    started = time.monotonic()
    with pytest.raises(errors.ConnectError):
        complete(CompletionRequest("ftp://example.invalid", "x", retry=RetryPolicy(backoff=5.0)))
    assert time.monotonic() - started < 2


# ---------------------------------------------------------------------------------- request, probes


def test_payload_owns_prompt_stream_and_raw() -> None:
    body = {"prompt": "evil", "stream": False, "raw": False, "temperature": 0.5, "model": "m0"}
    request = CompletionRequest("http://h/v1/", [1, 2], endpoint="openai", body=body)
    assert request.payload() == {
        "prompt": [1, 2],
        "stream": True,
        "raw": False,
        "temperature": 0.5,
        "model": "m0",
    }
    ollama = CompletionRequest("http://h", "hi", model="m", endpoint="ollama", body=body)
    assert ollama.payload()["raw"] is True and ollama.payload()["model"] == "m"
    assert request.url == "http://h/v1/completions"
    assert endpoint_url("http://h:1/v1", "llamacpp") == "http://h:1/completion"
    assert normalize_base_url(" http://h:1/ ") == "http://h:1"
    with pytest.raises(ValueError, match="endpoint"):
        CompletionRequest("http://h", "x", endpoint="chat")  # type: ignore[arg-type]


def test_get_json_and_list_models(scripted_server: ScriptedServer) -> None:
    models = {"object": "list", "data": [{"id": "gpt-oss-20b", "owned_by": "vllm"}, {"id": "x"}, {"bad": 1}]}
    scripted_server.script("/v1/models", Reply.json(models, headers={"Server": "uvicorn"}), method="GET")
    scripted_server.script("/props", Reply(200, [b"not json"], "text/plain", chunked=False), method="GET")
    assert [(m.id, m.owned_by) for m in list_models(scripted_server.url + "/v1", api_key=KEY)] == [
        ("gpt-oss-20b", "vllm"),
        ("x", None),
    ]
    assert scripted_server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    with pytest.raises(errors.ProtocolError):
        get_json(scripted_server.url + "/props")
    with pytest.raises(errors.HTTPStatusError) as info:
        get_json(scripted_server.url + "/nothing")
    assert info.value.status == 404 and info.value.server_message == "File Not Found"


def test_complete_returns_a_value(scripted_server: ScriptedServer) -> None:
    scripted_server.script(V1, Reply.sse(vllm_stream(usage=None)))
    result = complete(make(scripted_server))
    assert isinstance(result, Completion) and result.usage is None


def test_decoding_is_fast_per_token(scripted_server: ScriptedServer) -> None:
    pieces = [f"tok{i} " for i in range(20000)]
    scripted_server.script(V1, Reply.sse(merged(vllm_stream(pieces, list(range(20000))))))
    started = time.perf_counter()
    result = complete(make(scripted_server))
    assert len(result.token_ids or ()) == 20000
    assert time.perf_counter() - started < 3.0
